//! The incremental path: per-lead hits recorded event by event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::explain::{Explanation, HitRef, settle};
use super::model::ScoringModel;
use super::tally::Tally;
use crate::event::Event;
use crate::id::EventId;
use crate::lead::Lead;
use crate::scores::Scores;

/// One event that matched one event rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    at: DateTime<Utc>,
    event: EventId,
    rule: u16,
    /// A 16-bit hash of the event id, to skip most id comparisons.
    #[serde(skip)]
    fingerprint: u16,
}

/// FNV-1a of the id, folded to 16 bits.
fn fingerprint(id: &EventId) -> u16 {
    let h = id.as_str().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (h ^ (h >> 16)) as u16
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
        for h in &mut hits {
            h.fingerprint = fingerprint(&h.event);
        }
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
        let fp = fingerprint(&event.id);
        if let Some(seen) = self
            .hits
            .iter()
            .find(|h| h.fingerprint == fp && h.event == event.id)
        {
            if seen.at <= event.at {
                return false;
            }
            self.hits.retain(|h| h.event != event.id);
            changed = true;
        }
        for (rule, _) in model.matches(&event.shape) {
            changed |= self.insert(model, rule, event.at, &event.id, fp);
        }
        changed
    }

    /// Records an event whose id the caller guarantees was never recorded
    /// before (the funnel de-duplicates ids itself): like
    /// [`record`](Self::record) without the scan for an earlier copy. Rules
    /// for which `skip` is true are not recorded: the caller knows their
    /// hit could not count (see [`is_full`](Self::is_full)).
    pub(crate) fn record_unique(
        &mut self,
        model: &ScoringModel,
        event: &Event,
        skip: impl Fn(usize) -> bool,
    ) {
        let mut matched = model
            .matches(&event.shape)
            .filter(|(rule, _)| !skip(*rule))
            .peekable();
        if matched.peek().is_none() {
            return;
        }
        let fp = fingerprint(&event.id);
        for (rule, _) in matched {
            self.insert(model, rule, event.at, &event.id, fp);
        }
    }

    /// True when `rule` has a count limit (`once`, `times n`) and holds as
    /// many hits as it allows: a hit later than every hit held cannot count.
    pub(crate) fn is_full(&self, model: &ScoringModel, rule: usize) -> bool {
        let Some(max) = model.compiled.get(rule).and_then(|c| c.limit.max_count()) else {
            return false;
        };
        let Ok(rule16) = u16::try_from(rule) else {
            return false;
        };
        let held = self.hits.iter().filter(|h| h.rule == rule16).count();
        held >= usize::try_from(max).unwrap_or(usize::MAX)
    }

    fn insert(
        &mut self,
        model: &ScoringModel,
        rule: usize,
        at: DateTime<Utc>,
        event: &EventId,
        fingerprint: u16,
    ) -> bool {
        let Ok(rule16) = u16::try_from(rule) else {
            return false;
        };
        // In-order arrival (the common case) appends.
        let pos = match self.hits.last() {
            Some(last) if last.key() > (at, event, rule16) => {
                self.hits.partition_point(|h| h.key() < (at, event, rule16))
            }
            _ => self.hits.len(),
        };
        let max = model
            .compiled
            .get(rule)
            .and_then(|c| c.limit.max_count())
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        let mut overflow = false;
        if let Some(max) = max {
            let (mut before, mut total) = (0usize, 0usize);
            for (i, h) in self.hits.iter().enumerate() {
                if h.rule == rule16 {
                    total += 1;
                    before += usize::from(i < pos);
                }
            }
            if before >= max {
                return false;
            }
            overflow = total >= max;
        }
        self.hits.insert(
            pos,
            Hit {
                at,
                event: event.clone(),
                rule: rule16,
                fingerprint,
            },
        );
        // A limit already full: the newest hit of the rule can no longer count.
        if overflow {
            if let Some(last) = self.hits.iter().rposition(|h| h.rule == rule16) {
                self.hits.remove(last);
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
        self.scores_of_hits(lead, state.refs().map(|h| (h.rule, h.at)), now)
    }

    /// The explanation at `now` from an incremental [`ScoreState`]: equal to
    /// [`explain`](Self::explain) over the events recorded.
    pub fn explain_with(&self, lead: &Lead, state: &ScoreState, now: DateTime<Utc>) -> Explanation {
        settle(self, lead, state.refs(), now).explain(self, now)
    }

    /// The scores at `now` from hits given as `(rule, time)` in time order
    /// (the order among hits at the same time does not change the scores).
    /// For engines that keep their own compact record of hits.
    pub(crate) fn scores_of_hits(
        &self,
        lead: &Lead,
        hits: impl Iterator<Item = (usize, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Scores {
        Tally::of_hits(self, lead, hits, now).settle(self).scores
    }

    /// True when every lead's totals before caps are the same under both
    /// models (the same rules with the same points, limits, windows, decay
    /// and groups; the caps, floor, bands and named scores may differ).
    pub(crate) fn tallies_like(&self, other: &ScoringModel) -> bool {
        self.rules() == other.rules()
            && self.compiled == other.compiled
            && self.groups.len() == other.groups.len()
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
            .rule(Rule::event("twice", EventType::DemoRequest, 10).times(2))
            .build()
            .unwrap()
    }

    #[test]
    fn keeps_only_hits_that_can_count() {
        let m = model();
        let mut s = ScoreState::new();
        for i in (0..10).rev() {
            s.record(&m, &ev(&format!("e{i}"), i));
        }
        let kept: Vec<&str> = s.hits().iter().map(|h| h.event().as_str()).collect();
        assert_eq!(kept, ["e0", "e1"]);
    }

    #[test]
    fn state_is_small() {
        // The engine keeps a ScoreState per lead: 24 bytes inline, 32 per hit.
        assert!(std::mem::size_of::<ScoreState>() <= 24);
        assert!(std::mem::size_of::<Hit>() <= 32);
    }

    #[test]
    fn record_unique_agrees_with_record() {
        let m = model();
        let (mut a, mut b) = (ScoreState::new(), ScoreState::new());
        for i in [3, 0, 7, 1, 9, 2] {
            let e = ev(&format!("e{i}"), i);
            a.record(&m, &e);
            b.record_unique(&m, &e, |_| false);
        }
        assert_eq!(a, b);
        assert!(b.is_full(&m, 0));
        assert!(!ScoreState::new().is_full(&m, 0));
    }

    #[test]
    fn the_earliest_copy_of_an_id_wins() {
        let m = model();
        let mut s = ScoreState::new();
        assert!(s.record(&m, &ev("a", 5)));
        assert!(!s.record(&m, &ev("a", 5)));
        assert!(!s.record(&m, &ev("a", 9)));
        assert!(s.record(&m, &ev("a", 1)));
        assert_eq!(s.len(), 1);
        assert_eq!(s.hits()[0].at(), ev("a", 1).at);
        assert_eq!(
            fingerprint(&EventId::new("a").unwrap()),
            fingerprint(&EventId::new("a").unwrap())
        );
    }
}
