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
//!   "mql": <Condition>?, "funnel": <FunnelConfig>?}`. Without `lifecycle`, the
//!   standard B2B lifecycle with the `mql` condition (default: combined score
//!   at least 60, or a pricing-sheet download).
//! - Input, one JSON object per line: an `Event` in the core format, or
//!   `{"upsert": <Lead>, "at": <time>?}` to add a lead or record new
//!   attributes (at `at`, default its `created_at` for a new lead and the
//!   latest event time for a known one). Blank lines are skipped.
//! - Output, one JSON object per line: each `Output` (`transition`,
//!   `retracted`, `score_crossed`), `{"type":"rejected","line":n,...}` for an
//!   event the funnel refused (with the typed error), and
//!   `{"type":"error","line":n,"message":...}` for a line that is not valid
//!   input. The counters go to standard error at the end.
//!
//! `now` is the latest event time read so far, or the `--now` flag. Events
//! are ingested in batches of up to 4 096 lines (an upsert line ends a
//! batch), so the engine's order and batching independence makes the output
//! the same as line-at-a-time ingestion up to the order of lines within a
//! batch.

use std::io::{BufRead, BufWriter, Write};

use chrono::{DateTime, Utc};
use leadflow::criteria::Condition;
use leadflow::funnel::{Funnel, FunnelConfig, IngestError, IngestReport, Output};
use leadflow::scoring::ScoringModel;
use leadflow::{Event, EventId, Lead, LeadId, LifecycleDefinition};
use serde::{Deserialize, Serialize};

const BATCH: usize = 4_096;

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
    funnel: FunnelConfig,
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
    /// An event the funnel refused.
    Rejected {
        line: Option<usize>,
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
    funnel: Funnel,
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
                let known = self.funnel.lead(&u.upsert.id).is_some();
                let at =
                    u.at.or(if known { Some(self.now()) } else { None })
                        .unwrap_or(u.upsert.created_at);
                match self.funnel.upsert_lead(u.upsert, at) {
                    Ok(outputs) => self.write(&outputs),
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
        let lines: Vec<(usize, EventId, LeadId)> = batch
            .iter()
            .map(|(n, e)| (*n, e.id.clone(), e.lead.clone()))
            .collect();
        let report: IngestReport = self.funnel.ingest_batch(batch.into_iter().map(|(_, e)| e), now);
        self.write(&report.outputs)?;
        for r in &report.rejected {
            let line = lines
                .iter()
                .find(|(_, id, lead)| *id == r.event && *lead == r.lead)
                .map(|(n, _, _)| *n);
            self.emit(&Problem::Rejected {
                line,
                event: &r.event,
                lead: &r.lead,
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut config_path = None;
    let mut fixed_now = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--now" => {
                let value = args.next().ok_or("--now needs an RFC 3339 time")?;
                fixed_now = Some(DateTime::parse_from_rfc3339(&value)?.with_timezone(&Utc));
            }
            _ if config_path.is_none() => config_path = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}").into()),
        }
    }
    let config_path =
        config_path.ok_or("usage: pipeline CONFIG.json [--now TIME] < events.ndjson > outputs.ndjson")?;
    let config: Config = serde_json::from_str(&std::fs::read_to_string(&config_path)?)
        .map_err(|e| format!("{config_path}: {e}"))?;
    let definition = match (config.lifecycle, config.mql) {
        (Some(_), Some(_)) => return Err("give `lifecycle` or `mql`, not both".into()),
        (Some(d), None) => d,
        (None, mql) => {
            LifecycleDefinition::standard_b2b(mql.unwrap_or_else(leadflow::synthetic::mql_criterion))
        }
    };
    let funnel = Funnel::new(config.model, definition.build()?, config.funnel);

    let stdout = std::io::stdout();
    let mut pipeline = Pipeline {
        funnel,
        fixed_now,
        latest: None,
        batch: Vec::with_capacity(BATCH),
        out: BufWriter::new(stdout.lock()),
    };
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        pipeline.line(i + 1, &line?)?;
    }
    pipeline.flush()?;
    pipeline.out.flush()?;
    eprintln!("{}", serde_json::to_string(&pipeline.funnel.stats())?);
    Ok(())
}
