//! Deciding cheaply whether a lead's automatic edges may fire: most events
//! change no stage, and most leads' criteria can be ruled out from their
//! line alone.
//!
//! The gate evaluates each automatic edge's built-in condition three-valued
//! over what the line says without reading the lead's attributes or events:
//! the counts of its signals, and its scores (exact when its fit is cached
//! and its windowed rules have counted nothing positive; otherwise an upper
//! bound, which can only rule a score threshold out). An edge whose
//! condition comes out not met cannot fire; the lead is evaluated in full
//! only when one may.

use chrono::{DateTime, Utc};

use super::plan::Plan;
use crate::criteria::{Probe, Window};
use crate::lead::Lead;
use crate::lifecycle::LifecycleStateMachine;
use crate::matcher::EventMatcher;
use crate::points::Points;
use crate::scores::Dimension;
use crate::scoring::ScoringModel;
use crate::scoring::tally::Tally;
use crate::stage::Stage;

/// What the gate reads: a line at a time, and the lead's attributes if at
/// hand.
struct LineProbe<'a> {
    model: &'a ScoringModel,
    plan: &'a Plan,
    line: &'a [u64],
    at: DateTime<Utc>,
    lead: Option<&'a Lead>,
    /// Fit and engagement (milli-points) and whether they are exact (else
    /// upper bounds), worked out on first use.
    core: std::cell::OnceCell<Option<([i128; 2], bool)>>,
}

impl LineProbe<'_> {
    fn core(&self) -> Option<([i128; 2], bool)> {
        *self.core.get_or_init(|| {
            let mut tally = Tally::new(self.model);
            if !fit_cached(self.plan, self.line, self.at, &mut tally) {
                let lead = self.lead?;
                tally.add_fit(self.model, lead);
            }
            let row = self.line.get(self.plan.row()).unwrap_or(&[]);
            self.plan.row.parts(row, self.at, |g, sum, positive| {
                tally.add_parts(g, Dimension::Engagement, sum, positive);
            });
            let [fit, engagement] = tally.core(self.model);
            // Windowed points (left out above) only raise the engagement by
            // at most what they counted, whatever the caps and the floor.
            let windowed = self
                .plan
                .windowed_word
                .and_then(|w| self.line.get(w))
                .map_or(0, |w| *w as i64);
            Some(([fit, engagement + i128::from(windowed)], windowed == 0))
        })
    }
}

impl Probe for LineProbe<'_> {
    fn score(&self, dimension: Dimension) -> Option<(Points, bool)> {
        let ([fit, engagement], exact) = self.core()?;
        let milli = match dimension {
            Dimension::Fit => fit,
            Dimension::Engagement => engagement,
            Dimension::Combined => fit + engagement,
        };
        // Fit is exact even when engagement is a bound.
        let exact = exact || dimension == Dimension::Fit;
        Some((
            Points::from_milli(i64::try_from(milli).unwrap_or(i64::MAX)),
            exact,
        ))
    }

    fn count(&self, matcher: &EventMatcher, window: Window, limit: usize) -> Option<usize> {
        if window.start.is_some() {
            return None;
        }
        let n = self.plan.count(self.line, self.plan.signals.find(matcher)?)?;
        Some((n as usize).min(limit))
    }

    fn lead(&self) -> Option<&Lead> {
        self.lead
    }
}

/// Adds a line's cached fit to `tally` if the cache holds at `at`.
fn fit_cached(plan: &Plan, line: &[u64], at: DateTime<Utc>, tally: &mut Tally) -> bool {
    let from = line.get(plan.fit_word).map_or(i64::MAX, |w| *w as i64);
    if from == i64::MAX || at.timestamp_nanos_opt().is_none_or(|t| t < from) {
        return false;
    }
    for (k, &g) in plan.fit_groups.iter().enumerate() {
        let word = |j: usize| line.get(plan.fit_word + 1 + 2 * k + j).map_or(0, |w| *w as i64);
        tally.add_parts(g, Dimension::Fit, i128::from(word(0)), i128::from(word(1)));
    }
    true
}

/// What the line alone says of a built-in condition at `at`: met, not met,
/// or unknown when it takes the lead's attributes, events or exact scores.
pub(super) fn bounded(
    model: &ScoringModel,
    plan: &Plan,
    line: &[u64],
    at: DateTime<Utc>,
    condition: &crate::criteria::Condition,
) -> crate::criteria::Outcome {
    let probe = LineProbe {
        model,
        plan,
        line,
        at,
        lead: None,
        core: std::cell::OnceCell::new(),
    };
    condition.bounded(&probe, at)
}

/// False when no automatic edge from `stage` can fire at `at` for a lead
/// with this line (and attributes, if given).
pub(super) fn may_fire(
    model: &ScoringModel,
    machine: &LifecycleStateMachine,
    plan: &Plan,
    line: &[u64],
    stage: Stage,
    at: DateTime<Utc>,
    lead: Option<&Lead>,
) -> bool {
    let probe = LineProbe {
        model,
        plan,
        line,
        at,
        lead,
        core: std::cell::OnceCell::new(),
    };
    machine
        .automatic_from(stage)
        .any(|(_, criterion)| criterion.bounded(&probe, at) != crate::criteria::Outcome::NotMet)
}
