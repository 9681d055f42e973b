//! Snapshots: the complete state of a funnel, through serde.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lead_state::LeadState;
use super::{Funnel, FunnelConfig, FunnelError, FunnelStats};
use crate::criteria::CriteriaRegistry;
use crate::lead::Lead;
use crate::lifecycle::{LeadLifecycle, LifecycleDefinition};
use crate::scoring::ScoringModel;

/// The snapshot format this version writes and reads.
const FORMAT: u32 = 1;

/// Everything a [`Funnel`] holds: model, lifecycle definition, policies,
/// leads with their events, scores and histories, the watermark and the
/// counters. Serialize it anywhere; [`FunnelSnapshot::restore`] gives a
/// funnel that continues exactly as the original would have.
///
/// ```
/// use leadflow::criteria::{Condition, CriteriaRegistry};
/// use leadflow::funnel::{Funnel, FunnelConfig, FunnelSnapshot};
/// use leadflow::scoring::ScoringModel;
/// use leadflow::{Dimension, LifecycleDefinition};
///
/// let machine = LifecycleDefinition::standard_b2b(Condition::score_at_least(Dimension::Combined, 60)).build()?;
/// let funnel = Funnel::new(ScoringModel::b2b_default()?, machine, FunnelConfig::default());
/// let json = serde_json::to_string(&funnel.snapshot())?;
/// let restored = serde_json::from_str::<FunnelSnapshot>(&json)?.restore(&CriteriaRegistry::new())?;
/// assert_eq!(restored.snapshot(), funnel.snapshot());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelSnapshot {
    format: u32,
    model: ScoringModel,
    definition: LifecycleDefinition,
    config: FunnelConfig,
    leads: Vec<LeadState>,
    watermark: Option<DateTime<Utc>>,
    stats: FunnelStats,
}

impl Funnel {
    /// The funnel's complete state.
    pub fn snapshot(&self) -> FunnelSnapshot {
        for state in &self.leads {
            state.scores(&self.model);
        }
        FunnelSnapshot {
            format: FORMAT,
            model: self.model.clone(),
            definition: self.machine.definition().clone(),
            config: self.config.clone(),
            leads: self.leads.clone(),
            watermark: self.watermark,
            stats: self.stats,
        }
    }
}

impl FunnelSnapshot {
    /// Rebuilds the funnel, binding custom criteria from `registry`.
    ///
    /// # Errors
    ///
    /// [`FunnelError`] for an unsupported format, an invalid definition (or
    /// an unbound custom criterion), a lead held twice or a lead whose
    /// attributes and lifecycle name different leads.
    pub fn restore(self, registry: &CriteriaRegistry) -> Result<Funnel, FunnelError> {
        if self.format != FORMAT {
            return Err(FunnelError::SnapshotVersion {
                found: self.format,
                supported: FORMAT,
            });
        }
        let machine = self.definition.build_with(registry)?;
        let mut index = HashMap::default();
        let mut seen = HashSet::default();
        let mut leads = self.leads;
        for (i, state) in leads.iter_mut().enumerate() {
            let i = i as u32;
            same_lead(&state.versions, &state.life)?;
            let id = state.life.lead().clone();
            if index.insert(id.clone(), i).is_some() {
                return Err(FunnelError::DuplicateLead { lead: id });
            }
            seen.extend(
                state
                    .events
                    .iter()
                    .map(|e| (i, crate::hash::fingerprint(e.id.as_str()))),
            );
            state.reindex(&self.model);
        }
        let stages = super::lead_state::Stages::of(&machine);
        Ok(Funnel {
            model: self.model,
            config: self.config,
            index,
            leads,
            seen,
            watermark: self.watermark,
            stats: self.stats,
            stages,
            machine,
        })
    }
}

/// Refuses a snapshot's lead whose attribute versions and lifecycle name
/// different leads (the snapshot was edited or damaged): restored, its
/// transitions would be filed under another id.
pub(crate) fn same_lead(versions: &[(DateTime<Utc>, Lead)], life: &LeadLifecycle) -> Result<(), FunnelError> {
    match versions.iter().find(|(_, lead)| &lead.id != life.lead()) {
        Some((_, lead)) => Err(FunnelError::MismatchedLifecycle {
            lead: lead.id.clone(),
            lifecycle: life.lead().clone(),
        }),
        None => Ok(()),
    }
}
