//! The engine's costs on the seeded synthetic workload (`leadflow::synthetic`):
//! Zipf-like activity over leads, the domain's event mix, the 30-rule
//! `synthetic::scoring_model` (groups with caps, decay, limits, a window) and
//! the standard B2B lifecycle with `synthetic::mql_criterion`; the default
//! config (7 days of allowed lateness, history kept). Events arrive in time
//! order except 5 % up to a day late and 1 % delivered twice. Leads are
//! upserted before the measured part; no thresholds.
//!
//! - `engine/{1m,100k}_leads/keyed`: 10 M events over 1 M leads (2 M over
//!   100 k) as `KeyedEvent`s, `Engine::ingest_keyed` in calls of 1 000 (a
//!   stream consumer that keeps its own keys), events per second on one
//!   core;
//! - `engine/{1m,100k}_leads/events`: the same stream as `Event` values,
//!   `Engine::ingest` in calls of 1 000 (ids hashed, shapes interned inside);
//! - `engine/{1m,100k}_leads/replay`: the whole stream in one
//!   `Engine::replay` call (grouped by lead, each lead in time order);
//! - `engine/rescore/1m_leads`: `Engine::swap_model` to a model with every
//!   rule's points changed, over the 1 M leads holding their 10 M events
//!   (rescored from the history log, who qualifies compared, nothing fired);
//! - `engine/snapshot/1m_leads/{take,binary,restore}`: `Engine::snapshot`
//!   of the 1 M leads holding their 10 M events; the snapshot written with
//!   postcard (a compact binary serde format); read back and restored with
//!   `Engine::restore` (its sizes, binary and JSON, are printed first);
//! - `engine/sharded/2m_events/{1_thread,2_threads}`: the 100 k-lead stream
//!   split by `shard_for` into two engines, each owned by a long-lived worker
//!   thread, one after the other, then both at once (the scaling ratio).
//!
//! Before the benches it prints the engine's memory per lead (its live
//! state: lines, recent-event ring, lead index, lifecycles; attributes and
//! history not counted) and the history log's bytes per event.
//!
//! Run with the reference loops, as one run:
//! `cargo bench --bench floor --bench engine -- --warm-up-time 1 --measurement-time 3`
//! (`BENCH_SCALE=10` divides every workload by 10).

#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow::engine::{KeyedEvent, shard_for};
use leadflow::synthetic::{Workload, scoring_model};
use leadflow::{Engine, Event, ScoringModel};

use common::{arrival, end, engine, keyed, workload};

const BATCH: usize = 1_000;

fn ingest_keyed(e: &mut Engine, events: &[KeyedEvent], now: DateTime<Utc>) -> usize {
    events.chunks(BATCH).map(|c| e.ingest_keyed(c, now).applied).sum()
}

fn ingest_events(e: &mut Engine, events: &[Event], now: DateTime<Utc>) -> usize {
    events.chunks(BATCH).map(|c| e.ingest(c, now).applied).sum()
}

fn report_memory(name: &str, e: &Engine) {
    let m = e.memory();
    let leads = e.len().max(1) as f64;
    let events = e.stats().events_applied.max(1) as f64;
    eprintln!(
        "memory/{name}: {:.0} B of live state per lead (lines {:.0}, recent ring {:.0}, index {:.0}, lifecycles {:.0}); history {:.1} B per event",
        m.live() as f64 / leads,
        m.lines as f64 / leads,
        m.recent as f64 / leads,
        m.index as f64 / leads,
        m.lifecycles as f64 / leads,
        m.history as f64 / events,
    );
}

fn bench_ingest(c: &mut Criterion, name: &str, w: &Workload) {
    let now = end(w);
    let stream = arrival(w, 7);
    let mut fresh = engine(w);
    let keys = keyed(&mut fresh, &stream);
    let applied = {
        let mut e = fresh.clone();
        let n = ingest_keyed(&mut e, &keys, now);
        report_memory(name, &e);
        n
    };
    let mut g = c.benchmark_group(format!("engine/{name}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(stream.len() as u64));
    g.bench_function("keyed", |b| {
        b.iter_batched(
            || fresh.clone(),
            |mut e| {
                assert_eq!(ingest_keyed(&mut e, &keys, now), applied);
                e
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("events", |b| {
        b.iter_batched(
            || fresh.clone(),
            |mut e| {
                assert_eq!(ingest_events(&mut e, &stream, now), applied);
                e
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("replay", |b| {
        b.iter_batched(
            || fresh.clone(),
            |mut e| {
                assert_eq!(e.replay(&keys, now).applied, applied);
                e
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// The synthetic model with every rule's points changed (edited as data,
/// as a person tuning it would).
fn repointed() -> ScoringModel {
    let mut spec = serde_json::to_value(scoring_model().unwrap()).unwrap();
    spec["version"] = "synthetic@2".into();
    for (i, rule) in spec["rules"].as_array_mut().unwrap().iter_mut().enumerate() {
        let points = rule["points"].as_f64().unwrap();
        rule["points"] = (points + (i % 3) as f64 - 1.0).into();
    }
    serde_json::from_value(spec).unwrap()
}

fn bench_rescore(c: &mut Criterion, w: &Workload) {
    let now = end(w);
    let mut e = engine(w);
    let keys = keyed(&mut e, &arrival(w, 7));
    ingest_keyed(&mut e, &keys, now);
    let new = repointed();
    let mut g = c.benchmark_group("engine/rescore");
    g.sample_size(10);
    g.bench_function("1m_leads", |b| {
        b.iter_batched(
            || (e.clone(), new.clone()),
            |(mut e, m)| {
                std::hint::black_box(e.swap_model(m, now, false).unwrap());
                e
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Two long-lived workers, each owning one shard's engine: told to run,
/// they copy their engine and ingest their events; the caller times from
/// the first start to the last finish.
fn bench_sharded(c: &mut Criterion, w: &Workload) {
    let now = end(w);
    let stream = arrival(w, 7);
    let mut shards: Vec<(Engine, Vec<Event>)> = Vec::new();
    for s in 0..2 {
        let mine: Vec<Event> = stream
            .iter()
            .filter(|e| shard_for(&e.lead, 2) == s)
            .cloned()
            .collect();
        let leads = Workload {
            leads: w
                .leads
                .iter()
                .filter(|l| shard_for(&l.id, 2) == s)
                .cloned()
                .collect(),
            events: Vec::new(),
        };
        let mut e = engine(&leads);
        let keys = keyed(&mut e, &mine);
        drop(keys);
        shards.push((e, mine));
    }
    let (go_tx, done_rx, workers) = {
        let (done_tx, done_rx) = mpsc::channel::<Duration>();
        let mut go = Vec::new();
        let mut workers = Vec::new();
        for (engine, events) in shards {
            let (tx, rx) = mpsc::channel::<Arc<Barrier>>();
            let done = done_tx.clone();
            go.push(tx);
            workers.push(std::thread::spawn(move || {
                let keys: Vec<KeyedEvent> = {
                    let mut e = engine.clone();
                    keyed(&mut e, &events)
                };
                for barrier in rx {
                    let mut e = engine.clone();
                    barrier.wait();
                    let start = Instant::now();
                    ingest_keyed(&mut e, &keys, now);
                    let _ = done.send(start.elapsed());
                    drop(e);
                }
            }));
        }
        (go, done_rx, workers)
    };
    let mut g = c.benchmark_group("engine/sharded/2m_events");
    g.sample_size(10);
    g.bench_function("1_thread", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for tx in &go_tx {
                    let barrier = Arc::new(Barrier::new(1));
                    tx.send(barrier).unwrap();
                    total += done_rx.recv().unwrap();
                }
            }
            total
        })
    });
    g.bench_function("2_threads", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let barrier = Arc::new(Barrier::new(2));
                for tx in &go_tx {
                    tx.send(barrier.clone()).unwrap();
                }
                let a = done_rx.recv().unwrap();
                let b = done_rx.recv().unwrap();
                total += a.max(b);
            }
            total
        })
    });
    g.finish();
    drop(go_tx);
    for w in workers {
        let _ = w.join();
    }
}

fn bench_snapshot(c: &mut Criterion, w: &Workload) {
    let now = end(w);
    let mut e = engine(w);
    let keys = keyed(&mut e, &arrival(w, 7));
    ingest_keyed(&mut e, &keys, now);
    let snapshot = e.snapshot();
    let binary = postcard::to_allocvec(&snapshot).unwrap();
    let json = serde_json::to_vec(&snapshot).unwrap().len();
    let leads = e.len().max(1) as f64;
    eprintln!(
        "snapshot/1m_leads: binary {:.1} MB ({:.0} B per lead), JSON {:.1} MB ({:.0} B per lead), history included",
        binary.len() as f64 / 1e6,
        binary.len() as f64 / leads,
        json as f64 / 1e6,
        json as f64 / leads,
    );
    let (model, machine, config) = (e.model().clone(), e.machine().clone(), e.config().clone());
    let mut g = c.benchmark_group("engine/snapshot/1m_leads");
    g.sample_size(10);
    g.bench_function("take", |b| b.iter(|| e.snapshot()));
    g.bench_function("binary", |b| b.iter(|| postcard::to_allocvec(&snapshot).unwrap()));
    g.bench_function("restore", |b| {
        b.iter(|| {
            let read: leadflow::engine::Snapshot = postcard::from_bytes(&binary).unwrap();
            Engine::restore(read, model.clone(), machine.clone(), config.clone()).unwrap()
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let big = workload(1_000_000, 10_000_000);
    bench_ingest(c, "1m_leads", &big);
    bench_rescore(c, &big);
    bench_snapshot(c, &big);
    drop(big);
    let small = workload(100_000, 2_000_000);
    bench_ingest(c, "100k_leads", &small);
    bench_sharded(c, &small);
}

criterion_group!(benches, bench);
criterion_main!(benches);
