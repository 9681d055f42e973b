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
//! `now` is the latest event time read so far, or the `--now` flag. Events
//! are ingested in batches of up to 4 096 lines (an upsert line ends a
//! batch); the engine's order and batching independence makes the output the
//! same as line-at-a-time ingestion up to the order of lines within a batch.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use leadflow::criteria::Condition;
use leadflow::engine::{EngineConfig, IngestError, Output};
use leadflow::scoring::ScoringModel;
use leadflow::{Engine, Event, EventId, Lead, LeadId, LifecycleDefinition};
use serde::{Deserialize, Serialize};

const BATCH: usize = 4_096;

const USAGE: &str = "\
Usage: pipeline CONFIG.json [--now TIME] [--help] < events.ndjson > outputs.ndjson

Reads events and lead upserts as NDJSON on standard input and writes the
transitions, retractions, threshold crossings and refused lines to act on as
NDJSON on standard output. TIME is RFC 3339 (default: the latest event time).";

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

/// An upsert line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upsert {
    upsert: Lead,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

/// A line the pipeline could not use, written beside the outputs.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Problem<'a> {
    /// An event the engine refused.
    Rejected {
        line: usize,
        event: &'a EventId,
        lead: &'a LeadId,
        error: &'a IngestError,
        message: String,
    },
    /// A line that is not valid input.
    Error { line: usize, message: String },
}

/// One input line.
enum Line {
    Upsert(Box<Upsert>),
    Event(Box<Event>),
}

impl Line {
    fn parse(text: &str) -> serde_json::Result<Line> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("upsert").is_some() {
            Upsert::deserialize(value).map(|u| Line::Upsert(Box::new(u)))
        } else {
            Event::deserialize(value).map(|e| Line::Event(Box::new(e)))
        }
    }
}

struct Pipeline<W: Write> {
    engine: Engine,
    fixed_now: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
    /// The batch: events with their line numbers.
    batch: Vec<(usize, Event)>,
    out: W,
}

impl<W: Write> Pipeline<W> {
    fn now(&self) -> DateTime<Utc> {
        self.fixed_now.or(self.latest).unwrap_or_default()
    }

    fn line(&mut self, n: usize, text: &str) -> std::io::Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        match Line::parse(text) {
            Ok(Line::Event(event)) => {
                self.latest = Some(self.latest.map_or(event.at, |l| l.max(event.at)));
                self.batch.push((n, *event));
                if self.batch.len() >= BATCH {
                    self.flush()?;
                }
                Ok(())
            }
            Ok(Line::Upsert(u)) => {
                self.flush()?;
                let known = self.engine.key(&u.upsert.id).is_some();
                let at = match u.at {
                    Some(at) => at,
                    None if known => self.now(),
                    None => u.upsert.created_at,
                };
                match self.engine.upsert_lead(u.upsert, at) {
                    Ok((_, outputs)) => self.write(&outputs),
                    Err(e) => self.emit(&Problem::Error {
                        line: n,
                        message: e.to_string(),
                    }),
                }
            }
            Err(e) => self.emit(&Problem::Error {
                line: n,
                message: e.to_string(),
            }),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let batch = std::mem::take(&mut self.batch);
        let report = self.engine.ingest(batch.iter().map(|(_, e)| e), now);
        self.write(&report.outputs)?;
        for r in &report.rejected {
            // `index` is the event's position in this call's input.
            let Some((line, event)) = batch.get(r.index) else {
                continue;
            };
            self.emit(&Problem::Rejected {
                line: *line,
                event: &event.id,
                lead: &event.lead,
                error: &r.error,
                message: r.error.to_string(),
            })?;
        }
        Ok(())
    }

    fn write(&mut self, outputs: &[Output]) -> std::io::Result<()> {
        for o in outputs {
            serde_json::to_writer(&mut self.out, o)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn emit(&mut self, problem: &Problem<'_>) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, problem)?;
        self.out.write_all(b"\n")
    }
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
    let mut pipeline = Pipeline {
        engine,
        fixed_now: args.fixed_now,
        latest: None,
        batch: Vec::with_capacity(BATCH),
        out: BufWriter::new(stdout.lock()),
    };
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        pipeline.line(i + 1, &line?)?;
    }
    pipeline.flush()?;
    pipeline.out.flush()?;
    eprintln!("{}", serde_json::to_string(&pipeline.engine.stats())?);
    Ok(())
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
