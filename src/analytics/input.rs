//! What the analyzer reads: the measurement's configuration and one lead's
//! history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Period;
use super::breakdown::Breakdown;
use crate::event::Event;
use crate::lead::Lead;
use crate::lifecycle::LeadLifecycle;
use crate::scores::Scores;

/// What to measure: the time of the measurement, an optional period and the
/// breakdowns. Data.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::analytics::{Breakdown, AnalysisConfig, Period};
///
/// let as_of = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
/// let config = AnalysisConfig::new(as_of)
///     .with_period(Period::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), as_of)?)
///     .with_breakdowns([Breakdown::Channel, Breakdown::Cohort]);
/// let json = serde_json::to_string(&config)?;
/// assert_eq!(serde_json::from_str::<AnalysisConfig>(&json)?, config);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AnalysisConfig {
    /// The time of the measurement: records, events and follow-ups after it
    /// are ignored, and open stays and SLAs are judged at it.
    pub as_of: DateTime<Utc>,
    /// Only transitions (and lead creations, events, stays and SLA breaches
    /// starting) within `[from, to)`; all time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// The breakdowns to compute besides the overall metrics.
    #[serde(default = "Breakdown::standard")]
    pub breakdowns: Vec<Breakdown>,
}

impl AnalysisConfig {
    /// All time up to `as_of`, with the [standard](Breakdown::standard)
    /// breakdowns.
    pub fn new(as_of: DateTime<Utc>) -> AnalysisConfig {
        AnalysisConfig {
            as_of,
            period: None,
            breakdowns: Breakdown::standard(),
        }
    }

    /// Restricts to a period.
    pub fn with_period(mut self, period: Period) -> AnalysisConfig {
        self.period = Some(period);
        self
    }

    /// Replaces the breakdowns.
    pub fn with_breakdowns(mut self, breakdowns: impl IntoIterator<Item = Breakdown>) -> AnalysisConfig {
        self.breakdowns = breakdowns.into_iter().collect();
        self
    }

    pub(super) fn in_window(&self, at: DateTime<Utc>) -> bool {
        at <= self.as_of && self.period.is_none_or(|p| p.contains(at))
    }
}

/// One lead's data for the funnel: the lead, its lifecycle, and optionally its
/// events and current scores.
///
/// Scores are the host's (from any scoring model): the funnel averages the fit
/// and engagement of the leads entering each stage, using the scores given
/// here.
#[derive(Debug, Clone, Copy)]
pub struct LeadHistory<'a> {
    /// The lead.
    pub lead: &'a Lead,
    /// Its lifecycle.
    pub lifecycle: &'a LeadLifecycle,
    /// Its events (any order).
    pub events: &'a [Event],
    /// Its scores, if scored.
    pub scores: Option<&'a Scores>,
}

impl<'a> LeadHistory<'a> {
    /// A lead and its lifecycle, without events or scores.
    pub fn new(lead: &'a Lead, lifecycle: &'a LeadLifecycle) -> LeadHistory<'a> {
        LeadHistory {
            lead,
            lifecycle,
            events: &[],
            scores: None,
        }
    }

    /// Sets the events.
    pub fn with_events(mut self, events: &'a [Event]) -> LeadHistory<'a> {
        self.events = events;
        self
    }

    /// Sets the scores.
    pub fn with_scores(mut self, scores: &'a Scores) -> LeadHistory<'a> {
        self.scores = Some(scores);
        self
    }
}
