//! Reference loops: what this machine allows for the engine bench's 1 M-lead
//! workload, with no engine around it. Every engine figure is read as a
//! ratio to these, measured in the same run (this machine's speed moves by
//! 2–3× from day to day).
//!
//! The workload is the `engine` bench's: 1 M leads, 10 M events over 180
//! days with Zipf-like activity, arriving in time order except 5 % up to a
//! day late and 1 % delivered twice; keyed by an engine beforehand.
//!
//! - `floor/1m_leads/hot_line`: one 64-byte line per lead (dense key)
//!   updated from a table of points per shape, and a threshold check, each
//!   window of 32 events' lines read ahead first: the random-access bound;
//! - `floor/1m_leads/hot_line_ids_log`: the same, each (lead, id) checked in
//!   a hash set of two generations rotated every 7 days of event time, and
//!   each event appended to its lead's own growable log: the structures of
//!   the engine this one replaced;
//! - `floor/1m_leads/hand_loop`: what a user would write instead of this
//!   crate for the bench's model: a hash map from the lead id's fingerprint
//!   to a small state created at first sight; per event the model's rules
//!   for its shape (limits `once`/`times`/`once_per` day buckets, points by
//!   group, decay as a per-day weight table in fixed point), the group caps
//!   and an MQL threshold check on the capped, decayed engagement. No ids,
//!   no lateness, no history, no lifecycle, no explanations.
//!
//! Run: `cargo bench --bench floor --bench engine -- --warm-up-time 1 --measurement-time 3`
//! (`BENCH_SCALE=10` divides the workload by 10).

#![allow(missing_docs)] // criterion_group! generates undocumented items

mod common;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow::scoring::{Decay, Limit};
use leadflow::synthetic::scoring_model;
use leadflow::{Event, EventShape, ScoringModel};

use common::{arrival, engine, keyed, workload};

/// Events read ahead together.
const WINDOW: usize = 32;
/// The allowed lateness, in seconds: ids are kept this long.
const LATENESS: i64 = 7 * 86_400;
const DAY: i64 = 86_400;

/// A multiply-rotate hasher, as a user would pick for integer keys.
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

type FxBuild = BuildHasherDefault<Fx>;

/// An event as the loops take it.
#[derive(Clone, Copy)]
struct Ev {
    at: i64,
    id: u64,
    lead: u32,
    lead_fp: u64,
    shape: u32,
}

/// A lead's state for the `hot_line` loops: one cache line.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Hot {
    last: i64,
    totals: [i32; 8],
    signals: [u8; 8],
    events: u32,
}

/// Per shape: the group it scores in, its points and the signal it
/// carries.
struct Table {
    rules: Vec<(u8, i32, u8)>,
    threshold: i32,
}

impl Table {
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

#[derive(Clone, Default)]
struct HotState {
    hot: Vec<Hot>,
    current: HashSet<(u32, u64), FxBuild>,
    earlier: HashSet<(u32, u64), FxBuild>,
    rotated_at: Option<i64>,
    logs: Vec<Vec<(i64, u32)>>,
}

fn hot_loop(state: &mut HotState, table: &Table, events: &[Ev], ids_and_logs: bool) -> u64 {
    let mut crossings = 0;
    for (k, window) in events.chunks(WINDOW).enumerate() {
        if let (0, Some(e), true) = (k % 32, window.first(), ids_and_logs) {
            match state.rotated_at {
                Some(r) if e.at - r > LATENESS => {
                    std::mem::swap(&mut state.current, &mut state.earlier);
                    state.current.clear();
                    state.rotated_at = Some(e.at);
                }
                Some(_) => {}
                None => state.rotated_at = Some(e.at),
            }
        }
        let mut sum = 0u64;
        for e in window {
            let i = e.lead as usize;
            sum = sum.wrapping_add(u64::from(state.hot[i].events));
            if ids_and_logs {
                sum = sum.wrapping_add(u64::from(state.current.contains(&(e.lead, e.id))));
                sum = sum.wrapping_add(state.logs[i].len() as u64);
            }
        }
        std::hint::black_box(sum);
        for e in window {
            if ids_and_logs {
                let key = (e.lead, e.id);
                if state.earlier.contains(&key) || !state.current.insert(key) {
                    continue;
                }
                state.logs[e.lead as usize].push((e.at, e.shape));
            }
            crossings += u64::from(table.apply(&mut state.hot[e.lead as usize], e));
        }
    }
    crossings
}

/// The hand loop's rules per shape.
struct Hand {
    /// Per shape: a range of `rules`.
    shapes: Vec<(u32, u32)>,
    rules: Vec<HandRule>,
    /// Per group: cap (milli-points, `i64::MAX` for none) and decay table
    /// index (`u8::MAX` for none).
    groups: Vec<(i64, u8)>,
    /// Per decay: weight of a day `W[d] = 2^(d/h) · 2^16`, and its inverse.
    decays: Vec<(Vec<i64>, Vec<i64>)>,
    /// The day of the workload's start.
    day0: i64,
    threshold: i64,
}

#[derive(Clone, Copy)]
struct HandRule {
    group: u8,
    points: i32,
    /// A `times n` counter (`once`: n = 1), or a `once_per` day bucket.
    counter: u8,
    n: u8,
    per_days: u16,
}

const NO_COUNTER: u8 = u8::MAX;

/// One lead in the hand loop.
#[derive(Clone, Copy, Default)]
struct HandLead {
    flat: [i32; 8],
    decayed: [i64; 8],
    counts: [u8; 32],
    buckets: [u16; 32],
    crossed: bool,
}

impl Hand {
    fn of(model: &ScoringModel, shapes: &[EventShape], day0: i64) -> Hand {
        let groups_of: Vec<&str> = model.rules().iter().map(|r| r.group_name()).collect();
        let mut names: Vec<&str> = Vec::new();
        for g in &groups_of {
            if !names.contains(g) {
                names.push(g);
            }
        }
        let mut decays = Vec::new();
        let mut half_lives: Vec<i64> = Vec::new();
        let groups: Vec<(i64, u8)> = names
            .iter()
            .map(|n| {
                let g = model.groups().get(*n);
                let cap = g.and_then(|g| g.cap).map_or(i64::MAX, |c| c.as_milli());
                let decay = match g.and_then(|g| g.decay) {
                    Some(Decay::HalfLife { half_life }) => {
                        let h = half_life.as_seconds() / DAY;
                        let i = half_lives.iter().position(|x| *x == h).unwrap_or_else(|| {
                            half_lives.push(h);
                            let w = (0..=400)
                                .map(|d| ((d as f64 / h as f64).exp2() * 65536.0).round() as i64)
                                .collect();
                            let r = (0..=400)
                                .map(|d| ((-(d as f64) / h as f64).exp2() * 65536.0).round() as i64)
                                .collect();
                            decays.push((w, r));
                            half_lives.len() - 1
                        });
                        i as u8
                    }
                    _ => u8::MAX,
                };
                (cap, decay)
            })
            .collect();
        let mut counters = 0u8;
        let mut rule_table: Vec<HandRule> = Vec::new();
        let per_rule: Vec<HandRule> = model
            .rules()
            .iter()
            .zip(&groups_of)
            .map(|(r, g)| {
                let group = names.iter().position(|n| n == g).unwrap_or(0) as u8;
                let (n, per_days) = match r.limit {
                    Limit::Once => (1, 0),
                    Limit::Times { n } => (n.min(255) as u8, 0),
                    Limit::OncePer { period } => (0, (period.as_seconds() / DAY).max(1) as u16),
                    _ => (0, 0),
                };
                let event_rule = r.dimension() == leadflow::Dimension::Engagement;
                let counter = if event_rule && (n > 0 || per_days > 0) {
                    counters += 1;
                    counters - 1
                } else {
                    NO_COUNTER
                };
                HandRule {
                    group,
                    points: r.points.as_milli() as i32,
                    counter,
                    n,
                    per_days,
                }
            })
            .collect();
        assert!(
            counters <= 32 && groups.len() <= 8,
            "the hand loop's state is sized for the bench model"
        );
        let mut ranges = Vec::with_capacity(shapes.len());
        for shape in shapes {
            let start = rule_table.len() as u32;
            for (rule, _) in model.matches(shape) {
                rule_table.push(per_rule[rule]);
            }
            ranges.push((start, rule_table.len() as u32));
        }
        Hand {
            shapes: ranges,
            rules: rule_table,
            groups,
            decays,
            day0,
            threshold: 60_000,
        }
    }

    /// Applies an event; true when the lead crosses the threshold.
    fn apply(&self, lead: &mut HandLead, e: &Ev) -> bool {
        let (start, end) = self.shapes[e.shape as usize];
        let day = ((e.at / DAY) - self.day0).clamp(0, 400) as usize;
        for r in &self.rules[start as usize..end as usize] {
            if r.counter != NO_COUNTER {
                let c = r.counter as usize;
                if let Some(bucket) = (day as u16).checked_div(r.per_days) {
                    let bucket = bucket + 1;
                    if lead.buckets[c] == bucket {
                        continue;
                    }
                    lead.buckets[c] = bucket;
                } else {
                    if lead.counts[c] >= r.n {
                        continue;
                    }
                    lead.counts[c] += 1;
                }
            }
            let g = r.group as usize;
            match self.groups[g].1 {
                d if d != u8::MAX && r.points > 0 => {
                    lead.decayed[g] += i64::from(r.points) * self.decays[d as usize].0[day];
                }
                _ => lead.flat[g] += r.points,
            }
        }
        // The capped, decayed engagement at the event's day.
        let mut total = 0i64;
        for (g, &(cap, d)) in self.groups.iter().enumerate() {
            let decayed = if d == u8::MAX {
                0
            } else {
                ((i128::from(lead.decayed[g]) * i128::from(self.decays[d as usize].1[day])) >> 32) as i64
            };
            total += (decayed + i64::from(lead.flat[g])).min(cap);
        }
        let crossed = total >= self.threshold && !lead.crossed;
        lead.crossed |= crossed;
        crossed
    }
}

fn hand_loop(state: &mut HashMap<u64, HandLead, FxBuild>, hand: &Hand, events: &[Ev]) -> u64 {
    let mut crossings = 0;
    for e in events {
        let lead = state.entry(e.lead_fp).or_default();
        crossings += u64::from(hand.apply(lead, e));
    }
    crossings
}

fn bench(c: &mut Criterion) {
    let w = workload(1_000_000, 10_000_000);
    let stream: Vec<Event> = arrival(&w, 7);
    let mut engine = engine(&w);
    let keys = keyed(&mut engine, &stream);
    let mut shapes: Vec<Option<EventShape>> = Vec::new();
    let events: Vec<Ev> = keys
        .iter()
        .zip(&stream)
        .map(|(k, e)| {
            let s = k.shape.index();
            if shapes.len() <= s {
                shapes.resize(s + 1, None);
            }
            shapes[s].get_or_insert_with(|| e.shape.clone());
            Ev {
                at: k.at.timestamp(),
                id: k.key.get(),
                lead: k.lead.index() as u32,
                lead_fp: std::hash::BuildHasher::hash_one(&FxBuild::default(), e.lead.as_str()),
                shape: s as u32,
            }
        })
        .collect();
    // Keys are dense: every one has a shape.
    let shapes: Vec<EventShape> = shapes
        .into_iter()
        .map(|s| s.unwrap_or_else(|| EventShape::new(leadflow::EventKind::CartAdd)))
        .collect();
    let day0 = w.events.first().map_or(0, |e| e.at.timestamp() / DAY);
    let hand = Hand::of(&scoring_model().unwrap(), &shapes, day0);
    // Points from -0.3 to +1.7, spread over five groups and eight signals;
    // a threshold few leads reach.
    let table = Table {
        rules: (0..shapes.len())
            .map(|k| ((k * 7 % 5) as u8, (k as i32 * 37) % 2000 - 300, (k * 3 % 8) as u8))
            .collect(),
        threshold: 100_000,
    };
    let leads = w.leads.len();
    drop((w, engine, keys, stream));

    let mut g = c.benchmark_group("floor/1m_leads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    for (name, ids_and_logs) in [("hot_line", false), ("hot_line_ids_log", true)] {
        let fresh = HotState {
            hot: vec![Hot::default(); leads],
            logs: if ids_and_logs {
                vec![Vec::new(); leads]
            } else {
                Vec::new()
            },
            ..HotState::default()
        };
        g.bench_function(name, |b| {
            b.iter_batched(
                || fresh.clone(),
                |mut state| {
                    std::hint::black_box(hot_loop(&mut state, &table, &events, ids_and_logs));
                    state
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.bench_function("hand_loop", |b| {
        b.iter_batched(
            HashMap::<u64, HandLead, FxBuild>::default,
            |mut state| {
                std::hint::black_box(hand_loop(&mut state, &hand, &events));
                state
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
