//! [`Metrics`]: the usual metrics of one scored sample in one value (the
//! functions it is made of are in [`metrics`](super::metrics)).

use serde::{Deserialize, Serialize};

use super::metrics::{Confusion, average_precision, log_loss, roc_auc, top_k_count};

/// The usual set of metrics on one scored sample.
///
/// # Example
///
/// ```
/// use leadflow::tuning::Metrics;
/// let m = Metrics::compute(&[0.9, 0.7, 0.2, 0.1], &[true, true, false, false], Some(&[0.9, 0.7, 0.2, 0.1]));
/// assert_eq!(m.auc, Some(1.0));
/// assert_eq!(m.precision_at_10pct, Some(1.0));
/// assert!(m.log_loss.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Leads scored.
    pub n: usize,
    /// Converted leads among them.
    pub positives: usize,
    /// ROC AUC.
    pub auc: Option<f64>,
    /// Average precision (PR AUC).
    pub pr_auc: Option<f64>,
    /// Log loss, when probabilities were given.
    pub log_loss: Option<f64>,
    /// Precision of the top 10 %.
    pub precision_at_10pct: Option<f64>,
    /// Recall of the top 10 %.
    pub recall_at_10pct: Option<f64>,
    /// Lift of the top 10 %.
    pub lift_at_10pct: Option<f64>,
    /// Precision of the top 20 %.
    pub precision_at_20pct: Option<f64>,
    /// Recall of the top 20 %.
    pub recall_at_20pct: Option<f64>,
    /// Lift of the top 20 %.
    pub lift_at_20pct: Option<f64>,
}

impl Metrics {
    /// Computes every metric; `probabilities` (same order as `scores`)
    /// enable the log loss.
    pub fn compute(scores: &[f64], labels: &[bool], probabilities: Option<&[f64]>) -> Metrics {
        let n = scores.len().min(labels.len());
        let top10 = Confusion::at_top_k(scores, labels, top_k_count(n, 0.1));
        let top20 = Confusion::at_top_k(scores, labels, top_k_count(n, 0.2));
        Metrics {
            n,
            positives: labels.iter().take(n).filter(|&&y| y).count(),
            auc: roc_auc(scores, labels),
            pr_auc: average_precision(scores, labels),
            log_loss: probabilities.and_then(|p| log_loss(p, labels)),
            precision_at_10pct: top10.precision(),
            recall_at_10pct: top10.recall(),
            lift_at_10pct: top10.lift(),
            precision_at_20pct: top20.precision(),
            recall_at_20pct: top20.recall(),
            lift_at_20pct: top20.lift(),
        }
    }
}
