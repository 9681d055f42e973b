//! Engine costs (`leadflow::funnel::Funnel`) on seeded synthetic workloads
//! (`leadflow::synthetic`): Zipf-like activity over leads (exponent 1), the
//! domain's event mix, the 30-rule `synthetic::scoring_model` (groups with
//! caps, decay, limits, a window) and the standard B2B lifecycle with the
//! `synthetic::mql_criterion`. Leads are upserted with their attributes
//! before the measured part; no score thresholds are configured.
//!
//! - `ingest/100k_leads/{sorted,shuffled}`: 2 M events over 100 k leads,
//!   ingested in batches of 1 000 events (a stream consumer), events per
//!   second on one core. `sorted` is time order; `shuffled` is the time
//!   order shuffled within consecutive days of event time (every event
//!   late by up to a day, within the 7-day allowed lateness);
//! - `ingest/1m_leads/{sorted,shuffled}`: the same with 10 M events over 1 M
//!   leads;
//! - `rescore/1m_leads`: `Funnel::swap_model` to a new model version over the
//!   1 M-lead funnel holding its 10 M events (diff of who qualifies, no
//!   transitions fired);
//! - `replay/10m_events`: rebuilding the 1 M-lead state from its full
//!   10 M-event history in one `ingest_batch` call;
//! - `sharded/2m_events/{1_thread,2_threads}`: the 100 k-lead workload split
//!   by `shard_for` into two funnels, ingested on one thread one after the
//!   other, then on two threads at once (the scaling ratio).
//!
//! Before the 1 M-lead benches it prints the memory the funnel holds per
//! lead: resident-set growth while upserting the 1 M leads and ingesting
//! their 10 M events, and the size of the `Lead` values (attributes) alone,
//! so the engine's own state per lead is the difference (Linux only).
//!
//! Run: `cargo bench --bench funnel -- --warm-up-time 1 --measurement-time 3`
//! (add a filter such as `ingest/100k` to run one group).

#![allow(missing_docs)] // criterion_group! generates undocumented items

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow::funnel::{Funnel, FunnelConfig, shard_for};
use leadflow::synthetic::{Workload, WorkloadConfig, lifecycle, scoring_model};
use leadflow::{Event, ModelVersion, Span};

const BATCH: usize = 1_000;

/// `FUNNEL_BENCH_SCALE=n` divides every workload by `n` (for slow builds
/// and quick checks; the names keep the full-size labels).
fn workload(leads: usize, events: usize) -> Workload {
    let scale = std::env::var("FUNNEL_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    WorkloadConfig {
        leads: leads / scale,
        events: events / scale,
        ..WorkloadConfig::default()
    }
    .generate()
}

fn end(w: &Workload) -> DateTime<Utc> {
    w.events.iter().map(|e| e.at).max().unwrap_or_default()
}

/// A funnel with every lead of `w` upserted at its creation time.
fn empty_funnel(w: &Workload) -> Funnel {
    let mut f = Funnel::new(
        scoring_model().unwrap(),
        lifecycle().unwrap(),
        FunnelConfig::default(),
    );
    for lead in &w.leads {
        let at = lead.created_at;
        f.upsert_lead(lead.clone(), at).unwrap();
    }
    f
}

fn ingest(f: &mut Funnel, events: Vec<Event>, now: DateTime<Utc>, batch: usize) -> usize {
    let mut applied = 0;
    let mut it = events.into_iter().peekable();
    while it.peek().is_some() {
        applied += f.ingest_batch(it.by_ref().take(batch), now).applied;
    }
    applied
}

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn report_memory(w: &Workload) {
    let (n, events) = (w.leads.len() as f64, w.events.len() as f64);
    let base = rss();
    let mut f = empty_funnel(w);
    let without_events = rss().saturating_sub(base);
    // The events are cloned after `base`: the funnel owns them afterwards
    // (the transient vector's buffer is returned to the system).
    ingest(&mut f, w.events.clone(), end(w), BATCH);
    let with_events = rss().saturating_sub(base);
    let before = rss();
    let leads = w.leads.clone();
    let attributes = rss().saturating_sub(before);
    eprintln!(
        "memory/1m_leads: {:.0} B per lead upserted (of which {:.0} B the Lead values with their \
         attributes); {:.0} B per lead after {} events ({:.1} per lead, {:.0} B per event); \
         {:.0} B of engine state per lead excluding attributes",
        without_events as f64 / n,
        attributes as f64 / n,
        with_events as f64 / n,
        w.events.len(),
        events / n,
        with_events.saturating_sub(without_events) as f64 / events,
        with_events.saturating_sub(attributes) as f64 / n,
    );
    drop((f, leads));
}

fn bench_ingest(c: &mut Criterion, name: &str, w: &Workload) {
    let now = end(w);
    let funnel = empty_funnel(w);
    let shuffled = w.arrival_order(Span::days(1), 7);
    let mut g = c.benchmark_group(format!("ingest/{name}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.events.len() as u64));
    for (order, events) in [("sorted", &w.events), ("shuffled", &shuffled)] {
        g.bench_function(order, |b| {
            b.iter_batched(
                || (funnel.clone(), events.clone()),
                |(mut f, events)| {
                    let applied = ingest(&mut f, events, now, BATCH);
                    assert_eq!(applied, w.events.len());
                    f
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let small = workload(100_000, 2_000_000);
    bench_ingest(c, "100k_leads", &small);
    bench_sharded(c, &small);
    drop(small);

    let big = workload(1_000_000, 10_000_000);
    report_memory(&big);
    bench_ingest(c, "1m_leads", &big);
    let now = end(&big);

    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(big.events.len() as u64));
    let empty = empty_funnel(&big);
    g.bench_function("10m_events", |b| {
        b.iter_batched(
            || (empty.clone(), big.events.clone()),
            |(mut f, events)| {
                f.ingest_batch(events, now);
                f
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut full = empty;
    ingest(&mut full, big.events.clone(), now, BATCH);
    drop(big);
    let next = scoring_model()
        .unwrap()
        .to_builder()
        .version(ModelVersion::new("synthetic@2").unwrap())
        .engagement_cap(50)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("rescore");
    g.sample_size(10);
    g.throughput(Throughput::Elements(full.len() as u64));
    g.bench_function("1m_leads", |b| {
        b.iter_batched(
            || full.clone(),
            |mut f| {
                let change = f.swap_model(next.clone(), now, false);
                (f, change)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_sharded(c: &mut Criterion, w: &Workload) {
    let now = end(w);
    let shards: Vec<(Funnel, Vec<Event>)> = (0..2)
        .map(|s| {
            let part = Workload {
                leads: w
                    .leads
                    .iter()
                    .filter(|l| shard_for(&l.id, 2) == s)
                    .cloned()
                    .collect(),
                events: w
                    .events
                    .iter()
                    .filter(|e| shard_for(&e.lead, 2) == s)
                    .cloned()
                    .collect(),
            };
            (empty_funnel(&part), part.events)
        })
        .collect();
    let mut g = c.benchmark_group("sharded/2m_events");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.events.len() as u64));
    g.bench_function("1_thread", |b| {
        b.iter_batched(
            || shards.clone(),
            |mut shards| {
                for (f, events) in &mut shards {
                    ingest(f, std::mem::take(events), now, BATCH);
                }
                shards
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("2_threads", |b| {
        b.iter_batched(
            || shards.clone(),
            |mut shards| {
                std::thread::scope(|s| {
                    for (f, events) in &mut shards {
                        s.spawn(move || ingest(f, std::mem::take(events), now, BATCH));
                    }
                });
                shards
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
