//! How an [`Engine`](super::Engine) treats unknown leads, late events,
//! score thresholds and history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::ThresholdId;
use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

/// The engine's policies. Data: it round-trips through serde, and an
/// unknown field is refused.
///
/// ```
/// use leadflow::engine::{EngineConfig, Threshold, UnknownLeads};
/// use leadflow::{Dimension, Span};
///
/// let config = EngineConfig::default()
///     .unknown_leads(UnknownLeads::Reject)
///     .allowed_lateness(Span::days(2))
///     .threshold(Threshold::new("hot".parse()?, Dimension::Combined, 60));
/// let json = serde_json::to_string(&config)?;
/// assert_eq!(serde_json::from_str::<EngineConfig>(&json)?, config);
/// assert!(serde_json::from_str::<EngineConfig>(r#"{"allowed_latenes": "2d"}"#).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EngineConfig {
    /// What to do with an event for a lead the engine does not know.
    #[serde(default)]
    pub unknown_leads: UnknownLeads,
    /// How far behind the latest event time an event may arrive and still be
    /// applied exactly as if it had arrived in order. Older events are
    /// refused with [`IngestError::TooLate`](super::IngestError::TooLate).
    #[serde(default = "default_lateness")]
    pub allowed_lateness: Span,
    /// How far after the call's `now` an event may be dated (clocks
    /// disagree): later events are refused with
    /// [`IngestError::TooFarInFuture`](super::IngestError::TooFarInFuture).
    /// Default: zero.
    #[serde(default)]
    pub clock_skew: Span,
    /// Scores whose crossing (up or down) is reported as
    /// [`Output::ScoreCrossed`](super::Output::ScoreCrossed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
    /// Whether the engine keeps every event in its history log, for
    /// rescoring after a model change, explanations, replays and
    /// snapshots. A host that keeps its own history turns it off and passes
    /// the history in when it needs it.
    #[serde(default)]
    pub history: History,
}

/// Whether the engine keeps a history of every event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum History {
    /// Keep every accepted event (16 bytes each, written in arrival order).
    #[default]
    Keep,
    /// Keep only the recent events late events and windows need; the host
    /// passes history in to rescore.
    Off,
}

fn default_lateness() -> Span {
    Span::days(7)
}

impl EngineConfig {
    /// Sets the policy for unknown leads.
    pub fn unknown_leads(mut self, policy: UnknownLeads) -> EngineConfig {
        self.unknown_leads = policy;
        self
    }

    /// Sets the allowed lateness.
    pub fn allowed_lateness(mut self, lateness: Span) -> EngineConfig {
        self.allowed_lateness = lateness;
        self
    }

    /// Sets how far after `now` an event may be dated.
    pub fn clock_skew(mut self, skew: Span) -> EngineConfig {
        self.clock_skew = skew;
        self
    }

    /// Adds a threshold.
    pub fn threshold(mut self, threshold: Threshold) -> EngineConfig {
        self.thresholds.push(threshold);
        self
    }

    /// Sets whether history is kept.
    pub fn history(mut self, history: History) -> EngineConfig {
        self.history = history;
        self
    }

    /// The earliest event time accepted when the latest is `watermark`
    /// (`None`: no limit, the lateness reaching past the calendar's start).
    pub(crate) fn earliest(&self, watermark: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.allowed_lateness.before(watermark)
    }

    /// The allowed lateness in nanoseconds (saturating).
    pub(crate) fn lateness_nanos(&self) -> i64 {
        self.allowed_lateness.as_seconds().saturating_mul(1_000_000_000)
    }
}

impl Default for EngineConfig {
    /// Create unknown leads, 7 days of allowed lateness, no clock skew, no
    /// thresholds, history kept.
    fn default() -> EngineConfig {
        EngineConfig {
            unknown_leads: UnknownLeads::default(),
            allowed_lateness: default_lateness(),
            clock_skew: Span::ZERO,
            thresholds: Vec::new(),
            history: History::default(),
        }
    }
}

/// The policy for events of unknown leads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownLeads {
    /// Create the lead from the event: default (unknown) source and no
    /// attributes, created at its earliest accepted event (an earlier one
    /// arriving later re-dates it). The host's first
    /// [`upsert_lead`](super::Engine::upsert_lead) of such a lead replaces
    /// it, as if the record had come first: created at the record's
    /// `created_at`, with its events, as long as its first event is within
    /// the allowed lateness; after that the record counts from its `now`,
    /// like any update. Within the allowed lateness, the result does not
    /// depend on the order the events and the record arrive in. The
    /// default.
    #[default]
    Create,
    /// Refuse the event with
    /// [`IngestError::UnknownLead`](super::IngestError::UnknownLead); upsert
    /// the lead first.
    Reject,
}

/// A score level whose crossing the host wants to hear about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// A name, repeated in the output.
    pub name: ThresholdId,
    /// Which score.
    pub dimension: Dimension,
    /// The level, inclusive: a score at or above it is above.
    pub at_least: Points,
}

impl Threshold {
    /// A threshold.
    pub fn new(name: ThresholdId, dimension: Dimension, at_least: impl Into<Points>) -> Threshold {
        Threshold {
            name,
            dimension,
            at_least: at_least.into(),
        }
    }
}
