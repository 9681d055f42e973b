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
#[derive(Debug, Clone)]
pub(crate) enum Gate {
    /// Could be met: evaluate exactly.
    Open,
    /// A score bound at least this many milli-points.
    Score {
        dimension: Dimension,
        at_least: i64,
    },
    /// At least this many events carrying signal `bit`.
    Signal {
        bit: usize,
        at_least: u32,
    },
    All(Box<[Gate]>),
    Any(Box<[Gate]>),
}

/// A lead's bounds in milli-points (see [`Caps::width`]) and its signal
/// counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds<'a> {
    pub(crate) sums: &'a [i64],
    pub(crate) counts: &'a [u32],
}

/// How the model caps sums: what turns group sums into score bounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caps {
    /// Per group: its cap.
    groups: Vec<Option<i64>>,
    /// Per group: true for fit groups (attribute rules), whose totals are
    /// fit, not engagement.
    fit: Vec<bool>,
    engagement: Option<i64>,
    floor: Option<i64>,
}

impl Caps {
    pub(crate) fn of(model: &ScoringModel) -> Caps {
        let milli = |p: crate::Points| p.as_milli();
        // Groups never mix attribute and event rules (the model refuses
        // it), so a group's event sums are its engagement lines.
        Caps {
            groups: model.groups.iter().map(|g| g.cap.map(milli)).collect(),
            fit: (0..model.groups.len())
                .map(|g| {
                    model
                        .fit_rules
                        .iter()
                        .any(|&r| model.compiled.get(r).is_some_and(|c| c.group == g))
                })
                .collect(),
            engagement: model.engagement_cap().map(milli),
            floor: model
                .floor()
                .milli()
                .map(|f| i64::try_from(f).unwrap_or(i64::MIN)),
        }
    }

    /// How many numbers a lead's sums hold: `[fit, all..., tight...]`, the
    /// fit bound then two bounds per group.
    ///
    /// `all` is the sum of the positive points of every hit of the group.
    /// `tight` is the group's total computed at the lead's last exact
    /// evaluation from its hits without the penalties that can end (those
    /// with a window, or in a capped group, where the cap absorbs them),
    /// plus the positive points of every hit appended since; a change out of
    /// time order resets it to `all`. It holds because, for a fixed set of
    /// hits, positive contributions only shrink with time (decay, windows)
    /// while lasting penalties stay; a later hit cannot displace an earlier
    /// one from a limit and adds at most its points; and leaving a penalty
    /// out can only raise a capped total.
    pub(crate) fn width(&self) -> usize {
        1 + 2 * self.groups.len()
    }

    /// Adds an event's positive points, per group, to both bounds.
    pub(crate) fn add(&self, sums: &mut [i64], points: &[(u16, i64)]) {
        let n = self.groups.len();
        for &(g, p) in points {
            for slot in [1 + usize::from(g), 1 + n + usize::from(g)] {
                if let Some(x) = sums.get_mut(slot) {
                    *x = x.saturating_add(p);
                }
            }
        }
    }

    /// Resets the tight bounds to the loose ones.
    pub(crate) fn loosen(&self, sums: &mut [i64]) {
        let n = self.groups.len();
        if let (Some(all), Some(_)) = (sums.get(1..1 + n), sums.get(1 + n..1 + 2 * n)) {
            let all: Vec<i64> = all.to_vec();
            if let Some(tight) = sums.get_mut(1 + n..1 + 2 * n) {
                tight.copy_from_slice(&all);
            }
        }
    }

    /// Sets the tight bounds to group totals (milli-points, by group).
    pub(crate) fn tighten(&self, sums: &mut [i64], totals: &[i128]) {
        let n = self.groups.len();
        if let Some(tight) = sums.get_mut(1 + n..1 + 2 * n) {
            for ((x, t), fit) in tight.iter_mut().zip(totals).zip(&self.fit) {
                if *fit {
                    continue;
                }
                *x = i64::try_from(*t).unwrap_or(if *t < 0 { i64::MIN / 4 } else { i64::MAX / 4 });
            }
        }
    }

    /// The bound of a dimension from a lead's sums.
    pub(crate) fn bound(&self, sums: &[i64], dimension: Dimension) -> i64 {
        let fit = sums.first().copied().unwrap_or(0);
        let n = self.groups.len();
        let (all, tight) = (
            sums.get(1..1 + n).unwrap_or(&[]),
            sums.get(1 + n..1 + 2 * n).unwrap_or(&[]),
        );
        let mut engagement: i64 = all
            .iter()
            .zip(tight)
            .zip(&self.groups)
            .map(|((a, t), cap)| cap.map_or(*a, |c| (*a).min(c)).min(*t))
            .fold(0i64, i64::saturating_add);
        if let Some(cap) = self.engagement {
            engagement = engagement.min(cap);
        }
        if let Some(floor) = self.floor {
            engagement = engagement.max(floor);
        }
        match dimension {
            Dimension::Fit => fit,
            Dimension::Engagement => engagement,
            Dimension::Combined => fit.saturating_add(engagement),
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
    /// True when some automatic criterion may read events no signal covers
    /// (a custom criterion): every event is then shown to it.
    pub(crate) all_events: bool,
    pub(crate) caps: Caps,
    /// The signals read by the edge being compiled.
    reading: u64,
}

impl Gates {
    /// Compiles the machine's automatic criteria. At most 64 distinct
    /// signals are tracked; criteria needing more fall back to exact
    /// evaluation.
    pub(crate) fn of(machine: &LifecycleStateMachine, model: &ScoringModel) -> Gates {
        let mut gates = Gates {
            caps: Caps::of(model),
            ..Gates::default()
        };
        let edges: Vec<(Stage, Stage, Gate, u64)> = machine
            .automatic_edges()
            .map(|(e, c)| {
                gates.reading = 0;
                let gate = gates.compile(c);
                (e.from, e.to(), gate, gates.reading)
            })
            .collect();
        gates.edges = edges;
        gates
    }

    /// The same gates with the caps of another model.
    pub(crate) fn under(&self, model: &ScoringModel) -> Gates {
        Gates {
            caps: Caps::of(model),
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

    fn counted(&mut self, matcher: &EventMatcher, at_least: u32) -> Gate {
        match self.signal(matcher) {
            Some(bit) => Gate::Signal { bit, at_least },
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
            Condition::DidAction { action, .. } => self.counted(action, 1),
            Condition::ActionCount { action, at_least, .. } => self.counted(action, *at_least),
            Condition::RepeatVisits { page, at_least, .. } => {
                let mut visit = EventMatcher::of(EventType::PageView);
                visit.page = Some(*page);
                self.counted(&visit, *at_least)
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

    /// True when some automatic edge into MQL (from any stage) could fire.
    pub(crate) fn open_into_mql(&self, b: Bounds<'_>) -> bool {
        self.edges
            .iter()
            .any(|(_, to, g, _)| *to == Stage::Mql && self.eval(g, b))
    }

    /// The stages with an automatic edge.
    pub(crate) fn stages(&self) -> StageSet {
        let mut s = StageSet::EMPTY;
        for (from, _, _, _) in &self.edges {
            s.insert(*from);
        }
        s
    }

    fn eval(&self, g: &Gate, b: Bounds<'_>) -> bool {
        match g {
            Gate::Open => true,
            Gate::Score { dimension, at_least } => self.caps.bound(b.sums, *dimension) >= *at_least,
            Gate::Signal { bit, at_least } => b.counts.get(*bit).is_some_and(|n| n >= at_least),
            Gate::All(gs) => gs.iter().all(|g| self.eval(g, b)),
            Gate::Any(gs) => gs.iter().any(|g| self.eval(g, b)),
        }
    }
}

