//! One lead inside a [`CompiledFunnel`](super::CompiledFunnel): its compact
//! event log, attribute versions and lifecycle, and the re-evaluation of its
//! timeline (the same schedule as the [`Funnel`](crate::funnel::Funnel)'s).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::actions::Actions;
use super::gate::{Bounds, Gates};
use crate::criteria::{Criterion, LeadView, Outcome};
use crate::event::Event;
use std::borrow::Cow;

use crate::funnel::lead_state::{Stages, lead_at};
use crate::funnel::timeline::{self, Conflict, Diff, Timeline};
use crate::lead::Lead;
use crate::lifecycle::{
    Edge, LeadLifecycle, LifecycleStateMachine, Stage, StageSet, Transition, TransitionRecord,
};
use crate::scores::Scores;
use crate::scoring::{ScoringModel, Tally};

/// One event as the compiled funnel keeps it: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) at: DateTime<Utc>,
    pub(crate) action: u32,
}

/// What a lead keeps besides its log, read only on the slow paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cold {
    /// The lead as upserted, with the time of each upsert; never empty.
    pub(crate) versions: Vec<(DateTime<Utc>, Lead)>,
    /// The attribute-change events, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) changes: Vec<Event>,
    pub(crate) life: LeadLifecycle,
}

impl Cold {
    /// The lead as it was at `t`.
    pub(crate) fn lead_at(&self, t: DateTime<Utc>) -> Option<Cow<'_, Lead>> {
        lead_then(&self.versions, &self.changes, t)
    }

    /// The lead as it was at `t`, and its lifecycle to change.
    fn lead_and_life(&mut self, t: DateTime<Utc>) -> Option<(Cow<'_, Lead>, &mut LeadLifecycle)> {
        let Cold {
            versions,
            changes,
            life,
        } = self;
        Some((lead_then(versions, changes, t)?, life))
    }
}

/// The lead as it was at `t`, from its versions and attribute changes (for
/// callers that hold the lifecycle mutably at the same time).
fn lead_then<'v>(
    versions: &'v [(DateTime<Utc>, Lead)],
    changes: &[Event],
    t: DateTime<Utc>,
) -> Option<Cow<'v, Lead>> {
    let n = u32::try_from(changes.len()).unwrap_or(u32::MAX);
    lead_at(versions, changes, n, t)
}

/// The entries of `log` at or before `t`.
fn upto(log: &[Entry], t: DateTime<Utc>) -> &[Entry] {
    // Searched from the end: `t` is most often at or after the last event.
    log.get(..timeline::first_from_end(log, |x| x.at <= t))
        .unwrap_or(&[])
}

/// What a re-evaluation runs with.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) model: &'a ScoringModel,
    pub(crate) machine: &'a LifecycleStateMachine,
    pub(crate) stages: Stages,
    pub(crate) actions: &'a Actions,
    pub(crate) gates: &'a Gates,
}

impl Ctx<'_> {
    /// The scores at `t` from the log's hits up to `t`.
    pub(crate) fn scores(&self, lead: &Lead, log: &[Entry], t: DateTime<Utc>) -> Scores {
        self.tally(lead, log, t).settle(self.model).scores
    }

    /// The running totals of the log's hits up to `t`, before caps.
    pub(crate) fn tally(&self, lead: &Lead, log: &[Entry], t: DateTime<Utc>) -> Tally {
        let hits = upto(log, t).iter().flat_map(|x| {
            let rules = self
                .actions
                .list
                .get(x.action as usize)
                .map_or(&[][..], |a| &a.rules[..]);
            rules.iter().map(move |r| (usize::from(*r), x.at))
        });
        Tally::of_hits(self.model, lead, hits, t)
    }

    /// The events carrying one of the signals in `mask` (all events when a
    /// custom criterion may read any), up to `t`, rebuilt from their shapes
    /// (with a placeholder id).
    pub(crate) fn events(&self, log: &[Entry], t: DateTime<Utc>, mask: u64) -> Vec<Event> {
        upto(log, t)
            .iter()
            .filter_map(|x| {
                let a = self.actions.list.get(x.action as usize)?;
                (self.gates.all_events || a.signals & mask != 0).then(|| {
                    let mut e = a.shape.clone();
                    e.at = x.at;
                    e
                })
            })
            .collect()
    }

    /// Upper bounds of each group's total at `t` and at any later time, but
    /// for hits added later (by model group, milli-points): the totals of
    /// the hits up to `t` under the model's limits and windows, without the
    /// penalties that can end (those with a window, or in a capped group,
    /// where the cap can absorb them), with decay bounded from above. See
    /// [`Layout`](super::gate::Layout). One pass, no exact decay.
    pub(crate) fn engagement_bound(&self, log: &[Entry], t: DateTime<Utc>) -> Vec<i128> {
        use crate::scoring::Limit;
        let model = self.model;
        let mut totals = vec![0i128; model.groups.len()];
        // Per rule: how many counted, and when the last one counted.
        let mut counted: Vec<(u32, Option<DateTime<Utc>>)> = vec![(0, None); model.compiled.len()];
        for x in upto(log, t) {
            let Some(a) = self.actions.list.get(x.action as usize) else {
                continue;
            };
            for &r in a.rules.iter() {
                let r = usize::from(r);
                let (Some(c), Some(state)) = (model.compiled.get(r), counted.get_mut(r)) else {
                    continue;
                };
                let capped = model.groups.get(c.group).is_some_and(|g| g.cap.is_some());
                if c.points.is_negative() && (c.within.is_some() || capped) {
                    continue;
                }
                let accept = match c.limit {
                    Limit::Once => state.0 < 1,
                    Limit::Times { n } => state.0 < n,
                    Limit::OncePer { period } => {
                        state.1.is_none_or(|last| x.at - last >= period.to_time_delta())
                    }
                    Limit::Unlimited => true,
                };
                if !accept {
                    continue;
                }
                state.0 = state.0.saturating_add(1);
                state.1 = Some(x.at);
                let age = t - x.at;
                if c.within.is_some_and(|w| age > w) {
                    continue;
                }
                if let Some(total) = totals.get_mut(c.group) {
                    *total += i128::from(c.decay.upper_milli(c.points.as_milli(), age.num_seconds()));
                }
            }
        }
        for (total, group) in totals.iter_mut().zip(&model.groups) {
            if let Some(cap) = group.cap {
                *total = (*total).min(i128::from(cap.as_milli()));
            }
        }
        totals
    }

    /// Whether an automatic edge into MQL holds at `t` whatever the lead's
    /// scores: `None` when that depends on them (or a custom criterion,
    /// which may read them as it likes, is among the automatic ones).
    /// Built-in conditions are three-valued: without scores a score
    /// condition is unknown, and a combination met (or not met) with an
    /// unknown part is so whatever that part turns out to be.
    pub(crate) fn qualifies_whatever_the_scores(
        &self,
        lead: &Lead,
        events: &[Event],
        t: DateTime<Utc>,
    ) -> Option<bool> {
        if self.gates.all_events {
            return None;
        }
        let view = LeadView::new(lead).with_events(events);
        self.edges_met(&view, t, |e| e.to() == Stage::Mql)
    }

    /// Whether one of the automatic edges `which` picks is met at `t` for
    /// `view`: `Some(true)` when one is, `Some(false)` when every one is
    /// not, `None` when some is unknown and none met.
    fn edges_met(
        &self,
        view: &LeadView<'_>,
        t: DateTime<Utc>,
        which: impl Fn(&Edge) -> bool,
    ) -> Option<bool> {
        let mut unknown = false;
        for (_, c) in self.machine.automatic_edges().filter(|(e, _)| which(e)) {
            match c.outcome(view, t) {
                Outcome::Met => return Some(true),
                Outcome::Unknown => unknown = true,
                Outcome::NotMet => {}
            }
        }
        (!unknown).then_some(false)
    }

    /// True when an automatic edge into MQL holds at `t` (from any stage)
    /// for a lead with `scores`. `events` are the lead's events criteria
    /// read (see [`events`](Self::events)).
    pub(crate) fn qualifies(&self, lead: &Lead, events: &[Event], scores: &Scores, t: DateTime<Utc>) -> bool {
        let view = LeadView::new(lead).with_events(events).with_scores(scores);
        self.machine
            .automatic_edges()
            .any(|(e, c)| e.to() == Stage::Mql && c.outcome(&view, t) == Outcome::Met)
    }
}

/// A lead borrowed for re-evaluation.
pub(crate) struct LeadMut<'a> {
    pub(crate) cold: &'a mut Cold,
    pub(crate) log: &'a [Entry],
    pub(crate) bounds: Bounds<'a>,
}

impl LeadMut<'_> {
    /// Re-evaluates the timeline from `from` with the schedule the
    /// [`Funnel`](crate::funnel::Funnel) uses (see [`timeline::rerun`]).
    pub(crate) fn rerun(
        &mut self,
        from: DateTime<Utc>,
        new_command: Option<(Transition, DateTime<Utc>)>,
        ctx: &Ctx<'_>,
    ) -> Result<Diff, Box<Conflict>> {
        timeline::rerun(&mut Replay { lead: self, ctx }, from, new_command)
    }

    /// Evaluates the automatic edges at `t` (the lead's events up to `t` all
    /// applied), unless the gates show none can fire; the transitions that
    /// fired.
    pub(crate) fn advance_at(&mut self, t: DateTime<Utc>, ctx: &Ctx<'_>) -> &[TransitionRecord] {
        let stage = self.cold.life.stage();
        if !ctx.gates.open(stage, self.bounds) {
            return &[];
        }
        let Some((lead, life)) = self.cold.lead_and_life(t) else {
            return &[];
        };
        let events = ctx.events(self.log, t, ctx.gates.reads_from(stage));
        let view = LeadView::new(&lead).with_events(&events);
        let (log, bounds) = (self.log, self.bounds);
        // The bounds hold at `t` for every stage: a stage the lead moves on
        // to is tried only when its gates are open too. (The lead's own
        // stage was checked above, before its events were rebuilt.)
        let may_fire = |s: Stage| ctx.gates.open(s, bounds);
        let scores = || ctx.scores(&lead, log, t);
        ctx.machine
            .advance_scoring_lazily(life, &view, t, ctx.model.version(), may_fire, scores)
    }

    fn apply_command(
        &mut self,
        (transition, at): (Transition, DateTime<Utc>),
        ctx: &Ctx<'_>,
    ) -> Result<(), Box<Conflict>> {
        let Some((lead, life)) = self.cold.lead_and_life(at) else {
            return Ok(());
        };
        let events = ctx.events(self.log, at, u64::MAX);
        let scores = ctx.scores(&lead, self.log, at);
        let view = LeadView::new(&lead).with_events(&events).with_scores(&scores);
        match ctx.machine.apply(life, transition.clone(), &view, at) {
            Ok(_) => Ok(()),
            Err(error) => Err(Box::new(Conflict {
                transition,
                at,
                error,
            })),
        }
    }
}

/// A lead of the [`CompiledFunnel`](super::CompiledFunnel) as the schedule
/// walks it.
struct Replay<'m, 'l, 'c> {
    lead: &'m mut LeadMut<'l>,
    ctx: &'m Ctx<'c>,
}

impl Timeline for Replay<'_, '_, '_> {
    fn life(&mut self) -> &mut LeadLifecycle {
        &mut self.lead.cold.life
    }

    fn automatic(&self) -> StageSet {
        self.ctx.stages.automatic
    }

    fn events(&self) -> usize {
        self.lead.log.len()
    }

    fn event_at(&self, i: usize) -> Option<DateTime<Utc>> {
        self.lead.log.get(i).map(|x| x.at)
    }

    fn versions(&self) -> usize {
        self.lead.cold.versions.len()
    }

    fn version_at(&self, i: usize) -> Option<DateTime<Utc>> {
        self.lead.cold.versions.get(i).map(|v| v.0)
    }

    fn advance_at(&mut self, t: DateTime<Utc>) {
        self.lead.advance_at(t, self.ctx);
    }

    fn apply_command(&mut self, command: (Transition, DateTime<Utc>)) -> Result<(), Box<Conflict>> {
        self.lead.apply_command(command, self.ctx)
    }
}
