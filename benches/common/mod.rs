//! What the `engine` and `floor` benches share: the workload (a stream with
//! late and redelivered events) and the engine that keys it.

#![allow(dead_code)] // each bench uses part of it

use chrono::{DateTime, Duration, Utc};
use leadflow::engine::{EngineConfig, KeyedEvent};
use leadflow::synthetic::{Workload, WorkloadConfig, lifecycle, scoring_model};
use leadflow::tuning::SplitMix64;
use leadflow::{Engine, Event};

/// The synthetic workload with `leads` and `events` (Zipf-like activity
/// over 180 days, the domain's event mix). `BENCH_SCALE=n` divides it by
/// `n` (for quick checks; names keep the full-size labels).
pub(crate) fn workload(leads: usize, events: usize) -> Workload {
    let scale = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    WorkloadConfig::new(leads / scale, events / scale).generate()
}

/// The events as they arrive: in time order, except 5 % delayed by up to a
/// day and 1 % delivered a second time up to a day later.
pub(crate) fn arrival(w: &Workload, seed: u64) -> Vec<Event> {
    let mut rng = SplitMix64::new(seed);
    let day = 86_400u64;
    let mut keyed: Vec<(DateTime<Utc>, usize, &Event)> = Vec::with_capacity(w.events.len() * 101 / 100);
    for (i, e) in w.events.iter().enumerate() {
        let delay = if rng.below(100) < 5 { rng.below(day) } else { 0 };
        keyed.push((e.at + Duration::seconds(delay as i64), i, e));
        if rng.below(100) < 1 {
            keyed.push((e.at + Duration::seconds(rng.below(day) as i64), i, e));
        }
    }
    keyed.sort_by_key(|k| (k.0, k.1));
    keyed.into_iter().map(|k| k.2.clone()).collect()
}

/// The latest event time: every call's `now`.
pub(crate) fn end(w: &Workload) -> DateTime<Utc> {
    w.events.iter().map(|e| e.at).max().unwrap_or_default()
}

/// An engine with the synthetic model and lifecycle, the default config,
/// and every lead of `w` upserted at its creation time.
pub(crate) fn engine(w: &Workload) -> Engine {
    let mut e = Engine::new(
        scoring_model().unwrap(),
        lifecycle().unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    for lead in &w.leads {
        e.upsert_lead(lead.clone(), lead.created_at).unwrap();
    }
    e
}

/// The events keyed for `e`, as a host that keeps keys holds them.
pub(crate) fn keyed(e: &mut Engine, events: &[Event]) -> Vec<KeyedEvent> {
    events.iter().map(|x| e.keyed(x).unwrap()).collect()
}
