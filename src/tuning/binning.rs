//! Features and bins: how attribute values are grouped before fitting.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::lead::Lead;
use crate::matcher::Predicate;
use crate::value::{AttrRef, AttrValue};

/// How an attribute is treated when fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeatureKind {
    /// A number, cut into bins of about equal rows between distinct values
    /// (missing and non-numeric values get their own bin, a value holding
    /// many rows, such as a sentinel, one of its own, and a feature with few
    /// values one bin per value; see `max_bins`).
    Numeric,
    /// A level; rare and unseen levels share one bin, missing values get
    /// their own.
    Categorical,
}

/// An attribute to fit on, by the name [`Lead::attribute`] reads.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{Feature, FeatureKind};
/// let f = Feature::numeric("employees");
/// assert_eq!(f.kind, FeatureKind::Numeric);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feature {
    /// The attribute name.
    pub name: String,
    /// Numeric or categorical.
    pub kind: FeatureKind,
}

impl Feature {
    /// A feature of either kind.
    pub fn new(name: impl Into<String>, kind: FeatureKind) -> Feature {
        Feature {
            name: name.into(),
            kind,
        }
    }

    /// A numeric feature.
    pub fn numeric(name: impl Into<String>) -> Feature {
        Feature::new(name, FeatureKind::Numeric)
    }

    /// A categorical feature.
    pub fn categorical(name: impl Into<String>) -> Feature {
        Feature::new(name, FeatureKind::Categorical)
    }
}

/// One bin of a feature: which values fall in it.
///
/// Serialized internally tagged: `{"type": "range", "min": 3.0, "max": 7.0}`.
///
/// # Example
///
/// ```
/// use leadflow::tuning::Bin;
/// use leadflow::{AttrRef, Predicate};
///
/// let bin = Bin::Range { min: Some(3.0), max: Some(7.0) };
/// assert!(bin.matches(Some(AttrRef::Int(5))));
/// assert_eq!(bin.to_predicate(), Some(Predicate::between(3.0, 7.0)));
/// assert!(Bin::Missing.matches(None));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Bin {
    /// The attribute is unknown (or, for a numeric feature, not a number).
    Missing,
    /// A number with `min <= value < max`; a missing bound is open.
    Range {
        /// Inclusive lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Exclusive upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// One of these levels (text compared ignoring ASCII case).
    OneOf {
        /// The levels.
        values: Vec<AttrValue>,
    },
    /// A known value that no other bin of the feature takes: rare levels
    /// (fewer training rows than the minimum) and levels never seen in
    /// training.
    Other,
}

impl Bin {
    /// The equivalent [`Predicate`], for converting the bin into a scoring
    /// rule: `Range` → [`Predicate::Range`], `OneOf` → [`Predicate::Equals`]
    /// or [`Predicate::OneOf`], `Missing` → [`Predicate::Missing`]. `None`
    /// for `Other` (it fires when no other bin of the feature does); fitted
    /// scorecards give every `Other` bin 0 points, so it needs no rule.
    pub fn to_predicate(&self) -> Option<Predicate> {
        match self {
            Bin::Range { min, max } => Some(Predicate::Range { min: *min, max: *max }),
            Bin::OneOf { values } => match values.as_slice() {
                [one] => Some(Predicate::Equals { value: one.clone() }),
                _ => Some(Predicate::OneOf {
                    values: values.clone(),
                }),
            },
            Bin::Missing => Some(Predicate::Missing),
            Bin::Other => None,
        }
    }

    /// Whether a value falls in this bin on its own terms. `Other` matches
    /// any present value: use it only after the feature's other bins.
    pub fn matches(&self, value: Option<AttrRef<'_>>) -> bool {
        match (self, value) {
            (Bin::Missing, None) => true,
            (Bin::Missing, Some(_)) | (_, None) => false,
            (Bin::Other, Some(_)) => true,
            (Bin::Range { min, max }, Some(v)) => v
                .as_f64()
                .is_some_and(|x| min.is_none_or(|m| x >= m) && max.is_none_or(|m| x < m)),
            (Bin::OneOf { values }, Some(v)) => values.iter().any(|l| l.as_ref().loosely_equals(&v)),
        }
    }
}

impl fmt::Display for Bin {
    /// `is unknown`, `is another value`, or the predicate's own wording
    /// (`in [3, 7)`, `>= 7`, `= "software"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.to_predicate()) {
            (_, Some(p)) => write!(f, "{p}"),
            (Bin::Missing, None) => write!(f, "is unknown"),
            (_, None) => write!(f, "is another value"),
        }
    }
}

/// The value of `key` for `lead` given the events known: the latest
/// `AttributeChange` event for the key among `events` (those at or before
/// `now` when given), else the lead's own attribute. Takes a position hint into the lead's custom
/// attributes: leads built by the same code store their attributes in the
/// same order, so checking the hinted slot first skips hashing the name.
/// On a hit the hint moves to the next slot.
pub(crate) fn read_attribute<'a>(
    lead: &'a Lead,
    events: &'a [Event],
    key: &str,
    now: Option<DateTime<Utc>>,
    hint: &mut usize,
) -> Option<AttrRef<'a>> {
    let changed = events
        .iter()
        .rev()
        .filter(|e| now.is_none_or(|t| e.at <= t))
        .find_map(|e| match &e.shape.kind {
            EventKind::AttributeChange { key: k, value } if k == key => Some(value.as_ref()),
            _ => None,
        });
    if changed.is_some() {
        return changed;
    }
    if let Some((k, v)) = lead.custom.get_index(*hint) {
        if k == key {
            *hint += 1;
            return Some(v.as_ref());
        }
    }
    if crate::lead::keys::ALL.contains(&key) {
        return lead.attribute(key);
    }
    // Small maps: a scan comparing lengths first beats hashing the name.
    let found = if lead.custom.len() <= 32 {
        lead.custom
            .iter()
            .enumerate()
            .find(|(_, (k, _))| k.as_str() == key)
            .map(|(i, (_, v))| (i, v))
    } else {
        lead.custom.get_full(key).map(|(i, _, v)| (i, v))
    };
    found.map(|(i, v)| {
        *hint = i + 1;
        v.as_ref()
    })
}

/// How a categorical value is keyed: text ignoring ASCII case, other values
/// by their display form.
fn level_key(value: AttrRef<'_>) -> String {
    match value {
        AttrRef::Text(s) => s.to_ascii_lowercase(),
        other => other.to_string(),
    }
}

/// The bins of one feature, fitted on training rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeatureBins {
    pub(crate) feature: Feature,
    /// Bin 0 is always `Missing`.
    pub(crate) bins: Vec<Bin>,
    /// How a value finds its bin.
    locator: Locator,
}

/// How a value finds its bin: by the cut points of a numeric feature, or by
/// the level key of a categorical one (unknown levels go to `Other`, the
/// last bin).
#[derive(Debug, Clone, PartialEq)]
enum Locator {
    Cuts(Vec<f64>),
    Levels(FxMap<String, u32>),
}

impl FeatureBins {
    /// Fits bins on training values and returns the bin of each value.
    /// `max_bins` quantile bins for numerics; levels with fewer than
    /// `min_level_rows` rows go to `Other`.
    pub(crate) fn fit(
        feature: &Feature,
        values: &[Option<AttrRef<'_>>],
        max_bins: usize,
        min_level_rows: usize,
    ) -> (FeatureBins, Vec<u32>) {
        match feature.kind {
            FeatureKind::Numeric => {
                let mut xs: Vec<f64> = values.iter().filter_map(|v| v.and_then(|v| v.as_f64())).collect();
                xs.sort_unstable_by(f64::total_cmp);
                let cuts = numeric_cuts(&xs, max_bins, min_level_rows);
                numeric_bins(feature, cuts, values)
            }
            FeatureKind::Categorical => {
                // Count exact values first (no allocation per row), noting
                // each row's distinct-value id; then merge values that differ
                // only by ASCII case.
                let mut index: FxMap<AttrKey<'_>, u32> = FxMap::default();
                // Per distinct value (by id): rows, first row, the value.
                let mut stats: Vec<(usize, usize, AttrKey<'_>)> = Vec::new();
                let mut ids: Vec<u32> = Vec::with_capacity(values.len());
                // Most columns have a handful of levels: the first few
                // distinct values are found by comparison, without hashing.
                const SMALL: usize = 8;
                let mut small: Vec<(AttrKey<'_>, u32)> = Vec::with_capacity(SMALL);
                for (i, v) in values.iter().enumerate() {
                    let Some(v) = v else {
                        ids.push(u32::MAX);
                        continue;
                    };
                    let key = AttrKey(*v);
                    let id = match small.iter().find(|(k, _)| *k == key) {
                        Some(&(_, id)) => id,
                        None => {
                            let next = stats.len() as u32;
                            let id = *index.entry(key).or_insert(next);
                            if id == next {
                                stats.push((0, i, key));
                                if small.len() < SMALL {
                                    small.push((key, id));
                                }
                            }
                            id
                        }
                    };
                    if let Some(st) = stats.get_mut(id as usize) {
                        st.0 += 1;
                    }
                    ids.push(id);
                }
                // Ids follow first appearance, so `stats` is in that order.
                let mut counts: FxMap<String, (usize, usize, AttrValue)> = FxMap::default();
                let mut id_keys: Vec<(u32, String)> = Vec::with_capacity(stats.len());
                for (id, (c, first, v)) in stats.into_iter().enumerate() {
                    let key = level_key(v.0);
                    counts
                        .entry(key.clone())
                        .or_insert((0, first, v.0.to_owned_value()))
                        .0 += c;
                    id_keys.push((id as u32, key));
                }
                let mut kept: Vec<(String, (usize, usize, AttrValue))> = counts
                    .into_iter()
                    .filter(|(_, (c, _, _))| *c >= min_level_rows)
                    .collect();
                // Most frequent first; ties by first appearance.
                kept.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
                let mut bins = vec![Bin::Missing];
                let mut levels: FxMap<String, u32> = FxMap::default();
                for (key, (_, _, value)) in kept {
                    levels.insert(key, bins.len() as u32);
                    bins.push(Bin::OneOf { values: vec![value] });
                }
                let other = bins.len() as u32;
                bins.push(Bin::Other);
                let mut bin_of_id = vec![other; id_keys.len()];
                for (id, key) in &id_keys {
                    if let Some(slot) = bin_of_id.get_mut(*id as usize) {
                        *slot = levels.get(key).copied().unwrap_or(other);
                    }
                }
                let located = ids
                    .into_iter()
                    .map(|id| {
                        if id == u32::MAX {
                            0
                        } else {
                            bin_of_id.get(id as usize).copied().unwrap_or(other)
                        }
                    })
                    .collect();
                let fb = FeatureBins {
                    feature: feature.clone(),
                    bins,
                    locator: Locator::Levels(levels),
                };
                (fb, located)
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bins.len()
    }

    /// The bin of a value, as fitted: missing (and, for a numeric feature,
    /// non-numeric) values in bin 0, unknown levels in `Other`.
    pub(crate) fn locate(&self, value: Option<AttrRef<'_>>) -> u32 {
        let Some(value) = value else { return 0 };
        match &self.locator {
            Locator::Cuts(cuts) => match value.as_f64() {
                Some(x) => 1 + cuts.partition_point(|&c| c <= x) as u32,
                None => 0,
            },
            Locator::Levels(levels) => levels
                .get(&level_key(value))
                .copied()
                .unwrap_or(self.bins.len().saturating_sub(1) as u32),
        }
    }
}

/// Cut points for a numeric feature from its sorted training values:
/// equal-frequency bins whose edges fall between distinct values.
///
/// - With at most `max_bins` distinct values, every value gets a bin of its
///   own (counts, ratings, codes are not cut into arbitrary ranges).
/// - A value holding at least half a bin's share of the rows (a spike at
///   zero, a sentinel such as `-1` or `999` meaning "never") gets a bin of
///   its own, so it neither drags a range's points nor is split across two.
/// - The other values fill bins of about equal row counts.
/// - A bin with fewer than `min_rows` rows merges into its smaller
///   neighbour.
///
/// Each cut is a training value: bin `k` holds `cuts[k-1] <= x < cuts[k]`.
pub(crate) fn numeric_cuts(sorted: &[f64], max_bins: usize, min_rows: usize) -> Vec<f64> {
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &x in sorted {
        match distinct.last_mut() {
            Some((v, c)) if *v == x => *c += 1,
            _ => distinct.push((x, 1)),
        }
    }
    let n = sorted.len();
    let max_bins = max_bins.max(1);
    let min_rows = min_rows.max(1);
    // Groups of consecutive distinct values: (first index, rows).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    if distinct.len() <= max_bins {
        groups.extend(distinct.iter().enumerate().map(|(i, &(_, c))| (i, c)));
    } else {
        let heavy_at = (n / (2 * max_bins)).max(min_rows);
        let (heavy_rows, heavy_count) = distinct
            .iter()
            .filter(|(_, c)| *c >= heavy_at)
            .fold((0, 0), |(r, k), (_, c)| (r + c, k + 1));
        let target = ((n - heavy_rows) as f64 / max_bins.saturating_sub(heavy_count).max(1) as f64).max(1.0);
        let mut open: Option<(usize, usize)> = None;
        for (i, &(_, c)) in distinct.iter().enumerate() {
            if c >= heavy_at {
                groups.extend(open.take());
                groups.push((i, c));
                continue;
            }
            let g = open.get_or_insert((i, 0));
            g.1 += c;
            if g.1 as f64 >= target {
                groups.extend(open.take());
            }
        }
        groups.extend(open);
    }
    // Merge the smallest group under `min_rows` into its smaller neighbour
    // until none is left (or one group remains).
    while groups.len() > 1 {
        let Some((i, _)) = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.1 < min_rows)
            .min_by_key(|(i, g)| (g.1, *i))
        else {
            break;
        };
        let left = i.checked_sub(1).and_then(|l| groups.get(l).map(|g| (l, g.1)));
        let right = groups.get(i + 1).map(|g| (i + 1, g.1));
        let into = match (left, right) {
            (Some(l), Some(r)) => {
                if r.1 < l.1 {
                    r.0
                } else {
                    l.0
                }
            }
            (Some(l), None) => l.0,
            (None, Some(r)) => r.0,
            (None, None) => break,
        };
        let (lo, hi) = (i.min(into), i.max(into));
        let rows = groups.get(hi).map_or(0, |g| g.1);
        if let Some(g) = groups.get_mut(lo) {
            g.1 += rows;
        }
        groups.remove(hi);
    }
    groups
        .iter()
        .skip(1)
        .filter_map(|&(start, _)| {
            let below = distinct.get(start.checked_sub(1)?)?.0;
            let at = distinct.get(start)?.0;
            Some(round_cut(below, at))
        })
        .collect()
}

/// The shortest decimal strictly between two neighbouring values (the one
/// nearest their midpoint at that length): `2.5` between 2 and 3, `6`
/// between 2.91 and 9.07, `0.1` between 0 and 0.2. No training value lies on
/// a cut, so a cut that moves by a unit in the last place (a JSON round trip
/// without exact float parsing) moves no lead to another bin, and the card
/// reads `visits in [2.5, 7.5)` rather than `in [2.9078793, 7.00001)`.
pub(crate) fn round_cut(below: f64, above: f64) -> f64 {
    let mid = below + (above - below) / 2.0;
    for e in (-17..=15).rev() {
        let c = if e >= 0 {
            let step = 10f64.powi(e);
            (mid / step).round() * step
        } else {
            let scale = 10f64.powi(-e);
            (mid * scale).round() / scale
        };
        if below < c && c < above {
            return c;
        }
    }
    if below < mid && mid < above { mid } else { above }
}

/// Numeric bins from cut points: `Missing`, then `[-inf, c1)`, `[c1, c2)`,
/// ..., `[ck, inf)`; and the bin of each value.
pub(crate) fn numeric_bins(
    feature: &Feature,
    cuts: Vec<f64>,
    values: &[Option<AttrRef<'_>>],
) -> (FeatureBins, Vec<u32>) {
    let mut bins = vec![Bin::Missing];
    let mut lower = None;
    for &c in &cuts {
        bins.push(Bin::Range {
            min: lower,
            max: Some(c),
        });
        lower = Some(c);
    }
    bins.push(Bin::Range {
        min: lower,
        max: None,
    });
    let fb = FeatureBins {
        feature: feature.clone(),
        bins,
        locator: Locator::Cuts(cuts),
    };
    let located = values.iter().map(|&v| fb.locate(v)).collect();
    (fb, located)
}

/// Merges adjacent numeric ranges (pool adjacent violators) until the
/// training conversion rate rises, or falls, monotonically across them; the
/// direction follows the weighted trend of the quantile bins. Returns the
/// surviving cut points.
fn monotone_cuts(fb: &FeatureBins, located: &[u32], labels: &[bool]) -> Vec<f64> {
    // (positives, rows) per range bin (bin 1..).
    let ranges = fb.len().saturating_sub(1);
    let mut stats = vec![(0.0f64, 0.0f64); ranges];
    for (&b, &y) in located.iter().zip(labels) {
        if let Some(st) = (b as usize).checked_sub(1).and_then(|i| stats.get_mut(i)) {
            st.0 += f64::from(u8::from(y));
            st.1 += 1.0;
        }
    }
    let total: f64 = stats.iter().map(|s| s.1).sum();
    let mean_i = stats.iter().enumerate().map(|(i, s)| i as f64 * s.1).sum::<f64>() / total.max(1.0);
    let mean_r = stats.iter().map(|s| s.0).sum::<f64>() / total.max(1.0);
    let trend: f64 = stats
        .iter()
        .enumerate()
        .filter(|(_, s)| s.1 > 0.0)
        .map(|(i, s)| (i as f64 - mean_i) * (s.0 / s.1 - mean_r) * s.1)
        .sum();
    let sign = if trend >= 0.0 { 1.0 } else { -1.0 };
    // Blocks: (positives, rows, index of the last range in the block).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(ranges);
    for (i, &(p, n)) in stats.iter().enumerate() {
        let mut cur = (p, n, i);
        while let Some(&(pp, pn, _)) = blocks.last() {
            let rate = |p: f64, n: f64| if n > 0.0 { sign * p / n } else { f64::NAN };
            // Empty blocks merge into their neighbour; violators pool.
            if cur.1 == 0.0 || pn == 0.0 || rate(pp, pn) >= rate(cur.0, cur.1) {
                cur = (pp + cur.0, pn + cur.1, cur.2);
                blocks.pop();
            } else {
                break;
            }
        }
        blocks.push(cur);
    }
    // The cut after each block but the last: the lower bound of the next
    // range, which is the upper bound (`max`) of the block's last range.
    blocks
        .iter()
        .rev()
        .skip(1)
        .rev()
        .filter_map(|&(_, _, last)| match fb.bins.get(last + 1) {
            Some(Bin::Range { max: Some(c), .. }) => Some(*c),
            _ => None,
        })
        .collect()
}

/// Maps keyed by attribute levels, not attacker-chosen input worth SipHash's
/// cost.
type FxMap<K, V> = HashMap<K, V, crate::hash::FxBuild>;

/// A value hashed and compared exactly (numbers by bits).
#[derive(Debug, Clone, Copy)]
struct AttrKey<'a>(AttrRef<'a>);

impl PartialEq for AttrKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (AttrRef::Number(a), AttrRef::Number(b)) => a.to_bits() == b.to_bits(),
            (AttrRef::Text(a), AttrRef::Text(b)) => same_name(a, b),
            (a, b) => a == b,
        }
    }
}

impl Eq for AttrKey<'_> {}

impl std::hash::Hash for AttrKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self.0 {
            AttrRef::Bool(b) => (0u8, b).hash(state),
            AttrRef::Int(i) => (1u8, i).hash(state),
            AttrRef::Number(n) => (2u8, n.to_bits()).hash(state),
            AttrRef::Text(s) => (3u8, s).hash(state),
        }
    }
}

/// Helper to own a borrowed value.
trait ToOwnedValue {
    fn to_owned_value(&self) -> AttrValue;
}

impl ToOwnedValue for AttrRef<'_> {
    fn to_owned_value(&self) -> AttrValue {
        match *self {
            AttrRef::Bool(b) => AttrValue::Bool(b),
            AttrRef::Int(i) => AttrValue::Int(i),
            AttrRef::Number(n) => AttrValue::Number(n),
            AttrRef::Text(s) => AttrValue::Text(s.to_owned()),
        }
    }
}

/// Fitted bins for every feature plus each training row's bins, as global
/// column indices (feature offsets added), `features.len()` per row.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub(crate) bins: Vec<FeatureBins>,
    pub(crate) offsets: Vec<usize>,
    pub(crate) columns: usize,
    pub(crate) rows: Vec<u32>,
}

/// Whether two short strings (attribute names, levels) are equal, compared
/// eight bytes at a time inline: a library `memcmp` call per value read cost
/// a seventh of a fit.
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let eight = |c: &[u8]| c.try_into().map_or(0, u64::from_ne_bytes);
    match a.len() {
        // Short: the bytes folded into one word each.
        0..8 => {
            let fold = |c: &[u8]| c.iter().fold(0u64, |w, &x| (w << 8) | u64::from(x));
            fold(a) == fold(b)
        }
        // Whole words, then the last eight bytes (overlapping the last word).
        n => {
            let whole = a
                .chunks_exact(8)
                .zip(b.chunks_exact(8))
                .all(|(x, y)| eight(x) == eight(y));
            whole && eight(a.get(n - 8..).unwrap_or(&[])) == eight(b.get(n - 8..).unwrap_or(&[]))
        }
    }
}

/// Every feature's value for every row, column by column: one pass over each
/// lead's custom attributes (a hash per attribute present, not per feature),
/// well-known attributes by name, then `AttributeChange` events in time order
/// (the latest wins).
fn extract<'a>(rows: &[&'a super::LabeledLead], features: &[Feature]) -> Vec<Vec<Option<AttrRef<'a>>>> {
    // Leads built by the same code store their attributes in the same
    // order, so the feature after the last one found is checked first; the
    // map is the fallback.
    let index: FxMap<&str, usize> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let names: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
    let well_known: Vec<(usize, &str)> = features
        .iter()
        .enumerate()
        .filter(|(_, f)| crate::lead::keys::ALL.contains(&f.name.as_str()))
        .map(|(i, f)| (i, f.name.as_str()))
        .collect();
    let mut guess = 0usize;
    let mut find = |key: &str| {
        let f = if names.get(guess).is_some_and(|n| same_name(n, key)) {
            Some(guess)
        } else {
            index.get(key).copied()
        };
        if let Some(f) = f {
            guess = f + 1;
        }
        f
    };
    let mut out: Vec<Vec<Option<AttrRef<'a>>>> = features.iter().map(|_| vec![None; rows.len()]).collect();
    let mut set = |f: usize, r: usize, v: AttrRef<'a>| {
        if let Some(slot) = out.get_mut(f).and_then(|c| c.get_mut(r)) {
            *slot = Some(v);
        }
    };
    for (r, row) in rows.iter().enumerate() {
        for (k, v) in &row.lead.custom {
            if let Some(f) = find(k) {
                set(f, r, v.as_ref());
            }
        }
        for &(f, name) in &well_known {
            if let Some(v) = row.lead.attribute(name) {
                set(f, r, v);
            }
        }
        for e in &row.events {
            if let EventKind::AttributeChange { key, value } = &e.shape.kind {
                if let Some(f) = find(key) {
                    set(f, r, value.as_ref());
                }
            }
        }
    }
    out
}

impl Encoded {
    /// Fits bins on `rows` of `data` and encodes those rows.
    pub(crate) fn fit(
        data: &super::Dataset,
        rows: &[usize],
        features: &[Feature],
        max_bins: usize,
        min_level_rows: usize,
        monotone: bool,
    ) -> Encoded {
        let labels: Vec<bool> = if monotone {
            rows.iter()
                .filter_map(|&r| data.row(r))
                .map(|r| r.outcome.converted)
                .collect()
        } else {
            Vec::new()
        };
        let picked: Vec<&super::LabeledLead> = rows.iter().filter_map(|&r| data.row(r)).collect();
        let mut bins = Vec::with_capacity(features.len());
        let mut offsets = Vec::with_capacity(features.len());
        let mut columns = 0;
        let width = features.len();
        let mut encoded = vec![0u32; picked.len() * width];
        let columns_of_values = extract(&picked, features);
        for ((f, feature), values) in features.iter().enumerate().zip(columns_of_values) {
            let (mut fb, mut located) = FeatureBins::fit(feature, &values, max_bins, min_level_rows);
            if monotone && feature.kind == FeatureKind::Numeric {
                let cuts = monotone_cuts(&fb, &located, &labels);
                (fb, located) = numeric_bins(feature, cuts, &values);
            }
            for (slot, b) in encoded.iter_mut().skip(f).step_by(width.max(1)).zip(located) {
                *slot = columns as u32 + b;
            }
            offsets.push(columns);
            columns += fb.len();
            bins.push(fb);
        }
        Encoded {
            bins,
            offsets,
            columns,
            rows: encoded,
        }
    }

    /// Encodes other rows of `data` (validation rows, say) with the fitted
    /// bins: global column indices, one per feature, row after row.
    pub(crate) fn encode(&self, data: &super::Dataset, rows: &[usize]) -> Vec<u32> {
        let picked: Vec<&super::LabeledLead> = rows.iter().filter_map(|&r| data.row(r)).collect();
        let features: Vec<Feature> = self.bins.iter().map(|fb| fb.feature.clone()).collect();
        let width = features.len().max(1);
        let mut encoded = vec![0u32; picked.len() * features.len()];
        let columns_of_values = extract(&picked, &features);
        for (f, ((fb, &offset), values)) in self
            .bins
            .iter()
            .zip(&self.offsets)
            .zip(columns_of_values)
            .enumerate()
        {
            for (slot, v) in encoded.iter_mut().skip(f).step_by(width).zip(values) {
                *slot = (offset as u32) + fb.locate(v);
            }
        }
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_quantile_bins() {
        let mut xs: Vec<Option<AttrRef<'_>>> = (0..100).map(|i| Some(AttrRef::Int(i))).collect();
        xs.push(None);
        xs.push(Some(AttrRef::Text("x")));
        let (fb, at) = FeatureBins::fit(&Feature::numeric("x"), &xs, 4, 5);
        assert_eq!(fb.len(), 5); // missing + 4
        assert_eq!((at[0], at[25], at[99], at[100], at[101]), (1, 2, 4, 0, 0));
        assert_eq!(
            fb.bins[1],
            Bin::Range {
                min: None,
                max: Some(24.5)
            }
        );
        assert_eq!(
            fb.bins[4],
            Bin::Range {
                min: Some(74.5),
                max: None
            }
        );
        assert!(fb.bins[1].matches(Some(AttrRef::Number(-5.0))));
        assert!(fb.bins[4].matches(Some(AttrRef::Number(1000.0))));
    }

    #[test]
    fn categorical_rare_levels_share_other() {
        let mut xs = vec![Some(AttrRef::Text("a")); 3];
        xs.extend(vec![Some(AttrRef::Text("A")); 3]);
        xs.extend(vec![Some(AttrRef::Text("B")); 5]);
        xs.push(Some(AttrRef::Text("c")));
        xs.push(None);
        let (fb, at) = FeatureBins::fit(&Feature::categorical("x"), &xs, 10, 5);
        assert_eq!(fb.len(), 4);
        // "a" and "A" are one level of 6 rows, the most frequent.
        assert_eq!(&at[..], &[1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 0]);
        assert_eq!(
            fb.bins[1],
            Bin::OneOf {
                values: vec![AttrValue::text("a")]
            }
        );
        assert_eq!(fb.bins[3], Bin::Other);
    }

    #[test]
    fn monotone_binning_pools_violators() {
        // Rates per decile: rising, with a dip at deciles 3-4 and noise at 8.
        let rates = [0.1, 0.2, 0.3, 0.25, 0.2, 0.4, 0.5, 0.6, 0.55, 0.8];
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for (d, r) in rates.iter().enumerate() {
            for k in 0..100 {
                xs.push(Some(AttrRef::Int((d * 100 + k) as i64)));
                ys.push((k as f64) < r * 100.0);
            }
        }
        let (fb, at) = FeatureBins::fit(&Feature::numeric("x"), &xs, 10, 5);
        assert_eq!(fb.len(), 11);
        let cuts = monotone_cuts(&fb, &at, &ys);
        // Deciles 2-4 pool (0.25 mean) and 7-8 pool (0.575): 7 ranges.
        assert_eq!(cuts, vec![99.5, 199.5, 499.5, 599.5, 699.5, 899.5]);
        let (mono, at) = numeric_bins(&Feature::numeric("x"), cuts, &xs);
        let mut rate = vec![(0.0, 0.0); mono.len()];
        for (&b, &y) in at.iter().zip(&ys) {
            rate[b as usize].0 += f64::from(u8::from(y));
            rate[b as usize].1 += 1.0;
        }
        let r: Vec<f64> = rate[1..].iter().map(|(p, n)| p / n).collect();
        assert!(r.windows(2).all(|w| w[0] < w[1]), "{r:?}");
    }

    #[test]
    fn cuts_are_short_decimals_between_neighbours() {
        assert_eq!(round_cut(2.0, 3.0), 2.5);
        assert_eq!(round_cut(2.907879344, 9.065333333), 6.0);
        assert_eq!(round_cut(0.0, 0.2), 0.1);
        assert_eq!(round_cut(120.0, 180.0), 150.0);
        assert_eq!(round_cut(999.0, 1000.0), 999.5);
        assert_eq!(round_cut(-1.0, 0.0), -0.5);
        let (a, b) = (1.0, 1.0 + f64::EPSILON);
        let c = round_cut(a, b);
        assert!(a < c && c <= b);
        // Spikes get a bin of their own; few values get one bin each.
        let mut xs: Vec<f64> = (0..1000).map(f64::from).collect();
        xs.extend(std::iter::repeat_n(-1.0, 70)); // a sentinel, 6 %
        xs.sort_by(f64::total_cmp);
        let cuts = numeric_cuts(&xs, 10, 5);
        assert_eq!(cuts.first(), Some(&-0.5), "{cuts:?}");
        let few: Vec<f64> = [1.0, 1.0, 2.0, 2.0, 2.0, 7.0, 7.0, 7.0, 7.0, 7.0].to_vec();
        assert_eq!(numeric_cuts(&few, 10, 2), vec![1.5, 5.0]);
        // A rare value merges into its smaller neighbour.
        let rare = [1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0];
        assert_eq!(numeric_cuts(&rare, 10, 2), vec![2.5]);
    }

    #[test]
    fn names_compare_by_bytes() {
        assert!(same_name("ProductRelated_Duration", "ProductRelated_Duration"));
        assert!(!same_name("ProductRelated_Duration", "ProductRelated_DuratioN"));
        assert!(!same_name("Administrative", "Administrativ"));
        assert!(same_name("", ""));
        assert!(!same_name("abcdefgh1", "abcdefgh2"));
    }

    #[test]
    fn constant_numeric_has_one_range() {
        let xs = vec![Some(AttrRef::Int(3)); 10];
        let (fb, at) = FeatureBins::fit(&Feature::numeric("x"), &xs, 10, 5);
        assert_eq!(fb.len(), 2);
        assert!(at.iter().all(|&b| b == 1));
    }

    #[test]
    fn attribute_changes_override_the_lead() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut lead = Lead::new(crate::id::LeadId::new("l").unwrap(), t);
        lead.set_attribute("plan", "free").unwrap();
        let change = Event::new(
            crate::id::EventId::new("e").unwrap(),
            lead.id.clone(),
            t + chrono::Duration::days(1),
            EventKind::AttributeChange {
                key: "plan".into(),
                value: AttrValue::text("pro"),
            },
        );
        let events = [change];
        let mut hint = 0;
        assert_eq!(
            read_attribute(&lead, &events, "plan", Some(t), &mut hint),
            Some(AttrRef::Text("free"))
        );
        assert_eq!(
            read_attribute(&lead, &events, "plan", None, &mut hint),
            Some(AttrRef::Text("pro"))
        );
        assert_eq!(read_attribute(&lead, &[], "nope", None, &mut hint), None);
    }
}
