//! Tuning and backtesting: measure a scoring model on real history, calibrate
//! it to sales capacity, and fit points from outcomes.
//!
//! Before switching a model, see what it would have done:
//!
//! - a [`Dataset`] holds leads, their events and their [`Label`]s
//!   (converted or not, and when), built in code by the host;
//! - the [`Scorer`] trait is what a backtest replays through: a fitted
//!   [`Scorecard`], a [`NaiveBayes`] model, or any model of your own (the
//!   crate's `ScoringModel` is designed to implement it as well);
//! - [`Backtest`] scores each lead as of a cutoff using only the events known
//!   then ([`Backtest::scores_at`]), replays each lead's history to find when
//!   it would have crossed into MQL ([`Backtest::replay`]), lists the buyers a
//!   threshold misses ([`missed_buyers`]) and compares two models
//!   ([`compare`]);
//! - [`metrics`] are pure functions: ROC AUC with ties, average precision, log
//!   loss, confusion counts, precision / recall / lift at a threshold and at
//!   top-k, weekly MQL volume and the MQL → conversion rate; [`Metrics`]
//!   gathers the usual set;
//! - [`calibrate`] chooses the threshold (or a top-k-per-week gate) that keeps
//!   weekly MQL volume within what the receiving team can work, with the whole
//!   trade-off curve;
//! - [`ScorecardConfig::fit`] learns a readable integer-points scorecard from
//!   labelled leads (bins with spikes and sentinels kept apart, rare-level
//!   handling, L2-regularised logistic regression by damped Newton steps,
//!   points-to-double-the-odds scaling); [`ScorecardConfig::tune`] chooses its
//!   bins and penalty by cross-validation;
//! - [`BoostedConfig::fit`] learns the same kind of card by cyclic boosting of
//!   per-bin shapes, with pair tables ([`PairCard`]) for the interactions a
//!   held-out screen keeps: gradient boosting's accuracy, still points a
//!   person can read;
//! - every fit is checked: a fit that does not converge is a
//!   [`TuningError`], every card respects the sanity [`Bounds`], and
//!   [`FitWarning`]s say what the fit noticed; [`check_leakage`] flags
//!   features that look like ids or like fields recorded after the outcome;
//! - [`Scorecard::to_scoring_model`] exports any card as an ordinary
//!   [`ScoringModel`](crate::ScoringModel) that scores exactly as
//!   the card; [`NaiveBayesConfig::fit`] fits a naive Bayes scorer with
//!   per-factor contributions for comparison; [`folds`] and [`index_split`]
//!   give reproducible splits.
//!
//! Everything is deterministic: the only randomness is [`SplitMix64`], always
//! seeded by the caller.
//!
//! # Example
//!
//! Fit a scorecard on labelled leads and measure it:
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use leadflow::tuning::{Dataset, Feature, Label, Metrics, ScorecardConfig, Scorer};
//! use leadflow::{Lead, LeadId};
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
//! let mut data = Dataset::new();
//! for i in 0..200_i64 {
//!     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
//!     let visits = i % 10;
//!     lead.set_attribute("visits", visits)?;
//!     lead.set_attribute("origin", if i % 3 == 0 { "referral" } else { "ads" })?;
//!     // Buyers visit more and come from referrals more often.
//!     let converted = visits + if i % 3 == 0 { 4 } else { 0 } + (i % 7) > 11;
//!     data.push(lead, Vec::new(), Label::new(converted, None));
//! }
//! let features = [Feature::numeric("visits"), Feature::categorical("origin")];
//! let card = ScorecardConfig::new(features).fit(&data, &data.all_rows())?;
//! let scores: Vec<f64> = data.rows().iter()
//!     .map(|r| card.score(&r.lead, &r.events, t0).to_f64())
//!     .collect();
//! let m = Metrics::compute(&scores, &data.labels(), None);
//! assert!(m.auc.unwrap_or(0.0) > 0.8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backtest;
mod bayes;
mod binning;
mod boosted;
mod calibrate;
mod dataset;
mod error;
mod leakage;
mod linalg;
mod logistic;
pub mod metrics;
mod pairs;
mod scorecard;
mod split;
mod summary;
mod table;

pub use crate::rng::SplitMix64;
pub use backtest::{Backtest, Comparison, MissedBuyer, Replay, Scorer, compare, missed_buyers};
pub use bayes::{BayesFactor, NaiveBayes, NaiveBayesConfig};
pub use binning::{Bin, Feature, FeatureKind};
pub use boosted::BoostedConfig;
pub use calibrate::{Calibration, Candidate, CurvePoint, WeeklyGate, calibrate, tradeoff_curve};
pub use dataset::{Dataset, Label, LabeledLead};
pub use error::TuningError;
pub use leakage::{Leak, RANKS_ALONE, check_leakage};
pub use logistic::{ScorecardConfig, Search, Trial, Tuned};
pub use scorecard::{
    BinPoints, Bounds, FeatureCard, FitWarning, PairCard, PairCell, Part, PdoScaling, Scorecard,
};
pub use split::{folds, index_split};
pub use summary::Metrics;

/// The old name of [`BayesFactor`] (`Contribution` also names a line of a
/// score's explanation, [`scoring::Contribution`](crate::scoring::Contribution)).
#[deprecated(since = "0.2.0", note = "use `leadflow::tuning::BayesFactor`")]
pub type Contribution = BayesFactor;

/// The old name of [`Label`] (`Outcome` also names a criterion's
/// three-valued result, [`criteria::Outcome`](crate::criteria::Outcome)).
#[deprecated(since = "0.2.0", note = "use `leadflow::tuning::Label`")]
pub type Outcome = Label;
