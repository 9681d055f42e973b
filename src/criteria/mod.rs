//! Pluggable qualification criteria.
//!
//! A criterion answers "does this lead qualify, now?" with a [`Verdict`]: an
//! [`Outcome`] (met, not met, or unknown when the data to decide is missing)
//! and the reasons, including which sub-criteria held. Automatic lifecycle
//! edges fire on criteria, and the verdict travels with the transition, so
//! every automatic transition can be explained.
//!
//! There are two kinds:
//!
//! - [`Condition`]: the serializable built-ins (score at least, fit grade at
//!   least, did an action within a window, count of actions, repeat visits,
//!   attribute predicates, checklists such as BANT, and `all`/`any`/`not`
//!   combinators). Models defined as data use these.
//! - Your own: implement [`Criterion`], register it by name in a
//!   [`CriteriaRegistry`], and refer to it from data as
//!   `{"type": "custom", "name": "..."}`.
//!
//! # Example: "MQL when the score reaches 60 or a pricing sheet is downloaded"
//!
//! ```
//! use leadflow::criteria::Condition;
//! use leadflow::{AssetType, Dimension, EventMatcher};
//!
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//!
//! let from_json: Condition = serde_json::from_str(r#"{"type": "any", "of": [
//!     {"type": "score_at_least", "dimension": "combined", "at_least": 60},
//!     {"type": "did_action", "action": {"event": "content_download", "asset": "pricing_sheet"}}
//! ]}"#)?;
//! assert_eq!(mql, from_json);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checklist;
mod condition;
mod events;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::lead::Lead;
use crate::matcher::MatcherError;
use crate::scores::Scores;
use crate::span::Span;
use crate::stage::Stage;

pub use checklist::{Checklist, ChecklistItem, Framework};
pub(crate) use condition::Probe;
pub use condition::{Condition, MAX_CONDITION_DEPTH};
pub use events::{EventRef, Events};
pub(crate) use events::{KeptEvents, Window};

/// A qualification criterion. Object safe: stored as `Arc<dyn Criterion>`.
///
/// Implement it for criteria the built-in [`Condition`]s cannot express, then
/// register it in a [`CriteriaRegistry`].
///
/// A criterion must be a pure function of the view and `now`: the same inputs
/// must always give the same verdict, so replays are exact. Events later than
/// `now` must be ignored (they have not happened yet).
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use leadflow::criteria::{Criterion, LeadView, Outcome, Verdict};
///
/// /// Leads from the company's own domain never qualify.
/// #[derive(Debug)]
/// struct NotInternal;
///
/// impl Criterion for NotInternal {
///     fn evaluate(&self, lead: &LeadView<'_>, _now: DateTime<Utc>) -> Verdict {
///         match lead.lead.person.email_domain.as_deref() {
///             None => Verdict::leaf(Outcome::Unknown, "email domain unknown"),
///             Some("example.com") => Verdict::leaf(Outcome::NotMet, "internal address"),
///             Some(d) => Verdict::leaf(Outcome::Met, format!("external domain {d}")),
///         }
///     }
/// }
/// ```
pub trait Criterion: fmt::Debug + Send + Sync {
    /// Evaluates the criterion for a lead at `now`, with the reasons.
    fn evaluate(&self, lead: &LeadView<'_>, now: DateTime<Utc>) -> Verdict;

    /// Only the outcome. Override when it can be computed without building
    /// the explanation (hot paths call this); an override must give the
    /// outcome [`evaluate`](Criterion::evaluate) gives (combinators take
    /// their children's outcomes from one or the other).
    fn outcome(&self, lead: &LeadView<'_>, now: DateTime<Utc>) -> Outcome {
        self.evaluate(lead, now).outcome
    }

    /// How far back from `now` the criterion reads
    /// [`LeadView::events`]. The [`Engine`](crate::Engine) keeps each
    /// lead's events at least that long, so override it when you can: the
    /// default, [`EventHorizon::All`], makes the engine keep every event of
    /// every lead; a criterion that reads no events should say
    /// [`EventHorizon::None`].
    fn event_horizon(&self) -> EventHorizon {
        EventHorizon::All
    }
}

/// How far back in time a [`Criterion`] reads a lead's events.
///
/// ```
/// use leadflow::criteria::{Condition, Criterion, EventHorizon};
/// use leadflow::{EventMatcher, EventType, Span};
///
/// let recent = Condition::did_within(EventMatcher::of(EventType::DemoRequest), Span::days(30));
/// assert_eq!(recent.event_horizon(), EventHorizon::Within(Span::days(30)));
/// // The built-in conditions count older events without reading them.
/// let ever = Condition::did(EventMatcher::of(EventType::DemoRequest));
/// assert_eq!(ever.event_horizon(), EventHorizon::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "span", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventHorizon {
    /// Reads no events.
    None,
    /// Reads events at most this old.
    Within(Span),
    /// May read any event, however old.
    All,
}

impl EventHorizon {
    /// The longer of two horizons.
    pub fn max(self, other: EventHorizon) -> EventHorizon {
        match (self, other) {
            (EventHorizon::All, _) | (_, EventHorizon::All) => EventHorizon::All,
            (EventHorizon::Within(a), EventHorizon::Within(b)) => EventHorizon::Within(a.max(b)),
            (EventHorizon::Within(a), EventHorizon::None) | (EventHorizon::None, EventHorizon::Within(a)) => {
                EventHorizon::Within(a)
            }
            (EventHorizon::None, EventHorizon::None) => EventHorizon::None,
        }
    }
}

/// Everything a criterion may look at for one lead.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::criteria::LeadView;
/// use leadflow::{Lead, LeadId, Points, Scores};
///
/// let lead = Lead::new(LeadId::new("l1")?, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
/// let scores = Scores { combined: Points::new(70), ..Scores::default() };
/// let view = LeadView::new(&lead).with_scores(&scores);
/// assert_eq!(view.scores.map(|s| s.combined), Some(Points::new(70)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LeadView<'a> {
    /// The lead's attributes and source.
    pub lead: &'a Lead,
    /// The lead's events, in any order. Criteria ignore events after `now`.
    pub events: Events<'a>,
    /// The lead's current scores, if scored.
    pub scores: Option<&'a Scores>,
    /// Qualification evidence gathered by sales (BANT answers...), if any.
    pub checklist: Option<&'a Checklist>,
    /// The lead's current lifecycle stage, if it has one.
    pub stage: Option<Stage>,
}

impl<'a> LeadView<'a> {
    /// A view of a lead with no events, scores, checklist or stage.
    pub fn new(lead: &'a Lead) -> LeadView<'a> {
        LeadView {
            lead,
            events: Events::EMPTY,
            scores: None,
            checklist: None,
            stage: None,
        }
    }

    /// Sets the events.
    pub fn with_events(mut self, events: &'a [Event]) -> LeadView<'a> {
        self.events = Events::from(events);
        self
    }

    /// Sets the scores.
    pub fn with_scores(mut self, scores: &'a Scores) -> LeadView<'a> {
        self.scores = Some(scores);
        self
    }

    /// Sets the checklist.
    pub fn with_checklist(mut self, checklist: &'a Checklist) -> LeadView<'a> {
        self.checklist = Some(checklist);
        self
    }

    /// Sets the stage.
    pub fn with_stage(mut self, stage: Stage) -> LeadView<'a> {
        self.stage = Some(stage);
        self
    }
}

/// Whether a criterion holds: three-valued, so that missing data (an unknown
/// attribute, an unanswered BANT question) is neither a yes nor a no.
///
/// Combinators follow Kleene's logic: `all` is met only if every part is met
/// and not met if any part is not met; `any` is met if any part is met;
/// `not` swaps met and not met and keeps unknown. Automatic transitions fire
/// only on [`Outcome::Met`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The criterion holds.
    Met,
    /// The criterion does not hold.
    NotMet,
    /// Not enough is known to decide.
    Unknown,
}

impl Outcome {
    /// `Met` for true, `NotMet` for false.
    pub fn from_bool(b: bool) -> Outcome {
        if b { Outcome::Met } else { Outcome::NotMet }
    }

    /// True for [`Outcome::Met`].
    pub fn is_met(self) -> bool {
        self == Outcome::Met
    }

    /// Kleene conjunction.
    pub fn and(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::NotMet, _) | (_, Outcome::NotMet) => Outcome::NotMet,
            (Outcome::Met, Outcome::Met) => Outcome::Met,
            _ => Outcome::Unknown,
        }
    }

    /// Kleene disjunction.
    pub fn or(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Met, _) | (_, Outcome::Met) => Outcome::Met,
            (Outcome::NotMet, Outcome::NotMet) => Outcome::NotMet,
            _ => Outcome::Unknown,
        }
    }

    /// Kleene negation.
    pub fn negate(self) -> Outcome {
        match self {
            Outcome::Met => Outcome::NotMet,
            Outcome::NotMet => Outcome::Met,
            Outcome::Unknown => Outcome::Unknown,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Met => "met",
            Outcome::NotMet => "not met",
            Outcome::Unknown => "unknown",
        })
    }
}

/// The outcome of a criterion and why: a tree mirroring the criterion, each
/// node with a readable description carrying the values it looked at.
///
/// Its `Display` prints the tree, one node a line:
///
/// ```text
/// [met] any of 2
///   [met] combined score 72 >= 60
///   [not met] did content_download(pricing_sheet): never
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// Whether it holds.
    pub outcome: Outcome,
    /// What was tested and with which values.
    pub description: String,
    /// The verdicts of the sub-criteria, for combinators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Verdict>,
}

impl Verdict {
    /// A verdict without sub-criteria.
    pub fn leaf(outcome: Outcome, description: impl Into<String>) -> Verdict {
        Verdict {
            outcome,
            description: description.into(),
            children: Vec::new(),
        }
    }

    /// The descriptions of the leaf criteria that were met: the short answer
    /// to "why did this qualify?".
    pub fn met_reasons(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_met(&mut out);
        out
    }

    fn collect_met<'a>(&'a self, out: &mut Vec<&'a str>) {
        if self.outcome != Outcome::Met {
            return;
        }
        if self.children.is_empty() {
            out.push(&self.description);
        } else {
            for c in &self.children {
                c.collect_met(out);
            }
        }
    }

    fn fmt_indented(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        writeln!(
            f,
            "{:width$}[{}] {}",
            "",
            self.outcome,
            self.description,
            width = depth * 2
        )?;
        for c in &self.children {
            c.fmt_indented(f, depth + 1)?;
        }
        Ok(())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_indented(f, 0)
    }
}

/// Custom criteria by name, for binding `{"type": "custom", "name": ...}`
/// conditions loaded from data.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use leadflow::criteria::{Condition, CriteriaRegistry, Criterion, LeadView, Outcome, Verdict};
///
/// #[derive(Debug)]
/// struct Always;
/// impl Criterion for Always {
///     fn evaluate(&self, _: &LeadView<'_>, _: DateTime<Utc>) -> Verdict {
///         Verdict::leaf(Outcome::Met, "always")
///     }
/// }
///
/// let mut registry = CriteriaRegistry::new();
/// registry.register("always", Always);
/// let mut c = Condition::all([Condition::custom("always")]);
/// assert!(c.validate().is_err()); // not bound yet
/// c.bind(&registry)?;
/// c.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CriteriaRegistry {
    criteria: IndexMap<String, Arc<dyn Criterion>>,
}

impl CriteriaRegistry {
    /// An empty registry.
    pub fn new() -> CriteriaRegistry {
        CriteriaRegistry::default()
    }

    /// Registers a criterion under a name, replacing any earlier one.
    pub fn register(&mut self, name: impl Into<String>, criterion: impl Criterion + 'static) {
        self.criteria.insert(name.into(), Arc::new(criterion));
    }

    /// Registers a shared criterion under a name.
    pub fn register_arc(&mut self, name: impl Into<String>, criterion: Arc<dyn Criterion>) {
        self.criteria.insert(name.into(), criterion);
    }

    /// The criterion registered under `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Criterion>> {
        self.criteria.get(name)
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.criteria.keys().map(String::as_str)
    }
}

/// Why a [`Condition`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CriteriaError {
    /// `all` or `any` with no parts.
    #[error("{combinator} at {path} has no parts: give at least one condition")]
    EmptyCombinator {
        /// `"all"` or `"any"`.
        combinator: &'static str,
        /// Where in the condition tree (e.g. `$.of[1]`).
        path: String,
    },
    /// A checklist asking for more items than it has, or for none.
    #[error("checklist at {path} needs {at_least} of {items} items: use 1 to {items}")]
    ChecklistBounds {
        /// How many were asked for.
        at_least: u32,
        /// How many items there are.
        items: usize,
        /// Where in the condition tree.
        path: String,
    },
    /// A count threshold of zero, which always holds.
    #[error("{what} at {path} has at_least 0, which always holds: use 1 or more")]
    ZeroCount {
        /// Which condition.
        what: &'static str,
        /// Where in the condition tree.
        path: String,
    },
    /// A window of zero length, which never holds.
    #[error("window at {path} is zero: give a positive span like \"30d\", or leave it out for all time")]
    ZeroWindow {
        /// Where in the condition tree.
        path: String,
    },
    /// A custom criterion not bound to an implementation.
    #[error(
        "custom criterion {name:?} at {path} is not bound: register it and call bind (registered: {registered})"
    )]
    Unbound {
        /// The criterion's name.
        name: String,
        /// Where in the condition tree.
        path: String,
        /// The names the registry offered, comma-separated.
        registered: String,
    },
    /// An invalid event matcher or predicate.
    #[error("at {path}: {source}")]
    Matcher {
        /// Where in the condition tree.
        path: String,
        /// The problem.
        source: MatcherError,
    },
    /// A condition nested deeper than [`MAX_CONDITION_DEPTH`].
    #[error(
        "condition at {path} is nested deeper than {max} levels (MAX_CONDITION_DEPTH): flatten nested all, any and not"
    )]
    TooDeep {
        /// The first part beyond the limit (e.g. `$.of.of[0]`).
        path: String,
        /// [`MAX_CONDITION_DEPTH`].
        max: usize,
    },
}

impl CriteriaError {
    /// [`CriteriaError::TooDeep`] at `path`.
    pub(crate) fn too_deep(path: &str) -> CriteriaError {
        CriteriaError::TooDeep {
            path: path.to_owned(),
            max: MAX_CONDITION_DEPTH,
        }
    }
}
