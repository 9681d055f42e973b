//! What the engine refuses, and why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{EventKey, LeadKey};
use crate::id::{EventId, LeadId, ModelVersion};
use crate::lifecycle::{TransitionError, TransitionKind};
use crate::span::Span;

/// An event the engine refused, with where it was in the call. Nothing of
/// it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// Its position in the call's input, from 0.
    pub index: usize,
    /// Its lead, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<LeadId>,
    /// Its id, when it came as an [`Event`](crate::Event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
    /// Its id as a key.
    pub key: EventKey,
    /// Why.
    pub error: IngestError,
}

/// Why an event was refused. Nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum IngestError {
    /// The lead is unknown and the policy is to refuse.
    #[error("lead {lead} is unknown: upsert it before its events, or use UnknownLeads::Create")]
    UnknownLead {
        /// The lead.
        lead: LeadId,
    },
    /// A keyed event named a lead or shape key this engine never issued.
    #[error(
        "the event names {what} key {key}, which this engine never issued: take keys from Engine::upsert_lead, Engine::key and Engine::shape"
    )]
    UnknownKey {
        /// `lead` or `shape`.
        what: String,
        /// The key.
        key: u32,
    },
    /// The event is older than the allowed lateness.
    #[error(
        "the event at {at} is more than {allowed} behind the latest event ({watermark}): raise allowed_lateness or drop it"
    )]
    TooLate {
        /// Its time.
        at: DateTime<Utc>,
        /// The latest event time seen.
        watermark: DateTime<Utc>,
        /// The allowed lateness.
        allowed: Span,
    },
    /// The event is dated after the call's `now` by more than the
    /// configured clock skew.
    #[error("the event at {at} is more than {skew} after now ({now}): check its clock, or raise clock_skew")]
    TooFarInFuture {
        /// Its time.
        at: DateTime<Utc>,
        /// The call's `now`.
        now: DateTime<Utc>,
        /// The configured clock skew.
        skew: Span,
    },
    /// The call's `now` is earlier than one an earlier call passed: time
    /// does not go back, and one bad `now` would otherwise make the engine
    /// judge lateness against the wrong time. Every event of the call is
    /// refused.
    #[error("now ({now}) is before the latest now this engine was given ({latest}): pass the current time")]
    NowBeforeLatest {
        /// The call's `now`.
        now: DateTime<Utc>,
        /// The latest `now` of an earlier call.
        latest: DateTime<Utc>,
    },
    /// The lead already has an event with this id and time but another
    /// payload, which comes first in canonical order (the lower shape
    /// fingerprint): that copy counts, whatever the order the copies arrive
    /// in, and this one is refused. (A copy that comes first replaces the
    /// one applied, counted in [`IngestReport::replaced`](super::IngestReport::replaced).)
    #[error(
        "an event with this id at {at} was already given with another payload, which counts: give each event its own id at the source"
    )]
    ConflictingDuplicate {
        /// The event's time.
        at: DateTime<Utc>,
    },
    /// The event's time is outside what the engine can hold.
    #[error("the event at {at} is outside the years 1678 to 2261 the engine holds: check its time")]
    OutOfRange {
        /// Its time.
        at: DateTime<Utc>,
    },
    /// An attribute-change event with a value the attribute does not accept.
    #[error("{message}")]
    BadAttribute {
        /// What is wrong with the value.
        message: String,
    },
    /// Applying the late event would make a later command illegal (for
    /// example the lead would already have been disqualified before a sales
    /// acceptance that is on record).
    #[error("the late event would make the later {command} at {command_at} illegal: {message}")]
    ConflictsWithCommand {
        /// The command that would become illegal.
        command: TransitionKind,
        /// When the command was applied.
        command_at: DateTime<Utc>,
        /// Why it would be refused.
        message: String,
    },
    /// The event's shape matches more rules than an event may (64).
    #[error(
        "the event's shape matches {rules} scoring rules, more than the 64 one event may: split the rules"
    )]
    TooManyRules {
        /// How many it matches.
        rules: usize,
    },
    /// The engine holds the most leads or shapes it can (2³² − 1).
    #[error("the engine holds the most {what}s it can: shard leads over several engines, normalize payloads")]
    Full {
        /// `lead` or `shape`.
        what: String,
    },
}

/// Why a command (or a follow-up, or an upsert) was refused. Nothing
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The lead is unknown.
    #[error("lead {lead} is unknown: upsert it first")]
    UnknownLead {
        /// The lead.
        lead: LeadId,
    },
    /// The lead key was never issued by this engine.
    #[error("lead key {key} was never issued by this engine")]
    UnknownKey {
        /// The key's number.
        key: usize,
    },
    /// The lifecycle refused the transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The command is dated before what the engine can still re-evaluate.
    #[error(
        "a command at {at} is more than the allowed lateness behind the latest event: the engine re-evaluates leads from {earliest} on"
    )]
    TooLate {
        /// The command's time.
        at: DateTime<Utc>,
        /// The earliest time accepted.
        earliest: DateTime<Utc>,
    },
    /// The command's time is outside what the engine can hold.
    #[error("a command at {at} is outside the years 1678 to 2261 the engine holds")]
    OutOfRange {
        /// Its time.
        at: DateTime<Utc>,
    },
    /// The engine holds 2³² − 1 leads already.
    #[error("the engine holds the most leads it can: shard leads over several engines with shard_for")]
    Full,
}

/// Why an engine could not be built, restored, given a new model or asked
/// for history.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The operation needs the history log, which is off.
    #[error(
        "{operation} needs the engine's history, which is off: pass the history in, or keep it (History::Keep)"
    )]
    NoHistory {
        /// What was asked.
        operation: &'static str,
    },
    /// The lead is unknown.
    #[error(transparent)]
    UnknownLead(CommandError),
    /// A snapshot has an unsupported format version.
    #[error("snapshot format {found} is not supported: this version reads format {supported}")]
    SnapshotVersion {
        /// The snapshot's format.
        found: u32,
        /// The supported format.
        supported: u32,
    },
    /// A snapshot was taken under another model or lifecycle.
    #[error(
        "the snapshot was taken under model {snapshot} with another configuration than this engine's ({engine}): restore it with the model, lifecycle and config it was taken with"
    )]
    SnapshotMismatch {
        /// The snapshot's model version.
        snapshot: ModelVersion,
        /// The engine's model version.
        engine: ModelVersion,
    },
    /// A snapshot is inconsistent (edited or damaged).
    #[error("the snapshot is damaged: {problem}")]
    DamagedSnapshot {
        /// What is wrong.
        problem: String,
    },
    /// An event shape on record matches more rules of a new model than an
    /// event may (64).
    #[error(
        "an event shape on record matches {rules} rules of the new model, more than the 64 one event may: split the rules"
    )]
    ShapeTooBroad {
        /// How many it matches.
        rules: usize,
    },
    /// The allowed lateness reaches so far back, in units of the model's
    /// shortest `once_per` period or decay era, that a lead's line would
    /// hold more than `max_bytes` for it.
    #[error(
        "an allowed lateness of {lateness} would take more than {max_bytes} bytes per lead under this model (a lead keeps a bit per once_per period and a byte per decay era that far back): lower allowed_lateness, or lengthen the model's shortest once_per period"
    )]
    LatenessTooLong {
        /// The configured allowed lateness.
        lateness: Span,
        /// The most a lead's line may hold for late events.
        max_bytes: u64,
    },
    /// The history passed in names a lead the engine does not know.
    #[error("history names lead key {key:?}, which this engine does not hold")]
    UnknownHistoryLead {
        /// The key.
        key: LeadKey,
    },
}
