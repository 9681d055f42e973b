//! Scratch profiling driver (not committed).
// Scratch profiling driver (not committed).
#[path = "../benches/common/mod.rs"]
mod common;
use common::*;
fn main() {
    let leads: usize = std::env::var("LEADS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let w = workload(leads, leads * 10);
    let now = end(&w);
    let stream = arrival(&w, 7);
    let mut e = engine(&w);
    let keys = keyed(&mut e, &stream);
    let what = std::env::args().nth(1).unwrap_or_default();
    for _ in 0..3 {
        let mut x = e.clone();
        let t = std::time::Instant::now();
        let n: usize = if what == "replay" { x.replay(&keys, now).applied } else { keys.chunks(1000).map(|c| x.ingest_keyed(c, now).applied).sum() };
        let s = t.elapsed().as_secs_f64();
        eprintln!("{what} {n} events in {s:.3}s: {:.2} M/s, {:.0} ns/event", n as f64 / s / 1e6, s * 1e9 / n as f64);
    }
}
