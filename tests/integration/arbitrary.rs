//! proptest strategies for every configuration and input type outside the
//! engine: any value the public constructors and fields allow (whole ranges
//! of points, spans, times and finite floats, free text), for the serde
//! round-trip properties.

use chrono::{DateTime, TimeZone, Utc};
use indexmap::IndexMap;
use leadflow::account::{AccountModel, BuyingRole, Rollup};
use leadflow::analytics::{AnalysisConfig, Breakdown, Period};
use leadflow::criteria::{Checklist, Condition, Framework, MAX_CONDITION_DEPTH, Outcome, Verdict};
use leadflow::lifecycle::{
    Edge, EdgeTrigger, ExpansionCriteria, LifecycleDefinition, Money, QualifiedBy, Reason, ReasonCode, Sla,
    SlaKind, Transition, TransitionKind,
};
use leadflow::scoring::{
    Decay, Floor, GradeBand, Group, LevelBand, Limit, NamedScore, Rule, ScoringModelBuilder, Trigger,
};
use leadflow::{
    AccountId, AssetType, AttrValue, CampaignId, Channel, Company, Dimension, EngagementLevel, EventMatcher,
    EventType, Grade, GroupId, JobFunction, Lead, LeadId, ModelVersion, OwnerId, PageCategory, Person,
    Points, Predicate, RuleId, Scores, Seniority, SizeBand, Source, Span, Stage,
};
use proptest::collection::vec;
use proptest::option::of as maybe;
use proptest::prelude::*;
use proptest::sample::select;

/// Short names, the kind configurations use. (The regex compiled here, once
/// per strategy: a `&str` strategy compiles it at every value drawn.)
pub(crate) fn name() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z_]{1,10}").unwrap()
}

/// Any text at all (quotes, newlines, non-ASCII).
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![name(), any::<String>()]
}

/// Text valid as an id: 1 to 24 characters, no control characters.
fn id_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 _@.:/é-]{1,24}").unwrap()
}

fn rule_id() -> impl Strategy<Value = RuleId> {
    id_text().prop_map(|s| RuleId::new(s).unwrap())
}

fn group_id() -> impl Strategy<Value = GroupId> {
    prop_oneof![name(), id_text()].prop_map(|s| GroupId::new(s).unwrap())
}

pub(crate) fn lead_id() -> impl Strategy<Value = LeadId> {
    id_text().prop_map(|s| LeadId::new(s).unwrap())
}

fn owner() -> impl Strategy<Value = OwnerId> {
    id_text().prop_map(|s| OwnerId::new(s).unwrap())
}

/// Points over their whole range, small ones more often.
pub(crate) fn points() -> BoxedStrategy<Points> {
    prop_oneof![
        (-100_000i64..100_000).prop_map(Points::from_milli),
        (-1_000i64..1_000).prop_map(Points::new),
        any::<i64>().prop_map(Points::from_milli),
        Just(Points::MAX),
        Just(Points::MIN),
    ]
    .boxed()
}

pub(crate) fn span() -> BoxedStrategy<Span> {
    prop_oneof![
        (0i64..100_000).prop_map(Span::seconds),
        (1i64..400).prop_map(Span::days),
        any::<i64>().prop_map(Span::seconds),
    ]
    .boxed()
}

/// A finite float of any magnitude.
pub(crate) fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6f64..1e6,
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

/// Any time chrono can hold, to the nanosecond.
pub(crate) fn time() -> BoxedStrategy<DateTime<Utc>> {
    let (min, max) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    prop_oneof![
        (1_600_000_000i64..1_900_000_000, 0u32..1_000_000_000),
        (min..=max, 0u32..1_000_000_000),
    ]
    .prop_filter_map("in chrono's range", |(s, ns)| Utc.timestamp_opt(s, ns).single())
    .boxed()
}

pub(crate) fn attr_value() -> BoxedStrategy<AttrValue> {
    prop_oneof![
        any::<bool>().prop_map(AttrValue::Bool),
        any::<i64>().prop_map(AttrValue::Int),
        finite().prop_map(|f| AttrValue::number(f).unwrap()),
        text().prop_map(AttrValue::Text),
    ]
    .boxed()
}

fn event_type() -> impl Strategy<Value = EventType> {
    select(EventType::ALL)
}

fn asset() -> impl Strategy<Value = AssetType> {
    use AssetType::*;
    select(vec![
        Whitepaper,
        Ebook,
        Template,
        Report,
        WebinarRecording,
        CaseStudy,
        Datasheet,
        ProductDemo,
        PricingSheet,
        Other,
    ])
}

pub(crate) fn page() -> impl Strategy<Value = PageCategory> {
    use PageCategory::*;
    select(vec![
        Home,
        Pricing,
        Product,
        CaseStudies,
        Docs,
        Blog,
        Contact,
        Careers,
        Other,
    ])
}

fn channel() -> impl Strategy<Value = Channel> {
    select(Channel::ALL)
}

pub(crate) fn predicate() -> BoxedStrategy<Predicate> {
    prop_oneof![
        Just(Predicate::Exists),
        Just(Predicate::Missing),
        attr_value().prop_map(Predicate::equals),
        vec(attr_value(), 0..4).prop_map(|values| Predicate::OneOf { values }),
        (maybe(finite()), maybe(finite())).prop_map(|(min, max)| Predicate::Range { min, max }),
        text().prop_map(Predicate::contains),
        text().prop_map(|text| Predicate::StartsWith { text }),
    ]
    .boxed()
}

fn properties() -> impl Strategy<Value = IndexMap<String, Predicate>> {
    vec((name(), predicate()), 0..3).prop_map(|kv| kv.into_iter().collect())
}

pub(crate) fn matcher() -> BoxedStrategy<EventMatcher> {
    (
        event_type(),
        maybe(asset()),
        maybe(page()),
        maybe(text()),
        maybe(channel()),
        properties(),
    )
        .prop_map(
            |(event, asset, page, path_prefix, channel, properties)| EventMatcher {
                event,
                asset,
                page,
                path_prefix,
                channel,
                properties,
            },
        )
        .boxed()
}

fn dimension() -> impl Strategy<Value = Dimension> {
    select(vec![Dimension::Fit, Dimension::Engagement, Dimension::Combined])
}

pub(crate) fn grade() -> impl Strategy<Value = Grade> {
    (0usize..26).prop_map(Grade::from_rank)
}

pub(crate) fn level() -> impl Strategy<Value = EngagementLevel> {
    (0usize..9).prop_map(EngagementLevel::from_rank)
}

fn framework() -> impl Strategy<Value = Framework> {
    select(vec![Framework::Bant, Framework::Champ, Framework::Meddicc])
}

/// A condition without parts, of any type.
pub(crate) fn leaf() -> BoxedStrategy<Condition> {
    prop_oneof![
        (dimension(), points(), maybe(text())).prop_map(|(dimension, at_least, score)| {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            }
        }),
        grade().prop_map(Condition::fit_grade_at_least),
        level().prop_map(|level| Condition::EngagementLevelAtLeast { level }),
        (matcher(), maybe(span())).prop_map(|(action, within)| Condition::DidAction { action, within }),
        (matcher(), any::<u32>(), maybe(span())).prop_map(|(a, n, w)| Condition::count(a, n, w)),
        (page(), any::<u32>(), maybe(span()), span()).prop_map(|(page, at_least, within, session_gap)| {
            Condition::RepeatVisits {
                page,
                at_least,
                within,
                session_gap,
            }
        }),
        (text(), predicate()).prop_map(|(k, p)| Condition::attribute(k, p)),
        (maybe(framework()), vec(text(), 0..4), any::<u32>()).prop_map(|(framework, items, at_least)| {
            Condition::Checklist {
                framework,
                items,
                at_least,
            }
        }),
        text().prop_map(Condition::custom),
    ]
    .boxed()
}

/// Any condition: a tree of up to a few levels.
pub(crate) fn condition() -> BoxedStrategy<Condition> {
    leaf()
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Condition::all),
                vec(inner.clone(), 0..4).prop_map(Condition::any),
                inner.prop_map(Condition::negate),
            ]
        })
        .boxed()
}

/// A condition exactly [`MAX_CONDITION_DEPTH`] deep: a random path of
/// `all`, `any` and `not` down to a leaf, with leaves beside it.
pub(crate) fn deepest_condition() -> BoxedStrategy<Condition> {
    (leaf(), vec((0u8..3, maybe(leaf())), MAX_CONDITION_DEPTH - 1))
        .prop_map(|(bottom, levels)| {
            levels.into_iter().fold(bottom, |c, (kind, beside)| match kind {
                0 => Condition::all([c].into_iter().chain(beside)),
                1 => Condition::any(beside.into_iter().chain([c])),
                _ => Condition::negate(c),
            })
        })
        .boxed()
}

pub(crate) fn decay() -> BoxedStrategy<Decay> {
    prop_oneof![
        Just(Decay::None),
        span().prop_map(Decay::half_life),
        (span(), any::<u8>()).prop_map(|(every, percent)| Decay::step(every, percent)),
    ]
    .boxed()
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        Just(Limit::Once),
        any::<u32>().prop_map(|n| Limit::Times { n }),
        span().prop_map(|period| Limit::OncePer { period }),
        Just(Limit::Unlimited),
    ]
}

pub(crate) fn rule() -> BoxedStrategy<Rule> {
    let when = prop_oneof![
        matcher().prop_map(|action| Trigger::Event { action }),
        (text(), predicate()).prop_map(|(key, predicate)| Trigger::Attribute { key, predicate }),
    ];
    (
        (rule_id(), maybe(group_id()), when, points()),
        (limit(), maybe(span()), maybe(decay()), maybe(text())),
    )
        .prop_map(
            |((id, group, when, points), (limit, within, decay, description))| {
                let mut rule = Rule::new(id, when, points).limit(limit);
                rule.group = group;
                rule.within = within;
                rule.decay = decay;
                rule.description = description;
                rule
            },
        )
        .boxed()
}

fn group() -> impl Strategy<Value = Group> {
    (maybe(points()), maybe(decay())).prop_map(|(cap, decay)| {
        let mut group = Group::new();
        group.cap = cap;
        group.decay = decay;
        group
    })
}

fn floor() -> impl Strategy<Value = Floor> {
    prop_oneof![
        Just(Floor::Zero),
        points().prop_map(|points| Floor::At { points }),
        Just(Floor::Unbounded)
    ]
}

/// Any model definition (valid or not: the data round-trips either way).
pub(crate) fn model() -> BoxedStrategy<ScoringModelBuilder> {
    (
        (
            id_text(),
            maybe(text()),
            floor(),
            maybe(points()),
            maybe(points()),
        ),
        vec((grade(), points()), 0..3),
        vec((level(), points()), 0..3),
        vec((group_id(), group()), 0..3),
        vec((name(), vec(group_id(), 0..3), maybe(points())), 0..3),
        vec(rule(), 0..4),
    )
        .prop_map(
            |(
                (version, description, floor, fit_cap, engagement_cap),
                grades,
                levels,
                groups,
                named,
                rules,
            )| {
                let mut b = ScoringModelBuilder::new(ModelVersion::new(version).unwrap()).floor(floor);
                if let Some(d) = description {
                    b = b.describe(d);
                }
                if let Some(c) = fit_cap {
                    b = b.fit_cap(c);
                }
                if let Some(c) = engagement_cap {
                    b = b.engagement_cap(c);
                }
                b = b
                    .fit_grades(
                        grades
                            .into_iter()
                            .map(|(grade, at_least)| GradeBand { grade, at_least }),
                    )
                    .engagement_levels(
                        levels
                            .into_iter()
                            .map(|(level, at_least)| LevelBand { level, at_least }),
                    );
                for (n, g) in groups {
                    b = b.group(n, g);
                }
                for (n, groups, cap) in named {
                    b = b.named(n, NamedScore { groups, cap });
                }
                rules.into_iter().fold(b, ScoringModelBuilder::rule)
            },
        )
        .boxed()
}

pub(crate) fn stage() -> impl Strategy<Value = Stage> {
    select(Stage::ALL.to_vec())
}

fn reason() -> impl Strategy<Value = Reason> {
    (select(ReasonCode::ALL), maybe(text())).prop_map(|(code, note)| Reason { code, note })
}

fn edge_trigger() -> BoxedStrategy<EdgeTrigger> {
    prop_oneof![
        maybe(condition()).prop_map(|guard| EdgeTrigger::Command { guard }),
        (text(), condition(), maybe(reason())).prop_map(|(name, criterion, reason)| EdgeTrigger::Automatic {
            name,
            criterion,
            reason,
        }),
    ]
    .boxed()
}

fn sla() -> impl Strategy<Value = Sla> {
    (
        stage(),
        select(vec![SlaKind::Exit, SlaKind::FirstFollowUp]),
        span(),
    )
        .prop_map(|(stage, kind, within)| Sla::new(stage, kind, within))
}

pub(crate) fn definition() -> BoxedStrategy<LifecycleDefinition> {
    (
        stage(),
        maybe(stage()),
        vec(
            (stage(), select(TransitionKind::ALL.to_vec()), edge_trigger()),
            0..4,
        ),
        vec(sla(), 0..3),
    )
        .prop_map(|(initial, sales_initial, edges, slas)| LifecycleDefinition {
            initial,
            sales_initial,
            edges: edges
                .into_iter()
                .map(|(from, transition, trigger)| Edge {
                    from,
                    transition,
                    trigger,
                })
                .collect(),
            slas,
        })
        .boxed()
}

fn outcome() -> impl Strategy<Value = Outcome> {
    select(vec![Outcome::Met, Outcome::NotMet, Outcome::Unknown])
}

fn verdict() -> BoxedStrategy<Verdict> {
    (outcome(), text())
        .prop_map(|(o, d)| Verdict::leaf(o, d))
        .prop_recursive(3, 12, 3, |inner| {
            (outcome(), text(), vec(inner, 0..3)).prop_map(|(outcome, description, children)| Verdict {
                outcome,
                description,
                children,
            })
        })
        .boxed()
}

fn checklist() -> BoxedStrategy<Checklist> {
    vec((text(), outcome(), maybe(text())), 0..4)
        .prop_map(|items| {
            items
                .into_iter()
                .fold(Checklist::new(), |c, (item, status, evidence)| {
                    c.set(item, status, evidence)
                })
        })
        .boxed()
}

fn qualified_by() -> BoxedStrategy<QualifiedBy> {
    prop_oneof![
        (text(), verdict()).prop_map(|(name, verdict)| QualifiedBy::Criterion { name, verdict }),
        (owner(), maybe(text())).prop_map(|(by, note)| QualifiedBy::Manual { by, note }),
    ]
    .boxed()
}

fn money() -> impl Strategy<Value = Money> {
    (any::<i64>(), text()).prop_map(|(minor, currency)| Money { minor, currency })
}

pub(crate) fn transition() -> BoxedStrategy<Transition> {
    prop_oneof![
        qualified_by().prop_map(|by| Transition::MarketingAccept { by }),
        qualified_by().prop_map(|by| Transition::Qualify { by }),
        owner().prop_map(|owner| Transition::Accept { owner }),
        (owner(), reason()).prop_map(|(by, reason)| Transition::Reject { by, reason }),
        (owner(), checklist()).prop_map(|(by, evidence)| Transition::QualifyForSales { by, evidence }),
        (maybe(owner()), maybe(money())).prop_map(|(by, value)| Transition::Convert { by, value }),
        (maybe(owner()), maybe(money())).prop_map(|(by, value)| Transition::Win { by, value }),
        (maybe(owner()), reason()).prop_map(|(by, reason)| Transition::Lose { by, reason }),
        qualified_by().prop_map(|by| Transition::FlagForExpansion { by }),
        (maybe(owner()), reason()).prop_map(|(by, reason)| Transition::Recycle { by, reason }),
        (maybe(owner()), reason()).prop_map(|(by, reason)| Transition::Disqualify { by, reason }),
    ]
    .boxed()
}

fn source() -> BoxedStrategy<Source> {
    prop_oneof![
        (channel(), maybe(id_text())).prop_map(|(channel, campaign)| Source::Marketing {
            channel,
            campaign: campaign.map(|c| CampaignId::new(c).unwrap()),
        }),
        maybe(owner()).prop_map(Source::sales),
    ]
    .boxed()
}

fn size_band() -> impl Strategy<Value = SizeBand> {
    any::<u32>().prop_map(SizeBand::from_employees)
}

/// Any lead: every company and person attribute, custom attributes, source.
pub(crate) fn lead() -> BoxedStrategy<Lead> {
    let company = (
        (
            maybe(text()),
            maybe(text()),
            maybe(any::<u32>()),
            maybe(size_band()),
        ),
        (maybe(text()), maybe(text()), maybe(finite()), maybe(finite())),
    )
        .prop_map(
            |((name, industry, employees, size_band), (country, region, annual_revenue, ad_spend))| Company {
                name,
                industry,
                employees,
                size_band,
                country,
                region,
                annual_revenue,
                ad_spend,
            },
        );
    let person = (
        maybe(text()),
        maybe(select(Seniority::ALL)),
        maybe(select(JobFunction::ALL)),
        maybe(text()),
        maybe(any::<bool>()),
    )
        .prop_map(
            |(job_title, seniority, function, email_domain, free_mail)| Person {
                job_title,
                seniority,
                function,
                email_domain,
                free_mail,
            },
        );
    (
        (lead_id(), maybe(id_text()), time(), source()),
        (company, person, vec((name(), attr_value()), 0..4)),
    )
        .prop_map(|((id, account, created_at, source), (company, person, custom))| {
            let mut lead = Lead::new(id, created_at).with_source(source);
            if let Some(a) = account {
                lead = lead.with_account(AccountId::new(a).unwrap());
            }
            lead.company = company;
            lead.person = person;
            lead.custom = custom.into_iter().collect();
            lead
        })
        .boxed()
}

pub(crate) fn scores() -> BoxedStrategy<Scores> {
    (
        (points(), points(), points()),
        (maybe(grade()), maybe(level())),
        vec((text(), points()), 0..3),
        maybe(id_text()),
    )
        .prop_map(
            |((fit, engagement, combined), (fit_grade, engagement_level), named, version)| Scores {
                fit,
                engagement,
                combined,
                fit_grade,
                engagement_level,
                named: named.into_iter().collect(),
                model_version: version.map(|v| ModelVersion::new(v).unwrap()),
            },
        )
        .boxed()
}

pub(crate) fn account_model() -> BoxedStrategy<AccountModel> {
    let rollup = prop_oneof![
        Just(Rollup::Sum),
        Just(Rollup::Max),
        any::<u32>().prop_map(|n| Rollup::TopN { n })
    ];
    (rollup, vec((text(), condition()), 0..3), condition(), condition())
        .prop_map(|(rollup, roles, engaged, mqa)| {
            let mut model = AccountModel::standard();
            model.rollup = rollup;
            model.roles = roles
                .into_iter()
                .map(|(n, who)| BuyingRole::new(n, who))
                .collect();
            model.engaged = engaged;
            model.mqa = mqa;
            model
        })
        .boxed()
}

pub(crate) fn analysis_config() -> BoxedStrategy<AnalysisConfig> {
    let breakdown = prop_oneof![
        Just(Breakdown::Source),
        Just(Breakdown::Channel),
        Just(Breakdown::Campaign),
        Just(Breakdown::Owner),
        Just(Breakdown::Cohort),
        text().prop_map(|key| Breakdown::Attribute { key }),
    ];
    (time(), maybe((time(), time())), vec(breakdown, 0..4))
        .prop_map(|(as_of, period, breakdowns)| {
            let config = AnalysisConfig::new(as_of).with_breakdowns(breakdowns);
            match period.and_then(|(a, b)| Period::new(a.min(b), a.max(b)).ok()) {
                Some(p) => config.with_period(p),
                None => config,
            }
        })
        .boxed()
}

pub(crate) fn expansion() -> BoxedStrategy<ExpansionCriteria> {
    (
        (finite(), finite(), any::<i64>(), maybe(any::<i64>())),
        (span(), span()),
    )
        .prop_map(
            |((seat, feature, satisfaction, detractor), (usage_window, feedback_window))| {
                let mut criteria = ExpansionCriteria::standard();
                criteria.seat_utilisation_at_least = seat;
                criteria.feature_adoption_at_least = feature;
                criteria.satisfaction_at_least = satisfaction;
                criteria.detractor_below = detractor;
                criteria.usage_window = usage_window;
                criteria.feedback_window = feedback_window;
                criteria
            },
        )
        .boxed()
}
