//! Reference loops: what this machine allows for the `ingest/1m_leads`
//! workload of the `funnel` bench, with no engine around it. They put the
//! engine's figures in proportion on the same day (this machine's speed
//! moves by up to 2× from day to day) and show what each piece of state an
//! idempotent engine with a per-lead history must keep costs per event.
//!
//! The workload is the `funnel` bench's (`synthetic`, 1 M leads, 10 M
//! events over 180 days, Zipf-like activity, time order), keyed by a
//! `CompiledFunnel` beforehand. Each loop reads its events in windows of 32
//! and first reads, for the whole window, the state the events will touch
//! (as `CompiledFunnel::ingest` does at 1 M leads), then applies them:
//!
//! - `floor/1m_leads/hot_line`: one 64-byte line per lead (latest time,
//!   eight group totals, eight signal counts) updated from a table of
//!   points per event shape, and a threshold check: the random-access bound
//!   of the workload;
//! - `floor/1m_leads/hot_line_ids`: the same, and each (lead, event id)
//!   checked and inserted into a hash set in two generations rotated every
//!   7 days of event time (the allowed lateness), as the engine remembers
//!   ids;
//! - `floor/1m_leads/hot_line_ids_log`: the same, and each event's time and
//!   shape (16 bytes) appended to its lead's own growable log, as the engine
//!   keeps history;
//! - `floor/1m_leads/hot_line_arena`: the hot line and each event appended
//!   to one shared log in arrival order (the cheapest history to write; it
//!   is not addressable per lead), without ids.
//!
//! Run: `cargo bench --bench floor -- --warm-up-time 1 --measurement-time 3`
//! (`FUNNEL_BENCH_SCALE=10` divides the workload by 10).

#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use common::{compiled, keyed, workload};

/// Events read ahead together.
const WINDOW: usize = 32;
/// The allowed lateness, in seconds: ids are kept this long.
const LATENESS: i64 = 7 * 86_400;

/// A multiply-rotate hasher, as the crate's id set uses.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type IdSet = HashSet<(u32, u64), BuildHasherDefault<Fx>>;

/// An event as the loops take it: 24 bytes.
#[derive(Clone, Copy)]
struct Ev {
    at: i64,
    id: u64,
    lead: u32,
    shape: u32,
}

/// A lead's state: one cache line.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Hot {
    last: i64,
    totals: [i32; 8],
    signals: [u8; 8],
    events: u32,
}

/// A compiled rule table: per shape, the group it scores in, its points
/// and the signal it carries.
struct Table {
    rules: Vec<(u8, i32, u8)>,
    threshold: i32,
}

impl Table {
    /// Applies `e` to its lead's line; true when the lead crosses the
    /// threshold (where an engine would evaluate it exactly).
    fn apply(&self, hot: &mut Hot, e: &Ev) -> bool {
        let Some(&(group, points, signal)) = self.rules.get(e.shape as usize) else {
            return false;
        };
        hot.last = hot.last.max(e.at);
        hot.events += 1;
        let g = usize::from(group % 8);
        hot.totals[g] = hot.totals[g].saturating_add(points);
        let s = usize::from(signal % 8);
        hot.signals[s] = hot.signals[s].saturating_add(1);
        hot.totals[g] >= self.threshold
    }
}

/// What a loop keeps.
#[derive(Clone, Default)]
struct State {
    hot: Vec<Hot>,
    current: IdSet,
    earlier: IdSet,
    rotated_at: Option<i64>,
    logs: Vec<Vec<(i64, u32)>>,
    arena: Vec<(i64, u32, u32)>,
}

impl State {
    fn new(leads: usize, logs: bool) -> State {
        State {
            hot: vec![Hot::default(); leads],
            logs: if logs { vec![Vec::new(); leads] } else { Vec::new() },
            ..State::default()
        }
    }

    /// True when the id is new (and remembers it).
    fn admit(&mut self, e: &Ev) -> bool {
        let key = (e.lead, e.id);
        !self.earlier.contains(&key) && self.current.insert(key)
    }

    fn rotate(&mut self, now: i64) {
        match self.rotated_at {
            Some(r) if now - r > LATENESS => {
                std::mem::swap(&mut self.current, &mut self.earlier);
                self.current.clear();
                self.rotated_at = Some(now);
            }
            Some(_) => {}
            None => self.rotated_at = Some(now),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Loop {
    HotLine,
    Ids,
    IdsLog,
    Arena,
}

/// Runs `what` over `events`; the number of threshold crossings.
fn run(what: Loop, state: &mut State, table: &Table, events: &[Ev]) -> u64 {
    let ids = matches!(what, Loop::Ids | Loop::IdsLog);
    let log = what == Loop::IdsLog;
    let mut crossings = 0;
    for (k, window) in events.chunks(WINDOW).enumerate() {
        if let (0, Some(e), true) = (k % 32, window.first(), ids) {
            state.rotate(e.at);
        }
        // Read ahead: the lines, ids and log headers first, then the log
        // tails the headers point to.
        let mut sum = 0u64;
        for e in window {
            let i = e.lead as usize;
            sum = sum.wrapping_add(u64::from(state.hot[i].events));
            if ids {
                sum = sum.wrapping_add(u64::from(state.current.contains(&(e.lead, e.id))));
            }
            if log {
                sum = sum.wrapping_add(state.logs[i].len() as u64);
            }
        }
        if log {
            for e in window {
                if let Some(x) = state.logs[e.lead as usize].last() {
                    sum = sum.wrapping_add(u64::from(x.1));
                }
            }
        }
        std::hint::black_box(sum);
        for e in window {
            if ids && !state.admit(e) {
                continue;
            }
            let i = e.lead as usize;
            match what {
                Loop::IdsLog => state.logs[i].push((e.at, e.shape)),
                Loop::Arena => state.arena.push((e.at, e.lead, e.shape)),
                Loop::HotLine | Loop::Ids => {}
            }
            crossings += u64::from(table.apply(&mut state.hot[i], e));
        }
    }
    crossings
}

fn bench(c: &mut Criterion) {
    let w = workload(1_000_000, 10_000_000);
    let mut funnel = compiled(&w);
    let events: Vec<Ev> = keyed(&mut funnel, &w.events)
        .into_iter()
        .map(|k| Ev {
            at: k.at.timestamp(),
            id: k.id,
            lead: k.lead.index() as u32,
            shape: k.action.index() as u32,
        })
        .collect();
    let shapes = events.iter().map(|e| e.shape as usize + 1).max().unwrap_or(0);
    // Points from -0.3 to +1.7 in milli-points, spread over five groups and
    // eight signals; a threshold few leads reach.
    let table = Table {
        rules: (0..shapes)
            .map(|k| ((k * 7 % 5) as u8, (k as i32 * 37) % 2000 - 300, (k * 3 % 8) as u8))
            .collect(),
        threshold: 100_000,
    };
    let leads = w.leads.len();
    drop((w, funnel));

    let mut g = c.benchmark_group("floor/1m_leads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    for (name, what) in [
        ("hot_line", Loop::HotLine),
        ("hot_line_ids", Loop::Ids),
        ("hot_line_ids_log", Loop::IdsLog),
        ("hot_line_arena", Loop::Arena),
    ] {
        let fresh = State::new(leads, what == Loop::IdsLog);
        g.bench_function(name, |b| {
            b.iter_batched(
                || fresh.clone(),
                |mut state| {
                    std::hint::black_box(run(what, &mut state, &table, &events));
                    state
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
