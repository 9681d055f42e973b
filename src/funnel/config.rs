//! How a [`Funnel`](super::Funnel) treats unknown leads, late events and
//! score thresholds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

/// The funnel's policies. Data: it round-trips through serde.
///
/// ```
/// use leadflow::funnel::{FunnelConfig, Threshold, UnknownLeads};
/// use leadflow::{Dimension, Span};
///
/// let config = FunnelConfig {
///     unknown_leads: UnknownLeads::Reject,
///     allowed_lateness: Span::days(2),
///     thresholds: vec![Threshold::new("hot", Dimension::Combined, 60)],
/// };
/// let json = serde_json::to_string(&config)?;
/// assert_eq!(serde_json::from_str::<FunnelConfig>(&json)?, config);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelConfig {
    /// What to do with an event for a lead the funnel does not know.
    #[serde(default)]
    pub unknown_leads: UnknownLeads,
    /// How far behind the latest event time an event may arrive and still be
    /// applied exactly as if it had arrived in order. Older events are
    /// rejected with [`IngestError::TooLate`](super::IngestError::TooLate).
    #[serde(default = "default_lateness")]
    pub allowed_lateness: Span,
    /// Scores whose crossing (up or down) is reported as
    /// [`Output::ScoreCrossed`](super::Output::ScoreCrossed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
}

fn default_lateness() -> Span {
    Span::days(7)
}

impl FunnelConfig {
    /// True when an event at `at` is older than the allowed lateness lets
    /// in, the latest event time applied being `watermark`.
    pub(crate) fn too_late(&self, at: DateTime<Utc>, watermark: DateTime<Utc>) -> bool {
        // At or after the watermark is never late: no arithmetic for
        // in-order events.
        at < watermark
            && self
                .allowed_lateness
                .before(watermark)
                .is_some_and(|min| at < min)
    }
}

impl Default for FunnelConfig {
    /// Create unknown leads, 7 days of allowed lateness, no thresholds.
    fn default() -> FunnelConfig {
        FunnelConfig {
            unknown_leads: UnknownLeads::default(),
            allowed_lateness: default_lateness(),
            thresholds: Vec::new(),
        }
    }
}

/// The policy for events of unknown leads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownLeads {
    /// Create the lead from the event: created at the event's time, default
    /// (unknown) source and no attributes. The default.
    #[default]
    Create,
    /// Reject the event with
    /// [`IngestError::UnknownLead`](super::IngestError::UnknownLead); upsert
    /// the lead first.
    Reject,
}

/// A score level whose crossing the host wants to hear about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Threshold {
    /// A name, repeated in the output.
    pub name: String,
    /// Which score.
    pub dimension: Dimension,
    /// The level, inclusive: a score at or above it is above.
    pub at_least: Points,
}

impl Threshold {
    /// A threshold.
    pub fn new(name: impl Into<String>, dimension: Dimension, at_least: impl Into<Points>) -> Threshold {
        Threshold {
            name: name.into(),
            dimension,
            at_least: at_least.into(),
        }
    }
}
