//! Funnel analytics costs over a synthetic history of ~1M lifecycle records
//! (the seeded generator of the `kpi_report` example, 400k leads through the
//! standard B2B lifecycle):
//!
//! - `funnel/analyze/…`: `FunnelAnalyzer::analyze` of every lead, overall plus the five
//!   standard breakdowns (source, channel, campaign, owner, cohort), with
//!   events and scores; divide by the record count printed first for the
//!   per-record cost;
//! - `funnel/merge/8_shards`: merging the analyses of 8 shards of those leads
//!   into one (what a host pays to combine partitions).
//!
//! Run: `cargo bench --bench analytics -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)] // criterion_group! generates undocumented items

#[allow(dead_code)]
#[path = "../examples/kpi_report/synth.rs"]
mod synth;

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use leadflow::analytics::{AnalysisConfig, FunnelAnalysis, FunnelAnalyzer, LeadHistory};

const LEADS: usize = 400_000;

fn bench(c: &mut Criterion) {
    let machine = synth::machine().unwrap();
    let s = synth::generate(
        &machine,
        1,
        LEADS,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    )
    .unwrap();
    let records = s.records();
    eprintln!("analytics bench: {LEADS} leads, {records} lifecycle records");
    let as_of = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let histories = |range: std::ops::Range<usize>| {
        let s = &s;
        range.map(move |i| {
            LeadHistory::new(&s.leads[i], &s.lives[i])
                .with_events(&s.events[i])
                .with_scores(&s.scores[i])
        })
    };
    let mut g = c.benchmark_group("funnel");
    g.sample_size(10);
    let standard = FunnelAnalyzer::new(&machine, AnalysisConfig::new(as_of));
    g.bench_function(format!("analyze/{records}_records/5_breakdowns"), |b| {
        b.iter(|| black_box(standard.analyze(histories(0..LEADS))))
    });
    let overall = FunnelAnalyzer::new(&machine, AnalysisConfig::new(as_of).with_breakdowns([]));
    g.bench_function(format!("analyze/{records}_records/overall_only"), |b| {
        b.iter(|| black_box(overall.analyze(histories(0..LEADS))))
    });
    let shard = LEADS / 8;
    let shards: Vec<FunnelAnalysis> = (0..8)
        .map(|k| standard.analyze(histories(k * shard..(k + 1) * shard)))
        .collect();
    g.bench_function("merge/8_shards", |b| {
        b.iter(|| {
            let mut all = FunnelAnalysis::new();
            for s in &shards {
                all.merge(s);
            }
            black_box(all)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
