//! A lead as criteria and scores see it inside the engine: its recent
//! events (from the ring, or the list a re-evaluation is replaying) and
//! the running counts of its line.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::keys::ShapeKey;
use super::plan::Plan;
use super::recent::{Entry, Recent};
use super::shapes::Shapes;
use crate::criteria::{EventRef, KeptEvents, Window};
use crate::lead::Lead;
use crate::matcher::EventMatcher;
use crate::scores::Scores;
use crate::scoring::{ScoringModel, fold};

/// Where a lead's recent entries are.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// Where the engine keeps them (the lead's meta word says where),
    /// those at or after a time.
    Kept {
        recent: &'a Recent,
        meta: u64,
        from: i64,
    },
    /// In lists (during a re-evaluation: the entries before its start, in
    /// two parts, and those applied again since).
    Parts(&'a [Entry], &'a [Entry], &'a [Entry]),
}

impl<'a> Source<'a> {
    fn each(self, mut f: impl FnMut(&Entry)) {
        match self {
            Source::Kept { recent, meta, from } => recent.entries(meta, from).for_each(|e| f(&e)),
            Source::Parts(a, b, c) => a.iter().chain(b).chain(c).for_each(f),
        }
    }
}

/// The time of an entry.
pub(crate) fn time(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(at)
}

/// A lead's events as [`Events`](crate::criteria::Events) reads them.
pub(crate) struct LeadEvents<'a> {
    source: Source<'a>,
    shapes: &'a Shapes,
    plan: &'a Plan,
    line: &'a [u64],
    /// The entries, gathered on first iteration.
    kept: OnceLock<Vec<(DateTime<Utc>, ShapeKey)>>,
}

impl<'a> LeadEvents<'a> {
    pub(crate) fn new(
        source: Source<'a>,
        shapes: &'a Shapes,
        plan: &'a Plan,
        line: &'a [u64],
    ) -> LeadEvents<'a> {
        LeadEvents {
            source,
            shapes,
            plan,
            line,
            kept: OnceLock::new(),
        }
    }

    fn kept(&self) -> &[(DateTime<Utc>, ShapeKey)] {
        self.kept.get_or_init(|| {
            let mut v = Vec::new();
            self.source.each(|e| v.push((time(e.at), ShapeKey(e.shape))));
            v
        })
    }
}

impl KeptEvents for LeadEvents<'_> {
    fn len(&self) -> usize {
        self.kept().len()
    }

    fn get(&self, i: usize) -> Option<EventRef<'_>> {
        let (at, key) = *self.kept().get(i)?;
        Some(EventRef {
            at,
            shape: &self.shapes.get(key)?.shape,
        })
    }

    fn count(&self, matcher: &EventMatcher, window: Window, limit: usize) -> Option<usize> {
        let signal = self.plan.signals.find(matcher)?;
        if window.start.is_none() {
            // Every applied entry is at or before `now` (the engine applies
            // a lead's events in order and evaluates as it goes).
            let n = self.plan.count(self.line, signal)?;
            return Some((n as usize).min(limit));
        }
        let bit = 1u64 << signal;
        let mut n = 0usize;
        self.source.each(|e| {
            if n < limit
                && window.holds(time(e.at))
                && self
                    .shapes
                    .get(ShapeKey(e.shape))
                    .is_some_and(|s| s.signals & bit != 0)
            {
                n += 1;
            }
        });
        Some(n)
    }
}

/// The scores at `now` of a lead with attributes `lead`, its line's row and
/// its applied recent entries.
pub(crate) fn scores(
    model: &ScoringModel,
    plan: &Plan,
    shapes: &Shapes,
    line: &[u64],
    lead: &Lead,
    source: Source<'_>,
    now: DateTime<Utc>,
) -> Scores {
    let row = line.get(plan.row()).unwrap_or(&[]);
    let mut tally = fold::tally(model, &plan.row, lead, row, [], now);
    if plan.row.has_windowed() {
        source.each(|e| {
            let Some(shape) = shapes.get(ShapeKey(e.shape)) else {
                return;
            };
            for (b, &rule) in shapes.rules(shape).iter().enumerate() {
                let rule = usize::from(rule);
                if e.counted >> b & 1 == 1 && plan.row.is_windowed(rule) {
                    fold::add_windowed(model, &plan.row, &mut tally, rule, time(e.at), now);
                }
            }
        });
    }
    tally.settle(model).scores
}
