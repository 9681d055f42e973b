//! Scores one lead under the default B2B model and prints the breakdown a
//! sales rep would read: every rule that counted, for which event, how much
//! it decayed and which cap clipped it, summing exactly to the score. Then
//! the same lead two months later, with no new activity: decay at work.
//!
//! Run: `cargo run --example explain` (`-- --help` prints the usage).

use std::error::Error;
use std::process::ExitCode;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::scoring::ScoreState;
use leadflow::{
    AssetType, Channel, Dimension, Event, EventId, EventKind, JobFunction, Lead, LeadId, ScoringModel,
    Seniority, Source,
};

const USAGE: &str = "\
Usage: explain [--help]

Scores one lead under the default B2B model and prints every rule that
counted (for which event, after decay and caps), then the same lead two
months later. Takes no arguments.";

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
    let model = ScoringModel::b2b_default()?;
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .ok_or("bad date")?;

    // Who the lead is: a director of IT at a 450-person software company.
    let mut lead =
        Lead::new(LeadId::new("lead-ada")?, t0).with_source(Source::marketing(Channel::PaidSearch));
    lead.company.name = Some("Acme Analytics".into());
    lead.company.industry = Some("software".into());
    lead.company.employees = Some(450);
    lead.person.seniority = Some(Seniority::Director);
    lead.person.function = Some(JobFunction::It);
    lead.person.set_email("ada@acme-analytics.io");

    // What the lead did over three weeks.
    let mut n = 0;
    let mut ev = |days: i64, hours: i64, kind: EventKind| -> Result<Event, Box<dyn Error>> {
        n += 1;
        let at: DateTime<Utc> = t0 + Duration::days(days) + Duration::hours(hours);
        Ok(Event::new(
            EventId::new(format!("evt-{n:03}"))?,
            lead.id.clone(),
            at,
            kind,
        ))
    };
    let page = |path: &str| EventKind::PageView {
        path: path.into(),
        category: None,
    };
    let download = |asset| EventKind::ContentDownload {
        asset,
        asset_id: None,
    };
    let events = vec![
        ev(0, 0, download(AssetType::Whitepaper))?,
        ev(0, 1, EventKind::EmailOpen { campaign: None })?,
        ev(2, 0, page("/product/pipelines"))?,
        ev(3, 0, page("/product/connectors"))?,
        ev(5, 0, page("/pricing"))?,
        ev(6, 0, page("/pricing/enterprise"))?,
        ev(7, 0, page("/pricing"))?,
        ev(8, 0, page("/pricing"))?,
        ev(9, 0, download(AssetType::CaseStudy))?,
        ev(10, 0, EventKind::WebinarRegister { webinar: None })?,
        ev(12, 0, EventKind::WebinarAttend { webinar: None })?,
        ev(14, 0, page("/careers"))?,
        ev(20, 0, EventKind::DemoRequest)?,
    ];

    let now = t0 + Duration::days(21);
    let why = model.explain(&lead, &events, now);
    println!("Why is {} scored {}?\n", lead.id, why.scores.combined);
    println!("{why}");
    assert_eq!(why.total(Dimension::Combined), why.scores.combined);

    // The engine's incremental path gives the same answer.
    let mut state = ScoreState::new();
    for e in &events {
        state.record(&model, e);
    }
    assert_eq!(model.scores_with(&lead, &state, now), why.scores);
    println!(
        "incremental state: {} hits kept for {} events\n",
        state.len(),
        events.len()
    );

    let later = now + Duration::days(60);
    println!("Two months later, no new activity:\n");
    println!("{}", model.explain_with(&lead, &state, later));
    Ok(())
}
