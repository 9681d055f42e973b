//! Engine costs on seeded synthetic workloads (`leadflow::synthetic`):
//! Zipf-like activity over leads (exponent 1), the domain's event mix, the
//! 30-rule `synthetic::scoring_model` (groups with caps, decay, limits, a
//! window) and the standard B2B lifecycle with the `synthetic::mql_criterion`.
//! Leads are upserted with their attributes and events are keyed
//! (`CompiledFunnel::action`, `event_key`) before the measured part, as a
//! host keeps its keys; no score thresholds are configured.
//!
//! - `ingest/100k_leads/{sorted,shuffled}`: 2 M events over 100 k leads into
//!   a `CompiledFunnel`, in calls of 1 000 events (a stream consumer), events
//!   per second on one core. `sorted` is time order; `shuffled` is the time
//!   order shuffled within consecutive days of event time (every event late
//!   by up to a day, within the 7-day allowed lateness);
//! - `ingest/100k_leads/{events_sorted,funnel_sorted}`: the same sorted
//!   stream given as `Event`s to `CompiledFunnel::ingest_events` (keying ids
//!   and shapes itself), and to the reference `Funnel`, which keeps every
//!   event as given;
//! - `ingest/1m_leads/{sorted,shuffled}`: 10 M events over 1 M leads;
//! - `replay/10m_events`: rebuilding the 1 M-lead state from its full
//!   10 M-event history with `CompiledFunnel::replay` (events grouped by
//!   lead); `replay/10m_events_ingest`: the same history in one `ingest`
//!   call (events applied in the order given);
//! - `rescore/1m_leads`: `swap_model` to a new model version over the 1 M
//!   leads holding their 10 M events (diff of who qualifies, no transitions
//!   fired): a new engagement cap (`1m_leads`, every lead's bounds stay
//!   valid) and a new rule (`1m_leads_new_rule`, every lead's bounds are
//!   recomputed from its log);
//! - `sharded/2m_events/{1_thread,2_threads}`: the 100 k-lead workload split
//!   by `shard_for` into two compiled funnels, each owned by a long-lived
//!   worker thread that copies its funnel and ingests into it, as a host
//!   runs one engine per core: the workers one after the other (one thread
//!   running at a time), then both at once (the scaling ratio).
//!
//! Before anything else it prints the memory per lead: resident-set
//! growth while upserting the 1 M leads and ingesting their 10 M events, and
//! the size of the `Lead` values (attributes) alone, so the engine's own
//! state per lead is the difference (Linux only).
//!
//! Run: `cargo bench --bench funnel -- --warm-up-time 1 --measurement-time 3`
//! (add a filter such as `ingest/100k` to run one group;
//! `FUNNEL_BENCH_SCALE=10` divides every workload by 10 for a quick check).

#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow::funnel::{CompactEvent, CompiledFunnel, Funnel, FunnelConfig, shard_for};
use leadflow::scoring::Rule;
use leadflow::synthetic::{Workload, lifecycle, scoring_model};
use leadflow::{Event, EventType, ModelVersion, Span};

use common::{compiled, keyed, workload};

const BATCH: usize = 1_000;

fn end(w: &Workload) -> DateTime<Utc> {
    w.events.iter().map(|e| e.at).max().unwrap_or_default()
}

/// The reference funnel with every lead of `w` upserted.
fn reference(w: &Workload) -> Funnel {
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

/// Feeds `events` to `call` in calls of `BATCH`; the events applied.
fn in_calls(
    events: Vec<Event>,
    mut call: impl FnMut(std::iter::Take<&mut std::vec::IntoIter<Event>>) -> usize,
) -> usize {
    let mut it = events.into_iter();
    let mut applied = 0;
    while it.len() > 0 {
        applied += call(it.by_ref().take(BATCH));
    }
    applied
}

fn ingest(f: &mut CompiledFunnel, events: &[CompactEvent], now: DateTime<Utc>) -> usize {
    events.chunks(BATCH).map(|c| f.ingest(c, now).applied).sum()
}

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn report_memory(w: &Workload) {
    let n = w.leads.len() as f64;
    let base = rss();
    let mut f = compiled(w);
    let upserted = rss().saturating_sub(base);
    let events = keyed(&mut f, &w.events);
    let before = rss();
    ingest(&mut f, &events, end(w));
    let grown = rss().saturating_sub(before);
    drop(events);
    let before = rss();
    let leads = w.leads.clone();
    let attributes = rss().saturating_sub(before);
    eprintln!(
        "memory/1m_leads: {:.0} B per lead upserted (of which {:.0} B the Lead values with their attributes); \
         +{:.0} B per lead for {} events ({:.1} per lead, {:.1} B per event); {:.0} B of engine state per \
         lead excluding attributes",
        upserted as f64 / n,
        attributes as f64 / n,
        grown as f64 / n,
        w.events.len(),
        w.events.len() as f64 / n,
        grown as f64 / w.events.len() as f64,
        (upserted + grown).saturating_sub(attributes) as f64 / n,
    );
    drop((f, leads));
}

fn bench_ingest(c: &mut Criterion, name: &str, w: &Workload, with_reference: bool) {
    let now = end(w);
    let mut funnel = compiled(w);
    let sorted = keyed(&mut funnel, &w.events);
    let shuffled = keyed(&mut funnel, &w.arrival_order(Span::days(1), 7));
    let mut g = c.benchmark_group(format!("ingest/{name}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.events.len() as u64));
    for (order, events) in [("sorted", &sorted), ("shuffled", &shuffled)] {
        g.bench_function(order, |b| {
            b.iter_batched(
                || funnel.clone(),
                |mut f| {
                    assert_eq!(ingest(&mut f, events, now), w.events.len());
                    f
                },
                BatchSize::PerIteration,
            )
        });
    }
    if with_reference {
        g.bench_function("events_sorted", |b| {
            b.iter_batched(
                || (funnel.clone(), w.events.clone()),
                |(mut f, events)| {
                    let applied = in_calls(events, |call| f.ingest_events(call, now).applied);
                    assert_eq!(applied, w.events.len());
                    f
                },
                BatchSize::PerIteration,
            )
        });
        let base = reference(w);
        g.bench_function("funnel_sorted", |b| {
            b.iter_batched(
                || (base.clone(), w.events.clone()),
                |(mut f, events)| {
                    let applied = in_calls(events, |call| f.ingest_batch(call, now).applied);
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
    // First, while the process has freed nothing for the allocator to
    // reuse, so resident-set growth is the funnel's.
    report_memory(&workload(1_000_000, 10_000_000));
    let small = workload(100_000, 2_000_000);
    bench_ingest(c, "100k_leads", &small, true);
    bench_sharded(c, &small);
    drop(small);

    let big = workload(1_000_000, 10_000_000);
    bench_ingest(c, "1m_leads", &big, false);
    let now = end(&big);

    let mut empty = compiled(&big);
    let events = keyed(&mut empty, &big.events);
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(big.events.len() as u64));
    g.bench_function("10m_events", |b| {
        b.iter_batched(
            || empty.clone(),
            |mut f| {
                assert_eq!(f.replay(&events, now).applied, events.len());
                f
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("10m_events_ingest", |b| {
        b.iter_batched(
            || empty.clone(),
            |mut f| {
                assert_eq!(f.ingest(&events, now).applied, events.len());
                f
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut full = empty;
    ingest(&mut full, &events, now);
    drop((big, events));
    let next = scoring_model()
        .unwrap()
        .to_builder()
        .version(ModelVersion::new("synthetic@2").unwrap())
        .engagement_cap(50)
        .build()
        .unwrap();
    let new_rule = scoring_model()
        .unwrap()
        .to_builder()
        .version(ModelVersion::new("synthetic@3").unwrap())
        .rule(Rule::event("feedback", EventType::Feedback, 10).group("product"))
        .build()
        .unwrap();
    let mut g = c.benchmark_group("rescore");
    g.sample_size(10);
    g.throughput(Throughput::Elements(full.len() as u64));
    for (name, model) in [("1m_leads", &next), ("1m_leads_new_rule", &new_rule)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || full.clone(),
                |mut f| {
                    let change = f.swap_model(model.clone(), now, false);
                    (f, change)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// One long-lived thread owning one shard's engine, as a host runs one
/// engine per core: each run copies the shard's funnel (allocating on this
/// thread), waits at the barrier, ingests the shard's events and reports
/// how long the ingestion took (start, end).
struct Worker {
    runs: mpsc::Sender<Arc<Barrier>>,
    done: mpsc::Receiver<(Instant, Instant)>,
}

impl Worker {
    fn start(shard: Arc<(CompiledFunnel, Vec<CompactEvent>)>, now: DateTime<Utc>) -> Worker {
        let (runs, jobs) = mpsc::channel::<Arc<Barrier>>();
        let (report, done) = mpsc::channel();
        std::thread::spawn(move || {
            for start in jobs {
                let (funnel, events) = &*shard;
                let mut f = funnel.clone();
                start.wait();
                let begun = Instant::now();
                ingest(&mut f, events, now);
                let ended = Instant::now();
                drop(f);
                if report.send((begun, ended)).is_err() {
                    break;
                }
            }
        });
        Worker { runs, done }
    }

    fn run(&self, start: &Arc<Barrier>) {
        self.runs.send(Arc::clone(start)).unwrap();
    }

    fn finished(&self) -> (Instant, Instant) {
        self.done.recv().unwrap()
    }
}

fn bench_sharded(c: &mut Criterion, w: &Workload) {
    let now = end(w);
    let workers: Vec<Worker> = (0..2)
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
            let mut f = compiled(&part);
            let events = keyed(&mut f, &part.events);
            Worker::start(Arc::new((f, events)), now)
        })
        .collect();
    let mut g = c.benchmark_group("sharded/2m_events");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.events.len() as u64));
    // The same two workers in both: one after the other (one core busy at a
    // time), then both at once, timed from the first start to the last
    // finish.
    g.bench_function("1_thread", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for worker in &workers {
                    worker.run(&Arc::new(Barrier::new(1)));
                    let (begun, ended) = worker.finished();
                    total += ended - begun;
                }
            }
            total
        })
    });
    g.bench_function("2_threads", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Arc::new(Barrier::new(workers.len()));
                workers.iter().for_each(|worker| worker.run(&start));
                let runs: Vec<(Instant, Instant)> = workers.iter().map(Worker::finished).collect();
                let begun = runs.iter().map(|r| r.0).min().unwrap();
                let ended = runs.iter().map(|r| r.1).max().unwrap();
                total += ended - begun;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
