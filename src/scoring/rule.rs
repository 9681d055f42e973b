//! Rules, groups, limits, floors and bands: the parts of a scoring model.

use serde::{Deserialize, Serialize};

use super::decay::Decay;
use crate::event::EventShape;
use crate::id::{GroupId, RuleId};
use crate::lead::Lead;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::{Dimension, EngagementLevel, Grade};
use crate::span::Span;

/// The default group of attribute (fit) rules.
pub(crate) const FIT_GROUP: &str = "fit";
/// The default group of event (engagement) rules.
pub(crate) const ENGAGEMENT_GROUP: &str = "engagement";

/// One scoring rule: when it applies and how many points it gives (negative
/// points subtract).
///
/// A rule either matches **events** (an engagement rule) or a lead
/// **attribute** (a fit rule). Event rules may have a frequency [`Limit`]
/// (default: once per lead), a window (only events within the last `within`
/// count) and a [`Decay`] (default: their group's).
///
/// Serialized as
/// `{"id": "pricing_visit", "group": "web", "points": 10,
///   "when": {"type": "event", "action": {"event": "page_view", "path_prefix": "/pricing"}},
///   "limit": {"type": "once_per", "period": "1d"}, "within": "90d"}`.
///
/// # Example
///
/// ```
/// use leadflow::scoring::{Limit, Rule};
/// use leadflow::{EventMatcher, EventType, GroupId, Predicate, RuleId, Span};
///
/// let pricing_page = EventMatcher::of(EventType::PageView).with_path_prefix("/pricing");
/// let pricing = Rule::event(RuleId::new("pricing_visit")?, pricing_page, 10)
///     .group(GroupId::new("web")?)
///     .limit(Limit::OncePer { period: Span::days(1) })
///     .within(Span::days(90));
/// let big = Rule::attribute(RuleId::new("big_company")?, "employees", Predicate::at_least(200.0), 15);
/// assert_eq!(pricing.group_name(), "web");
/// assert_eq!(big.group_name(), "fit");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// The rule's id, unique within the model; named in explanations.
    pub id: RuleId,
    /// The group the rule belongs to; `"fit"` for attribute rules and
    /// `"engagement"` for event rules when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// What the rule matches.
    pub when: Trigger,
    /// The points it gives each time it counts (negative to subtract).
    pub points: Points,
    /// How often it counts (event rules only; default once per lead).
    #[serde(default, skip_serializing_if = "Limit::is_once")]
    pub limit: Limit,
    /// Only events at most this old at `now` count (event rules only):
    /// inclusive, `now - within <= at`, as in the criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Span>,
    /// The decay of this rule's points, overriding its group's (event rules
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<Decay>,
    /// A note for people reading the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a [`Rule`] matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Trigger {
    /// Events matching `action` (engagement).
    Event {
        /// Which events.
        action: EventMatcher,
    },
    /// The lead's attribute `key` satisfying `predicate` (fit). Recomputed
    /// from the current attributes: a changed title replaces, never adds.
    Attribute {
        /// The attribute name (see [`Lead::attribute`]).
        key: String,
        /// The test; an unknown attribute matches only [`Predicate::Missing`].
        predicate: Predicate,
    },
    /// Every one of several attribute tests holds (fit): a rule on a
    /// combination of attributes, such as a cell of a fitted scorecard's
    /// pair table (`employees >= 200` and `industry = "software"`). Like
    /// [`Trigger::Attribute`], recomputed from the current attributes.
    ///
    /// Serialized as `{"type": "all_attributes", "all": [{"key":
    /// "employees", "predicate": {"type": "range", "min": 200.0}}, ...]}`.
    AllAttributes {
        /// The tests, all of which must hold; at least one.
        all: Vec<AttributeTest>,
    },
}

/// One test of a [`Trigger::AllAttributes`] rule: an attribute and a
/// predicate on its value.
///
/// # Example
///
/// ```
/// use leadflow::scoring::{AttributeTest, Rule};
/// use leadflow::{Lead, LeadId, Predicate, RuleId};
/// use chrono::{TimeZone, Utc};
///
/// let rule = Rule::all_attributes(
///     RuleId::new("big_software")?,
///     vec![
///         AttributeTest::new("employees", Predicate::at_least(200.0)),
///         AttributeTest::new("industry", Predicate::equals("software")),
///     ],
///     20,
/// );
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let mut lead = Lead::new(LeadId::new("l1")?, t0);
/// lead.set_attribute("employees", 450)?;
/// assert!(!rule.matches_lead(&lead));
/// lead.set_attribute("industry", "Software")?;
/// assert!(rule.matches_lead(&lead));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeTest {
    /// The attribute name (see [`Lead::attribute`]).
    pub key: String,
    /// The test; an unknown attribute matches only [`Predicate::Missing`].
    pub predicate: Predicate,
}

impl AttributeTest {
    /// A test of one attribute.
    pub fn new(key: impl Into<String>, predicate: Predicate) -> AttributeTest {
        AttributeTest {
            key: key.into(),
            predicate,
        }
    }

    /// Whether the lead's attribute passes the test.
    pub fn holds(&self, lead: &Lead) -> bool {
        self.predicate.matches(lead.attribute(&self.key))
    }
}

/// How often an event rule counts for one lead.
///
/// Limits are applied first, over all the lead's events up to `now` in the
/// canonical order (time, then shape fingerprint, then id fingerprint): a
/// `Once` rule keeps the **first** matching event, even when a window later
/// drops it (see the cap order in [`scoring`](crate::scoring)). Which
/// events count depends only on the set of events, never on the order they
/// arrive in.
///
/// A consequence for late (out-of-order) events: an older matching event that
/// arrives late takes the place of a newer one under a `once` or `times`
/// limit, and being older it may have decayed more or be outside the window,
/// so the score can go down. New events (later than every event already
/// known) that match only positive rules never lower a score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Limit {
    /// The first matching event only (the default).
    #[default]
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Once,
    /// The first `n` matching events.
    Times {
        /// How many (at least 1).
        n: u32,
    },
    /// The first matching event in each calendar bucket of length
    /// `period` counts: buckets start at the Unix epoch plus the model's
    /// [calendar offset](super::ScoringModelBuilder::calendar_offset), so
    /// "once per day" is once per UTC day by default, and two events an
    /// hour apart on either side of midnight both count.
    OncePer {
        /// The period (non-zero).
        period: Span,
    },
    /// Every matching event.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Unlimited,
}

impl Limit {
    fn is_once(&self) -> bool {
        *self == Limit::Once
    }
}

impl Rule {
    /// An event (engagement) rule, counting once per lead by default.
    pub fn event(id: RuleId, action: impl Into<EventMatcher>, points: impl Into<Points>) -> Rule {
        Rule::new(
            id,
            Trigger::Event {
                action: action.into(),
            },
            points,
        )
    }

    /// An attribute (fit) rule.
    pub fn attribute(
        id: RuleId,
        key: impl Into<String>,
        predicate: Predicate,
        points: impl Into<Points>,
    ) -> Rule {
        Rule::new(
            id,
            Trigger::Attribute {
                key: key.into(),
                predicate,
            },
            points,
        )
    }

    /// A fit rule on a combination of attributes: it gives its points when
    /// every test holds (see [`Trigger::AllAttributes`]).
    pub fn all_attributes(id: RuleId, all: Vec<AttributeTest>, points: impl Into<Points>) -> Rule {
        Rule::new(id, Trigger::AllAttributes { all }, points)
    }

    /// A rule with any trigger, counting once per lead by default; the
    /// other constructors are shorthands for it.
    pub fn new(id: RuleId, when: Trigger, points: impl Into<Points>) -> Rule {
        Rule {
            id,
            group: None,
            when,
            points: points.into(),
            limit: Limit::Once,
            within: None,
            decay: None,
            description: None,
        }
    }

    /// Puts the rule in a group.
    pub fn group(mut self, group: GroupId) -> Rule {
        self.group = Some(group);
        self
    }

    /// Sets the frequency limit.
    pub fn limit(mut self, limit: Limit) -> Rule {
        self.limit = limit;
        self
    }

    /// Counts the first `n` matching events.
    pub fn times(self, n: u32) -> Rule {
        self.limit(Limit::Times { n })
    }

    /// Counts at most one matching event per `period`.
    pub fn once_per(self, period: Span) -> Rule {
        self.limit(Limit::OncePer { period })
    }

    /// Counts every matching event.
    pub fn unlimited(self) -> Rule {
        self.limit(Limit::Unlimited)
    }

    /// Only events within `window` of `now` count.
    pub fn within(mut self, window: Span) -> Rule {
        self.within = Some(window);
        self
    }

    /// Sets the rule's own decay.
    pub fn decay(mut self, decay: Decay) -> Rule {
        self.decay = Some(decay);
        self
    }

    /// Adds a description.
    pub fn describe(mut self, description: impl Into<String>) -> Rule {
        self.description = Some(description.into());
        self
    }

    /// The rule's group: its own, or the default of its dimension.
    pub fn group_name(&self) -> &str {
        self.group.as_ref().map_or(self.default_group(), GroupId::as_str)
    }

    /// The rule's group as an id: its own, or the default of its dimension.
    pub(crate) fn group_id(&self) -> GroupId {
        self.group
            .clone()
            .unwrap_or_else(|| GroupId::known(self.default_group()))
    }

    fn default_group(&self) -> &'static str {
        match self.when {
            Trigger::Event { .. } => ENGAGEMENT_GROUP,
            Trigger::Attribute { .. } | Trigger::AllAttributes { .. } => FIT_GROUP,
        }
    }

    /// The dimension the rule scores: fit for attribute rules, engagement
    /// for event rules.
    pub fn dimension(&self) -> Dimension {
        match self.when {
            Trigger::Event { .. } => Dimension::Engagement,
            Trigger::Attribute { .. } | Trigger::AllAttributes { .. } => Dimension::Fit,
        }
    }

    /// True when the rule is an event rule matching events of `shape`.
    pub fn matches_shape(&self, shape: &EventShape) -> bool {
        match &self.when {
            Trigger::Event { action } => action.matches(shape),
            Trigger::Attribute { .. } | Trigger::AllAttributes { .. } => false,
        }
    }

    /// True when the rule is an attribute rule that holds for `lead` (for
    /// [`Trigger::AllAttributes`], every test holds).
    pub fn matches_lead(&self, lead: &Lead) -> bool {
        match &self.when {
            Trigger::Attribute { key, predicate } => predicate.matches(lead.attribute(key)),
            Trigger::AllAttributes { all } => all.iter().all(|t| t.holds(lead)),
            Trigger::Event { .. } => false,
        }
    }
}

/// A named group of rules with an optional cap and decay.
///
/// # Example
///
/// ```
/// use leadflow::scoring::{Decay, Group};
/// use leadflow::{Points, Span};
///
/// let web = Group::new().cap(30).decay(Decay::half_life(Span::days(30)));
/// assert_eq!(web.cap, Some(Points::new(30)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Group {
    /// The most the group's rules can add together (at least 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Points>,
    /// The decay of the group's event rules that set none themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<Decay>,
}

impl Group {
    /// A group without cap or decay.
    pub fn new() -> Group {
        Group::default()
    }

    /// Sets the cap.
    pub fn cap(mut self, cap: impl Into<Points>) -> Group {
        self.cap = Some(cap.into());
        self
    }

    /// Sets the decay.
    pub fn decay(mut self, decay: Decay) -> Group {
        self.decay = Some(decay);
        self
    }
}

/// The lowest value a score can take, applied last (after every cap).
///
/// The floor applies to fit, engagement and each named score; the combined
/// score is fit + engagement. The default is [`Floor::Zero`]: a score never
/// goes below zero, whatever the penalties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Floor {
    /// Scores never go below zero (the default).
    #[default]
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Zero,
    /// Scores never go below `points`.
    At {
        /// The floor.
        points: Points,
    },
    /// No floor: penalties can make scores negative.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Unbounded,
}

impl Floor {
    pub(crate) fn milli(self) -> Option<i128> {
        match self {
            Floor::Zero => Some(0),
            Floor::At { points } => Some(i128::from(points.as_milli())),
            Floor::Unbounded => None,
        }
    }
}

/// A fit grade band: fit scores of at least `at_least` get `grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeBand {
    /// The grade.
    pub grade: Grade,
    /// The lowest fit score with this grade.
    pub at_least: Points,
}

/// An engagement level band: engagement scores of at least `at_least` get
/// `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelBand {
    /// The level (1 is the most engaged).
    pub level: EngagementLevel,
    /// The lowest engagement score at this level.
    pub at_least: Points,
}

/// A score computed side by side with the main ones (e.g. one per product
/// line): the sum of some groups after their caps, with its own cap, then the
/// model's floor.
///
/// Groups listed here still count in the main fit and engagement scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedScore {
    /// The groups summed.
    pub groups: Vec<GroupId>,
    /// The most this score can be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Points>,
}

impl NamedScore {
    /// A named score over groups, without cap.
    pub fn over(groups: impl IntoIterator<Item = GroupId>) -> NamedScore {
        NamedScore {
            groups: groups.into_iter().collect(),
            cap: None,
        }
    }

    /// Sets the cap.
    pub fn cap(mut self, cap: impl Into<Points>) -> NamedScore {
        self.cap = Some(cap.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;

    #[test]
    fn serde_shape_omits_defaults() {
        let r =
            Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 40).group("intent".parse().unwrap());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"id":"demo","group":"intent","when":{"type":"event","action":{"event":"demo_request"}},"points":40}"#
        );
        assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), r);
        let limited = r.once_per(Span::days(1)).within(Span::days(30));
        let json = serde_json::to_string(&limited).unwrap();
        assert!(
            json.contains(r#""limit":{"type":"once_per","period":"1d"},"within":"30d""#),
            "{json}"
        );
    }

    #[test]
    fn all_attributes_rules_are_fit_rules_and_serialize_tagged() {
        let r = Rule::all_attributes(
            "pair".parse().unwrap(),
            vec![
                AttributeTest::new("employees", Predicate::at_least(200.0)),
                AttributeTest::new("industry", Predicate::Missing),
            ],
            7,
        );
        assert_eq!((r.group_name(), r.dimension()), (FIT_GROUP, Dimension::Fit));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"id":"pair","when":{"type":"all_attributes","all":[{"key":"employees","predicate":{"type":"range","min":200.0}},{"key":"industry","predicate":{"type":"missing"}}]},"points":7}"#
        );
        assert_eq!(serde_json::from_str::<Rule>(&json).unwrap(), r);
        use chrono::TimeZone;
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut lead = Lead::new(crate::LeadId::new("l").unwrap(), t);
        assert!(!r.matches_lead(&lead), "employees unknown");
        lead.set_attribute("employees", 450).unwrap();
        assert!(r.matches_lead(&lead));
        lead.set_attribute("industry", "retail").unwrap();
        assert!(!r.matches_lead(&lead), "industry known");
        let e = crate::Event::new(
            crate::EventId::new("e").unwrap(),
            lead.id.clone(),
            t,
            crate::EventKind::DemoRequest,
        );
        assert!(!r.matches_shape(&e.shape));
    }

    #[test]
    fn all_attributes_rules_are_validated_and_scored_as_fit() {
        use crate::scoring::{ModelError, ScoringModel};
        let version = || crate::ModelVersion::new("m@1").unwrap();
        let empty = ScoringModel::builder(version())
            .rule(Rule::all_attributes("none".parse().unwrap(), vec![], 5))
            .build();
        assert!(
            matches!(empty, Err(ModelError::NoTests { ref rule }) if rule == "none"),
            "{empty:?}"
        );
        let bad = ScoringModel::builder(version())
            .rule(Rule::all_attributes(
                "bad".parse().unwrap(),
                vec![AttributeTest::new(
                    "x",
                    Predicate::Range {
                        min: Some(3.0),
                        max: Some(1.0),
                    },
                )],
                5,
            ))
            .build();
        assert!(matches!(bad, Err(ModelError::InvalidMatcher { .. })), "{bad:?}");
        let timed = ScoringModel::builder(version())
            .rule(
                Rule::all_attributes(
                    "timed".parse().unwrap(),
                    vec![AttributeTest::new("x", Predicate::Exists)],
                    5,
                )
                .times(2),
            )
            .build();
        assert!(
            matches!(timed, Err(ModelError::NotForAttributes { field: "limit", .. })),
            "{timed:?}"
        );
        let model = ScoringModel::builder(version())
            .rule(Rule::all_attributes(
                "pair".parse().unwrap(),
                vec![
                    AttributeTest::new("employees", Predicate::at_least(200.0)),
                    AttributeTest::new("plan", Predicate::equals("pro")),
                ],
                12,
            ))
            .build()
            .unwrap();
        use chrono::TimeZone;
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut lead = Lead::new(crate::LeadId::new("l").unwrap(), t);
        lead.set_attribute("employees", 450).unwrap();
        assert_eq!(model.score(&lead, &[], t).fit, Points::ZERO);
        lead.set_attribute("plan", "pro").unwrap();
        let scores = model.score(&lead, &[], t);
        assert_eq!((scores.fit, scores.engagement), (Points::new(12), Points::ZERO));
        let why = model.explain(&lead, &[], t);
        assert_eq!(why.contributions[0].rule, "pair");
        assert_eq!(why.contributions[0].dimension, Dimension::Fit);
    }

    #[test]
    fn default_groups_and_dimensions() {
        let e = Rule::event("e".parse().unwrap(), EventType::EmailOpen, 1);
        let a = Rule::attribute("a".parse().unwrap(), "industry", Predicate::Exists, 1);
        assert_eq!(
            (e.group_name(), e.dimension()),
            (ENGAGEMENT_GROUP, Dimension::Engagement)
        );
        assert_eq!((a.group_name(), a.dimension()), (FIT_GROUP, Dimension::Fit));
        assert_eq!(
            Floor::At {
                points: Points::new(-5)
            }
            .milli(),
            Some(-5_000)
        );
        assert_eq!(Floor::Unbounded.milli(), None);
    }
}
