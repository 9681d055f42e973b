//! Mergeable building blocks: exact duration samples, means and periods.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AnalyticsError;
use crate::points::Points;

/// Exact, mergeable samples of durations in whole seconds, for medians and
/// percentiles.
///
/// Every sample is kept (no sketch, no histogram), so quantiles are exact and
/// merging is plain concatenation: merging shard samples in any order or
/// grouping gives the same multiset, hence the same quantiles. At funnel
/// scale (a few samples per lead) this is small: 8 bytes a sample.
///
/// Quantiles use the **nearest-rank** method on the sorted samples: the
/// q-quantile is the smallest sample with at least `q × n` samples at or
/// below it, so it is always an observed value (the median of `[1, 2, 3, 4]`
/// is `2`). Negative durations are kept as they are.
///
/// Equality compares the samples as a multiset (order does not matter).
///
/// # Example
///
/// ```
/// use leadflow::analytics::Durations;
///
/// let mut a = Durations::new();
/// a.push(30);
/// a.push(10);
/// let mut b = Durations::new();
/// b.push(20);
/// a.merge(&b);
/// assert_eq!(a.len(), 3);
/// assert_eq!(a.median(), Some(20));
/// assert_eq!(a.p90(), Some(30));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Durations {
    /// The samples in seconds; sorted after [`sort`](Durations::sort) and
    /// [`merge`](Durations::merge).
    samples: Vec<i64>,
}

impl Durations {
    /// No samples, as a constant.
    pub const EMPTY: Durations = Durations { samples: Vec::new() };

    /// No samples.
    pub fn new() -> Durations {
        Durations::default()
    }

    /// Adds a sample, in seconds.
    pub fn push(&mut self, seconds: i64) {
        self.samples.push(seconds);
    }

    /// Adds every sample of `other`. Associative and commutative.
    pub fn merge(&mut self, other: &Durations) {
        if other.samples.is_empty() {
            return;
        }
        if self.samples.is_sorted() && other.samples.is_sorted() {
            // A linear merge of two sorted runs.
            let mine = std::mem::take(&mut self.samples);
            let mut out = Vec::with_capacity(mine.len() + other.samples.len());
            let (mut a, mut b) = (mine.iter().peekable(), other.samples.iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                if x <= y {
                    out.push(**x);
                    a.next();
                } else {
                    out.push(**y);
                    b.next();
                }
            }
            out.extend(a);
            out.extend(b);
            self.samples = out;
        } else {
            self.samples.extend_from_slice(&other.samples);
            self.sort();
        }
    }

    /// Sorts the samples (cheap when already sorted or made of sorted runs),
    /// so later quantile queries need not copy them.
    pub fn sort(&mut self) {
        self.samples.sort_unstable();
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The samples in seconds, in the order they are held.
    pub fn samples(&self) -> &[i64] {
        &self.samples
    }

    /// The nearest-rank `q`-quantile in seconds (`q` in `[0, 1]`, clamped; a
    /// NaN `q` counts as 0). `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        if self.samples.is_empty() {
            return None;
        }
        let n = self.samples.len();
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        // Nearest rank: ceil(q n), at least 1; as a 0-based index.
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        let index = rank - 1;
        if self.samples.is_sorted() {
            self.samples.get(index).copied()
        } else {
            let mut sorted = self.samples.clone();
            sorted.sort_unstable();
            sorted.get(index).copied()
        }
    }

    /// The median in seconds (nearest rank).
    pub fn median(&self) -> Option<i64> {
        self.quantile(0.5)
    }

    /// The 90th percentile in seconds (nearest rank).
    pub fn p90(&self) -> Option<i64> {
        self.quantile(0.9)
    }

    /// The mean in seconds.
    pub fn mean(&self) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        let sum: i128 = self.samples.iter().map(|s| i128::from(*s)).sum();
        Some(sum as f64 / self.samples.len() as f64)
    }
}

impl PartialEq for Durations {
    fn eq(&self, other: &Durations) -> bool {
        if self.samples.len() != other.samples.len() {
            return false;
        }
        if self.samples.is_sorted() && other.samples.is_sorted() {
            return self.samples == other.samples;
        }
        let mut a = self.samples.clone();
        let mut b = other.samples.clone();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }
}

impl Eq for Durations {}

/// An exact, mergeable mean of [`Points`]: a count and a sum of
/// milli-points (128-bit, so it cannot overflow at any realistic scale).
///
/// # Example
///
/// ```
/// use leadflow::Points;
/// use leadflow::analytics::Mean;
///
/// let mut m = Mean::default();
/// m.add(Points::new(40));
/// m.add(Points::new(60));
/// assert_eq!(m.value(), Some(Points::new(50)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mean {
    /// How many values.
    pub count: u64,
    /// Their sum, in milli-points.
    pub sum_milli: i128,
}

impl Mean {
    /// Adds a value.
    pub fn add(&mut self, points: Points) {
        self.count = self.count.saturating_add(1);
        self.sum_milli = self.sum_milli.saturating_add(i128::from(points.as_milli()));
    }

    /// Adds another mean's values. Associative and commutative.
    pub fn merge(&mut self, other: &Mean) {
        self.count = self.count.saturating_add(other.count);
        self.sum_milli = self.sum_milli.saturating_add(other.sum_milli);
    }

    /// The mean, rounded toward zero to the milli-point; `None` without
    /// values.
    pub fn value(&self) -> Option<Points> {
        if self.count == 0 {
            return None;
        }
        let mean = self.sum_milli / i128::from(self.count);
        Some(Points::from_milli(i64::try_from(mean).unwrap_or(if mean < 0 {
            i64::MIN
        } else {
            i64::MAX
        })))
    }
}

/// A half-open period of time `[from, to)`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::analytics::Period;
///
/// let q1 = Period::new(
///     Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
/// )?;
/// assert!(q1.contains(Utc.with_ymd_and_hms(2026, 3, 31, 23, 0, 0).unwrap()));
/// assert!(!q1.contains(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPeriod", into = "RawPeriod")]
pub struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl TryFrom<RawPeriod> for Period {
    type Error = AnalyticsError;
    fn try_from(raw: RawPeriod) -> Result<Period, AnalyticsError> {
        Period::new(raw.from, raw.to)
    }
}

impl From<Period> for RawPeriod {
    fn from(p: Period) -> RawPeriod {
        RawPeriod {
            from: p.from,
            to: p.to,
        }
    }
}

impl Period {
    /// The period `[from, to)`.
    ///
    /// # Errors
    ///
    /// [`AnalyticsError::EmptyPeriod`] when `to` is not after `from`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Period, AnalyticsError> {
        if to <= from {
            return Err(AnalyticsError::EmptyPeriod { from, to });
        }
        Ok(Period { from, to })
    }

    /// The start, inclusive.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The end, exclusive.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// True when `from <= at < to`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let mut d = Durations::new();
        for s in [4, 1, 3, 2] {
            d.push(s);
        }
        assert_eq!(d.median(), Some(2));
        assert_eq!(d.p90(), Some(4));
        assert_eq!(d.quantile(0.0), Some(1));
        assert_eq!(d.quantile(f64::NAN), Some(1));
        d.sort();
        assert_eq!(d.quantile(1.0), Some(4));
        assert_eq!(Durations::new().median(), None);
    }

    #[test]
    fn equality_ignores_order() {
        let mut a = Durations::new();
        a.push(2);
        a.push(1);
        let mut b = Durations::new();
        b.push(1);
        b.push(2);
        assert_eq!(a, b);
    }

    #[test]
    fn mean_rounds_toward_zero() {
        let mut m = Mean::default();
        assert_eq!(m.value(), None);
        m.add(Points::from_milli(1));
        m.add(Points::from_milli(2));
        assert_eq!(m.value(), Some(Points::from_milli(1)));
    }

    #[test]
    fn empty_period_refused() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        assert!(Period::new(t, t).is_err());
        let json = r#"{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}"#;
        assert!(serde_json::from_str::<Period>(json).is_err());
    }
}
