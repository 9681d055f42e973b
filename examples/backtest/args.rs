//! The command line of the backtest example.

use std::error::Error;

pub(crate) const USAGE: &str = "\
usage: backtest --csv PATH (--target COL --positive VALUE | --outcomes PATH --key COL [--outcome-date COL])
                [--id COL] [--drop COL,..] [--numeric COL,..] [--categorical COL,..] [--missing VALUE,..]
                [--sep CHAR] [--split index|temporal] [--date COL] [--capacity N] [--threshold POINTS]
                [--model FILE] [--compare FILE] [--pairs N] [--seed N] [--out DIR]

Fits two readable points models on the train rows of any leads CSV (a logistic scorecard, its
bins and penalty chosen by cross-validation, and a boosted additive card with pair tables), and
backtests them on the test rows: ROC AUC, log loss, lift, the capacity trade-off, weekly MQL
volume (with --date), the missed buyers and why they scored low.

  --csv PATH            the leads table, one lead per row
  --target COL          the outcome column, converted when it equals --positive VALUE
  --outcomes PATH       or a table of converted leads, joined on --key COL (dated by --outcome-date)
  --id COL              the column naming each lead in the report (default: --key, else the row)
  --drop COL,..         columns not to learn from (ids, fields recorded after the outcome)
  --numeric, --categorical COL,..
                        force a column's kind (detected otherwise: numbers are numeric, except
                        whole-number codes from 1 with at most 32 values, read as categories)
  --missing VALUE,..    values that mean unknown, besides empty, NA, N/A, NaN, null, None
  --split index|temporal
                        test rows: every fifth row (index, the default), or the latest 20 %
  --date COL            the lead's creation date: weekly MQL volume, weekday and age features
  --capacity N          MQLs per week the sales team can work: calibrates the threshold
  --threshold POINTS    the MQL threshold of the first model (default: its top 10 % of test leads)
  --model FILE          backtest this scoring model (JSON, as written to DIR/model.json) as the first
  --compare FILE        and compare it with this one, side by side (default: the fitted models)
  --pairs N             pair tables of the boosted card at most (default 60; 0 for none)
  --seed N              seed of the folds and held-out rows (default 42)
  --out DIR             write roc.svg, lift.svg, capacity.svg, model.json and scorecard.json
  --help                print this help";

/// The flags that take a value.
const FLAGS: [&str; 21] = [
    "--csv",
    "--id",
    "--target",
    "--positive",
    "--outcomes",
    "--key",
    "--outcome-date",
    "--drop",
    "--numeric",
    "--categorical",
    "--sep",
    "--split",
    "--date",
    "--capacity",
    "--threshold",
    "--out",
    "--missing",
    "--model",
    "--compare",
    "--pairs",
    "--seed",
];

/// What the command line asked for.
#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) csv: String,
    pub(crate) id: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) positive: Option<String>,
    pub(crate) outcomes: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) outcome_date: Option<String>,
    pub(crate) drop: Vec<String>,
    pub(crate) numeric: Vec<String>,
    pub(crate) categorical: Vec<String>,
    pub(crate) sep: u8,
    pub(crate) split: String,
    pub(crate) date: Option<String>,
    pub(crate) capacity: Option<usize>,
    pub(crate) threshold: Option<f64>,
    pub(crate) out: Option<String>,
    /// Extra values meaning "missing" (e.g. `Select` in X Education).
    pub(crate) missing: Vec<String>,
    pub(crate) model: Option<String>,
    pub(crate) compare: Option<String>,
    pub(crate) pairs: Option<usize>,
    pub(crate) seed: u64,
    /// `--help` was given: print the usage and stop.
    pub(crate) help: bool,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn whole(flag: &str, value: &str, what: &str) -> Result<usize, String> {
    value.parse().map_err(|_| format!("{flag} \"{value}\": {what}"))
}

pub(crate) fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        sep: b',',
        split: "index".into(),
        seed: 42,
        ..Args::default()
    };
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            a.help = true;
            return Ok(a);
        }
        if !FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown flag {flag}\n{USAGE}").into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--csv" => a.csv = value,
            "--id" => a.id = Some(value),
            "--target" => a.target = Some(value),
            "--positive" => a.positive = Some(value),
            "--outcomes" => a.outcomes = Some(value),
            "--key" => a.key = Some(value),
            "--outcome-date" => a.outcome_date = Some(value),
            "--drop" => a.drop = list(&value),
            "--numeric" => a.numeric = list(&value),
            "--categorical" => a.categorical = list(&value),
            "--sep" => {
                let v = if value == "\\t" || value == "tab" {
                    "\t"
                } else {
                    value.as_str()
                };
                a.sep = match v.as_bytes() {
                    [b] => *b,
                    _ => return Err(format!("--sep \"{value}\": give one character such as , or ;").into()),
                };
            }
            "--split" => a.split = value,
            "--date" => a.date = Some(value),
            "--capacity" => a.capacity = Some(whole(&flag, &value, "a whole number of MQLs per week")?),
            "--threshold" => {
                a.threshold = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|t| t.is_finite())
                        .ok_or_else(|| format!("--threshold \"{value}\": a number of points"))?,
                )
            }
            "--out" => a.out = Some(value),
            "--missing" => a.missing = list(&value),
            "--model" => a.model = Some(value),
            "--compare" => a.compare = Some(value),
            "--pairs" => a.pairs = Some(whole(&flag, &value, "a whole number of pair tables")?),
            "--seed" => a.seed = whole(&flag, &value, "a whole number")? as u64,
            other => return Err(format!("unknown flag {other}\n{USAGE}").into()),
        }
    }
    if a.csv.is_empty() {
        return Err(format!("--csv is required\n{USAGE}").into());
    }
    Ok(a)
}
