//! One lead inside the funnel: its attribute versions, events, lifecycle and
//! last scores, and the re-evaluation of its timeline.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::criteria::LeadView;
use crate::event::{Event, EventKind};
use crate::lead::Lead;
use crate::lifecycle::{
    LeadLifecycle, LifecycleStateMachine, Transition, TransitionError, TransitionRecord, TriggerKind,
};
use crate::scores::Scores;
use crate::scoring::ScoringModel;

/// A lead's state in the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LeadState {
    /// The lead as upserted, with the time of each upsert; never empty. The
    /// first version is dated at the lead's creation.
    pub(crate) versions: Vec<(DateTime<Utc>, Lead)>,
    /// The events, sorted by (time, id), unique ids.
    pub(crate) events: Vec<Event>,
    /// The lifecycle.
    pub(crate) life: LeadLifecycle,
    /// The scores at the last time the lead was touched.
    pub(crate) scores: Scores,
}

/// A command that could not be re-applied when re-evaluating a timeline.
#[derive(Debug)]
pub(crate) struct Conflict {
    pub(crate) transition: Transition,
    pub(crate) at: DateTime<Utc>,
    pub(crate) error: TransitionError,
}

/// What a re-evaluation changed in the lifecycle history.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    pub(crate) retracted: Vec<TransitionRecord>,
    pub(crate) added: Vec<TransitionRecord>,
}

impl LeadState {
    pub(crate) fn new(lead: Lead, machine: &LifecycleStateMachine) -> LeadState {
        LeadState {
            life: machine.start(&lead),
            versions: vec![(lead.created_at, lead)],
            events: Vec::new(),
            scores: Scores::default(),
        }
    }

    /// The lead's latest version.
    pub(crate) fn lead(&self) -> Option<&Lead> {
        self.versions.last().map(|(_, l)| l)
    }

    /// The lead as it was at `t` (see [`lead_at`]).
    pub(crate) fn lead_at(&self, t: DateTime<Utc>) -> Option<Cow<'_, Lead>> {
        lead_at(&self.versions, &self.events, t)
    }

    /// Inserts an event at its place in (time, id) order.
    pub(crate) fn insert(&mut self, event: Event) {
        let pos = self
            .events
            .partition_point(|e| (e.at, e.id.as_str()) < (event.at, event.id.as_str()));
        self.events.insert(pos, event);
    }

    /// The scores at `t`, from the lead as it was then and its events.
    pub(crate) fn scores_at(&self, model: &ScoringModel, t: DateTime<Utc>) -> Scores {
        match self.lead_at(t) {
            Some(lead) => model.score(&lead, &self.events, t),
            None => Scores::default(),
        }
    }

    /// The times at or after `from` at which the timeline is evaluated:
    /// every event time and every upsert time, ascending, distinct.
    fn evaluation_times(&self, from: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = self
            .events
            .iter()
            .map(|e| e.at)
            .chain(self.versions.iter().map(|(t, _)| *t))
            .filter(|t| *t >= from)
            .collect();
        times.sort_unstable();
        times.dedup();
        times
    }

    /// Re-evaluates the timeline from `from`: the lifecycle is rewound to
    /// just before `from`, then every evaluation time is replayed in order
    /// (automatic edges evaluated at each event or upsert time, with the
    /// scores at that time), and the commands on record at or after `from`
    /// (plus `new_command`, if any) are re-applied at their times, after the
    /// evaluation of events at the same time.
    ///
    /// On a conflict the lifecycle is left half-replayed: callers restore
    /// their backup.
    pub(crate) fn rerun(
        &mut self,
        from: DateTime<Utc>,
        new_command: Option<(Transition, DateTime<Utc>)>,
        model: &ScoringModel,
        machine: &LifecycleStateMachine,
    ) -> Result<Diff, Box<Conflict>> {
        let removed = self.life.rewind(from);
        let keep = self.life.history().len();
        let mut commands: Vec<(Transition, DateTime<Utc>)> = removed
            .iter()
            .filter(|r| r.trigger == TriggerKind::Command)
            .map(|r| (r.transition.clone(), r.at))
            .collect();
        commands.extend(new_command);
        commands.sort_by_key(|c| c.1);
        let mut pending = commands.into_iter().peekable();
        for t in self.evaluation_times(from) {
            while let Some(c) = pending.next_if(|c| c.1 < t) {
                self.apply_command(c, model, machine)?;
            }
            self.advance_at(t, model, machine);
        }
        for c in pending {
            self.apply_command(c, model, machine)?;
        }
        let added = self.life.history().get(keep..).unwrap_or(&[]).to_vec();
        Ok(diff(removed, added))
    }

    fn advance_at(&mut self, t: DateTime<Utc>, model: &ScoringModel, machine: &LifecycleStateMachine) {
        let Some(lead) = lead_at(&self.versions, &self.events, t) else {
            return;
        };
        let scores = model.score(&lead, &self.events, t);
        let view = LeadView::new(&lead)
            .with_events(&self.events)
            .with_scores(&scores);
        machine.advance(&mut self.life, &view, t);
    }

    fn apply_command(
        &mut self,
        (transition, at): (Transition, DateTime<Utc>),
        model: &ScoringModel,
        machine: &LifecycleStateMachine,
    ) -> Result<(), Box<Conflict>> {
        let Some(lead) = lead_at(&self.versions, &self.events, at) else {
            return Ok(());
        };
        let scores = model.score(&lead, &self.events, at);
        let view = LeadView::new(&lead)
            .with_events(&self.events)
            .with_scores(&scores);
        match machine.apply(&mut self.life, transition.clone(), &view, at) {
            Ok(_) => Ok(()),
            Err(error) => Err(Box::new(Conflict {
                transition,
                at,
                error,
            })),
        }
    }
}

/// The lead as it was at `t`: the last version upserted at or before `t`
/// (the first version when none), with the attribute-change events since
/// that version (up to `t`) applied in time order.
fn lead_at<'a>(
    versions: &'a [(DateTime<Utc>, Lead)],
    events: &[Event],
    t: DateTime<Utc>,
) -> Option<Cow<'a, Lead>> {
    let idx = versions.partition_point(|(vt, _)| *vt <= t).saturating_sub(1);
    let (since, base) = versions.get(idx)?;
    let since = (idx > 0).then_some(*since);
    let mut changes = events
        .iter()
        .filter(|e| e.at <= t && since.is_none_or(|s| e.at >= s))
        .filter_map(|e| match &e.kind {
            EventKind::AttributeChange { key, value } => Some((key, value)),
            _ => None,
        })
        .peekable();
    if changes.peek().is_none() {
        return Some(Cow::Borrowed(base));
    }
    let mut lead = base.clone();
    for (key, value) in changes {
        // Validated when the event was ingested; an invalid one changes nothing.
        let _ = lead.set_attribute(key, value.clone());
    }
    Some(Cow::Owned(lead))
}

/// Pairs equal records off; what remains of `removed` is retracted, what
/// remains of `added` is new.
fn diff(mut removed: Vec<TransitionRecord>, added: Vec<TransitionRecord>) -> Diff {
    let mut out = Diff::default();
    for r in added {
        match removed.iter().position(|x| *x == r) {
            Some(i) => {
                removed.remove(i);
            }
            None => out.added.push(r),
        }
    }
    out.retracted = removed;
    out
}
