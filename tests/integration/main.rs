//! The integration suite: one binary, one module per area.

mod analytics;
mod arbitrary;
mod autotraits;
mod engine;
mod examples;
mod findings;
mod lifecycle;
mod lifecycle_props;
mod limits;
mod mutants;
mod oracle;
mod pipeline;
mod roundtrip;
mod scoring;
mod strict;
mod support;
mod tuning;

// The backtest example's argument parsing and CSV loading, tested by `tuning`.
// They refer to each other as `crate::args` / `crate::data`, so they live at
// the crate root.
#[path = "../../examples/backtest/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "../../examples/backtest/data.rs"]
#[allow(dead_code)]
mod data;

// The pipeline example's reading and batching, tested by `pipeline`.
#[path = "../../examples/pipeline/stream.rs"]
#[allow(dead_code)]
mod pipeline_stream;
