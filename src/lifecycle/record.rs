//! Per-lead lifecycle state and its history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LifecycleStateMachine, SlaBreach, SlaKind, Stage, Transition};
use crate::criteria::Checklist;
use crate::id::{LeadId, ModelVersion, OwnerId};

/// One applied transition: the audit trail of a lead's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// The lead.
    pub lead: LeadId,
    /// The stage it left.
    pub from: Stage,
    /// The stage it entered.
    pub to: Stage,
    /// The transition with its payload (criterion verdict, who, why).
    pub transition: Transition,
    /// When.
    pub at: DateTime<Utc>,
    /// Automatic (a criterion fired) or a command.
    pub trigger: TriggerKind,
    /// The scoring model version in force, if the lead was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<ModelVersion>,
}

/// Whether a transition fired by itself or was commanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A criterion was met.
    Automatic,
    /// The host issued a command.
    Command,
}

/// A follow-up by sales (a call, an email, a meeting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<OwnerId>,
}

/// One stay of a lead in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageVisit {
    /// The stage.
    pub stage: Stage,
    /// When the lead entered it.
    pub entered_at: DateTime<Utc>,
    /// When it left, or `None` if it is still there.
    pub exited_at: Option<DateTime<Utc>>,
    /// The first follow-up during the stay, if any.
    pub first_follow_up: Option<DateTime<Utc>>,
}

impl StageVisit {
    /// How long the stay lasted, up to `now` if still open.
    pub fn duration(&self, now: DateTime<Utc>) -> chrono::TimeDelta {
        self.exited_at.unwrap_or(now) - self.entered_at
    }

    /// Time from entering to the first follow-up: the follow-up speed.
    pub fn follow_up_delay(&self) -> Option<chrono::TimeDelta> {
        self.first_follow_up.map(|f| f - self.entered_at)
    }
}

/// One lead's lifecycle: its stage, the full history of transitions, its
/// follow-ups and qualification evidence. Changed only through a
/// [`LifecycleStateMachine`], so it never holds a state the definition
/// forbids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadLifecycle {
    lead: LeadId,
    initial: Stage,
    created_at: DateTime<Utc>,
    stage: Stage,
    history: Vec<TransitionRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    follow_ups: Vec<FollowUp>,
    #[serde(default, skip_serializing_if = "Checklist::is_empty")]
    checklist: Checklist,
}

impl LeadLifecycle {
    pub(crate) fn new(lead: LeadId, initial: Stage, created_at: DateTime<Utc>) -> LeadLifecycle {
        LeadLifecycle {
            lead,
            initial,
            created_at,
            stage: initial,
            history: Vec::new(),
            follow_ups: Vec::new(),
            checklist: Checklist::new(),
        }
    }

    pub(crate) fn push(&mut self, record: TransitionRecord) -> &TransitionRecord {
        self.stage = record.to;
        if let Some(evidence) = record.transition.evidence() {
            self.checklist.merge(evidence);
        }
        self.history.push(record);
        // Just pushed, so `last` is always `Some`; the fallback is unreachable.
        self.history
            .last()
            .unwrap_or_else(|| unreachable!("history is non-empty after push"))
    }

    /// Removes the records at or after `at` and returns them, oldest first;
    /// the stage becomes the one the lead was in just before `at`. The
    /// checklist is kept (re-applying the removed commands merges the same
    /// evidence again). Used to re-evaluate history when a late event
    /// arrives.
    pub(crate) fn rewind(&mut self, at: DateTime<Utc>) -> Vec<TransitionRecord> {
        let keep = self.history.partition_point(|r| r.at < at);
        let removed = self.history.split_off(keep);
        self.stage = self.history.last().map_or(self.initial, |r| r.to);
        removed
    }

    /// The lead.
    pub fn lead(&self) -> &LeadId {
        &self.lead
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The stage it started in.
    pub fn initial_stage(&self) -> Stage {
        self.initial
    }

    /// When it started.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When it entered the current stage.
    pub fn entered_at(&self) -> DateTime<Utc> {
        self.last_transition_at().unwrap_or(self.created_at)
    }

    /// Every transition, oldest first.
    pub fn history(&self) -> &[TransitionRecord] {
        &self.history
    }

    /// The time of the last transition.
    pub fn last_transition_at(&self) -> Option<DateTime<Utc>> {
        self.history.last().map(|r| r.at)
    }

    /// The qualification evidence gathered so far (merged from every
    /// qualify-for-sales and [`update_checklist`](Self::update_checklist)).
    pub fn checklist(&self) -> &Checklist {
        &self.checklist
    }

    /// Records answers to qualification questions without a transition.
    pub fn update_checklist(&mut self, answers: &Checklist) {
        self.checklist.merge(answers);
    }

    /// Records a sales follow-up. Follow-ups are kept in time order whatever
    /// order they are recorded in.
    pub fn record_follow_up(&mut self, at: DateTime<Utc>, by: Option<OwnerId>) {
        let pos = self.follow_ups.partition_point(|f| f.at <= at);
        self.follow_ups.insert(pos, FollowUp { at, by });
    }

    /// The follow-ups, in time order.
    pub fn follow_ups(&self) -> &[FollowUp] {
        &self.follow_ups
    }

    /// Every stay in a stage, oldest first; the last is open.
    pub fn visits(&self) -> Vec<StageVisit> {
        let mut out = Vec::with_capacity(self.history.len() + 1);
        let mut stage = self.initial;
        let mut entered = self.created_at;
        for r in &self.history {
            out.push(self.visit(stage, entered, Some(r.at)));
            stage = r.to;
            entered = r.at;
        }
        out.push(self.visit(stage, entered, None));
        out
    }

    fn visit(&self, stage: Stage, entered_at: DateTime<Utc>, exited_at: Option<DateTime<Utc>>) -> StageVisit {
        let first_follow_up = self
            .follow_ups
            .iter()
            .map(|f| f.at)
            .find(|t| *t >= entered_at && exited_at.is_none_or(|x| *t < x));
        StageVisit {
            stage,
            entered_at,
            exited_at,
            first_follow_up,
        }
    }

    /// The time from entering `stage` (its latest stay) to the first
    /// follow-up in it, if there was one.
    pub fn follow_up_speed(&self, stage: Stage) -> Option<chrono::TimeDelta> {
        self.visits()
            .iter()
            .rev()
            .find(|v| v.stage == stage)
            .and_then(StageVisit::follow_up_delay)
    }

    /// Every SLA of the machine missed up to `now`, past and open, oldest
    /// first. Answered from the records alone: no timers.
    ///
    /// For each stay in a stage with an SLA, due at entry + span:
    /// - exit SLA: breached when the lead left after the due time, or is
    ///   still there past it (open);
    /// - first follow-up SLA: breached when the first follow-up came after
    ///   the due time, or none came and the lead stayed past it; the breach is
    ///   open while the lead is still in the stage without a follow-up.
    ///
    /// Open breaches ([`SlaBreach::is_open`]) are what is overdue now.
    pub fn sla_breaches(&self, machine: &LifecycleStateMachine, now: DateTime<Utc>) -> Vec<SlaBreach> {
        let mut out = Vec::new();
        for visit in self.visits() {
            if visit.entered_at > now {
                continue;
            }
            let exited = visit.exited_at.filter(|t| *t <= now);
            for sla in machine
                .definition()
                .slas
                .iter()
                .filter(|s| s.stage == visit.stage)
            {
                // Past the calendar's end: never due.
                let Some(due_at) = sla.within.after(visit.entered_at) else {
                    continue;
                };
                // When the obligation ended: done, or (for follow-ups) moot
                // because the lead left the stage.
                let ended_at = match sla.kind {
                    SlaKind::Exit => exited,
                    SlaKind::FirstFollowUp => visit.first_follow_up.filter(|t| *t <= now).or(exited),
                };
                let breached = ended_at.map_or(now > due_at, |t| t > due_at);
                if breached {
                    out.push(SlaBreach {
                        sla: *sla,
                        entered_at: visit.entered_at,
                        due_at,
                        resolved_at: ended_at,
                    });
                }
            }
        }
        out
    }

    /// The SLAs overdue at `now`: open breaches only.
    pub fn overdue(&self, machine: &LifecycleStateMachine, now: DateTime<Utc>) -> Vec<SlaBreach> {
        let mut b = self.sla_breaches(machine, now);
        b.retain(SlaBreach::is_open);
        b
    }

    /// True when the lead started in or ever entered `stage`.
    pub fn reached(&self, stage: Stage) -> bool {
        self.initial == stage || self.history.iter().any(|r| r.to == stage)
    }
}
