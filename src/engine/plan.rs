//! What the engine works out once from its model, lifecycle and config:
//! the layout of a lead's line, the lifecycle's event signals, and how long
//! recent events must be kept.

use super::error::EngineError;
use crate::criteria::{Condition, Criterion, EventHorizon};
use crate::event::EventShape;
use crate::lifecycle::{EdgeTrigger, LifecycleStateMachine};
use crate::matcher::EventMatcher;
use crate::scoring::ScoringModel;
use crate::scoring::row::{Layout, MAX_REACH_BITS, TooFarBack};
use crate::span::Span;
use crate::stage::StageSet;

/// The event matchers the lifecycle's conditions count (`did`, `count`),
/// each one signal; those used without a window keep a count per lead.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signals {
    list: Vec<(EventMatcher, bool)>,
}

/// The most signals a lifecycle may have (a shape's signal bits).
const MAX_SIGNALS: usize = 64;

impl Signals {
    fn of_machine(machine: &LifecycleStateMachine) -> Signals {
        let mut s = Signals::default();
        for c in conditions(machine) {
            c.for_each_action(&mut |m, within| {
                if let Some(entry) = s.list.iter_mut().find(|(x, _)| x == m) {
                    entry.1 |= within.is_none();
                } else if s.list.len() < MAX_SIGNALS {
                    s.list.push((m.clone(), within.is_none()));
                }
            });
        }
        s
    }

    /// The signals a shape carries.
    pub(crate) fn of(&self, shape: &EventShape) -> u64 {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, (m, _))| m.matches(shape))
            .fold(0, |bits, (i, _)| bits | 1 << i)
    }

    /// The signal of a matcher, if it is one.
    pub(crate) fn find(&self, matcher: &EventMatcher) -> Option<usize> {
        self.list
            .iter()
            .position(|(m, _)| std::ptr::eq(m, matcher))
            .or_else(|| self.list.iter().position(|(m, _)| m == matcher))
    }

    fn counted(&self) -> impl Iterator<Item = usize> + '_ {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| *c)
            .map(|(i, _)| i)
    }
}

/// Every condition of the lifecycle: automatic criteria and guards.
fn conditions(machine: &LifecycleStateMachine) -> impl Iterator<Item = &Condition> {
    machine
        .definition()
        .edges
        .iter()
        .filter_map(|e| match &e.trigger {
            EdgeTrigger::Automatic { criterion, .. } => Some(criterion),
            EdgeTrigger::Command { guard } => guard.as_ref(),
        })
}

/// The header words of a line: the time of the lead's latest event (ns,
/// `i64::MIN` for none); its stage (low byte) and the ring link of its
/// newest recent entry (high half); the next time something is due for it
/// (ns, `i64::MAX` for nothing); the latest time on its timeline (event,
/// upsert, transition or command; ns).
pub(crate) const LAST: usize = 0;
pub(crate) const META: usize = 1;
pub(crate) const DUE: usize = 2;
pub(crate) const TOUCH: usize = 3;
/// The bits of [`META`] that hold the stage the line mirrors (the rest say
/// where the lead's recent entries are, which means nothing outside the
/// engine that placed them).
pub(crate) const STAGE_BITS: u64 = 0xff;
const HEADER: usize = 4;

/// The engine's compiled plan.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The scoring row, reaching back the allowed lateness.
    pub(crate) row: Layout,
    /// A line's length in words: header, row, signal counts.
    pub(crate) width: usize,
    /// Where each counted signal's count is: (word, upper half).
    counts: Vec<Option<(usize, bool)>>,
    pub(crate) signals: Signals,
    /// How long recent events are kept behind the latest event; `None`:
    /// every event (a criterion may read any of them).
    pub(crate) retention: Option<Span>,
    /// The stages with an automatic edge.
    pub(crate) automatic: StageSet,
    /// The groups with fit rules, and where a line caches their fit: the
    /// time from which the cache holds (ns; `i64::MAX` when it does not),
    /// then a sum and its positive part per group.
    pub(crate) fit_groups: Vec<usize>,
    pub(crate) fit_word: usize,
    /// Where a line keeps an upper bound of its windowed rules' positive
    /// points (every positive point they counted), if the model has any.
    pub(crate) windowed_word: Option<usize>,
}

impl Plan {
    pub(crate) fn new(
        model: &ScoringModel,
        machine: &LifecycleStateMachine,
        lateness: Span,
    ) -> Result<Plan, EngineError> {
        let row = model
            .layout_for(lateness)
            .map_err(|TooFarBack| EngineError::LatenessTooLong {
                lateness,
                max_bytes: MAX_REACH_BITS / 8,
            })?;
        let signals = Signals::of_machine(machine);
        let mut width = HEADER + row.width();
        let mut counts = vec![None; signals.list.len()];
        let mut half = false;
        for i in signals.counted() {
            if !half {
                width += 1;
            }
            if let Some(c) = counts.get_mut(i) {
                *c = Some((width - 1, half));
            }
            half = !half;
        }
        let mut fit_groups: Vec<usize> = model
            .rules()
            .iter()
            .zip(&model.compiled)
            .filter(|(r, _)| r.dimension() == crate::scores::Dimension::Fit)
            .map(|(_, c)| c.group)
            .collect();
        fit_groups.sort_unstable();
        fit_groups.dedup();
        let fit_word = width;
        width += 1 + 2 * fit_groups.len();
        let windowed_word = (0..model.rules().len())
            .any(|r| row.is_windowed(r) && model.compiled.get(r).is_some_and(|c| c.points.is_positive()))
            .then(|| {
                width += 1;
                width - 1
            });
        // What a late event or a window can still reach.
        let mut reach = Some(Span::ZERO);
        let mut widen = |h: EventHorizon| {
            reach = match (reach, h) {
                (None, _) | (_, EventHorizon::All) => None,
                (Some(r), EventHorizon::Within(w)) => Some(r.max(w)),
                (Some(r), EventHorizon::None) => Some(r),
            };
        };
        for c in conditions(machine) {
            widen(c.event_horizon());
        }
        for (rule, c) in model.rules().iter().zip(0..) {
            if row.is_windowed(c) {
                widen(rule.within.map_or(EventHorizon::All, EventHorizon::Within));
                if let crate::scoring::Decay::Step { every, .. } = rule_decay(model, c) {
                    widen(EventHorizon::Within(every));
                }
            }
        }
        let retention = reach.map(|r| Span::seconds(r.as_seconds().saturating_add(lateness.as_seconds())));
        let mut automatic = StageSet::EMPTY;
        for e in &machine.definition().edges {
            if matches!(e.trigger, EdgeTrigger::Automatic { .. }) {
                automatic.insert(e.from);
            }
        }
        Ok(Plan {
            row,
            width,
            counts,
            signals,
            retention,
            automatic,
            fit_groups,
            fit_word,
            windowed_word,
        })
    }

    /// Where the row starts in a line.
    pub(crate) fn row(&self) -> std::ops::Range<usize> {
        HEADER..HEADER + self.row.width()
    }

    /// The count of signal `i` in a line, if it keeps one.
    pub(crate) fn count(&self, line: &[u64], i: usize) -> Option<u32> {
        let (word, upper) = (*self.counts.get(i)?)?;
        let w = *line.get(word)?;
        Some(if upper { (w >> 32) as u32 } else { w as u32 })
    }

    /// Adds `delta` to the counts of the signals in `bits`.
    pub(crate) fn add_counts(&self, line: &mut [u64], bits: u64, delta: i32) {
        let mut bits = bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(Some((word, upper))) = self.counts.get(i).copied() else {
                continue;
            };
            if let Some(w) = line.get_mut(word) {
                let shift = if upper { 32 } else { 0 };
                let c = (*w >> shift) as u32;
                let c = c.saturating_add_signed(delta);
                *w = (*w & !(0xffff_ffffu64 << shift)) | (u64::from(c) << shift);
            }
        }
    }

    /// A new line: no events, in `stage`, nothing due.
    pub(crate) fn empty_line(&self, stage: u8) -> Vec<u64> {
        let mut line = vec![0; self.width];
        if let Some(w) = line.get_mut(LAST) {
            *w = i64::MIN as u64;
        }
        if let Some(w) = line.get_mut(META) {
            *w = u64::from(stage);
        }
        if let Some(w) = line.get_mut(DUE) {
            *w = i64::MAX as u64;
        }
        if let Some(w) = line.get_mut(TOUCH) {
            *w = i64::MIN as u64;
        }
        let row = self.row.empty();
        if let Some(dst) = line.get_mut(self.row()) {
            dst.copy_from_slice(&row);
        }
        if let Some(w) = line.get_mut(self.fit_word) {
            *w = i64::MAX as u64;
        }
        line
    }
}

/// A rule's decay as the model compiled it (its own, or its group's).
fn rule_decay(model: &ScoringModel, rule: usize) -> crate::scoring::Decay {
    model
        .compiled
        .get(rule)
        .map_or_else(Default::default, |c| c.decay)
}
