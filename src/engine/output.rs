//! What the engine returns: outputs to act on and reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::Rejected;
use crate::id::{LeadId, ModelVersion, ThresholdId};
use crate::lifecycle::TransitionRecord;
use crate::points::Points;
use crate::scores::Dimension;

/// Something the host must act on. Serialized internally tagged by `"type"`,
/// so it streams out as NDJSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Output {
    /// A lead changed stage.
    Transition {
        /// The transition, with its reason.
        record: TransitionRecord,
    },
    /// A transition reported earlier no longer holds: a late event (or a
    /// command or upsert in the past) changed the lead's history. Its
    /// replacement, if any, is reported as an [`Output::Transition`] right
    /// after.
    Retracted {
        /// The withdrawn transition.
        record: TransitionRecord,
    },
    /// A score crossed a configured threshold.
    ScoreCrossed {
        /// The lead.
        lead: LeadId,
        /// The threshold's name.
        threshold: ThresholdId,
        /// Which score.
        dimension: Dimension,
        /// The score at the lead's previous touch.
        before: Points,
        /// The score now.
        after: Points,
        /// True when it rose to or above the threshold, false when it fell
        /// below.
        upward: bool,
        /// The time the scores were computed at (the call's `now`).
        at: DateTime<Utc>,
    },
}

/// The result of an ingest call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    /// What to act on, in order: for each event, the retractions and
    /// transitions it caused (for a lead's late events, held and applied
    /// together, what they caused together); then the score crossings of
    /// the leads the call touched.
    pub outputs: Vec<Output>,
    /// Events applied.
    pub applied: usize,
    /// Events ignored because the lead already had an event with the same id
    /// and time.
    pub duplicates: usize,
    /// Events that replaced an applied copy with the same id and time and
    /// another payload, because they come first in canonical order (see
    /// [`IngestError::ConflictingDuplicate`](super::IngestError::ConflictingDuplicate)).
    pub replaced: usize,
    /// Events refused, with why. Nothing of them was applied. Every copy
    /// of a refused event given in the same call is refused alike.
    pub rejected: Vec<Rejected>,
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
