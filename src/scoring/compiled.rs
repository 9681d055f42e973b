//! A rule compiled for evaluation: what the scoring row and the folds read
//! of it.

use super::decay::Decay;
use super::rule::Limit;
use crate::points::Points;
use crate::scores::Dimension;

/// A compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CRule {
    /// Its group's index in the model.
    pub(crate) group: usize,
    /// Fit or engagement.
    pub(crate) dimension: Dimension,
    pub(crate) points: Points,
    pub(crate) limit: Limit,
    pub(crate) within: Option<chrono::TimeDelta>,
    /// Its own decay, else its group's.
    pub(crate) decay: Decay,
}
