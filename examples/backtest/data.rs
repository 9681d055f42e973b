//! Loading any leads CSV into a `tuning::Dataset`: outcome from a label
//! column or a second table of converted keys, feature detection, date
//! features, splits.

use std::collections::{HashMap, HashSet};
use std::error::Error;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use leadflow::tuning::{Dataset, Feature, FeatureKind, Label};
use leadflow::{AttrValue, Lead, LeadId, keys};

use crate::args::Args;

type Res<T> = Result<T, Box<dyn Error>>;

/// A CSV table as text.
pub(crate) struct Table {
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

pub(crate) fn read_table(path: &str, sep: u8) -> Res<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{path}: data row {i}: {e}"))?;
        let mut row: Vec<String> = rec.iter().map(|v| v.trim().to_string()).collect();
        row.resize(headers.len(), String::new());
        rows.push(row);
    }
    Ok(Table { headers, rows })
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Res<usize> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "no column \"{name}\"; the columns are: {}",
                self.headers.join(", ")
            )
            .into()
        })
    }
}

/// Parses the common date and time formats of CSV exports (UTC assumed).
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
        }
    }
    None
}

/// What was loaded.
pub(crate) struct Loaded {
    pub(crate) data: Dataset,
    pub(crate) features: Vec<Feature>,
    /// The lead's date when `--date` is given.
    pub(crate) dates: Option<Vec<DateTime<Utc>>>,
    pub(crate) notes: Vec<String>,
    /// The rows left out because their target is missing, named by id (or
    /// `row-N`, from 0 in the file's data rows).
    pub(crate) no_target: Vec<String>,
}

fn is_missing(v: &str, extra: &[String]) -> bool {
    matches!(v, "" | "NA" | "N/A" | "NaN" | "nan" | "null" | "NULL" | "None") || extra.iter().any(|m| m == v)
}

pub(crate) fn load(args: &Args) -> Res<Loaded> {
    let mut table = read_table(&args.csv, args.sep)?;
    let mut notes = Vec::new();
    let n = table.rows.len();
    if n == 0 {
        return Err(format!("{} has no data rows", args.csv).into());
    }
    let mut excluded: HashSet<usize> = HashSet::new();
    for d in &args.drop {
        excluded.insert(table.column(d)?);
    }
    // Leads are named by --id, else by the outcomes' --key, else by row.
    let id_col = args
        .id
        .as_deref()
        .or(args.key.as_deref().filter(|_| args.outcomes.is_some()))
        .map(|c| table.column(c))
        .transpose()?;
    excluded.extend(id_col);

    // Labels: converted or not, and when.
    let mut converted = vec![false; n];
    let mut converted_at: Vec<Option<DateTime<Utc>>> = vec![None; n];
    // Rows whose target (or key to the outcomes) is missing: not known to
    // have converted or not, so left out rather than counted as not converted.
    let mut missing = vec![false; n];
    let target_col;
    match (&args.target, &args.outcomes) {
        (Some(target), None) => {
            let positive = args
                .positive
                .as_deref()
                .ok_or("--target needs --positive VALUE")?;
            let c = table.column(target)?;
            excluded.insert(c);
            target_col = target.as_str();
            for ((flag, gap), row) in converted.iter_mut().zip(&mut missing).zip(&table.rows) {
                let v = row.get(c).map_or("", String::as_str);
                *flag = v == positive;
                *gap = !*flag && is_missing(v, &args.missing);
            }
        }
        (None, Some(outcomes)) => {
            let key = args.key.as_deref().ok_or("--outcomes needs --key COL")?;
            let won = read_table(outcomes, args.sep)?;
            let wk = won.column(key)?;
            let wd = args.outcome_date.as_deref().map(|c| won.column(c)).transpose()?;
            let mut when: HashMap<&str, Option<DateTime<Utc>>> = HashMap::new();
            for row in &won.rows {
                if let Some(k) = row.get(wk) {
                    let at = wd.and_then(|c| row.get(c)).and_then(|v| parse_time(v));
                    when.insert(k.as_str(), at);
                }
            }
            let c = table.column(key)?;
            excluded.insert(c);
            target_col = key;
            for (((flag, at), gap), row) in converted
                .iter_mut()
                .zip(&mut converted_at)
                .zip(&mut missing)
                .zip(&table.rows)
            {
                *gap = row.get(c).is_none_or(|k| is_missing(k, &args.missing));
                if let Some(w) = row.get(c).and_then(|k| when.get(k.as_str())) {
                    *flag = true;
                    *at = *w;
                }
            }
            notes.push(format!(
                "outcomes: {} keys in {outcomes}, {} leads matched",
                when.len(),
                converted.iter().filter(|&&c| c).count()
            ));
        }
        _ => {
            return Err(
                "give the outcome as --target COL --positive VALUE, or as --outcomes PATH --key COL".into(),
            );
        }
    }

    let mut original: Vec<usize> = (0..n).collect();
    let mut no_target = Vec::new();
    if missing.contains(&true) {
        let rows = std::mem::take(&mut table.rows);
        let (mut conv, mut conv_at) = (Vec::new(), Vec::new());
        original.clear();
        for (i, row) in rows.into_iter().enumerate() {
            if missing.get(i).copied().unwrap_or(false) {
                let id = id_col.and_then(|c| row.get(c)).filter(|v| !v.is_empty());
                no_target.push(id.map_or_else(|| format!("row-{i}"), Clone::clone));
                continue;
            }
            conv.push(converted.get(i).copied().unwrap_or(false));
            conv_at.push(converted_at.get(i).copied().flatten());
            original.push(i);
            table.rows.push(row);
        }
        (converted, converted_at) = (conv, conv_at);
        let shown: Vec<&str> = no_target.iter().take(10).map(String::as_str).collect();
        let more = if no_target.len() > shown.len() {
            ", ..."
        } else {
            ""
        };
        notes.push(format!(
            "{} rows have no value in column \"{target_col}\": left out, not counted as not converted: {}{more}",
            no_target.len(),
            shown.join(", ")
        ));
        if table.rows.is_empty() {
            return Err(format!("no row of {} has a value in column \"{target_col}\"", args.csv).into());
        }
    }
    let n = table.rows.len();

    // Dates and derived features.
    let date_col = args.date.as_deref().map(|c| table.column(c)).transpose()?;
    let mut dates = None;
    let epoch = Utc
        .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .ok_or("epoch")?;
    if let Some(c) = date_col {
        excluded.insert(c);
        let mut ds = Vec::with_capacity(n);
        for (row, i) in table.rows.iter().zip(&original) {
            let v = row.get(c).map_or("", String::as_str);
            ds.push(parse_time(v).ok_or_else(|| {
                format!(
                    "data row {i}: cannot read date \"{v}\" in column \"{}\"",
                    args.date.as_deref().unwrap_or("")
                )
            })?);
        }
        dates = Some(ds);
    }

    // Feature detection.
    let overrides: HashMap<&str, FeatureKind> = args
        .numeric
        .iter()
        .map(|c| (c.as_str(), FeatureKind::Numeric))
        .chain(
            args.categorical
                .iter()
                .map(|c| (c.as_str(), FeatureKind::Categorical)),
        )
        .collect();
    for c in overrides.keys() {
        table.column(c)?;
    }
    let mut features: Vec<(usize, Feature)> = Vec::new();
    for (c, name) in table.headers.iter().enumerate() {
        if excluded.contains(&c) {
            continue;
        }
        let values: Vec<&str> = table
            .rows
            .iter()
            .map(|r| r.get(c).map_or("", String::as_str))
            .filter(|v| !is_missing(v, &args.missing))
            .collect();
        let distinct: HashSet<&str> = values.iter().copied().collect();
        let kind = match overrides.get(name.as_str()) {
            Some(k) => *k,
            None => {
                if values.is_empty() || distinct.len() < 2 {
                    notes.push(format!("column \"{name}\" has fewer than 2 values: ignored"));
                    continue;
                }
                let numbers: Vec<f64> = values.iter().filter_map(|v| v.parse::<f64>().ok()).collect();
                let numeric = numbers.len() == values.len() && numbers.iter().all(|x| x.is_finite());
                // Whole numbers from 1 with few values are codes (browser,
                // region, traffic type): counts and amounts include 0.
                let codes =
                    numeric && numbers.iter().all(|&x| x.fract() == 0.0 && x >= 1.0) && distinct.len() <= 32;
                if numeric && distinct.len() > 2 && !codes {
                    FeatureKind::Numeric
                } else {
                    if codes && distinct.len() > 2 {
                        notes.push(format!(
                            "column \"{name}\" holds {} whole-number codes from 1: read as categories (pass --numeric {name} to read it as a number)",
                            distinct.len()
                        ));
                    }
                    if !numeric && distinct.len() == values.len() && values.len() > 50 {
                        notes.push(format!(
                            "column \"{name}\" has a different value in every row (an id?): ignored; pass --categorical {name} to keep it"
                        ));
                        continue;
                    }
                    FeatureKind::Categorical
                }
            }
        };
        features.push((c, Feature::new(name.clone(), kind)));
    }
    // A column named like a built-in attribute (`campaign`, `employees`...)
    // is read as that attribute when every value fits it; otherwise it keeps
    // its values under its own name plus " (column)", and the report says so.
    let probe_at = Utc.timestamp_opt(0, 0).single().ok_or("epoch")?;
    let mut probe = Lead::new(LeadId::new("probe")?, probe_at);
    for (c, f) in &mut features {
        if !keys::ALL.contains(&f.name.as_str()) {
            continue;
        }
        let refused = table
            .rows
            .iter()
            .filter_map(|row| row.get(*c))
            .filter(|raw| !is_missing(raw, &args.missing))
            .filter(|raw| probe.set_attribute(&f.name, value_of(f.kind, raw)).is_err())
            .count();
        if refused == 0 {
            notes.push(format!(
                "column \"{}\" is read as the built-in attribute {} (every value fits it)",
                f.name, f.name
            ));
        } else {
            let renamed = format!("{} (column)", f.name);
            notes.push(format!(
                "column \"{}\" is named like a built-in attribute that cannot hold {refused} of its values: kept as \"{renamed}\"",
                f.name
            ));
            f.name = renamed;
        }
    }
    let date_names = args
        .date
        .as_ref()
        .map(|d| (format!("{d} weekday"), format!("{d} days since 2017-06-01")));
    if let Some((wd, days)) = &date_names {
        features.push((usize::MAX, Feature::categorical(wd.clone())));
        features.push((usize::MAX, Feature::numeric(days.clone())));
    }

    // Build the dataset.
    let origin = NaiveDate::from_ymd_opt(2017, 6, 1).ok_or("origin")?;
    let mut data = Dataset::new();
    let mut refused = 0usize;
    let mut ids = HashSet::new();
    for (i, row) in table.rows.iter().enumerate() {
        let number = original.get(i).copied().unwrap_or(i);
        let id = id_col
            .and_then(|c| row.get(c))
            .filter(|v| !v.is_empty() && ids.insert((*v).clone()))
            .and_then(|v| LeadId::new(v.clone()).ok())
            .map_or_else(|| LeadId::new(format!("row-{number}")), Ok)?;
        let created = dates
            .as_ref()
            .and_then(|d: &Vec<DateTime<Utc>>| d.get(i).copied())
            .unwrap_or(epoch);
        let mut lead = Lead::new(id, created);
        for (c, f) in &features {
            let Some(raw) = row.get(*c) else { continue };
            if is_missing(raw, &args.missing) {
                continue;
            }
            if f.kind == FeatureKind::Numeric && raw.parse::<f64>().is_err() {
                continue;
            }
            if lead.set_attribute(&f.name, value_of(f.kind, raw)).is_err() {
                refused += 1;
            }
        }
        if let (Some((wd, days)), Some(t)) = (&date_names, dates.as_ref().and_then(|d| d.get(i))) {
            lead.set_attribute(wd, t.weekday().to_string())?;
            lead.set_attribute(days, (t.date_naive() - origin).num_days())?;
        }
        let outcome = Label::new(
            converted.get(i).copied().unwrap_or(false),
            converted_at.get(i).copied().flatten(),
        );
        data.push(lead, Vec::new(), outcome);
    }
    if refused > 0 {
        notes.push(format!(
            "{refused} values refused by well-known attributes ({}) of the wrong type: treated as missing",
            keys::ALL.join(", ")
        ));
    }
    Ok(Loaded {
        data,
        features: features.into_iter().map(|(_, f)| f).collect(),
        dates,
        notes,
        no_target,
    })
}

/// A cell's value for a feature: a number (whole numbers as integers) for a
/// numeric feature, else text.
fn value_of(kind: FeatureKind, raw: &str) -> AttrValue {
    match (kind, raw.parse::<f64>()) {
        (FeatureKind::Numeric, Ok(x)) if x.fract() == 0.0 && x.abs() < 9e15 => AttrValue::Int(x as i64),
        (FeatureKind::Numeric, Ok(x)) => AttrValue::number(x).unwrap_or_else(|_| AttrValue::text(raw)),
        _ => AttrValue::text(raw),
    }
}

/// `(train, test)` rows: by index (`i % 5 == 4` is test) or by time (the
/// last 20 % by date, ties by row order).
pub(crate) fn split(args: &Args, loaded: &Loaded) -> Res<(Vec<usize>, Vec<usize>)> {
    let n = loaded.data.len();
    match args.split.as_str() {
        "index" => Ok(leadflow::tuning::index_split(n, 5, 4)?),
        "temporal" => {
            let dates = loaded.dates.as_ref().ok_or("--split temporal needs --date COL")?;
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| (dates.get(i).copied(), i));
            let cut = n * 4 / 5;
            let mut train: Vec<usize> = order.get(..cut).unwrap_or(&[]).to_vec();
            let mut test: Vec<usize> = order.get(cut..).unwrap_or(&[]).to_vec();
            train.sort_unstable();
            test.sort_unstable();
            Ok((train, test))
        }
        other => Err(format!("--split \"{other}\": use index or temporal").into()),
    }
}
