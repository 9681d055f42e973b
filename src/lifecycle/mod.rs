//! The lifecycle: stages, typed transitions, the state machine and its
//! records.
//!
//! - [`Stage`]: the standard B2B stages (Lead, MAL, MQL, SGL, SAL, SQL,
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
//! The whole table of legal edges is in view in the definition; anything
//! else is refused with a [`TransitionError`] that changes nothing.

mod definition;
mod machine;
mod record;
mod sla;
mod stage;
mod transition;

pub use definition::{DefinitionError, Edge, LifecycleDefinition, Trigger};
pub use machine::{LifecycleStateMachine, TransitionError};
pub use record::{FollowUp, LeadLifecycle, StageVisit, TransitionRecord, TriggerKind};
pub use sla::{Sla, SlaBreach, SlaKind};
pub use stage::{Stage, StageSet};
pub use transition::{Money, QualifiedBy, Reason, ReasonCode, Transition, TransitionKind};
