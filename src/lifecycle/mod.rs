//! The lifecycle: stages, typed transitions, the state machine and its
//! records.
//!
//! # Example
//!
//! One lead, without an engine:
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::criteria::{Checklist, Condition, LeadView};
//! use leadflow::lifecycle::{LifecycleDefinition, Transition};
//! use leadflow::{
//!     AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId, OwnerId, Stage,
//! };
//!
//! // MQL when the combined score reaches 60, or on a pricing-sheet download.
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//! let machine = LifecycleDefinition::standard_b2b(mql).build()?;
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.person.set_email("ada@acme.io");
//! let mut life = machine.start(&lead);
//!
//! let events = vec![Event::new(
//!     EventId::new("e1")?, lead.id.clone(), t0,
//!     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None },
//! )];
//! let view = LeadView::new(&lead).with_events(&events);
//!
//! // Identified + a download → MAL; pricing sheet → MQL. Both fire at once.
//! let fired = machine.advance(&mut life, &view, t0);
//! assert_eq!(fired.len(), 2);
//! assert_eq!(life.stage(), Stage::Mql);
//!
//! // Sales accepts, then qualifies with BANT evidence (3 of 4 needed).
//! let rep = OwnerId::new("rep-jane")?;
//! machine.apply(&mut life, Transition::Accept { owner: rep.clone() }, &view, t0 + Duration::hours(2))?;
//! let bant = Checklist::new()
//!     .met("budget", "40k").met("authority", "VP signs").met("need", "replacing sheets");
//! machine.apply(&mut life, Transition::QualifyForSales { by: rep, evidence: bant }, &view,
//!               t0 + Duration::days(3))?;
//! assert_eq!(life.stage(), Stage::Sql);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//!
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
//!   [`LifecycleStateMachine`] (at the crate root,
//!   `leadflow::LifecycleStateMachine`).
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
pub(crate) mod machine;
mod record;
mod sla;
mod transition;

pub use csql::{ExpansionCriteria, ExpansionError, csql_evidence};
pub use definition::{DefinitionError, Edge, EdgeTrigger, LifecycleDefinition};
pub(crate) use machine::LifecycleStateMachine;
pub use machine::TransitionError;
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

/// The old name of [`EdgeTrigger`] (`Trigger` also named the scoring rule's
/// trigger, [`scoring::Trigger`](crate::scoring::Trigger)).
#[deprecated(since = "0.2.0", note = "use `leadflow::lifecycle::EdgeTrigger`")]
pub type Trigger = EdgeTrigger;
