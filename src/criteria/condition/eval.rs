//! Evaluating a condition, three ways that must agree: the verdict with its
//! explanation ([`Criterion::evaluate`]), the bare outcome
//! ([`Criterion::outcome`]), and the bounded outcome from what a [`Probe`]
//! can say cheaply (the engine's gate).

use std::fmt;

use chrono::{DateTime, Utc};

use super::text::{Times, Within, text};
use super::{
    Checklist, Condition, Criterion, EventHorizon, Framework, LeadView, MAX_CONDITION_DEPTH, Outcome, Verdict,
};
use crate::criteria::events::Window;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::Dimension;

impl Condition {
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

impl Criterion for Condition {
    /// Windowed conditions read their window; `did` and `count` without a
    /// window read only counts of older events (every [`Events`] source
    /// keeps those); repeat visits without a window read every page view.
    ///
    /// [`Events`]: crate::criteria::Events
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

fn score_of(view: &LeadView<'_>, dimension: Dimension, score: Option<&str>) -> Option<Points> {
    let scores = view.scores?;
    match score {
        Some(name) => scores.named.get(name).copied(),
        None => Some(scores.get(dimension)),
    }
}
