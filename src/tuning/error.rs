//! Errors of the tuning namespace.

use super::Bin;
use crate::id::IdError;
use crate::points::Points;
use crate::scoring::ModelError;

/// Why a fit, split or calibration could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TuningError {
    /// No training rows were given.
    #[error("no training rows: pass at least one row index of the dataset")]
    NoRows,
    /// A row index is outside the dataset.
    #[error("row {row} is out of range for a dataset of {len} rows: pass indices below {len}")]
    RowOutOfRange {
        /// The offending index.
        row: usize,
        /// The dataset length.
        len: usize,
    },
    /// The training rows hold only one class.
    #[error(
        "training rows hold {positives} converted and {negatives} unconverted leads: both classes are needed"
    )]
    OneClass {
        /// Converted leads among the training rows.
        positives: usize,
        /// Unconverted leads among the training rows.
        negatives: usize,
    },
    /// A configuration number is out of its range.
    #[error("{name} = {value} is invalid: {expected}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The refused value.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// No features were given.
    #[error("no features: name at least one attribute to fit on")]
    NoFeatures,
    /// The same attribute was named twice.
    #[error("feature \"{name}\" is listed twice: name each attribute once")]
    DuplicateFeature {
        /// The attribute name.
        name: String,
    },
    /// The optimiser produced a non-finite number (for example perfectly
    /// separated data with no regularisation).
    #[error("fit diverged at iteration {iteration}: raise l2 (now {l2}) or drop the separating feature")]
    Diverged {
        /// Newton iteration where it happened.
        iteration: usize,
        /// The L2 strength used.
        l2: f64,
    },
    /// The Newton fit stopped short of the optimum.
    #[error(
        "the fit did not converge in {iterations} Newton steps (objective still {gap:.3e} above its minimum at l2 {l2}): raise l2 or max_iter"
    )]
    NotConverged {
        /// Steps taken.
        iterations: usize,
        /// Estimated distance of the objective to its minimum (half the
        /// Newton decrement).
        gap: f64,
        /// The L2 strength used.
        l2: f64,
    },
    /// The system of the Newton step cannot be solved reliably: columns are
    /// (nearly) collinear and the penalty too weak to tell them apart.
    #[error(
        "the fit is ill-conditioned (condition estimate {condition:.1e} at l2 {l2}): raise l2 or drop a duplicated feature"
    )]
    IllConditioned {
        /// The condition estimate (infinite when the factorisation failed).
        condition: f64,
        /// The L2 strength used.
        l2: f64,
    },
    /// A fitted factor or the base lies beyond the documented sanity
    /// bounds (see [`Bounds`](super::Bounds)): the training rows are
    /// (nearly) separated and the odds it states are not estimates.
    #[error(
        "{what} has log-odds {log_odds:.1}, beyond the sanity bound of ±{bound}: the training rows are (nearly) separated by it; raise the penalty or drop the feature"
    )]
    OutOfBounds {
        /// The factor (`"employees in [10, 50)"`, a pair cell, or `"the base"`).
        what: String,
        /// Its fitted log-odds.
        log_odds: f64,
        /// The bound it exceeds.
        bound: f64,
    },
    /// A bin with points has no equivalent scoring rule (an `Other` bin,
    /// which fitted scorecards never give points), so the scorecard cannot
    /// be written as a scoring model.
    #[error(
        "cannot convert the scorecard into a scoring model: {what} ({bin}) has {points} points but no rule form; give such bins no points"
    )]
    NoRuleForm {
        /// Where the bin is (`"bin 3 of employees"`, `"a cell of origin × visits"`).
        what: String,
        /// The bin.
        bin: Bin,
        /// Its points.
        points: Points,
    },
    /// A pair cell lies outside its pair's bins, so the scorecard cannot be
    /// written as a scoring model.
    #[error("cannot convert the scorecard into a scoring model: cell {cell:?} of {pair} is outside its bins")]
    CellOutsideBins {
        /// The pair's name.
        pair: String,
        /// The cell's bin indices.
        cell: [usize; 2],
    },
    /// A bin's or cell's rule id, made from its feature's name, is not a
    /// valid id (a name longer than an id may be, or with a control
    /// character).
    #[error(
        "cannot convert the scorecard into a scoring model: rule id for {what}: {source}; rename the feature"
    )]
    InvalidRuleId {
        /// Where the bin is (`"bin 3 of employees"`, `"a cell of origin × visits"`).
        what: String,
        /// Why the id was refused.
        source: IdError,
    },
    /// The scoring model written from the scorecard fails the model's own
    /// validation.
    #[error("cannot convert the scorecard into a scoring model: {source}")]
    InvalidModel {
        /// The model's error.
        source: ModelError,
    },
}
