//! The pipeline example's reading, `now` rule and output order, driven in
//! memory: a bad line is reported with its number and skipped, nothing read
//! is lost, and one wrong timestamp cannot drag `now`.

use std::io::{BufReader, Read};

use leadflow::engine::EngineConfig;
use leadflow::{Engine, ScoringModel, Span};
use serde_json::Value;

use crate::pipeline_stream::{BATCH, Pipeline};
use crate::support::standard;

/// Runs the pipeline on `input` (lateness 2 days, unknown leads created);
/// the output lines as JSON.
fn run(input: &[u8]) -> Vec<Value> {
    run_counting(input).0
}

/// [`run`], with the number of events applied.
fn run_counting(input: &[u8]) -> (Vec<Value>, u64) {
    let engine = Engine::new(
        ScoringModel::b2b_default().unwrap(),
        standard(),
        EngineConfig::default().allowed_lateness(Span::days(2)),
    )
    .unwrap();
    let mut pipeline = Pipeline::new(engine, None, Vec::new());
    pipeline.read_all(BufReader::new(input)).unwrap();
    let applied = pipeline.engine.stats().events_applied;
    let out = String::from_utf8(pipeline.out).unwrap();
    let lines = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, applied)
}

fn event(id: &str, at: &str) -> String {
    format!(r#"{{"id": "{id}", "lead": "l1", "at": "{at}", "type": "form_submit"}}"#)
}

/// The problems written: (type, line, error type).
fn problems(out: &[Value]) -> Vec<(String, u64, String)> {
    out.iter()
        .filter(|v| v["type"] == "rejected" || v["type"] == "error")
        .map(|v| {
            (
                v["type"].as_str().unwrap().to_owned(),
                v["line"].as_u64().unwrap(),
                v["error"]["type"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_non_utf8_line_is_reported_with_its_number_and_nothing_read_is_lost() {
    // Before: `lines()` returned an I/O error on the bad line, the run
    // ended with a debug error, and the batch read so far was dropped.
    let mut input = Vec::new();
    for i in 0..10 {
        input.extend(event(&format!("e{i}"), "2026-03-02T10:00:00Z").bytes());
        input.push(b'\n');
    }
    input.extend(b"{\"id\": \"x\xff\"}\n");
    input.extend(event("last", "2026-03-02T11:00:00Z").bytes());
    let (out, applied) = run_counting(&input);
    assert_eq!(problems(&out), [("error".to_owned(), 11, String::new())]);
    assert_eq!(applied, 11);
}

#[test]
fn lines_are_numbered_across_batches_and_an_overlong_line_is_skipped() {
    let mut input = String::new();
    for i in 0..BATCH + 10 {
        input.push_str(&event(&format!("e{i}"), "2026-03-02T10:00:00Z"));
        input.push('\n');
    }
    input.push_str("not json\n");
    input.push_str(&"x".repeat(crate::pipeline_stream::MAX_LINE + 5));
    input.push('\n');
    input.push_str(&event("after", "2026-03-02T10:00:00Z"));
    let out = run(input.as_bytes());
    let n = BATCH as u64 + 10;
    assert_eq!(
        problems(&out),
        [
            ("error".to_owned(), n + 1, String::new()),
            ("error".to_owned(), n + 2, String::new())
        ]
    );
}

#[test]
fn one_wrong_timestamp_does_not_drag_now() {
    // Before: `now` followed the latest event, so the event in 2099 made
    // every later real event too late.
    let input = [
        event("a", "2026-03-02T10:00:00Z"),
        event("bad", "2099-01-01T00:00:00Z"),
        event("b", "2026-03-02T11:00:00Z"),
        event("c", "2026-03-03T11:00:00Z"),
    ]
    .join("\n");
    let out = run(input.as_bytes());
    assert_eq!(
        problems(&out),
        [("rejected".to_owned(), 2, "too_far_in_future".to_owned())]
    );
}

#[test]
fn two_times_that_agree_move_now_past_a_quiet_gap() {
    let input = [
        event("a", "2026-03-02T10:00:00Z"),
        event("after-gap", "2026-03-20T10:00:00Z"),
        event("next", "2026-03-20T11:00:00Z"),
        event("then", "2026-03-20T12:00:00Z"),
    ]
    .join("\n");
    let out = run(input.as_bytes());
    assert_eq!(
        problems(&out),
        [("rejected".to_owned(), 2, "too_far_in_future".to_owned())]
    );
}

#[test]
fn a_batch_writes_its_outputs_then_its_problems_in_line_order() {
    let input = [
        "oops".to_owned(),
        event("a", "2026-03-02T10:00:00Z"),
        event("late", "2026-02-01T10:00:00Z"),
        r#"{"id": "b", "lead": "l1", "at": "2026-03-02T12:00:00Z", "type": "form_submit", "frm": 1}"#
            .to_owned(),
    ]
    .join("\n");
    let out = run(input.as_bytes());
    let kinds: Vec<&str> = out.iter().map(|v| v["type"].as_str().unwrap()).collect();
    let first_problem = kinds.iter().position(|k| *k == "error").unwrap();
    assert!(
        kinds[..first_problem]
            .iter()
            .all(|k| *k != "rejected" && *k != "error")
    );
    assert_eq!(
        problems(&out),
        [
            ("error".to_owned(), 1, String::new()),
            ("rejected".to_owned(), 3, "too_late".to_owned()),
            ("error".to_owned(), 4, String::new())
        ]
    );
}

#[test]
fn reading_stops_at_an_io_error_after_writing_what_was_read() {
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = self.0.read(buf)?;
            Ok(n)
        }
    }
    let engine = Engine::new(
        ScoringModel::b2b_default().unwrap(),
        standard(),
        EngineConfig::default(),
    )
    .unwrap();
    let text = event("a", "2026-03-02T10:00:00Z") + "\n";
    let mut pipeline = Pipeline::new(engine, None, Vec::new());
    let result = pipeline.read_all(BufReader::new(Failing(text.as_bytes())));
    assert!(result.is_err());
    assert_eq!(pipeline.engine.stats().events_applied, 1);
}
