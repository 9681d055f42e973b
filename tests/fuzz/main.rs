//! Differential fuzzing on stable Rust: a seeded generator and byte-level
//! input mutation, one target per input surface, every case checked against
//! an independent answer (the engine against the oracle of
//! `tests/integration/oracle.rs`, `ScoringModel::score` against
//! `ScoreState`/`scores_with`, what is written against what is read back).
//!
//! ```text
//! cargo test --release --test fuzz -- [TARGET] [--cases N] [--seconds S] [--seed N]
//!                                     [--case-limit-ms MS] [--rss-limit-mb MB]
//! ```
//!
//! The long run, 10 M cases per target, one process per core:
//!
//! ```text
//! cargo test --release --test fuzz -- config pipeline --cases 10000000 &
//! cargo test --release --test fuzz -- engine csv --cases 10000000
//! ```
//!
//! (about 3 hours of one core in all: on the 2-core development machine,
//! one at a time, 2,500 config, 2,500 engine, 5,400 pipeline and 9,800 csv
//! cases a second of CPU time).
//!
//! Targets: `config` (models, lifecycle definitions, conditions and engine
//! configs as JSON and TOML), `engine` (event and command streams with
//! snapshots and swaps), `pipeline` (the pipeline example's line reader),
//! `csv` (the backtest example's CSV loader). Each runs `--cases` cases or
//! for `--seconds`, whichever ends first (plain `cargo test`: 200 cases
//! each). Case `i` of a target uses the seed `--seed` + `i`, so a finding is
//! replayed with `TARGET --seed S --cases 1`. A case that runs longer than
//! `--case-limit-ms` (default 10 000) or during which the process's
//! resident memory passes `--rss-limit-mb` (default 2 048) is a finding: a
//! watchdog thread checks both every 50 ms. The binary exits 1
//! on the first finding, naming the target and the seed. A case that aborts
//! the process (an allocation failure, a stack overflow) cannot be caught:
//! the running case's target and seed are always in
//! `target/tmp/fuzz-current-case` (`…-engine` for a run of `engine`), and
//! the run prints them when the binary is run again with `--last` (and the
//! same targets).

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod config;
mod csv_loader;
mod engine;
mod fixtures;
mod mutate;
mod pipeline;

#[path = "../integration/arbitrary.rs"]
#[allow(dead_code)]
mod arbitrary;
#[path = "../integration/oracle.rs"]
#[allow(dead_code)]
mod oracle;
#[path = "../integration/support.rs"]
#[allow(dead_code)]
mod support;

// The examples' code under test: the backtest's loader refers to
// `crate::args`, so both live at the crate root.
#[path = "../../examples/backtest/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "../../examples/backtest/data.rs"]
#[allow(dead_code)]
mod data;
#[path = "../../examples/pipeline/stream.rs"]
#[allow(dead_code)]
mod pipeline_stream;

/// What a case found wrong.
type Finding = String;

/// A target: one case from its seed.
type Target = fn(u64) -> Result<(), Finding>;

const TARGETS: [(&str, Target); 4] = [
    ("config", config::case),
    ("engine", engine::case),
    ("pipeline", pipeline::case),
    ("csv", csv_loader::case),
];

struct Options {
    filter: Vec<String>,
    cases: u64,
    seconds: Option<f64>,
    seed: u64,
    case_limit: Duration,
    rss_limit_mb: u64,
    last: bool,
}

/// Where the running case is written, so an abort can be replayed.
/// One file per selection of targets, so runs of other targets side by side
/// (one per core) keep theirs apart.
fn current_case_path(filter: &[String]) -> std::path::PathBuf {
    let mut name = String::from("fuzz-current-case");
    for f in filter {
        name.push('-');
        name.push_str(f);
    }
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn options() -> Options {
    let mut o = Options {
        filter: Vec::new(),
        cases: 200,
        seconds: None,
        seed: 0,
        case_limit: Duration::from_secs(10),
        rss_limit_mb: 2048,
        last: false,
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>, flag: &str| -> f64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cases" => o.cases = number(args.next(), "--cases") as u64,
            "--seconds" => o.seconds = Some(number(args.next(), "--seconds")),
            "--seed" => o.seed = number(args.next(), "--seed") as u64,
            "--case-limit-ms" => {
                o.case_limit = Duration::from_millis(number(args.next(), "--case-limit-ms") as u64)
            }
            "--rss-limit-mb" => o.rss_limit_mb = number(args.next(), "--rss-limit-mb") as u64,
            "--last" => o.last = true,
            // Flags cargo test passes to every test binary.
            _ if a.starts_with('-') => {}
            _ => o.filter.push(a),
        }
    }
    o
}

/// The resident memory of this process in MiB (Linux; 0 elsewhere).
fn rss_mb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096 / (1 << 20)
}

fn main() {
    let o = options();
    if o.last {
        let text = std::fs::read_to_string(current_case_path(&o.filter)).unwrap_or_default();
        println!("the last case run: {}", text.trim_end());
        return;
    }
    let record =
        std::fs::File::create(current_case_path(&o.filter)).expect("cannot write the current case file");
    let selected: Vec<(&str, Target)> = TARGETS
        .into_iter()
        .filter(|(name, _)| o.filter.is_empty() || o.filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    // The watchdog, every 50 ms: the running case's time (its start in ms
    // since `origin`, 0 between cases) and the process's resident memory
    // (so a runaway case is caught while it runs); its target and seed.
    let origin = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(rss_mb()));
    let current = Arc::new(std::sync::Mutex::new((String::new(), 0u64)));
    {
        let (started, peak, current) = (started.clone(), peak.clone(), current.clone());
        let (limit, rss_limit) = (o.case_limit, o.rss_limit_mb);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(50));
                let s = started.load(Ordering::Relaxed);
                let elapsed = origin.elapsed().as_millis() as u64;
                let rss = rss_mb();
                peak.fetch_max(rss, Ordering::Relaxed);
                let problem = if s != 0 && elapsed.saturating_sub(s) > limit.as_millis() as u64 {
                    format!("the case ran longer than {} ms", limit.as_millis())
                } else if rss > rss_limit {
                    format!("resident memory {rss} MiB passed {rss_limit} MiB")
                } else {
                    continue;
                };
                let (target, seed) = current.lock().map(|c| c.clone()).unwrap_or_default();
                eprintln!("fuzz: FINDING in {target}, seed {seed}: {problem}");
                std::process::exit(1);
            }
        });
    }
    let per_target = o
        .seconds
        .map(|s| Duration::from_secs_f64(s / selected.len().max(1) as f64));
    for (name, target) in selected {
        let t0 = Instant::now();
        let mut done = 0u64;
        while done < o.cases && per_target.is_none_or(|d| t0.elapsed() < d) {
            let seed = o.seed.wrapping_add(done);
            if let Ok(mut c) = current.lock() {
                *c = (name.to_owned(), seed);
            }
            // Fixed width, so each write replaces the last.
            let _ = record.write_at(format!("{name:<8} --seed {seed:<20}\n").as_bytes(), 0);
            started.store(origin.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            let result = std::panic::catch_unwind(|| target(seed));
            started.store(0, Ordering::Relaxed);
            let finding = match result {
                Ok(Ok(())) => None,
                Ok(Err(f)) => Some(f),
                Err(p) => Some(format!(
                    "panic: {}",
                    p.downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| p.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)")
                )),
            };
            if let Some(f) = finding {
                eprintln!("fuzz: FINDING in {name}, seed {seed}: {f}");
                eprintln!(
                    "fuzz: replay with: cargo test --release --test fuzz -- {name} --seed {seed} --cases 1"
                );
                std::process::exit(1);
            }
            done += 1;
        }
        let rss = rss_mb();
        let peak = peak.fetch_max(rss, Ordering::Relaxed).max(rss);
        eprintln!(
            "fuzz: {name}: {done} cases from seed {} in {:.1} s, no finding; peak resident memory {peak} MiB",
            o.seed,
            t0.elapsed().as_secs_f64()
        );
    }
}
