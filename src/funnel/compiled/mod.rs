//! The compiled funnel: [`CompiledFunnel`] and its keys.

mod actions;
mod gate;
mod ids;
mod ingest;
mod lead;
mod replay;
mod snapshot;
mod swap;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use actions::ActionKey;
pub use snapshot::CompiledSnapshot;

use super::lead_state::Stages;
use super::needs_backup;
use super::{CommandError, FunnelConfig, FunnelError, FunnelStats, Output};
use crate::event::Event;
use crate::hash::{self, FxBuild};
use crate::id::{EventId, LeadId};
use crate::lead::Lead;
use crate::lifecycle::{LeadLifecycle, LifecycleStateMachine, Stage, Transition};
use crate::points::Points;
use crate::scores::Scores;
use crate::scoring::ScoringModel;
use actions::Actions;
use gate::{Bounds, Gates};
use ids::RecentIds;
use lead::{Cold, Ctx, Entry, LeadMut};

/// The dense key of a lead in a [`CompiledFunnel`]: leads are numbered in
/// the order they were first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeadKey(u32);

impl LeadKey {
    /// The lead's number: 0 for the first lead seen, then 1, 2...
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One event, keyed: what [`CompiledFunnel::ingest`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompactEvent {
    /// The lead.
    pub lead: LeadKey,
    /// The event's id, as a number ([`event_key`] of an [`EventId`], or the
    /// host's own numeric id): an id seen before for the lead is a duplicate.
    pub id: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Its shape, from [`CompiledFunnel::action`].
    pub action: ActionKey,
}

/// The numeric key of an event id: a stable 64-bit hash, the same on every
/// machine and version.
///
/// ```
/// use leadflow::EventId;
/// use leadflow::funnel::event_key;
/// let id = EventId::new("evt-1")?;
/// assert_eq!(event_key(&id), event_key(&EventId::new("evt-1")?));
/// assert_ne!(event_key(&id), event_key(&EventId::new("evt-2")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn event_key(id: &EventId) -> u64 {
    hash::fingerprint(id.as_str())
}

/// What the fast path reads first: the lead's stage, the latest time on
/// its timeline (event, upsert or transition) and its event log, together.
#[derive(Debug, Clone)]
struct Lane {
    last: DateTime<Utc>,
    stage: Stage,
    log: Vec<Entry>,
}

/// A read-only view of one lead in a [`CompiledFunnel`].
#[derive(Debug, Clone, Copy)]
pub struct CompiledLead<'f> {
    /// Its key.
    pub key: LeadKey,
    /// The lead's current attributes.
    pub lead: &'f Lead,
    /// Its lifecycle: stage and history.
    pub lifecycle: &'f LeadLifecycle,
    /// How many events it has.
    pub events: usize,
}

/// The [`Funnel`](super::Funnel)'s semantics on compact
/// state, for millions of leads and streams of millions of events.
///
/// A `CompiledFunnel` holds what a [`Funnel`](super::Funnel) holds and
/// answers the same way (the same transitions with the same records, the
/// same retractions, scores, duplicates and refusals: the test suite checks
/// it against the `Funnel` on random streams), but it keeps each event as
/// 16 bytes (its time and the key of its *shape*) instead of the event
/// itself, and addresses leads and shapes by dense keys:
///
/// - [`LeadKey`]: from [`upsert_lead`](CompiledFunnel::upsert_lead) or
///   [`key`](CompiledFunnel::key);
/// - [`ActionKey`]: from [`action`](CompiledFunnel::action), once per
///   distinct event shape (kind with its payload, channel, properties): the
///   rules and criteria an event can match are worked out once per shape;
/// - event ids as `u64` ([`event_key`] hashes an [`EventId`]).
///
/// A [`CompactEvent`] is then four numbers, and ingesting one in time order
/// costs no string operation and no allocation beyond the log's growth: a bounds check of the lead's running
/// upper bounds (see below) decides whether an automatic edge could fire;
/// only then is the lead evaluated exactly, with the same code as the
/// `Funnel`. [`ingest_events`](CompiledFunnel::ingest_events) takes
/// ordinary [`Event`]s and does the keying for you (slower: it hashes the
/// ids and the shape). [`replay`](CompiledFunnel::replay) applies a whole
/// history lead by lead: the fastest way to rebuild state.
///
/// # How it stays exact and fast
///
/// Per lead the funnel keeps a row of running *upper bounds*: of the fit
/// (the largest fit of the lead's attribute versions), of every scoring
/// group (the positive points of every hit, ignoring limits, windows and
/// decay, which only lower scores; and a tighter one, recomputed in one
/// cheap pass over the lead's log when the loose one is not enough and then
/// raised by each new hit's points), capped like the model caps them; and
/// counts of the events that carry each *signal* (an event matcher an
/// automatic criterion reads). Each automatic criterion is compiled into a
/// gate over that row; a shut gate proves the criterion cannot be met, so
/// nothing needs evaluating. Most events of most leads stop there: an
/// in-order event costs an id check, a log append, a few additions to the
/// row and the gate.
///
/// # Differences from the `Funnel`
///
/// - Event ids are `u64` keys: two ids with the same [`event_key`] count as
///   one (the chance for a lead with a million events is about 3 × 10⁻⁸).
/// - Ids are remembered while their events are within the allowed lateness
///   (a redelivered copy, dated like the original, is refused as too late
///   by both funnels after that). An id reused later for an event with a
///   new time is a new event here, a duplicate for the `Funnel`.
/// - Events are applied one at a time, in the order given: an event that
///   conflicts with a command on record is refused alone, and a transition
///   that a later event of the same call retracts is reported, then
///   retracted (the `Funnel` nets a lead's events within one call). What
///   the outputs add up to is the same.
/// - Events are not kept: [`lead`](CompiledFunnel::lead) gives the lead,
///   its lifecycle and how many events it has.
/// - A score threshold's `before` is the score at the lead's previous touch,
///   computed then.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::funnel::{CompactEvent, CompiledFunnel, FunnelConfig, Output, event_key};
/// use leadflow::scoring::ScoringModel;
/// use leadflow::{AssetType, Event, EventId, EventKind, Lead, LeadId, LifecycleDefinition, Stage};
/// use leadflow::criteria::Condition;
/// use leadflow::EventMatcher;
///
/// let mql = Condition::did(EventMatcher::download(AssetType::PricingSheet));
/// let machine = LifecycleDefinition::standard_b2b(mql).build()?;
/// let mut funnel = CompiledFunnel::new(ScoringModel::b2b_default()?, machine, FunnelConfig::default());
///
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
/// lead.person.set_email("ada@acme.io");
/// let (key, _) = funnel.upsert_lead(lead, t0)?;
///
/// // Intern the shape once; then events are four numbers.
/// let download = Event::new(EventId::new("e1")?, LeadId::new("lead-1")?, t0,
///     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
/// let action = funnel.action(&download)?;
/// let event = CompactEvent { lead: key, id: event_key(&download.id), at: t0 + Duration::hours(1), action };
/// let report = funnel.ingest(&[event], t0 + Duration::hours(2));
/// assert!(report.outputs.iter().any(|o| matches!(o, Output::Transition { record } if record.to == Stage::Mql)));
/// assert_eq!(funnel.ingest(&[event], t0 + Duration::hours(3)).duplicates, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompiledFunnel {
    model: ScoringModel,
    machine: LifecycleStateMachine,
    config: FunnelConfig,
    stages: Stages,
    gates: Gates,
    actions: Actions,
    index: HashMap<LeadId, u32, FxBuild>,
    /// Per lead, read for every event: its stage and the latest time on its
    /// timeline, its row of bounds (`gates.layout.width()` numbers, see
    /// [`gate::Layout`]) and its log.
    lanes: Vec<Lane>,
    rows: Vec<i32>,
    /// Per lead, read on the slow paths only.
    cold: Vec<Cold>,
    /// Per lead and threshold: the score at the lead's last touch.
    crossing: Vec<Points>,
    /// (lead, event key) of the events within the allowed lateness.
    seen: RecentIds,
    watermark: Option<DateTime<Utc>>,
    stats: FunnelStats,
}

impl CompiledFunnel {
    /// An empty funnel.
    pub fn new(model: ScoringModel, machine: LifecycleStateMachine, config: FunnelConfig) -> CompiledFunnel {
        let gates = Gates::of(&machine, &model);
        let stages = Stages::of(&machine);
        CompiledFunnel {
            model,
            machine,
            config,
            stages,
            gates,
            actions: Actions::default(),
            index: HashMap::default(),
            lanes: Vec::new(),
            rows: Vec::new(),
            cold: Vec::new(),
            crossing: Vec::new(),
            seen: RecentIds::default(),
            watermark: None,
            stats: FunnelStats::default(),
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
        self.cold.len()
    }

    /// True when there are no leads.
    pub fn is_empty(&self) -> bool {
        self.cold.is_empty()
    }

    /// The key of a known lead.
    pub fn key(&self, id: &LeadId) -> Option<LeadKey> {
        self.index.get(id).map(|i| LeadKey(*i))
    }

    /// One lead.
    pub fn lead(&self, key: LeadKey) -> Option<CompiledLead<'_>> {
        let cold = self.cold.get(key.index())?;
        Some(CompiledLead {
            key,
            lead: &cold.versions.last()?.1,
            lifecycle: &cold.life,
            events: self.lanes.get(key.index()).map_or(0, |l| l.log.len()),
        })
    }

    /// Every lead, in the order they were first seen.
    pub fn leads(&self) -> impl Iterator<Item = CompiledLead<'_>> {
        (0..self.cold.len() as u32).filter_map(|i| self.lead(LeadKey(i)))
    }

    /// A lead's scores at `now`.
    pub fn scores_at(&self, key: LeadKey, now: DateTime<Utc>) -> Option<Scores> {
        let (cold, log) = (self.cold.get(key.index())?, &self.lanes.get(key.index())?.log);
        let lead = cold.lead_at(now)?;
        Some(self.ctx().scores(&lead, log, now))
    }

    /// The key of an event's shape (its kind with the payload, channel and
    /// properties; not its id, lead or time), interned on first sight. Keep
    /// keys per shape on your side to skip this call: it renders and hashes
    /// the shape.
    ///
    /// # Errors
    ///
    /// [`FunnelError::TooManyShapes`] past 2³² distinct shapes: normalize
    /// payloads (such as page paths) before ingesting.
    pub fn action(&mut self, event: &Event) -> Result<ActionKey, FunnelError> {
        self.actions
            .intern(event, &self.model, &self.gates.signals)
            .ok_or(FunnelError::TooManyShapes)
    }

    /// `event` keyed for this funnel: its lead's [`LeadKey`], its id's
    /// [`event_key`] and its shape's [`ActionKey`] (interned on first
    /// sight). `None` when the lead is unknown (upsert it first) or the
    /// funnel holds 2³² shapes already.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::funnel::{CompiledFunnel, FunnelConfig};
    /// use leadflow::synthetic::{lifecycle, scoring_model};
    /// use leadflow::{Event, EventId, EventKind, Lead, LeadId};
    ///
    /// let mut funnel = CompiledFunnel::new(scoring_model()?, lifecycle()?, FunnelConfig::default());
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// funnel.upsert_lead(Lead::new(LeadId::new("l1")?, t0), t0)?;
    /// let event = Event::new(EventId::new("e1")?, LeadId::new("l1")?, t0, EventKind::DemoRequest);
    /// let compact = funnel.compact(&event).expect("the lead is known");
    /// assert_eq!(funnel.ingest(&[compact], t0).applied, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compact(&mut self, event: &Event) -> Option<CompactEvent> {
        Some(CompactEvent {
            lead: self.key(&event.lead)?,
            id: event_key(&event.id),
            at: event.at,
            action: self.action(event).ok()?,
        })
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            model: &self.model,
            machine: &self.machine,
            stages: self.stages,
            actions: &self.actions,
            gates: &self.gates,
        }
    }

    fn bounds(&self, i: usize) -> Bounds<'_> {
        let w = self.gates.layout.width();
        self.rows.get(i * w..(i + 1) * w).unwrap_or(&[])
    }

    /// Splits the funnel into the parts a re-evaluation of lead `i` needs.
    fn parts(&mut self, i: usize) -> Option<(LeadMut<'_>, Ctx<'_>)> {
        let w = self.gates.layout.width();
        let lead = LeadMut {
            cold: self.cold.get_mut(i)?,
            log: &self.lanes.get(i)?.log,
            bounds: self.rows.get(i * w..(i + 1) * w).unwrap_or(&[]),
        };
        let ctx = Ctx {
            model: &self.model,
            machine: &self.machine,
            stages: self.stages,
            actions: &self.actions,
            gates: &self.gates,
        };
        Some((lead, ctx))
    }

    /// Adds a lead, or records a new version of its attributes as of `now`;
    /// see [`Funnel::upsert_lead`](super::Funnel::upsert_lead). Returns the
    /// lead's key and what fired.
    ///
    /// # Errors
    ///
    /// [`CommandError::Transition`] when the new attributes would make a
    /// command on record after `now` illegal; nothing changes.
    pub fn upsert_lead(
        &mut self,
        lead: Lead,
        now: DateTime<Utc>,
    ) -> Result<(LeadKey, Vec<Output>), CommandError> {
        let (i, from, backup) = match self.index.get(&lead.id) {
            Some(&i) => {
                let Some(cold) = self.cold.get_mut(i as usize) else {
                    return Ok((LeadKey(i), Vec::new()));
                };
                let backup = needs_backup(&cold.life, now).then(|| cold.clone());
                let pos = cold.versions.partition_point(|(t, _)| *t <= now);
                cold.versions.insert(pos, (now, lead));
                (i, now, backup)
            }
            None => {
                let from = lead.created_at;
                let i = self
                    .insert_lead(lead)
                    .ok_or(CommandError::Full { max: u32::MAX })?;
                (i, from, None)
            }
        };
        let idx = i as usize;
        self.rebound(idx);
        let mut outputs = Vec::new();
        if let Err(c) = self.rerun(idx, from, None, &mut outputs) {
            if let (Some(b), Some(cold)) = (backup, self.cold.get_mut(idx)) {
                *cold = b;
            }
            self.rebound(idx);
            self.settle(idx, from);
            return Err(CommandError::Transition(c.error));
        }
        self.settle(idx, from);
        self.touch(idx, now, None);
        Ok((LeadKey(i), outputs))
    }

    fn insert_lead(&mut self, lead: Lead) -> Option<u32> {
        let i = u32::try_from(self.cold.len()).ok().filter(|i| *i < u32::MAX)?;
        self.index.insert(lead.id.clone(), i);
        self.lanes.push(Lane {
            last: lead.created_at,
            stage: self.machine.initial_stage(&lead),
            log: Vec::new(),
        });
        self.rows.extend(self.gates.layout.empty());
        self.crossing
            .extend(std::iter::repeat_n(Points::ZERO, self.config.thresholds.len()));
        self.cold.push(Cold {
            life: self.machine.start(&lead),
            versions: vec![(lead.created_at, lead)],
            changes: Vec::new(),
        });
        self.stats.leads_created += 1;
        self.rebound(i as usize);
        Some(i)
    }

    /// Recomputes lead `i`'s bounds and signal counts from its versions and
    /// log.
    fn rebound(&mut self, i: usize) {
        self.rebound_parts(i, true, true);
    }

    /// Recomputes the fit bound of lead `i` (with `fit`) and its group
    /// bounds and signal counts (with `events`).
    fn rebound_parts(&mut self, i: usize, fit: bool, events: bool) {
        if !fit && !events {
            return;
        }
        let (Some(cold), Some(log)) = (self.cold.get(i), self.lanes.get(i).map(|l| &l.log)) else {
            return;
        };
        let layout = &self.gates.layout;
        let w = layout.width();
        let Some(row) = self.rows.get_mut(i * w..(i + 1) * w) else {
            return;
        };
        if fit {
            let bound = if cold.changes.is_empty() {
                cold.versions
                    .iter()
                    .map(|(t, lead)| {
                        self.model
                            .scores_of_hits(lead, std::iter::empty(), *t)
                            .fit
                            .as_milli()
                    })
                    .max()
                    .unwrap_or(0)
            } else {
                // Attribute changes can raise the fit at any time: no bound.
                i64::MAX
            };
            layout.set_fit(row, bound);
        }
        if events {
            // Everything but the fit bound, from the log.
            if let Some((_, rest)) = row.split_first_mut() {
                rest.fill(0);
            }
            for x in log {
                if let Some(a) = self.actions.list.get(x.action as usize) {
                    layout.add(row, &a.bound, a.signals);
                }
            }
            layout.loosen(row);
        }
    }

    /// Evaluates lead `i`'s automatic edges at `t`, counts and reports the
    /// transitions that fire, and settles the lead; false when there is no
    /// lead `i`.
    fn advance(&mut self, i: usize, t: DateTime<Utc>, outputs: &mut Vec<Output>) -> bool {
        let Some((mut lead, ctx)) = self.parts(i) else {
            return false;
        };
        let fired = lead.advance_at(t, &ctx);
        // Counted before the records are copied: `fired` borrows the lead,
        // and with it the whole funnel, until then.
        let n = fired.len() as u64;
        outputs.extend(fired.iter().map(|record| Output::Transition {
            record: record.clone(),
        }));
        self.stats.transitions += n;
        self.settle(i, t);
        true
    }

    /// Mirrors lead `i`'s stage and moves its latest time to at least `t`
    /// and its latest transition.
    fn settle(&mut self, i: usize, t: DateTime<Utc>) {
        let Some(cold) = self.cold.get(i) else { return };
        let latest = cold.life.last_transition_at().map_or(t, |r| r.max(t));
        if let Some(h) = self.lanes.get_mut(i) {
            h.stage = cold.life.stage();
            h.last = h.last.max(latest);
        }
    }

    /// Re-evaluates lead `i` from `from` (with a new command), pushing what
    /// changed to `outputs`.
    fn rerun(
        &mut self,
        i: usize,
        from: DateTime<Utc>,
        command: Option<(Transition, DateTime<Utc>)>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), Box<super::timeline::Conflict>> {
        let Some((mut lead, ctx)) = self.parts(i) else {
            return Ok(());
        };
        let diff = lead.rerun(from, command, &ctx)?;
        self.stats.rerun(diff, outputs);
        Ok(())
    }

    /// Records the scores of lead `i` at `now` for its thresholds, reporting
    /// crossings when `report` is given.
    fn touch(&mut self, i: usize, now: DateTime<Utc>, report: Option<&mut Vec<Output>>) {
        if self.config.thresholds.is_empty() {
            return;
        }
        let Some(key) = u32::try_from(i).ok().map(LeadKey) else {
            return;
        };
        let Some(after) = self.scores_at(key, now) else {
            return;
        };
        let t = self.config.thresholds.len();
        let Some(lead) = self.cold.get(i).map(|c| c.life.lead().clone()) else {
            return;
        };
        let mut out = Vec::new();
        for (k, th) in self.config.thresholds.iter().enumerate() {
            let Some(slot) = self.crossing.get_mut(i * t + k) else {
                continue;
            };
            let (b, a) = (*slot, after.get(th.dimension));
            if (b >= th.at_least) != (a >= th.at_least) {
                out.push(Output::ScoreCrossed {
                    lead: lead.clone(),
                    threshold: th.name.clone(),
                    dimension: th.dimension,
                    before: b,
                    after: a,
                    upward: a >= th.at_least,
                    at: now,
                });
            }
            *slot = a;
        }
        if let Some(report) = report {
            report.extend(out);
        }
    }

    /// Recomputes lead `i`'s tight bounds at `t` (its events all before or
    /// at `t`); true when an automatic edge out of `stage` could still
    /// fire. Most gates opened by points a limit or a cap would absorb shut
    /// again here, for one pass over the lead's hits instead of an exact
    /// evaluation.
    fn tighten(&mut self, i: usize, t: DateTime<Utc>, stage: Stage) -> bool {
        let totals = self.parts(i).map(|(lead, ctx)| ctx.engagement_bound(lead.log, t));
        let w = self.gates.layout.width();
        if let (Some(totals), Some(row)) = (totals, self.rows.get_mut(i * w..(i + 1) * w)) {
            self.gates.layout.tighten(row, &totals);
        }
        self.gates.open(stage, self.bounds(i))
    }

    /// Makes lead `i`'s tight bounds hold from `from` on (they hold from
    /// their last evaluation, and a re-evaluation is about to start at
    /// `from`): the bounds of the hits up to `from`, plus every positive
    /// point after it. For long logs, where that pass would cost more than
    /// it saves, they fall back to the loose bounds.
    fn bound_from(&mut self, i: usize, from: DateTime<Utc>) {
        const SHORT_LOG: usize = 512;
        let w = self.gates.layout.width();
        let totals = self.parts(i).and_then(|(lead, ctx)| {
            (lead.log.len() <= SHORT_LOG).then(|| {
                let mut totals = ctx.engagement_bound(lead.log, from);
                let after = lead.log.partition_point(|x| x.at <= from);
                for x in lead.log.get(after..).unwrap_or(&[]) {
                    for &(g, p) in ctx
                        .actions
                        .list
                        .get(x.action as usize)
                        .map_or(&[][..], |a| &a.bound[..])
                    {
                        if let Some(t) = totals.get_mut(usize::from(g)) {
                            *t += i128::from(p);
                        }
                    }
                }
                totals
            })
        });
        if let Some(row) = self.rows.get_mut(i * w..(i + 1) * w) {
            self.gates.layout.loosen(row);
            if let Some(totals) = totals {
                self.gates.layout.tighten(row, &totals);
            }
        }
    }

    /// Applies a command from the host at time `at`, on the lead's
    /// timeline; see [`Funnel::command`](super::Funnel::command).
    ///
    /// # Errors
    ///
    /// [`CommandError`] when the key is unknown or the lifecycle refuses the
    /// transition; nothing changes.
    pub fn command(
        &mut self,
        lead: LeadKey,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> Result<Vec<Output>, CommandError> {
        let i = lead.index();
        let unknown = || CommandError::UnknownLead {
            lead: LeadId::new(format!("#{}", lead.0)).unwrap_or_else(|_| unreachable!("a valid id")),
        };
        let backup = self.cold.get(i).ok_or_else(unknown)?.clone();
        // The bounds are about to hold from `at` on; a refused command must
        // leave them holding from the lead's last time, as they were.
        let row = self.bounds(i).to_vec();
        self.bound_from(i, at);
        let mut outputs = Vec::new();
        match self.rerun(i, at, Some((transition, at)), &mut outputs) {
            Ok(()) => {
                self.settle(i, at);
                Ok(outputs)
            }
            Err(c) => {
                if let Some(cold) = self.cold.get_mut(i) {
                    *cold = backup;
                }
                let w = self.gates.layout.width();
                if let Some(r) = self.rows.get_mut(i * w..(i + 1) * w) {
                    r.copy_from_slice(&row);
                }
                Err(CommandError::Transition(c.error))
            }
        }
    }
}
