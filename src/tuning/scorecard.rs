//! A readable integer-points scorecard fitted from outcomes.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backtest::Scorer;
use super::binning::{Bin, Encoded, Feature, FeatureKind, read_attribute};
use super::linalg::{fit_logistic, sigmoid};
use super::{Dataset, TuningError, metrics};
use crate::scoring::{Floor, Rule, ScoringModel};
use crate::{Event, Lead, ModelVersion, Points, Predicate, keys};

/// Points-to-double-the-odds scaling, as in credit scorecards: a lead with
/// `score` points has odds `odds : 1` of converting, and every `pdo` more
/// points double the odds.
///
/// # Example
///
/// ```
/// use leadflow::tuning::PdoScaling;
///
/// let s = PdoScaling::default(); // 100 points at odds 1:1, 20 points double the odds
/// assert!((s.probability(100.0) - 0.5).abs() < 1e-12);
/// assert!((s.probability(120.0) - 2.0 / 3.0).abs() < 1e-12);
/// assert!((s.points(2f64.ln()) - 120.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PdoScaling {
    /// Points that double the odds.
    pub pdo: f64,
    /// The score at the reference odds.
    pub score: f64,
    /// The reference odds (converted : not converted).
    pub odds: f64,
}

impl Default for PdoScaling {
    fn default() -> PdoScaling {
        PdoScaling {
            pdo: 20.0,
            score: 100.0,
            odds: 1.0,
        }
    }
}

impl PdoScaling {
    /// Points per unit of log-odds: `pdo / ln 2`.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// The score of log-odds 0 (odds 1:1).
    pub fn offset(&self) -> f64 {
        self.score - self.factor() * self.odds.ln()
    }

    /// Points for a log-odds value.
    pub fn points(&self, log_odds: f64) -> f64 {
        self.offset() + self.factor() * log_odds
    }

    /// Log-odds for a number of points.
    pub fn log_odds(&self, points: f64) -> f64 {
        (points - self.offset()) / self.factor()
    }

    /// The probability of converting at a number of points.
    pub fn probability(&self, points: f64) -> f64 {
        sigmoid(self.log_odds(points))
    }

    fn validate(&self) -> Result<(), TuningError> {
        let bad = |name, value, expected| {
            Err(TuningError::InvalidParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.pdo.is_finite() && self.pdo > 0.0) {
            return bad("pdo", self.pdo, "a finite number of points above 0");
        }
        if !(self.odds.is_finite() && self.odds > 0.0) {
            return bad("odds", self.odds, "finite odds above 0");
        }
        if !self.score.is_finite() {
            return bad("score", self.score, "a finite number of points");
        }
        Ok(())
    }
}

/// How to fit a [`Scorecard`]: the features, binning, L2 strength and
/// scaling. An unfitted configuration; [`ScorecardConfig::fit`] makes the
/// fitted scorecard.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{Feature, ScorecardConfig};
///
/// let config = ScorecardConfig::new([Feature::numeric("visits"), Feature::categorical("origin")])
///     .with_max_bins(20)
///     .with_l2(3.0);
/// assert_eq!(config.max_bins, 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardConfig {
    /// The attributes to fit on.
    pub features: Vec<Feature>,
    /// Quantile bins per numeric feature (plus one for missing values);
    /// equal cut points merge, so a feature may get fewer. Default 10.
    pub max_bins: usize,
    /// Categorical levels with fewer training rows than this share the
    /// `Other` bin with unseen levels. Default 5.
    pub min_level_rows: usize,
    /// Merge adjacent numeric bins until the training conversion rate is
    /// monotone across them (pool adjacent violators): fewer, steadier
    /// factors a person can reason about. Default off.
    #[serde(default)]
    pub monotone: bool,
    /// L2 penalty on the bin weights (`1 / C` in scikit-learn terms).
    /// Default 1.
    pub l2: f64,
    /// How log-odds become points.
    pub scaling: PdoScaling,
    /// Newton iterations at most. Default 50.
    pub max_iter: usize,
}

impl ScorecardConfig {
    /// The default configuration for these features.
    pub fn new(features: impl IntoIterator<Item = Feature>) -> ScorecardConfig {
        ScorecardConfig {
            features: features.into_iter().collect(),
            max_bins: 10,
            min_level_rows: 5,
            monotone: false,
            l2: 1.0,
            scaling: PdoScaling::default(),
            max_iter: 50,
        }
    }

    /// Sets the number of quantile bins per numeric feature.
    pub fn with_max_bins(mut self, max_bins: usize) -> ScorecardConfig {
        self.max_bins = max_bins;
        self
    }

    /// Sets monotone binning of numeric features.
    pub fn with_monotone(mut self, monotone: bool) -> ScorecardConfig {
        self.monotone = monotone;
        self
    }

    /// Sets the L2 penalty.
    pub fn with_l2(mut self, l2: f64) -> ScorecardConfig {
        self.l2 = l2;
        self
    }

    /// Sets the minimum training rows for a categorical level of its own.
    pub fn with_min_level_rows(mut self, rows: usize) -> ScorecardConfig {
        self.min_level_rows = rows;
        self
    }

    /// Sets the points scaling.
    pub fn with_scaling(mut self, scaling: PdoScaling) -> ScorecardConfig {
        self.scaling = scaling;
        self
    }

    fn validate(&self, data: &Dataset, rows: &[usize]) -> Result<(), TuningError> {
        if self.features.is_empty() {
            return Err(TuningError::NoFeatures);
        }
        let mut seen = HashSet::new();
        for f in &self.features {
            if !seen.insert(f.name.as_str()) {
                return Err(TuningError::DuplicateFeature { name: f.name.clone() });
            }
        }
        if !(self.l2.is_finite() && self.l2 > 0.0) {
            return Err(TuningError::InvalidParameter {
                name: "l2",
                value: self.l2,
                expected: "a finite penalty above 0",
            });
        }
        if self.max_bins < 2 {
            return Err(TuningError::InvalidParameter {
                name: "max_bins",
                value: self.max_bins as f64,
                expected: "at least 2 bins",
            });
        }
        self.scaling.validate()?;
        check_rows(data, rows)
    }

    /// Fits a scorecard on the given rows of `data`: bins each feature on
    /// those rows, fits an L2-regularised logistic regression on the one-hot
    /// bins (Newton's method, deterministic), and scales the weights to
    /// integer points.
    ///
    /// # Errors
    ///
    /// [`TuningError`] for an invalid configuration, no rows, rows out of
    /// range, a single class, or a fit that diverges.
    pub fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Scorecard, TuningError> {
        self.validate(data, rows)?;
        let enc = Encoded::fit(
            data,
            rows,
            &self.features,
            self.max_bins,
            self.min_level_rows,
            self.monotone,
        );
        let labels: Vec<bool> = rows
            .iter()
            .filter_map(|&r| data.row(r).map(|x| x.outcome.converted))
            .collect();
        let width = self.features.len();
        let model = fit_logistic(&enc.rows, width, enc.columns, &labels, self.l2, self.max_iter)?;
        // Training counts per column.
        let mut counts = vec![(0usize, 0usize); enc.columns];
        for (cols, &y) in enc.rows.chunks_exact(width).zip(&labels) {
            for &c in cols {
                if let Some(slot) = counts.get_mut(c as usize) {
                    slot.0 += 1;
                    slot.1 += usize::from(y);
                }
            }
        }
        let factor = self.scaling.factor();
        let mut intercept = model.intercept;
        let mut features = Vec::with_capacity(width);
        for (fb, &offset) in enc.bins.iter().zip(&enc.offsets) {
            let weights = model.weights.get(offset..offset + fb.len()).unwrap_or(&[]);
            // The reference bin gets 0 points: missing for numerics (so
            // every range converts to a plain rule), `Other` for categoricals.
            let reference = match fb.feature.kind {
                FeatureKind::Numeric => 0,
                FeatureKind::Categorical => fb.len().saturating_sub(1),
            };
            let shift = weights.get(reference).copied().unwrap_or(0.0);
            intercept += shift;
            let bins = fb
                .bins
                .iter()
                .zip(weights)
                .enumerate()
                .map(|(i, (bin, &w))| {
                    let weight = w - shift;
                    let (train_rows, train_positives) = counts.get(offset + i).copied().unwrap_or((0, 0));
                    Ok(BinPoints {
                        bin: bin.clone(),
                        points: whole_points(factor * weight)?,
                        weight,
                        train_rows,
                        train_positives,
                    })
                })
                .collect::<Result<Vec<_>, TuningError>>()?;
            let bins = merge_equal_points(bins);
            features.push(FeatureCard {
                feature: fb.feature.clone(),
                bins,
            });
        }
        Ok(Scorecard {
            scaling: self.scaling,
            base: whole_points(self.scaling.points(intercept))?,
            intercept,
            features,
        })
    }

    /// Mean validation ROC AUC of this configuration over `k` seeded folds
    /// of `rows`.
    ///
    /// # Errors
    ///
    /// As [`ScorecardConfig::fit`], and [`TuningError::InvalidParameter`]
    /// for fewer rows than folds.
    pub fn cross_validate(
        &self,
        data: &Dataset,
        rows: &[usize],
        k: usize,
        seed: u64,
    ) -> Result<f64, TuningError> {
        let mut total = 0.0;
        let folds = super::folds(rows, k, seed)?;
        for (train, valid) in &folds {
            let card = self.fit(data, train)?;
            let (scores, labels): (Vec<f64>, Vec<bool>) = valid
                .iter()
                .filter_map(|&r| data.row(r))
                .map(|r| (card.logit(&r.lead, &r.events), r.outcome.converted))
                .unzip();
            total += metrics::roc_auc(&scores, &labels).unwrap_or(0.5);
        }
        Ok(total / folds.len() as f64)
    }

    /// Picks the L2 penalty (and keeps the rest of the configuration) with
    /// the best cross-validated AUC among `grid`; returns the configuration
    /// and the mean AUC of every candidate, in grid order.
    ///
    /// # Errors
    ///
    /// As [`ScorecardConfig::cross_validate`]; [`TuningError::InvalidParameter`]
    /// for an empty grid.
    pub fn tune_l2(
        &self,
        data: &Dataset,
        rows: &[usize],
        grid: &[f64],
        k: usize,
        seed: u64,
    ) -> Result<(ScorecardConfig, Vec<(f64, f64)>), TuningError> {
        let mut results = Vec::with_capacity(grid.len());
        let mut best: Option<(f64, f64)> = None;
        for &l2 in grid {
            let auc = self.clone().with_l2(l2).cross_validate(data, rows, k, seed)?;
            results.push((l2, auc));
            if best.is_none_or(|(_, b)| auc > b) {
                best = Some((l2, auc));
            }
        }
        let (l2, _) = best.ok_or(TuningError::InvalidParameter {
            name: "grid",
            value: 0.0,
            expected: "at least one l2 value to try",
        })?;
        Ok((self.clone().with_l2(l2), results))
    }
}

/// Merges bins that score the same, so the card has fewer, larger factors
/// and every score is unchanged: adjacent numeric ranges with equal points
/// become one range, categorical levels with equal points one `OneOf`. The
/// merged weight is the row-weighted mean, which rounds to the same points.
fn merge_equal_points(bins: Vec<BinPoints>) -> Vec<BinPoints> {
    let mut out: Vec<BinPoints> = Vec::with_capacity(bins.len());
    for b in bins {
        let target = match &b.bin {
            Bin::Range { .. } => out
                .last_mut()
                .filter(|l| matches!(l.bin, Bin::Range { .. }) && l.points == b.points),
            Bin::OneOf { .. } => out
                .iter_mut()
                .find(|l| matches!(l.bin, Bin::OneOf { .. }) && l.points == b.points),
            _ => None,
        };
        let Some(into) = target else {
            out.push(b);
            continue;
        };
        let rows = (into.train_rows + b.train_rows) as f64;
        into.weight = if rows > 0.0 {
            (into.weight * into.train_rows as f64 + b.weight * b.train_rows as f64) / rows
        } else {
            (into.weight + b.weight) / 2.0
        };
        into.train_rows += b.train_rows;
        into.train_positives += b.train_positives;
        match (&mut into.bin, b.bin) {
            (Bin::Range { max, .. }, Bin::Range { max: next, .. }) => *max = next,
            (Bin::OneOf { values }, Bin::OneOf { values: more }) => values.extend(more),
            _ => {}
        }
    }
    out
}

pub(crate) fn check_rows(data: &Dataset, rows: &[usize]) -> Result<(), TuningError> {
    if rows.is_empty() {
        return Err(TuningError::NoRows);
    }
    let mut positives = 0;
    for &r in rows {
        let row = data.row(r).ok_or(TuningError::RowOutOfRange {
            row: r,
            len: data.len(),
        })?;
        positives += usize::from(row.outcome.converted);
    }
    if positives == 0 || positives == rows.len() {
        return Err(TuningError::OneClass {
            positives,
            negatives: rows.len() - positives,
        });
    }
    Ok(())
}

fn whole_points(x: f64) -> Result<Points, TuningError> {
    Points::try_from_f64(x.round()).map_err(|_| TuningError::InvalidParameter {
        name: "points",
        value: x,
        expected: "a finite number of points: lower pdo or raise l2",
    })
}

/// The bin of each feature a lead falls in, reading attributes in feature
/// order with a position hint (see `read_attribute`).
pub(crate) fn lead_bins<'a, 'l>(
    features: &'a [FeatureCard],
    lead: &'l Lead,
    events: &'l [Event],
) -> impl Iterator<Item = (&'a FeatureCard, &'a BinPoints)> {
    let mut hint = 0;
    features.iter().filter_map(move |f| {
        let value = read_attribute(lead, events, &f.feature.name, None, &mut hint);
        f.bin_for(value).map(|b| (f, b))
    })
}

/// One bin of a [`FeatureCard`] with its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinPoints {
    /// Which values fall in the bin.
    pub bin: Bin,
    /// Whole points a lead in this bin gets.
    pub points: Points,
    /// The fitted log-odds weight behind the points (relative to the
    /// feature's reference bin).
    pub weight: f64,
    /// Training rows in the bin.
    pub train_rows: usize,
    /// Converted training rows in the bin.
    pub train_positives: usize,
}

/// The bins of one feature and their points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureCard {
    /// The attribute and its kind.
    pub feature: Feature,
    /// Its bins; `Missing` first, for categoricals `Other` last.
    pub bins: Vec<BinPoints>,
}

impl FeatureCard {
    /// The bin a value falls in: the first matching bin, `Other` only when
    /// no other bin matches.
    pub fn bin_for(&self, value: Option<crate::AttrRef<'_>>) -> Option<&BinPoints> {
        self.bins
            .iter()
            .find(|b| b.bin != Bin::Other && b.bin.matches(value))
            .or_else(|| self.bins.iter().find(|b| b.bin == Bin::Other && value.is_some()))
    }
}

/// A fitted, readable points scorecard: a base score plus, for each feature,
/// the whole points of the bin the lead falls in.
///
/// The conversion to a scoring model is mechanical: each bin is an attribute
/// name, a [`Bin::to_predicate`] and whole [`Points`]; `base` is a constant;
/// [`PdoScaling`] turns points back into a probability. Numeric features give
/// their missing bin 0 points and categorical features their `Other` bin, so
/// those need no rule (a categorical `Missing` bin is a rule on the attribute
/// being absent).
///
/// Implements [`Scorer`]: the attributes are read as of `now`, the latest
/// `AttributeChange` event at or before `now` overriding the lead's own value.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Feature, Outcome, ScorecardConfig, Scorer};
/// use leadflow::{Lead, LeadId};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// for i in 0..100_i64 {
///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
///     lead.set_attribute("plan", if i % 2 == 0 { "pro" } else { "free" })?;
///     data.push(lead, vec![], Outcome::new(i % 2 == 0 && i % 3 != 0, None));
/// }
/// let card = ScorecardConfig::new([Feature::categorical("plan")]).fit(&data, &data.all_rows())?;
/// let pro = &data.rows()[0];
/// let free = &data.rows()[1];
/// assert!(card.score(&pro.lead, &[], t0) > card.score(&free.lead, &[], t0));
/// for (attribute, bin, points) in card.factors() {
///     println!("{attribute} {bin}: {points}");
/// }
/// let json = serde_json::to_string(&card)?;
/// let back: leadflow::tuning::Scorecard = serde_json::from_str(&json)?;
/// assert_eq!(back.points(&pro.lead, &[]), card.points(&pro.lead, &[]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// How points map to odds.
    pub scaling: PdoScaling,
    /// Whole points every lead starts with.
    pub base: Points,
    /// The fitted log-odds of a lead in every reference bin.
    pub intercept: f64,
    /// The features, in fitting order.
    pub features: Vec<FeatureCard>,
}

impl Scorecard {
    /// Every (attribute, bin, points) triple, feature by feature.
    pub fn factors(&self) -> impl Iterator<Item = (&str, &Bin, Points)> {
        self.features.iter().flat_map(|f| {
            f.bins
                .iter()
                .map(move |b| (f.feature.name.as_str(), &b.bin, b.points))
        })
    }

    /// The bin of each feature a lead falls in, with its points, given the
    /// events known (see [`Scorer`] for how events matter).
    pub fn explain<'a>(&'a self, lead: &Lead, events: &[Event]) -> Vec<(&'a str, &'a BinPoints)> {
        lead_bins(&self.features, lead, events)
            .map(|(f, b)| (f.feature.name.as_str(), b))
            .collect()
    }

    /// The whole points of a lead: base plus its bins' points.
    pub fn points(&self, lead: &Lead, events: &[Event]) -> Points {
        self.base
            + lead_bins(&self.features, lead, events)
                .map(|(_, b)| b.points)
                .sum()
    }

    /// The unrounded fitted log-odds of a lead (the logistic model behind the
    /// points).
    pub fn logit(&self, lead: &Lead, events: &[Event]) -> f64 {
        self.intercept
            + lead_bins(&self.features, lead, events)
                .map(|(_, b)| b.weight)
                .sum::<f64>()
    }

    /// The probability of converting implied by a number of points.
    pub fn probability(&self, points: Points) -> f64 {
        self.scaling.probability(points.to_f64())
    }
}

impl Scorer for Scorecard {
    fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Points {
        let known = events.partition_point(|e| e.at <= now);
        self.points(lead, events.get(..known).unwrap_or(&[]))
    }

    fn probability(&self, points: Points) -> Option<f64> {
        Some(Scorecard::probability(self, points))
    }
}

impl Scorecard {
    /// The scorecard as an ordinary [`ScoringModel`] a person can read, edit,
    /// serialize and explain: one fit rule per bin with non-zero points
    /// (`{attribute}#{bin index}`, described by the bin), plus a `base` rule
    /// on the always-known `source` attribute carrying the base points, with
    /// an unbounded floor. For leads without attribute-change events, the
    /// model's fit (and combined) score equals [`Scorecard::points`].
    ///
    /// # Errors
    ///
    /// [`TuningError::Conversion`] when a bin with points has no equivalent
    /// rule (an `Other` bin, which fitted scorecards never give points) or
    /// the model fails validation.
    pub fn to_scoring_model(&self, version: ModelVersion) -> Result<ScoringModel, TuningError> {
        let mut builder = ScoringModel::builder(version)
            .describe("fitted integer-points scorecard")
            .floor(Floor::Unbounded);
        if self.base != Points::ZERO {
            builder = builder.rule(
                Rule::attribute("base", keys::SOURCE, Predicate::Exists, self.base)
                    .describe("base points: every lead has a source"),
            );
        }
        for card in &self.features {
            let name = &card.feature.name;
            for (i, bp) in card.bins.iter().enumerate() {
                if bp.points == Points::ZERO {
                    continue;
                }
                let predicate = bp.bin.to_predicate().ok_or_else(|| TuningError::Conversion {
                    message: format!(
                        "bin {i} of {name:?} ({}) has {} points but no rule form",
                        bp.bin, bp.points
                    ),
                })?;
                builder = builder.rule(
                    Rule::attribute(format!("{name}#{i}"), name.clone(), predicate, bp.points)
                        .describe(format!("{name} {}", bp.bin)),
                );
            }
        }
        builder.build().map_err(|e| TuningError::Conversion {
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttrValue;

    fn bp(bin: Bin, points: i64, weight: f64, rows: usize) -> BinPoints {
        BinPoints {
            bin,
            points: Points::new(points),
            weight,
            train_rows: rows,
            train_positives: rows / 2,
        }
    }

    #[test]
    fn equal_points_merge_without_changing_scores() {
        let r = |min: Option<f64>, max: Option<f64>| Bin::Range { min, max };
        let bins = vec![
            bp(Bin::Missing, 0, 0.0, 3),
            bp(r(None, Some(1.0)), 5, 0.17, 10),
            bp(r(Some(1.0), Some(2.0)), 5, 0.18, 30),
            bp(r(Some(2.0), None), 7, 0.24, 10),
        ];
        let merged = merge_equal_points(bins);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[1].bin, r(None, Some(2.0)));
        assert_eq!((merged[1].points, merged[1].train_rows), (Points::new(5), 40));
        assert!((merged[1].weight - (0.17 * 10.0 + 0.18 * 30.0) / 40.0).abs() < 1e-12);

        let level = |v: &str| Bin::OneOf {
            values: vec![AttrValue::text(v)],
        };
        let bins = vec![
            bp(Bin::Missing, -3, -0.1, 5),
            bp(level("a"), 4, 0.14, 10),
            bp(level("b"), -2, -0.07, 10),
            bp(level("c"), 4, 0.13, 10),
            bp(Bin::Other, 0, 0.0, 2),
        ];
        let merged = merge_equal_points(bins);
        assert_eq!(merged.len(), 4);
        assert_eq!(
            merged[1].bin,
            Bin::OneOf {
                values: vec![AttrValue::text("a"), AttrValue::text("c")]
            }
        );
        assert_eq!(merged[3].bin, Bin::Other);
    }
}
