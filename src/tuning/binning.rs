//! Features and bins: how attribute values are grouped before fitting.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AttrRef, AttrValue, Event, EventKind, Lead, Predicate};

/// How an attribute is treated when fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeatureKind {
    /// A number, cut into quantile bins (missing values get their own bin).
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
pub struct Feature {
    /// The attribute name.
    pub name: String,
    /// Numeric or categorical.
    pub kind: FeatureKind,
}

impl Feature {
    /// A numeric feature.
    pub fn numeric(name: impl Into<String>) -> Feature {
        Feature {
            name: name.into(),
            kind: FeatureKind::Numeric,
        }
    }

    /// A categorical feature.
    pub fn categorical(name: impl Into<String>) -> Feature {
        Feature {
            name: name.into(),
            kind: FeatureKind::Categorical,
        }
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
    /// The equivalent [`Predicate`] on a present value, for converting the
    /// bin into a scoring rule: `Range` → [`Predicate::Range`], `OneOf` →
    /// [`Predicate::Equals`] or [`Predicate::OneOf`]. `None` for `Missing`
    /// (a rule on the attribute being absent) and `Other` (a rule that fires
    /// when no other bin of the feature does); fitted scorecards give the
    /// `Other` bin of every categorical feature 0 points, so it needs no rule.
    pub fn to_predicate(&self) -> Option<Predicate> {
        match self {
            Bin::Range { min, max } => Some(Predicate::Range { min: *min, max: *max }),
            Bin::OneOf { values } => match values.as_slice() {
                [one] => Some(Predicate::Equals { value: one.clone() }),
                _ => Some(Predicate::OneOf { values: values.clone() }),
            },
            Bin::Missing | Bin::Other => None,
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bin::Missing => write!(f, "is unknown"),
            Bin::Other => write!(f, "is another value"),
            Bin::Range { min: None, max: None } => write!(f, "is any number"),
            Bin::Range { min: Some(a), max: None } => write!(f, ">= {a}"),
            Bin::Range { min: None, max: Some(b) } => write!(f, "< {b}"),
            Bin::Range {
                min: Some(a),
                max: Some(b),
            } => write!(f, "in [{a}, {b})"),
            Bin::OneOf { values } => match values.as_slice() {
                [one] => write!(f, "= {one}"),
                _ => {
                    write!(f, "in [")?;
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{v}")?;
                    }
                    write!(f, "]")
                }
            },
        }
    }
}

/// The value of `key` for `lead` given the events known: the latest
/// `AttributeChange` event for the key among `events` (those at or before
/// `now` when given), else the lead's own attribute.
#[cfg(test)]
pub(crate) fn attribute_value<'a>(
    lead: &'a Lead,
    events: &'a [Event],
    key: &str,
    now: Option<DateTime<Utc>>,
) -> Option<AttrRef<'a>> {
    let mut hint = 0;
    read_attribute(lead, events, key, now, &mut hint)
}

/// As [`attribute_value`], with a position hint into the lead's custom
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
        .find_map(|e| match &e.kind {
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
    if crate::keys::ALL.contains(&key) {
        return lead.attribute(key);
    }
    // Small maps: a scan comparing lengths first beats hashing the name.
    let found = if lead.custom.len() <= 32 {
        lead.custom.iter().enumerate().find(|(_, (k, _))| k.as_str() == key).map(|(i, (_, v))| (i, v))
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

/// The bins of one feature, fitted on training rows, with a fast lookup.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeatureBins {
    pub(crate) feature: Feature,
    /// Bin 0 is always `Missing`.
    pub(crate) bins: Vec<Bin>,
    lookup: Lookup,
}

#[derive(Debug, Clone, PartialEq)]
enum Lookup {
    /// Cut points; bin `1 + (number of cuts <= value)`.
    Numeric(Vec<f64>),
    /// Level key → bin; anything else → `other`. `exact` holds the exact
    /// texts seen in training, so most lookups need no lowercasing.
    Categorical {
        levels: FxMap<String, usize>,
        exact: FxMap<String, usize>,
        other: usize,
    },
}

impl FeatureBins {
    /// Fits bins on training values. `max_bins` quantile bins for numerics;
    /// levels with fewer than `min_level_rows` rows go to `Other`.
    pub(crate) fn fit(
        feature: &Feature,
        values: &[Option<AttrRef<'_>>],
        max_bins: usize,
        min_level_rows: usize,
    ) -> FeatureBins {
        match feature.kind {
            FeatureKind::Numeric => {
                let mut xs: Vec<f64> = values.iter().filter_map(|v| v.and_then(|v| v.as_f64())).collect();
                xs.sort_by(f64::total_cmp);
                let mut cuts: Vec<f64> = Vec::new();
                let n = xs.len();
                for q in 1..max_bins.max(1) {
                    if let Some(&c) = xs.get(q * n / max_bins) {
                        let above_min = xs.first().is_some_and(|&m| c > m);
                        if above_min && cuts.last().is_none_or(|&l| c > l) {
                            cuts.push(c);
                        }
                    }
                }
                let mut bins = vec![Bin::Missing];
                let mut lower = None;
                for &c in &cuts {
                    bins.push(Bin::Range { min: lower, max: Some(c) });
                    lower = Some(c);
                }
                bins.push(Bin::Range { min: lower, max: None });
                FeatureBins {
                    feature: feature.clone(),
                    bins,
                    lookup: Lookup::Numeric(cuts),
                }
            }
            FeatureKind::Categorical => {
                // Count exact values first (no allocation per row), then
                // merge those that differ only by ASCII case.
                let mut raw: FxMap<AttrKey<'_>, (usize, usize)> = FxMap::default();
                for (i, v) in values.iter().enumerate() {
                    if let Some(v) = v {
                        raw.entry(AttrKey(*v)).or_insert((0, i)).0 += 1;
                    }
                }
                let mut raw: Vec<(AttrKey<'_>, (usize, usize))> = raw.into_iter().collect();
                raw.sort_by_key(|(_, (_, first))| *first);
                let mut counts: FxMap<String, (usize, usize, AttrValue)> = FxMap::default();
                let mut spellings: Vec<(String, String)> = Vec::new();
                for (v, (c, first)) in raw {
                    let key = level_key(v.0);
                    spellings.push((exact_key(v.0), key.clone()));
                    counts.entry(key).or_insert((0, first, v.0.to_owned_value())).0 += c;
                }
                let mut kept: Vec<(String, (usize, usize, AttrValue))> =
                    counts.into_iter().filter(|(_, (c, _, _))| *c >= min_level_rows).collect();
                // Most frequent first; ties by first appearance.
                kept.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
                let mut bins = vec![Bin::Missing];
                let mut levels = FxMap::default();
                for (key, (_, _, value)) in kept {
                    levels.insert(key, bins.len());
                    bins.push(Bin::OneOf { values: vec![value] });
                }
                let other = bins.len();
                bins.push(Bin::Other);
                let exact = spellings
                    .into_iter()
                    .filter_map(|(e, k)| levels.get(&k).map(|&b| (e, b)))
                    .collect();
                FeatureBins {
                    feature: feature.clone(),
                    bins,
                    lookup: Lookup::Categorical { levels, exact, other },
                }
            }
        }
    }

    /// The bin a value falls in.
    pub(crate) fn locate(&self, value: Option<AttrRef<'_>>) -> usize {
        let Some(value) = value else { return 0 };
        match &self.lookup {
            Lookup::Numeric(cuts) => match value.as_f64() {
                Some(x) => 1 + cuts.partition_point(|&c| c <= x),
                None => 0,
            },
            Lookup::Categorical { levels, exact, other } => match value {
                AttrRef::Text(t) => exact.get(t).copied(),
                _ => None,
            }
            .or_else(|| levels.get(&level_key(value)).copied())
            .unwrap_or(*other),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bins.len()
    }
}

/// A small, fast, deterministic hasher (FxHash) for the binning maps: keys
/// are attribute levels, not attacker-chosen input worth SipHash's cost.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// The exact form of a value, for the no-allocation lookup.
fn exact_key(value: AttrRef<'_>) -> String {
    match value {
        AttrRef::Text(s) => s.to_owned(),
        // Never equal to a text lookup: non-text values go through `level_key`.
        other => format!("\u{0}{other}"),
    }
}

/// A value hashed and compared exactly (numbers by bits).
#[derive(Debug, Clone, Copy)]
struct AttrKey<'a>(AttrRef<'a>);

impl PartialEq for AttrKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (AttrRef::Number(a), AttrRef::Number(b)) => a.to_bits() == b.to_bits(),
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

impl Encoded {
    /// Fits bins on `rows` of `data` and encodes those rows.
    pub(crate) fn fit(
        data: &super::Dataset,
        rows: &[usize],
        features: &[Feature],
        max_bins: usize,
        min_level_rows: usize,
    ) -> Encoded {
        let picked: Vec<&super::LabeledLead> = rows.iter().filter_map(|&r| data.row(r)).collect();
        let mut bins = Vec::with_capacity(features.len());
        let mut offsets = Vec::with_capacity(features.len());
        let mut columns = 0;
        let width = features.len();
        let mut encoded = vec![0u32; picked.len() * width];
        for (f, feature) in features.iter().enumerate() {
            let mut hint = f;
            let values: Vec<Option<AttrRef<'_>>> = picked
                .iter()
                .map(|r| {
                    let mut h = hint;
                    let v = read_attribute(&r.lead, &r.events, &feature.name, None, &mut h);
                    if v.is_some() {
                        hint = h.saturating_sub(1);
                    }
                    v
                })
                .collect();
            let fb = FeatureBins::fit(feature, &values, max_bins, min_level_rows);
            for (slot, v) in encoded.iter_mut().skip(f).step_by(width.max(1)).zip(&values) {
                *slot = (columns + fb.locate(*v)) as u32;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_quantile_bins() {
        let xs: Vec<Option<AttrRef<'_>>> = (0..100).map(|i| Some(AttrRef::Int(i))).collect();
        let fb = FeatureBins::fit(&Feature::numeric("x"), &xs, 4, 5);
        assert_eq!(fb.len(), 5); // missing + 4
        assert_eq!(fb.locate(None), 0);
        assert_eq!(fb.locate(Some(AttrRef::Int(0))), 1);
        assert_eq!(fb.locate(Some(AttrRef::Int(25))), 2);
        assert_eq!(fb.locate(Some(AttrRef::Int(99))), 4);
        assert_eq!(fb.locate(Some(AttrRef::Text("x"))), 0);
        for (i, b) in fb.bins.iter().enumerate().skip(1) {
            assert!(b.matches(Some(AttrRef::Number(if i == 1 { -5.0 } else { 1000.0 }))) == (i == 1 || i == 4));
        }
    }

    #[test]
    fn categorical_rare_levels_share_other() {
        let mut xs = vec![Some(AttrRef::Text("a")); 6];
        xs.extend(vec![Some(AttrRef::Text("B")); 5]);
        xs.push(Some(AttrRef::Text("c")));
        xs.push(None);
        let fb = FeatureBins::fit(&Feature::categorical("x"), &xs, 10, 5);
        assert_eq!(fb.len(), 4);
        assert_eq!(fb.locate(Some(AttrRef::Text("A"))), 1);
        assert_eq!(fb.locate(Some(AttrRef::Text("b"))), 2);
        assert_eq!(fb.locate(Some(AttrRef::Text("c"))), 3);
        assert_eq!(fb.locate(Some(AttrRef::Text("never"))), 3);
        assert_eq!(fb.locate(None), 0);
        assert_eq!(fb.bins.get(3), Some(&Bin::Other));
    }

    #[test]
    fn constant_numeric_has_one_range() {
        let xs = vec![Some(AttrRef::Int(3)); 10];
        let fb = FeatureBins::fit(&Feature::numeric("x"), &xs, 10, 5);
        assert_eq!(fb.len(), 2);
        assert_eq!(fb.locate(Some(AttrRef::Int(3))), 1);
    }
}
