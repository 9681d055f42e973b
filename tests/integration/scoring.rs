//! Tests of the scoring model: hand-checkable fixtures under
//! `tests/data/scoring/`, model validation, serde round trips, the preset,
//! the criteria seam end to end, and property tests with the pure
//! `ScoringModel::score` as the oracle for the incremental path.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::criteria::{Condition, LeadView};
use leadflow::lifecycle::LifecycleDefinition;
use leadflow::scoring::{Decay, Floor, Group, Limit, ModelError, NamedScore, Rule, ScoreState, Trigger};
use leadflow::{
    AssetType, Dimension, EngagementLevel, Event, EventId, EventKind, EventMatcher, EventType, Grade,
    GroupId, Lead, LeadId, ModelVersion, PageCategory, Points, Predicate, RuleId, ScoringModel, Seniority,
    Span, Stage, ThresholdId,
};
use proptest::prelude::*;
use serde::Deserialize;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn version(v: &str) -> ModelVersion {
    ModelVersion::new(v).unwrap()
}

fn event(id: &str, at: DateTime<Utc>, kind: EventKind) -> Event {
    Event::new(EventId::new(id).unwrap(), LeadId::new("lead").unwrap(), at, kind)
}

fn page(path: &str) -> EventKind {
    EventKind::PageView {
        path: path.into(),
        category: None,
    }
}

// ---------------------------------------------------------------- fixtures

#[derive(Deserialize)]
struct Fixture {
    name: String,
    now: DateTime<Utc>,
    model: ScoringModel,
    lead: Lead,
    events: Vec<Event>,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    fit: Points,
    engagement: Points,
    combined: Points,
    fit_grade: Option<Grade>,
    engagement_level: Option<EngagementLevel>,
    cell: Option<String>,
    #[serde(default)]
    fit_floor: Points,
    #[serde(default)]
    engagement_floor: Points,
    #[serde(default)]
    named: std::collections::BTreeMap<String, Points>,
    contributions: Vec<ExpectedContribution>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct ExpectedContribution {
    rule: String,
    event: Option<String>,
    raw: Points,
    decayed: Points,
    points: Points,
    #[serde(default)]
    clipped_by: Vec<String>,
}

#[test]
fn fixtures_match_their_hand_computed_scores() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scoring");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "fixtures missing in {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let f: Fixture = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let why = f.model.explain(&f.lead, &f.events, f.now);
        let s = &why.scores;
        let name = &f.name;
        assert_eq!(s.fit, f.expected.fit, "{name}: fit\n{why}");
        assert_eq!(s.engagement, f.expected.engagement, "{name}: engagement\n{why}");
        assert_eq!(s.combined, f.expected.combined, "{name}: combined");
        assert_eq!(s.fit_grade, f.expected.fit_grade, "{name}: grade");
        assert_eq!(s.engagement_level, f.expected.engagement_level, "{name}: level");
        assert_eq!(s.cell().map(|c| c.to_string()), f.expected.cell, "{name}: cell");
        assert_eq!(why.fit_floor, f.expected.fit_floor, "{name}: fit floor");
        assert_eq!(
            why.engagement_floor, f.expected.engagement_floor,
            "{name}: engagement floor"
        );
        let named: std::collections::BTreeMap<String, Points> = s.named.clone().into_iter().collect();
        assert_eq!(named, f.expected.named, "{name}: named scores");
        let got: Vec<ExpectedContribution> = why
            .contributions
            .iter()
            .map(|c| ExpectedContribution {
                rule: c.rule.to_string(),
                event: c.event.as_ref().map(|e| e.to_string()),
                raw: c.raw,
                decayed: c.decayed,
                points: c.points,
                clipped_by: c.clipped_by.iter().map(|c| c.to_string()).collect(),
            })
            .collect();
        assert_eq!(got, f.expected.contributions, "{name}: contributions\n{why}");
        for d in [Dimension::Fit, Dimension::Engagement, Dimension::Combined] {
            assert_eq!(why.total(d), s.get(d), "{name}: explanation sums to {d}");
        }
        // The incremental path agrees, whatever the order.
        let mut state = ScoreState::new();
        for e in f.events.iter().rev() {
            state.record(&f.model, e);
        }
        assert_eq!(
            f.model.explain_with(&f.lead, &state, f.now),
            why,
            "{name}: incremental"
        );
    }
}

// ---------------------------------------------------------------- validation

fn err(b: leadflow::scoring::ScoringModelBuilder) -> String {
    b.build().unwrap_err().to_string()
}

#[test]
fn invalid_models_name_the_offending_rule_or_path() {
    let demo = || Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 40);
    let b = || ScoringModel::builder(version("v@1"));
    assert!(err(b().rule(demo()).rule(demo())).contains("rule id \"demo\" is used by rules #0 and #1"));
    // An empty rule id cannot be made, so no model holds one; read from data, it is refused.
    assert!(matches!(
        RuleId::new(""),
        Err(leadflow::IdError::Empty { kind: "rule" })
    ));
    let empty_id = r#"{"version": "v@1", "rules": [{"id": "", "points": 1,
        "when": {"type": "event", "action": {"event": "demo_request"}}}]}"#;
    let refused = serde_json::from_str::<ScoringModel>(empty_id)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("rule id is empty"), "{refused}");
    assert!(
        err(b()
            .rule(demo().group("g".parse().unwrap()))
            .group("g".parse().unwrap(), Group::new().cap(-1)))
        .contains("groups.g.cap: cap -1")
    );
    assert!(err(b().rule(demo()).engagement_cap(-5)).contains("engagement_cap"));
    assert!(err(b().rule(demo().within(Span::ZERO))).contains("rules[demo].within"));
    assert!(err(b().rule(demo().times(0))).contains("rules[demo].limit"));
    assert!(err(b().rule(demo().once_per(Span::ZERO))).contains("rules[demo].limit"));
    assert!(err(b().rule(demo().decay(Decay::half_life(Span::ZERO)))).contains("rules[demo].decay"));
    assert!(
        err(b().rule(demo().group("g".parse().unwrap())).group(
            "g".parse().unwrap(),
            Group::new().decay(Decay::step(Span::days(1), 0))
        ))
        .contains("groups.g.decay")
    );
    assert!(err(b().rule(demo()).group("empty".parse().unwrap(), Group::new())).contains("groups.empty"));
    assert!(
        err(b()
            .rule(demo())
            .named("side", NamedScore::over(["nope".parse().unwrap()])))
        .contains("named.side.groups refers to group \"nope\"")
    );
    let attr = Rule::attribute(
        "big".parse().unwrap(),
        "employees",
        Predicate::at_least(200.0),
        10,
    );
    assert!(err(b().rule(attr.clone().within(Span::days(3)))).contains("rules[big].within"));
    assert!(
        err(b()
            .rule(attr.clone().group("mixed".parse().unwrap()))
            .rule(demo().group("mixed".parse().unwrap())))
        .contains("rule \"demo\"")
    );
    let bad_matcher = Rule::event(
        "m".parse().unwrap(),
        EventMatcher::of(EventType::DemoRequest).with_asset(AssetType::Ebook),
        1,
    );
    assert!(err(b().rule(bad_matcher)).contains("rules[m].when"));
    let bad_range = Rule::attribute("r".parse().unwrap(), "employees", Predicate::between(5.0, 5.0), 1);
    assert!(
        matches!(b().rule(bad_range).build(), Err(ModelError::InvalidMatcher { rule, .. }) if rule == "r")
    );
    let bands = b().rule(demo()).fit_grades([
        leadflow::scoring::GradeBand {
            grade: Grade::new('A').unwrap(),
            at_least: Points::new(10),
        },
        leadflow::scoring::GradeBand {
            grade: Grade::new('B').unwrap(),
            at_least: Points::new(20),
        },
    ]);
    assert!(err(bands).contains("fit_grades"));
}

#[test]
fn non_finite_points_are_refused_when_loading() {
    let toml_text = r#"
        version = "v@1"
        [[rules]]
        id = "demo"
        points = nan
        when = { type = "event", action = { event = "demo_request" } }
    "#;
    let e = toml::from_str::<ScoringModel>(toml_text).unwrap_err().to_string();
    assert!(e.contains("finite"), "{e}");
    let dup = r#"{"version": "v@1", "rules": [
        {"id": "a", "points": 1, "when": {"type": "event", "action": {"event": "demo_request"}}},
        {"id": "a", "points": 2, "when": {"type": "event", "action": {"event": "demo_request"}}}]}"#;
    let e = serde_json::from_str::<ScoringModel>(dup).unwrap_err().to_string();
    assert!(e.contains("rule id \"a\""), "{e}");
}

// ---------------------------------------------------------------- preset and serde

fn icp_lead() -> Lead {
    let mut lead = Lead::new(LeadId::new("lead").unwrap(), t0());
    lead.company.industry = Some("software".into());
    lead.company.employees = Some(450);
    lead.person.seniority = Some(Seniority::Director);
    lead.person.set_email("ada@acme.io");
    lead
}

#[test]
fn rule_group_and_threshold_names_are_plain_strings_and_are_checked_when_read() {
    let intent = GroupId::new("intent").unwrap();
    let model = ScoringModel::builder(version("ids@1"))
        .rule(Rule::event(RuleId::new("demo").unwrap(), EventType::DemoRequest, 40).group(intent.clone()))
        .group(intent, Group::new().cap(30))
        .build()
        .unwrap();
    let json = serde_json::to_value(&model).unwrap();
    assert_eq!(json["rules"][0]["id"], "demo");
    assert_eq!(json["rules"][0]["group"], "intent");
    assert!(json["groups"]["intent"].is_object());
    // A model stored before the ids were typed reads back the same.
    let stored = r#"{"version": "ids@1", "groups": {"intent": {"cap": 30}}, "rules": [{"id": "demo",
        "group": "intent", "points": 40, "when": {"type": "event", "action": {"event": "demo_request"}}}]}"#;
    assert_eq!(serde_json::from_str::<ScoringModel>(stored).unwrap(), model);
    // What the id types refuse in code, reading refuses in data.
    let refused = |json: &str| {
        serde_json::from_str::<ScoringModel>(json)
            .unwrap_err()
            .to_string()
    };
    let tab_in_group = stored.replace(r#""group": "intent""#, r#""group": "in\ttent""#);
    assert!(refused(&tab_in_group).contains(r#"group id "in\ttent" contains a control character"#));
    let empty_group = stored.replace(r#"{"intent": {"#, r#"{"": {"#);
    assert!(refused(&empty_group).contains("group id is empty"));
    let long_rule = stored.replace(r#""id": "demo""#, &format!(r#""id": "{}""#, "d".repeat(300)));
    assert!(refused(&long_rule).contains("rule id is 300 bytes long"));
    // An engine's threshold names are ids too.
    use leadflow::engine::{EngineConfig, Threshold};
    let config = EngineConfig::default().threshold(Threshold::new(
        ThresholdId::new("hot").unwrap(),
        Dimension::Combined,
        40,
    ));
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["thresholds"][0]["name"], "hot");
    assert_eq!(serde_json::from_value::<EngineConfig>(json).unwrap(), config);
    let unnamed = r#"{"thresholds": [{"name": "", "dimension": "combined", "at_least": 40}]}"#;
    let refused = serde_json::from_str::<EngineConfig>(unnamed)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("threshold id is empty"), "{refused}");
}

#[test]
fn preset_round_trips_through_json_and_toml() {
    let model = ScoringModel::b2b_default().unwrap();
    let json = serde_json::to_string_pretty(&model).unwrap();
    assert_eq!(serde_json::from_str::<ScoringModel>(&json).unwrap(), model);
    let toml_text = toml::to_string(&model).unwrap();
    assert_eq!(toml::from_str::<ScoringModel>(&toml_text).unwrap(), model);
    assert!(model.rules().len() >= 20);
}

#[test]
fn preset_scores_an_icp_lead() {
    let model = ScoringModel::b2b_default().unwrap();
    let lead = icp_lead();
    let at = t0() + Duration::days(10);
    let events = vec![
        event("e1", at, page("/pricing")),
        event("e2", at + Duration::hours(1), page("/product/api")),
        event("e3", at + Duration::hours(2), EventKind::DemoRequest),
    ];
    let s = model.score(&lead, &events, at + Duration::hours(2));
    assert_eq!(s.fit, Points::new(40)); // size 15 + industry 10 + director 15
    assert_eq!(s.fit_grade, Some(Grade::new('A').unwrap()));
    assert!(
        s.engagement > Points::new(54) && s.engagement <= Points::new(55),
        "{:?}",
        s.engagement
    );
    assert_eq!(s.cell().unwrap().to_string(), "A2");
    // Fit is recomputed, never accumulated: a changed title replaces.
    let mut demoted = lead.clone();
    demoted.person.seniority = Some(Seniority::Manager);
    assert_eq!(model.score(&demoted, &events, at).fit, Points::new(33));
}

// ---------------------------------------------------------------- the criteria seam

#[test]
fn mql_when_combined_60_and_grade_b_or_a_demo_request() {
    let model = ScoringModel::b2b_default().unwrap();
    let mql = Condition::any([
        Condition::all([
            Condition::score_at_least(Dimension::Combined, 60),
            Condition::fit_grade_at_least(Grade::new('B').unwrap()),
        ]),
        Condition::did(EventType::DemoRequest),
    ]);
    let machine = LifecycleDefinition::standard_b2b(mql).build().unwrap();
    let step = |lead: &Lead, events: &[Event], now| {
        let scores = model.score(lead, events, now);
        let mut life = machine.start(lead);
        let view = LeadView::new(lead).with_events(events).with_scores(&scores);
        machine.advance(&mut life, &view, now);
        // Every transition the scores cause carries the model's version.
        for record in life.history() {
            assert_eq!(
                record.model_version.as_ref().map(|v| v.as_str()),
                Some("b2b-default@1")
            );
        }
        (life.stage(), scores)
    };
    let at = t0() + Duration::days(5);

    // A good fit reading pricing and downloading: fit 40 + engagement 25 → MQL.
    let good = icp_lead();
    let events = vec![
        event("f1", at, EventKind::FormSubmit { form: None }),
        event("p1", at, page("/pricing")),
        event(
            "d1",
            at,
            EventKind::ContentDownload {
                asset: AssetType::PricingSheet,
                asset_id: None,
            },
        ),
    ];
    let (stage, scores) = step(&good, &events, at);
    assert!(scores.combined >= Points::new(60), "{scores:?}");
    assert_eq!(stage, Stage::Mql);

    // The same behaviour from a student on free mail: combined < 60 → MAL only.
    let mut student = Lead::new(LeadId::new("lead").unwrap(), t0());
    student.person.set_email("kid@gmail.com");
    student.set_attribute("function", "education").unwrap();
    let (stage, scores) = step(&student, &events, at);
    assert_eq!(scores.fit, Points::ZERO);
    assert_eq!(stage, Stage::Mal);

    // A demo request qualifies whatever the score.
    let mut with_demo = events.clone();
    with_demo.push(event("demo", at, EventKind::DemoRequest));
    let (stage, _) = step(&student, &with_demo, at);
    assert_eq!(stage, Stage::Mql);
}

// ---------------------------------------------------------------- named scores

#[test]
fn named_scores_sum_their_groups_with_their_own_cap() {
    let model = ScoringModel::builder(version("v@1"))
        .rule(
            Rule::event(
                "api_docs".parse().unwrap(),
                EventMatcher::of(EventType::PageView).with_path_prefix("/docs/api"),
                10,
            )
            .group("api".parse().unwrap())
            .unlimited(),
        )
        .rule(
            Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 40).group("intent".parse().unwrap()),
        )
        .named(
            "api_line",
            NamedScore::over(["api".parse().unwrap(), "intent".parse().unwrap()]).cap(45),
        )
        .named("api_only", NamedScore::over(["api".parse().unwrap()]))
        .build()
        .unwrap();
    let events = vec![
        event("a", t0(), page("/docs/api/x")),
        event("b", t0(), page("/docs/api/y")),
        event("c", t0(), EventKind::DemoRequest),
    ];
    let why = model.explain(&Lead::new(LeadId::new("lead").unwrap(), t0()), &events, t0());
    assert_eq!(why.scores.named["api_line"], Points::new(45));
    assert_eq!(why.scores.named["api_only"], Points::new(20));
    assert_eq!(why.named["api_line"].capped, Points::new(-15));
    assert_eq!(why.scores.engagement, Points::new(60));
}

// ---------------------------------------------------------------- properties

const MATCHERS: usize = 10;

fn matcher(i: usize) -> EventMatcher {
    match i % MATCHERS {
        0 => EventMatcher::visit(PageCategory::Pricing),
        1 => EventMatcher::of(EventType::PageView).with_path_prefix("/pricing/t"),
        2 => EventMatcher::visit(PageCategory::Product),
        3 => EventMatcher::visit(PageCategory::Careers),
        4 => EventMatcher::of(EventType::DemoRequest),
        5 => EventMatcher::of(EventType::EmailOpen),
        6 => EventMatcher::download(AssetType::Whitepaper),
        7 => EventMatcher::of(EventType::ContentDownload),
        8 => EventMatcher::of(EventType::EmailBounce).with_property("hard", Predicate::equals(true)),
        _ => EventMatcher::of(EventType::PageView),
    }
}

fn kind(i: usize) -> EventKind {
    match i % 9 {
        0 => page("/pricing"),
        1 => page("/pricing/team"),
        2 => page("/product/api"),
        3 => page("/careers"),
        4 => EventKind::DemoRequest,
        5 => EventKind::EmailOpen { campaign: None },
        6 => EventKind::ContentDownload {
            asset: AssetType::Whitepaper,
            asset_id: None,
        },
        7 => EventKind::ContentDownload {
            asset: AssetType::CaseStudy,
            asset_id: None,
        },
        _ => EventKind::EmailBounce { hard: true },
    }
}

#[derive(Debug, Clone)]
struct Case {
    model: ScoringModel,
    lead: Lead,
    events: Vec<Event>,
    now: DateTime<Utc>,
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        Just(Limit::Once),
        (1u32..4).prop_map(|n| Limit::Times { n }),
        (1i64..240).prop_map(|h| Limit::OncePer {
            period: Span::hours(h)
        }),
        Just(Limit::Unlimited),
    ]
}

fn decay() -> impl Strategy<Value = Option<Decay>> {
    prop_oneof![
        Just(None),
        (1i64..2000).prop_map(|h| Some(Decay::half_life(Span::hours(h)))),
        (1i64..40, 1u8..=100).prop_map(|(d, p)| Some(Decay::step(Span::days(d), p))),
    ]
}

/// (matcher, milli-points, limit, window days, decay, group)
type RuleParts = (usize, i64, Limit, Option<i64>, Option<Decay>, usize);

fn rule_parts(penalty_windows: bool) -> impl Strategy<Value = RuleParts> {
    (
        0..MATCHERS,
        -20_000i64..40_000,
        limit(),
        proptest::option::of(1i64..60),
        decay(),
        0usize..3,
    )
        .prop_map(move |(m, p, l, w, d, g)| (m, p, l, if p < 0 && !penalty_windows { None } else { w }, d, g))
}

fn build_model(
    rules: Vec<RuleParts>,
    caps: [Option<i64>; 3],
    engagement_cap: Option<i64>,
    fit_rules: usize,
    floor: Floor,
) -> ScoringModel {
    let mut b = ScoringModel::builder(version("prop@1")).floor(floor);
    let mut used = [false; 3];
    for (i, (m, p, l, w, d, g)) in rules.into_iter().enumerate() {
        let mut r = Rule::event(
            RuleId::new(format!("r{i}")).unwrap(),
            matcher(m),
            Points::from_milli(p),
        )
        .group(GroupId::new(format!("g{g}")).unwrap())
        .limit(l);
        if let Some(w) = w {
            r = r.within(Span::days(w));
        }
        if let Some(d) = d {
            r = r.decay(d);
        }
        used[g] = true;
        b = b.rule(r);
    }
    for (g, cap) in caps.iter().enumerate() {
        if let (true, Some(cap)) = (used[g], cap) {
            b = b.group(
                GroupId::new(format!("g{g}")).unwrap(),
                Group::new().cap(Points::new(*cap)),
            );
        }
    }
    if used[0] {
        b = b.named("side", NamedScore::over(["g0".parse().unwrap()]).cap(25));
    }
    if let Some(c) = engagement_cap {
        b = b.engagement_cap(Points::new(c));
    }
    let fits = [
        Rule::attribute(
            "big".parse().unwrap(),
            "employees",
            Predicate::at_least(200.0),
            15,
        ),
        Rule::attribute(
            "freemail".parse().unwrap(),
            "free_mail",
            Predicate::equals(true),
            -10,
        ),
        Rule::attribute(
            "soft".parse().unwrap(),
            "industry",
            Predicate::equals("software"),
            10,
        ),
    ];
    for r in fits.into_iter().take(fit_rules) {
        b = b.rule(r).fit_cap(20);
    }
    b.build().unwrap()
}

fn case(penalty_windows: bool) -> impl Strategy<Value = Case> {
    let model = (
        proptest::collection::vec(rule_parts(penalty_windows), 1..8),
        [
            proptest::option::of(0i64..60),
            proptest::option::of(0i64..60),
            proptest::option::of(0i64..60),
        ],
        proptest::option::of(0i64..80),
        0usize..4,
        prop_oneof![
            Just(Floor::Zero),
            Just(Floor::Unbounded),
            Just(Floor::At {
                points: Points::new(-10)
            })
        ],
    )
        .prop_map(|(r, c, e, f, fl)| build_model(r, c, e, f, fl));
    let events = proptest::collection::vec((0usize..9, 0i64..2400), 0..25);
    // Copies: the same event again, the same id at another time (another
    // event), or the same id and time with another payload (a conflicting
    // copy: the lowest shape fingerprint counts).
    let dups = proptest::collection::vec(
        (
            0usize..25,
            prop_oneof![Just(0i64), -50i64..50],
            proptest::option::of(0usize..9),
        ),
        0..5,
    );
    let lead = (any::<bool>(), any::<bool>(), any::<bool>());
    (model, events, dups, lead, 0i64..2600).prop_map(|(model, ev, dups, (big, free, soft), now_h)| {
        let mut events: Vec<Event> = ev
            .iter()
            .enumerate()
            .map(|(i, &(k, h))| event(&format!("e{i:02}"), t0() + Duration::hours(h), kind(k)))
            .collect();
        for (d, shift, other) in dups {
            if let Some(mut e) = events.get(d % events.len().max(1)).cloned() {
                e.at += Duration::hours(shift);
                if let Some(k) = other {
                    e.shape.kind = kind(k);
                }
                events.push(e);
            }
        }
        let mut lead = Lead::new(LeadId::new("lead").unwrap(), t0());
        lead.company.employees = Some(if big { 500 } else { 20 });
        lead.person.free_mail = Some(free);
        lead.company.industry = Some(if soft { "software" } else { "retail" }.into());
        Case {
            model,
            lead,
            events,
            now: t0() + Duration::hours(now_h),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The incremental path equals the pure oracle, whatever the order of
    /// the events (shuffled by a seed) and their duplicates.
    #[test]
    fn incremental_equals_oracle(c in case(true), seed in any::<u64>()) {
        let oracle = c.model.explain(&c.lead, &c.events, c.now);
        let mut shuffled = c.events.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut state = ScoreState::new();
        for e in &shuffled {
            state.record(&c.model, e);
        }
        prop_assert_eq!(&c.model.explain_with(&c.lead, &state, c.now), &oracle);
        prop_assert_eq!(c.model.scores_with(&c.lead, &state, c.now), oracle.scores.clone());
        prop_assert_eq!(c.model.score(&c.lead, &shuffled, c.now), oracle.scores);
    }

    /// Group, dimension and named caps are never exceeded, and the
    /// explanation sums exactly to every score.
    #[test]
    fn caps_hold_and_explanation_sums(c in case(true)) {
        let why = c.model.explain(&c.lead, &c.events, c.now);
        for (name, group) in c.model.groups() {
            if let Some(cap) = group.cap {
                let sum: Points = why.contributions.iter().filter(|x| x.group == name.as_str()).map(|x| x.points).sum();
                prop_assert!(sum <= cap, "group {} sum {} > cap {}", name, sum, cap);
            }
        }
        if let Some(cap) = c.model.engagement_cap() {
            prop_assert!(why.scores.engagement <= cap);
        }
        if let Some(cap) = c.model.fit_cap() {
            prop_assert!(why.scores.fit <= cap);
        }
        if let Some(side) = why.scores.named.get("side") {
            prop_assert!(*side <= Points::new(25));
        }
        for d in [Dimension::Fit, Dimension::Engagement, Dimension::Combined] {
            prop_assert_eq!(why.total(d), why.scores.get(d));
        }
        for x in &why.contributions {
            prop_assert!(x.points <= x.decayed.max(Points::ZERO) || x.points == x.decayed);
            prop_assert!(x.decayed <= x.raw.max(Points::ZERO) || x.decayed == x.raw);
        }
    }

    /// As `now` advances with no new events, scores never rise (penalties
    /// here have no window: a penalty leaving its window would lift them).
    #[test]
    fn decay_never_raises_scores(c in case(false), later in 0i64..3000) {
        let last = c.events.iter().map(|e| e.at).max().unwrap_or_else(t0);
        let now1 = c.now.max(last);
        let now2 = now1 + Duration::hours(later);
        let a = c.model.score(&c.lead, &c.events, now1);
        let b = c.model.score(&c.lead, &c.events, now2);
        prop_assert!(b.engagement <= a.engagement, "{:?} -> {:?}", a.engagement, b.engagement);
        prop_assert!(b.combined <= a.combined);
        for (k, v) in &b.named {
            prop_assert!(*v <= a.named[k]);
        }
    }

    /// Once-only rules count once, whatever the duplicates; duplicating
    /// every event changes nothing.
    #[test]
    fn once_counts_once_and_duplicates_change_nothing(c in case(true)) {
        let why = c.model.explain(&c.lead, &c.events, c.now);
        for r in c.model.rules() {
            if matches!(r.when, Trigger::Event { .. }) && r.limit == Limit::Once {
                prop_assert!(why.for_rule(r.id.as_str()).count() <= 1);
            }
        }
        let mut doubled = c.events.clone();
        doubled.extend(c.events.iter().cloned());
        prop_assert_eq!(c.model.score(&c.lead, &doubled, c.now), why.scores);
    }

    /// A new event that only matches positive rules never lowers a score.
    #[test]
    fn positive_event_never_lowers(c in case(true), k in 0usize..9, after in 0i64..100) {
        let last = c.events.iter().map(|e| e.at).max().unwrap_or_else(t0);
        let at = last + Duration::hours(after);
        let now = at.max(c.now);
        let new = event("new-event", at, kind(k));
        let positive = c.model.rules().iter().filter(|r| r.matches_shape(&new.shape)).all(|r| r.points >= Points::ZERO);
        prop_assume!(positive);
        let before = c.model.score(&c.lead, &c.events, now);
        let mut more = c.events.clone();
        more.push(new);
        let after = c.model.score(&c.lead, &more, now);
        prop_assert!(after.engagement >= before.engagement);
        prop_assert!(after.combined >= before.combined);
        for (k, v) in &after.named {
            prop_assert!(*v >= before.named[k]);
        }
    }

    /// Models round-trip through JSON and TOML.
    #[test]
    fn serde_round_trip(c in case(true)) {
        let json = serde_json::to_string(&c.model).unwrap();
        prop_assert_eq!(&serde_json::from_str::<ScoringModel>(&json).unwrap(), &c.model);
        let text = toml::to_string(&c.model).unwrap();
        prop_assert_eq!(&toml::from_str::<ScoringModel>(&text).unwrap(), &c.model);
    }
}

#[test]
fn score_state_serializes_as_its_hits() {
    let model = ScoringModel::b2b_default().unwrap();
    let mut state = ScoreState::new();
    state.record(&model, &event("e1", t0(), EventKind::DemoRequest));
    state.record(&model, &event("e2", t0(), page("/pricing")));
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<ScoreState>(&json).unwrap(), state);
    assert!(!state.record(&model, &event("e1", t0(), EventKind::DemoRequest)));
}

#[test]
fn autotraits() {
    fn is<T: Send + Sync + Clone>() {}
    is::<ScoringModel>();
    is::<ScoreState>();
    is::<leadflow::scoring::Explanation>();
}
