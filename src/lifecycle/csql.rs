//! CSQL: expansion criteria on customers' product usage and feedback.

use serde::{Deserialize, Serialize};

use super::{LifecycleDefinition, QualifiedBy, Transition, TransitionKind, TransitionRecord};
use crate::criteria::{Condition, CriteriaError, Verdict};
use crate::event::EventType;
use crate::matcher::{EventMatcher, Predicate};
use crate::span::Span;

/// Why [`ExpansionCriteria`] cannot become a condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpansionError {
    /// A threshold that is NaN or infinite.
    #[error("{field} is {value}: give a finite number")]
    NonFinite {
        /// Which threshold.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// The criteria make an invalid condition (a zero window).
    #[error("csql: {source}")]
    Condition {
        /// The problem.
        source: CriteriaError,
    },
}

/// When a customer becomes a CSQL (Customer Success Qualified Lead): an
/// expansion candidate for customer success, judged from product-usage and
/// feedback events. Data; [`to_condition`](Self::to_condition) turns it into
/// a core [`Condition`], and [`apply_to`](Self::apply_to) makes the Customer
/// → CSQL edge of a definition fire automatically on it, so the transition is
/// recorded with the verdict as its evidence.
///
/// The events it reads (the host reports them):
///
/// - seat utilisation: `product_usage` events with a numeric property
///   `seat_utilisation`, the share of paid seats in use (`0.92`);
/// - feature adoption: `product_usage` events with a numeric property
///   `feature_adoption`, the share of the plan's key features in use;
/// - support satisfaction: `feedback` events and their `score` (0–10).
///
/// All four parts must hold: utilisation at least the threshold at least
/// once within the usage window, likewise adoption, a satisfaction score at
/// least the threshold within the feedback window, and (when set) no score
/// below the detractor bound within it.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::criteria::LeadView;
/// use leadflow::lifecycle::{
///     ExpansionCriteria, LifecycleDefinition, Transition, TransitionKind, csql_evidence,
/// };
/// use leadflow::{AttrValue, Event, EventId, EventKind, Lead, LeadId, Stage};
///
/// let csql = ExpansionCriteria::standard();
/// let def = csql.apply_to(LifecycleDefinition::new(Stage::Customer)
///     .command(Stage::Customer, TransitionKind::FlagForExpansion))?;
/// let machine = def.build()?;
///
/// let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
/// let lead = Lead::new(LeadId::new("customer-1")?, t0);
/// let mut life = machine.start(&lead);
/// let id = LeadId::new("customer-1")?;
/// let usage = |n: &str, key: &str, v: f64| -> Result<Event, Box<dyn std::error::Error>> {
///     Ok(Event::new(EventId::new(n)?, id.clone(), t0, EventKind::ProductUsage { feature: None })
///         .with_property(key, AttrValue::number(v)?))
/// };
/// let events = vec![
///     usage("u1", "seat_utilisation", 0.93)?,
///     usage("u2", "feature_adoption", 0.7)?,
///     Event::new(EventId::new("f1")?, id.clone(), t0, EventKind::Feedback { score: 9 }),
/// ];
/// let fired = machine.advance(&mut life, &LeadView::new(&lead).with_events(&events), t0 + Duration::days(1));
/// assert_eq!(fired.len(), 1);
/// assert_eq!(life.stage(), Stage::Csql);
/// let evidence = csql_evidence(&life.history()[0]).unwrap();
/// assert_eq!(evidence.children.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExpansionCriteria {
    /// Seat utilisation (share of seats in use) at least this.
    #[serde(with = "crate::strict::finite")]
    pub seat_utilisation_at_least: f64,
    /// Feature adoption (share of key features in use) at least this.
    #[serde(with = "crate::strict::finite")]
    pub feature_adoption_at_least: f64,
    /// A feedback score at least this.
    pub satisfaction_at_least: i64,
    /// No feedback score below this, when set (a detractor blocks
    /// expansion until the issue is resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detractor_below: Option<i64>,
    /// How recent the usage must be.
    pub usage_window: Span,
    /// How recent the feedback must be.
    pub feedback_window: Span,
}

/// The name recorded with automatic Customer → CSQL transitions.
pub(crate) const CSQL_CRITERION: &str = "csql";

impl ExpansionCriteria {
    /// The documented preset: seat utilisation at least 80 % and feature
    /// adoption at least 60 % within 30 days; a satisfaction score of 9 or
    /// more and none below 7 within 90 days.
    pub fn standard() -> ExpansionCriteria {
        ExpansionCriteria {
            seat_utilisation_at_least: 0.8,
            feature_adoption_at_least: 0.6,
            satisfaction_at_least: 9,
            detractor_below: Some(7),
            usage_window: Span::days(30),
            feedback_window: Span::days(90),
        }
    }

    /// The criteria as a core condition (`all` of the parts).
    ///
    /// # Errors
    ///
    /// [`ExpansionError::NonFinite`] for a NaN or infinite threshold;
    /// [`ExpansionError::Condition`] for a zero window.
    pub fn to_condition(&self) -> Result<Condition, ExpansionError> {
        for (field, value) in [
            ("seat_utilisation_at_least", self.seat_utilisation_at_least),
            ("feature_adoption_at_least", self.feature_adoption_at_least),
        ] {
            if !value.is_finite() {
                return Err(ExpansionError::NonFinite { field, value });
            }
        }
        let usage = |key: &str, min: f64| {
            Condition::did_within(
                EventMatcher::of(EventType::ProductUsage).with_property(key, Predicate::at_least(min)),
                self.usage_window,
            )
        };
        let feedback = |p: Predicate| {
            Condition::did_within(
                EventMatcher::of(EventType::Feedback).with_property("score", p),
                self.feedback_window,
            )
        };
        let mut parts = vec![
            usage("seat_utilisation", self.seat_utilisation_at_least),
            usage("feature_adoption", self.feature_adoption_at_least),
            feedback(Predicate::at_least(self.satisfaction_at_least as f64)),
        ];
        if let Some(d) = self.detractor_below {
            parts.push(Condition::negate(feedback(Predicate::Range {
                min: None,
                max: Some(d as f64),
            })));
        }
        let condition = Condition::all(parts);
        condition
            .validate()
            .map_err(|source| ExpansionError::Condition { source })?;
        Ok(condition)
    }

    /// Makes every flag-for-expansion edge of `definition` automatic on these
    /// criteria, under the criterion name `csql`. Add the edge first (the
    /// standard B2B definition has it from Customer).
    ///
    /// # Errors
    ///
    /// As [`to_condition`](Self::to_condition).
    pub fn apply_to(&self, definition: LifecycleDefinition) -> Result<LifecycleDefinition, ExpansionError> {
        let condition = self.to_condition()?;
        Ok(definition.set_automatic(TransitionKind::FlagForExpansion, CSQL_CRITERION, &condition))
    }
}

/// The evidence of a Customer → CSQL transition fired by a criterion: its
/// verdict (which usage and feedback signals held, with their values).
/// `None` for other transitions or a manual flag.
pub fn csql_evidence(record: &TransitionRecord) -> Option<&Verdict> {
    match &record.transition {
        Transition::FlagForExpansion {
            by: QualifiedBy::Criterion { verdict, .. },
        } => Some(verdict),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_condition_has_four_parts_three_without_detractors() {
        let parts = |c: Condition| match &c {
            Condition::All { of } => of.len(),
            _ => 0,
        };
        let mut c = ExpansionCriteria::standard();
        assert_eq!(parts(c.to_condition().unwrap()), 4);
        c.detractor_below = None;
        assert_eq!(parts(c.to_condition().unwrap()), 3);
    }

    #[test]
    fn infinite_threshold_refused() {
        let mut c = ExpansionCriteria::standard();
        c.feature_adoption_at_least = f64::INFINITY;
        let err = c.to_condition().unwrap_err();
        assert_eq!(
            err.to_string(),
            "feature_adoption_at_least is inf: give a finite number"
        );
    }
}
