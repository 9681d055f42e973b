//! Capacity calibration: the MQL bar that matches what sales can work.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::points::Points;
use crate::tuning::metrics::monday;

/// One scored lead for calibration: its score, the week it would be handed
/// over (any date in the week; weeks are compared by their Monday) and
/// whether it converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The lead's score.
    pub score: Points,
    /// A date in the week it would become an MQL.
    pub week: NaiveDate,
    /// Whether it converted.
    pub converted: bool,
}

/// One threshold of the trade-off curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Qualify at `score >= threshold`.
    pub threshold: Points,
    /// MQLs over the whole history.
    pub mqls: usize,
    /// Converted MQLs.
    pub buyers: usize,
    /// MQLs per week on average over the weeks the history spans.
    pub mean_per_week: f64,
    /// MQLs in the busiest week.
    pub peak_per_week: usize,
    /// Share of MQLs that converted.
    pub precision: f64,
    /// Share of converted leads caught; `None` without converted leads.
    pub recall: Option<f64>,
}

/// A top-k-per-week gate: each week, hand over the `per_week` best-scored
/// leads (ties by earlier position), never more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeeklyGate {
    /// Leads handed over per week at most.
    pub per_week: usize,
    /// MQLs over the whole history.
    pub mqls: usize,
    /// Converted MQLs.
    pub buyers: usize,
    /// Share of MQLs that converted; `None` with no MQLs.
    pub precision: Option<f64>,
    /// Share of converted leads caught; `None` without converted leads.
    pub recall: Option<f64>,
}

/// The outcome of [`calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// MQLs per week the receiving team can work.
    pub capacity: usize,
    /// The lowest threshold whose busiest week stays within capacity (so it
    /// catches the most buyers of any threshold that does); `None` when even
    /// the highest score overflows a week.
    pub threshold: Option<CurvePoint>,
    /// The top-k-per-week alternative, which always fits.
    pub gate: WeeklyGate,
    /// The whole trade-off curve, highest threshold first.
    pub curve: Vec<CurvePoint>,
}

fn weeks_spanned(candidates: &[Candidate]) -> usize {
    let weeks = candidates.iter().map(|c| monday(c.week));
    match (weeks.clone().min(), weeks.max()) {
        (Some(a), Some(b)) => ((b - a).num_days() / 7) as usize + 1,
        _ => 0,
    }
}

/// The trade-off curve: for each distinct score as threshold, highest first,
/// the MQLs it makes (total, mean and peak per week), precision and recall.
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use leadflow::Points;
/// use leadflow::tuning::{Candidate, tradeoff_curve};
///
/// let w = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let c = |s, won| Candidate { score: Points::new(s), week: w, converted: won };
/// let curve = tradeoff_curve(&[c(90, true), c(50, false), c(50, true), c(10, false)]);
/// assert_eq!(curve.len(), 3);
/// assert_eq!((curve[1].threshold, curve[1].mqls, curve[1].buyers), (Points::new(50), 3, 2));
/// assert_eq!(curve[1].recall, Some(1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tradeoff_curve(candidates: &[Candidate]) -> Vec<CurvePoint> {
    let total_buyers = candidates.iter().filter(|c| c.converted).count();
    let weeks = weeks_spanned(candidates).max(1);
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by_key(|c| std::cmp::Reverse(c.score));
    let mut per_week: HashMap<NaiveDate, usize> = HashMap::new();
    let (mut mqls, mut buyers, mut peak) = (0usize, 0usize, 0usize);
    let mut curve = Vec::new();
    let mut i = 0;
    while let Some(first) = order.get(i) {
        let threshold = first.score;
        while let Some(c) = order.get(i).filter(|c| c.score == threshold) {
            mqls += 1;
            buyers += usize::from(c.converted);
            let n = per_week.entry(monday(c.week)).or_insert(0);
            *n += 1;
            peak = peak.max(*n);
            i += 1;
        }
        curve.push(CurvePoint {
            threshold,
            mqls,
            buyers,
            mean_per_week: mqls as f64 / weeks as f64,
            peak_per_week: peak,
            precision: buyers as f64 / mqls as f64,
            recall: (total_buyers > 0).then(|| buyers as f64 / total_buyers as f64),
        });
    }
    curve
}

/// Chooses the MQL bar for a team that can work `capacity` MQLs per week:
/// the lowest threshold whose busiest week stays within capacity, and the
/// top-k-per-week gate for comparison, with the whole trade-off curve.
///
/// # Example
///
/// ```
/// use chrono::{Duration, NaiveDate};
/// use leadflow::Points;
/// use leadflow::tuning::{Candidate, calibrate};
///
/// let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let mut leads = Vec::new();
/// for week in 0..4 {
///     for s in 0..10 {
///         leads.push(Candidate {
///             score: Points::new(s * 10),
///             week: monday + Duration::weeks(week),
///             converted: s >= 8,
///         });
///     }
/// }
/// let cal = calibrate(&leads, 3);
/// let t = cal.threshold.unwrap();
/// assert_eq!(t.threshold, Points::new(70));
/// assert!(t.peak_per_week <= 3);
/// assert_eq!(t.recall, Some(1.0));
/// assert_eq!(cal.gate.mqls, 12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn calibrate(candidates: &[Candidate], capacity: usize) -> Calibration {
    let curve = tradeoff_curve(candidates);
    let threshold = curve
        .iter()
        .take_while(|p| p.peak_per_week <= capacity)
        .last()
        .copied();
    // Top-k per week: rank inside each week, ties by position.
    let mut order: Vec<(NaiveDate, Points, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (monday(c.week), c.score, i))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let (mut mqls, mut buyers, mut taken, mut week) = (0usize, 0usize, 0usize, None);
    for (w, _, i) in order {
        if week != Some(w) {
            week = Some(w);
            taken = 0;
        }
        if taken < capacity {
            taken += 1;
            mqls += 1;
            buyers += usize::from(candidates.get(i).is_some_and(|c| c.converted));
        }
    }
    let total_buyers = candidates.iter().filter(|c| c.converted).count();
    Calibration {
        capacity,
        threshold,
        gate: WeeklyGate {
            per_week: capacity,
            mqls,
            buyers,
            precision: (mqls > 0).then(|| buyers as f64 / mqls as f64),
            recall: (total_buyers > 0).then(|| buyers as f64 / total_buyers as f64),
        },
        curve,
    }
}
