//! Backtest and fit a lead-scoring scorecard on any CSV of leads with an
//! outcome.
//!
//! Loads the leads table (and, optionally, a second table of converted leads
//! joined on a key), detects numeric and categorical columns, splits train /
//! test (by index, or by time), fits a readable integer-points scorecard with
//! the L2 strength and bin count chosen by 5-fold cross-validation on the
//! train rows, and reports on the test rows: ROC AUC, PR AUC, log loss,
//! precision / recall / lift at the top 10 % and 20 %, the top factors with
//! their points, a naive Bayes comparison, the capacity trade-off curve (and
//! the calibrated threshold with `--capacity`), weekly MQL volume with
//! `--date`, and the missed buyers. Writes `roc.svg`, `lift.svg` and
//! `capacity.svg` into `--out`. The last line is one JSON object.
//!
//! With `--date COL`, two features are derived from the date: its weekday
//! (categorical) and the days since 2017-06-01 (numeric), as in the shared
//! baselines.
//!
//! ```text
//! cargo run --release --example backtest -- --csv leads.csv --target Converted --positive 1 --out out/
//! cargo run --release --example backtest -- --csv mqls.csv --outcomes won.csv --key mql_id \
//!     --outcome-date won_date --split temporal --date first_contact_date --capacity 20 --out out/
//! ```

#[path = "backtest/args.rs"]
mod args;
#[path = "backtest/data.rs"]
mod data;
#[path = "backtest/svg.rs"]
mod svg;

use std::error::Error;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use leadflow::Points;
use leadflow::tuning::metrics::{Confusion, top_k_count, weekly_volume};
use leadflow::tuning::{
    Backtest, Candidate, Dataset, Metrics, NaiveBayesConfig, Scorecard, ScorecardConfig, Scorer, calibrate,
    compare, missed_buyers, tradeoff_curve,
};
use serde_json::json;

use svg::{Chart, Series};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1} %", 100.0 * v))
}

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.4}"))
}

/// ROC points (fpr, tpr) walking distinct thresholds from the top.
fn roc_points(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let p = labels.iter().filter(|&&y| y).count().max(1) as f64;
    let n = labels.iter().filter(|&&y| !y).count().max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (j, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0
        } else {
            fp += 1.0
        }
        let last = order.get(j + 1).is_none_or(|&k| scores[k] != scores[i]);
        if last {
            out.push((fp / n, tp / p));
        }
    }
    out
}

/// Cumulative lift at each percentage of leads contacted, best first.
fn lift_points(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let n = scores.len();
    (1..=100)
        .filter_map(|q| {
            let k = top_k_count(n, q as f64 / 100.0);
            Confusion::at_top_k(scores, labels, k)
                .lift()
                .map(|l| (q as f64, l))
        })
        .collect()
}

fn median_ms<T>(
    runs: usize,
    mut f: impl FnMut() -> Result<T, Box<dyn Error>>,
) -> Result<(T, f64), Box<dyn Error>> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f()?);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((last.ok_or("no run")?, times[times.len() / 2]))
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = args::parse(std::env::args().skip(1))?;
    let t_load = Instant::now();
    let loaded = data::load(&args)?;
    let (train, test) = data::split(&args, &loaded)?;
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
    let data = &loaded.data;
    println!("# leadflow backtest: {}", args.csv);
    for note in &loaded.notes {
        println!("note: {note}");
    }
    let pos_train = train
        .iter()
        .filter(|&&i| data.rows()[i].outcome.converted)
        .count();
    let pos_test = test.iter().filter(|&&i| data.rows()[i].outcome.converted).count();
    println!(
        "{} leads ({} converted); split {}: {} train ({} converted), {} test ({} converted); loaded in {load_ms:.0} ms",
        data.len(),
        data.positives(),
        args.split,
        train.len(),
        pos_train,
        test.len(),
        pos_test
    );
    let numeric: Vec<&str> = loaded
        .features
        .iter()
        .filter(|f| f.kind == leadflow::tuning::FeatureKind::Numeric)
        .map(|f| f.name.as_str())
        .collect();
    println!(
        "{} features, numeric: {}",
        loaded.features.len(),
        if numeric.is_empty() {
            "none".into()
        } else {
            numeric.join(", ")
        }
    );

    // Tune the bin count and L2 strength by 5-fold CV on the train rows.
    let t_tune = Instant::now();
    let base = ScorecardConfig::new(loaded.features.clone());
    let search = leadflow::tuning::Search {
        seed: args.seed,
        ..Default::default()
    };
    let tuned = base.tune(data, &train, &search)?;
    for t in &tuned.trials {
        println!(
            "bins {:>3}  l2 {:>9.4}  cv log loss {:.4}  cv auc {:.4}",
            t.max_bins, t.l2, t.log_loss, t.auc
        );
    }
    let config = tuned.config.clone();
    let cv_auc = tuned
        .trials
        .iter()
        .find(|t| t.l2 == config.l2 && t.max_bins == config.max_bins)
        .map_or(0.0, |t| t.auc);
    let tune_ms = t_tune.elapsed().as_secs_f64() * 1e3;
    println!(
        "chosen: bins {} l2 {} (cv auc {cv_auc:.4}, bracketed {}); tuning took {tune_ms:.0} ms",
        config.max_bins, config.l2, tuned.bracketed
    );

    // Final fit: median of 3, as in the baselines.
    let (card, fit_ms) = median_ms(3, || Ok(config.fit(data, &train)?))?;
    let nb_config = NaiveBayesConfig::new(loaded.features.clone());
    let (nb, nb_fit_ms) = median_ms(3, || Ok(nb_config.fit(data, &train)?))?;

    let test_data: Dataset = test.iter().map(|&i| data.rows()[i].clone()).collect();
    let labels = test_data.labels();
    let now = DateTime::<Utc>::MAX_UTC;
    let points: Vec<Points> = test_data
        .rows()
        .iter()
        .map(|r| card.score(&r.lead, &r.events, now))
        .collect();
    let scores: Vec<f64> = points.iter().map(|p| p.to_f64()).collect();
    let probs: Vec<f64> = points.iter().map(|&p| card.probability(p)).collect();
    let m = Metrics::compute(&scores, &labels, Some(&probs));
    let logits: Vec<f64> = test_data
        .rows()
        .iter()
        .map(|r| card.logit(&r.lead, &r.events))
        .collect();
    let m_logit = Metrics::compute(&logits, &labels, None);
    let nb_scores: Vec<f64> = test_data
        .rows()
        .iter()
        .map(|r| nb.log_odds(&r.lead, &r.events))
        .collect();
    let nb_probs: Vec<f64> = test_data
        .rows()
        .iter()
        .map(|r| nb.probability(&r.lead, &r.events))
        .collect();
    let m_nb = Metrics::compute(&nb_scores, &labels, Some(&nb_probs));

    println!(
        "\n## Test metrics ({} leads, {} converted, base rate {})",
        m.n,
        m.positives,
        pct(Some(m.positives as f64 / m.n.max(1) as f64))
    );
    println!(
        "| model | ROC AUC | PR AUC | log loss | P@10% | R@10% | lift@10% | P@20% | lift@20% | fit ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, mm, ms) in [
        ("scorecard (integer points)", &m, Some(fit_ms)),
        ("  same, unrounded logistic", &m_logit, None),
        ("naive Bayes", &m_nb, Some(nb_fit_ms)),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            num(mm.auc),
            num(mm.pr_auc),
            num(mm.log_loss),
            num(mm.precision_at_10pct),
            num(mm.recall_at_10pct),
            num(mm.lift_at_10pct),
            num(mm.precision_at_20pct),
            num(mm.lift_at_20pct),
            ms.map_or("-".into(), |v| format!("{v:.1}"))
        );
    }

    print_factors(&card);

    // Threshold at the top 10 % of test leads, for comparisons.
    let k10 = top_k_count(scores.len(), 0.1).max(1);
    let mut sorted = scores.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let thr10 = Points::try_from_f64(sorted[k10 - 1])?;
    let mut nb_pts: Vec<Points> = test_data
        .rows()
        .iter()
        .map(|r| nb.score(&r.lead, &r.events, now))
        .collect();
    nb_pts.sort_by(|a, b| b.cmp(a));
    let nb_thr10 = nb_pts[k10 - 1];
    let cmp = compare(&card, &nb, &test_data, now, thr10, nb_thr10);
    println!("\n## Scorecard vs naive Bayes, each qualifying its top 10 % (scorecard >= {thr10} points)");
    println!(
        "both: {}; only scorecard: {} ({} converted); only naive Bayes: {} ({} converted)",
        cmp.both,
        cmp.only_a.len(),
        cmp.only_a_converted,
        cmp.only_b.len(),
        cmp.only_b_converted
    );

    // Capacity.
    let single_week = NaiveDate::from_ymd_opt(2000, 1, 3).ok_or("date")?;
    let candidates: Vec<Candidate> = test_data
        .rows()
        .iter()
        .zip(&points)
        .map(|(r, &score)| Candidate {
            score,
            week: if loaded.dates.is_some() {
                r.lead.created_at.date_naive()
            } else {
                single_week
            },
            converted: r.outcome.converted,
        })
        .collect();
    let per = if loaded.dates.is_some() {
        "per week"
    } else {
        "in the test set (no --date: one period)"
    };
    let curve = tradeoff_curve(&candidates);
    println!("\n## Capacity trade-off (MQLs {per})");
    println!("| threshold | MQLs | mean/week | peak/week | precision (MQL→conversion) | recall |");
    println!("|---|---|---|---|---|---|");
    let n_test = candidates.len();
    let mut shown = Vec::new();
    for frac in [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
        if let Some(p) = curve.iter().find(|p| p.mqls as f64 >= frac * n_test as f64) {
            if !shown.contains(&p.threshold) {
                shown.push(p.threshold);
                println!(
                    "| {} | {} | {:.1} | {} | {} | {} |",
                    p.threshold,
                    p.mqls,
                    p.mean_per_week,
                    p.peak_per_week,
                    pct(Some(p.precision)),
                    pct(p.recall)
                );
            }
        }
    }
    let mut threshold = thr10;
    let mut json_cap = serde_json::Value::Null;
    if let Some(capacity) = args.capacity {
        let cal = calibrate(&candidates, capacity);
        println!("\ncapacity {capacity} MQLs {per}:");
        match cal.threshold {
            Some(t) => {
                threshold = t.threshold;
                println!(
                    "  threshold {} points: {} MQLs, peak {} / mean {:.1} {per}, precision {}, recall {}",
                    t.threshold,
                    t.mqls,
                    t.peak_per_week,
                    t.mean_per_week,
                    pct(Some(t.precision)),
                    pct(t.recall)
                );
            }
            None => println!("  no threshold fits: even the top score overflows a week"),
        }
        println!(
            "  top-{capacity}-per-week gate: {} MQLs, precision {}, recall {}",
            cal.gate.mqls,
            pct(cal.gate.precision),
            pct(cal.gate.recall)
        );
        json_cap = json!({
            "capacity": capacity,
            "threshold": cal.threshold.map(|t| t.threshold.to_f64()),
            "threshold_recall": cal.threshold.and_then(|t| t.recall),
            "threshold_precision": cal.threshold.map(|t| t.precision),
            "gate_recall": cal.gate.recall,
            "gate_precision": cal.gate.precision,
        });
    }

    // Replay at the chosen threshold: weekly MQL volume and missed buyers.
    let bt = Backtest::new(&card);
    let replays = bt.replay(&test_data, threshold, None);
    let mql_count = replays.iter().filter(|r| r.mql_at.is_some()).count();
    let mql_won = replays
        .iter()
        .filter(|r| r.mql_at.is_some() && r.converted)
        .count();
    println!(
        "\n## At threshold {threshold} points: {mql_count} MQLs, MQL→conversion rate {} ({} of MQLs never convert)",
        pct((mql_count > 0).then(|| mql_won as f64 / mql_count as f64)),
        pct((mql_count > 0).then(|| 1.0 - mql_won as f64 / mql_count as f64))
    );
    if loaded.dates.is_some() {
        let weeks = weekly_volume(replays.iter().filter_map(|r| r.mql_at));
        let peak = weeks.iter().map(|w| w.1).max().unwrap_or(0);
        let mean = mql_count as f64 / weeks.len().max(1) as f64;
        println!(
            "weekly MQL volume over {} weeks: mean {mean:.1}, peak {peak}",
            weeks.len()
        );
        let line: Vec<String> = weeks
            .iter()
            .map(|(d, c)| format!("{}:{c}", d.format("%m-%d")))
            .collect();
        println!("  {}", line.join(" "));
    }
    let missed = missed_buyers(&replays, threshold);
    println!(
        "missed buyers (converted, never qualified): {} of {}",
        missed.len(),
        pos_test
    );
    for mb in missed.iter().take(8) {
        let when = if loaded.dates.is_some() {
            format!(" on {}", mb.could_have_at.format("%Y-%m-%d"))
        } else {
            String::new()
        };
        let converted = mb
            .converted_at
            .map_or(String::new(), |d| format!(", converted {}", d.format("%Y-%m-%d")));
        println!(
            "  {}: peak {} points, {} short: a threshold of {} would have caught it{when}{converted}",
            mb.lead, mb.peak, mb.shortfall, mb.peak
        );
    }

    // Charts.
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        let roc = Chart {
            title: format!("ROC, test rows (scorecard AUC {})", num(m.auc)),
            x_label: "false positive rate".into(),
            y_label: "true positive rate (recall)".into(),
            series: vec![
                Series::new("scorecard", "#1f77b4", roc_points(&scores, &labels)),
                Series::new("naive Bayes", "#ff7f0e", roc_points(&nb_scores, &labels)),
                Series::new("random", "#999", vec![(0.0, 0.0), (1.0, 1.0)]).dashed(),
            ],
        };
        let lift = Chart {
            title: "Cumulative lift, test rows".into(),
            x_label: "% of leads contacted, best first".into(),
            y_label: "lift over the base rate".into(),
            series: vec![
                Series::new("scorecard", "#1f77b4", lift_points(&scores, &labels)),
                Series::new("naive Bayes", "#ff7f0e", lift_points(&nb_scores, &labels)),
                Series::new("random", "#999", vec![(1.0, 1.0), (100.0, 1.0)]).dashed(),
            ],
        };
        let x = |p: &leadflow::tuning::CurvePoint| {
            if loaded.dates.is_some() {
                p.mean_per_week
            } else {
                p.mqls as f64
            }
        };
        let capacity = Chart {
            title: "Capacity trade-off, test rows".into(),
            x_label: if loaded.dates.is_some() {
                "MQLs per week (mean)".into()
            } else {
                "MQLs".into()
            },
            y_label: "share".into(),
            series: vec![
                Series::new(
                    "recall (buyers caught)",
                    "#2ca02c",
                    curve.iter().map(|p| (x(p), p.recall.unwrap_or(0.0))).collect(),
                ),
                Series::new(
                    "precision (MQL→conversion)",
                    "#d62728",
                    curve.iter().map(|p| (x(p), p.precision)).collect(),
                ),
            ],
        };
        for (name, chart) in [("roc.svg", roc), ("lift.svg", lift), ("capacity.svg", capacity)] {
            let path = std::path::Path::new(out).join(name);
            std::fs::write(&path, chart.to_svg())?;
            println!("wrote {}", path.display());
        }
        // The scorecard as an ordinary scoring model: edit it, load it, explain it.
        let model = card.to_scoring_model(leadflow::ModelVersion::new("fitted-scorecard@1")?)?;
        let path = std::path::Path::new(out).join("model.json");
        std::fs::write(&path, serde_json::to_string_pretty(&model)?)?;
        println!("wrote {} ({} rules)", path.display(), model.rules().len());
    }

    let summary = json!({
        "auc": m.auc,
        "pr_auc": m.pr_auc,
        "log_loss": m.log_loss,
        "precision_at_10pct": m.precision_at_10pct,
        "recall_at_10pct": m.recall_at_10pct,
        "lift_at_10pct": m.lift_at_10pct,
        "precision_at_20pct": m.precision_at_20pct,
        "lift_at_20pct": m.lift_at_20pct,
        "logistic_auc": m_logit.auc,
        "nb_auc": m_nb.auc,
        "nb_log_loss": m_nb.log_loss,
        "n_train": train.len(),
        "n_test": test.len(),
        "fit_ms": fit_ms,
        "nb_fit_ms": nb_fit_ms,
        "tune_ms": tune_ms,
        "cv_auc": cv_auc,
        "bins": config.max_bins,
        "min_level": config.min_level_rows,
        "monotone": config.monotone,
        "l2": config.l2,
        "factors": card.factors().count(),
        "threshold": threshold.to_f64(),
        "missed_buyers": missed.len(),
        "capacity": json_cap,
    });
    println!("{summary}");
    Ok(())
}

fn print_factors(card: &Scorecard) {
    println!(
        "\n## Scorecard: base {} points; {} points double the odds; {} points = {:.0} % chance",
        card.base,
        card.scaling.pdo,
        card.scaling.score,
        100.0 * card.scaling.probability(card.scaling.score)
    );
    let mut all: Vec<_> = card
        .features
        .iter()
        .flat_map(|f| f.bins.iter().map(move |b| (f.feature.name.as_str(), b)))
        .filter(|(_, b)| b.train_rows > 0 && b.points != Points::ZERO)
        .collect();
    all.sort_by(|a, b| {
        b.1.points
            .as_milli()
            .abs()
            .cmp(&a.1.points.as_milli().abs())
            .then(b.1.train_rows.cmp(&a.1.train_rows))
    });
    println!(
        "top factors (by |points|; {} bins in all):",
        card.factors().count()
    );
    for (name, b) in all.iter().take(15) {
        println!(
            "  {:>+5}  {name} {}   ({} train leads, {:.0} % converted)",
            b.points.to_string(),
            b.bin,
            b.train_rows,
            100.0 * b.train_positives as f64 / b.train_rows.max(1) as f64
        );
    }
}
