//! Leakage checks: features that look like ids, or like fields recorded
//! after the outcome, which make a backtest look far better than any model
//! can be in use.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::binning::{Feature, FeatureBins, FeatureKind, read_attribute};
use super::{Dataset, metrics};
use crate::value::AttrRef;

/// A warning that a feature may leak the outcome or identify leads. A model
/// that learns from such a feature is measured on information it will not
/// have when it scores a new lead: check the feature is known before the
/// outcome, or drop it.
///
/// Serialized internally tagged: `{"type": "id_like", "feature": "Lead
/// Number", "distinct": 7392, "rows": 7392}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Leak {
    /// On its own, the feature ranks the leads almost perfectly: no honest
    /// attribute of a lead does (cross-fitted ROC AUC of its bins' conversion
    /// rates at least [`RANKS_ALONE`]).
    RanksAlone {
        /// The attribute.
        feature: String,
        /// Its ROC AUC alone, each half of the rows scored by rates from the
        /// other half.
        auc: f64,
    },
    /// Almost every lead has a value of its own (at least 90 % distinct
    /// text values or whole numbers): an id or a record number, not a
    /// property of the lead.
    IdLike {
        /// The attribute.
        feature: String,
        /// Distinct values.
        distinct: usize,
        /// Rows with a value.
        rows: usize,
    },
    /// A level that many leads have (at least 1 % of the rows, and 30) and
    /// at least 99 % of them converted: such values are usually recorded
    /// after the sale (a status, a closing reason).
    DecidingLevel {
        /// The attribute.
        feature: String,
        /// The level.
        level: String,
        /// Rows with it.
        rows: usize,
        /// Share of them that converted.
        rate: f64,
    },
    /// The name says the field may be recorded after the outcome or by
    /// another scoring process (`status`, `stage`, `result`, `reason`,
    /// `quality`, `score`, `tags`, `last`...).
    Named {
        /// The attribute.
        feature: String,
        /// The word of its name that gave it away.
        word: String,
    },
}

/// The ROC AUC from which a feature alone "ranks almost perfectly".
pub const RANKS_ALONE: f64 = 0.9;

/// Name words that suggest a field recorded after the outcome, or by
/// another scoring process.
const SUSPECT_WORDS: [&str; 22] = [
    "status",
    "stage",
    "outcome",
    "result",
    "results",
    "won",
    "lost",
    "closed",
    "reason",
    "converted",
    "conversion",
    "quality",
    "score",
    "rating",
    "tag",
    "tags",
    "last",
    "latest",
    "final",
    "disposition",
    "churn",
    "churned",
];

impl Leak {
    /// The attribute warned about.
    pub fn feature(&self) -> &str {
        match self {
            Leak::RanksAlone { feature, .. }
            | Leak::IdLike { feature, .. }
            | Leak::DecidingLevel { feature, .. }
            | Leak::Named { feature, .. } => feature,
        }
    }
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leak::RanksAlone { feature, auc } => write!(
                f,
                "{feature} alone ranks the leads with ROC AUC {auc:.3}: no honest attribute does that; is it recorded after the outcome?"
            ),
            Leak::IdLike {
                feature,
                distinct,
                rows,
            } => write!(
                f,
                "{feature} has {distinct} distinct values in {rows} rows: it looks like an id, not a property of the lead"
            ),
            Leak::DecidingLevel {
                feature,
                level,
                rows,
                rate,
            } => write!(
                f,
                "{feature} = {level}: {:.1} % of its {rows} leads converted; a value that decides the outcome is usually recorded after it",
                100.0 * rate
            ),
            Leak::Named { feature, word } => write!(
                f,
                "{feature}: \"{word}\" in the name suggests a field recorded after the outcome or by another scoring process"
            ),
        }
    }
}

/// Checks the features for leakage on the given rows: id-like values,
/// features that rank the outcome almost perfectly on their own, levels that
/// decide it, and telling names. Returns the warnings feature by feature.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Feature, Label, Leak, check_leakage};
/// use leadflow::{Lead, LeadId};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// for i in 0..400_i64 {
///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
///     let won = i % 3 == 0;
///     lead.set_attribute("record", 10_000 + i)?;
///     lead.set_attribute("visits", i % 7)?;
///     lead.set_attribute("deal status", if won { "closed won" } else { "open" })?;
///     data.push(lead, vec![], Label::new(won, None));
/// }
/// let features = [
///     Feature::numeric("record"),
///     Feature::numeric("visits"),
///     Feature::categorical("deal status"),
/// ];
/// let leaks = check_leakage(&data, &data.all_rows(), &features);
/// assert!(leaks.iter().any(|l| matches!(l, Leak::IdLike { feature, .. } if feature == "record")));
/// assert!(leaks.iter().any(|l| matches!(l, Leak::RanksAlone { feature, .. } if feature == "deal status")));
/// assert!(leaks.iter().all(|l| l.feature() != "visits"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_leakage(data: &Dataset, rows: &[usize], features: &[Feature]) -> Vec<Leak> {
    let picked: Vec<_> = rows.iter().filter_map(|&r| data.row(r)).collect();
    let labels: Vec<bool> = picked.iter().map(|r| r.outcome.converted).collect();
    let mut out = Vec::new();
    for feature in features {
        let values: Vec<Option<AttrRef<'_>>> = picked
            .iter()
            .map(|r| read_attribute(&r.lead, &r.events, &feature.name, None, &mut 0))
            .collect();
        let name = &feature.name;
        if let Some(word) = suspect_word(name) {
            out.push(Leak::Named {
                feature: name.clone(),
                word,
            });
        }
        let known: Vec<AttrRef<'_>> = values.iter().flatten().copied().collect();
        let id_values = known.iter().all(|v| match v {
            AttrRef::Text(_) => true,
            AttrRef::Int(_) => true,
            AttrRef::Number(x) => x.fract() == 0.0,
            AttrRef::Bool(_) => false,
        });
        let distinct: HashSet<String> = known.iter().map(|v| v.to_string().to_ascii_lowercase()).collect();
        if id_values && known.len() >= 50 && distinct.len() * 10 >= known.len() * 9 {
            out.push(Leak::IdLike {
                feature: name.clone(),
                distinct: distinct.len(),
                rows: known.len(),
            });
            continue;
        }
        if let Some(auc) = alone_auc(feature, &values, &labels).filter(|&a| a >= RANKS_ALONE) {
            out.push(Leak::RanksAlone {
                feature: name.clone(),
                auc,
            });
        }
        if feature.kind == FeatureKind::Categorical {
            out.extend(deciding_levels(name, &values, &labels));
        }
    }
    out
}

/// The first word of a name (split at anything but letters and digits, and
/// at lower-to-upper case changes) that suggests a post-outcome field.
fn suspect_word(name: &str) -> Option<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut last_lower = false;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && last_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        last_lower = c.is_lowercase();
    }
    words.push(word);
    words.into_iter().find(|w| SUSPECT_WORDS.contains(&w.as_str()))
}

/// The ROC AUC of a feature alone: its bins are fitted on one half of the
/// rows (alternating) and their smoothed conversion rates score the other
/// half, and the other way round. `None` without both classes.
fn alone_auc(feature: &Feature, values: &[Option<AttrRef<'_>>], labels: &[bool]) -> Option<f64> {
    let mut scores = vec![0.0; values.len()];
    for half in 0..2 {
        let fit: Vec<usize> = (0..values.len()).filter(|i| i % 2 == half).collect();
        let fit_values: Vec<Option<AttrRef<'_>>> =
            fit.iter().filter_map(|&i| values.get(i).copied()).collect();
        let (bins, located) = FeatureBins::fit(feature, &fit_values, 16, 5);
        let mut counts = vec![(0.0f64, 0.0f64); bins.len()];
        for (&b, &i) in located.iter().zip(&fit) {
            if let Some(c) = counts.get_mut(b as usize) {
                c.0 += f64::from(u8::from(labels.get(i).copied().unwrap_or(false)));
                c.1 += 1.0;
            }
        }
        let prior =
            counts.iter().map(|c| c.0).sum::<f64>() / counts.iter().map(|c| c.1).sum::<f64>().max(1.0);
        for (i, s) in scores.iter_mut().enumerate().filter(|(i, _)| i % 2 != half) {
            let b = bins.locate(values.get(i).copied().flatten()) as usize;
            let (p, n) = counts.get(b).copied().unwrap_or((0.0, 0.0));
            *s = (p + 2.0 * prior) / (n + 2.0);
        }
    }
    metrics::roc_auc(&scores, labels)
}

fn deciding_levels(name: &str, values: &[Option<AttrRef<'_>>], labels: &[bool]) -> Vec<Leak> {
    let mut levels: Vec<(String, usize, usize)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (v, &y) in values.iter().zip(labels) {
        let Some(v) = v else { continue };
        let key = v.to_string();
        let k = *index.entry(key.to_ascii_lowercase()).or_insert_with(|| {
            levels.push((key, 0, 0));
            levels.len() - 1
        });
        if let Some(l) = levels.get_mut(k) {
            l.1 += 1;
            l.2 += usize::from(y);
        }
    }
    let least = (values.len() / 100).max(30);
    levels
        .into_iter()
        .filter(|(_, rows, won)| *rows >= least && *won * 100 >= *rows * 99)
        .map(|(level, rows, won)| Leak::DecidingLevel {
            feature: name.to_owned(),
            level,
            rows,
            rate: won as f64 / rows as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_into_words() {
        assert_eq!(suspect_word("Lead Quality"), Some("quality".into()));
        assert_eq!(suspect_word("Last Notable Activity"), Some("last".into()));
        assert_eq!(suspect_word("dealStatus"), Some("status".into()));
        assert_eq!(suspect_word("lead_stage"), Some("stage".into()));
        assert_eq!(suspect_word("Tags"), Some("tags".into()));
        assert_eq!(suspect_word("Total Time Spent on Website"), None);
        assert_eq!(suspect_word("Lastname"), None);
    }
}
