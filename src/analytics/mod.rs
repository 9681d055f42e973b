//! Funnel analytics: the KPIs a marketer reads per stage, per segment and
//! across shards. (The account view is [`account`](crate::account); CSQL
//! expansion criteria are [`ExpansionCriteria`](crate::lifecycle::ExpansionCriteria)
//! in the lifecycle.)
//!
//! - **Funnel metrics** ([`FunnelAnalyzer`], [`FunnelAnalysis`], [`FunnelMetrics`]):
//!   per-stage counts, conversion between stages, time in stage, follow-up
//!   speed, SLA breaches, reasons for recycling and disqualification, won
//!   deal values and time to deal, computed from lifecycle records for a
//!   period and broken down by source, channel, campaign, owner, cohort
//!   (month of creation) or any attribute. [`Kpis`] names the stage KPIs
//!   (MAL, MQL, SGL, SAL, SQL and across stages).
//! - **Mergeable**: metrics are counts, exact sums and exact duration samples
//!   ([`Durations`]); metrics of shards of leads
//!   [`merge`](FunnelAnalysis::merge) into the metrics of the whole, in any
//!   order or grouping.
//!
//! Nothing here reads a clock: the time of a measurement is an argument.
//!
//! # Example: funnel KPIs by channel
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::analytics::{AnalysisConfig, Breakdown, FunnelAnalyzer, LeadHistory};
//! use leadflow::criteria::{Condition, LeadView};
//! use leadflow::lifecycle::{LifecycleDefinition, QualifiedBy, Transition};
//! use leadflow::{Channel, Dimension, Lead, LeadId, OwnerId, Points, Scores, Source, Stage};
//!
//! let machine = LifecycleDefinition::standard_b2b(
//!     Condition::score_at_least(Dimension::Combined, 60)).build()?;
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut leads = Vec::new();
//! for (i, channel) in [Channel::PaidSearch, Channel::Email].into_iter().enumerate() {
//!     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0)
//!         .with_source(Source::marketing(channel));
//!     lead.person.set_email("ada@acme.io");
//!     leads.push(lead);
//! }
//! let scores = Scores { combined: Points::new(80), ..Scores::default() };
//! let mut lives = Vec::new();
//! for lead in &leads {
//!     let mut life = machine.start(lead);
//!     // MAL by hand, then the score makes it an MQL.
//!     machine.apply(&mut life, Transition::MarketingAccept { by: QualifiedBy::Manual {
//!         by: OwnerId::new("marketing")?, note: None } }, &LeadView::new(lead), t0)?;
//!     machine.advance(&mut life, &LeadView::new(lead).with_scores(&scores), t0 + Duration::hours(1));
//!     lives.push(life);
//! }
//! // Sales accepts the paid-search MQL only.
//! let view = LeadView::new(&leads[0]);
//! machine.apply(&mut lives[0], Transition::Accept { owner: OwnerId::new("rep")? }, &view,
//!               t0 + Duration::hours(5))?;
//!
//! let funnel = FunnelAnalyzer::new(&machine, AnalysisConfig::new(t0 + Duration::days(2)));
//! let analysis = funnel.analyze(leads.iter().zip(&lives).map(|(l, f)| LeadHistory::new(l, f)));
//! let kpis = analysis.overall.kpis();
//! assert_eq!(kpis.mql.mqls, 2);
//! assert_eq!(kpis.mql.promotion_rate, Some(1.0));
//! let by_channel = analysis.by(&Breakdown::Channel).unwrap();
//! assert_eq!(by_channel["paid_search"].conversion(Stage::Mql, Stage::Sal), Some(1.0));
//! assert_eq!(by_channel["email"].conversion(Stage::Mql, Stage::Sal), Some(0.0));
//! // The email MQL waited past the 24 h MQL SLA: one open breach.
//! assert_eq!(by_channel["email"].stage(Stage::Mql).sla_open, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod analyzer;
mod breakdown;
mod facts;
mod input;
mod kpi;
mod metrics;
mod stats;

use chrono::{DateTime, Utc};

pub use analyzer::{FunnelAnalysis, FunnelAnalyzer};
pub use breakdown::{Breakdown, NONE_KEY};
pub use input::{AnalysisConfig, LeadHistory};
pub use kpi::{
    AcrossKpis, CONSECUTIVE, Conversion, Kpis, MalKpis, MqlKpis, SalKpis, SglKpis, SqlKpis, StageTime,
};
pub use metrics::{FunnelMetrics, MoneySum, StageStats};
pub use stats::{Durations, Mean, Period};

/// Why an analytics configuration is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyticsError {
    /// A period whose end is not after its start.
    #[error("period from {from} to {to} is empty: the end must be after the start")]
    EmptyPeriod {
        /// The start.
        from: DateTime<Utc>,
        /// The end.
        to: DateTime<Utc>,
    },
}

// The old paths of the account view and the CSQL criteria, which moved out of
// analytics: deprecated for one release.

/// Moved to [`account::AccountModel`](crate::account::AccountModel).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::AccountModel`")]
pub type AccountModel = crate::account::AccountModel;
/// Moved to [`account::AccountRollup`](crate::account::AccountRollup).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::AccountRollup`")]
pub type AccountRollup = crate::account::AccountRollup;
/// Moved to [`account::BuyingRole`](crate::account::BuyingRole).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::BuyingRole`")]
pub type BuyingRole = crate::account::BuyingRole;
/// Moved to [`account::RoleCoverage`](crate::account::RoleCoverage).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::RoleCoverage`")]
pub type RoleCoverage = crate::account::RoleCoverage;
/// Moved to [`account::Rollup`](crate::account::Rollup).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::Rollup`")]
pub type Rollup = crate::account::Rollup;
/// Moved to [`account::keys`](crate::account::keys).
#[deprecated(since = "0.2.0", note = "use `leadflow::account::keys`")]
pub mod account_keys {
    pub use crate::account::keys::*;
}
/// Moved to [`lifecycle::ExpansionCriteria`](crate::lifecycle::ExpansionCriteria).
#[deprecated(since = "0.2.0", note = "use `leadflow::lifecycle::ExpansionCriteria`")]
pub type ExpansionCriteria = crate::lifecycle::ExpansionCriteria;

/// Moved to [`lifecycle::csql_evidence`](crate::lifecycle::csql_evidence).
#[deprecated(since = "0.2.0", note = "use `leadflow::lifecycle::csql_evidence`")]
pub fn csql_evidence(record: &crate::lifecycle::TransitionRecord) -> Option<&crate::criteria::Verdict> {
    crate::lifecycle::csql_evidence(record)
}
