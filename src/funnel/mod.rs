//! The funnel: many leads, one scoring model and one lifecycle, fed with
//! events and commands.
//!
//! A [`Funnel`] holds every lead's attributes, events, scores and lifecycle.
//! The host feeds it events (one at a time or in batches) and commands (sales
//! accepts, rejects, wins...) with the current time, and acts on the
//! [`Output`]s it returns: transitions, retractions and score crossings.
//! Nothing is printed, sent or stored by the library.
//!
//! # Guarantees
//!
//! - **Idempotent**: an event id seen before for the same lead is ignored and
//!   counted in [`IngestReport::duplicates`].
//! - **Order-independent**: a lead's automatic transitions are evaluated at
//!   each of its event times (and upsert times), with the scores at that
//!   time. An event that arrives late, within
//!   [`FunnelConfig::allowed_lateness`], re-evaluates the lead's timeline
//!   from its time: the final state (events, scores, stage, records) is
//!   exactly what the in-order stream gives, and transitions that no longer
//!   hold are reported as [`Output::Retracted`]. Older events are refused
//!   ([`IngestError::TooLate`]).
//! - **Commands** are placed on the same timeline; an illegal one returns an
//!   error and changes nothing. A late event that would make a later command
//!   illegal is refused ([`IngestError::ConflictsWithCommand`]).
//! - **Deterministic**: the same calls with the same times give the same
//!   results; a [`FunnelSnapshot`] restores a funnel that continues exactly
//!   as the original.
//! - **Partitionable**: leads are independent; [`shard_for`] assigns a lead
//!   to one of `n` shards by a stable hash, and [`FunnelStats`] merge.
//!
//! For large volumes, [`CompiledFunnel`] gives the same answers on compact
//! state: leads and event shapes by dense keys, 16 bytes per event, and
//! per-lead upper bounds that skip most evaluations. The `Funnel` keeps
//! every event as given, for hosts that read events back.
//!
//! # Example
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::criteria::Condition;
//! use leadflow::funnel::{Funnel, FunnelConfig, Output};
//! use leadflow::scoring::ScoringModel;
//! use leadflow::{AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId,
//!                LifecycleDefinition, Stage};
//!
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//! let machine = LifecycleDefinition::standard_b2b(mql).build()?;
//! let mut funnel = Funnel::new(ScoringModel::b2b_default()?, machine, FunnelConfig::default());
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.person.set_email("ada@acme.io");
//! funnel.upsert_lead(lead, t0)?;
//!
//! let download = Event::new(EventId::new("e1")?, LeadId::new("lead-1")?, t0 + Duration::hours(1),
//!     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
//! let report = funnel.ingest(download.clone(), t0 + Duration::hours(2));
//! assert!(report.outputs.iter().any(|o| matches!(o, Output::Transition { record } if record.to == Stage::Mql)));
//!
//! // The same event again is a duplicate: nothing changes.
//! let again = funnel.ingest(download, t0 + Duration::hours(3));
//! assert_eq!((again.applied, again.duplicates), (0, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compiled;
mod config;
mod lead_state;
mod output;
mod snapshot;
mod timeline;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use compiled::{
    ActionKey, CompactEvent, CompiledFunnel, CompiledLead, CompiledSnapshot, LeadKey, event_key,
};
pub use config::{FunnelConfig, Threshold, UnknownLeads};
pub use output::{CommandError, FunnelError, IngestError, IngestReport, Output, Rejected};
pub use snapshot::FunnelSnapshot;

use crate::criteria::{Criterion, LeadView, Outcome};
use crate::event::{Event, EventKind};
use crate::hash::{self, FxBuild};
use crate::id::{EventId, LeadId, ModelVersion, OwnerId};
use crate::lead::Lead;
use crate::lifecycle::{
    LeadLifecycle, LifecycleStateMachine, SlaBreach, Stage, Transition, TransitionRecord,
};
use crate::scores::Scores;
use crate::scoring::ScoringModel;
use lead_state::{Engine, LazyScores, LeadState, Stages};
use timeline::Diff;

/// Many leads, one scoring model, one lifecycle: see the [module
/// docs](self).
#[derive(Debug, Clone)]
pub struct Funnel {
    model: ScoringModel,
    machine: LifecycleStateMachine,
    config: FunnelConfig,
    index: HashMap<LeadId, u32, FxBuild>,
    leads: Vec<LeadState>,
    /// (lead index, fingerprint of an event id) of every event applied; a
    /// hit is confirmed against the lead's events (fingerprints can collide).
    seen: HashSet<(u32, u64), FxBuild>,
    watermark: Option<DateTime<Utc>>,
    stats: FunnelStats,
    /// Which stages can fire automatic edges, and need scores for it.
    stages: Stages,
}

/// Counters of what a funnel did. Mergeable across shards: merging is
/// associative and commutative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FunnelStats {
    /// Events applied.
    pub events_applied: u64,
    /// Duplicate events ignored.
    pub duplicates: u64,
    /// Events refused (too late, unknown lead, from the future, invalid, in
    /// conflict).
    pub events_rejected: u64,
    /// Transitions reported.
    pub transitions: u64,
    /// Transitions retracted by late events.
    pub retractions: u64,
    /// Leads created.
    pub leads_created: u64,
}

impl FunnelStats {
    /// Adds another shard's counters to these.
    pub fn merge(&mut self, other: &FunnelStats) {
        self.events_applied += other.events_applied;
        self.duplicates += other.duplicates;
        self.events_rejected += other.events_rejected;
        self.transitions += other.transitions;
        self.retractions += other.retractions;
        self.leads_created += other.leads_created;
    }

    /// Counts the transitions that `fired` and reports each to the host.
    pub(crate) fn fired(
        &mut self,
        fired: impl ExactSizeIterator<Item = TransitionRecord>,
        outputs: &mut Vec<Output>,
    ) {
        self.transitions += fired.len() as u64;
        outputs.extend(fired.map(|record| Output::Transition { record }));
    }

    /// Counts a re-evaluation's retracted and new transitions and reports
    /// each to the host, the retractions first.
    pub(crate) fn rerun(&mut self, diff: Diff, outputs: &mut Vec<Output>) {
        self.retractions += diff.retracted.len() as u64;
        outputs.extend(
            diff.retracted
                .into_iter()
                .map(|record| Output::Retracted { record }),
        );
        self.fired(diff.added.into_iter(), outputs);
    }
}

/// The shard (in `0..shards`) a lead belongs to, by a stable hash of its
/// id: the same on every machine and version. `shards` of 0 counts as 1.
///
/// ```
/// use leadflow::LeadId;
/// use leadflow::funnel::shard_for;
/// let id = LeadId::new("lead-42")?;
/// assert_eq!(shard_for(&id, 8), shard_for(&id, 8));
/// assert!(shard_for(&id, 8) < 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shard_for(lead: &LeadId, shards: usize) -> usize {
    (hash::fingerprint(lead.as_str()) % shards.max(1) as u64) as usize
}

/// What a model swap changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelChange {
    /// The version replaced.
    pub from: ModelVersion,
    /// The version now in force.
    pub to: ModelVersion,
    /// Leads rescored.
    pub rescored: usize,
    /// Leads that qualify (an automatic edge into MQL holds at `now`) under
    /// the new model but not under the old one.
    pub newly_qualified: Vec<LeadId>,
    /// Leads that qualified under the old model but not under the new one.
    pub no_longer_qualified: Vec<LeadId>,
    /// The transitions fired, when the swap was asked to fire them.
    pub outputs: Vec<Output>,
}

impl ModelChange {
    /// A change from `from` to `to` with nothing rescored yet.
    pub(crate) fn between(from: &ScoringModel, to: &ScoringModel) -> ModelChange {
        ModelChange {
            from: from.version().clone(),
            to: to.version().clone(),
            rescored: 0,
            newly_qualified: Vec::new(),
            no_longer_qualified: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

/// A read-only view of one lead in a funnel.
#[derive(Debug, Clone, Copy)]
pub struct LeadRecord<'f> {
    /// The lead's current attributes.
    pub lead: &'f Lead,
    /// Its events, sorted by time then id.
    pub events: &'f [Event],
    /// Its lifecycle: stage and history.
    pub lifecycle: &'f LeadLifecycle,
    /// Its scores as of the last call that touched it.
    pub scores: &'f Scores,
}

impl Funnel {
    /// An empty funnel.
    pub fn new(model: ScoringModel, machine: LifecycleStateMachine, config: FunnelConfig) -> Funnel {
        let stages = Stages::of(&machine);
        Funnel {
            model,
            machine,
            config,
            index: HashMap::default(),
            leads: Vec::new(),
            seen: HashSet::default(),
            watermark: None,
            stats: FunnelStats::default(),
            stages,
        }
    }

    /// The scoring model in force.
    pub fn model(&self) -> &ScoringModel {
        &self.model
    }

    /// The lifecycle.
    pub fn machine(&self) -> &LifecycleStateMachine {
        &self.machine
    }

    /// The policies.
    pub fn config(&self) -> &FunnelConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> FunnelStats {
        self.stats
    }

    /// The latest event time applied.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        self.watermark
    }

    /// How many leads.
    pub fn len(&self) -> usize {
        self.leads.len()
    }

    /// True when there are no leads.
    pub fn is_empty(&self) -> bool {
        self.leads.is_empty()
    }

    /// One lead, if known.
    pub fn lead(&self, id: &LeadId) -> Option<LeadRecord<'_>> {
        let i = *self.index.get(id)?;
        self.record(i)
    }

    fn record(&self, i: u32) -> Option<LeadRecord<'_>> {
        let s = self.leads.get(i as usize)?;
        Some(LeadRecord {
            lead: s.lead()?,
            events: &s.events,
            lifecycle: &s.life,
            scores: s.scores(&self.model),
        })
    }

    /// Every lead, in the order they were first seen.
    pub fn leads(&self) -> impl Iterator<Item = LeadRecord<'_>> {
        (0..self.leads.len() as u32).filter_map(|i| self.record(i))
    }

    /// A lead's scores computed afresh at `now`.
    pub fn scores_at(&self, id: &LeadId, now: DateTime<Utc>) -> Option<Scores> {
        let i = *self.index.get(id)?;
        Some(self.leads.get(i as usize)?.scores_at(&self.model, now))
    }

    /// Every SLA overdue at `now`, by lead (leads in first-seen order).
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<(LeadId, SlaBreach)> {
        self.leads
            .iter()
            .flat_map(|s| {
                s.life
                    .overdue(&self.machine, now)
                    .into_iter()
                    .map(|b| (s.life.lead().clone(), b))
            })
            .collect()
    }

    /// Adds a lead, or records a new version of its attributes as of `now`
    /// (fit is recomputed from then on; history before `now` keeps the
    /// attributes it had). A new lead is evaluated at its creation time and
    /// an updated one at `now`; what fires is returned.
    ///
    /// # Errors
    ///
    /// [`CommandError::Transition`] when the new attributes would make a
    /// command on record after `now` illegal (for example the lead would be
    /// disqualified automatically before a sales acceptance); nothing
    /// changes.
    pub fn upsert_lead(&mut self, lead: Lead, now: DateTime<Utc>) -> Result<Vec<Output>, CommandError> {
        let mut outputs = Vec::new();
        let (i, from, backup) = match self.index.get(&lead.id) {
            Some(&i) => {
                let Some(s) = self.leads.get_mut(i as usize) else {
                    return Ok(outputs);
                };
                // Taken before the new version goes in, so a conflict
                // restores exactly the previous state.
                let backup = needs_backup(&s.life, now).then(|| s.clone());
                let pos = s.versions.partition_point(|(t, _)| *t <= now);
                s.versions.insert(pos, (now, lead));
                (i, now, backup)
            }
            // A new lead has no command on record: nothing can conflict.
            None => {
                let from = lead.created_at;
                (self.insert_lead(lead), from, None)
            }
        };
        self.rerun_or_restore(i, from, backup, Some(now), &mut outputs)
            .map_err(|c| CommandError::Transition(c.error))?;
        Ok(outputs)
    }

    fn insert_lead(&mut self, lead: Lead) -> u32 {
        let i = self.leads.len() as u32;
        self.index.insert(lead.id.clone(), i);
        self.leads.push(LeadState::new(lead, &self.machine));
        self.stats.leads_created += 1;
        i
    }

    /// Ingests one event; see [`ingest_batch`](Self::ingest_batch).
    pub fn ingest(&mut self, event: Event, now: DateTime<Utc>) -> IngestReport {
        self.ingest_batch([event], now)
    }

    /// Ingests events, in any order. Each is checked (not after `now`, within
    /// the allowed lateness, lead known or created per policy, id not seen
    /// before, attribute changes valid), applied, and every touched lead's
    /// timeline is re-evaluated from its earliest new event. Refused events
    /// are listed in the report with why; nothing of them is applied.
    pub fn ingest_batch(
        &mut self,
        events: impl IntoIterator<Item = Event>,
        now: DateTime<Utc>,
    ) -> IngestReport {
        let mut report = IngestReport::default();
        let mut pending: IndexMap<u32, Vec<Event>, FxBuild> = IndexMap::default();
        for event in events {
            match self.admit(&event, now, &pending) {
                Ok(Some(i)) => pending.entry(i).or_default().push(event),
                Ok(None) => report.duplicates += 1,
                Err(error) => report.rejected.push(Rejected {
                    event: event.id.clone(),
                    lead: event.lead.clone(),
                    error,
                }),
            }
        }
        for (i, events) in pending {
            let applied = report.applied;
            self.apply_lead_events(i, events, &mut report);
            if report.applied > applied {
                self.report_crossings(i, now, &mut report);
            }
        }
        self.stats.duplicates += report.duplicates as u64;
        self.stats.events_rejected += report.rejected.len() as u64;
        report
    }

    /// Checks an event and reserves its id: `Ok(Some(lead index))` to apply,
    /// `Ok(None)` for a duplicate.
    fn admit(
        &mut self,
        event: &Event,
        now: DateTime<Utc>,
        pending: &IndexMap<u32, Vec<Event>, FxBuild>,
    ) -> Result<Option<u32>, IngestError> {
        if event.at > now {
            return Err(IngestError::FromTheFuture {
                event: event.id.clone(),
                at: event.at,
                now,
            });
        }
        if let Some(w) = self.watermark {
            if self.config.too_late(event.at, w) {
                return Err(IngestError::TooLate {
                    event: event.id.clone(),
                    at: event.at,
                    watermark: w,
                    allowed: self.config.allowed_lateness,
                });
            }
        }
        let i = match self.index.get(&event.lead) {
            Some(&i) => i,
            None => match self.config.unknown_leads {
                UnknownLeads::Reject => {
                    return Err(IngestError::UnknownLead {
                        lead: event.lead.clone(),
                    });
                }
                _ => self.insert_lead(auto_created(event)?),
            },
        };
        let fp = hash::fingerprint(event.id.as_str());
        if self.seen.contains(&(i, fp)) && self.holds(i, &event.id, pending) {
            return Ok(None);
        }
        if let EventKind::AttributeChange { key, value } = &event.shape.kind {
            let lead = self.leads.get(i as usize).and_then(|s| s.lead_at(event.at));
            if let Some(lead) = lead {
                lead.into_owned()
                    .set_attribute(key, value.clone())
                    .map_err(|e| IngestError::bad_attribute(&event.id, &e))?;
            }
        }
        self.seen.insert((i, fp));
        Ok(Some(i))
    }

    /// True when lead `i` holds an event with this id, applied or pending.
    fn holds(&self, i: u32, id: &EventId, pending: &IndexMap<u32, Vec<Event>, FxBuild>) -> bool {
        let applied = self
            .leads
            .get(i as usize)
            .is_some_and(|s| s.events.iter().any(|e| e.id == *id));
        applied || pending.get(&i).is_some_and(|p| p.iter().any(|e| e.id == *id))
    }

    /// Forgets an id reserved by [`admit`](Self::admit) and then refused,
    /// unless another event of the lead shares its fingerprint.
    fn release(&mut self, i: u32, id: &EventId) {
        let fp = hash::fingerprint(id.as_str());
        let shared = self.leads.get(i as usize).is_some_and(|s| {
            s.events
                .iter()
                .any(|e| e.id != *id && hash::fingerprint(e.id.as_str()) == fp)
        });
        if !shared {
            self.seen.remove(&(i, fp));
        }
    }

    /// Applies one lead's admitted events together; on a conflict with a
    /// command on record, falls back to one event at a time and refuses the
    /// conflicting ones.
    fn apply_lead_events(&mut self, i: u32, events: Vec<Event>, report: &mut IngestReport) {
        let Some(from) = events.iter().map(|e| e.at).min() else {
            return;
        };
        let n = events.len();
        let risky = self
            .leads
            .get(i as usize)
            .is_some_and(|s| needs_backup(&s.life, from));
        if !risky {
            // Nothing on record can conflict: no copy needed.
            if self.try_apply(i, events, from, &mut report.outputs).is_ok() {
                report.applied += n;
            }
            return;
        }
        if self
            .try_apply(i, events.clone(), from, &mut report.outputs)
            .is_ok()
        {
            report.applied += n;
            return;
        }
        for event in events {
            let (id, lead, at) = (event.id.clone(), event.lead.clone(), event.at);
            match self.try_apply(i, vec![event], at, &mut report.outputs) {
                Ok(()) => report.applied += 1,
                Err(c) => {
                    self.release(i, &id);
                    report.rejected.push(Rejected {
                        event: id.clone(),
                        lead,
                        error: IngestError::ConflictsWithCommand {
                            event: id,
                            command: c.transition.kind().to_string(),
                            command_at: c.at,
                            message: c.error.to_string(),
                        },
                    });
                }
            }
        }
    }

    fn try_apply(
        &mut self,
        i: u32,
        events: Vec<Event>,
        from: DateTime<Utc>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), Box<timeline::Conflict>> {
        let Some(state) = self.leads.get_mut(i as usize) else {
            return Ok(());
        };
        let backup = needs_backup(&state.life, from).then(|| state.clone());
        for event in &events {
            if let EventKind::SalesTouch { by } | EventKind::MeetingHeld { by } = &event.shape.kind {
                state.life.record_follow_up(event.at, by.clone());
            }
        }
        for event in events {
            self.watermark = Some(self.watermark.map_or(event.at, |w| w.max(event.at)));
            state.insert(event, &self.model);
            self.stats.events_applied += 1;
        }
        self.rerun_or_restore(i, from, backup, None, outputs)
    }

    /// Re-evaluates lead `i` from `from` (marking its scores due at
    /// `touched`, if given); on a conflict restores `backup`, taken before
    /// the change when a conflict was possible.
    fn rerun_or_restore(
        &mut self,
        i: u32,
        from: DateTime<Utc>,
        backup: Option<LeadState>,
        touched: Option<DateTime<Utc>>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), Box<timeline::Conflict>> {
        let Some(state) = self.leads.get_mut(i as usize) else {
            return Ok(());
        };
        let engine = Engine::new(&self.model, &self.machine, self.stages);
        match state.rerun(from, None, engine) {
            Ok(diff) => {
                if let Some(now) = touched {
                    state.scores = LazyScores::due(now);
                }
                self.stats.rerun(diff, outputs);
                Ok(())
            }
            Err(conflict) => {
                if let Some(b) = backup {
                    self.stats.events_applied -= (state.events.len() - b.events.len()) as u64;
                    *state = b;
                }
                Err(conflict)
            }
        }
    }

    /// Rescores a touched lead at `now` and reports threshold crossings.
    fn report_crossings(&mut self, i: u32, now: DateTime<Utc>, report: &mut IngestReport) {
        let Some(state) = self.leads.get_mut(i as usize) else {
            return;
        };
        if self.config.thresholds.is_empty() {
            state.scores = LazyScores::due(now);
            return;
        }
        let after = state.scores_at(&self.model, now);
        let before = state.scores(&self.model);
        for t in &self.config.thresholds {
            let (b, a) = (before.get(t.dimension), after.get(t.dimension));
            if (b >= t.at_least) != (a >= t.at_least) {
                report.outputs.push(Output::ScoreCrossed {
                    lead: state.life.lead().clone(),
                    threshold: t.name.clone(),
                    dimension: t.dimension,
                    before: b,
                    after: a,
                    upward: a >= t.at_least,
                    at: now,
                });
            }
        }
        state.scores = LazyScores::ready(after);
    }

    /// Applies a command from the host (sales accepts, rejects, qualifies,
    /// wins...) at time `at`, on the lead's timeline: automatic transitions
    /// after `at` are re-evaluated. Returns what changed.
    ///
    /// # Errors
    ///
    /// [`CommandError`] when the lead is unknown or the lifecycle refuses the
    /// transition (illegal edge, unmet guard, or a later command on record
    /// would become illegal); nothing changes.
    pub fn command(
        &mut self,
        lead: &LeadId,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> Result<Vec<Output>, CommandError> {
        let i = *self
            .index
            .get(lead)
            .ok_or_else(|| CommandError::UnknownLead { lead: lead.clone() })?;
        let Some(state) = self.leads.get_mut(i as usize) else {
            return Err(CommandError::UnknownLead { lead: lead.clone() });
        };
        let backup = state.clone();
        let engine = Engine::new(&self.model, &self.machine, self.stages);
        match state.rerun(at, Some((transition, at)), engine) {
            Ok(diff) => {
                let mut outputs = Vec::new();
                self.stats.rerun(diff, &mut outputs);
                Ok(outputs)
            }
            Err(c) => {
                *state = backup;
                Err(CommandError::Transition(c.error))
            }
        }
    }

    /// Records a sales follow-up (for follow-up SLAs and speed). `SalesTouch`
    /// and `MeetingHeld` events record one automatically.
    ///
    /// # Errors
    ///
    /// [`CommandError::UnknownLead`].
    pub fn record_follow_up(
        &mut self,
        lead: &LeadId,
        at: DateTime<Utc>,
        by: Option<OwnerId>,
    ) -> Result<(), CommandError> {
        let state = self
            .index
            .get(lead)
            .and_then(|i| self.leads.get_mut(*i as usize))
            .ok_or_else(|| CommandError::UnknownLead { lead: lead.clone() })?;
        state.life.record_follow_up(at, by);
        Ok(())
    }

    /// Replaces the scoring model and rescores every lead at `now`, returning
    /// which leads newly qualify and which no longer would (an automatic edge
    /// into MQL holding at `now`, from any stage, under each model). With
    /// `fire` the automatic edges are then evaluated at `now` under the new
    /// model and what fires is returned; without it no transition happens.
    /// History is not rewritten, but later re-evaluations (late events,
    /// commands in the past) use the new model.
    pub fn swap_model(&mut self, model: ScoringModel, now: DateTime<Utc>, fire: bool) -> ModelChange {
        let old = std::mem::replace(&mut self.model, model);
        let mut change = ModelChange::between(&old, &self.model);
        for state in &mut self.leads {
            let (before, after) = state.rescore(&old, &self.model, now);
            let Some(lead) = state.lead_at(now) else {
                continue;
            };
            let qualifies = |scores: &Scores| {
                let view = LeadView::new(&lead)
                    .with_events(&state.events)
                    .with_scores(scores);
                qualifies(&self.machine, &view, now)
            };
            match (qualifies(&before), qualifies(&after)) {
                (false, true) => change.newly_qualified.push(lead.id.clone()),
                (true, false) => change.no_longer_qualified.push(lead.id.clone()),
                _ => {}
            }
            if fire {
                let fired = state.advance_now(&self.machine, &after, now);
                self.stats.fired(fired.into_iter(), &mut change.outputs);
            }
            state.scores = LazyScores::ready(after);
            change.rescored += 1;
        }
        change
    }
}

/// True when an automatic edge into MQL holds for the view at `now`.
fn qualifies(machine: &LifecycleStateMachine, view: &LeadView<'_>, now: DateTime<Utc>) -> bool {
    machine
        .automatic_edges()
        .any(|(e, criterion)| e.to() == Stage::Mql && criterion.outcome(view, now) == Outcome::Met)
}

/// A backup is needed only when re-evaluating from `from` re-applies a
/// command on record, the one thing that can fail. The history is in time
/// order: only its tail from `from` on is read.
pub(crate) fn needs_backup(life: &LeadLifecycle, from: DateTime<Utc>) -> bool {
    life.history()
        .iter()
        .rev()
        .take_while(|r| r.at >= from)
        .any(|r| r.trigger == crate::lifecycle::TriggerKind::Command)
}

/// The lead an event of an unknown lead creates under
/// [`UnknownLeads::AutoCreate`]: its id, created at the event's time. An
/// attribute change the new lead could not take is refused.
pub(crate) fn auto_created(event: &Event) -> Result<Lead, IngestError> {
    if let EventKind::AttributeChange { key, value } = &event.shape.kind {
        Lead::new(event.lead.clone(), event.at)
            .set_attribute(key, value.clone())
            .map_err(|e| IngestError::bad_attribute(&event.id, &e))?;
    }
    Ok(Lead::new(event.lead.clone(), event.at))
}
