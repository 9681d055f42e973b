//! The engine: many leads, one scoring model and one lifecycle, fed with
//! events and commands.
//!
//! An [`Engine`] (at the crate root, `leadflow::Engine`; this module holds
//! its configuration, outputs and errors) keeps every lead's scores, stage
//! and recent events. The host feeds it events (as [`Event`](crate::Event)
//! values, or as [`KeyedEvent`]s when it keeps its own keys) and commands
//! (sales accepts, rejects, wins...) with the current time, and acts on the
//! [`Output`]s it returns: transitions, retractions and score crossings.
//! Nothing is printed, sent or stored by the library.
//!
//! # Guarantees
//!
//! - **Exact**: a lead's scores, stage and transition records are what the
//!   pure [`ScoringModel::score`](crate::ScoringModel::score) and
//!   the [`LifecycleStateMachine`](crate::LifecycleStateMachine)
//!   give over its events in time order, bit for bit, whatever order and
//!   batching the events arrived in, as long as each arrived within the
//!   [allowed lateness](EngineConfig::allowed_lateness) of the latest
//!   event. Older events are refused ([`IngestError::TooLate`]).
//! - **Idempotent**: an event with the id (key) and time of one the lead
//!   already has is a duplicate: ignored and counted.
//! - **Timeline**: automatic transitions are evaluated at each of the lead's
//!   event and upsert times; commands are placed on the same timeline. An
//!   event, upsert or command in the past re-evaluates the lead from its
//!   time: transitions that no longer hold are reported as
//!   [`Output::Retracted`], new ones as [`Output::Transition`]. A late event
//!   that would make a later command illegal is refused
//!   ([`IngestError::ConflictsWithCommand`]).
//! - **Deterministic and partitionable**: the same calls give the same
//!   results; a [`Snapshot`] restores an engine that continues exactly as
//!   the original; leads are independent, [`shard_for`] assigns a lead to a
//!   shard by a stable hash and [`EngineStats`] merge.
//!
//! # What it keeps
//!
//! Per lead, one line of machine words: its latest times, stage, the next
//! time something is due for it (SLAs), its scoring state (running sums per
//! group, exact decay accumulators, limit state) and the counts of the
//! events the lifecycle's conditions count. Its recent events (time, id key,
//! shape key) are kept only while a late event or a window can reach them,
//! in one ring shared by all leads; duplicates are checked against them.
//! Every accepted event is also appended to a history log (16 bytes,
//! [`History::Keep`]), read only to rescore after a model change, to explain
//! a score, and by snapshots. Distinct event shapes are kept once.
//!
//! # Example
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::criteria::Condition;
//! use leadflow::engine::{EngineConfig, Output};
//! use leadflow::lifecycle::LifecycleDefinition;
//! use leadflow::{
//!     AssetType, Dimension, Engine, Event, EventId, EventKind, EventMatcher, Lead, LeadId,
//!     ScoringModel, Stage,
//! };
//!
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//! let machine = LifecycleDefinition::standard_b2b(mql).build()?;
//! let mut engine = Engine::new(ScoringModel::b2b_default()?, machine, EngineConfig::default())?;
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.person.set_email("ada@acme.io");
//! engine.upsert_lead(lead, t0)?;
//!
//! let download = Event::new(EventId::new("e1")?, LeadId::new("lead-1")?, t0 + Duration::hours(1),
//!     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
//! let report = engine.ingest([download.clone()], t0 + Duration::hours(2));
//! assert!(report.outputs.iter().any(|o| matches!(o, Output::Transition { record } if record.to == Stage::Mql)));
//!
//! // The same event again is a duplicate: nothing changes.
//! let again = engine.ingest([download], t0 + Duration::hours(3));
//! assert_eq!((again.applied, again.duplicates), (0, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod config;
mod error;
mod gate;
mod history;
mod keys;
mod late;
mod lead;
mod line;
mod log;
mod output;
mod plan;
mod recent;
mod replay;
mod shapes;
mod snapshot;
mod stats;
pub(crate) mod store;
mod swap;
mod view;

pub use config::{EngineConfig, History, Threshold, UnknownLeads};
pub use error::{CommandError, EngineError, IngestError, Rejected};
pub use keys::{EventKey, KeyedEvent, LeadKey, ShapeKey};
pub use output::{IngestReport, ModelChange, Output};
pub use snapshot::{SNAPSHOT_FORMAT, Snapshot};
pub use stats::EngineStats;
pub(crate) use store::Engine;
pub use store::{EngineBuilder, LeadRecord, LeadRef, MemoryUse, shard_for};
