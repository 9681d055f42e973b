//! Cheap upper bounds that tell a [`CompiledFunnel`](super::CompiledFunnel)
//! when an automatic edge cannot fire, so the exact evaluation is skipped.
//!
//! Per lead the funnel keeps, updated as events arrive: an upper bound of
//! its fit (the largest fit of its attribute versions) and, per scoring
//! group, the sum of the positive points of every hit, ignoring limits,
//! windows and decay, each of which only lowers a score. Capping those sums
//! as the model caps its groups and dimensions gives upper bounds of the
//! fit, engagement and combined scores. It also counts, per *signal* (an
//! event matcher some automatic criterion reads), the events carrying it.
//! A criterion is compiled to a [`Gate`] over those numbers: when the gate
//! is shut the criterion cannot be met, whatever the exact evaluation would
//! say; when it is open the exact evaluation runs.

use crate::criteria::Condition;
use crate::event::EventType;
use crate::lifecycle::{LifecycleStateMachine, Stage, StageSet};
use crate::matcher::EventMatcher;
use crate::scores::Dimension;
use crate::scoring::ScoringModel;

/// A compiled over-approximation of a criterion: `open` is true whenever the
/// criterion could be met.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Gate {
    /// Could be met: evaluate exactly.
    Open,
    /// A score bound at least this many milli-points.
    Score {
        dimension: Dimension,
        at_least: i64,
    },
    /// At least this many events carrying signal `bit`; `exact` when that
    /// is also enough (a criterion without a window over the events, all
    /// of them up to the time of evaluation).
    Signal {
        bit: usize,
        at_least: u32,
        exact: bool,
    },
    All(Box<[Gate]>),
    Any(Box<[Gate]>),
}

/// A lead's row of bounds: see [`Layout`].
pub(crate) type Bounds<'a> = &'a [i32];

/// The layout of a lead's row of bounds, `[fit, all..., tight...,
/// counts...]`, each an `i32` (milli-points, saturating: a saturated bound
/// is still a bound), and what turns it into score bounds.
///
/// - `fit`: the largest fit of the lead's attribute versions;
/// - `all`, per group with event rules: the sum of the positive points of
///   every hit of the group, valid at any time;
/// - `tight`, per such group: the group's total computed at the lead's last
///   exact evaluation from its hits without the penalties that can end
///   (those with a window, or in a capped group, where the cap absorbs
///   them), plus the positive points of every hit appended since; valid
///   from that evaluation on, so a change earlier on the timeline resets it
///   to `all`. It holds because, for a fixed set of hits, positive
///   contributions only shrink with time (decay, windows) while lasting
///   penalties stay; a later hit cannot displace an earlier one from a limit
///   and adds at most its points; and leaving a penalty out can only raise a
///   capped total;
/// - `counts`, per signal: the events carrying it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// Per model group: its index among the groups with event rules.
    event_group: Vec<Option<u16>>,
    /// Per group with event rules: its cap (`i32::MAX` when uncapped; a
    /// bound saturates there too).
    caps: Vec<i32>,
    /// The engagement cap (`i64::MAX` when uncapped) and floor
    /// (`i64::MIN` when none).
    engagement: i64,
    floor: i64,
    signals: usize,
}

fn saturate(x: i128) -> i32 {
    i32::try_from(x).unwrap_or(if x < 0 { i32::MIN } else { i32::MAX })
}

impl Layout {
    fn of(model: &ScoringModel, signals: usize) -> Layout {
        let milli = |p: crate::Points| p.as_milli();
        let mut event_group = vec![None; model.groups.len()];
        let mut caps = Vec::new();
        for (g, group) in model.groups.iter().enumerate() {
            // Groups never mix attribute and event rules (the model refuses
            // it): a group with an event rule holds engagement lines only.
            let events = model
                .compiled
                .iter()
                .enumerate()
                .any(|(r, c)| c.group == g && !model.fit_rules.contains(&r));
            if let (true, Ok(e), Some(slot)) = (events, u16::try_from(caps.len()), event_group.get_mut(g)) {
                *slot = Some(e);
                caps.push(group.cap.map_or(i32::MAX, |c| saturate(i128::from(milli(c)))));
            }
        }
        Layout {
            event_group,
            caps,
            engagement: model.engagement_cap().map_or(i64::MAX, milli),
            floor: model
                .floor()
                .milli()
                .map_or(i64::MIN, |f| i64::try_from(f).unwrap_or(i64::MIN)),
            signals,
        }
    }

    /// How many numbers a row holds.
    pub(crate) fn width(&self) -> usize {
        1 + 2 * self.caps.len() + self.signals
    }

    /// A new lead's row.
    pub(crate) fn empty(&self) -> impl Iterator<Item = i32> {
        std::iter::repeat_n(0, self.width())
    }

    /// Sets the fit bound.
    pub(crate) fn set_fit(&self, row: &mut [i32], fit: i64) {
        if let Some(x) = row.first_mut() {
            *x = saturate(i128::from(fit));
        }
    }

    /// Adds an event: its positive points to both bounds of their groups,
    /// and one to the count of each of its signals.
    pub(crate) fn add(&self, row: &mut [i32], points: &[(u16, i64)], mut signals: u64) {
        let n = self.caps.len();
        for &(g, p) in points {
            let Some(Some(e)) = self.event_group.get(usize::from(g)) else {
                continue;
            };
            let p = saturate(i128::from(p));
            for slot in [1 + usize::from(*e), 1 + n + usize::from(*e)] {
                if let Some(x) = row.get_mut(slot) {
                    *x = x.saturating_add(p);
                }
            }
        }
        while signals != 0 {
            let b = signals.trailing_zeros() as usize;
            if let Some(c) = row.get_mut(1 + 2 * n + b) {
                *c = c.saturating_add(1);
            }
            signals &= signals - 1;
        }
    }

    /// Resets the tight bounds to the loose ones.
    pub(crate) fn loosen(&self, row: &mut [i32]) {
        let n = self.caps.len();
        if row.len() > 2 * n {
            row.copy_within(1..1 + n, 1 + n);
        }
    }

    /// Sets the tight bounds to group totals (milli-points, by model group).
    pub(crate) fn tighten(&self, row: &mut [i32], totals: &[i128]) {
        let n = self.caps.len();
        for (e, t) in self.event_group.iter().zip(totals) {
            if let Some(x) = e.and_then(|e| row.get_mut(1 + n + usize::from(e))) {
                *x = saturate(*t);
            }
        }
    }

    /// How many events carrying signal `bit` the lead has.
    pub(crate) fn count(&self, row: &[i32], bit: usize) -> u32 {
        row.get(1 + 2 * self.caps.len() + bit)
            .map_or(0, |c| u32::try_from(*c).unwrap_or(0))
    }

    /// The bound of a dimension from a row.
    pub(crate) fn bound(&self, row: &[i32], dimension: Dimension) -> i64 {
        let fit = i64::from(row.first().copied().unwrap_or(0));
        if dimension == Dimension::Fit {
            return fit;
        }
        let n = self.caps.len();
        let (all, tight) = (
            row.get(1..1 + n).unwrap_or(&[]),
            row.get(1 + n..1 + 2 * n).unwrap_or(&[]),
        );
        let engagement: i64 = all
            .iter()
            .zip(tight)
            .zip(&self.caps)
            .map(|((a, t), cap)| i64::from(*a.min(t).min(cap)))
            .sum();
        let engagement = engagement.min(self.engagement).max(self.floor);
        match dimension {
            Dimension::Combined => fit.saturating_add(engagement),
            _ => engagement,
        }
    }
}

/// The gates of a lifecycle's automatic edges and the signals they read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    /// Signal `i` is the event matcher `signals[i]`.
    pub(crate) signals: Vec<EventMatcher>,
    /// Per automatic edge: its stage, its target, its gate and the signals
    /// its criterion reads.
    edges: Vec<(Stage, Stage, Gate, u64)>,
    /// The distinct gates of the edges into MQL (the standard lifecycle
    /// has the same criterion from MAL and from Nurture).
    into_mql: Vec<Gate>,
    /// The signals the criteria of the edges into MQL read (every one when
    /// some automatic criterion may read any event).
    into_mql_reads: u64,
    /// True when some automatic criterion may read events no signal covers
    /// (a custom criterion): every event is then shown to it.
    pub(crate) all_events: bool,
    pub(crate) layout: Layout,
    /// The signals read by the edge being compiled.
    reading: u64,
}

impl Gates {
    /// Compiles the machine's automatic criteria. At most 64 distinct
    /// signals are tracked; criteria needing more fall back to exact
    /// evaluation.
    pub(crate) fn of(machine: &LifecycleStateMachine, model: &ScoringModel) -> Gates {
        let mut gates = Gates::default();
        let edges: Vec<(Stage, Stage, Gate, u64)> = machine
            .automatic_edges()
            .map(|(e, c)| {
                gates.reading = 0;
                let gate = gates.compile(c);
                (e.from, e.to(), gate, gates.reading)
            })
            .collect();
        for (_, to, gate, reads) in &edges {
            if *to == Stage::Mql {
                gates.into_mql_reads |= reads;
                if !gates.into_mql.contains(gate) {
                    gates.into_mql.push(gate.clone());
                }
            }
        }
        if gates.all_events {
            gates.into_mql_reads = u64::MAX;
        }
        gates.edges = edges;
        gates.layout = Layout::of(model, gates.signals.len());
        gates
    }

    /// The same gates with the caps of another model.
    pub(crate) fn under(&self, model: &ScoringModel) -> Gates {
        Gates {
            layout: Layout::of(model, self.signals.len()),
            ..self.clone()
        }
    }

    /// The signal of `matcher`, numbered on first use, and marked as read
    /// by the edge being compiled. Past 64 signals criteria are shown every
    /// event.
    fn signal(&mut self, matcher: &EventMatcher) -> Option<usize> {
        let i = match self.signals.iter().position(|m| m == matcher) {
            Some(i) => i,
            None if self.signals.len() < 64 => {
                self.signals.push(matcher.clone());
                self.signals.len() - 1
            }
            None => {
                self.all_events = true;
                return None;
            }
        };
        self.reading |= 1u64.checked_shl(i as u32).unwrap_or(0);
        Some(i)
    }

    fn counted(&mut self, matcher: &EventMatcher, at_least: u32, exact: bool) -> Gate {
        match self.signal(matcher) {
            Some(bit) => Gate::Signal { bit, at_least, exact },
            None => Gate::Open,
        }
    }

    fn compile(&mut self, c: &Condition) -> Gate {
        match c {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score: None,
            } => Gate::Score {
                dimension: *dimension,
                at_least: at_least.as_milli(),
            },
            Condition::DidAction { action, within } => self.counted(action, 1, within.is_none()),
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => self.counted(action, *at_least, within.is_none()),
            Condition::RepeatVisits { page, at_least, .. } => {
                // Views within a session gap are one visit: the count of
                // views only bounds the visits.
                let mut visit = EventMatcher::of(EventType::PageView);
                visit.page = Some(*page);
                self.counted(&visit, *at_least, false)
            }
            Condition::All { of } => Gate::All(of.iter().map(|c| self.compile(c)).collect()),
            Condition::Any { of } => Gate::Any(of.iter().map(|c| self.compile(c)).collect()),
            Condition::Custom { .. } => {
                self.all_events = true;
                Gate::Open
            }
            Condition::Not { of } => {
                // Not evaluated here, but custom criteria inside still
                // read every event.
                let _ = self.compile(of);
                Gate::Open
            }
            _ => Gate::Open,
        }
    }

    /// True when some automatic edge out of `stage` could fire.
    pub(crate) fn open(&self, stage: Stage, b: Bounds<'_>) -> bool {
        self.edges
            .iter()
            .any(|(from, _, g, _)| *from == stage && self.eval(g, b))
    }

    /// The signals read by the automatic criteria of `stage` and of every
    /// stage automatic edges lead to from it (one evaluation can chain).
    pub(crate) fn reads_from(&self, stage: Stage) -> u64 {
        if self.all_events {
            return u64::MAX;
        }
        let (mut mask, mut seen, mut todo) = (0u64, StageSet::EMPTY, vec![stage]);
        while let Some(s) = todo.pop() {
            if seen.contains(s) {
                continue;
            }
            seen.insert(s);
            for (from, to, _, m) in &self.edges {
                if *from == s {
                    mask |= m;
                    todo.push(*to);
                }
            }
        }
        mask
    }

    /// The signals read by the automatic criteria of the edges into MQL
    /// (what [`open_into_mql`](Self::open_into_mql) and an exact check of
    /// those edges need).
    pub(crate) fn reads_into_mql(&self) -> u64 {
        self.into_mql_reads
    }

    /// True when some automatic edge into MQL (from any stage) could fire.
    pub(crate) fn open_into_mql(&self, b: Bounds<'_>) -> bool {
        self.into_mql.iter().any(|g| self.eval(g, b))
    }

    fn eval(&self, g: &Gate, b: Bounds<'_>) -> bool {
        match g {
            Gate::Open => true,
            Gate::Score { dimension, at_least } => self.layout.bound(b, *dimension) >= *at_least,
            Gate::Signal { bit, at_least, .. } => self.layout.count(b, *bit) >= *at_least,
            Gate::All(gs) => gs.iter().all(|g| self.eval(g, b)),
            Gate::Any(gs) => gs.iter().any(|g| self.eval(g, b)),
        }
    }

    /// True when some automatic edge into MQL is met whatever the scores,
    /// by the counts alone: for a lead all of whose events are up to the
    /// time of evaluation (the counts then count exactly the events the
    /// criterion reads).
    pub(crate) fn surely_into_mql(&self, b: Bounds<'_>) -> bool {
        !self.all_events && self.into_mql.iter().any(|g| self.sure(g, b))
    }

    /// True when none of the events the criteria into MQL read is in the
    /// row's counts: the lead has none.
    pub(crate) fn none_read_into_mql(&self, b: Bounds<'_>) -> bool {
        if self.all_events {
            return false;
        }
        let mut mask = self.reads_into_mql();
        while mask != 0 {
            let bit = mask.trailing_zeros() as usize;
            if self.layout.count(b, bit) != 0 {
                return false;
            }
            mask &= mask - 1;
        }
        true
    }

    /// True when `g`'s criterion is met by the counts alone (see
    /// [`surely_into_mql`](Self::surely_into_mql)).
    fn sure(&self, g: &Gate, b: Bounds<'_>) -> bool {
        match g {
            Gate::Open | Gate::Score { .. } => false,
            Gate::Signal { bit, at_least, exact } => *exact && self.layout.count(b, *bit) >= *at_least,
            Gate::All(gs) => gs.iter().all(|g| self.sure(g, b)),
            Gate::Any(gs) => gs.iter().any(|g| self.sure(g, b)),
        }
    }
}
