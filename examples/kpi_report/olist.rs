//! The Olist marketing funnel (public Kaggle data): 8,000 MQLs that first
//! contacted the Olist marketplace between June 2017 and May 2018, and the
//! 842 of them that closed a deal. Read by path from the shared data folder.
//!
//! Each MQL becomes a lead created (in MQL) at midnight UTC of its
//! `first_contact_date`, with its `origin` as a custom attribute; a lead is
//! won iff its `mql_id` appears in the closed-deals file, recorded as an
//! MQL → Customer win at `won_date`. Because leads are created at midnight,
//! whole days (rounded down) of the library's time-to-deal samples are the
//! calendar days from `first_contact_date` to the date part of `won_date`.
//! One deal is dated 2 days *before* its first contact: it is kept, as -2
//! days, and its negative stay in MQL too.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use indexmap::IndexMap;
use leadflow::analytics::{
    AnalysisConfig, Breakdown, FunnelAnalysis, FunnelAnalyzer, FunnelMetrics, LeadHistory,
};
use leadflow::criteria::LeadView;
use leadflow::lifecycle::{LeadLifecycle, LifecycleDefinition, Transition, TransitionKind};
use leadflow::{Channel, Lead, LeadId, LifecycleStateMachine, OwnerId, Source, Stage};
use serde::Serialize;

/// The two CSV files' names.
pub(crate) const MQL_FILE: &str = "olist_marketing_qualified_leads_dataset.csv";
/// The closed deals.
pub(crate) const DEALS_FILE: &str = "olist_closed_deals_dataset.csv";

/// The Olist leads with their lifecycles.
pub(crate) struct Olist {
    pub(crate) machine: LifecycleStateMachine,
    pub(crate) leads: Vec<Lead>,
    pub(crate) lives: Vec<LeadLifecycle>,
}

fn channel(origin: &str) -> Channel {
    match origin {
        "organic_search" => Channel::OrganicSearch,
        "paid_search" => Channel::PaidSearch,
        "social" => Channel::Social,
        "email" => Channel::Email,
        "referral" => Channel::Referral,
        "direct_traffic" => Channel::Direct,
        "display" => Channel::Display,
        _ => Channel::Other,
    }
}

/// A CSV reader of `dir/name`; an error names the file.
fn open(dir: &Path, name: &str) -> Result<csv::Reader<std::fs::File>, String> {
    let path = dir.join(name);
    csv::Reader::from_path(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads both files from `dir`.
pub(crate) fn load(dir: &Path) -> Result<Olist, Box<dyn Error>> {
    let machine = LifecycleDefinition::new(Stage::Mql)
        .command(Stage::Mql, TransitionKind::Win)
        .build()?;
    let mut won: BTreeMap<String, (DateTime<Utc>, Option<String>)> = BTreeMap::new();
    let mut deals = open(dir, DEALS_FILE)?;
    for row in deals.deserialize::<BTreeMap<String, String>>() {
        let row = row?;
        let at = NaiveDateTime::parse_from_str(&row["won_date"], "%Y-%m-%d %H:%M:%S")?.and_utc();
        let sr = row.get("sr_id").filter(|s| !s.is_empty()).cloned();
        won.insert(row["mql_id"].clone(), (at, sr));
    }
    let mut leads = Vec::new();
    let mut lives = Vec::new();
    let mut mqls = open(dir, MQL_FILE)?;
    for row in mqls.deserialize::<BTreeMap<String, String>>() {
        let row = row?;
        let day = NaiveDate::parse_from_str(&row["first_contact_date"], "%Y-%m-%d")?;
        let created = Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN));
        let origin = row["origin"].as_str();
        let mut lead =
            Lead::new(LeadId::new(&row["mql_id"])?, created).with_source(Source::marketing(channel(origin)));
        if !origin.is_empty() {
            lead.set_attribute("origin", origin)?;
        }
        let mut life = machine.start(&lead);
        if let Some((at, sr)) = won.get(lead.id.as_str()) {
            let by = sr.as_deref().map(OwnerId::new).transpose()?;
            machine.apply(
                &mut life,
                Transition::Win { by, value: None },
                &LeadView::new(&lead),
                *at,
            )?;
        }
        leads.push(lead);
        lives.push(life);
    }
    Ok(Olist {
        machine,
        leads,
        lives,
    })
}

/// The origin breakdown.
pub(crate) fn origin() -> Breakdown {
    Breakdown::Attribute { key: "origin".into() }
}

/// The funnel over every lead, by origin, cohort (month of first contact)
/// and channel, as of 2019-01-01.
pub(crate) fn analyze(o: &Olist) -> FunnelAnalysis {
    let as_of = Utc
        .with_ymd_and_hms(2019, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let config =
        AnalysisConfig::new(as_of).with_breakdowns([origin(), Breakdown::Cohort, Breakdown::Channel]);
    FunnelAnalyzer::new(&o.machine, config)
        .analyze(o.leads.iter().zip(&o.lives).map(|(l, f)| LeadHistory::new(l, f)))
}

/// MQLs, wins and the rate of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Group {
    pub(crate) mqls: u64,
    pub(crate) won: u64,
    pub(crate) rate: f64,
}

impl Group {
    pub(crate) fn of(m: &FunnelMetrics) -> Group {
        let s = m.stage(Stage::Mql);
        Group {
            mqls: s.leads,
            won: s.reached(Stage::Customer),
            rate: m.conversion(Stage::Mql, Stage::Customer).unwrap_or(0.0),
        }
    }
}

/// The figures the issue asks for, printed as the last line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub(crate) mqls: u64,
    pub(crate) won: u64,
    pub(crate) mql_to_won_rate: f64,
    pub(crate) median_days_to_won: Option<i64>,
    pub(crate) p90_days_to_won: Option<i64>,
    pub(crate) by_origin: IndexMap<String, Group>,
}

/// Calendar days from seconds since a midnight.
pub(crate) fn days(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

pub(crate) fn summary(a: &FunnelAnalysis) -> Summary {
    let all = Group::of(&a.overall);
    Summary {
        mqls: all.mqls,
        won: all.won,
        mql_to_won_rate: all.rate,
        median_days_to_won: a.overall.time_to_deal.median().map(days),
        p90_days_to_won: a.overall.time_to_deal.p90().map(days),
        by_origin: a
            .by(&origin())
            .map(|t| t.iter().map(|(k, m)| (k.clone(), Group::of(m))).collect())
            .unwrap_or_default(),
    }
}
