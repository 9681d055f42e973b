//! What the funnel returns: outputs to act on, reports and errors.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{EventId, LeadId};
use crate::lead::AttributeError;
use crate::lifecycle::{DefinitionError, TransitionError, TransitionRecord};
use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

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
    /// A transition reported earlier no longer holds: a late event changed
    /// the lead's history. Its replacement, if any, is reported as a
    /// [`Output::Transition`] in the same report.
    Retracted {
        /// The withdrawn transition.
        record: TransitionRecord,
    },
    /// A score crossed a configured threshold.
    ScoreCrossed {
        /// The lead.
        lead: LeadId,
        /// The threshold's name.
        threshold: String,
        /// Which score.
        dimension: Dimension,
        /// The score before.
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
    /// What to act on, in order: per lead (in order of first appearance in
    /// the call), retractions, then transitions in time order, then score
    /// crossings.
    pub outputs: Vec<Output>,
    /// Events applied.
    pub applied: usize,
    /// Events ignored because their id was already seen for that lead.
    pub duplicates: usize,
    /// Events refused, with why. Nothing of them was applied.
    pub rejected: Vec<Rejected>,
}

/// An event the funnel refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The event.
    pub event: EventId,
    /// Its lead.
    pub lead: LeadId,
    /// Why.
    pub error: IngestError,
}

/// Why an event was refused. Nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IngestError {
    /// The lead is unknown and the policy is to reject.
    #[error("lead {lead} is unknown: upsert it before its events, or use UnknownLeads::Create")]
    UnknownLead {
        /// The lead.
        lead: LeadId,
    },
    /// The event is older than the allowed lateness.
    #[error(
        "event {event} at {at} is more than {allowed} behind the latest event ({watermark}): raise allowed_lateness or drop it"
    )]
    TooLate {
        /// The event.
        event: EventId,
        /// Its time.
        at: DateTime<Utc>,
        /// The latest event time seen.
        watermark: DateTime<Utc>,
        /// The allowed lateness.
        allowed: Span,
    },
    /// The event is dated after the call's `now`.
    #[error("event {event} at {at} is after now ({now}): pass a `now` at or after the events' times")]
    FromTheFuture {
        /// The event.
        event: EventId,
        /// Its time.
        at: DateTime<Utc>,
        /// The call's `now`.
        now: DateTime<Utc>,
    },
    /// A compact event named a lead or action key its
    /// [`CompiledFunnel`](super::CompiledFunnel) never issued.
    #[error(
        "event {event} names {kind} key {key}, which this funnel never issued: take keys from CompiledFunnel::upsert_lead, key and action"
    )]
    UnknownKey {
        /// The event.
        event: EventId,
        /// `lead` or `action`.
        kind: String,
        /// The key.
        key: u32,
    },
    /// A [`CompiledFunnel`](super::CompiledFunnel) could not take the
    /// event's new lead or new shape: it holds 2³² − 1 leads or 2³² shapes.
    #[error(
        "event {event} needs a new {what} and the funnel holds the most it can: shard leads, normalize payloads"
    )]
    Full {
        /// The event.
        event: EventId,
        /// `lead` or `shape`.
        what: String,
    },
    /// An attribute-change event with a value the attribute does not accept.
    #[error("event {event}: {message}")]
    BadAttribute {
        /// The event.
        event: EventId,
        /// What is wrong with the value.
        message: String,
    },
    /// Applying the late event would make a later command illegal (for
    /// example the lead would already have been disqualified before a sales
    /// acceptance that is on record).
    #[error(
        "event {event} arrived late and would make the later {command} at {command_at} illegal: {message}"
    )]
    ConflictsWithCommand {
        /// The event.
        event: EventId,
        /// The command that would become illegal.
        command: String,
        /// When the command was applied.
        command_at: DateTime<Utc>,
        /// Why it would be refused.
        message: String,
    },
}

impl IngestError {
    pub(crate) fn bad_attribute(event: &EventId, e: &AttributeError) -> IngestError {
        IngestError::BadAttribute {
            event: event.clone(),
            message: e.to_string(),
        }
    }
}

/// Why a command was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The lead is unknown.
    #[error("lead {lead} is unknown: upsert it first")]
    UnknownLead {
        /// The lead.
        lead: LeadId,
    },
    /// The lifecycle refused the transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A [`CompiledFunnel`](super::CompiledFunnel) holds 2³² − 1 leads
    /// already.
    #[error("the funnel is full ({max} leads): shard leads over several funnels with shard_for")]
    Full {
        /// How many leads it holds.
        max: u32,
    },
}

/// Why a funnel could not be built, restored or given a new model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FunnelError {
    /// [`CompiledFunnel::action`](super::CompiledFunnel::action) was given
    /// a new shape after 2³² distinct ones.
    #[error("too many distinct event shapes (2^32): normalize payloads such as page paths before ingesting")]
    TooManyShapes,
    /// The lifecycle definition is invalid.
    #[error("invalid lifecycle definition: {0}")]
    Definition(#[from] DefinitionError),
    /// A snapshot has an unsupported format version.
    #[error("snapshot format {found} is not supported: this version reads format {supported}")]
    SnapshotVersion {
        /// The snapshot's format.
        found: u32,
        /// The supported format.
        supported: u32,
    },
    /// A snapshot holds the same lead twice.
    #[error("snapshot holds lead {lead} twice")]
    DuplicateLead {
        /// The lead.
        lead: LeadId,
    },
    /// A snapshot's lead holds the lifecycle of another lead: the snapshot
    /// was edited or damaged.
    #[error("snapshot's lead {lead} holds the lifecycle of lead {lifecycle}: restore an unedited snapshot")]
    MismatchedLifecycle {
        /// The lead (from its attributes).
        lead: LeadId,
        /// The lead its lifecycle names.
        lifecycle: LeadId,
    },
}
