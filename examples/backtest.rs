//! Fit and backtest readable lead-scoring models on any CSV of leads with an
//! outcome, and compare two models side by side.
//!
//! Loads the leads table (and, optionally, a second table of converted leads
//! joined on a key), detects numeric and categorical columns (whole-number
//! codes from 1 are categories), warns about features that leak the outcome,
//! splits train / test (by index, or by time), and fits on the train rows:
//!
//! - a logistic scorecard, its bin count and L2 penalty chosen by 5-fold
//!   cross-validation;
//! - a boosted additive card (per-bin shapes and pair tables);
//! - naive Bayes, for comparison.
//!
//! Then it reports on the test rows: ROC AUC, log loss, lift at the top 10 %
//! and 20 %, fit times, the sanity bounds of the points, the top factors, the
//! two models side by side at the same MQL volume (who enters and who leaves
//! MQL), the capacity trade-off, weekly MQL volume (with `--date`) and the
//! missed buyers, each explained by the rules it matched and the values that
//! matched them. `--model` and `--compare` backtest scoring models saved as
//! JSON instead (the `model.json` this example writes, edited or not). Writes
//! `roc.svg`, `lift.svg`, `capacity.svg`, `model.json` (the boosted card)
//! and `scorecard.json` (the logistic one) into `--out`. The last line is one
//! JSON object.
//!
//! ```text
//! cargo run --release --example backtest -- --csv leads.csv --target Converted --positive 1 --out out/
//! cargo run --release --example backtest -- --csv mqls.csv --outcomes won.csv --key mql_id \
//!     --outcome-date won_date --split temporal --date first_contact_date --capacity 20 --out out/
//! cargo run --release --example backtest -- --csv leads.csv --target Converted --positive 1 \
//!     --model today.json --compare out/model.json
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
use leadflow::scoring::Trigger;
use leadflow::tuning::metrics::{Confusion, top_k_count, weekly_volume};
use leadflow::tuning::{
    Backtest, BoostedConfig, Bounds, Candidate, Dataset, FeatureKind, Metrics, NaiveBayesConfig, PdoScaling,
    Scorecard, ScorecardConfig, Scorer, Search, calibrate, check_leakage, compare, missed_buyers,
    tradeoff_curve,
};
use leadflow::{Lead, ModelVersion, Points, ScoringModel};
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

/// Runs `f` three times; returns the last result and the median time in ms.
fn median_ms<T>(mut f: impl FnMut() -> Result<T, Box<dyn Error>>) -> Result<(T, f64), Box<dyn Error>> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        last = Some(f()?);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((last.ok_or("no run")?, times[1]))
}

/// A model under test: a scoring model as deployed, with the scale its
/// points have when it was fitted here.
struct Subject {
    name: String,
    model: ScoringModel,
    scaling: Option<PdoScaling>,
}

impl Subject {
    fn fitted(name: &str, card: &Scorecard, version: &str) -> Result<Subject, Box<dyn Error>> {
        Ok(Subject {
            name: name.into(),
            model: card.to_scoring_model(ModelVersion::new(version)?)?,
            scaling: Some(card.scaling),
        })
    }

    fn load(path: &str) -> Result<Subject, Box<dyn Error>> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let model: ScoringModel = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        Ok(Subject {
            name: path.into(),
            model,
            scaling: None,
        })
    }

    fn points(&self, data: &Dataset, now: DateTime<Utc>) -> Vec<Points> {
        data.rows()
            .iter()
            .map(|r| Scorer::score(&self.model, &r.lead, &r.events, now))
            .collect()
    }

    fn metrics(&self, points: &[Points], labels: &[bool]) -> Metrics {
        let scores: Vec<f64> = points.iter().map(|p| p.to_f64()).collect();
        let probs: Option<Vec<f64>> = self
            .scaling
            .map(|s| points.iter().map(|p| s.probability(p.to_f64())).collect());
        Metrics::compute(&scores, labels, probs.as_deref())
    }
}

/// The `k`-th highest score (1-based), the threshold that qualifies the top
/// `k` leads (and any tied with the last of them).
fn kth_highest(points: &[Points], k: usize) -> Points {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.get(k.max(1) - 1).copied().unwrap_or(Points::MAX)
}

/// The threshold whose number of qualified leads comes closest to `volume`
/// (the higher threshold when two come as close).
fn closest_volume(points: &[Points], volume: usize) -> Points {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| b.cmp(a));
    let mut best: Option<(usize, Points)> = None;
    let mut i = 0;
    while let Some(&t) = sorted.get(i) {
        while sorted.get(i).is_some_and(|&p| p == t) {
            i += 1;
        }
        let gap = i.abs_diff(volume);
        if best.is_none_or(|(g, _)| gap < g) {
            best = Some((gap, t));
        }
    }
    best.map_or(Points::MAX, |(_, t)| t)
}

/// Points with their sign: `+15`, `-3`, `0`.
fn signed(p: Points) -> String {
    if p > Points::ZERO {
        format!("+{p}")
    } else {
        p.to_string()
    }
}

/// The explanation lines of a lead under a model: each rule it matched, its
/// points, and the values that matched it (`+15 size_icp: employees = 450`).
fn explain_lines(model: &ScoringModel, lead: &Lead, now: DateTime<Utc>) -> Vec<String> {
    let why = model.explain(lead, &[], now);
    let value = |key: &str| match lead.attribute(key) {
        Some(v) => format!("{key} = {v}"),
        None => format!("{key} is unknown"),
    };
    why.contributions
        .iter()
        .map(|c| {
            let matched = match model.rule(c.rule.as_str()).map(|r| &r.when) {
                Some(Trigger::Attribute { key, .. }) if key.as_str() == leadflow::keys::SOURCE => {
                    "every lead".to_string()
                }
                Some(Trigger::Attribute { key, .. }) => value(key),
                Some(Trigger::AllAttributes { all }) => all
                    .iter()
                    .map(|t| value(&t.key))
                    .collect::<Vec<_>>()
                    .join(" and "),
                _ => "an event".to_string(),
            };
            let rule = model
                .rule(c.rule.as_str())
                .and_then(|r| r.description.as_deref())
                .filter(|d| *d != c.rule.as_str());
            match rule {
                Some(d) if !d.starts_with("base points") => {
                    format!("{:>6} {}: {matched}  (rule: {d})", signed(c.points), c.rule)
                }
                _ => format!("{:>6} {}: {matched}", signed(c.points), c.rule),
            }
        })
        .collect()
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = args::parse(std::env::args().skip(1))?;
    if args.help {
        println!("{}", args::USAGE);
        return Ok(());
    }
    let t_load = Instant::now();
    let loaded = data::load(&args)?;
    let (train, test) = data::split(&args, &loaded)?;
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
    let data = &loaded.data;
    let dated = loaded.dates.is_some();
    println!("# leadflow backtest: {}", args.csv);
    for note in &loaded.notes {
        println!("note: {note}");
    }
    let converted = |rows: &[usize]| rows.iter().filter(|&&i| data.rows()[i].outcome.converted).count();
    let left_out = match loaded.no_target.len() {
        0 => String::new(),
        k => format!(", {k} without a target left out"),
    };
    println!(
        "{} leads ({} converted{left_out}); split {}: {} train ({} converted), {} test ({} converted); loaded in {load_ms:.0} ms",
        data.len(),
        data.positives(),
        args.split,
        train.len(),
        converted(&train),
        test.len(),
        converted(&test)
    );
    let kinds = |kind: FeatureKind| {
        let names: Vec<&str> = loaded
            .features
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    println!(
        "{} features; numeric: {}; categorical: {}",
        loaded.features.len(),
        kinds(FeatureKind::Numeric),
        kinds(FeatureKind::Categorical)
    );

    // Leakage first: a feature that leaks makes every figure below a lie.
    let leaks = check_leakage(data, &train, &loaded.features);
    println!("\n## Leakage check (train rows)");
    if leaks.is_empty() {
        println!(
            "no feature looks like an id, decides the outcome alone, or is named like a post-outcome field"
        );
    }
    for leak in &leaks {
        println!("WARNING: {leak}");
    }
    if !leaks.is_empty() {
        println!(
            "these figures are only as honest as the features: drop the ones recorded after the outcome (--drop) and run again"
        );
    }

    // Fits.
    let features = loaded.features.clone();
    let t_tune = Instant::now();
    let mut search = Search::default();
    search.seed = args.seed;
    let tuned = ScorecardConfig::new(features.clone()).tune(data, &train, &search)?;
    let tune_ms = t_tune.elapsed().as_secs_f64() * 1e3;
    let config = tuned.config.clone();
    let (card, fit_ms) = median_ms(|| Ok(config.fit(data, &train)?))?;
    let mut boosted_config = BoostedConfig::new(features.clone()).with_seed(args.seed);
    if let Some(p) = args.pairs {
        boosted_config = boosted_config.with_pairs(p);
    }
    let (boosted, boosted_ms) = median_ms(|| Ok(boosted_config.fit(data, &train)?))?;
    let nb_config = NaiveBayesConfig::new(features.clone());
    let (nb, nb_ms) = median_ms(|| Ok(nb_config.fit(data, &train)?))?;
    println!("\n## Fits (train rows)");
    println!(
        "logistic scorecard: {} bins per number, L2 penalty {:.3} chosen by 5-fold cross-validation ({} trials, {}; {tune_ms:.0} ms); fit {fit_ms:.1} ms",
        config.max_bins,
        config.l2,
        tuned.trials.len(),
        if tuned.bracketed {
            "the best penalty has a worse one on each side"
        } else {
            "the search reached its limit"
        }
    );
    println!(
        "boosted card: {} pair tables, {} pair cells with points; fit {boosted_ms:.1} ms",
        boosted.pairs.len(),
        boosted.pairs.iter().map(|p| p.cells.len()).sum::<usize>()
    );
    println!("naive Bayes: fit {nb_ms:.1} ms");
    for (name, c) in [("scorecard", &card), ("boosted card", &boosted)] {
        for w in &c.warnings {
            println!("{name}: {w}");
        }
    }
    let bounds = Bounds::default();
    println!(
        "sanity bounds: a factor adds at most ±{:.0} points (±{} log-odds), the base lies within ±{:.0} points of the score at odds 1:1",
        bounds.factor_points(&card.scaling),
        bounds.factor,
        bounds.base * card.scaling.factor()
    );
    for (name, c) in [("scorecard", &card), ("boosted card", &boosted)] {
        let largest = c.parts().map(|p| p.points().to_f64().abs()).fold(0.0, f64::max);
        let verdict = match c.check_bounds(&bounds) {
            Ok(()) => "within bounds".to_string(),
            Err(e) => format!("OUT OF BOUNDS: {e}"),
        };
        println!(
            "  {name}: base {} points, largest factor ±{largest:.0} points, {} factors with points: {verdict}",
            c.base,
            c.parts().filter(|p| p.points() != Points::ZERO).count()
        );
    }

    // Test metrics of every model.
    let test_data: Dataset = test.iter().map(|&i| data.rows()[i].clone()).collect();
    let labels = test_data.labels();
    let now = DateTime::<Utc>::MAX_UTC;
    let scored = |c: &Scorecard| -> (Vec<f64>, Metrics) {
        let pts: Vec<Points> = test_data
            .rows()
            .iter()
            .map(|r| c.score(&r.lead, &r.events, now))
            .collect();
        let s: Vec<f64> = pts.iter().map(|p| p.to_f64()).collect();
        let probs: Vec<f64> = pts.iter().map(|&p| c.probability(p)).collect();
        let m = Metrics::compute(&s, &labels, Some(&probs));
        (s, m)
    };
    let (card_scores, m_card) = scored(&card);
    let (boosted_scores, m_boosted) = scored(&boosted);
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
        m_card.n,
        m_card.positives,
        pct(Some(m_card.positives as f64 / m_card.n.max(1) as f64))
    );
    println!("| model | ROC AUC | PR AUC | log loss | P@10% | lift@10% | P@20% | lift@20% | fit ms |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, mm, ms) in [
        ("boosted card (integer points)", &m_boosted, boosted_ms),
        ("logistic scorecard (integer points)", &m_card, fit_ms),
        ("naive Bayes", &m_nb, nb_ms),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {ms:.1} |",
            num(mm.auc),
            num(mm.pr_auc),
            num(mm.log_loss),
            num(mm.precision_at_10pct),
            num(mm.lift_at_10pct),
            num(mm.precision_at_20pct),
            num(mm.lift_at_20pct),
        );
    }
    print_factors(&boosted);

    // The two models compared: --model / --compare, else the fitted ones.
    let a = match &args.model {
        Some(path) => Subject::load(path)?,
        None => Subject::fitted("boosted card", &boosted, "fitted-boosted@1")?,
    };
    let b = match (&args.compare, &args.model) {
        (Some(path), _) => Subject::load(path)?,
        (None, Some(_)) => Subject::fitted("boosted card", &boosted, "fitted-boosted@1")?,
        (None, None) => Subject::fitted("logistic scorecard", &card, "fitted-scorecard@1")?,
    };
    let points_a = a.points(&test_data, now);
    let points_b = b.points(&test_data, now);
    let n_test = points_a.len();
    let k10 = top_k_count(n_test, 0.1).max(1);

    // Capacity and the threshold of the first model.
    let single_week = NaiveDate::from_ymd_opt(2000, 1, 3).ok_or("date")?;
    let candidates: Vec<Candidate> = test_data
        .rows()
        .iter()
        .zip(&points_a)
        .map(|(r, &score)| Candidate {
            score,
            week: if dated {
                r.lead.created_at.date_naive()
            } else {
                single_week
            },
            converted: r.outcome.converted,
        })
        .collect();
    let curve = tradeoff_curve(&candidates);
    let mut threshold_a = kth_highest(&points_a, k10);
    let mut how = format!("the score of its {k10}th best test lead of {n_test} (the top 10 %)");
    let mut json_cap = serde_json::Value::Null;
    if let Some(capacity) = args.capacity {
        let cal = calibrate(&candidates, capacity);
        let per = if dated { "per week" } else { "in the test rows" };
        println!("\n## Capacity: {capacity} MQLs {per} ({})", a.name);
        match cal.threshold {
            Some(t) => {
                threshold_a = t.threshold;
                how = format!("calibrated to {capacity} MQLs {per}");
                println!(
                    "threshold {} points: {} MQLs, busiest week {}, precision {}, recall {}",
                    t.threshold,
                    t.mqls,
                    t.peak_per_week,
                    pct(Some(t.precision)),
                    pct(t.recall)
                );
            }
            None => println!("no threshold fits: even the top score alone overflows a week"),
        }
        println!(
            "top-{capacity}-per-week gate: {} MQLs, precision {}, recall {}",
            cal.gate.mqls,
            pct(cal.gate.precision),
            pct(cal.gate.recall)
        );
        json_cap = json!({
            "capacity": capacity,
            "threshold": cal.threshold.map(|t| t.threshold.to_f64()),
            "threshold_recall": cal.threshold.and_then(|t| t.recall),
            "gate_recall": cal.gate.recall,
            "gate_precision": cal.gate.precision,
        });
    }
    if let Some(t) = args.threshold {
        threshold_a = Points::try_from_f64(t)?;
        how = "given by --threshold".into();
    }
    // The second model qualifies as many test leads as it can come closest
    // to (volume-matched: scores tie, so exactly as many may not exist).
    let volume = points_a.iter().filter(|&&p| p >= threshold_a).count();
    let threshold_b = closest_volume(&points_b, volume);

    println!("\n## {} vs {}, on the same test leads", a.name, b.name);
    println!(
        "MQL threshold of {}: {threshold_a} points, {how}; {} qualifies about as many leads from {threshold_b} points",
        a.name, b.name
    );
    let cmp = compare(&a.model, &b.model, &test_data, now, threshold_a, threshold_b);
    let ma = a.metrics(&points_a, &labels);
    let mb = b.metrics(&points_b, &labels);
    let qualified = |pts: &[Points], t: Points| {
        let mut c = Confusion::default();
        for (&p, &y) in pts.iter().zip(&labels) {
            c.record(p >= t, y);
        }
        c
    };
    let (ca, cb) = (
        qualified(&points_a, threshold_a),
        qualified(&points_b, threshold_b),
    );
    println!(
        "| model | ROC AUC | log loss | lift@10% | MQLs | buyers caught | buyers missed | MQL → conversion |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (s, m, c) in [(&a, &ma, &ca), (&b, &mb, &cb)] {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            num(m.auc),
            num(m.log_loss),
            num(m.lift_at_10pct),
            c.qualified(),
            c.tp,
            c.fn_,
            pct(c.precision())
        );
    }
    let ids = |v: &[leadflow::LeadId]| {
        let shown: Vec<String> = v.iter().take(5).map(|id| id.to_string()).collect();
        if v.len() > 5 {
            format!("{}, ...", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    println!(
        "both qualify {} leads; switching from {} to {}: {} leads enter MQL ({} of them converted): {}",
        cmp.both,
        a.name,
        b.name,
        cmp.only_b.len(),
        cmp.only_b_converted,
        ids(&cmp.only_b)
    );
    println!(
        "  and {} leave it ({} of them converted): {}",
        cmp.only_a.len(),
        cmp.only_a_converted,
        ids(&cmp.only_a)
    );
    let mut weekly = serde_json::Value::Null;
    if dated {
        let mut rows = Vec::new();
        for (s, t) in [(&a, threshold_a), (&b, threshold_b)] {
            let replays = Backtest::new(&s.model).replay(&test_data, t, None);
            let weeks = weekly_volume(replays.iter().filter_map(|r| r.mql_at));
            let total: usize = weeks.iter().map(|w| w.1).sum();
            let peak = weeks.iter().map(|w| w.1).max().unwrap_or(0);
            let mean = total as f64 / weeks.len().max(1) as f64;
            println!(
                "{}: {total} MQLs over {} weeks, {mean:.1} a week on average, {peak} in the busiest",
                s.name,
                weeks.len()
            );
            let line: Vec<String> = weeks
                .iter()
                .map(|(d, c)| format!("{}:{c}", d.format("%m-%d")))
                .collect();
            println!("  per week: {}", line.join(" "));
            rows.push(json!({"model": s.name, "mean_per_week": mean, "peak_per_week": peak}));
        }
        weekly = json!(rows);
    }

    // The capacity trade-off of the first model.
    println!("\n## Capacity trade-off of {} (test leads)", a.name);
    if dated {
        println!("| threshold | MQLs | mean/week | peak/week | precision (MQL → conversion) | recall |");
        println!("|---|---|---|---|---|---|");
    } else {
        println!("| threshold | MQLs | precision (MQL → conversion) | recall |");
        println!("|---|---|---|---|");
    }
    let mut shown = Vec::new();
    for frac in [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
        if let Some(p) = curve.iter().find(|p| p.mqls as f64 >= frac * n_test as f64) {
            if !shown.contains(&p.threshold) {
                shown.push(p.threshold);
                let weeks = if dated {
                    format!(" {:.1} | {} |", p.mean_per_week, p.peak_per_week)
                } else {
                    String::new()
                };
                println!(
                    "| {} | {} |{weeks} {} | {} |",
                    p.threshold,
                    p.mqls,
                    pct(Some(p.precision)),
                    pct(p.recall)
                );
            }
        }
    }

    // Missed buyers of the first model, by name, with why they scored low.
    let replays = Backtest::new(&a.model).replay(&test_data, threshold_a, None);
    let mql_count = replays.iter().filter(|r| r.mql_at.is_some()).count();
    let mql_won = replays
        .iter()
        .filter(|r| r.mql_at.is_some() && r.converted)
        .count();
    let missed = missed_buyers(&replays, threshold_a);
    println!("\n## Missed buyers of {} at {threshold_a} points", a.name);
    println!(
        "{mql_count} MQLs, {} of them converted; {} of {} buyers never reached the threshold",
        pct((mql_count > 0).then(|| mql_won as f64 / mql_count as f64)),
        missed.len(),
        labels.iter().filter(|&&y| y).count()
    );
    for mb in missed.iter().take(5) {
        let when = if dated {
            format!(" on {}", mb.could_have_at.format("%Y-%m-%d"))
        } else {
            String::new()
        };
        println!(
            "{}: {} points, {} short: a threshold of {} would have caught it{when}",
            mb.lead, mb.peak, mb.shortfall, mb.peak
        );
        if let Some(row) = test_data.rows().iter().find(|r| r.lead.id == mb.lead) {
            let lines = explain_lines(&a.model, &row.lead, now);
            let mut order: Vec<&String> = lines.iter().collect();
            // The largest contributions first; the base stays on top.
            order.sort_by_key(|l| {
                let points: f64 = l
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0.0);
                (
                    !l.contains(": every lead"),
                    std::cmp::Reverse((points.abs() * 1000.0) as i64),
                )
            });
            for l in order.iter().take(7) {
                println!("  {l}");
            }
            if order.len() > 7 {
                println!("  ... and {} smaller contributions", order.len() - 7);
            }
        }
    }

    // Charts and models.
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)?;
        let a_scores: Vec<f64> = points_a.iter().map(|p| p.to_f64()).collect();
        let b_scores: Vec<f64> = points_b.iter().map(|p| p.to_f64()).collect();
        let mut roc_series = vec![
            Series::new(a.name.clone(), "#1f77b4", roc_points(&a_scores, &labels)),
            Series::new(b.name.clone(), "#2ca02c", roc_points(&b_scores, &labels)),
        ];
        let mut lift_series = vec![
            Series::new(a.name.clone(), "#1f77b4", lift_points(&a_scores, &labels)),
            Series::new(b.name.clone(), "#2ca02c", lift_points(&b_scores, &labels)),
        ];
        if args.model.is_none() && args.compare.is_none() {
            roc_series.push(Series::new(
                "naive Bayes",
                "#ff7f0e",
                roc_points(&nb_scores, &labels),
            ));
            lift_series.push(Series::new(
                "naive Bayes",
                "#ff7f0e",
                lift_points(&nb_scores, &labels),
            ));
        }
        roc_series.push(Series::new("random", "#999", vec![(0.0, 0.0), (1.0, 1.0)]).dashed());
        lift_series.push(Series::new("random", "#999", vec![(1.0, 1.0), (100.0, 1.0)]).dashed());
        let roc = Chart {
            title: format!("ROC, test leads ({} AUC {})", a.name, num(ma.auc)),
            x_label: "false positive rate".into(),
            y_label: "true positive rate (recall)".into(),
            series: roc_series,
        };
        let lift = Chart {
            title: "Cumulative lift, test leads".into(),
            x_label: "% of leads contacted, best first".into(),
            y_label: "lift over the base rate".into(),
            series: lift_series,
        };
        let x = |p: &leadflow::tuning::CurvePoint| if dated { p.mean_per_week } else { p.mqls as f64 };
        let capacity = Chart {
            title: format!("Capacity trade-off, {}", a.name),
            x_label: if dated {
                "MQLs per week (mean)".into()
            } else {
                "MQLs among the test leads".into()
            },
            y_label: "share".into(),
            series: vec![
                Series::new(
                    "recall (buyers caught)",
                    "#2ca02c",
                    curve.iter().map(|p| (x(p), p.recall.unwrap_or(0.0))).collect(),
                ),
                Series::new(
                    "precision (MQL → conversion)",
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
        // The fitted cards as ordinary scoring models: edit them, load them
        // back with --model, explain them.
        for (file, c, version) in [
            ("model.json", &boosted, "fitted-boosted@1"),
            ("scorecard.json", &card, "fitted-scorecard@1"),
        ] {
            let model = c.to_scoring_model(ModelVersion::new(version)?)?;
            let path = std::path::Path::new(out).join(file);
            std::fs::write(&path, serde_json::to_string_pretty(&model)?)?;
            println!("wrote {} ({} rules)", path.display(), model.rules().len());
        }
    }

    let metrics_json = |m: &Metrics, ms: f64| {
        json!({
            "auc": m.auc,
            "log_loss": m.log_loss,
            "precision_at_10pct": m.precision_at_10pct,
            "lift_at_10pct": m.lift_at_10pct,
            "lift_at_20pct": m.lift_at_20pct,
            "fit_ms": ms,
        })
    };
    let summary = json!({
        "n_train": train.len(),
        "n_test": test.len(),
        "leaks": leaks.len(),
        "boosted": metrics_json(&m_boosted, boosted_ms),
        "boosted_pairs": boosted.pairs.len(),
        "boosted_rules": boosted.parts().filter(|p| p.points() != Points::ZERO).count() + 1,
        "scorecard": metrics_json(&m_card, fit_ms),
        "scorecard_tune_ms": tune_ms,
        "scorecard_bins": config.max_bins,
        "scorecard_l2": config.l2,
        "naive_bayes": metrics_json(&m_nb, nb_ms),
        "threshold": threshold_a.to_f64(),
        "mqls": ca.qualified(),
        "missed_buyers": missed.len(),
        "compared": {"a": a.name, "b": b.name, "enter": cmp.only_b.len(), "leave": cmp.only_a.len()},
        "weekly": weekly,
        "capacity": json_cap,
    });
    println!("{summary}");
    let _ = (&card_scores, &boosted_scores);
    Ok(())
}

fn print_factors(card: &Scorecard) {
    println!(
        "\n## Boosted card: base {} points; {} more points double the odds; {} points = {:.0} % chance",
        card.base,
        card.scaling.pdo,
        card.scaling.score,
        100.0 * card.scaling.probability(card.scaling.score)
    );
    let mut bins: Vec<_> = card
        .features
        .iter()
        .flat_map(|f| f.bins.iter().map(move |b| (f.feature.name.as_str(), b)))
        .filter(|(_, b)| b.train_rows > 0 && b.points != Points::ZERO)
        .collect();
    bins.sort_by(|a, b| {
        b.1.points
            .as_milli()
            .abs()
            .cmp(&a.1.points.as_milli().abs())
            .then(b.1.train_rows.cmp(&a.1.train_rows))
    });
    println!("top factors (by points; {} with points in all):", bins.len());
    for (name, b) in bins.iter().take(12) {
        println!(
            "  {:>5}  {name} {}   ({} train leads, {:.0} % converted)",
            signed(b.points),
            b.bin,
            b.train_rows,
            100.0 * b.train_positives as f64 / b.train_rows.max(1) as f64
        );
    }
    if card.pairs.is_empty() {
        return;
    }
    // Pair tables by how far their cells move the leads in them.
    let mut pairs: Vec<(f64, &leadflow::tuning::PairCard)> = card
        .pairs
        .iter()
        .map(|p| {
            let weight: f64 = p
                .cells
                .iter()
                .map(|c| c.points.to_f64().abs() * c.train_rows as f64)
                .sum();
            (weight, p)
        })
        .collect();
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    println!(
        "strongest pair tables ({} in all), with their largest cells:",
        card.pairs.len()
    );
    for (_, p) in pairs.iter().take(5) {
        let mut cells: Vec<_> = p.cells.iter().filter(|c| c.train_rows > 0).collect();
        cells.sort_by_key(|c| std::cmp::Reverse(c.points.as_milli().abs()));
        println!("  {} ({} cells with points)", p.name(), p.cells.len());
        for c in cells.iter().take(2) {
            println!(
                "    {:>5}  {}   ({} train leads)",
                signed(c.points),
                p.describe(c),
                c.train_rows
            );
        }
    }
}
