//! Funnel analytics, the account view and CSQL criteria.
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
//! - **Account view** ([`AccountModel`]): leads roll up to their account (an
//!   account score: sum, max or top-n of its leads), buying-group coverage
//!   (which roles are present and engaged) and a marketing-qualified-account
//!   decision with its own explained criteria.
//! - **CSQL** ([`ExpansionCriteria`]): product-usage and feedback criteria that
//!   flag customers for expansion, recorded as the Customer → CSQL transition
//!   with its evidence.
//!
//! Nothing here reads a clock: the time of a measurement is an argument.
//!
//! # Example: funnel KPIs by channel
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::analytics::{Breakdown, FunnelAnalyzer, AnalysisConfig, LeadHistory};
//! use leadflow::criteria::{Condition, LeadView};
//! use leadflow::{
//!     Channel, Dimension, Lead, LeadId, LifecycleDefinition, OwnerId, Points, Scores, Source,
//!     Stage, Transition,
//! };
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
//!     machine.apply(&mut life, Transition::MarketingAccept { by: leadflow::QualifiedBy::Manual {
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

mod account;
mod csql;
mod funnel;
mod kpi;
mod stats;

use chrono::{DateTime, Utc};

use crate::criteria::CriteriaError;

pub use account::{AccountModel, AccountRollup, BuyingRole, RoleCoverage, Rollup, account_keys};
pub use csql::{ExpansionCriteria, csql_evidence};
pub use funnel::{
    AnalysisConfig, Breakdown, FunnelAnalysis, FunnelAnalyzer, FunnelMetrics, LeadHistory, MoneySum,
    NONE_KEY, StageStats,
};
pub use kpi::{
    AcrossKpis, CONSECUTIVE, Conversion, Kpis, MalKpis, MqlKpis, SalKpis, SglKpis, SqlKpis, StageTime,
};
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
    /// A top-n roll-up of zero leads.
    #[error("rollup top_n with n = 0 sums nothing: use n >= 1, or max")]
    ZeroTopN,
    /// A buying role with an empty name.
    #[error("buying role {index} has an empty name: give it a name such as \"decision_maker\"")]
    EmptyRoleName {
        /// The role's index.
        index: usize,
    },
    /// Two buying roles with the same name.
    #[error("buying role {name:?} is defined twice: keep one")]
    DuplicateRole {
        /// The name.
        name: String,
    },
    /// An invalid condition in a role, the MQA criterion or the CSQL criteria.
    #[error("{what}: {source}")]
    Condition {
        /// Which condition (e.g. `role "champion" engaged`, `mqa`).
        what: String,
        /// The problem.
        source: CriteriaError,
    },
    /// A threshold that is NaN or infinite.
    #[error("{field} is {value}: give a finite number")]
    NonFinite {
        /// Which threshold.
        field: &'static str,
        /// The value given.
        value: f64,
    },
}
