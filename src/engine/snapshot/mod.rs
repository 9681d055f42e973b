//! Snapshots: an engine's whole state as data.

mod tree;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::EngineError;
use super::keys::ShapeKey;
use super::lead::{Change, Cold};
use super::log::Log;
use super::plan::{META, STAGE_BITS};
use super::recent::Entry;
use super::stats::EngineStats;
use super::view::time;
use super::{Engine, EngineConfig};
use crate::event::EventShape;
use crate::hash::StableHasher;
use crate::id::ModelVersion;
use crate::lead::Lead;
use crate::lifecycle::{LeadLifecycle, LifecycleStateMachine};
use crate::points::Points;
use crate::scoring::ScoringModel;

/// The snapshot format this version writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// An engine's whole state as data: every lead's attributes, lifecycle,
/// line and recent events, the shapes, the counters and the history.
/// [`Engine::restore`] rebuilds an engine that continues exactly as the
/// original would have. It serializes to JSON, and to compact binary
/// formats (postcard, bincode) as well.
///
/// A snapshot holds state, not configuration: restore it with the model,
/// lifecycle and config it was taken with (it checks they are the same).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::engine::{EngineConfig, Snapshot};
/// use leadflow::synthetic::{lifecycle, scoring_model};
/// use leadflow::{Engine, Event, EventId, EventKind, Lead, LeadId};
///
/// let mut engine = Engine::new(scoring_model()?, lifecycle()?, EngineConfig::default())?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// engine.upsert_lead(Lead::new(LeadId::new("l1")?, t0), t0)?;
/// engine.ingest([Event::new(EventId::new("e1")?, LeadId::new("l1")?, t0, EventKind::DemoRequest)], t0);
///
/// let json = serde_json::to_string(&engine.snapshot())?;
/// let snapshot: Snapshot = serde_json::from_str(&json)?;
/// let restored = Engine::restore(snapshot, scoring_model()?, lifecycle()?, EngineConfig::default())?;
/// let id = LeadId::new("l1")?;
/// assert_eq!(restored.scores_at(&id, t0)?, engine.scores_at(&id, t0)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    format: u32,
    /// A fingerprint of the model, lifecycle and config.
    setup: u64,
    model_version: ModelVersion,
    watermark: Option<DateTime<Utc>>,
    /// The latest `now` an ingest call passed.
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    stats: EngineStats,
    shapes: Vec<EventShape>,
    leads: Vec<LeadState>,
    history: Option<Columns>,
    /// Per lead and threshold, milli-points.
    crossing: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeadState {
    #[serde(with = "tree")]
    versions: Vec<(DateTime<Utc>, Lead)>,
    /// Attribute changes: (time ns, event key, shape key).
    changes: Vec<(i64, u64, u32)>,
    #[serde(with = "tree")]
    life: LeadLifecycle,
    line: Vec<u64>,
    /// Recent entries, oldest arrival first: (time ns, key, shape, counted).
    recent: Vec<(i64, u64, u32, u64)>,
    /// Created by its events and never upserted.
    by_events: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    lead: Vec<u32>,
    at: Vec<i64>,
    shape: Vec<u32>,
}

impl Snapshot {
    /// How many leads it holds.
    pub fn len(&self) -> usize {
        self.leads.len()
    }

    /// True when it holds no lead.
    pub fn is_empty(&self) -> bool {
        self.leads.is_empty()
    }

    /// The model version it was taken under.
    pub fn model_version(&self) -> &ModelVersion {
        &self.model_version
    }
}

/// A fingerprint of an engine's setup, to refuse a snapshot taken under
/// another one.
pub(super) fn setup(model: &ScoringModel, machine: &LifecycleStateMachine, config: &EngineConfig) -> u64 {
    let mut h = StableHasher::default();
    h.text(&format!("{:?}", model.to_builder()));
    h.text(&format!("{:?}", machine.definition()));
    h.text(&format!("{config:?}"));
    h.finish()
}

fn damaged(problem: impl Into<String>) -> EngineError {
    EngineError::DamagedSnapshot {
        problem: problem.into(),
    }
}

impl Engine {
    /// The engine's whole state; see [`Snapshot`].
    pub fn snapshot(&self) -> Snapshot {
        let leads = self
            .cold
            .iter()
            .enumerate()
            .map(|(i, cold)| {
                let line = self.line(i);
                let meta = line.get(META).copied().unwrap_or(0);
                let recent: Vec<(i64, u64, u32, u64)> = self
                    .recent
                    .all(meta, &|e| self.order(e))
                    .into_iter()
                    .map(|e| (e.at, e.key, e.shape, e.counted))
                    .collect();
                // Where the entries are means nothing outside this engine.
                let mut line = line.to_vec();
                if let Some(m) = line.get_mut(META) {
                    *m &= STAGE_BITS;
                }
                LeadState {
                    versions: cold.versions.clone(),
                    changes: cold
                        .changes
                        .iter()
                        .map(|c| (c.order.0, c.order.2, c.shape))
                        .collect(),
                    life: cold.life.clone(),
                    by_events: cold.by_events,
                    line,
                    recent,
                }
            })
            .collect();
        Snapshot {
            format: SNAPSHOT_FORMAT,
            setup: self.setup,
            model_version: self.model.version().clone(),
            watermark: self.watermark,
            now: self.now,
            stats: self.stats,
            shapes: self.shapes.iter().map(|s| s.shape.clone()).collect(),
            leads,
            history: self.log.as_ref().map(|log| {
                let (lead, at, shape) = log.columns();
                Columns {
                    lead: lead.to_vec(),
                    at: at.to_vec(),
                    shape: shape.to_vec(),
                }
            }),
            crossing: self.crossing.iter().map(|p| p.as_milli()).collect(),
        }
    }

    /// Rebuilds an engine from a snapshot taken with the same model,
    /// lifecycle and config.
    ///
    /// # Errors
    ///
    /// [`EngineError::SnapshotVersion`] for another format,
    /// [`EngineError::SnapshotMismatch`] when the model, lifecycle or config
    /// differ from the snapshot's, [`EngineError::DamagedSnapshot`] when it
    /// is inconsistent (edited or damaged).
    pub fn restore(
        snapshot: Snapshot,
        model: ScoringModel,
        machine: LifecycleStateMachine,
        config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(EngineError::SnapshotVersion {
                found: snapshot.format,
                supported: SNAPSHOT_FORMAT,
            });
        }
        let mut engine = Engine::new(model, machine, config)?;
        if snapshot.setup != engine.setup {
            return Err(EngineError::SnapshotMismatch {
                snapshot: snapshot.model_version,
                engine: engine.model.version().clone(),
            });
        }
        for (i, shape) in snapshot.shapes.iter().enumerate() {
            let key = engine
                .shape(shape)
                .map_err(|e| damaged(format!("shape {i}: {e}")))?;
            if key.index() != i {
                return Err(damaged(format!("shape {i} repeats shape {}", key.index())));
            }
        }
        engine.watermark = snapshot.watermark;
        engine.now = snapshot.now;
        engine.stats = snapshot.stats;
        let keep_from = engine.keep_from();
        let thresholds = engine.config.thresholds.len();
        if snapshot.crossing.len() != snapshot.leads.len() * thresholds {
            return Err(damaged("threshold scores do not match the leads"));
        }
        for (i, state) in snapshot.leads.into_iter().enumerate() {
            let Some((_, first)) = state.versions.first() else {
                return Err(damaged(format!("lead {i} has no attributes")));
            };
            if state.life.lead() != &first.id || state.versions.iter().any(|(_, l)| l.id != first.id) {
                return Err(damaged(format!(
                    "lead {} holds the lifecycle or attributes of lead {}",
                    first.id,
                    state.life.lead()
                )));
            }
            if engine.index.insert(first.id.clone(), i as u32).is_some() {
                return Err(damaged(format!("lead {} appears twice", first.id)));
            }
            let mut line = state.line;
            if line.len() != engine.plan.width {
                return Err(damaged(format!(
                    "lead {}'s line has {} words, not {}",
                    first.id,
                    line.len(),
                    engine.plan.width
                )));
            }
            let mut meta = line.get(META).copied().unwrap_or(0) & STAGE_BITS;
            if meta != state.life.stage().index() as u64 {
                return Err(damaged(format!(
                    "lead {}'s line is at stage {meta}, its lifecycle at {}",
                    first.id,
                    state.life.stage()
                )));
            }
            for (at, key, shape, counted) in state.recent {
                if engine.shapes.get(ShapeKey(shape)).is_none() {
                    return Err(damaged(format!("lead {} names shape {shape}", first.id)));
                }
                let mut e = Entry::new(at, key, shape);
                e.counted = counted;
                let shapes = &engine.shapes;
                meta = engine.recent.add(meta, e, keep_from, &|x: &Entry| {
                    (
                        x.at,
                        shapes.get(ShapeKey(x.shape)).map_or(0, |s| s.fingerprint),
                        x.key,
                    )
                });
            }
            if let Some(m) = line.get_mut(META) {
                *m = meta;
            }
            let mut changes = Vec::with_capacity(state.changes.len());
            for (at, key, shape) in state.changes {
                let s = engine
                    .shapes
                    .get(ShapeKey(shape))
                    .ok_or_else(|| damaged(format!("lead {} names shape {shape}", first.id)))?;
                changes.push(Change {
                    order: (at, s.fingerprint, key),
                    at: time(at),
                    shape,
                    kind: s.shape.kind.clone(),
                });
            }
            engine.lines.extend(line);
            engine.cold.push(Cold {
                versions: state.versions,
                changes,
                life: state.life,
                by_events: state.by_events,
            });
        }
        engine.crossing = snapshot.crossing.into_iter().map(Points::from_milli).collect();
        engine.log = match (snapshot.history, engine.config.history) {
            (Some(c), crate::engine::History::Keep) => {
                let leads = engine.cold.len();
                if c.lead.iter().any(|l| *l as usize >= leads)
                    || c.shape.iter().any(|s| *s as usize >= engine.shapes.len())
                {
                    return Err(damaged(
                        "the history names a lead or shape the snapshot does not hold",
                    ));
                }
                Some(
                    Log::from_columns(c.lead, c.at, c.shape)
                        .ok_or_else(|| damaged("history columns of unequal lengths"))?,
                )
            }
            (None, crate::engine::History::Keep) => {
                return Err(damaged("no history, and the config keeps one"));
            }
            (_, _) => None,
        };
        Ok(engine)
    }
}
