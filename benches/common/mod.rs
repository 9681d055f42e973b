//! What the `funnel` and `floor` benches share: their workloads, and the
//! compiled funnel that keys them.

use leadflow::Event;
use leadflow::funnel::{CompactEvent, CompiledFunnel, FunnelConfig};
use leadflow::synthetic::{Workload, WorkloadConfig, lifecycle, scoring_model};

/// The synthetic workload with `leads` and `events`.
/// `FUNNEL_BENCH_SCALE=n` divides every workload by `n` (for slow builds
/// and quick checks; the names keep the full-size labels).
pub(crate) fn workload(leads: usize, events: usize) -> Workload {
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

/// A compiled funnel with every lead of `w` upserted at its creation time.
pub(crate) fn compiled(w: &Workload) -> CompiledFunnel {
    let mut f = CompiledFunnel::new(
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

/// The events keyed for `f`, as a host would key them.
pub(crate) fn keyed(f: &mut CompiledFunnel, events: &[Event]) -> Vec<CompactEvent> {
    events.iter().map(|e| f.compact(e).unwrap()).collect()
}
