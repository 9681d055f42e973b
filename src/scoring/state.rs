//! The incremental path for one lead: hits recorded event by event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::explain::{Explanation, settle};
use super::fold::{self, HitRef};
use super::model::ScoringModel;
use crate::event::Event;
use crate::hash::fingerprint;
use crate::id::EventId;
use crate::lead::Lead;
use crate::scores::Scores;

/// One event that matched one event rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    at: DateTime<Utc>,
    event: EventId,
    rule: u16,
    /// The event's shape fingerprint (see [`EventShape::fingerprint`]).
    ///
    /// [`EventShape::fingerprint`]: crate::EventShape::fingerprint
    shape: u64,
    /// The event id's fingerprint (derived from `event`).
    #[serde(skip)]
    key: u64,
}

impl Hit {
    /// When the event happened.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The event's id.
    pub fn event(&self) -> &EventId {
        &self.event
    }

    /// The rule's index in [`ScoringModel::rules`].
    pub fn rule(&self) -> usize {
        usize::from(self.rule)
    }

    /// The canonical order (see [`scoring`](super)).
    fn order(&self) -> (DateTime<Utc>, u64, u64, u16) {
        (self.at, self.shape, self.key, self.rule)
    }

    fn as_ref(&self) -> HitRef<'_> {
        HitRef {
            rule: usize::from(self.rule),
            at: self.at,
            shape: self.shape,
            key: self.key,
            event: Some(&self.event),
        }
    }
}

/// A lead's engagement state for the incremental path: every (rule, event)
/// hit, in the canonical order, with one copy of each event.
///
/// Feed events with [`record`](Self::record), in any order and with
/// duplicates; ask [`ScoringModel::scores_with`] at any `now`. The result is
/// exactly [`ScoringModel::score`] of the same events, whatever order they
/// were recorded in: an event is its id and time, and of copies with another
/// payload the one with the lowest shape fingerprint counts (the state also
/// remembers the copies that match no rule, so a later copy cannot take
/// their place). Its serialized form is the list of hits.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::scoring::ScoreState;
/// use leadflow::{Event, EventId, EventKind, Lead, LeadId, ScoringModel};
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
/// assert!(!state.record(&model, &events[0])); // the same event again
/// let now = t0 + Duration::days(3);
/// assert_eq!(model.scores_with(&lead, &state, now), model.score(&lead, &events, now));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Hit>", into = "Vec<Hit>")]
pub struct ScoreState {
    hits: Vec<Hit>,
}

/// The rule number of an event that matched no rule (kept so that a
/// conflicting copy of it cannot count in its place).
const NO_RULE: u16 = u16::MAX;

impl From<Vec<Hit>> for ScoreState {
    fn from(mut hits: Vec<Hit>) -> ScoreState {
        for h in &mut hits {
            h.key = fingerprint(h.event.as_str());
        }
        hits.sort_by_key(Hit::order);
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
    /// the state changed. A copy with the same id and time is ignored,
    /// unless it has another payload that comes first in the canonical
    /// order (the lowest shape fingerprint), which then replaces it.
    pub fn record(&mut self, model: &ScoringModel, event: &Event) -> bool {
        let key = fingerprint(event.id.as_str());
        let shape = event.shape.fingerprint();
        let same = |h: &Hit| h.key == key && h.at == event.at && h.event == event.id;
        if let Some(seen) = self.hits.iter().find(|h| same(h)) {
            if seen.shape <= shape {
                return false;
            }
            self.hits.retain(|h| !same(h));
        }
        let hit = |rule| Hit {
            at: event.at,
            event: event.id.clone(),
            rule,
            shape,
            key,
        };
        let mut matched = false;
        for (rule, _) in model.matches(&event.shape) {
            // MAX_RULES keeps every rule number below NO_RULE.
            if let Ok(rule) = u16::try_from(rule)
                && rule != NO_RULE
            {
                self.insert(hit(rule));
                matched = true;
            }
        }
        if !matched {
            self.insert(hit(NO_RULE));
        }
        true
    }

    fn insert(&mut self, hit: Hit) {
        let pos = self.hits.partition_point(|h| h.order() < hit.order());
        self.hits.insert(pos, hit);
    }

    /// The hits, in canonical order.
    pub fn hits(&self) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(|h| h.rule != NO_RULE)
    }

    /// The number of hits.
    pub fn len(&self) -> usize {
        self.hits().count()
    }

    /// True when no hit is kept.
    pub fn is_empty(&self) -> bool {
        self.hits().next().is_none()
    }

    /// The hits up to `now`, as the fold takes them.
    fn refs(&self, now: DateTime<Utc>) -> Vec<HitRef<'_>> {
        self.hits().filter(|h| h.at <= now).map(Hit::as_ref).collect()
    }
}

impl ScoringModel {
    /// The lead's scores at `now` from its current attributes and an
    /// incremental [`ScoreState`]: equal to [`score`](Self::score) over the
    /// events recorded.
    pub fn scores_with(&self, lead: &Lead, state: &ScoreState, now: DateTime<Utc>) -> Scores {
        let hits = state.refs(now);
        fold::fold(self, &hits)
            .tally(self, lead, &hits, now)
            .settle(self)
            .scores
    }

    /// The explanation at `now` from an incremental [`ScoreState`]: equal to
    /// [`explain`](Self::explain) over the events recorded.
    pub fn explain_with(&self, lead: &Lead, state: &ScoreState, now: DateTime<Utc>) -> Explanation {
        settle(self, lead, &state.refs(now), now).explain(self, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, EventType};
    use crate::id::LeadId;
    use crate::scoring::Rule;
    use chrono::{Duration, TimeZone};

    fn ev(id: &str, hours: i64) -> Event {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hours);
        Event::new(
            EventId::new(id).unwrap(),
            LeadId::new("l").unwrap(),
            at,
            EventKind::DemoRequest,
        )
    }

    fn model() -> ScoringModel {
        ScoringModel::builder(crate::ModelVersion::new("t@1").unwrap())
            .rule(Rule::event("twice".parse().unwrap(), EventType::DemoRequest, 10).times(2))
            .build()
            .unwrap()
    }

    #[test]
    fn one_copy_of_an_event_counts_whatever_the_order() {
        let m = model();
        let demo = ev("a", 5);
        let mut other = ev("a", 5);
        other.shape.kind = EventKind::EmailOpen { campaign: None };
        let low = if demo.shape.fingerprint() < other.shape.fingerprint() {
            &demo
        } else {
            &other
        };
        let mut states = Vec::new();
        for pair in [[&demo, &other], [&other, &demo]] {
            let mut s = ScoreState::new();
            for e in pair {
                s.record(&m, e);
            }
            states.push(s);
        }
        assert_eq!(states[0], states[1]);
        let mut only = ScoreState::new();
        only.record(&m, low);
        assert_eq!(states[0], only);
        // The same event again changes nothing; another time is another event.
        assert!(!only.record(&m, low));
        assert!(only.record(&m, &ev("a", 9)));
    }

    #[test]
    fn the_serialized_form_keeps_the_order() {
        let m = model();
        let mut s = ScoreState::new();
        for i in [3, 0, 7] {
            s.record(&m, &ev(&format!("e{i}"), i));
        }
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ScoreState>(&json).unwrap(), s);
    }
}
