//! The model: a validated, compiled set of rules.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::decay::Decay;
use super::dispatch::DispatchTable;
use super::explain::{Explanation, settle};
use super::fold;
use super::row::Layout;
use super::rule::{Floor, GradeBand, Group, LevelBand, Limit, NamedScore, Rule, Trigger};
use crate::event::{Event, EventShape};
use crate::id::{IdError, ModelVersion};
use crate::lead::Lead;
use crate::matcher::MatcherError;
use crate::points::Points;
use crate::scores::{Dimension, Scores};
use crate::span::Span;

/// The most rules a model can have.
pub const MAX_RULES: usize = u16::MAX as usize;

/// Why a scoring model was refused. Each variant names the offending rule id
/// or the path of the offending setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A rule has an empty id.
    #[error("rule #{index} has an empty id: give every rule a unique, non-empty id")]
    EmptyRuleId {
        /// The rule's position (0-based).
        index: usize,
    },
    /// Two rules share an id.
    #[error("rule id {rule:?} is used by rules #{first} and #{second}: rule ids must be unique")]
    DuplicateRule {
        /// The id.
        rule: String,
        /// The first rule's position.
        first: usize,
        /// The second rule's position.
        second: usize,
    },
    /// A cap is below zero.
    #[error("{path}: cap {cap} is below zero: use a cap of 0 or more")]
    NegativeCap {
        /// Where: `groups.web.cap`, `fit_cap`, `named.x.cap`.
        path: String,
        /// The cap.
        cap: Points,
    },
    /// A window of zero.
    #[error("{path}: a window of 0s never counts anything: use a longer window or leave it out")]
    ZeroWindow {
        /// Where: `rules[id].within`.
        path: String,
    },
    /// A frequency limit that can never count.
    #[error("{path}: {problem}")]
    InvalidLimit {
        /// Where: `rules[id].limit`.
        path: String,
        /// What is wrong and what to do.
        problem: &'static str,
    },
    /// Bad decay parameters.
    #[error("{path}: {problem}")]
    InvalidDecay {
        /// Where: `rules[id].decay` or `groups.web.decay`.
        path: String,
        /// What is wrong and what to do.
        problem: &'static str,
    },
    /// An event matcher or predicate is invalid.
    #[error("rules[{rule}].when: {source}")]
    InvalidMatcher {
        /// The rule id.
        rule: String,
        /// The problem.
        source: MatcherError,
    },
    /// A group is declared or referenced but has no rules.
    #[error("{path} refers to group {group:?}, which has no rules: add a rule to it or remove the reference")]
    EmptyGroup {
        /// Where: `groups.x` or `named.y.groups`.
        path: String,
        /// The group.
        group: String,
    },
    /// A group mixes attribute (fit) and event (engagement) rules.
    #[error(
        "group {group:?} mixes fit (attribute) and engagement (event) rules, first at rule {rule:?}: put them in separate groups"
    )]
    MixedGroup {
        /// The group.
        group: String,
        /// The first rule of the other dimension.
        rule: String,
    },
    /// A time setting on an attribute rule, which has no time.
    #[error("rules[{rule}].{field}: attribute rules have no time, so {field} does not apply: remove it")]
    NotForAttributes {
        /// The rule id.
        rule: String,
        /// The setting: `limit`, `within` or `decay`.
        field: &'static str,
    },
    /// Grade or level bands out of order.
    #[error("{path}: bands must go from best to worst with strictly decreasing at_least: fix band #{index}")]
    BandsOutOfOrder {
        /// `fit_grades` or `engagement_levels`.
        path: &'static str,
        /// The first band out of order.
        index: usize,
    },
    /// The model version is not a valid id.
    #[error("version: {source}")]
    InvalidVersion {
        /// The problem.
        source: IdError,
    },
    /// An `all_attributes` rule without tests.
    #[error(
        "rules[{rule}].when: all_attributes has no tests, so it would match every lead: add a test or use an attribute rule"
    )]
    NoTests {
        /// The rule id.
        rule: String,
    },
    /// More rules than [`MAX_RULES`].
    #[error("the model has {count} rules: the maximum is {max}")]
    TooManyRules {
        /// The number of rules.
        count: usize,
        /// [`MAX_RULES`].
        max: usize,
    },
}

/// The definition of a [`ScoringModel`] as data, before validation.
///
/// This is what models serialize to (JSON, TOML...). Build it in code with
/// the chained methods, or deserialize a [`ScoringModel`] directly (which
/// validates). [`build`](Self::build) validates once.
///
/// # Example
///
/// ```
/// use leadflow::scoring::{Decay, Group, Rule, ScoringModel};
/// use leadflow::{EventType, Predicate, Span};
///
/// let model = ScoringModel::builder("demo@1".parse()?)
///     .rule(Rule::event("demo", EventType::DemoRequest, 40).group("intent"))
///     .rule(Rule::event("pricing", EventType::PageView, 10).group("web").unlimited())
///     .rule(Rule::attribute("big", "employees", Predicate::at_least(200.0), 15))
///     .group("web", Group::new().cap(30).decay(Decay::half_life(Span::days(30))))
///     .build()?;
/// assert_eq!(model.rules().len(), 3);
///
/// let dup = ScoringModel::builder("demo@2".parse()?)
///     .rule(Rule::event("demo", EventType::DemoRequest, 40))
///     .rule(Rule::event("demo", EventType::ContactRequest, 30))
///     .build();
/// assert!(dup.unwrap_err().to_string().contains("\"demo\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringModelBuilder {
    version: ModelVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar_offset: Option<Span>,
    #[serde(default)]
    floor: Floor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fit_cap: Option<Points>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    engagement_cap: Option<Points>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fit_grades: Vec<GradeBand>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    engagement_levels: Vec<LevelBand>,
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    groups: IndexMap<String, Group>,
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    named: IndexMap<String, NamedScore>,
    #[serde(default)]
    rules: Vec<Rule>,
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
    /// [`Limit::OncePer`] and the steps of [`Decay::Step`] start at the
    /// Unix epoch plus this offset, every period (default: no offset, so
    /// days start at midnight UTC and weeks on Thursday, the epoch's day).
    /// `5h` makes days start at midnight UTC−5; `4d` makes weeks start on
    /// Monday (UTC).
    ///
    /// ```
    /// use leadflow::scoring::{Rule, ScoringModel};
    /// use leadflow::{EventType, Span};
    ///
    /// let model = ScoringModel::builder("m@1".parse()?)
    ///     .calendar_offset(Span::hours(5))
    ///     .rule(Rule::event("open", EventType::EmailOpen, 1).once_per(Span::days(1)))
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
    pub fn group(mut self, name: impl Into<String>, group: Group) -> Self {
        self.groups.insert(name.into(), group);
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

    /// Validates and compiles the model.
    ///
    /// # Errors
    ///
    /// [`ModelError`] naming the offending rule or setting: duplicate or
    /// empty rule ids, negative caps, zero windows, periods or half-lives,
    /// invalid matchers, empty or mixed groups, time settings on attribute
    /// rules, bands out of order, too many rules.
    pub fn build(self) -> Result<ScoringModel, ModelError> {
        ScoringModel::compile(self)
    }
}

/// A compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CRule {
    pub(crate) group: usize,
    pub(crate) points: Points,
    pub(crate) limit: Limit,
    pub(crate) within: Option<chrono::TimeDelta>,
    pub(crate) decay: Decay,
}

/// A compiled group.
#[derive(Debug, Clone)]
pub(crate) struct CGroup {
    pub(crate) name: String,
    pub(crate) cap: Option<Points>,
}

/// A compiled named score.
#[derive(Debug, Clone)]
pub(crate) struct CNamed {
    pub(crate) name: String,
    pub(crate) groups: Vec<usize>,
    pub(crate) cap: Option<Points>,
}

/// A validated, immutable scoring model: rules, groups, caps, decay, bands
/// and a version, compiled for fast matching.
///
/// It scores a lead two ways that always agree exactly:
///
/// - the pure [`score`](Self::score) / [`explain`](Self::explain) of a lead's
///   attributes and events at `now`;
/// - the incremental path: [`matches`](Self::matches) an event against a
///   dispatch table, [`ScoreState::record`](super::ScoreState::record) keeps
///   the hits, and [`scores_with`](Self::scores_with) answers at any `now`.
///
/// Models are data: a `ScoringModel` serializes to its
/// [`ScoringModelBuilder`] form and deserializing validates it.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::scoring::{Rule, ScoringModel};
/// use leadflow::{Event, EventId, EventKind, EventType, Lead, LeadId, Points};
///
/// let model = ScoringModel::builder("m@1".parse()?)
///     .rule(Rule::event("demo", EventType::DemoRequest, 40))
///     .build()?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let lead = Lead::new(LeadId::new("l1")?, t0);
/// let demo = Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest);
/// let events = vec![demo.clone(), demo]; // a duplicate counts once
/// let scores = model.score(&lead, &events, t0 + Duration::days(1));
/// assert_eq!(scores.engagement, Points::new(40));
/// assert_eq!(scores.model_version.as_ref().map(|v| v.as_str()), Some("m@1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "ScoringModelBuilder", into = "ScoringModelBuilder")]
pub struct ScoringModel {
    spec: ScoringModelBuilder,
    pub(crate) compiled: Vec<CRule>,
    pub(crate) groups: Vec<CGroup>,
    pub(crate) named: Vec<CNamed>,
    /// Event rule indices by `EventType::index()`.
    by_type: DispatchTable,
    /// Attribute rule indices.
    pub(crate) fit_rules: Vec<usize>,
    /// The row the pure path folds hits into.
    pub(crate) layout: Layout,
}

impl PartialEq for ScoringModel {
    fn eq(&self, other: &ScoringModel) -> bool {
        self.spec == other.spec
    }
}

impl TryFrom<ScoringModelBuilder> for ScoringModel {
    type Error = ModelError;
    fn try_from(spec: ScoringModelBuilder) -> Result<ScoringModel, ModelError> {
        spec.build()
    }
}

impl From<ScoringModel> for ScoringModelBuilder {
    fn from(model: ScoringModel) -> ScoringModelBuilder {
        model.spec
    }
}

fn check_cap(path: impl FnOnce() -> String, cap: Option<Points>) -> Result<(), ModelError> {
    match cap {
        Some(cap) if cap.is_negative() => Err(ModelError::NegativeCap { path: path(), cap }),
        _ => Ok(()),
    }
}

fn check_decay(path: impl FnOnce() -> String, decay: Option<Decay>) -> Result<(), ModelError> {
    match decay.and_then(|d| d.problem()) {
        Some(problem) => Err(ModelError::InvalidDecay {
            path: path(),
            problem,
        }),
        None => Ok(()),
    }
}

fn check_bands(path: &'static str, mins: impl Iterator<Item = (Points, usize)>) -> Result<(), ModelError> {
    let mut last: Option<(Points, usize)> = None;
    for (index, (min, rank)) in mins.enumerate() {
        if let Some((prev_min, prev_rank)) = last {
            if min >= prev_min || rank <= prev_rank {
                return Err(ModelError::BandsOutOfOrder { path, index });
            }
        }
        last = Some((min, rank));
    }
    Ok(())
}

fn check_rule(rule: &Rule) -> Result<(), ModelError> {
    let path = |field: &str| format!("rules[{}].{field}", rule.id);
    if matches!(&rule.when, Trigger::AllAttributes { all } if all.is_empty()) {
        return Err(ModelError::NoTests {
            rule: rule.id.clone(),
        });
    }
    match &rule.when {
        Trigger::Event { action } => action.validate(),
        Trigger::Attribute { predicate, .. } => predicate.validate(),
        Trigger::AllAttributes { all } => all.iter().try_for_each(|t| t.predicate.validate()),
    }
    .map_err(|source| ModelError::InvalidMatcher {
        rule: rule.id.clone(),
        source,
    })?;
    if rule.dimension() == Dimension::Fit {
        let field = if rule.limit != Limit::Once {
            Some("limit")
        } else if rule.within.is_some() {
            Some("within")
        } else if rule.decay.is_some() {
            Some("decay")
        } else {
            None
        };
        if let Some(field) = field {
            return Err(ModelError::NotForAttributes {
                rule: rule.id.clone(),
                field,
            });
        }
    }
    if rule.within.is_some_and(Span::is_zero) {
        return Err(ModelError::ZeroWindow { path: path("within") });
    }
    let bad_limit = match rule.limit {
        Limit::Times { n: 0 } => Some("times n must be at least 1: remove the rule to turn it off"),
        Limit::OncePer { period } if period.is_zero() => {
            Some("once_per period must be longer than 0s: use unlimited to count every event")
        }
        _ => None,
    };
    if let Some(problem) = bad_limit {
        return Err(ModelError::InvalidLimit {
            path: path("limit"),
            problem,
        });
    }
    check_decay(|| path("decay"), rule.decay)
}

impl ScoringModel {
    /// Starts a model definition; see [`ScoringModelBuilder`].
    pub fn builder(version: ModelVersion) -> ScoringModelBuilder {
        ScoringModelBuilder::new(version)
    }

    fn compile(spec: ScoringModelBuilder) -> Result<ScoringModel, ModelError> {
        if spec.rules.len() > MAX_RULES {
            return Err(ModelError::TooManyRules {
                count: spec.rules.len(),
                max: MAX_RULES,
            });
        }
        let mut ids: IndexMap<&str, usize> = IndexMap::new();
        for (index, rule) in spec.rules.iter().enumerate() {
            if rule.id.is_empty() {
                return Err(ModelError::EmptyRuleId { index });
            }
            if let Some(&first) = ids.get(rule.id.as_str()) {
                return Err(ModelError::DuplicateRule {
                    rule: rule.id.clone(),
                    first,
                    second: index,
                });
            }
            ids.insert(&rule.id, index);
            check_rule(rule)?;
        }
        check_cap(|| "fit_cap".to_owned(), spec.fit_cap)?;
        check_cap(|| "engagement_cap".to_owned(), spec.engagement_cap)?;
        for (name, group) in &spec.groups {
            check_cap(|| format!("groups.{name}.cap"), group.cap)?;
            check_decay(|| format!("groups.{name}.decay"), group.decay)?;
        }
        check_bands(
            "fit_grades",
            spec.fit_grades.iter().map(|b| (b.at_least, b.grade.rank())),
        )?;
        check_bands(
            "engagement_levels",
            spec.engagement_levels
                .iter()
                .map(|b| (b.at_least, usize::from(b.level.get()))),
        )?;

        // Groups: declared ones first, then in order of first use.
        let mut groups: IndexMap<String, (Group, Option<Dimension>)> = spec
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), (g.clone(), None)))
            .collect();
        let mut compiled = Vec::with_capacity(spec.rules.len());
        let mut by_type = DispatchTable::new();
        let mut fit_rules = Vec::new();
        for (index, rule) in spec.rules.iter().enumerate() {
            let dimension = rule.dimension();
            let entry = groups
                .entry(rule.group_name().to_owned())
                .or_insert((Group::new(), None));
            match entry.1 {
                None => entry.1 = Some(dimension),
                Some(d) if d != dimension => {
                    return Err(ModelError::MixedGroup {
                        group: rule.group_name().to_owned(),
                        rule: rule.id.clone(),
                    });
                }
                Some(_) => {}
            }
            let group_decay = entry.0.decay;
            let group = groups.get_index_of(rule.group_name()).unwrap_or(0);
            match &rule.when {
                Trigger::Event { action } => {
                    by_type.add(index, rule.points, action);
                }
                Trigger::Attribute { .. } | Trigger::AllAttributes { .. } => fit_rules.push(index),
            }
            let decay = rule.decay.or(group_decay).unwrap_or_default();
            compiled.push(CRule {
                group,
                points: rule.points,
                limit: rule.limit,
                within: rule.within.map(Span::to_time_delta),
                decay,
            });
        }
        for (name, (_, used)) in &groups {
            if used.is_none() {
                return Err(ModelError::EmptyGroup {
                    path: format!("groups.{name}"),
                    group: name.clone(),
                });
            }
        }
        let mut named = Vec::with_capacity(spec.named.len());
        for (name, score) in &spec.named {
            check_cap(|| format!("named.{name}.cap"), score.cap)?;
            let mut idx = Vec::with_capacity(score.groups.len());
            for g in &score.groups {
                idx.push(
                    groups
                        .get_index_of(g.as_str())
                        .ok_or_else(|| ModelError::EmptyGroup {
                            path: format!("named.{name}.groups"),
                            group: g.clone(),
                        })?,
                );
            }
            named.push(CNamed {
                name: name.clone(),
                groups: idx,
                cap: score.cap,
            });
        }
        let groups = groups
            .into_iter()
            .map(|(name, (g, _))| CGroup { name, cap: g.cap })
            .collect();
        let mut model = ScoringModel {
            spec,
            compiled,
            groups,
            named,
            by_type,
            fit_rules,
            layout: Layout::default(),
        };
        // A row for hits in order always fits.
        model.layout = Layout::new(&model, Span::ZERO).unwrap_or_default();
        Ok(model)
    }

    /// The version stamped on every score.
    pub fn version(&self) -> &ModelVersion {
        &self.spec.version
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.spec.description.as_deref()
    }

    /// The rules, in order; a rule's position is its index in
    /// [`matches`](Self::matches).
    pub fn rules(&self) -> &[Rule] {
        &self.spec.rules
    }

    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.spec.rules.iter().find(|r| r.id == id)
    }

    /// The declared groups.
    pub fn groups(&self) -> &IndexMap<String, Group> {
        &self.spec.groups
    }

    /// The floor policy.
    pub fn floor(&self) -> Floor {
        self.spec.floor
    }

    /// The fit grade bands.
    pub fn fit_grades(&self) -> &[GradeBand] {
        &self.spec.fit_grades
    }

    /// The engagement level bands.
    pub fn engagement_levels(&self) -> &[LevelBand] {
        &self.spec.engagement_levels
    }

    /// The fit cap.
    pub fn fit_cap(&self) -> Option<Points> {
        self.spec.fit_cap
    }

    /// The engagement cap.
    pub fn engagement_cap(&self) -> Option<Points> {
        self.spec.engagement_cap
    }

    /// The definition, to edit and rebuild.
    pub fn to_builder(&self) -> ScoringModelBuilder {
        self.spec.clone()
    }

    /// The event rules matching events of `shape`, as `(rule index, points)`, in rule
    /// order. Dispatches on the event type through a table built once, then
    /// checks each candidate's matcher (no allocation for the type, asset,
    /// page category, path prefix and channel checks).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::scoring::ScoringModel;
    /// use leadflow::{Event, EventId, EventKind, LeadId, Points};
    ///
    /// let model = ScoringModel::b2b_default()?;
    /// let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// let e = Event::new(EventId::new("e1")?, LeadId::new("l1")?, at, EventKind::DemoRequest);
    /// let hits: Vec<(usize, Points)> = model.matches(&e.shape).collect();
    /// assert_eq!(model.rules()[hits[0].0].id, "demo_request");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn matches<'a>(&'a self, shape: &'a EventShape) -> impl Iterator<Item = (usize, Points)> + 'a {
        self.by_type.matches(shape)
    }

    /// Where calendar buckets start; see
    /// [`ScoringModelBuilder::calendar_offset`].
    pub fn calendar_offset(&self) -> Span {
        self.spec.calendar_offset.unwrap_or(Span::ZERO)
    }

    /// The lead's scores from its attributes and events at `now`: the pure
    /// oracle. Events after `now` are ignored, an event (id and time) given
    /// twice counts once (of copies with other payloads, the one with the
    /// lowest shape fingerprint), and the order of `events` does not matter.
    pub fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Scores {
        let hits = fold::hits(self, events, now);
        fold::fold(self, &hits)
            .tally(self, lead, &hits, now)
            .settle(self)
            .scores
    }

    /// The lead's scores at `now` with every contribution explained; see
    /// [`Explanation`].
    pub fn explain(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Explanation {
        let hits = fold::hits(self, events, now);
        settle(self, lead, &hits, now).explain(self, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, EventType};
    use crate::id::{EventId, LeadId};
    use crate::matcher::Predicate;
    use chrono::TimeZone;

    #[test]
    fn dispatch_agrees_with_a_linear_scan_on_the_preset() {
        let model = ScoringModel::b2b_default().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let lead = LeadId::new("l").unwrap();
        let kinds = [
            EventKind::DemoRequest,
            EventKind::PageView {
                path: "/Pricing".into(),
                category: None,
            },
            EventKind::PageView {
                path: "/x".into(),
                category: Some(crate::PageCategory::Careers),
            },
            EventKind::EmailBounce { hard: true },
            EventKind::EmailBounce { hard: false },
            EventKind::Custom { name: "x".into() },
        ];
        for kind in kinds {
            let e = Event::new(EventId::new("e").unwrap(), lead.clone(), at, kind);
            let fast: Vec<usize> = model.matches(&e.shape).map(|(i, _)| i).collect();
            let slow: Vec<usize> = (0..model.rules().len())
                .filter(|&i| model.rules()[i].matches_shape(&e.shape))
                .collect();
            assert_eq!(fast, slow, "{e:?}");
        }
    }

    #[test]
    fn groups_compile_in_declaration_then_use_order() {
        let model = ScoringModel::builder(ModelVersion::new("v@1").unwrap())
            .rule(Rule::event("a", EventType::DemoRequest, 1).group("late"))
            .rule(Rule::attribute("b", "industry", Predicate::Exists, 1))
            .rule(Rule::event("c", EventType::EmailOpen, 1).group("declared"))
            .group("declared", Group::new().cap(5))
            .build()
            .unwrap();
        let names: Vec<&str> = model.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["declared", "late", "fit"]);
        assert_eq!(model.groups[0].cap, Some(Points::new(5)));
        assert_eq!(model.fit_rules, [1]);
        let back: ScoringModel = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.to_builder(), model.to_builder());
    }
}
