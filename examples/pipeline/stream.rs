//! The pipeline's work, apart from the command line: reading lines, parsing
//! them, choosing `now`, batching, and writing outputs in a fixed order.
//! The fuzz harness (`tests/fuzz/`) drives it on arbitrary bytes.

use std::io::{BufRead, Write};

use chrono::{DateTime, TimeDelta, Utc};
use leadflow::engine::{IngestError, Output};
use leadflow::{Engine, Event, EventId, Lead, LeadId};
use serde::{Deserialize, Serialize};

/// Input lines per batch at most.
pub(crate) const BATCH: usize = 4_096;

/// The longest input line read, in bytes (without its newline); a longer
/// line is reported and skipped, so one line cannot make the pipeline hold
/// more than this.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// An upsert line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upsert {
    upsert: Lead,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
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

/// A line the pipeline could not use, written beside the outputs.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Problem<'a> {
    /// An event refused (by the engine, or by the `now` rule).
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

/// A problem waiting for the end of its batch.
enum Pending {
    /// The event at this position of the batch, refused with this error.
    Refused(usize, IngestError),
    /// An invalid line: its number and why.
    Invalid(usize, String),
}

impl Pending {
    fn line(&self, batch: &[(usize, Event)]) -> usize {
        match self {
            Pending::Refused(i, _) => batch.get(*i).map_or(0, |(n, _)| *n),
            Pending::Invalid(n, _) => *n,
        }
    }
}

/// Reads lines as bytes, numbered from 1: a line that is not UTF-8 or is
/// longer than [`MAX_LINE`] comes back as `Err(why)` with its number, and
/// the reading goes on.
pub(crate) struct Lines<R> {
    input: R,
    number: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(input: R) -> Lines<R> {
        Lines {
            input,
            number: 0,
            buf: Vec::new(),
        }
    }

    /// The next line, `None` at the end of the input.
    #[allow(clippy::type_complexity)]
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<(usize, Result<&str, String>)>> {
        self.buf.clear();
        let limit = MAX_LINE as u64 + 1;
        let read = std::io::Read::take(&mut self.input, limit).read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > MAX_LINE {
            // Skip the rest of the line without holding it.
            loop {
                let chunk = self.input.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        self.input.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = chunk.len();
                        self.input.consume(n);
                    }
                }
            }
            let why = format!("the line is longer than {MAX_LINE} bytes");
            return Ok(Some((self.number, Err(why))));
        }
        let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match std::str::from_utf8(text) {
            Ok(s) => Ok(Some((self.number, Ok(s)))),
            Err(e) => Ok(Some((
                self.number,
                Err(format!("the line is not UTF-8 (byte {})", e.valid_up_to() + 1)),
            ))),
        }
    }
}

/// The engine fed from input lines, writing its outputs to `out`.
pub(crate) struct Pipeline<W: Write> {
    pub(crate) engine: Engine,
    /// `--now`.
    fixed_now: Option<DateTime<Utc>>,
    /// `now` by the rule, once a time was read.
    now: Option<DateTime<Utc>>,
    /// The last time refused as too far ahead of `now`.
    ahead: Option<DateTime<Utc>>,
    /// The batch: events with their line numbers.
    batch: Vec<(usize, Event)>,
    /// Lines read into the batch (events and invalid lines).
    lines: usize,
    /// The batch's problems so far.
    pending: Vec<Pending>,
    pub(crate) out: W,
}

impl<W: Write> Pipeline<W> {
    pub(crate) fn new(engine: Engine, fixed_now: Option<DateTime<Utc>>, out: W) -> Pipeline<W> {
        Pipeline {
            engine,
            fixed_now,
            now: None,
            ahead: None,
            batch: Vec::new(),
            lines: 0,
            pending: Vec::new(),
            out,
        }
    }

    /// `now` for the engine: `--now`, else the rule's, else the epoch.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.fixed_now.or(self.now).unwrap_or_default()
    }

    /// The `now` rule without `--now`: the first time read (an event's or
    /// an upsert's) starts `now`; a later one moves it forward when it is at
    /// most the engine's `allowed_lateness` plus `clock_skew` ahead of it. A
    /// time further ahead leaves `now` where it was (its event is refused as
    /// too far in the future), unless the last time refused that way is
    /// within that reach of it too: two times agree that time moved on (a
    /// quiet gap), and `now` moves to the later. One wrong timestamp moves
    /// `now` by no more than the lateness the engine allows, so the real
    /// events after it are still taken.
    fn observe(&mut self, at: DateTime<Utc>) -> bool {
        if self.fixed_now.is_some() {
            return true;
        }
        let Some(now) = self.now else {
            self.now = Some(at);
            return true;
        };
        let config = self.engine.config();
        let reach = (config.allowed_lateness.to_time_delta())
            .checked_add(&config.clock_skew.to_time_delta())
            .unwrap_or(TimeDelta::MAX);
        let within = at.signed_duration_since(now) <= reach;
        let agreed = self
            .ahead
            .is_some_and(|a| at.signed_duration_since(a).abs() <= reach);
        if within || agreed {
            self.now = Some(now.max(at));
            self.ahead = None;
            true
        } else {
            self.ahead = Some(at);
            false
        }
    }

    /// Reads every line of `input`; what was read is ingested and written
    /// even when reading fails.
    pub(crate) fn read_all(&mut self, input: impl BufRead) -> std::io::Result<()> {
        let mut lines = Lines::new(input);
        let result = loop {
            match lines.next_line() {
                Ok(None) => break Ok(()),
                Ok(Some((n, Ok(text)))) => {
                    let text = text.to_owned();
                    self.line(n, &text)?;
                }
                Ok(Some((n, Err(why)))) => self.invalid(n, why)?,
                Err(e) => break Err(e),
            }
        };
        self.flush()?;
        self.out.flush()?;
        result
    }

    /// Handles one input line, numbered `n` from 1.
    pub(crate) fn line(&mut self, n: usize, text: &str) -> std::io::Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        match Line::parse(text) {
            Ok(Line::Event(event)) => {
                if !self.observe(event.at) {
                    let skew = self.engine.config().clock_skew;
                    let error = IngestError::TooFarInFuture {
                        at: event.at,
                        now: self.now(),
                        skew,
                    };
                    self.pending.push(Pending::Refused(self.batch.len(), error));
                }
                self.batch.push((n, *event));
                self.count_line()
            }
            Ok(Line::Upsert(u)) => {
                self.flush()?;
                let known = self.engine.key(&u.upsert.id).is_some();
                let at = match u.at {
                    Some(at) => at,
                    None if known => self.now(),
                    None => u.upsert.created_at,
                };
                self.observe(at);
                match self.engine.upsert_lead(u.upsert, at) {
                    Ok((_, outputs)) => self.write(&outputs),
                    Err(e) => self.emit(&Problem::Error {
                        line: n,
                        message: e.to_string(),
                    }),
                }
            }
            Err(e) => self.invalid(n, e.to_string()),
        }
    }

    fn invalid(&mut self, n: usize, why: String) -> std::io::Result<()> {
        self.pending.push(Pending::Invalid(n, why));
        self.count_line()
    }

    fn count_line(&mut self) -> std::io::Result<()> {
        self.lines += 1;
        if self.lines >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Ingests the batch; writes the engine's outputs, then the batch's
    /// refused and invalid lines in line order.
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        let now = self.now();
        let batch = std::mem::take(&mut self.batch);
        let mut pending = std::mem::take(&mut self.pending);
        self.lines = 0;
        // The events the `now` rule refused stay out of the engine.
        let mut refused = vec![false; batch.len()];
        for p in &pending {
            if let Pending::Refused(i, _) = p {
                if let Some(r) = refused.get_mut(*i) {
                    *r = true;
                }
            }
        }
        let given: Vec<usize> = (0..batch.len()).filter(|i| !refused[*i]).collect();
        if !given.is_empty() {
            let events = given.iter().filter_map(|i| batch.get(*i).map(|(_, e)| e));
            let report = self.engine.ingest(events, now);
            self.write(&report.outputs)?;
            for r in report.rejected {
                // `index` is the position in the call's input.
                if let Some(i) = given.get(r.index) {
                    pending.push(Pending::Refused(*i, r.error));
                }
            }
        }
        pending.sort_by_key(|p| p.line(&batch));
        for p in pending {
            match p {
                Pending::Refused(i, error) => {
                    let Some((line, event)) = batch.get(i) else {
                        continue;
                    };
                    self.emit(&Problem::Rejected {
                        line: *line,
                        event: &event.id,
                        lead: &event.lead,
                        error: &error,
                        message: error.to_string(),
                    })?;
                }
                Pending::Invalid(line, message) => self.emit(&Problem::Error { line, message })?,
            }
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
