//! A shell-pipe front end for the engine: reads a configuration (JSON file
//! given on the command line) and NDJSON lines on standard input, writes what
//! to act on as NDJSON on standard output.
//!
//! ```text
//! cargo run -q --example pipeline -- examples/pipeline/config.json [--now 2026-03-31T00:00:00Z] \
//!     < examples/pipeline/events.ndjson
//! ```
//!
//! - Configuration: `{"model": <ScoringModel>, "lifecycle": <LifecycleDefinition>?,
//!   "mql": <Condition>?, "engine": <EngineConfig>?}`. Without `lifecycle`,
//!   the standard B2B lifecycle with the `mql` condition (default: combined
//!   score at least 60, or a pricing-sheet download).
//! - Input, one JSON object per line: an `Event` in the core format, or
//!   `{"upsert": <Lead>, "at": <time>?}` to add a lead or record new
//!   attributes (at `at`, default its `created_at` for a new lead and the
//!   latest event time for a known one). Blank lines are skipped.
//! - Output, one JSON object per line: each `Output` (`transition`,
//!   `retracted`, `score_crossed`), `{"type":"rejected","line":n,...}` for an
//!   event the engine refused (with the typed error), and
//!   `{"type":"error","line":n,"message":...}` for a line that is not valid
//!   input. The engine's counters go to standard error at the end.
//!
//! `now` is the `--now` flag when given. Otherwise the first time read
//! (an event's, or an upsert's) starts it, and a later one moves it forward
//! when it is at most the engine's `allowed_lateness` plus `clock_skew`
//! ahead of it; an event dated further ahead is refused as
//! `too_far_in_future` and leaves `now` where it was. One wrong timestamp
//! can so move `now` by no more than the lateness the engine allows, and the
//! real events after it are still taken. (After a quiet gap longer than
//! that, pass `--now`.)
//!
//! Lines are read as bytes: a line that is not UTF-8, longer than 1 MiB,
//! not JSON or not valid input is reported with its number and skipped; an
//! I/O error ends the run after what was read is ingested and written.
//! Output comes in batches of input lines (up to 4 096 lines; an upsert
//! line ends a batch and is applied alone): a batch's engine outputs in the
//! engine's order, then its refused and invalid lines in line order. The
//! engine's order and batching independence make the outputs the same as
//! line-at-a-time ingestion up to the order within a batch.

use std::io::BufWriter;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use leadflow::criteria::Condition;
use leadflow::engine::EngineConfig;
use leadflow::lifecycle::LifecycleDefinition;
use leadflow::{Engine, ScoringModel};
use serde::Deserialize;

#[path = "pipeline/stream.rs"]
mod stream;

const USAGE: &str = "\
Usage: pipeline CONFIG.json [--now TIME] [--help] < events.ndjson > outputs.ndjson

Reads events and lead upserts as NDJSON on standard input and writes the
transitions, retractions, threshold crossings and refused lines to act on as
NDJSON on standard output. TIME is RFC 3339 (default: the latest event time, moving forward by at most\nthe engine's allowed_lateness plus clock_skew at a time).";

/// The configuration file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    model: ScoringModel,
    #[serde(default)]
    lifecycle: Option<LifecycleDefinition>,
    #[serde(default)]
    mql: Option<Condition>,
    #[serde(default)]
    engine: EngineConfig,
}

/// What the command line asked for.
struct Args {
    config: String,
    fixed_now: Option<DateTime<Utc>>,
}

/// Reads the command line; `Ok(None)` for `--help`.
fn args() -> Result<Option<Args>, String> {
    let mut args = std::env::args().skip(1);
    let mut config = None;
    let mut fixed_now = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--now" => {
                let value = args.next().ok_or("--now needs an RFC 3339 time")?;
                let at = DateTime::parse_from_rfc3339(&value).map_err(|e| format!("--now {value}: {e}"))?;
                fixed_now = Some(at.with_timezone(&Utc));
            }
            _ if config.is_none() && !arg.starts_with('-') => config = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let config = config.ok_or("the configuration file is missing")?;
    Ok(Some(Args { config, fixed_now }))
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.config).map_err(|e| format!("{}: {e}", args.config))?;
    let config: Config = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.config))?;
    let definition = match (config.lifecycle, config.mql) {
        (Some(_), Some(_)) => return Err("give `lifecycle` or `mql`, not both".into()),
        (Some(d), None) => d,
        (None, mql) => {
            LifecycleDefinition::standard_b2b(mql.unwrap_or_else(leadflow::synthetic::mql_criterion))
        }
    };
    let engine = Engine::new(config.model, definition.build()?, config.engine)?;

    let stdout = std::io::stdout();
    let mut pipeline = stream::Pipeline::new(engine, args.fixed_now, BufWriter::new(stdout.lock()));
    let read = pipeline.read_all(std::io::stdin().lock());
    eprintln!("{}", serde_json::to_string(&pipeline.engine.stats())?);
    read.map_err(|e| format!("reading standard input: {e}").into())
}

fn main() -> ExitCode {
    match args() {
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Ok(Some(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
