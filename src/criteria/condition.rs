//! The built-in, serializable criteria.

use std::fmt;
use std::sync::Arc;

use super::{
    Checklist, CriteriaError, CriteriaRegistry, Criterion, EventHorizon, Framework, LeadView, Outcome,
    Verdict,
};
use crate::event::PageCategory;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::{Dimension, EngagementLevel, Grade};
use crate::span::Span;
pub use deep::MAX_CONDITION_DEPTH;
pub(crate) use eval::Probe;

/// A built-in qualification criterion, serializable so models can be data.
///
/// Serialized internally tagged by `"type"`. Every condition implements
/// [`Criterion`]. Windows are inclusive: an event at `t` is within `w` of
/// `now` when `now - w <= t <= now`; events after `now` are ignored.
///
/// # Data
///
/// Reading a condition refuses a field its type does not have (`{"type":
/// "did_action", "action": ..., "withn": "7d"}` is an error naming `withn`
/// and the fields `did_action` takes), a field given twice, and a condition
/// nested deeper than [`MAX_CONDITION_DEPTH`](super::MAX_CONDITION_DEPTH)
/// (an error naming the limit, raised as soon as the reader gets there, so
/// no input can exhaust the stack). Writing one refuses it too, so every
/// condition that writes reads back equal.
///
/// # Depth
///
/// [`validate`](Self::validate) refuses a condition nested deeper than
/// [`MAX_CONDITION_DEPTH`](super::MAX_CONDITION_DEPTH), as do
/// [`bind`](Self::bind) and serialization. A condition built deeper in code
/// is still safe to hold: `Clone`, `PartialEq`, `Drop` and
/// [`depth`](Self::depth) work at any depth without recursion; `Debug`
/// prints the parts beyond the limit as `..`; evaluating it gives
/// [`Outcome::Unknown`] for the parts beyond the limit.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::criteria::{Condition, Criterion, LeadView, Outcome};
/// use leadflow::{Dimension, Lead, LeadId, Points, Scores};
///
/// let lead = Lead::new(LeadId::new("l1")?, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
/// let scores = Scores { combined: Points::new(72), ..Scores::default() };
/// let view = LeadView::new(&lead).with_scores(&scores);
/// let now = Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap();
///
/// let verdict = Condition::score_at_least(Dimension::Combined, 60).evaluate(&view, now);
/// assert_eq!(verdict.outcome, Outcome::Met);
/// assert_eq!(verdict.description, "combined score 72 >= 60");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub enum Condition {
    /// A score dimension (or a named side score) at least a number of points.
    /// Unknown when the lead has no scores.
    ScoreAtLeast {
        /// Which dimension.
        dimension: Dimension,
        /// The threshold, inclusive.
        at_least: Points,
        /// A named side score instead of the main one
        /// ([`Scores::named`](crate::Scores::named)); `dimension` is then ignored.
        score: Option<String>,
    },
    /// The fit grade at least this good (`B` accepts A and B). Unknown when
    /// the lead has no grade.
    FitGradeAtLeast {
        /// The worst accepted grade.
        grade: Grade,
    },
    /// The engagement level at least this engaged (`2` accepts 1 and 2).
    /// Unknown when the lead has no level.
    EngagementLevelAtLeast {
        /// The least engaged accepted level.
        level: EngagementLevel,
    },
    /// The lead did a matching action, optionally within a window.
    DidAction {
        /// Which events count.
        action: EventMatcher,
        /// Only events this recent; all time when absent.
        within: Option<Span>,
    },
    /// The lead did matching actions at least `at_least` times.
    ActionCount {
        /// Which events count.
        action: EventMatcher,
        /// How many, inclusive.
        at_least: u32,
        /// Only events this recent; all time when absent.
        within: Option<Span>,
    },
    /// Distinct visits to a page category at least `at_least` times: page
    /// views less than `session_gap` after the previous one are the same
    /// visit. "3 visits to product pages" is the classic sales-ready signal.
    RepeatVisits {
        /// The page category.
        page: PageCategory,
        /// How many distinct visits, inclusive.
        at_least: u32,
        /// Only visits this recent; all time when absent.
        within: Option<Span>,
        /// Views closer than this belong to one visit (default 30 minutes).
        session_gap: Span,
    },
    /// An attribute satisfies a predicate. Unknown when the attribute is
    /// unknown, except for [`Predicate::Missing`], which is then met.
    Attribute {
        /// The attribute name (see [`Lead::attribute`](crate::Lead::attribute)).
        key: String,
        /// The test.
        predicate: Predicate,
    },
    /// At least `at_least` checklist items are met (k of n). Met when k items
    /// are met, not met when even counting every unknown item fewer than k
    /// could be, unknown otherwise.
    Checklist {
        /// A standard framework whose items to use when `items` is empty.
        framework: Option<Framework>,
        /// The item names.
        items: Vec<String>,
        /// How many must be met.
        at_least: u32,
    },
    /// Every part holds.
    All {
        /// The parts.
        of: Vec<Condition>,
    },
    /// At least one part holds.
    Any {
        /// The parts.
        of: Vec<Condition>,
    },
    /// The part does not hold.
    Not {
        /// The part.
        of: Box<Condition>,
    },
    /// A criterion implemented in code, registered by name in a
    /// [`CriteriaRegistry`] and bound with [`Condition::bind`].
    Custom {
        /// The registered name.
        name: String,
        /// The bound implementation (not serialized).
        bound: Binding,
    },
}

fn default_session_gap() -> Span {
    Span::minutes(30)
}

/// The implementation a [`Condition::Custom`] is bound to. Compares equal
/// regardless of binding: conditions compare by their data.
#[derive(Clone, Default)]
pub struct Binding(Option<Arc<dyn Criterion>>);

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "bound" } else { "unbound" })
    }
}

impl PartialEq for Binding {
    fn eq(&self, _: &Binding) -> bool {
        true
    }
}

impl Condition {
    /// A dimension's score at least `at_least` points.
    pub fn score_at_least(dimension: Dimension, at_least: impl Into<Points>) -> Condition {
        Condition::ScoreAtLeast {
            dimension,
            at_least: at_least.into(),
            score: None,
        }
    }

    /// The fit grade at least `grade`.
    pub fn fit_grade_at_least(grade: Grade) -> Condition {
        Condition::FitGradeAtLeast { grade }
    }

    /// Did a matching action, ever.
    pub fn did(action: impl Into<EventMatcher>) -> Condition {
        Condition::DidAction {
            action: action.into(),
            within: None,
        }
    }

    /// Did a matching action within a window.
    pub fn did_within(action: impl Into<EventMatcher>, within: Span) -> Condition {
        Condition::DidAction {
            action: action.into(),
            within: Some(within),
        }
    }

    /// Did matching actions at least `at_least` times, optionally within a window.
    pub fn count(action: impl Into<EventMatcher>, at_least: u32, within: Option<Span>) -> Condition {
        Condition::ActionCount {
            action: action.into(),
            at_least,
            within,
        }
    }

    /// At least `at_least` distinct visits to a page category, with the
    /// default 30-minute session gap.
    pub fn repeat_visits(page: PageCategory, at_least: u32, within: Option<Span>) -> Condition {
        Condition::RepeatVisits {
            page,
            at_least,
            within,
            session_gap: default_session_gap(),
        }
    }

    /// An attribute predicate.
    pub fn attribute(key: impl Into<String>, predicate: Predicate) -> Condition {
        Condition::Attribute {
            key: key.into(),
            predicate,
        }
    }

    /// At least `at_least` items of a framework met (e.g. BANT 3 of 4).
    pub fn checklist(framework: Framework, at_least: u32) -> Condition {
        Condition::Checklist {
            framework: Some(framework),
            items: Vec::new(),
            at_least,
        }
    }

    /// Every part holds.
    pub fn all(of: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::All {
            of: of.into_iter().collect(),
        }
    }

    /// At least one part holds.
    pub fn any(of: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::Any {
            of: of.into_iter().collect(),
        }
    }

    /// The part does not hold.
    pub fn negate(of: Condition) -> Condition {
        Condition::Not { of: Box::new(of) }
    }

    /// A custom criterion by registered name, unbound.
    pub fn custom(name: impl Into<String>) -> Condition {
        Condition::Custom {
            name: name.into(),
            bound: Binding::default(),
        }
    }

    /// Binds every custom criterion in the tree to its implementation in
    /// `registry`.
    ///
    /// # Errors
    ///
    /// [`CriteriaError::Unbound`] naming the first custom criterion the
    /// registry does not have, [`CriteriaError::TooDeep`] for a condition
    /// nested deeper than [`MAX_CONDITION_DEPTH`]; nothing is bound then.
    pub fn bind(&mut self, registry: &CriteriaRegistry) -> Result<(), CriteriaError> {
        self.check_bindable(registry, "$", 1)?;
        self.bind_all(registry);
        Ok(())
    }

    fn check_bindable(
        &self,
        registry: &CriteriaRegistry,
        path: &str,
        depth: usize,
    ) -> Result<(), CriteriaError> {
        if depth > MAX_CONDITION_DEPTH {
            return Err(CriteriaError::too_deep(path));
        }
        match self {
            Condition::Custom { name, .. } if registry.get(name).is_none() => Err(CriteriaError::Unbound {
                name: name.clone(),
                path: path.to_owned(),
                registered: registry.names().collect::<Vec<_>>().join(", "),
            }),
            Condition::All { of } | Condition::Any { of } => of
                .iter()
                .enumerate()
                .try_for_each(|(i, c)| c.check_bindable(registry, &format!("{path}.of[{i}]"), depth + 1)),
            Condition::Not { of } => of.check_bindable(registry, &format!("{path}.of"), depth + 1),
            _ => Ok(()),
        }
    }

    fn bind_all(&mut self, registry: &CriteriaRegistry) {
        match self {
            Condition::Custom { name, bound } => bound.0 = registry.get(name).cloned(),
            Condition::All { of } | Condition::Any { of } => of.iter_mut().for_each(|c| c.bind_all(registry)),
            Condition::Not { of } => of.bind_all(registry),
            _ => {}
        }
    }

    /// Checks the condition can be evaluated meaningfully: it nests at most
    /// [`MAX_CONDITION_DEPTH`] deep, combinators have parts, counts are
    /// positive, windows non-zero, matchers and predicates valid, checklists
    /// ask for 1..=n items, custom criteria bound.
    ///
    /// # Errors
    ///
    /// [`CriteriaError`] with the path of the offending part (`$.of[1]`).
    ///
    /// # Example
    ///
    /// ```
    /// use leadflow::criteria::{Condition, CriteriaError, MAX_CONDITION_DEPTH};
    /// use leadflow::Predicate;
    ///
    /// let mut deep = Condition::attribute("industry", Predicate::Exists);
    /// for _ in 0..MAX_CONDITION_DEPTH {
    ///     deep = Condition::negate(deep);
    /// }
    /// assert_eq!(deep.depth(), MAX_CONDITION_DEPTH + 1);
    /// assert!(matches!(deep.validate(), Err(CriteriaError::TooDeep { max: MAX_CONDITION_DEPTH, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), CriteriaError> {
        self.validate_at("$", 1)
    }

    fn validate_at(&self, path: &str, depth: usize) -> Result<(), CriteriaError> {
        if depth > MAX_CONDITION_DEPTH {
            return Err(CriteriaError::too_deep(path));
        }
        let matcher = |m: &EventMatcher| {
            m.validate().map_err(|source| CriteriaError::Matcher {
                path: path.to_owned(),
                source,
            })
        };
        let window = |w: &Option<Span>| match w {
            Some(w) if w.is_zero() => Err(CriteriaError::ZeroWindow {
                path: path.to_owned(),
            }),
            _ => Ok(()),
        };
        let positive = |n: u32, what: &'static str| {
            if n == 0 {
                Err(CriteriaError::ZeroCount {
                    what,
                    path: path.to_owned(),
                })
            } else {
                Ok(())
            }
        };
        match self {
            Condition::ScoreAtLeast { .. }
            | Condition::FitGradeAtLeast { .. }
            | Condition::EngagementLevelAtLeast { .. } => Ok(()),
            Condition::DidAction { action, within } => {
                matcher(action)?;
                window(within)
            }
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => {
                matcher(action)?;
                positive(*at_least, "action_count")?;
                window(within)
            }
            Condition::RepeatVisits { at_least, within, .. } => {
                positive(*at_least, "repeat_visits")?;
                window(within)
            }
            Condition::Attribute { predicate, .. } => {
                predicate.validate().map_err(|source| CriteriaError::Matcher {
                    path: path.to_owned(),
                    source,
                })
            }
            Condition::Checklist { at_least, .. } => {
                let items = self.checklist_items().len();
                if *at_least == 0 || *at_least as usize > items {
                    return Err(CriteriaError::ChecklistBounds {
                        at_least: *at_least,
                        items,
                        path: path.to_owned(),
                    });
                }
                Ok(())
            }
            Condition::All { of } | Condition::Any { of } => {
                if of.is_empty() {
                    return Err(CriteriaError::EmptyCombinator {
                        combinator: if matches!(self, Condition::All { .. }) {
                            "all"
                        } else {
                            "any"
                        },
                        path: path.to_owned(),
                    });
                }
                of.iter()
                    .enumerate()
                    .try_for_each(|(i, c)| c.validate_at(&format!("{path}.of[{i}]"), depth + 1))
            }
            Condition::Not { of } => of.validate_at(&format!("{path}.of"), depth + 1),
            Condition::Custom { name, bound } => match bound.0 {
                Some(_) => Ok(()),
                None => Err(CriteriaError::Unbound {
                    name: name.clone(),
                    path: path.to_owned(),
                    registered: String::new(),
                }),
            },
        }
    }

    /// Calls `f` with every event matcher of a `did` or `count` condition in
    /// the tree, and its window.
    /// Parts nested deeper than [`MAX_CONDITION_DEPTH`] are not walked.
    pub(crate) fn for_each_action(&self, f: &mut dyn FnMut(&EventMatcher, Option<Span>)) {
        self.for_each_action_at(f, 1);
    }

    fn for_each_action_at(&self, f: &mut dyn FnMut(&EventMatcher, Option<Span>), depth: usize) {
        if depth > MAX_CONDITION_DEPTH {
            return;
        }
        match self {
            Condition::DidAction { action, within } | Condition::ActionCount { action, within, .. } => {
                f(action, *within);
            }
            Condition::All { of } | Condition::Any { of } => {
                of.iter().for_each(|c| c.for_each_action_at(f, depth + 1));
            }
            Condition::Not { of } => of.for_each_action_at(f, depth + 1),
            _ => {}
        }
    }

    /// True when the tree holds no custom criterion: its outcome depends on
    /// nothing but the view. False for a tree deeper than
    /// [`MAX_CONDITION_DEPTH`] (not walked).
    pub(crate) fn is_builtin(&self) -> bool {
        self.is_builtin_at(1)
    }

    fn is_builtin_at(&self, depth: usize) -> bool {
        if depth > MAX_CONDITION_DEPTH {
            return false;
        }
        match self {
            Condition::Custom { .. } => false,
            Condition::All { of } | Condition::Any { of } => of.iter().all(|c| c.is_builtin_at(depth + 1)),
            Condition::Not { of } => of.is_builtin_at(depth + 1),
            _ => true,
        }
    }

    /// True when evaluating may read the lead's scores (custom criteria
    /// may): where no criterion does, scores need not be computed. True for
    /// a condition nested deeper than [`MAX_CONDITION_DEPTH`] (not walked).
    pub(crate) fn reads_scores(&self) -> bool {
        self.reads_scores_at(1)
    }

    fn reads_scores_at(&self, depth: usize) -> bool {
        if depth > MAX_CONDITION_DEPTH {
            return true;
        }
        match self {
            Condition::ScoreAtLeast { .. }
            | Condition::FitGradeAtLeast { .. }
            | Condition::EngagementLevelAtLeast { .. }
            | Condition::Custom { .. } => true,
            Condition::DidAction { .. }
            | Condition::ActionCount { .. }
            | Condition::RepeatVisits { .. }
            | Condition::Attribute { .. }
            | Condition::Checklist { .. } => false,
            Condition::All { of } | Condition::Any { of } => of.iter().any(|c| c.reads_scores_at(depth + 1)),
            Condition::Not { of } => of.reads_scores_at(depth + 1),
        }
    }

    fn checklist_items(&self) -> Vec<&str> {
        match self {
            Condition::Checklist { framework, items, .. } => {
                if items.is_empty() {
                    framework.map(|f| f.items().to_vec()).unwrap_or_default()
                } else {
                    items.iter().map(String::as_str).collect()
                }
            }
            _ => Vec::new(),
        }
    }
}

mod data;
mod deep;
mod eval;
#[cfg(test)]
mod tests;
mod text;
