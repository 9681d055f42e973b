//! The lifecycle: stages, typed transitions, the state machine and its
//! records.
//!
//! - [`Stage`](crate::Stage) (at the crate root, shared with criteria and
//!   analytics): the standard B2B stages (Lead, MAL, MQL, SGL, SAL, SQL,
//!   Opportunity, Customer, CSQL, Nurture, Disqualified, Lost).
//! - [`Transition`]: a typed move carrying its payload (who accepted, why
//!   rejected, the BANT evidence, the criterion verdict). Each kind has a
//!   fixed target stage.
//! - [`LifecycleDefinition`]: which stages and edges a company uses, which
//!   edges are automatic (with their criteria) and which are commands (with
//!   optional guards), and the SLAs. Data; validated by
//!   [`build`](LifecycleDefinition::build) into a
//!   [`LifecycleStateMachine`].
//! - [`LeadLifecycle`]: one lead's stage and history of
//!   [`TransitionRecord`]s, follow-ups and evidence.
//!
//! - [`ExpansionCriteria`]: product-usage and feedback criteria that flag
//!   customers for expansion, as the automatic Customer → CSQL edge.
//!
//! The whole table of legal edges is in view in the definition; anything
//! else is refused with a [`TransitionError`] that changes nothing.

mod csql;
mod definition;
mod machine;
mod record;
mod sla;
mod transition;

pub use csql::{ExpansionCriteria, ExpansionError, csql_evidence};
pub use definition::{DefinitionError, Edge, LifecycleDefinition, Trigger};
pub use machine::{LifecycleStateMachine, TransitionError};
pub use record::{FollowUp, LeadLifecycle, StageVisit, TransitionRecord, TriggerKind};
pub use sla::{Sla, SlaBreach, SlaKind};
pub use transition::{Money, QualifiedBy, Reason, ReasonCode, Transition, TransitionKind};

/// The old path of [`Stage`](crate::Stage), which now lives at the crate root
/// (criteria read it too, and criteria sit below the lifecycle).
#[deprecated(
    since = "0.2.0",
    note = "use `leadflow::Stage`; this path goes in the next release"
)]
pub type Stage = crate::stage::Stage;

/// The old path of [`StageSet`](crate::StageSet), which now lives at the
/// crate root.
#[deprecated(
    since = "0.2.0",
    note = "use `leadflow::StageSet`; this path goes in the next release"
)]
pub type StageSet = crate::stage::StageSet;
