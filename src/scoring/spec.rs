//! The definition of a scoring model as data, before validation: what
//! models serialize to and what the chained methods build.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::rule::{Floor, GradeBand, Group, LevelBand, NamedScore, Rule};
use crate::id::{GroupId, ModelVersion};
use crate::points::Points;
use crate::span::Span;

/// The definition of a [`ScoringModel`](super::ScoringModel) as data, before validation.
///
/// This is what models serialize to (JSON, TOML...). Build it in code with
/// the chained methods, or deserialize a [`ScoringModel`](super::ScoringModel) directly (which
/// validates). [`build`](Self::build) validates once.
///
/// # Example
///
/// ```
/// use leadflow::scoring::{Decay, Group, Rule};
/// use leadflow::{EventType, Predicate, ScoringModel, Span};
///
/// let model = ScoringModel::builder("demo@1".parse()?)
///     .rule(Rule::event("demo".parse()?, EventType::DemoRequest, 40).group("intent".parse()?))
///     .rule(Rule::event("pricing".parse()?, EventType::PageView, 10).group("web".parse()?).unlimited())
///     .rule(Rule::attribute("big".parse()?, "employees", Predicate::at_least(200.0), 15))
///     .group("web".parse()?, Group::new().cap(30).decay(Decay::half_life(Span::days(30))))
///     .build()?;
/// assert_eq!(model.rules().len(), 3);
///
/// let dup = ScoringModel::builder("demo@2".parse()?)
///     .rule(Rule::event("demo".parse()?, EventType::DemoRequest, 40))
///     .rule(Rule::event("demo".parse()?, EventType::ContactRequest, 30))
///     .build();
/// assert!(dup.unwrap_err().to_string().contains("\"demo\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringModelBuilder {
    pub(super) version: ModelVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) calendar_offset: Option<Span>,
    #[serde(default)]
    pub(super) floor: Floor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fit_cap: Option<Points>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) engagement_cap: Option<Points>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) fit_grades: Vec<GradeBand>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) engagement_levels: Vec<LevelBand>,
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    pub(super) groups: IndexMap<GroupId, Group>,
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    pub(super) named: IndexMap<String, NamedScore>,
    #[serde(default)]
    pub(super) rules: Vec<Rule>,
}

impl ScoringModelBuilder {
    /// An empty model definition with a version.
    pub fn new(version: ModelVersion) -> ScoringModelBuilder {
        ScoringModelBuilder {
            version,
            description: None,
            calendar_offset: None,
            floor: Floor::Zero,
            fit_cap: None,
            engagement_cap: None,
            fit_grades: Vec::new(),
            engagement_levels: Vec::new(),
            groups: IndexMap::new(),
            named: IndexMap::new(),
            rules: Vec::new(),
        }
    }

    /// Sets the version stamped on every score.
    pub fn version(mut self, version: ModelVersion) -> Self {
        self.version = version;
        self
    }

    /// Adds a description.
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets where calendar buckets start: the buckets of
    /// [`Limit::OncePer`](super::Limit::OncePer) and the steps of [`Decay::Step`](super::Decay::Step) start at the
    /// Unix epoch plus this offset, every period (default: no offset, so
    /// days start at midnight UTC and weeks on Thursday, the epoch's day).
    /// `5h` makes days start at midnight UTC−5; `4d` makes weeks start on
    /// Monday (UTC).
    ///
    /// ```
    /// use leadflow::scoring::Rule;
    /// use leadflow::{EventType, ScoringModel, Span};
    ///
    /// let model = ScoringModel::builder("m@1".parse()?)
    ///     .calendar_offset(Span::hours(5))
    ///     .rule(Rule::event("open".parse()?, EventType::EmailOpen, 1).once_per(Span::days(1)))
    ///     .build()?;
    /// assert_eq!(model.calendar_offset(), Span::hours(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn calendar_offset(mut self, offset: Span) -> Self {
        self.calendar_offset = Some(offset);
        self
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Declares (or replaces) a group's settings.
    pub fn group(mut self, name: GroupId, group: Group) -> Self {
        self.groups.insert(name, group);
        self
    }

    /// Caps the fit score (before the floor).
    pub fn fit_cap(mut self, cap: impl Into<Points>) -> Self {
        self.fit_cap = Some(cap.into());
        self
    }

    /// Caps the engagement score (before the floor).
    pub fn engagement_cap(mut self, cap: impl Into<Points>) -> Self {
        self.engagement_cap = Some(cap.into());
        self
    }

    /// Sets the floor policy (default [`Floor::Zero`]).
    pub fn floor(mut self, floor: Floor) -> Self {
        self.floor = floor;
        self
    }

    /// Sets the fit grade bands, best first; the last band takes every lower
    /// score.
    pub fn fit_grades(mut self, bands: impl IntoIterator<Item = GradeBand>) -> Self {
        self.fit_grades = bands.into_iter().collect();
        self
    }

    /// Sets the engagement level bands, most engaged (level 1) first; the
    /// last band takes every lower score.
    pub fn engagement_levels(mut self, bands: impl IntoIterator<Item = LevelBand>) -> Self {
        self.engagement_levels = bands.into_iter().collect();
        self
    }

    /// Adds a named side score.
    pub fn named(mut self, name: impl Into<String>, score: NamedScore) -> Self {
        self.named.insert(name.into(), score);
        self
    }
}
