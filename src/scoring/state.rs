//! The incremental path: per-lead hits recorded event by event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::explain::{Explanation, HitRef, settle};
use super::model::ScoringModel;
use crate::event::Event;
use crate::id::EventId;
use crate::lead::Lead;
use crate::scores::Scores;

/// One event that matched one event rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// When the event happened.
    pub at: DateTime<Utc>,
    /// The event's id.
    pub event: EventId,
    /// The rule's index in [`ScoringModel::rules`].
    pub rule: u16,
}

impl Hit {
    fn key(&self) -> (DateTime<Utc>, &EventId, u16) {
        (self.at, &self.event, self.rule)
    }
}

/// A lead's engagement state for the incremental path: the (rule, event)
/// hits that can still count, in time order.
///
/// Feed events with [`record`](Self::record), in any order and with
/// duplicates; ask [`ScoringModel::scores_with`] at any `now`. The result is
/// exactly [`ScoringModel::score`] of the same events. Hits that can never
/// count are dropped as they arrive (beyond a `once` or `times` limit), so the
/// state stays small. Its serialized form is the list of hits.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::scoring::{ScoreState, ScoringModel};
/// use leadflow::{Event, EventId, EventKind, Lead, LeadId};
///
/// let model = ScoringModel::b2b_default()?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let lead = Lead::new(LeadId::new("l1")?, t0);
/// let events = vec![
///     Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest),
///     Event::new(EventId::new("e2")?, lead.id.clone(), t0 + Duration::hours(1), EventKind::DemoRequest),
/// ];
/// let mut state = ScoreState::new();
/// for e in events.iter().rev() {
///     state.record(&model, e);
/// }
/// assert_eq!(state.len(), 1); // the demo request counts once: the first is kept
/// let now = t0 + Duration::days(3);
/// assert_eq!(model.scores_with(&lead, &state, now), model.score(&lead, &events, now));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Hit>", into = "Vec<Hit>")]
pub struct ScoreState {
    hits: Vec<Hit>,
}

impl From<Vec<Hit>> for ScoreState {
    fn from(mut hits: Vec<Hit>) -> ScoreState {
        hits.sort_by(|a, b| a.key().cmp(&b.key()));
        hits.dedup();
        ScoreState { hits }
    }
}

impl From<ScoreState> for Vec<Hit> {
    fn from(state: ScoreState) -> Vec<Hit> {
        state.hits
    }
}

impl ScoreState {
    /// An empty state.
    pub fn new() -> ScoreState {
        ScoreState::default()
    }

    /// Records an event: the rules it matches become hits. Returns true when
    /// the state changed. A duplicate event id is ignored, unless the new copy
    /// is earlier (the earliest copy counts, as in [`ScoringModel::score`]).
    pub fn record(&mut self, model: &ScoringModel, event: &Event) -> bool {
        let mut changed = false;
        if let Some(seen) = self.hits.iter().find(|h| h.event == event.id) {
            if seen.at <= event.at {
                return false;
            }
            self.hits.retain(|h| h.event != event.id);
            changed = true;
        }
        for (rule, _) in model.matches(event) {
            changed |= self.insert(model, rule, event.at, &event.id);
        }
        changed
    }

    fn insert(&mut self, model: &ScoringModel, rule: usize, at: DateTime<Utc>, event: &EventId) -> bool {
        let Ok(rule16) = u16::try_from(rule) else {
            return false;
        };
        let pos = self.hits.partition_point(|h| h.key() < (at, event, rule16));
        let max = model
            .compiled
            .get(rule)
            .and_then(|c| c.limit.max_count())
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        if let Some(max) = max {
            let before = self.hits.iter().take(pos).filter(|h| h.rule == rule16).count();
            if before >= max {
                return false;
            }
        }
        self.hits.insert(
            pos,
            Hit {
                at,
                event: event.clone(),
                rule: rule16,
            },
        );
        if let Some(max) = max {
            if self.hits.iter().filter(|h| h.rule == rule16).count() > max {
                if let Some(last) = self.hits.iter().rposition(|h| h.rule == rule16) {
                    self.hits.remove(last);
                }
            }
        }
        true
    }

    /// The hits, in (time, event id, rule) order.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// The number of hits kept.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// True when no hit is kept.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    fn refs(&self) -> impl Iterator<Item = HitRef<'_>> {
        self.hits.iter().map(|h| HitRef {
            rule: usize::from(h.rule),
            at: h.at,
            event: &h.event,
        })
    }
}

impl ScoringModel {
    /// The lead's scores at `now` from its current attributes and an
    /// incremental [`ScoreState`]: equal to [`score`](Self::score) over the
    /// events recorded.
    pub fn scores_with(&self, lead: &Lead, state: &ScoreState, now: DateTime<Utc>) -> Scores {
        settle(self, lead, state.refs(), now).scores
    }

    /// The explanation at `now` from an incremental [`ScoreState`]: equal to
    /// [`explain`](Self::explain) over the events recorded.
    pub fn explain_with(&self, lead: &Lead, state: &ScoreState, now: DateTime<Utc>) -> Explanation {
        settle(self, lead, state.refs(), now).explain(self, now)
    }
}
