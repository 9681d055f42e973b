//! Snapshots of a [`CompiledFunnel`]: its complete state, through serde.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::actions::Actions;
use super::ids::RecentIds;
use super::lead::{Cold, Entry};
use super::{CompiledFunnel, FunnelConfig, FunnelError, FunnelStats};
use crate::criteria::CriteriaRegistry;
use crate::event::Event;
use crate::funnel::snapshot::same_lead;
use crate::lifecycle::LifecycleDefinition;
use crate::points::Points;
use crate::scoring::ScoringModel;

const FORMAT: u32 = 1;

/// The complete state of a [`CompiledFunnel`]: the model, the lifecycle
/// definition, the policies, the interned shapes (so keys stay valid), every
/// lead with its compact log, the ids still within the allowed lateness and
/// the counters. Restoring gives a funnel that continues exactly as the
/// original would have.
///
/// ```
/// use leadflow::criteria::CriteriaRegistry;
/// use leadflow::funnel::{CompiledFunnel, CompiledSnapshot, FunnelConfig};
/// use leadflow::synthetic::{lifecycle, scoring_model};
///
/// let funnel = CompiledFunnel::new(scoring_model()?, lifecycle()?, FunnelConfig::default());
/// let json = serde_json::to_string(&funnel.snapshot())?;
/// let restored = serde_json::from_str::<CompiledSnapshot>(&json)?.restore(&CriteriaRegistry::new())?;
/// assert_eq!(restored.snapshot(), funnel.snapshot());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledSnapshot {
    format: u32,
    model: ScoringModel,
    definition: LifecycleDefinition,
    config: FunnelConfig,
    shapes: Vec<Event>,
    leads: Vec<(Cold, Vec<Entry>)>,
    crossing: Vec<Points>,
    /// The ids remembered.
    recent: RecentIds,
    watermark: Option<DateTime<Utc>>,
    stats: FunnelStats,
}

impl CompiledFunnel {
    /// The complete state, to serialize.
    pub fn snapshot(&self) -> CompiledSnapshot {
        CompiledSnapshot {
            format: FORMAT,
            model: self.model.clone(),
            definition: self.machine.definition().clone(),
            config: self.config.clone(),
            shapes: self.actions.shapes().cloned().collect(),
            leads: self
                .cold
                .iter()
                .cloned()
                .zip(self.lanes.iter().map(|l| l.log.clone()))
                .collect(),
            crossing: self.crossing.clone(),
            recent: self.seen.clone(),
            watermark: self.watermark,
            stats: self.stats,
        }
    }
}

impl CompiledSnapshot {
    /// Rebuilds the funnel; custom criteria of the lifecycle are bound from
    /// `registry`.
    ///
    /// # Errors
    ///
    /// [`FunnelError`] when the format is not this version's, the lifecycle
    /// does not build (an unbound custom criterion), a lead appears twice or
    /// holds another lead's lifecycle.
    pub fn restore(self, registry: &CriteriaRegistry) -> Result<CompiledFunnel, FunnelError> {
        if self.format != FORMAT {
            return Err(FunnelError::SnapshotVersion {
                found: self.format,
                supported: FORMAT,
            });
        }
        let machine = self.definition.build_with(registry)?;
        let mut f = CompiledFunnel::new(self.model, machine, self.config);
        f.actions = Actions::from_shapes(self.shapes, &f.model, &f.gates.signals);
        for (cold, log) in self.leads {
            let Some(first) = cold.versions.first().map(|(_, l)| l.clone()) else {
                continue;
            };
            if f.index.contains_key(&first.id) {
                return Err(FunnelError::DuplicateLead { lead: first.id });
            }
            same_lead(&cold.versions, &cold.life)?;
            let Some(i) = f.insert_lead(first) else { continue };
            let i = i as usize;
            let latest = [log.last().map(|x| x.at), cold.versions.last().map(|v| v.0)]
                .into_iter()
                .flatten()
                .max();
            if let (Some(c), Some(l)) = (f.cold.get_mut(i), f.lanes.get_mut(i).map(|l| &mut l.log)) {
                *c = cold;
                *l = log;
            }
            f.rebound(i);
            if let Some(t) = latest {
                f.settle(i, t);
            }
        }
        f.crossing = self.crossing;
        f.seen = self.recent;
        f.watermark = self.watermark;
        f.stats = self.stats;
        Ok(f)
    }
}
