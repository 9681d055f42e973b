//! A lead flows through the standard B2B lifecycle:
//! Lead → MAL → MQL (by a high-intent action) → SAL (sales accepts) → SQL (BANT
//! evidence) → Opportunity → Customer → CSQL, printing each transition with its
//! reason. One illegal command is shown being refused, changing nothing.
//!
//! Run: `cargo run --example quickstart` (`-- --help` prints the usage).

use std::error::Error;
use std::process::ExitCode;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::criteria::{Checklist, Condition, LeadView};
use leadflow::scoring::ScoringModel;
use leadflow::{
    AssetType, Channel, Dimension, Event, EventId, EventKind, EventMatcher, EventType, Lead, LeadId,
    LifecycleDefinition, LifecycleStateMachine, Money, OwnerId, Predicate, Seniority, Source, Stage,
    Transition, TransitionKind, TransitionRecord,
};

const USAGE: &str = "\
Usage: quickstart [--help]

Walks one lead through the standard B2B lifecycle (Lead, MAL, MQL, SAL, SQL,
Opportunity, Customer, CSQL), printing each transition with its reason, and
shows an illegal command refused. Takes no arguments.";

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
    let model = ScoringModel::b2b_default()?;
    let machine = LifecycleDefinition::standard_b2b(mql)
        .set_automatic(TransitionKind::FlagForExpansion, "heavy usage", &expansion)
        .build()?;

    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .ok_or("bad date")?;
    let mut lead =
        Lead::new(LeadId::new("lead-ada")?, t0).with_source(Source::marketing(Channel::PaidSearch));
    lead.person.set_email("ada@acme.io");
    lead.person.seniority = Some(Seniority::Director);
    lead.company.employees = Some(450);

    let mut events = Vec::new();
    let mut life = machine.start(&lead);
    println!("{} starts in {}", lead.id, life.stage());

    // Day 0: a whitepaper download. Identified + a download: marketing accepts (MAL).
    events.push(download(&lead, "e1", t0, AssetType::Whitepaper)?);
    step(&machine, &model, &mut life, &lead, &events, t0);

    // Day 2: a pricing-sheet download: high intent, MQL whatever the score.
    let t = t0 + Duration::days(2);
    events.push(download(&lead, "e2", t, AssetType::PricingSheet)?);
    step(&machine, &model, &mut life, &lead, &events, t);

    let scores = model.score(&lead, &events, t);
    let cell = scores
        .cell()
        .map_or_else(|| "no cell".to_owned(), |c| c.to_string());
    println!(
        "  scores at MQL: fit {}, engagement {}, combined {}, matrix cell {cell}",
        scores.fit, scores.engagement, scores.combined
    );
    let view = LeadView::new(&lead).with_events(&events).with_scores(&scores);
    let rep = OwnerId::new("rep-jane")?;

    // An illegal command: an MQL cannot be won. Refused, and nothing changes.
    let at = t + Duration::hours(1);
    match machine.apply(
        &mut life,
        Transition::Win {
            by: Some(rep.clone()),
            value: None,
        },
        &view,
        at,
    ) {
        Ok(_) => return Err("an MQL must not be winnable".into()),
        Err(e) => println!(
            "refused: {e}\n  (still {}, {} transitions recorded)",
            life.stage(),
            life.history().len()
        ),
    }

    // Sales accepts within the 24 h SLA (SAL), follows up, and qualifies with BANT evidence (SQL).
    let at = t + Duration::hours(3);
    print_record(machine.apply(&mut life, Transition::Accept { owner: rep.clone() }, &view, at)?);
    life.record_follow_up(at + Duration::hours(1), Some(rep.clone()));
    let bant = Checklist::new()
        .met("budget", "40k approved for Q3")
        .met("authority", "VP Operations signs")
        .met("need", "replacing spreadsheets")
        .unknown("timeline");
    let at = t + Duration::days(5);
    print_record(machine.apply(
        &mut life,
        Transition::QualifyForSales {
            by: rep.clone(),
            evidence: bant,
        },
        &view,
        at,
    )?);

    // A deal is opened and won.
    let at = t + Duration::days(12);
    let value = Some(Money::new(4_000_000, "EUR"));
    print_record(machine.apply(
        &mut life,
        Transition::Convert {
            by: Some(rep.clone()),
            value: value.clone(),
        },
        &view,
        at,
    )?);
    let at = t + Duration::days(40);
    print_record(machine.apply(&mut life, Transition::Win { by: Some(rep), value }, &view, at)?);

    // As a customer, heavy product usage flags it for expansion (CSQL).
    let mut at = at;
    for i in 0..3 {
        at += Duration::days(5);
        events.push(
            Event::new(
                EventId::new(format!("u{i}"))?,
                lead.id.clone(),
                at,
                EventKind::ProductUsage { feature: None },
            )
            .with_property("seats_used", 45),
        );
    }
    step(&machine, &model, &mut life, &lead, &events, at);

    let speed = life.follow_up_speed(Stage::Sal).map_or_else(
        || "none yet".to_owned(),
        |d| format!("{} minutes", d.num_minutes()),
    );
    println!("\nfinal stage: {}; SAL follow-up speed: {speed}", life.stage());
    println!("SLA breaches: {}", life.sla_breaches(&machine, at).len());
    Ok(())
}

/// Scores the lead at `now` and fires the automatic edges whose criteria hold.
fn step(
    machine: &LifecycleStateMachine,
    model: &ScoringModel,
    life: &mut leadflow::LeadLifecycle,
    lead: &Lead,
    events: &[Event],
    now: DateTime<Utc>,
) {
    let scores = model.score(lead, events, now);
    let view = LeadView::new(lead).with_events(events).with_scores(&scores);
    for record in machine.advance(life, &view, now) {
        print_record(record);
    }
}

fn print_record(r: &TransitionRecord) {
    println!(
        "{} {:>11} → {:<11} {}",
        r.at.format("%Y-%m-%d %H:%M"),
        r.from,
        r.to,
        r.transition.describe()
    );
}

fn download(lead: &Lead, id: &str, at: DateTime<Utc>, asset: AssetType) -> Result<Event, leadflow::IdError> {
    Ok(Event::new(
        EventId::new(id)?,
        lead.id.clone(),
        at,
        EventKind::ContentDownload {
            asset,
            asset_id: None,
        },
    ))
}
