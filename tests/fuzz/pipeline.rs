//! The pipeline example's line reader on mutated input: the demo's lines
//! and generated events, upserts, blank and long lines, then bytes flipped,
//! cut, repeated and misplaced. Every output line is JSON; every refused or
//! invalid line is named by a line number that exists, once, in line order
//! within its batch; what the engine counts adds up to the lines read.

use std::io::BufReader;

use leadflow::engine::EngineConfig;
use leadflow::tuning::SplitMix64;
use serde_json::Value;

use crate::mutate::mutate;
use crate::pipeline_stream::Pipeline;
use crate::{Finding, fixtures};

const DEMO: &[u8] = include_bytes!("../../examples/pipeline/events.ndjson");

/// An output line: a JSON object, read for its type and line number (its
/// other fields checked for syntax only).
#[derive(serde::Deserialize)]
struct Out {
    #[serde(rename = "type")]
    kind: Option<Value>,
    line: Option<Value>,
}

fn line(rng: &mut SplitMix64) -> String {
    let lead = format!("lead-{}", rng.below(4));
    let day = 1 + rng.below(28);
    let hour = rng.below(24);
    match rng.below(6) {
        0 => format!(
            r#"{{"upsert": {{"id": "{lead}", "created_at": "2026-03-{day:02}T{hour:02}:00:00Z", "person": {{"email_domain": "acme.io"}}}}}}"#
        ),
        1 => String::new(),
        2 => format!(
            r#"{{"id": "x{}", "lead": "{lead}", "at": "20{}-03-{day:02}T{hour:02}:00:00Z", "type": "demo_request"}}"#,
            rng.below(50),
            10 + rng.below(90)
        ),
        _ => format!(
            r#"{{"id": "x{}", "lead": "{lead}", "at": "2026-03-{day:02}T{hour:02}:00:00Z", "type": "content_download", "asset": "pricing_sheet"}}"#,
            rng.below(50)
        ),
    }
}

pub(crate) fn case(seed: u64) -> Result<(), Finding> {
    let mut rng = SplitMix64::new(seed);
    let mut lines: Vec<Vec<u8>> = DEMO.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    for _ in 0..rng.below(30) {
        let l = line(&mut rng).into_bytes();
        let at = rng.below(lines.len() as u64 + 1) as usize;
        lines.insert(at, l);
    }
    let newline: &[u8] = if rng.below(4) == 0 { b"\r\n" } else { b"\n" };
    let mut input = lines.join(newline);
    for _ in 0..rng.below(4) {
        mutate(&mut rng, &mut input);
    }
    let reject = rng.below(2);
    let config = if reject == 0 {
        EngineConfig::default()
    } else {
        EngineConfig::default().unknown_leads(leadflow::engine::UnknownLeads::Reject)
    };
    let engine = fixtures::engine(("pipeline", reject), fixtures::b2b(), &config);
    let mut pipeline = Pipeline::new(engine, None, Vec::new());
    pipeline
        .read_all(BufReader::new(&input[..]))
        .map_err(|e| format!("reading from memory failed: {e}"))?;
    let count = input.split(|b| *b == b'\n').count() - usize::from(input.ends_with(b"\n"));
    let out = String::from_utf8(pipeline.out).map_err(|_| "the output is not UTF-8".to_owned())?;
    let mut named = Vec::new();
    let mut last = 0;
    for l in out.lines() {
        let v: Out = serde_json::from_str(l).map_err(|e| format!("output {l:?} is not JSON: {e}"))?;
        if v.kind.as_ref().is_some_and(|k| k == "rejected" || k == "error") {
            let n = v
                .line
                .as_ref()
                .and_then(Value::as_u64)
                .ok_or(format!("{l}: no line number"))? as usize;
            if n == 0 || n > count {
                return Err(format!("{l}: line {n} of {count}"));
            }
            if n <= last {
                // Batches come in line order, and a batch's problems too.
                return Err(format!("{l}: line {n} after line {last}"));
            }
            last = n;
            named.push(n);
        }
    }
    let mut unique = named.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != named.len() {
        return Err(format!("a line is reported twice: {named:?}"));
    }
    let stats = pipeline.engine.stats();
    let events = stats.events_applied + stats.duplicates + stats.events_rejected;
    if events as usize > count {
        return Err(format!("{events} events counted from {count} lines"));
    }
    Ok(())
}
