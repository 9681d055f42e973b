//! The engine itself: what it holds, how it is built, and what it reads
//! back (a lead, its key, its scores at a time, the overdue SLAs, its
//! memory).

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::config::{EngineConfig, History};
use super::error::{CommandError, EngineError, IngestError};
use super::keys::{EventKey, KeyedEvent, LeadKey, ShapeKey};
use super::lead::Cold;
use super::log::Log;
use super::plan::{self, Plan};
use super::recent::Recent;
use super::shapes::{ShapeError, Shapes};
use super::stats::EngineStats;
use crate::event::{Event, EventShape};
use crate::hash::{self, FxBuild};
use crate::id::LeadId;
use crate::lead::Lead;
use crate::lifecycle::{LeadLifecycle, LifecycleStateMachine, SlaBreach};
use crate::points::Points;
use crate::scores::Scores;
use crate::scoring::ScoringModel;

/// Many leads, one scoring model, one lifecycle: see the [module
/// docs](crate::engine).
#[derive(Debug, Clone)]
pub struct Engine {
    pub(super) model: ScoringModel,
    pub(super) machine: LifecycleStateMachine,
    pub(super) config: EngineConfig,
    pub(super) plan: Plan,
    pub(super) shapes: Shapes,
    pub(super) index: HashMap<LeadId, u32, FxBuild>,
    /// Every lead's line, `plan.width` words each.
    pub(super) lines: Vec<u64>,
    pub(super) cold: Vec<Cold>,
    pub(super) recent: Recent,
    pub(super) log: Option<Log>,
    pub(super) watermark: Option<DateTime<Utc>>,
    /// The latest `now` an ingest call passed.
    pub(super) now: Option<DateTime<Utc>>,
    pub(super) stats: EngineStats,
    /// Per lead and threshold: the score at the lead's last touch.
    pub(super) crossing: Vec<Points>,
    /// A fingerprint of the model, lifecycle and config, which snapshots
    /// carry: worked out when one of them changes, not per snapshot.
    pub(super) setup: u64,
}

/// Builds an [`Engine`] from a model, a lifecycle and (optionally) a
/// config.
///
/// ```
/// use leadflow::engine::{EngineConfig, History};
/// use leadflow::Engine;
/// use leadflow::synthetic::{lifecycle, scoring_model};
///
/// let engine = Engine::builder(scoring_model()?, lifecycle()?)
///     .config(EngineConfig::default().history(History::Off))
///     .build()?;
/// assert!(engine.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct EngineBuilder {
    model: ScoringModel,
    machine: LifecycleStateMachine,
    config: EngineConfig,
}

impl EngineBuilder {
    /// Sets the config (default: [`EngineConfig::default`]).
    pub fn config(mut self, config: EngineConfig) -> EngineBuilder {
        self.config = config;
        self
    }

    /// The empty engine.
    ///
    /// # Errors
    ///
    /// As [`Engine::new`].
    pub fn build(self) -> Result<Engine, EngineError> {
        Engine::new(self.model, self.machine, self.config)
    }
}

/// A lead, named by its id or its key: what the engine's lead methods take.
pub trait LeadRef: sealed::Sealed {
    /// The lead's index in `engine`, if it holds the lead.
    #[doc(hidden)]
    fn index_in(&self, engine: &Engine) -> Option<usize>;
    /// The error for a lead the engine does not hold.
    #[doc(hidden)]
    fn unknown(&self) -> CommandError;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::LeadKey {}
    impl Sealed for crate::id::LeadId {}
    impl Sealed for &crate::id::LeadId {}
}

impl LeadRef for LeadKey {
    fn index_in(&self, engine: &Engine) -> Option<usize> {
        (self.index() < engine.cold.len()).then_some(self.index())
    }

    fn unknown(&self) -> CommandError {
        CommandError::UnknownKey { key: self.index() }
    }
}

impl LeadRef for LeadId {
    fn index_in(&self, engine: &Engine) -> Option<usize> {
        engine.index.get(self).map(|i| *i as usize)
    }

    fn unknown(&self) -> CommandError {
        CommandError::UnknownLead { lead: self.clone() }
    }
}

impl LeadRef for &LeadId {
    fn index_in(&self, engine: &Engine) -> Option<usize> {
        (*self).index_in(engine)
    }

    fn unknown(&self) -> CommandError {
        (*self).unknown()
    }
}

/// A read-only view of one lead in an engine.
#[derive(Debug, Clone)]
pub struct LeadRecord<'e> {
    /// Its key.
    pub key: LeadKey,
    /// Its current attributes (the latest upsert, with the attribute
    /// changes of its events).
    pub lead: Cow<'e, Lead>,
    /// Its lifecycle: stage and history.
    pub lifecycle: &'e LeadLifecycle,
}

/// The shard (in `0..shards`) a lead belongs to, by a stable hash of its
/// id: the same on every machine and version. `shards` of 0 counts as 1.
///
/// ```
/// use leadflow::LeadId;
/// use leadflow::engine::shard_for;
/// let id = LeadId::new("lead-42")?;
/// assert_eq!(shard_for(&id, 8), shard_for(&id, 8));
/// assert!(shard_for(&id, 8) < 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shard_for(lead: &LeadId, shards: usize) -> usize {
    (hash::fingerprint(lead.as_str()) % shards.max(1) as u64) as usize
}

/// Where an engine's memory goes, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUse {
    /// The leads' lines.
    pub lines: usize,
    /// The ring of recent events.
    pub recent: usize,
    /// The index from lead id to key (table only, not the ids).
    pub index: usize,
    /// The leads' lifecycles (without their histories' records).
    pub lifecycles: usize,
    /// The threshold scores.
    pub thresholds: usize,
    /// The history log.
    pub history: usize,
}

impl MemoryUse {
    /// Live state: everything but the history log (and attributes, not
    /// counted).
    pub fn live(&self) -> usize {
        self.lines + self.recent + self.index + self.lifecycles + self.thresholds
    }
}

impl Engine {
    /// Starts building an engine.
    pub fn builder(model: ScoringModel, machine: LifecycleStateMachine) -> EngineBuilder {
        EngineBuilder {
            model,
            machine,
            config: EngineConfig::default(),
        }
    }

    /// An empty engine.
    ///
    /// # Errors
    ///
    /// [`EngineError::LatenessTooLong`] when the allowed lateness reaches
    /// so many of the model's `once_per` periods or decay eras back that a
    /// lead's line would take more than 8 KiB for it.
    pub fn new(
        model: ScoringModel,
        machine: LifecycleStateMachine,
        config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        let plan = Plan::new(&model, &machine, config.allowed_lateness)?;
        let log = (config.history == History::Keep).then(Log::default);
        let recent = Recent::new(config.lateness_nanos());
        let setup = super::snapshot::setup(&model, &machine, &config);
        Ok(Engine {
            model,
            machine,
            config,
            plan,
            shapes: Shapes::default(),
            index: HashMap::default(),
            lines: Vec::new(),
            cold: Vec::new(),
            recent,
            log,
            watermark: None,
            now: None,
            stats: EngineStats::default(),
            crossing: Vec::new(),
            setup,
        })
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
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> EngineStats {
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

    /// The key of a lead.
    pub fn key(&self, id: &LeadId) -> Option<LeadKey> {
        self.index.get(id).map(|i| LeadKey(*i))
    }

    /// One lead.
    pub fn lead(&self, lead: impl LeadRef) -> Option<LeadRecord<'_>> {
        let i = lead.index_in(self)?;
        self.record(i)
    }

    fn record(&self, i: usize) -> Option<LeadRecord<'_>> {
        let cold = self.cold.get(i)?;
        Some(LeadRecord {
            key: LeadKey(i as u32),
            lead: cold.current()?,
            lifecycle: &cold.life,
        })
    }

    /// Every lead, in the order they were first seen.
    pub fn leads(&self) -> impl Iterator<Item = LeadRecord<'_>> {
        (0..self.cold.len()).filter_map(|i| self.record(i))
    }

    /// The key of an event shape, interned on first sight. A host that
    /// keeps keys per shape on its side skips this call (it hashes the
    /// shape) and ingests [`KeyedEvent`]s.
    ///
    /// # Errors
    ///
    /// [`IngestError::TooManyRules`] when the shape matches more than 64
    /// rules; [`IngestError::Full`] past 2³² shapes (normalize payloads
    /// such as page paths before ingesting).
    pub fn shape(&mut self, shape: &EventShape) -> Result<ShapeKey, IngestError> {
        self.shapes
            .intern(shape, &self.model, &self.plan.signals)
            .map_err(|e| match e {
                ShapeError::TooManyRules(rules) => IngestError::TooManyRules { rules },
                ShapeError::Full => IngestError::Full { what: "shape".into() },
            })
    }

    /// `event` as a [`KeyedEvent`] for this engine: its lead's key, its
    /// id's [`EventKey`] and its shape's key (interned on first sight).
    ///
    /// # Errors
    ///
    /// [`IngestError::UnknownLead`] when the lead is not known (upsert it
    /// first), and those of [`shape`](Self::shape).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::engine::EngineConfig;
    /// use leadflow::synthetic::{lifecycle, scoring_model};
    /// use leadflow::{Engine, Event, EventId, EventKind, Lead, LeadId};
    ///
    /// let mut engine = Engine::new(scoring_model()?, lifecycle()?, EngineConfig::default())?;
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// engine.upsert_lead(Lead::new(LeadId::new("l1")?, t0), t0)?;
    /// let event = Event::new(EventId::new("e1")?, LeadId::new("l1")?, t0, EventKind::DemoRequest);
    /// let keyed = engine.keyed(&event)?;
    /// assert_eq!(engine.ingest_keyed(&[keyed], t0).applied, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keyed(&mut self, event: &Event) -> Result<KeyedEvent, IngestError> {
        let lead = self.key(&event.lead).ok_or_else(|| IngestError::UnknownLead {
            lead: event.lead.clone(),
        })?;
        Ok(KeyedEvent {
            lead,
            key: EventKey::of(&event.id),
            at: event.at,
            shape: self.shape(&event.shape)?,
        })
    }

    /// A lead's scores at `now`, from its line and recent events: at or
    /// after the lead's latest event, or as far back as the allowed
    /// lateness; earlier, from the history.
    ///
    /// # Errors
    ///
    /// [`EngineError::UnknownLead`], or [`EngineError::NoHistory`] for a
    /// time before what the line can answer with the history off.
    pub fn scores_at(&self, lead: impl LeadRef, now: DateTime<Utc>) -> Result<Scores, EngineError> {
        let i = self.require(&lead)?;
        self.scores_of(i, now)
    }

    /// Every SLA overdue at `now`, by lead (leads in key order). Reads only
    /// the leads whose lines say something is due by `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<(LeadId, SlaBreach)> {
        let due = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
        let mut out = Vec::new();
        for (i, cold) in self.cold.iter().enumerate() {
            if self.line(i).get(plan::DUE).is_some_and(|d| (*d as i64) <= due) {
                out.extend(
                    cold.life
                        .overdue(&self.machine, now)
                        .into_iter()
                        .map(|b| (cold.life.lead().clone(), b)),
                );
            }
        }
        out
    }

    /// Where the engine's memory goes.
    pub fn memory(&self) -> MemoryUse {
        MemoryUse {
            lines: self.lines.capacity() * 8,
            recent: self.recent.bytes(),
            index: self.index.capacity() * (std::mem::size_of::<(LeadId, u32)>() + 1),
            lifecycles: self.cold.capacity() * std::mem::size_of::<LeadLifecycle>(),
            thresholds: self.crossing.capacity() * std::mem::size_of::<Points>(),
            history: self.log.as_ref().map_or(0, Log::bytes),
        }
    }

    /// The index of a lead, or why not.
    pub(super) fn require(&self, lead: &impl LeadRef) -> Result<usize, EngineError> {
        lead.index_in(self)
            .ok_or_else(|| EngineError::UnknownLead(lead.unknown()))
    }
}
