//! A naive Bayes scorer with per-factor contributions, for comparison with
//! the fitted scorecard.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backtest::Scorer;
use super::binning::{Bin, Encoded, Feature};
use super::linalg::sigmoid;
use super::logistic::check_rows;
use super::scorecard::lead_bins;
use super::{BinPoints, Dataset, FeatureCard, PdoScaling, TuningError};
use crate::event::Event;
use crate::lead::Lead;
use crate::points::Points;

/// How to fit a [`NaiveBayes`] scorer: features, binning and smoothing.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{Feature, NaiveBayesConfig};
/// let config = NaiveBayesConfig::new([Feature::categorical("origin")]);
/// assert_eq!(config.alpha, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NaiveBayesConfig {
    /// The attributes to fit on.
    pub features: Vec<Feature>,
    /// Quantile bins per numeric feature. Default 10 (deciles).
    pub max_bins: usize,
    /// Minimum training rows for a categorical level of its own. Default 5.
    pub min_level_rows: usize,
    /// Additive (Laplace) smoothing per bin. Default 1.
    pub alpha: f64,
    /// How log-odds become points.
    pub scaling: PdoScaling,
}

impl NaiveBayesConfig {
    /// The default configuration for these features.
    pub fn new(features: impl IntoIterator<Item = Feature>) -> NaiveBayesConfig {
        NaiveBayesConfig {
            features: features.into_iter().collect(),
            max_bins: 10,
            min_level_rows: 5,
            alpha: 1.0,
            scaling: PdoScaling::default(),
        }
    }

    /// Fits on the given rows: per bin, the smoothed log-likelihood ratio of
    /// converted to unconverted leads.
    ///
    /// # Errors
    ///
    /// [`TuningError`] for no features, no rows, rows out of range, a
    /// single class, or a smoothing that is not a finite positive number.
    pub fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<NaiveBayes, TuningError> {
        if self.features.is_empty() {
            return Err(TuningError::NoFeatures);
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(TuningError::InvalidParameter {
                name: "alpha",
                value: self.alpha,
                expected: "a finite smoothing above 0",
            });
        }
        check_rows(data, rows)?;
        let enc = Encoded::fit(
            data,
            rows,
            &self.features,
            self.max_bins.max(2),
            self.min_level_rows,
            false,
        );
        let width = self.features.len();
        let mut counts = vec![(0usize, 0usize); enc.columns];
        let (mut pos, mut neg) = (0usize, 0usize);
        for (cols, &r) in enc.rows.chunks_exact(width).zip(rows) {
            let y = data.row(r).is_some_and(|x| x.outcome.converted);
            if y {
                pos += 1
            } else {
                neg += 1
            }
            for &c in cols {
                if let Some(slot) = counts.get_mut(c as usize) {
                    if y { slot.0 += 1 } else { slot.1 += 1 }
                }
            }
        }
        let factor = self.scaling.factor();
        let features = enc
            .bins
            .iter()
            .zip(&enc.offsets)
            .map(|(fb, &offset)| {
                let nb = fb.len() as f64;
                let bins = fb
                    .bins
                    .iter()
                    .enumerate()
                    .map(|(i, bin)| {
                        let (p, n) = counts.get(offset + i).copied().unwrap_or((0, 0));
                        let weight = ((p as f64 + self.alpha) / (pos as f64 + self.alpha * nb)).ln()
                            - ((n as f64 + self.alpha) / (neg as f64 + self.alpha * nb)).ln();
                        BinPoints {
                            bin: bin.clone(),
                            points: Points::try_from_f64((factor * weight).round()).unwrap_or(Points::ZERO),
                            weight,
                            train_rows: p + n,
                            train_positives: p,
                        }
                    })
                    .collect();
                FeatureCard {
                    feature: fb.feature.clone(),
                    bins,
                }
            })
            .collect();
        Ok(NaiveBayes {
            scaling: self.scaling,
            prior: (pos as f64 / neg as f64).ln(),
            features,
        })
    }
}

/// One attribute's Bayes factor in a naive Bayes score: the log-odds its bin
/// adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BayesFactor {
    /// The attribute.
    pub attribute: String,
    /// The bin the lead falls in.
    pub bin: Bin,
    /// Log-odds it adds (negative: it lowers the odds).
    pub log_odds: f64,
}

/// A fitted naive Bayes scorer: prior log-odds plus one log-likelihood ratio
/// per feature, as Odoo's predictive lead scoring does. Ranks nearly as well
/// as a logistic scorecard but its probabilities are over-confident when
/// features are correlated.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Feature, Label, NaiveBayesConfig};
/// use leadflow::{Lead, LeadId};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// for i in 0..40_i64 {
///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
///     lead.set_attribute("origin", if i % 2 == 0 { "referral" } else { "ads" })?;
///     data.push(lead, vec![], Label::new(i % 4 == 0, None));
/// }
/// let nb = NaiveBayesConfig::new([Feature::categorical("origin")]).fit(&data, &data.all_rows())?;
/// let why = nb.explain(&data.rows()[0].lead, &[]);
/// assert_eq!(why[0].attribute, "origin");
/// assert!(why[0].log_odds > 0.0);
/// assert!(nb.probability(&data.rows()[0].lead, &[]) > nb.probability(&data.rows()[1].lead, &[]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NaiveBayes {
    /// How log-odds become points.
    pub scaling: PdoScaling,
    /// Training log-odds of converting.
    pub prior: f64,
    /// Per feature, each bin's log-likelihood ratio (`weight`) and its
    /// rounded points.
    pub features: Vec<FeatureCard>,
}

impl NaiveBayes {
    /// Each feature's contribution for a lead, in feature order.
    pub fn explain(&self, lead: &Lead, events: &[Event]) -> Vec<BayesFactor> {
        lead_bins(&self.features, lead, events)
            .map(|(f, b)| BayesFactor {
                attribute: f.feature.name.clone(),
                bin: b.bin.clone(),
                log_odds: b.weight,
            })
            .collect()
    }

    /// The log-odds of converting.
    pub fn log_odds(&self, lead: &Lead, events: &[Event]) -> f64 {
        self.prior
            + lead_bins(&self.features, lead, events)
                .map(|(_, b)| b.weight)
                .sum::<f64>()
    }

    /// The probability of converting.
    pub fn probability(&self, lead: &Lead, events: &[Event]) -> f64 {
        sigmoid(self.log_odds(lead, events))
    }
}

impl Scorer for NaiveBayes {
    /// Points on the configured scale, to a thousandth.
    fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Points {
        let known = events.partition_point(|e| e.at <= now);
        let lo = self.log_odds(lead, events.get(..known).unwrap_or(&[]));
        Points::try_from_f64(self.scaling.points(lo)).unwrap_or(Points::ZERO)
    }

    fn probability(&self, points: Points) -> Option<f64> {
        Some(self.scaling.probability(points.to_f64()))
    }
}
