//! A lead flows through the standard B2B lifecycle in an [`Engine`]:
//! Lead → MAL → MQL (by a high-intent action) → SAL (sales accepts) → SQL (BANT
//! evidence) → Opportunity → Customer → CSQL, printing each transition with its
//! reason. One illegal command is shown being refused, changing nothing, and a
//! late event re-evaluating the lead's timeline.
//!
//! Run: `cargo run --example quickstart` (`-- --help` prints the usage).

use std::error::Error;
use std::process::ExitCode;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::criteria::{Checklist, Condition};
use leadflow::engine::{EngineConfig, Output};
use leadflow::lifecycle::{LifecycleDefinition, Money, Transition, TransitionKind};
use leadflow::{
    AssetType, Channel, Dimension, Engine, Event, EventId, EventKind, EventMatcher, EventType, Lead, LeadId,
    OwnerId, Predicate, ScoringModel, Seniority, Source,
};

const USAGE: &str = "\
Usage: quickstart [--help]

Walks one lead through the standard B2B lifecycle (Lead, MAL, MQL, SAL, SQL,
Opportunity, Customer, CSQL) in an Engine, printing each transition with its
reason; shows an illegal command refused and a late event re-evaluating the
lead's timeline. Takes no arguments.";

/// Prints the usage for `--help`; otherwise runs, printing any error as
/// text (never Rust's debug form) with a non-zero exit status.
fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("error: unknown argument '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    // MQL when the combined score reaches 60, or on a pricing-sheet download.
    let mql = Condition::any([
        Condition::score_at_least(Dimension::Combined, 60),
        Condition::did(EventMatcher::download(AssetType::PricingSheet)),
    ]);
    // Customers become CSQLs when they use the product heavily in 30 days.
    let expansion = Condition::count(
        EventMatcher::of(EventType::ProductUsage).with_property("seats_used", Predicate::at_least(40.0)),
        3,
        Some("30d".parse()?),
    );
    let machine = LifecycleDefinition::standard_b2b(mql)
        .set_automatic(TransitionKind::FlagForExpansion, "heavy usage", &expansion)
        .build()?;
    let mut engine = Engine::new(ScoringModel::b2b_default()?, machine, EngineConfig::default())?;

    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .ok_or("bad date")?;
    let ada = LeadId::new("lead-ada")?;
    let mut lead = Lead::new(ada.clone(), t0).with_source(Source::marketing(Channel::PaidSearch));
    lead.person.set_email("ada@acme.io");
    lead.person.seniority = Some(Seniority::Director);
    lead.company.employees = Some(450);
    let (key, _) = engine.upsert_lead(lead, t0)?;
    println!("{ada} starts in {}", stage(&engine, &ada));

    // Day 0: a whitepaper download. Identified + a download: marketing accepts (MAL).
    // Day 2: a pricing-sheet download: high intent, MQL whatever the score.
    let t = t0 + Duration::days(2);
    let report = engine.ingest(
        [
            download(&ada, "e1", t0, AssetType::Whitepaper)?,
            download(&ada, "e2", t, AssetType::PricingSheet)?,
        ],
        t,
    );
    print_outputs(&report.outputs);

    let scores = engine.scores_at(key, t)?;
    let cell = scores
        .cell()
        .map_or_else(|| "no cell".to_owned(), |c| c.to_string());
    println!(
        "  scores at MQL: fit {}, engagement {}, combined {}, matrix cell {cell}",
        scores.fit, scores.engagement, scores.combined
    );

    // An illegal command: an MQL cannot be won. Refused, and nothing changes.
    let rep = OwnerId::new("rep-jane")?;
    let win = Transition::Win {
        by: Some(rep.clone()),
        value: None,
    };
    match engine.command(key, win, t + Duration::hours(1)) {
        Ok(_) => return Err("an MQL must not be winnable".into()),
        Err(e) => println!("refused: {e}\n  (still {})", stage(&engine, &ada)),
    }

    // A webinar attended the day before arrives late: the lead's timeline is
    // re-evaluated from then on, and what no longer holds is retracted.
    let late = Event::new(
        EventId::new("e0")?,
        ada.clone(),
        t - Duration::days(1),
        EventKind::WebinarAttend { webinar: None },
    );
    println!("a late webinar attendance:");
    print_outputs(&engine.ingest([late], t + Duration::hours(2)).outputs);

    // Sales accepts within the 24 h SLA (SAL), follows up, and qualifies with BANT evidence (SQL).
    let at = t + Duration::hours(3);
    print_outputs(&engine.command(key, Transition::Accept { owner: rep.clone() }, at)?);
    engine.record_follow_up(key, at + Duration::hours(1), Some(rep.clone()))?;
    let bant = Checklist::new()
        .met("budget", "40k approved for Q3")
        .met("authority", "VP Operations signs")
        .met("need", "replacing spreadsheets")
        .unknown("timeline");
    let qualify = Transition::QualifyForSales {
        by: rep.clone(),
        evidence: bant,
    };
    print_outputs(&engine.command(key, qualify, t + Duration::days(5))?);

    // A deal is opened and won.
    let value = Some(Money::new(4_000_000, "EUR"));
    let convert = Transition::Convert {
        by: Some(rep.clone()),
        value: value.clone(),
    };
    print_outputs(&engine.command(key, convert, t + Duration::days(12))?);
    let at = t + Duration::days(40);
    print_outputs(&engine.command(key, Transition::Win { by: Some(rep), value }, at)?);

    // As a customer, heavy product usage flags it for expansion (CSQL).
    let mut usage = Vec::new();
    let mut at = at;
    for i in 0..3 {
        at += Duration::days(5);
        usage.push(
            Event::new(
                EventId::new(format!("u{i}"))?,
                ada.clone(),
                at,
                EventKind::ProductUsage { feature: None },
            )
            .with_property("seats_used", 45),
        );
    }
    print_outputs(&engine.ingest(usage, at).outputs);

    let record = engine.lead(key).ok_or("the lead is gone")?;
    let speed = record
        .lifecycle
        .follow_up_speed(leadflow::Stage::Sal)
        .map_or_else(
            || "none yet".to_owned(),
            |d| format!("{} minutes", d.num_minutes()),
        );
    println!(
        "\nfinal stage: {}; SAL follow-up speed: {speed}",
        record.lifecycle.stage()
    );
    println!("SLA breaches now: {}", engine.overdue(at).len());
    let stats = engine.stats();
    println!(
        "engine: {} events applied, {} transitions, {} retractions",
        stats.events_applied, stats.transitions, stats.retractions
    );
    Ok(())
}

/// The lead's stage, for printing.
fn stage(engine: &Engine, lead: &LeadId) -> String {
    engine
        .lead(lead)
        .map_or_else(|| "(unknown)".to_owned(), |r| r.lifecycle.stage().to_string())
}

/// Prints each transition (and retraction) with its reason.
fn print_outputs(outputs: &[Output]) {
    for output in outputs {
        match output {
            Output::Transition { record } => println!(
                "{} {:>11} → {:<11} {}",
                record.at.format("%Y-%m-%d %H:%M"),
                record.from,
                record.to,
                record.transition.describe()
            ),
            Output::Retracted { record } => println!(
                "{} retracted: {} → {}",
                record.at.format("%Y-%m-%d %H:%M"),
                record.from,
                record.to
            ),
            Output::ScoreCrossed { threshold, after, .. } => {
                println!("  score crossed {threshold}: now {after}")
            }
            _ => {}
        }
    }
}

fn download(
    lead: &LeadId,
    id: &str,
    at: DateTime<Utc>,
    asset: AssetType,
) -> Result<Event, leadflow::IdError> {
    Ok(Event::new(
        EventId::new(id)?,
        lead.clone(),
        at,
        EventKind::ContentDownload {
            asset,
            asset_id: None,
        },
    ))
}
