//! The named stage KPIs, derived from [`FunnelMetrics`].

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::metrics::ratio;
use super::{Durations, FunnelMetrics};
use crate::lifecycle::{Money, ReasonCode, TransitionKind};
use crate::points::Points;
use crate::stage::{Stage, StageSet};

/// The consecutive stage pairs whose conversion [`AcrossKpis::conversions`] lists:
/// the main path, with the shortcuts the standard definition allows
/// (SGL → SAL, SQL → Customer) and re-qualification from Nurture.
pub const CONSECUTIVE: [(Stage, Stage); 10] = [
    (Stage::Lead, Stage::Mal),
    (Stage::Mal, Stage::Mql),
    (Stage::Mql, Stage::Sal),
    (Stage::Sgl, Stage::Sal),
    (Stage::Sal, Stage::Sql),
    (Stage::Sql, Stage::Opportunity),
    (Stage::Opportunity, Stage::Customer),
    (Stage::Sql, Stage::Customer),
    (Stage::Customer, Stage::Csql),
    (Stage::Nurture, Stage::Mql),
];

/// The stage KPIs marketing and sales agree on, for one segment. Rates are
/// `None` when their denominator is zero or a stage they involve is not in
/// the lifecycle measured ([`has`](Kpis::has)): a KPI of a stage the data
/// does not have is absent, not zero. Durations are in seconds (nearest-rank
/// quantiles, see [`Durations`]).
///
/// # Example
///
/// ```
/// use leadflow::analytics::FunnelMetrics;
///
/// let kpis = FunnelMetrics::new().kpis();
/// assert_eq!(kpis.mal.leads_generated, 0);
/// assert_eq!(kpis.mql.promotion_rate, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Kpis {
    /// Marketing accepted leads.
    pub mal: MalKpis,
    /// Marketing qualified leads.
    pub mql: MqlKpis,
    /// Sales generated leads.
    pub sgl: SglKpis,
    /// Sales accepted leads.
    pub sal: SalKpis,
    /// Sales qualified leads.
    pub sql: SqlKpis,
    /// Across stages.
    pub across: AcrossKpis,
    /// The stages of the lifecycle measured
    /// ([`FunnelMetrics::lifecycle_stages`]); `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stages: Option<StageSet>,
}

/// MAL KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MalKpis {
    /// Leads created in the window (leads generated).
    pub leads_generated: u64,
    /// Leads entering MAL.
    pub mals: u64,
    /// Average fit (lead quality) score of the MALs that were scored.
    pub avg_fit: Option<Points>,
    /// Form completion: the share of MALs that submitted at least one form
    /// (from `form_submit` events; `None` without MALs).
    pub form_completion_rate: Option<f64>,
}

/// MQL KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MqlKpis {
    /// Leads entering MQL.
    pub mqls: u64,
    /// MAL → MQL promotion rate.
    pub promotion_rate: Option<f64>,
    /// Average engagement score of the MQLs that were scored.
    pub avg_engagement: Option<Points>,
    /// Content downloads by MQLs.
    pub downloads: u64,
    /// Webinars attended by MQLs.
    pub webinars: u64,
    /// Content consumed (downloads + webinars) per MQL.
    pub content_per_mql: Option<f64>,
}

/// SGL KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SglKpis {
    /// Leads entering SGL.
    pub sgls: u64,
    /// Average fit (quality) score of the SGLs that were scored.
    pub avg_fit: Option<Points>,
    /// The share of SGLs that reached a deal (Opportunity or Customer).
    pub deal_rate: Option<f64>,
}

/// SAL KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SalKpis {
    /// Leads entering SAL.
    pub sals: u64,
    /// MQLs accepted by sales.
    pub accepted: u64,
    /// MQLs rejected by sales.
    pub rejected: u64,
    /// Acceptance rate of handed-over MQLs: accepted / (accepted + rejected).
    pub acceptance_rate: Option<f64>,
    /// Follow-up speed (SAL entry → first follow-up), median.
    pub follow_up_median_secs: Option<i64>,
    /// Follow-up speed, 90th percentile.
    pub follow_up_p90_secs: Option<i64>,
    /// The share of SALs that progressed to SQL.
    pub to_sql_rate: Option<f64>,
    /// SLA breaches of SAL stays (past and open).
    pub sla_breaches: u64,
    /// Of those, still open.
    pub sla_open: u64,
}

/// SQL KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SqlKpis {
    /// Leads entering SQL.
    pub sqls: u64,
    /// SQLs later won.
    pub won: u64,
    /// SQLs later lost.
    pub lost: u64,
    /// Win rate of decided SQLs: won / (won + lost).
    pub win_rate: Option<f64>,
    /// The share of SQLs that became customers.
    pub to_customer_rate: Option<f64>,
    /// Average won deal value per currency (only deals whose value was
    /// recorded), keys sorted.
    pub avg_deal_value: IndexMap<String, Money>,
}

/// KPIs across stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AcrossKpis {
    /// Conversion between each [`CONSECUTIVE`] pair (pairs nobody entered,
    /// and pairs with a stage not in the lifecycle measured, are left out).
    pub conversions: Vec<Conversion>,
    /// Time in stage per stage with closed stays.
    pub time_in_stage: Vec<StageTime>,
    /// MQL → SQL.
    pub mql_to_sql: Option<f64>,
    /// SQL → CSQL.
    pub sql_to_csql: Option<f64>,
    /// MQL → CSQL.
    pub mql_to_csql: Option<f64>,
    /// Creation → win, median.
    pub time_to_deal_median_secs: Option<i64>,
    /// Creation → win, 90th percentile.
    pub time_to_deal_p90_secs: Option<i64>,
    /// Recycle transitions.
    pub recycled: u64,
    /// Disqualify transitions.
    pub disqualified: u64,
    /// Reject transitions.
    pub rejected: u64,
    /// Lose transitions.
    pub lost: u64,
    /// Reasons per transition kind (recycle, disqualify, reject, lose).
    pub reasons: IndexMap<TransitionKind, IndexMap<ReasonCode, u64>>,
    /// SLA breaches per stage (past and open), stages with breaches only.
    pub sla_breaches: IndexMap<Stage, u64>,
}

/// The conversion from one stage to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    /// The stage entered.
    pub from: Stage,
    /// The stage reached afterwards.
    pub to: Stage,
    /// Leads entering `from`.
    pub leads: u64,
    /// Of those, leads reaching `to`.
    pub converted: u64,
    /// `converted / leads`.
    pub rate: f64,
}

/// How long closed stays in one stage lasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageTime {
    /// The stage.
    pub stage: Stage,
    /// Closed stays.
    pub stays: u64,
    /// Median, seconds.
    pub median_secs: i64,
    /// 90th percentile, seconds.
    pub p90_secs: i64,
}

fn quantiles(d: &Durations) -> (Option<i64>, Option<i64>) {
    (d.median(), d.p90())
}

impl FunnelMetrics {
    /// The named stage KPIs.
    pub fn kpis(&self) -> Kpis {
        Kpis::from_metrics(self)
    }
}

impl Kpis {
    /// True when `stage` is in the lifecycle measured (or that is unknown):
    /// its counts and rates say something. For other stages they are zero
    /// or `None` because the data cannot have them; say so rather than print
    /// a zero.
    pub fn has(&self, stage: Stage) -> bool {
        self.lifecycle_stages.is_none_or(|s| s.contains(stage))
    }

    /// The KPIs of a segment's metrics.
    pub fn from_metrics(m: &FunnelMetrics) -> Kpis {
        let has = |s: Stage| m.lifecycle_stages.is_none_or(|set| set.contains(s));
        let conversion = |from: Stage, to: Stage| {
            if has(from) && has(to) {
                m.conversion(from, to)
            } else {
                None
            }
        };
        let mal = m.stage(Stage::Mal);
        let mql = m.stage(Stage::Mql);
        let sgl = m.stage(Stage::Sgl);
        let sal = m.stage(Stage::Sal);
        let sql = m.stage(Stage::Sql);
        let accepted = mql.exits(TransitionKind::Accept);
        let rejected = mql.exits(TransitionKind::Reject);
        let (fu_med, fu_p90) = quantiles(&sal.follow_up);
        let (td_med, td_p90) = quantiles(&m.time_to_deal);
        let won = sql.reached(Stage::Customer);
        let lost = sql.reached(Stage::Lost);
        let count_kind = |k: TransitionKind| -> u64 {
            m.stages
                .iter()
                .map(|s| s.exits(k))
                .fold(0u64, u64::saturating_add)
        };
        Kpis {
            mal: MalKpis {
                leads_generated: m.created,
                mals: mal.leads,
                avg_fit: mal.fit.value(),
                form_completion_rate: ratio(mal.with_form, mal.leads),
            },
            mql: MqlKpis {
                mqls: mql.leads,
                promotion_rate: conversion(Stage::Mal, Stage::Mql),
                avg_engagement: mql.engagement.value(),
                downloads: mql.downloads,
                webinars: mql.webinars,
                content_per_mql: ratio(mql.downloads.saturating_add(mql.webinars), mql.leads),
            },
            sgl: SglKpis {
                sgls: sgl.leads,
                avg_fit: sgl.fit.value(),
                deal_rate: ratio(sgl.reached_deal, sgl.leads),
            },
            sal: SalKpis {
                sals: sal.leads,
                accepted,
                rejected,
                acceptance_rate: ratio(accepted, accepted.saturating_add(rejected)),
                follow_up_median_secs: fu_med,
                follow_up_p90_secs: fu_p90,
                to_sql_rate: conversion(Stage::Sal, Stage::Sql),
                sla_breaches: sal.sla_breaches,
                sla_open: sal.sla_open,
            },
            sql: SqlKpis {
                sqls: sql.leads,
                won,
                lost,
                win_rate: ratio(won, won.saturating_add(lost)),
                to_customer_rate: conversion(Stage::Sql, Stage::Customer),
                avg_deal_value: m
                    .won_value
                    .iter()
                    .filter_map(|(c, s)| Some((c.clone(), Money::new(s.average_minor()?, c.clone()))))
                    .collect(),
            },
            across: AcrossKpis {
                conversions: CONSECUTIVE
                    .iter()
                    .filter(|&&(from, to)| has(from) && has(to))
                    .filter_map(|&(from, to)| {
                        let s = m.stage(from);
                        Some(Conversion {
                            from,
                            to,
                            leads: s.leads,
                            converted: s.reached(to),
                            rate: ratio(s.reached(to), s.leads)?,
                        })
                    })
                    .collect(),
                time_in_stage: Stage::ALL
                    .iter()
                    .filter_map(|&stage| {
                        let d = &m.stage(stage).time_in_stage;
                        Some(StageTime {
                            stage,
                            stays: d.len() as u64,
                            median_secs: d.median()?,
                            p90_secs: d.p90()?,
                        })
                    })
                    .collect(),
                mql_to_sql: conversion(Stage::Mql, Stage::Sql),
                sql_to_csql: conversion(Stage::Sql, Stage::Csql),
                mql_to_csql: conversion(Stage::Mql, Stage::Csql),
                time_to_deal_median_secs: td_med,
                time_to_deal_p90_secs: td_p90,
                recycled: count_kind(TransitionKind::Recycle),
                disqualified: count_kind(TransitionKind::Disqualify),
                rejected: count_kind(TransitionKind::Reject),
                lost: count_kind(TransitionKind::Lose),
                reasons: m.reasons.clone(),
                sla_breaches: Stage::ALL
                    .iter()
                    .map(|&s| (s, m.stage(s).sla_breaches))
                    .filter(|(_, n)| *n > 0)
                    .collect(),
            },
            lifecycle_stages: m.lifecycle_stages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_pairs_move_forward_or_requalify() {
        for (from, to) in CONSECUTIVE {
            match (from.rank(), to.rank()) {
                (Some(a), Some(b)) => assert!(a < b, "{from} → {to}"),
                _ => assert_eq!((from, to), (Stage::Nurture, Stage::Mql)),
            }
        }
    }

    #[test]
    fn rates_need_a_denominator() {
        let k = Kpis::from_metrics(&FunnelMetrics::new());
        assert!(k.across.conversions.is_empty());
        assert!(k.across.time_in_stage.is_empty());
        assert_eq!(k.sal.acceptance_rate, None);
        assert_eq!(k.sql.win_rate, None);
    }
}
