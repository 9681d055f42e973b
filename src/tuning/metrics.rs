//! Metrics for ranking and qualifying leads: pure functions over scores and
//! outcomes.
//!
//! Conventions: a higher score means more likely to convert; a lead is
//! qualified at threshold `t` when `score >= t`; "top k" takes the `k`
//! highest scores, ties broken by lower row index; `k` for a fraction is
//! `ceil(frac · n)`.
//!
//! # Example
//!
//! ```
//! use leadflow::tuning::metrics::{precision_at_k, roc_auc};
//!
//! let scores = [0.9, 0.8, 0.8, 0.1];
//! let labels = [true, false, true, false];
//! assert_eq!(roc_auc(&scores, &labels), Some(0.875)); // one tie counts half
//! assert_eq!(precision_at_k(&scores, &labels, 2), Some(0.5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::{Add, AddAssign};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Row indices ordered by descending score, ties by lower index.
pub(crate) fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let at = |i: usize| scores.get(i).copied().unwrap_or(f64::NEG_INFINITY);
    order.sort_by(|&a, &b| at(b).total_cmp(&at(a)).then(a.cmp(&b)));
    order
}

/// Area under the ROC curve: the probability that a random converted lead
/// scores above a random unconverted one, ties counting half
/// (Mann–Whitney U with average ranks). `None` without both classes.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    let at = |i: usize| scores.get(i).copied().unwrap_or(0.0);
    idx.sort_by(|&a, &b| at(a).total_cmp(&at(b)));
    let mut rank_sum = 0.0;
    let mut positives = 0usize;
    let mut start = 0;
    while start < n {
        let s = idx.get(start).map_or(0.0, |&i| at(i));
        let mut end = start;
        while end < n && idx.get(end).is_some_and(|&i| at(i) == s) {
            end += 1;
        }
        // Ranks start+1 ..= end share their average.
        let avg = (start + 1 + end) as f64 / 2.0;
        let pos = idx
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .filter(|&&i| labels.get(i).copied().unwrap_or(false))
            .count();
        rank_sum += avg * pos as f64;
        positives += pos;
        start = end;
    }
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Area under the precision–recall curve as average precision: the mean of
/// the precision at each distinct threshold, weighted by the recall gained
/// there (scikit-learn's `average_precision_score`). `None` without a
/// converted lead.
///
/// ```
/// use leadflow::tuning::metrics::average_precision;
/// // Ranked: pos, neg, pos → (1/1 + 2/3) / 2.
/// let ap = average_precision(&[3.0, 2.0, 1.0], &[true, false, true]).unwrap();
/// assert!((ap - 5.0 / 6.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let total = labels.iter().take(n).filter(|&&y| y).count();
    if total == 0 {
        return None;
    }
    let order = ranking(scores.get(..n).unwrap_or(&[]));
    let (mut tp, mut seen, mut ap) = (0usize, 0usize, 0.0);
    let mut i = 0;
    while i < n {
        let s = order.get(i).and_then(|&r| scores.get(r)).copied();
        let mut gained = 0;
        while i < n && order.get(i).and_then(|&r| scores.get(r)).copied() == s {
            gained += usize::from(
                order
                    .get(i)
                    .and_then(|&r| labels.get(r))
                    .copied()
                    .unwrap_or(false),
            );
            seen += 1;
            i += 1;
        }
        tp += gained;
        ap += (gained as f64 / total as f64) * (tp as f64 / seen as f64);
    }
    Some(ap)
}

/// Mean log loss (natural log) of probabilities, clipped to `[1e-15, 1 - 1e-15]`.
/// `None` for no rows or a non-finite probability.
///
/// ```
/// use leadflow::tuning::metrics::log_loss;
/// let l = log_loss(&[0.5, 0.5], &[true, false]).unwrap();
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_loss(probabilities: &[f64], labels: &[bool]) -> Option<f64> {
    let n = probabilities.len().min(labels.len());
    if n == 0 || probabilities.iter().any(|p| !p.is_finite()) {
        return None;
    }
    let sum: f64 = probabilities
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            -if y { p.ln() } else { (1.0 - p).ln() }
        })
        .sum();
    Some(sum / n as f64)
}

/// Confusion counts of a qualification decision. Counts add up, so results
/// over chunks of leads merge with `+`.
///
/// ```
/// use leadflow::tuning::metrics::Confusion;
/// let c = Confusion::at_threshold(&[5.0, 3.0, 3.0, 1.0], &[true, false, true, true], 3.0);
/// assert_eq!((c.tp, c.fp, c.tn, c.fn_), (2, 1, 0, 1));
/// assert_eq!(c.precision(), Some(2.0 / 3.0));
/// assert_eq!(c.recall(), Some(2.0 / 3.0));
/// assert_eq!(c.lift(), Some((2.0 / 3.0) / 0.75));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Qualified and converted.
    pub tp: usize,
    /// Qualified, did not convert.
    pub fp: usize,
    /// Not qualified, did not convert.
    pub tn: usize,
    /// Not qualified, converted: missed buyers.
    pub fn_: usize,
}

impl Confusion {
    /// Counts one lead.
    pub fn record(&mut self, qualified: bool, converted: bool) {
        match (qualified, converted) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }

    /// Counts at a threshold: qualified when `score >= threshold`.
    pub fn at_threshold(scores: &[f64], labels: &[bool], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &y) in scores.iter().zip(labels) {
            c.record(s >= threshold, y);
        }
        c
    }

    /// Counts qualifying the top `k` (ties by lower row index).
    pub fn at_top_k(scores: &[f64], labels: &[bool], k: usize) -> Confusion {
        let n = scores.len().min(labels.len());
        let mut qualified = vec![false; n];
        for &r in ranking(scores.get(..n).unwrap_or(&[])).iter().take(k) {
            if let Some(q) = qualified.get_mut(r) {
                *q = true;
            }
        }
        let mut c = Confusion::default();
        for (q, &y) in qualified.into_iter().zip(labels) {
            c.record(q, y);
        }
        c
    }

    /// All leads counted.
    pub fn total(&self) -> usize {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// Qualified leads (MQLs).
    pub fn qualified(&self) -> usize {
        self.tp + self.fp
    }

    /// Converted leads.
    pub fn converted(&self) -> usize {
        self.tp + self.fn_
    }

    /// Share of qualified leads that converted (the MQL → conversion rate).
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.qualified())
    }

    /// Share of converted leads that were qualified.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.converted())
    }

    /// Conversion rate over all leads.
    pub fn base_rate(&self) -> Option<f64> {
        ratio(self.converted(), self.total())
    }

    /// Precision over the base rate: how many times better than picking at
    /// random.
    pub fn lift(&self) -> Option<f64> {
        match (self.precision(), self.base_rate()) {
            (Some(p), Some(b)) if b > 0.0 => Some(p / b),
            _ => None,
        }
    }
}

impl Add for Confusion {
    type Output = Confusion;
    fn add(self, o: Confusion) -> Confusion {
        Confusion {
            tp: self.tp + o.tp,
            fp: self.fp + o.fp,
            tn: self.tn + o.tn,
            fn_: self.fn_ + o.fn_,
        }
    }
}

impl AddAssign for Confusion {
    fn add_assign(&mut self, o: Confusion) {
        *self = *self + o;
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// `k = ceil(frac · n)` for a fraction of `n` leads, clamped to `0..=n`.
pub fn top_k_count(n: usize, frac: f64) -> usize {
    if !(frac.is_finite() && frac > 0.0) {
        return 0;
    }
    // Round the product first so 0.1 · 1600 is 160, not 161.
    let exact = (frac * n as f64 * 1e9).round() / 1e9;
    (exact.ceil() as usize).min(n)
}

/// Precision among the top `k` scores. `None` when `k` is 0.
pub fn precision_at_k(scores: &[f64], labels: &[bool], k: usize) -> Option<f64> {
    Confusion::at_top_k(scores, labels, k).precision()
}

/// Recall of the top `k` scores. `None` without converted leads.
pub fn recall_at_k(scores: &[f64], labels: &[bool], k: usize) -> Option<f64> {
    Confusion::at_top_k(scores, labels, k).recall()
}

/// Lift of the top `k` scores: their precision over the base rate.
pub fn lift_at_k(scores: &[f64], labels: &[bool], k: usize) -> Option<f64> {
    Confusion::at_top_k(scores, labels, k).lift()
}

/// The Monday starting the ISO week of a time (UTC); for a time in the
/// calendar's first, partial week, its first day.
pub fn week_start(at: DateTime<Utc>) -> NaiveDate {
    monday(at.date_naive())
}

/// The Monday starting the ISO week of `d`, or the calendar's first day.
pub(crate) fn monday(d: NaiveDate) -> NaiveDate {
    d.checked_sub_signed(Duration::days(i64::from(d.weekday().num_days_from_monday())))
        .unwrap_or(NaiveDate::MIN)
}

/// Qualified leads per week: `(Monday, count)` for every week from the first
/// to the last time given, empty weeks included.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::metrics::weekly_volume;
///
/// let t = |d| Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap();
/// let weeks = weekly_volume([t(2), t(4), t(17)]); // Mondays 2, 9, 16 March
/// let counts: Vec<usize> = weeks.iter().map(|w| w.1).collect();
/// assert_eq!(counts, vec![2, 0, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn weekly_volume(times: impl IntoIterator<Item = DateTime<Utc>>) -> Vec<(NaiveDate, usize)> {
    let mut weeks: Vec<NaiveDate> = times.into_iter().map(week_start).collect();
    weeks.sort_unstable();
    let (Some(&first), Some(&last)) = (weeks.first(), weeks.last()) else {
        return Vec::new();
    };
    let span = ((last - first).num_days() / 7) as usize + 1;
    let mut out: Vec<(NaiveDate, usize)> = (0..span)
        .map(|i| (first + Duration::days(7 * i as i64), 0))
        .collect();
    for w in weeks {
        let i = ((w - first).num_days() / 7) as usize;
        if let Some(slot) = out.get_mut(i) {
            slot.1 += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_at_the_calendars_first_day() {
        use chrono::TimeZone;
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(week_start(at(2026, 3, 2)), monday);
        assert_eq!(week_start(at(2026, 3, 8)), monday);
        // The calendar's first day is not a Monday: its week starts there.
        assert_ne!(NaiveDate::MIN.weekday(), chrono::Weekday::Mon);
        assert_eq!(week_start(DateTime::<Utc>::MIN_UTC), NaiveDate::MIN);
        assert_eq!(
            weekly_volume([DateTime::<Utc>::MIN_UTC]),
            vec![(NaiveDate::MIN, 1)]
        );
    }

    #[test]
    fn auc_by_hand_with_ties() {
        // pos: 0.8, 0.4 ; neg: 0.8, 0.3, 0.1
        // pairs: (0.8 vs 0.8)=0.5, (0.8 vs .3)=1, (0.8 vs .1)=1, (0.4 vs .8)=0, (.4 vs .3)=1, (.4 vs .1)=1 → 4.5/6
        let s = [0.8, 0.8, 0.4, 0.3, 0.1];
        let y = [true, false, true, false, false];
        assert!((roc_auc(&s, &y).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
        assert_eq!(roc_auc(&[1.0, 1.0], &[true, false]), Some(0.5));
    }

    #[test]
    fn top_k_ties_by_lower_index() {
        let s = [1.0, 2.0, 2.0, 0.0];
        let y = [false, false, true, true];
        // top 1 is row 1 (tie with row 2, lower index wins).
        assert_eq!(precision_at_k(&s, &y, 1), Some(0.0));
        assert_eq!(precision_at_k(&s, &y, 2), Some(0.5));
        assert_eq!(recall_at_k(&s, &y, 2), Some(0.5));
        assert_eq!(lift_at_k(&s, &y, 2), Some(1.0));
        assert_eq!(top_k_count(1848, 0.1), 185);
        assert_eq!(top_k_count(1600, 0.1), 160);
        assert_eq!(top_k_count(10, 0.0), 0);
    }

    #[test]
    fn average_precision_with_ties() {
        // Scores tie for the top two: one pos, one neg → precision 1/2 at recall 1/2;
        // then pos → precision 2/3 at recall 1.
        let ap = average_precision(&[2.0, 2.0, 1.0], &[true, false, true]).unwrap();
        assert!((ap - (0.5 * 0.5 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn confusion_merges() {
        let a = Confusion::at_threshold(&[1.0, 0.0], &[true, true], 0.5);
        let b = Confusion::at_threshold(&[1.0, 0.0], &[false, false], 0.5);
        let c = a + b;
        assert_eq!(
            c,
            Confusion {
                tp: 1,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        assert_eq!(c.lift(), Some(1.0));
    }
}
