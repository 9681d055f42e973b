//! The command line of the backtest example.

use std::error::Error;

pub(crate) const USAGE: &str = "\
usage: backtest --csv PATH (--target COL --positive VALUE | --outcomes PATH --key COL [--outcome-date COL])
                [--id COL] [--drop COL,..] [--numeric COL,..] [--categorical COL,..] [--sep CHAR]
                [--split index|temporal] [--date COL] [--capacity N] [--out DIR]
                [--missing VALUE,..] [--bins N,..] [--l2 X,..] [--min-level N,..]
                [--binning quantile,monotone] [--seed N]";

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
    pub(crate) out: Option<String>,
    /// Extra values meaning "missing" (e.g. `Select` in X Education).
    pub(crate) missing: Vec<String>,
    /// Numeric bin counts to try by cross-validation.
    pub(crate) bins: Vec<usize>,
    /// Minimum training rows for a categorical level of its own, to try by
    /// cross-validation.
    pub(crate) min_level: Vec<usize>,
    /// Numeric binnings to try by cross-validation: quantile, monotone.
    pub(crate) binning: Vec<bool>,
    /// L2 penalties to try by cross-validation.
    pub l2: Vec<f64>,
    pub(crate) seed: u64,
}

/// A comma-separated list of numbers.
fn numbers<T: std::str::FromStr>(flag: &str, value: &str, what: &str) -> Result<Vec<T>, String> {
    list(value)
        .iter()
        .map(|v| v.parse::<T>().map_err(|_| format!("{flag} {v:?}: {what}")))
        .collect()
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub(crate) fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        sep: b',',
        split: "index".into(),
        bins: vec![10, 20, 30, 40],
        l2: vec![1.0, 3.0, 10.0],
        min_level: vec![5],
        binning: vec![false],
        seed: 42,
        ..Args::default()
    };
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
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
                let bytes = v.as_bytes();
                a.sep = match bytes {
                    [b] => *b,
                    _ => return Err(format!("--sep {value:?}: give one character such as , or ;").into()),
                };
            }
            "--split" => a.split = value,
            "--date" => a.date = Some(value),
            "--capacity" => {
                a.capacity = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--capacity {value:?}: a whole number of MQLs per week"))?,
                )
            }
            "--out" => a.out = Some(value),
            "--missing" => a.missing = list(&value),
            "--bins" => a.bins = numbers(&flag, &value, "whole numbers")?,
            "--l2" => a.l2 = numbers(&flag, &value, "numbers")?,
            "--min-level" => a.min_level = numbers(&flag, &value, "whole numbers")?,
            "--binning" => {
                a.binning = list(&value)
                    .iter()
                    .map(|b| match b.as_str() {
                        "quantile" => Ok(false),
                        "monotone" => Ok(true),
                        other => Err(format!("--binning {other:?}: quantile or monotone")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--seed" => {
                a.seed = value
                    .parse()
                    .map_err(|_| format!("--seed {value:?}: a whole number"))?
            }
            other => return Err(format!("unknown flag {other}\n{USAGE}").into()),
        }
    }
    if a.csv.is_empty() {
        return Err(format!("--csv is required\n{USAGE}").into());
    }
    Ok(a)
}
