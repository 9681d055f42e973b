//! Service-level agreements on stages, answered from the records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::span::Span;
use crate::stage::Stage;

/// A service-level agreement on a stage: something must happen within a span
/// of entering it. There are no timers: ask the lifecycle what is overdue at a
/// time (see [`LeadLifecycle::sla_breaches`](crate::lifecycle::LeadLifecycle::sla_breaches)).
///
/// # Example
///
/// ```
/// use leadflow::lifecycle::{Sla, SlaKind};
/// use leadflow::{Span, Stage};
///
/// // An MQL must be accepted or rejected within 24 hours.
/// let handoff = Sla::exit_within(Stage::Mql, Span::hours(24));
/// // An SAL must get its first follow-up within 4 hours.
/// let follow_up = Sla::first_follow_up_within(Stage::Sal, Span::hours(4));
/// assert_eq!(follow_up.kind, SlaKind::FirstFollowUp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Sla {
    /// The stage it applies to.
    pub stage: Stage,
    /// What must happen.
    pub kind: SlaKind,
    /// Within how long of entering the stage.
    pub within: Span,
}

impl Sla {
    /// An SLA of either kind on `stage`.
    pub fn new(stage: Stage, kind: SlaKind, within: Span) -> Sla {
        Sla { stage, kind, within }
    }

    /// The lead must leave `stage` within `within`.
    pub fn exit_within(stage: Stage, within: Span) -> Sla {
        Sla::new(stage, SlaKind::Exit, within)
    }

    /// The lead must get a first follow-up within `within` of entering `stage`.
    pub fn first_follow_up_within(stage: Stage, within: Span) -> Sla {
        Sla::new(stage, SlaKind::FirstFollowUp, within)
    }
}

/// What an [`Sla`] requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SlaKind {
    /// Leave the stage (e.g. an MQL accepted or rejected).
    Exit,
    /// A first follow-up recorded (see
    /// [`LeadLifecycle::record_follow_up`](crate::lifecycle::LeadLifecycle::record_follow_up)).
    FirstFollowUp,
}

/// An SLA that was, or is being, missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaBreach {
    /// The SLA.
    pub sla: Sla,
    /// When the lead entered the stage.
    pub entered_at: DateTime<Utc>,
    /// When the SLA fell due.
    pub due_at: DateTime<Utc>,
    /// When the required thing finally happened (late), or `None` if it has
    /// not happened yet: then the breach is open, i.e. overdue now.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl SlaBreach {
    /// True when the required thing has still not happened.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}
