//! The README's tuning table, row by row. Each row's dataset is loaded through
//! the backtest example's own loader with the flags that produce the row,
//! split and featured as `shared/data/BASELINES.md` says; both cards are
//! fitted on the train rows (the logistic card at the bins and penalty its
//! search picks on that split, to keep the tests quick) and must reach the
//! scikit-learn baselines on the test rows: the logistic card logistic
//! regression's ROC AUC and log loss, the boosted card gradient boosting's ROC
//! AUC and a log loss below both. The README's row must then read exactly what
//! was measured beside the baselines. CI has the data (`../shared/data` beside
//! the crate); a checkout without it fails here, naming the path.

use std::path::{Path, PathBuf};

use leadflow::tuning::{BoostedConfig, Metrics, Scorecard, ScorecardConfig, check_leakage};

use crate::{args, data};

/// A file of the shared datasets beside the crate; fails naming it when it
/// is missing.
fn shared(file: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: this test needs the shared datasets beside the crate (../shared/data)",
        path.display()
    );
    path
}

/// One row of the README's table and how it is produced.
struct Row {
    /// The row's name in the README (`Olist / temporal`).
    readme: &'static str,
    /// The variant's name in `BASELINES.md` (`Olist / MQL-time / temporal`).
    baseline: &'static str,
    /// The backtest example's flags, without `--out`.
    argv: Vec<String>,
    /// Train and test rows.
    sizes: (usize, usize),
    /// The bins and L2 penalty the logistic card's search picks on this split.
    bins: usize,
    l2: f64,
}

/// ROC AUC and log loss on the test rows.
type Figures = (f64, f64);

fn figures(m: &Metrics) -> Figures {
    (m.auc.unwrap(), m.log_loss.unwrap())
}

/// ROC AUC and log loss of `model` (`lr`, `hgb`) on `variant` in
/// `BASELINES.md`.
fn baseline(variant: &str, model: &str) -> Figures {
    let path = shared("BASELINES.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let prefix = format!("| {variant} | {model} |");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{} has no row {prefix}", path.display()));
    let cells: Vec<f64> = line
        .split('|')
        .skip(3)
        .take(2)
        .map(|c| c.trim().parse().unwrap())
        .collect();
    (cells[0], cells[1])
}

/// The README's row: boosted card, logistic card, sklearn lr, sklearn hgb,
/// each `AUC / log loss`, the highest AUC in bold.
fn readme_line(name: &str, figures: [Figures; 4]) -> String {
    let best = figures.iter().map(|f| f.0).fold(f64::MIN, f64::max);
    let cells: Vec<String> = figures
        .iter()
        .map(|&(auc, loss)| {
            let auc = format!("{auc:.4}");
            let auc = if auc == format!("{best:.4}") {
                format!("**{auc}**")
            } else {
                auc
            };
            format!("{auc} / {loss:.4}")
        })
        .collect();
    format!("| {name} | {} |", cells.join(" | "))
}

/// Fits both cards as the backtest example does, checks them against the
/// baselines and the README's row against them.
fn check(row: Row) {
    let args = args::parse(row.argv).unwrap();
    let loaded = data::load(&args).unwrap();
    let (train, test) = data::split(&args, &loaded).unwrap();
    assert_eq!((train.len(), test.len()), row.sizes, "{}", row.readme);
    let leaks = check_leakage(&loaded.data, &train, &loaded.features);
    assert!(leaks.is_empty(), "{}: {leaks:?}", row.readme);
    let rows: Vec<_> = test.iter().map(|&i| &loaded.data.rows()[i]).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r.outcome.converted).collect();
    let measure = |card: &Scorecard| {
        let points: Vec<_> = rows.iter().map(|r| card.points(&r.lead, &r.events)).collect();
        let scores: Vec<f64> = points.iter().map(|p| p.to_f64()).collect();
        let probs: Vec<f64> = points.iter().map(|&p| card.probability(p)).collect();
        figures(&Metrics::compute(&scores, &labels, Some(&probs)))
    };
    let logistic = ScorecardConfig::new(loaded.features.clone())
        .with_max_bins(row.bins)
        .with_l2(row.l2)
        .fit(&loaded.data, &train)
        .unwrap();
    let logistic = measure(&logistic);
    let boosted = measure(
        &BoostedConfig::new(loaded.features.clone())
            .fit(&loaded.data, &train)
            .unwrap(),
    );
    let (lr, hgb) = (baseline(row.baseline, "lr"), baseline(row.baseline, "hgb"));
    let name = row.readme;
    assert!(
        logistic.0 >= lr.0,
        "{name}: logistic card's AUC below sklearn lr: {logistic:?} {lr:?}"
    );
    assert!(
        logistic.1 < lr.1,
        "{name}: logistic card's log loss above sklearn lr: {logistic:?} {lr:?}"
    );
    assert!(
        boosted.0 >= hgb.0,
        "{name}: boosted card's AUC below sklearn hgb: {boosted:?} {hgb:?}"
    );
    assert!(
        boosted.1 < lr.1.min(hgb.1),
        "{name}: boosted card's log loss above sklearn's: {boosted:?} {lr:?} {hgb:?}"
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_else(|e| panic!("reading README.md: {e}"));
    let expected = readme_line(name, [boosted, logistic, lr, hgb]);
    let prefix = format!("| {name} |");
    let quoted = readme
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("README.md should have the row {expected}"));
    assert_eq!(
        quoted, expected,
        "README.md's tuning row should read what a fit measures"
    );
}

fn flags(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|s| s.to_string()).collect()
}

fn x_education() -> Vec<String> {
    let csv = shared("x-education-leads/Leads.csv");
    let drop = "Lead Number,Tags,Lead Quality,Lead Profile,Last Activity,Last Notable Activity,Asymmetrique Activity Index,Asymmetrique Profile Index,Asymmetrique Activity Score,Asymmetrique Profile Score";
    let csv = csv.to_str().unwrap();
    flags(&[
        "--csv",
        csv,
        "--target",
        "Converted",
        "--positive",
        "1",
        "--id",
        "Prospect ID",
        "--drop",
        drop,
    ])
}

fn olist(split: &str) -> Vec<String> {
    let (mqls, won) = (
        shared("olist-marketing-funnel/olist_marketing_qualified_leads_dataset.csv"),
        shared("olist-marketing-funnel/olist_closed_deals_dataset.csv"),
    );
    flags(&[
        "--csv",
        mqls.to_str().unwrap(),
        "--outcomes",
        won.to_str().unwrap(),
        "--key",
        "mql_id",
        "--outcome-date",
        "won_date",
        "--date",
        "first_contact_date",
        "--split",
        split,
    ])
}

fn shoppers(drop: &[&str]) -> Vec<String> {
    let csv = shared("online-shoppers/online_shoppers_intention.csv");
    let mut argv = flags(&[
        "--csv",
        csv.to_str().unwrap(),
        "--target",
        "Revenue",
        "--positive",
        "TRUE",
    ]);
    if !drop.is_empty() {
        argv.extend(flags(&["--drop", &drop.join(",")]));
    }
    argv
}

#[test]
fn x_education_index_row() {
    check(Row {
        readme: "X Education / index",
        baseline: "X Education / honest / index",
        argv: x_education(),
        sizes: (7392, 1848),
        bins: 8,
        l2: 10f64.sqrt(),
    });
}

#[test]
fn olist_temporal_row() {
    check(Row {
        readme: "Olist / temporal",
        baseline: "Olist / MQL-time / temporal",
        argv: olist("temporal"),
        sizes: (6400, 1600),
        bins: 8,
        l2: 10f64.sqrt(),
    });
}

#[test]
fn olist_index_row() {
    check(Row {
        readme: "Olist / index",
        baseline: "Olist / MQL-time / index",
        argv: olist("index"),
        sizes: (6400, 1600),
        bins: 8,
        l2: 10f64.sqrt(),
    });
}

#[test]
fn online_shoppers_index_row() {
    check(Row {
        readme: "Online Shoppers / index",
        baseline: "Online Shoppers / all columns / index",
        argv: shoppers(&[]),
        sizes: (9864, 2466),
        bins: 8,
        l2: 10.0,
    });
}

#[test]
fn online_shoppers_without_page_values_row() {
    check(Row {
        readme: "Online Shoppers / no PageValues",
        baseline: "Online Shoppers / no PageValues / index",
        argv: shoppers(&["PageValues"]),
        sizes: (9864, 2466),
        bins: 8,
        l2: 10.0,
    });
}
