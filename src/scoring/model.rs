//! The model: a validated, compiled set of rules.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::compiled::CRule;
use super::dispatch::DispatchTable;
use super::error::ModelError;
use super::row::{Layout, TooFarBack};
use super::rule::{Floor, GradeBand, Group, LevelBand, Rule, Trigger};
use super::spec::ScoringModelBuilder;
use super::validate::{check_cap, validate};
use crate::event::EventShape;
use crate::id::{GroupId, ModelVersion};
use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

/// A compiled group.
#[derive(Debug, Clone)]
pub(crate) struct CGroup {
    pub(crate) name: GroupId,
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
/// use leadflow::scoring::Rule;
/// use leadflow::{Event, EventId, EventKind, EventType, Lead, LeadId, Points, ScoringModel};
///
/// let model = ScoringModel::builder("m@1".parse()?)
///     .rule(Rule::event("demo".parse()?, EventType::DemoRequest, 40))
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

impl ScoringModelBuilder {
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

impl ScoringModel {
    /// Starts a model definition; see [`ScoringModelBuilder`].
    pub fn builder(version: ModelVersion) -> ScoringModelBuilder {
        ScoringModelBuilder::new(version)
    }

    fn compile(spec: ScoringModelBuilder) -> Result<ScoringModel, ModelError> {
        validate(&spec)?;

        // Groups: declared ones first, then in order of first use.
        let mut groups: IndexMap<GroupId, (Group, Option<Dimension>)> = spec
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), (g.clone(), None)))
            .collect();
        let mut compiled = Vec::with_capacity(spec.rules.len());
        let mut by_type = DispatchTable::new();
        let mut fit_rules = Vec::new();
        for (index, rule) in spec.rules.iter().enumerate() {
            let dimension = rule.dimension();
            let entry = groups.entry(rule.group_id()).or_insert((Group::new(), None));
            match entry.1 {
                None => entry.1 = Some(dimension),
                Some(d) if d != dimension => {
                    return Err(ModelError::MixedGroup {
                        group: rule.group_id(),
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
                dimension,
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
        model.layout = model.layout_for(Span::ZERO).unwrap_or_default();
        Ok(model)
    }

    /// The row of this model for hits up to `reach` before the latest one
    /// (see [`Layout::new`]).
    pub(crate) fn layout_for(&self, reach: Span) -> Result<Layout, TooFarBack> {
        Layout::new(&self.compiled, self.groups.len(), self.calendar_offset(), reach)
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
    pub fn groups(&self) -> &IndexMap<GroupId, Group> {
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
    /// use leadflow::{Event, EventId, EventKind, LeadId, Points, ScoringModel};
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind, EventType};
    use crate::id::{EventId, LeadId};
    use crate::matcher::Predicate;
    use chrono::{TimeZone, Utc};

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
            .rule(Rule::event("a".parse().unwrap(), EventType::DemoRequest, 1).group("late".parse().unwrap()))
            .rule(Rule::attribute(
                "b".parse().unwrap(),
                "industry",
                Predicate::Exists,
                1,
            ))
            .rule(
                Rule::event("c".parse().unwrap(), EventType::EmailOpen, 1).group("declared".parse().unwrap()),
            )
            .group("declared".parse().unwrap(), Group::new().cap(5))
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
