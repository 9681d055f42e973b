//! The built-in, serializable criteria.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::events::Window;
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

    /// The outcome from what a [`Probe`] can say cheaply: an outcome it
    /// cannot decide is [`Outcome::Unknown`] (Kleene logic keeps that
    /// sound), so [`Outcome::NotMet`] here means the condition is not met
    /// (and `Met` that it is) whatever the rest of the lead.
    /// Parts nested deeper than [`MAX_CONDITION_DEPTH`] are unknown.
    pub(crate) fn bounded(&self, probe: &dyn Probe, now: DateTime<Utc>) -> Outcome {
        self.bounded_at(probe, now, 1)
    }

    fn bounded_at(&self, probe: &dyn Probe, now: DateTime<Utc>, depth: usize) -> Outcome {
        if depth > MAX_CONDITION_DEPTH {
            return Outcome::Unknown;
        }
        match self {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            } => match (score, probe.score(*dimension)) {
                (None, Some((got, true))) => reaches(Some(got), *at_least),
                // An upper bound below the threshold rules it out.
                (None, Some((bound, false))) if bound < *at_least => Outcome::NotMet,
                _ => Outcome::Unknown,
            },
            Condition::DidAction { action, within } => probe
                .count(action, Window::new(now, *within), 1)
                .map_or(Outcome::Unknown, |n| Outcome::from_bool(n > 0)),
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => {
                let needs = *at_least as usize;
                probe
                    .count(action, Window::new(now, *within), needs)
                    .map_or(Outcome::Unknown, |n| Outcome::from_bool(n >= needs))
            }
            Condition::Attribute { key, predicate } => match probe.lead() {
                Some(lead) => lead
                    .attribute(key)
                    .map_or_else(|| unset(predicate), |v| Outcome::from_bool(predicate.test(v))),
                None => Outcome::Unknown,
            },
            Condition::All { of } => {
                let mut acc = Outcome::Met;
                for c in of {
                    acc = acc.and(c.bounded_at(probe, now, depth + 1));
                    if acc == Outcome::NotMet {
                        break;
                    }
                }
                acc
            }
            Condition::Any { of } => {
                let mut acc = Outcome::NotMet;
                for c in of {
                    acc = acc.or(c.bounded_at(probe, now, depth + 1));
                    if acc == Outcome::Met {
                        break;
                    }
                }
                acc
            }
            Condition::Not { of } => of.bounded_at(probe, now, depth + 1).negate(),
            Condition::FitGradeAtLeast { .. }
            | Condition::EngagementLevelAtLeast { .. }
            | Condition::RepeatVisits { .. }
            | Condition::Checklist { .. }
            | Condition::Custom { .. } => Outcome::Unknown,
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

fn checklist_counts(checklist: Option<&Checklist>, items: &[&str]) -> (usize, usize) {
    let mut met = 0;
    let mut unknown = 0;
    for item in items {
        match checklist.map_or(Outcome::Unknown, |c| c.status(item)) {
            Outcome::Met => met += 1,
            Outcome::Unknown => unknown += 1,
            Outcome::NotMet => {}
        }
    }
    (met, unknown)
}

fn k_of_n(met: usize, unknown: usize, k: u32) -> Outcome {
    let k = k as usize;
    if met >= k {
        Outcome::Met
    } else if met + unknown < k {
        Outcome::NotMet
    } else {
        Outcome::Unknown
    }
}

/// ` within 7d`, or nothing without a window.
struct Within(Option<Span>);

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(w) => write!(f, " within {w}"),
            None => Ok(()),
        }
    }
}

/// A verdict's text, written into a buffer of `room` bytes to start with,
/// a power of two no larger than the text usually needs. `format!` starts
/// from twice the literal parts (from nothing when the text starts with an
/// argument) and doubles, so a text grew its buffer up to four times; from
/// `room` it grows at most once, to about the capacity it had before
/// (texts keep their slack in the transition records: `room` is not
/// larger, so that memory stays as it was).
fn text(room: usize, args: fmt::Arguments<'_>) -> String {
    let mut s = String::with_capacity(room);
    // Writing fails only if a `Display` does; the text is then what was
    // written before.
    let _ = fmt::write(&mut s, args);
    s
}

impl Criterion for Condition {
    /// Windowed conditions read their window; `did` and `count` without a
    /// window read only counts of older events (every [`Events`] source
    /// keeps those); repeat visits without a window read every page view.
    ///
    /// [`Events`]: super::Events
    fn event_horizon(&self) -> EventHorizon {
        self.event_horizon_at(1)
    }

    /// The outcome [`evaluate`](Criterion::evaluate) gives, without the
    /// explanation.
    fn outcome(&self, view: &LeadView<'_>, now: DateTime<Utc>) -> Outcome {
        self.outcome_at(view, now, 1)
    }

    /// One pass over the tree: each node's outcome comes from what it
    /// computes for its description (a combinator's, from its children's
    /// verdicts), the same outcome [`outcome`](Criterion::outcome) gives.
    /// Parts nested deeper than [`MAX_CONDITION_DEPTH`] are not evaluated:
    /// their verdict is [`Outcome::Unknown`] (such a condition does not
    /// [`validate`](Condition::validate)).
    fn evaluate(&self, view: &LeadView<'_>, now: DateTime<Utc>) -> Verdict {
        self.verdict_at(view, now, 1)
    }
}

/// The verdict on a part nested deeper than [`MAX_CONDITION_DEPTH`].
fn too_deep_verdict() -> Verdict {
    Verdict::leaf(
        Outcome::Unknown,
        format!("nested deeper than {MAX_CONDITION_DEPTH} levels: not evaluated"),
    )
}

impl Condition {
    /// [`Criterion::event_horizon`] at `depth` (the root is 1): every event
    /// for parts nested deeper than [`MAX_CONDITION_DEPTH`] (not walked).
    fn event_horizon_at(&self, depth: usize) -> EventHorizon {
        if depth > MAX_CONDITION_DEPTH {
            return EventHorizon::All;
        }
        match self {
            Condition::DidAction { within, .. } | Condition::ActionCount { within, .. } => {
                within.map_or(EventHorizon::None, EventHorizon::Within)
            }
            Condition::RepeatVisits { within, .. } => within.map_or(EventHorizon::All, EventHorizon::Within),
            Condition::All { of } | Condition::Any { of } => of
                .iter()
                .fold(EventHorizon::None, |h, c| h.max(c.event_horizon_at(depth + 1))),
            Condition::Not { of } => of.event_horizon_at(depth + 1),
            Condition::Custom { bound, .. } => {
                bound.0.as_ref().map_or(EventHorizon::None, |c| c.event_horizon())
            }
            Condition::ScoreAtLeast { .. }
            | Condition::FitGradeAtLeast { .. }
            | Condition::EngagementLevelAtLeast { .. }
            | Condition::Attribute { .. }
            | Condition::Checklist { .. } => EventHorizon::None,
        }
    }

    /// [`Criterion::outcome`] of a condition at `depth` (the root is 1).
    fn outcome_at(&self, view: &LeadView<'_>, now: DateTime<Utc>, depth: usize) -> Outcome {
        if depth > MAX_CONDITION_DEPTH {
            return Outcome::Unknown;
        }
        match self {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            } => reaches(score_of(view, *dimension, score.as_deref()), *at_least),
            Condition::FitGradeAtLeast { grade } => reaches(view.scores.and_then(|s| s.fit_grade), *grade),
            Condition::EngagementLevelAtLeast { level } => {
                reaches(view.scores.and_then(|s| s.engagement_level), *level)
            }
            Condition::DidAction { action, within } => {
                Outcome::from_bool(view.events.count(action, Window::new(now, *within), 1) > 0)
            }
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => {
                let needs = *at_least as usize;
                Outcome::from_bool(view.events.count(action, Window::new(now, *within), needs) >= needs)
            }
            Condition::RepeatVisits {
                page,
                at_least,
                within,
                session_gap,
            } => Outcome::from_bool(
                view.events.visits(*page, Window::new(now, *within), *session_gap) >= *at_least,
            ),
            Condition::Attribute { key, predicate } => view
                .lead
                .attribute(key)
                .map_or_else(|| unset(predicate), |v| Outcome::from_bool(predicate.test(v))),
            Condition::Checklist { at_least, .. } => {
                let (met, unknown) = checklist_counts(view.checklist, &self.checklist_items());
                k_of_n(met, unknown, *at_least)
            }
            Condition::All { of } => {
                let mut acc = Outcome::Met;
                for c in of {
                    acc = acc.and(c.outcome_at(view, now, depth + 1));
                    if acc == Outcome::NotMet {
                        break;
                    }
                }
                acc
            }
            Condition::Any { of } => {
                let mut acc = Outcome::NotMet;
                for c in of {
                    acc = acc.or(c.outcome_at(view, now, depth + 1));
                    if acc == Outcome::Met {
                        break;
                    }
                }
                acc
            }
            Condition::Not { of } => of.outcome_at(view, now, depth + 1).negate(),
            Condition::Custom { bound, .. } => bound
                .0
                .as_ref()
                .map_or(Outcome::Unknown, |c| c.outcome(view, now)),
        }
    }

    /// [`Criterion::evaluate`] of a condition at `depth` (the root is 1).
    fn verdict_at(&self, view: &LeadView<'_>, now: DateTime<Utc>, depth: usize) -> Verdict {
        if depth > MAX_CONDITION_DEPTH {
            return too_deep_verdict();
        }
        match self {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            } => {
                let name = score.as_deref().unwrap_or(dimension.as_str());
                let got = score_of(view, *dimension, score.as_deref());
                let outcome = reaches(got, *at_least);
                Verdict::leaf(
                    outcome,
                    match got {
                        Some(p) => text(
                            32,
                            format_args!(
                                "{name} score {p} {} {at_least}",
                                if outcome == Outcome::Met { ">=" } else { "<" }
                            ),
                        ),
                        None => text(32, format_args!("{name} score unknown (needs >= {at_least})")),
                    },
                )
            }
            Condition::FitGradeAtLeast { grade } => {
                at_least_verdict("fit grade", view.scores.and_then(|s| s.fit_grade), *grade)
            }
            Condition::EngagementLevelAtLeast { level } => at_least_verdict(
                "engagement level",
                view.scores.and_then(|s| s.engagement_level),
                *level,
            ),
            Condition::DidAction { action, within } => {
                let n = view.events.count(action, Window::new(now, *within), usize::MAX);
                Verdict::leaf(
                    Outcome::from_bool(n > 0),
                    text(32, format_args!("did {action}{}: {}", Within(*within), Times(n))),
                )
            }
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => {
                let n = view.events.count(action, Window::new(now, *within), usize::MAX);
                Verdict::leaf(
                    Outcome::from_bool(n >= *at_least as usize),
                    text(
                        32,
                        format_args!("{action}{} {n} times (needs {at_least})", Within(*within)),
                    ),
                )
            }
            Condition::RepeatVisits {
                page,
                at_least,
                within,
                session_gap,
            } => {
                let n = view.events.visits(*page, Window::new(now, *within), *session_gap);
                Verdict::leaf(
                    Outcome::from_bool(n >= *at_least),
                    text(
                        32,
                        format_args!(
                            "{n} distinct visits to {page} pages{} (needs {at_least})",
                            Within(*within)
                        ),
                    ),
                )
            }
            Condition::Attribute { key, predicate } => match view.lead.attribute(key) {
                Some(v) => Verdict::leaf(
                    Outcome::from_bool(predicate.test(v)),
                    text(32, format_args!("{key} {v} {predicate}")),
                ),
                None => Verdict::leaf(
                    unset(predicate),
                    text(32, format_args!("{key} unknown (needs {predicate})")),
                ),
            },
            Condition::Checklist {
                framework, at_least, ..
            } => {
                let items = self.checklist_items();
                let (met, unknown) = checklist_counts(view.checklist, &items);
                let name = framework.map_or("checklist", Framework::as_str);
                let met_items: Vec<&str> = items
                    .iter()
                    .copied()
                    .filter(|i| view.checklist.is_some_and(|c| c.status(i) == Outcome::Met))
                    .collect();
                Verdict::leaf(
                    k_of_n(met, unknown, *at_least),
                    format!(
                        "{name} {met} of {} met, {unknown} unknown (needs {at_least}){}",
                        items.len(),
                        if met_items.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", met_items.join(", "))
                        }
                    ),
                )
            }
            Condition::All { of } | Condition::Any { of } => {
                let all = matches!(self, Condition::All { .. });
                let children: Vec<Verdict> = of.iter().map(|c| c.verdict_at(view, now, depth + 1)).collect();
                let (start, combine): (Outcome, fn(Outcome, Outcome) -> Outcome) = if all {
                    (Outcome::Met, Outcome::and)
                } else {
                    (Outcome::NotMet, Outcome::or)
                };
                Verdict {
                    outcome: children.iter().map(|c| c.outcome).fold(start, combine),
                    description: format!("{} of {}", if all { "all" } else { "any" }, of.len()),
                    children,
                }
            }
            Condition::Not { of } => {
                let inner = of.verdict_at(view, now, depth + 1);
                Verdict {
                    outcome: inner.outcome.negate(),
                    description: "not".to_owned(),
                    children: vec![inner],
                }
            }
            Condition::Custom { name, bound } => match &bound.0 {
                Some(c) => {
                    let inner = c.evaluate(view, now);
                    Verdict {
                        outcome: inner.outcome,
                        description: format!("{name}: {}", inner.description),
                        children: inner.children,
                    }
                }
                None => Verdict::leaf(
                    Outcome::Unknown,
                    format!("custom criterion {name:?} is not bound"),
                ),
            },
        }
    }
}

/// What a cheap, partial look at a lead can say: `None` where it cannot.
pub(crate) trait Probe {
    /// A main score (fit, engagement or combined), and whether it is exact
    /// (else an upper bound).
    fn score(&self, dimension: Dimension) -> Option<(Points, bool)>;
    /// How many events match within a window, counting at most `limit`.
    fn count(&self, matcher: &EventMatcher, window: Window, limit: usize) -> Option<usize>;
    /// The lead's attributes.
    fn lead(&self) -> Option<&crate::lead::Lead>;
}

/// The verdict on a grade or level `got` (unknown when `None`) needing at
/// least `needs`.
fn at_least_verdict<T: PartialOrd + fmt::Display>(what: &str, got: Option<T>, needs: T) -> Verdict {
    let outcome = reaches(got.as_ref(), &needs);
    match got {
        Some(g) => Verdict::leaf(
            outcome,
            text(32, format_args!("{what} {g} (needs {needs} or better)")),
        ),
        None => Verdict::leaf(
            outcome,
            text(32, format_args!("{what} unknown (needs {needs} or better)")),
        ),
    }
}

/// Whether `got` (unknown when `None`) is at least `needs`: the outcome of
/// the score, grade and level conditions.
fn reaches<T: PartialOrd>(got: Option<T>, needs: T) -> Outcome {
    got.map_or(Outcome::Unknown, |g| Outcome::from_bool(g >= needs))
}

/// The outcome of an attribute condition on an attribute the lead lacks:
/// met when it asks for the attribute to be missing, unknown otherwise.
fn unset(predicate: &Predicate) -> Outcome {
    match predicate {
        Predicate::Missing => Outcome::Met,
        _ => Outcome::Unknown,
    }
}

/// How many times: `never`, `once`, `3 times`.
struct Times(usize);

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("never"),
            1 => f.write_str("once"),
            n => write!(f, "{n} times"),
        }
    }
}

fn score_of(view: &LeadView<'_>, dimension: Dimension, score: Option<&str>) -> Option<Points> {
    let scores = view.scores?;
    match score {
        Some(name) => scores.named.get(name).copied(),
        None => Some(scores.get(dimension)),
    }
}

mod data;
mod deep;
#[cfg(test)]
mod tests;
