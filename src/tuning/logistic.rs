//! The logistic scorecard: a penalised logistic regression on binned
//! attributes, and the cross-validated choice of its bins and penalty.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::binning::{Encoded, Feature};
use super::linalg::{Logistic, fit_logistic, row_loss};
use super::scorecard::{Fitted, within_bounds};
use super::{Bounds, Dataset, PdoScaling, Scorecard, TuningError, metrics};

/// How to fit a logistic [`Scorecard`]: the features, binning, L2 strength
/// and scaling. An unfitted configuration; [`ScorecardConfig::fit`] makes the
/// fitted scorecard, [`ScorecardConfig::tune`] chooses the bin count and the
/// penalty by cross-validation.
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
#[non_exhaustive]
pub struct ScorecardConfig {
    /// The attributes to fit on.
    pub features: Vec<Feature>,
    /// Bins per numeric feature at most (plus one for missing values):
    /// equal-frequency bins between distinct values, a value of its own for
    /// spikes and sentinels, one bin per value when there are few (see
    /// [`FeatureKind::Numeric`](super::FeatureKind::Numeric)). Default 16.
    pub max_bins: usize,
    /// Categorical levels (and numeric bins) with fewer training rows than
    /// this share a bin: rare levels the `Other` bin with unseen levels, rare
    /// numeric values their neighbour's. Default 5.
    pub min_level_rows: usize,
    /// Merge adjacent numeric bins until the training conversion rate is
    /// monotone across them (pool adjacent violators): fewer, steadier
    /// factors a person can reason about. Default off.
    #[serde(default)]
    pub monotone: bool,
    /// L2 penalty on the bin weights (`1 / C` in scikit-learn terms).
    /// Default 1; [`ScorecardConfig::tune`] chooses it from the data.
    pub l2: f64,
    /// How log-odds become points.
    pub scaling: PdoScaling,
    /// Newton steps at most. Default 100.
    pub max_iter: usize,
    /// Sanity bounds every fitted card must respect.
    #[serde(default)]
    pub bounds: Bounds,
}

impl ScorecardConfig {
    /// The default configuration for these features.
    pub fn new(features: impl IntoIterator<Item = Feature>) -> ScorecardConfig {
        ScorecardConfig {
            features: features.into_iter().collect(),
            max_bins: 16,
            min_level_rows: 5,
            monotone: false,
            l2: 1.0,
            scaling: PdoScaling::default(),
            max_iter: 100,
            bounds: Bounds::default(),
        }
    }

    /// Sets the number of bins per numeric feature.
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
        check_features(&self.features)?;
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

    fn encode(&self, data: &Dataset, rows: &[usize]) -> Encoded {
        Encoded::fit(
            data,
            rows,
            &self.features,
            self.max_bins,
            self.min_level_rows,
            self.monotone,
        )
    }

    /// Fits a scorecard on the given rows of `data`: bins each feature on
    /// those rows, fits an L2-regularised logistic regression on the one-hot
    /// bins (damped Newton steps with a line search, deterministic), and
    /// scales the weights to integer points.
    ///
    /// # Errors
    ///
    /// [`TuningError`] for an invalid configuration, no rows, rows out of
    /// range, a single class; [`TuningError::NotConverged`],
    /// [`TuningError::IllConditioned`] or [`TuningError::Diverged`] for a fit
    /// that cannot be trusted; [`TuningError::OutOfBounds`] for a card
    /// beyond its sanity [`Bounds`].
    pub fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Scorecard, TuningError> {
        self.validate(data, rows)?;
        let enc = self.encode(data, rows);
        let labels = labels_of(data, rows);
        let width = self.features.len();
        let model = fit_logistic(
            &enc.rows,
            width,
            enc.columns,
            &labels,
            self.l2,
            self.max_iter,
            None,
        )?;
        let logits = logits(&model, &enc.rows, width);
        Fitted {
            enc: &enc,
            labels: &labels,
            intercept: model.intercept,
            weights: model.weights,
            pairs: Vec::new(),
            l2: self.l2,
            logits,
        }
        .into_card(self.scaling, &self.bounds)
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

    /// Chooses the bin count and the L2 penalty by `search.folds`-fold
    /// cross-validation on `rows`, minimising the mean validation log loss,
    /// and returns this configuration with them set, and every trial.
    ///
    /// The penalties tried start from `search.l2` and are extended by the
    /// grid's own ratio while the best one lies at an edge (up to
    /// `search.max_extend` steps each way), so the chosen value is bracketed
    /// by worse ones unless a limit is reached ([`Tuned::bracketed`] says
    /// which). A penalty whose fit fails in some fold (too weak to converge,
    /// or giving a card beyond the sanity [`Bounds`], as on separable data)
    /// counts as worse than any that fits.
    ///
    /// # Errors
    ///
    /// As [`ScorecardConfig::fit`] for the configuration and rows;
    /// [`TuningError::InvalidParameter`] for an empty grid, fewer than 2
    /// folds or fewer rows than folds; the fit's own error when no trial
    /// fits at all.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::tuning::{Dataset, Feature, Label, ScorecardConfig, Search};
    /// use leadflow::{Lead, LeadId};
    ///
    /// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    /// let mut data = Dataset::new();
    /// for i in 0..300_i64 {
    ///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
    ///     lead.set_attribute("visits", i % 17)?;
    ///     data.push(lead, vec![], Label::new((i % 17) + (i % 5) > 12, None));
    /// }
    /// let tuned = ScorecardConfig::new([Feature::numeric("visits")])
    ///     .tune(&data, &data.all_rows(), &Search::default())?;
    /// assert!(tuned.trials.iter().any(|t| t.l2 == tuned.config.l2));
    /// let card = tuned.config.fit(&data, &data.all_rows())?;
    /// assert!(card.features[0].bins.len() > 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tune(&self, data: &Dataset, rows: &[usize], search: &Search) -> Result<Tuned, TuningError> {
        self.validate(data, rows)?;
        search.validate()?;
        let folds = super::folds(rows, search.folds, search.seed)?;
        // One encoding per fold and bin count, reused along the penalty path.
        let mut arms: Vec<Arm> = Vec::new();
        for &bins in &search.bins {
            let config = self.clone().with_max_bins(bins.max(2));
            for (train, valid) in &folds {
                let enc = config.encode(data, train);
                let valid_rows = enc.encode(data, valid);
                arms.push(Arm {
                    bins: config.max_bins,
                    labels: labels_of(data, train),
                    valid_labels: labels_of(data, valid),
                    valid_rows,
                    enc,
                    warm: Vec::new(),
                });
            }
        }
        let mut grid: Vec<f64> = search.l2.clone();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        let ratio = match grid.as_slice() {
            [a, b, ..] => (b / a).max(1.5),
            _ => 10f64.sqrt(),
        };
        let mut trials: Vec<Trial> = Vec::new();
        let mut last_error = None;
        // Strongest penalty first: each fit starts from its neighbour's.
        for &l2 in grid.iter().rev() {
            self.run(&mut arms, l2, search, &mut trials, &mut last_error);
        }
        let (mut low, mut high) = (0, 0);
        let bracketed = loop {
            let Some(best) = best_trial(&trials) else {
                break false;
            };
            let smallest = trials.iter().map(|t| t.l2).fold(f64::INFINITY, f64::min);
            let largest = trials.iter().map(|t| t.l2).fold(0.0, f64::max);
            if best.l2 >= largest && high < search.max_extend {
                high += 1;
                self.run(&mut arms, largest * ratio, search, &mut trials, &mut last_error);
            } else if best.l2 <= smallest && low < search.max_extend {
                low += 1;
                self.run(&mut arms, smallest / ratio, search, &mut trials, &mut last_error);
            } else {
                break best.l2 < largest && best.l2 > smallest;
            }
        };
        let best = match best_trial(&trials) {
            Some(b) => b.clone(),
            None => return Err(last_error.unwrap_or(TuningError::NoRows)),
        };
        Ok(Tuned {
            config: self.clone().with_max_bins(best.max_bins).with_l2(best.l2),
            trials,
            bracketed,
        })
    }

    /// Fits every arm at `l2` and records one trial per bin count.
    fn run(
        &self,
        arms: &mut [Arm],
        l2: f64,
        search: &Search,
        trials: &mut Vec<Trial>,
        last_error: &mut Option<TuningError>,
    ) {
        let width = self.features.len();
        for chunk in arms.chunks_mut(search.folds.max(1)) {
            let bins = chunk.first().map_or(0, |a| a.bins);
            let (mut loss, mut auc, mut failed) = (0.0, 0.0, false);
            for arm in chunk.iter_mut() {
                // Warm start from the fit at the nearest penalty.
                let start = arm
                    .warm
                    .iter()
                    .min_by(|a, b| (a.0.ln() - l2.ln()).abs().total_cmp(&(b.0.ln() - l2.ln()).abs()))
                    .map(|(_, m)| m);
                match fit_logistic(
                    &arm.enc.rows,
                    width,
                    arm.enc.columns,
                    &arm.labels,
                    l2,
                    self.max_iter,
                    start,
                ) {
                    Ok(model) if !within_bounds(&arm.enc, &model.weights, model.intercept, &self.bounds) => {
                        failed = true;
                        *last_error = Some(TuningError::OutOfBounds {
                            what: "a fold's card".into(),
                            log_odds: f64::NAN,
                            bound: self.bounds.factor,
                        });
                        arm.warm.push((l2, model));
                    }
                    Ok(model) => {
                        let z = logits(&model, &arm.valid_rows, width);
                        loss += z
                            .iter()
                            .zip(&arm.valid_labels)
                            .map(|(&z, &y)| row_loss(z, y))
                            .sum::<f64>()
                            / z.len().max(1) as f64;
                        auc += metrics::roc_auc(&z, &arm.valid_labels).unwrap_or(0.5);
                        arm.warm.push((l2, model));
                    }
                    Err(e) => {
                        failed = true;
                        *last_error = Some(e);
                    }
                }
            }
            let k = chunk.len().max(1) as f64;
            trials.push(Trial {
                max_bins: bins,
                l2,
                log_loss: if failed { f64::INFINITY } else { loss / k },
                auc: if failed { f64::NAN } else { auc / k },
            });
        }
    }
}

/// One fold and bin count of a search: its encoding and fits so far.
struct Arm {
    bins: usize,
    enc: Encoded,
    labels: Vec<bool>,
    valid_rows: Vec<u32>,
    valid_labels: Vec<bool>,
    warm: Vec<(f64, Logistic)>,
}

fn best_trial(trials: &[Trial]) -> Option<&Trial> {
    trials
        .iter()
        .filter(|t| t.log_loss.is_finite())
        .min_by(|a, b| a.log_loss.total_cmp(&b.log_loss))
}

/// How [`ScorecardConfig::tune`] searches: folds, seed, the bin counts and
/// the starting grid of L2 penalties.
///
/// # Example
///
/// ```
/// use leadflow::tuning::Search;
///
/// let s = Search::default();
/// assert_eq!((s.folds, s.bins.clone()), (5, vec![8, 16, 32]));
/// assert_eq!(s.l2.first(), Some(&0.1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Search {
    /// Cross-validation folds. Default 5.
    pub folds: usize,
    /// Seed of the fold assignment. Default 42.
    pub seed: u64,
    /// Bin counts per numeric feature to try. Default 8, 16 and 32.
    pub bins: Vec<usize>,
    /// The starting grid of L2 penalties, log-spaced. Default 0.1 to 100
    /// by factors of √10.
    pub l2: Vec<f64>,
    /// Steps the grid may grow at each end while the best penalty lies
    /// there. Default 8 (four decades).
    pub max_extend: usize,
}

impl Default for Search {
    fn default() -> Search {
        let l2 = (-2..=4).map(|k| 10f64.powf(f64::from(k) / 2.0)).collect();
        Search {
            folds: 5,
            seed: 42,
            bins: vec![8, 16, 32],
            l2,
            max_extend: 8,
        }
    }
}

impl Search {
    fn validate(&self) -> Result<(), TuningError> {
        let bad = |name, value: f64, expected| {
            Err(TuningError::InvalidParameter {
                name,
                value,
                expected,
            })
        };
        if self.l2.is_empty() || self.l2.iter().any(|l| !(l.is_finite() && *l > 0.0)) {
            return bad("l2", self.l2.len() as f64, "at least one finite penalty above 0");
        }
        if self.bins.is_empty() {
            return bad("bins", 0.0, "at least one bin count");
        }
        if self.folds < 2 {
            return bad("folds", self.folds as f64, "at least 2 folds");
        }
        Ok(())
    }
}

/// One configuration tried by [`ScorecardConfig::tune`], with its mean
/// validation scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Bins per numeric feature.
    pub max_bins: usize,
    /// The L2 penalty.
    pub l2: f64,
    /// Mean validation log loss (infinite when a fold's fit failed).
    pub log_loss: f64,
    /// Mean validation ROC AUC (NaN when a fold's fit failed).
    pub auc: f64,
}

/// The outcome of [`ScorecardConfig::tune`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuned {
    /// The configuration with the chosen bin count and penalty.
    pub config: ScorecardConfig,
    /// Every configuration tried, in the order tried.
    pub trials: Vec<Trial>,
    /// Whether a worse penalty was tried on each side of the chosen one
    /// (false when the search reached its extension limit).
    pub bracketed: bool,
}

pub(crate) fn check_features(features: &[Feature]) -> Result<(), TuningError> {
    if features.is_empty() {
        return Err(TuningError::NoFeatures);
    }
    let mut seen = HashSet::new();
    for f in features {
        if !seen.insert(f.name.as_str()) {
            return Err(TuningError::DuplicateFeature { name: f.name.clone() });
        }
    }
    Ok(())
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

pub(crate) fn labels_of(data: &Dataset, rows: &[usize]) -> Vec<bool> {
    rows.iter()
        .filter_map(|&r| data.row(r).map(|x| x.outcome.converted))
        .collect()
}

/// The fitted log-odds of encoded rows.
fn logits(model: &Logistic, rows: &[u32], width: usize) -> Vec<f64> {
    rows.chunks_exact(width.max(1))
        .map(|cols| {
            model.intercept
                + cols
                    .iter()
                    .map(|&c| model.weights.get(c as usize).copied().unwrap_or(0.0))
                    .sum::<f64>()
        })
        .collect()
}
