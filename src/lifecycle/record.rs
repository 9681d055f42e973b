//! Per-lead lifecycle state and its history.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LifecycleStateMachine, SlaBreach, SlaKind, Transition};
use crate::criteria::Checklist;
use crate::id::{LeadId, ModelVersion, OwnerId};
use crate::stage::Stage;

/// One applied transition: the audit trail of a lead's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<OwnerId>,
}

/// One stay of a lead in a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "LifecycleData")]
pub struct LeadLifecycle {
    lead: LeadId,
    initial: Stage,
    created_at: DateTime<Utc>,
    stage: Stage,
    history: Vec<TransitionRecord>,
    /// The follow-ups and the checklist, once either is non-empty: most
    /// leads have neither, and a pointer takes 8 bytes where they take 96.
    extras: Option<Box<Extras>>,
}

/// What a lead with follow-ups or qualification evidence holds besides its
/// history; never both empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Extras {
    follow_ups: Vec<FollowUp>,
    checklist: Checklist,
}

/// The checklist of a lead without evidence.
static NO_CHECKLIST: LazyLock<Checklist> = LazyLock::new(Checklist::new);

/// The serialized form of a [`LeadLifecycle`], owned (to read one).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LifecycleData {
    lead: LeadId,
    initial: Stage,
    created_at: DateTime<Utc>,
    stage: Stage,
    history: Vec<TransitionRecord>,
    #[serde(default)]
    follow_ups: Vec<FollowUp>,
    #[serde(default)]
    checklist: Checklist,
}

/// The serialized form of a [`LeadLifecycle`], borrowed (to write one).
#[derive(Serialize)]
struct LifecycleRef<'a> {
    lead: &'a LeadId,
    initial: Stage,
    created_at: DateTime<Utc>,
    stage: Stage,
    history: &'a [TransitionRecord],
    #[serde(skip_serializing_if = "<[FollowUp]>::is_empty")]
    follow_ups: &'a [FollowUp],
    #[serde(skip_serializing_if = "Checklist::is_empty")]
    checklist: &'a Checklist,
}

impl From<LifecycleData> for LeadLifecycle {
    fn from(d: LifecycleData) -> LeadLifecycle {
        let extras = (!d.follow_ups.is_empty() || !d.checklist.is_empty()).then(|| {
            Box::new(Extras {
                follow_ups: d.follow_ups,
                checklist: d.checklist,
            })
        });
        LeadLifecycle {
            lead: d.lead,
            initial: d.initial,
            created_at: d.created_at,
            stage: d.stage,
            history: d.history,
            extras,
        }
    }
}

impl Serialize for LeadLifecycle {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LifecycleRef {
            lead: &self.lead,
            initial: self.initial,
            created_at: self.created_at,
            stage: self.stage,
            history: &self.history,
            follow_ups: self.follow_ups(),
            checklist: self.checklist(),
        }
        .serialize(serializer)
    }
}

impl LeadLifecycle {
    pub(crate) fn new(lead: LeadId, initial: Stage, created_at: DateTime<Utc>) -> LeadLifecycle {
        LeadLifecycle {
            lead,
            initial,
            created_at,
            stage: initial,
            history: Vec::new(),
            extras: None,
        }
    }

    /// Merges `evidence` into the checklist (an empty one changes nothing,
    /// so `extras` stays `None` until there is something to hold).
    fn merge_checklist(&mut self, evidence: &Checklist) {
        if !evidence.is_empty() {
            self.extras.get_or_insert_default().checklist.merge(evidence);
        }
    }

    pub(crate) fn push(&mut self, record: TransitionRecord) -> &TransitionRecord {
        self.stage = record.to;
        if let Some(evidence) = record.transition.evidence() {
            self.merge_checklist(evidence);
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

    /// Starts the lifecycle again in `initial` at `created_at`, as
    /// [`rewind`](Self::rewind) to before every record; returns them all.
    /// Used when a lead's creation is re-dated.
    pub(crate) fn restart(&mut self, initial: Stage, created_at: DateTime<Utc>) -> Vec<TransitionRecord> {
        self.initial = initial;
        self.created_at = created_at;
        self.stage = initial;
        std::mem::take(&mut self.history)
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
        self.extras.as_ref().map_or(&NO_CHECKLIST, |x| &x.checklist)
    }

    /// Records answers to qualification questions without a transition.
    pub fn update_checklist(&mut self, answers: &Checklist) {
        self.merge_checklist(answers);
    }

    /// Records a sales follow-up. Follow-ups are kept in time order whatever
    /// order they are recorded in.
    pub fn record_follow_up(&mut self, at: DateTime<Utc>, by: Option<OwnerId>) {
        let follow_ups = &mut self.extras.get_or_insert_default().follow_ups;
        let pos = follow_ups.partition_point(|f| f.at <= at);
        follow_ups.insert(pos, FollowUp { at, by });
    }

    /// Forgets one follow-up recorded at `at` by `by` (an event's copy that
    /// another copy replaced).
    pub(crate) fn forget_follow_up(&mut self, at: DateTime<Utc>, by: &Option<OwnerId>) {
        if let Some(x) = self.extras.as_mut() {
            if let Some(pos) = x.follow_ups.iter().position(|f| f.at == at && &f.by == by) {
                x.follow_ups.remove(pos);
            }
            if x.follow_ups.is_empty() && x.checklist.is_empty() {
                self.extras = None;
            }
        }
    }

    /// The follow-ups, in time order.
    pub fn follow_ups(&self) -> &[FollowUp] {
        self.extras.as_ref().map_or(&[], |x| &x.follow_ups)
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
            .follow_ups()
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

    /// When the lead's stay in its current stage next falls due under an
    /// SLA that is not met yet: the earliest due time of the machine's SLAs
    /// on the stage (an exit SLA, or a first-follow-up SLA with no follow-up
    /// since the lead entered). `None` when nothing is pending. A host (or
    /// an engine) needs to look at the lead again only then.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use leadflow::criteria::{Condition, LeadView};
    /// use leadflow::lifecycle::{LifecycleDefinition, QualifiedBy, Transition};
    /// use leadflow::{AssetType, EventMatcher, Lead, LeadId, OwnerId};
    ///
    /// let machine = LifecycleDefinition::standard_b2b(
    ///     Condition::did(EventMatcher::download(AssetType::PricingSheet))).build()?;
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// let lead = Lead::new(LeadId::new("l1")?, t0);
    /// let mut life = machine.start(&lead);
    /// assert_eq!(life.next_due(&machine), None);
    /// // The standard lifecycle: an MQL must be accepted or rejected within 24 h.
    /// let by = QualifiedBy::Manual { by: OwnerId::new("marketer")?, note: None };
    /// machine.apply(&mut life, Transition::MarketingAccept { by: by.clone() }, &LeadView::new(&lead), t0)?;
    /// machine.apply(&mut life, Transition::Qualify { by }, &LeadView::new(&lead), t0)?;
    /// assert_eq!(life.next_due(&machine), Some(t0 + Duration::hours(24)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_due(&self, machine: &LifecycleStateMachine) -> Option<DateTime<Utc>> {
        let entered = self.entered_at();
        machine
            .definition()
            .slas
            .iter()
            .filter(|s| s.stage == self.stage)
            .filter(|s| match s.kind {
                SlaKind::Exit => true,
                SlaKind::FirstFollowUp => !self.follow_ups().iter().any(|f| f.at >= entered),
            })
            .filter_map(|s| s.within.after(entered))
            .min()
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::criteria::Condition;
    use crate::lead::Lead;
    use crate::lifecycle::LifecycleDefinition;

    fn fresh() -> LeadLifecycle {
        let machine =
            LifecycleDefinition::standard_b2b(Condition::score_at_least(crate::Dimension::Combined, 60))
                .build()
                .unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        machine.start(&Lead::new(LeadId::new("l1").unwrap(), t0))
    }

    #[test]
    fn a_lifecycle_without_follow_ups_or_evidence_stays_small() {
        // The lead, two stages, a time, the history and one pointer.
        assert_eq!(std::mem::size_of::<LeadLifecycle>(), 64);
        let mut life = fresh();
        life.update_checklist(&Checklist::new());
        assert!(life.extras.is_none(), "an empty checklist holds nothing");
        assert_eq!(life, fresh());
    }

    #[test]
    fn follow_ups_and_evidence_round_trip_in_the_same_form() {
        let plain = serde_json::to_value(fresh()).unwrap();
        assert!(
            plain.get("follow_ups").is_none() && plain.get("checklist").is_none(),
            "{plain}"
        );
        assert_eq!(
            serde_json::from_value::<LeadLifecycle>(plain.clone()).unwrap(),
            fresh()
        );

        let mut life = fresh();
        let t = life.created_at() + chrono::Duration::hours(3);
        life.record_follow_up(t, None);
        life.record_follow_up(t - chrono::Duration::hours(1), None);
        life.update_checklist(&Checklist::new().met("budget", "approved"));
        let json = serde_json::to_value(&life).unwrap();
        assert_eq!(json["follow_ups"].as_array().map(Vec::len), Some(2), "{json}");
        assert_eq!(json["checklist"]["budget"]["status"], "met", "{json}");
        let back: LeadLifecycle = serde_json::from_value(json).unwrap();
        assert_eq!(back, life);
        assert_eq!(
            back.follow_ups().first().map(|f| f.at),
            Some(t - chrono::Duration::hours(1))
        );

        // Empty lists (as a hand-written lifecycle may have them) read as
        // nothing held.
        let mut with_empty = plain;
        with_empty["follow_ups"] = serde_json::json!([]);
        with_empty["checklist"] = serde_json::json!({});
        assert_eq!(
            serde_json::from_value::<LeadLifecycle>(with_empty).unwrap(),
            fresh()
        );
    }
}
