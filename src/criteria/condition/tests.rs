use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::criteria::Checklist;
use crate::event::{AssetType, Event, EventKind, EventType};
use crate::id::{EventId, LeadId};
use crate::lead::Lead;
use crate::scores::Scores;

fn t(day: i64, hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::days(day) + Duration::hours(hour)
}

fn lead() -> Lead {
    let mut l = Lead::new(LeadId::new("l").unwrap(), t(0, 0));
    l.company.employees = Some(300);
    l.company.industry = Some("software".into());
    l
}

fn ev(id: &str, at: DateTime<Utc>, kind: EventKind) -> Event {
    Event::new(EventId::new(id).unwrap(), LeadId::new("l").unwrap(), at, kind)
}

fn visit(id: &str, at: DateTime<Utc>, path: &str) -> Event {
    ev(
        id,
        at,
        EventKind::PageView {
            path: path.into(),
            category: None,
        },
    )
}

fn outcome(c: &Condition, view: &LeadView<'_>, now: DateTime<Utc>) -> Outcome {
    let fast = c.outcome(view, now);
    let full = c.evaluate(view, now);
    assert_eq!(fast, full.outcome, "outcome and evaluate agree for {c:?}");
    fast
}

#[test]
fn score_at_least_reads_each_dimension_and_named_scores() {
    let l = lead();
    let mut scores = Scores {
        fit: Points::new(30),
        engagement: Points::new(50),
        combined: Points::new(80),
        ..Scores::default()
    };
    scores.named.insert("analytics".into(), Points::new(12));
    let view = LeadView::new(&l).with_scores(&scores);
    let now = t(1, 0);
    assert_eq!(
        outcome(&Condition::score_at_least(Dimension::Combined, 80), &view, now),
        Outcome::Met
    );
    assert_eq!(
        outcome(&Condition::score_at_least(Dimension::Fit, 31), &view, now),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&Condition::score_at_least(Dimension::Engagement, 50), &view, now),
        Outcome::Met
    );
    let named = Condition::ScoreAtLeast {
        dimension: Dimension::Combined,
        at_least: Points::new(10),
        score: Some("analytics".into()),
    };
    assert_eq!(outcome(&named, &view, now), Outcome::Met);
    let missing = Condition::ScoreAtLeast {
        dimension: Dimension::Combined,
        at_least: Points::new(10),
        score: Some("nope".into()),
    };
    assert_eq!(outcome(&missing, &view, now), Outcome::Unknown);
    assert_eq!(
        outcome(
            &Condition::score_at_least(Dimension::Fit, 1),
            &LeadView::new(&l),
            now
        ),
        Outcome::Unknown
    );
    assert_eq!(
        Condition::score_at_least(Dimension::Fit, 31)
            .evaluate(&view, now)
            .description,
        "fit score 30 < 31"
    );
}

#[test]
fn grade_and_level() {
    let l = lead();
    let scores = Scores {
        fit_grade: Some(Grade::new('B').unwrap()),
        engagement_level: Some(EngagementLevel::new(3).unwrap()),
        ..Scores::default()
    };
    let view = LeadView::new(&l).with_scores(&scores);
    let now = t(0, 0);
    let grade = |g| Condition::fit_grade_at_least(Grade::new(g).unwrap());
    assert_eq!(outcome(&grade('B'), &view, now), Outcome::Met);
    assert_eq!(outcome(&grade('C'), &view, now), Outcome::Met);
    assert_eq!(outcome(&grade('A'), &view, now), Outcome::NotMet);
    let level = |n| Condition::EngagementLevelAtLeast {
        level: EngagementLevel::new(n).unwrap(),
    };
    assert_eq!(outcome(&level(3), &view, now), Outcome::Met);
    assert_eq!(outcome(&level(2), &view, now), Outcome::NotMet);
    let none = Scores::default();
    assert_eq!(
        outcome(&grade('D'), &LeadView::new(&l).with_scores(&none), now),
        Outcome::Unknown
    );
}

#[test]
fn did_action_respects_window_and_ignores_the_future() {
    let l = lead();
    let events = [
        ev(
            "a",
            t(0, 0),
            EventKind::ContentDownload {
                asset: AssetType::PricingSheet,
                asset_id: None,
            },
        ),
        ev("b", t(10, 0), EventKind::DemoRequest),
    ];
    let view = LeadView::new(&l).with_events(&events);
    let pricing = EventMatcher::download(AssetType::PricingSheet);
    assert_eq!(
        outcome(&Condition::did(pricing.clone()), &view, t(5, 0)),
        Outcome::Met
    );
    // Window boundaries are inclusive: exactly 7 days old still counts.
    assert_eq!(
        outcome(
            &Condition::did_within(pricing.clone(), Span::days(7)),
            &view,
            t(7, 0)
        ),
        Outcome::Met
    );
    assert_eq!(
        outcome(&Condition::did_within(pricing, Span::days(7)), &view, t(7, 1)),
        Outcome::NotMet
    );
    // The demo request at day 10 has not happened yet at day 5.
    assert_eq!(
        outcome(&Condition::did(EventType::DemoRequest), &view, t(5, 0)),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&Condition::did(EventType::DemoRequest), &view, t(10, 0)),
        Outcome::Met
    );
    let v = Condition::did(EventType::ContactRequest).evaluate(&view, t(20, 0));
    assert_eq!(v.description, "did contact_request: never");
}

#[test]
fn action_count() {
    let l = lead();
    let events: Vec<Event> = (0..4)
        .map(|i| ev(&format!("o{i}"), t(i, 0), EventKind::EmailOpen { campaign: None }))
        .collect();
    let view = LeadView::new(&l).with_events(&events);
    let c = |n, w| Condition::count(EventType::EmailOpen, n, w);
    assert_eq!(outcome(&c(4, None), &view, t(9, 0)), Outcome::Met);
    assert_eq!(outcome(&c(5, None), &view, t(9, 0)), Outcome::NotMet);
    assert_eq!(outcome(&c(2, Some(Span::days(1))), &view, t(3, 0)), Outcome::Met);
    assert_eq!(
        outcome(&c(3, Some(Span::days(1))), &view, t(3, 0)),
        Outcome::NotMet
    );
    assert_eq!(
        c(3, Some(Span::days(1))).evaluate(&view, t(3, 0)).description,
        "email_open within 1d 2 times (needs 3)"
    );
}

#[test]
fn repeat_visits_counts_distinct_sessions() {
    let l = lead();
    let events = [
        visit("1", t(0, 0), "/product/a"),
        visit("2", t(0, 0) + Duration::minutes(10), "/features/b"), // same visit
        visit("3", t(1, 0), "/pricing"),                            // other category
        visit("4", t(2, 0), "/product/a"),
        visit("5", t(3, 0), "/platform"),
    ];
    let view = LeadView::new(&l).with_events(&events);
    let c = |n, w| Condition::repeat_visits(PageCategory::Product, n, w);
    assert_eq!(outcome(&c(3, None), &view, t(4, 0)), Outcome::Met);
    assert_eq!(outcome(&c(4, None), &view, t(4, 0)), Outcome::NotMet);
    assert_eq!(outcome(&c(2, Some(Span::days(2))), &view, t(3, 0)), Outcome::Met);
    assert_eq!(
        outcome(&c(3, Some(Span::days(2))), &view, t(3, 0)),
        Outcome::NotMet
    );
    // Order of events does not matter.
    let mut rev = events.to_vec();
    rev.reverse();
    assert_eq!(
        outcome(&c(3, None), &LeadView::new(&l).with_events(&rev), t(4, 0)),
        Outcome::Met
    );
}

#[test]
fn attribute_predicates_and_unknowns() {
    let l = lead();
    let view = LeadView::new(&l);
    let now = t(0, 0);
    let a = |k: &str, p| Condition::attribute(k, p);
    assert_eq!(
        outcome(&a("employees", Predicate::at_least(200.0)), &view, now),
        Outcome::Met
    );
    assert_eq!(
        outcome(&a("employees", Predicate::between(1.0, 300.0)), &view, now),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(
            &a("industry", Predicate::one_of(["Software", "fintech"])),
            &view,
            now
        ),
        Outcome::Met
    );
    assert_eq!(
        outcome(&a("industry", Predicate::contains("soft")), &view, now),
        Outcome::Met
    );
    assert_eq!(
        outcome(&a("industry", Predicate::equals("retail")), &view, now),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&a("country", Predicate::equals("DE")), &view, now),
        Outcome::Unknown
    );
    assert_eq!(
        a("employees", Predicate::at_least(200.0))
            .evaluate(&view, now)
            .description,
        "employees 300 >= 200"
    );
}

#[test]
fn checklist_k_of_n_with_unknowns() {
    let l = lead();
    let bant3 = Condition::checklist(Framework::Bant, 3);
    let now = t(0, 0);
    let check = |c: &Checklist| outcome(&bant3, &LeadView::new(&l).with_checklist(c), now);
    // 3 met → met.
    assert_eq!(
        check(
            &Checklist::new()
                .met("budget", "x")
                .met("authority", "y")
                .met("need", "z")
        ),
        Outcome::Met
    );
    // 2 met, 2 unknown → could still reach 3: unknown.
    assert_eq!(
        check(&Checklist::new().met("budget", "x").met("need", "z")),
        Outcome::Unknown
    );
    // 2 met, 1 unknown, 1 not met → the unknown one would just reach 3:
    // unknown.
    let one_short = Checklist::new()
        .met("budget", "x")
        .met("need", "z")
        .unmet("timeline", "b");
    assert_eq!(check(&one_short), Outcome::Unknown);
    assert_eq!(
        bant3
            .evaluate(&LeadView::new(&l).with_checklist(&one_short), now)
            .outcome,
        Outcome::Unknown
    );
    // 2 met, 2 not met → cannot reach 3: not met.
    assert_eq!(
        check(
            &Checklist::new()
                .met("budget", "x")
                .met("need", "z")
                .unmet("authority", "a")
                .unmet("timeline", "b")
        ),
        Outcome::NotMet
    );
    // No checklist at all: everything unknown.
    assert_eq!(outcome(&bant3, &LeadView::new(&l), now), Outcome::Unknown);
    // Custom items.
    let own = Condition::Checklist {
        framework: None,
        items: vec!["pain".into(), "champion".into()],
        at_least: 1,
    };
    assert_eq!(
        check_with(&own, &l, &Checklist::new().met("champion", "Bob")),
        Outcome::Met
    );
    let v = bant3.evaluate(
        &LeadView::new(&l).with_checklist(&Checklist::new().met("budget", "x")),
        now,
    );
    assert_eq!(v.description, "BANT 1 of 4 met, 3 unknown (needs 3): budget");
}

fn check_with(c: &Condition, l: &Lead, checklist: &Checklist) -> Outcome {
    outcome(c, &LeadView::new(l).with_checklist(checklist), t(0, 0))
}

#[test]
fn combinators_follow_kleene_logic() {
    let l = lead();
    let view = LeadView::new(&l);
    let now = t(0, 0);
    let met = Condition::attribute("employees", Predicate::Exists);
    let not_met = Condition::attribute("employees", Predicate::at_least(1000.0));
    let unknown = Condition::attribute("country", Predicate::Exists);
    use Outcome::*;
    let cases = [
        (Condition::all([met.clone(), met.clone()]), Met),
        (Condition::all([met.clone(), unknown.clone()]), Unknown),
        (Condition::all([unknown.clone(), not_met.clone()]), NotMet),
        (Condition::any([not_met.clone(), unknown.clone()]), Unknown),
        (Condition::any([unknown.clone(), met.clone()]), Met),
        (Condition::any([not_met.clone(), not_met.clone()]), NotMet),
        (Condition::negate(met.clone()), NotMet),
        (Condition::negate(not_met.clone()), Met),
        (Condition::negate(unknown.clone()), Unknown),
    ];
    for (c, expected) in cases {
        assert_eq!(outcome(&c, &view, now), expected, "{c:?}");
    }
    let v = Condition::any([not_met, met]).evaluate(&view, now);
    assert_eq!(v.children.len(), 2);
    assert_eq!(v.met_reasons(), vec!["employees 300 is known"]);
    assert_eq!(
        v.to_string(),
        "[met] any of 2\n  [not met] employees 300 >= 1000\n  [met] employees 300 is known\n"
    );
}

#[derive(Debug)]
struct BigCompany;

impl Criterion for BigCompany {
    fn evaluate(&self, lead: &LeadView<'_>, _now: DateTime<Utc>) -> Verdict {
        match lead.lead.company.employees {
            Some(n) => Verdict::leaf(Outcome::from_bool(n >= 250), format!("{n} employees")),
            None => Verdict::leaf(Outcome::Unknown, "size unknown"),
        }
    }
}

#[test]
fn custom_criteria_bind_by_name() {
    let l = lead();
    let mut registry = CriteriaRegistry::new();
    registry.register("big", BigCompany);
    let mut c: Condition =
        serde_json::from_str(r#"{"type":"not","of":{"type":"custom","name":"big"}}"#).unwrap();
    assert!(matches!(c.validate(), Err(CriteriaError::Unbound { .. })));
    assert_eq!(
        c.outcome(&LeadView::new(&l), t(0, 0)),
        Outcome::Unknown,
        "unbound is unknown"
    );
    c.bind(&registry).unwrap();
    c.validate().unwrap();
    let v = c.evaluate(&LeadView::new(&l), t(0, 0));
    assert_eq!(v.outcome, Outcome::NotMet);
    assert_eq!(v.children[0].description, "big: 300 employees");

    let mut missing = Condition::all([Condition::custom("big"), Condition::custom("nope")]);
    let err = missing.bind(&registry).unwrap_err();
    assert_eq!(
        err.to_string(),
        "custom criterion \"nope\" at $.of[1] is not bound: register it and call bind (registered: big)"
    );
    assert!(missing.validate().is_err(), "a failed bind binds nothing");
}

#[test]
fn validation_names_the_path() {
    let bad = Condition::any([
        Condition::did(EventType::DemoRequest),
        Condition::all([Condition::count(EventType::EmailOpen, 0, None)]),
    ]);
    assert_eq!(
        bad.validate(),
        Err(CriteriaError::ZeroCount {
            what: "action_count",
            path: "$.of[1].of[0]".into()
        })
    );
    assert!(matches!(
        Condition::any([]).validate(),
        Err(CriteriaError::EmptyCombinator { .. })
    ));
    assert!(matches!(
        Condition::did_within(EventType::DemoRequest, Span::ZERO).validate(),
        Err(CriteriaError::ZeroWindow { .. })
    ));
    assert!(matches!(
        Condition::checklist(Framework::Bant, 5).validate(),
        Err(CriteriaError::ChecklistBounds {
            at_least: 5,
            items: 4,
            ..
        })
    ));
    assert!(matches!(
        Condition::did(EventMatcher::of(EventType::DemoRequest).with_asset(AssetType::Ebook)).validate(),
        Err(CriteriaError::Matcher { .. })
    ));
}

/// The leaves the property test below builds trees of: each kind, with
/// outcomes that vary with the generated events, scores and checklist.
fn leaves() -> Vec<Condition> {
    vec![
        Condition::score_at_least(Dimension::Combined, 50),
        Condition::fit_grade_at_least(Grade::new('B').unwrap()),
        Condition::EngagementLevelAtLeast {
            level: EngagementLevel::new(2).unwrap(),
        },
        Condition::did(EventType::DemoRequest),
        Condition::did_within(EventType::EmailOpen, Span::days(2)),
        Condition::count(EventType::EmailOpen, 2, None),
        Condition::count(EventType::DemoRequest, 1, Some(Span::days(3))),
        Condition::repeat_visits(PageCategory::Pricing, 2, None),
        Condition::attribute("employees", Predicate::at_least(200.0)),
        Condition::attribute("country", Predicate::Missing),
        Condition::attribute("country", Predicate::Exists),
        Condition::checklist(Framework::Bant, 2),
    ]
}

fn tree() -> impl proptest::strategy::Strategy<Value = Condition> {
    use proptest::prelude::*;
    let leaf = (0..leaves().len()).prop_map(|i| leaves().swap_remove(i));
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Condition::all),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Condition::any),
            inner.prop_map(Condition::negate),
        ]
    })
}

/// Every node of `verdict` has the outcome `outcome` gives its condition.
fn agrees(c: &Condition, verdict: &Verdict, view: &LeadView<'_>, now: DateTime<Utc>) -> bool {
    let children: &[Condition] = match c {
        Condition::All { of } | Condition::Any { of } => of,
        Condition::Not { of } => std::slice::from_ref(&**of),
        _ => &[],
    };
    c.outcome(view, now) == verdict.outcome
        && children.len() == verdict.children.len()
        && children
            .iter()
            .zip(&verdict.children)
            .all(|(c, v)| agrees(c, v, view, now))
}

proptest::proptest! {
    #[test]
    fn evaluate_gives_the_outcome_at_every_node(
        c in tree(),
        events in proptest::collection::vec((0u8..4, 0i64..6, 0i64..24), 0..8),
        scores in proptest::option::of((0i64..100, 0usize..5, 0u8..5)),
        bant in proptest::collection::vec(0u8..3, 4),
        employees in proptest::option::of(0u32..500),
    ) {
        let mut l = lead();
        l.company.employees = employees;
        let events: Vec<Event> = events
            .iter()
            .enumerate()
            .map(|(n, &(kind, day, hour))| {
                let id = format!("e{n}");
                match kind {
                    0 => ev(&id, t(day, hour), EventKind::DemoRequest),
                    1 => ev(&id, t(day, hour), EventKind::EmailOpen { campaign: None }),
                    2 => visit(&id, t(day, hour), "/pricing"),
                    _ => visit(&id, t(day, hour), "/blog/post"),
                }
            })
            .collect();
        let scores = scores.map(|(combined, grade, level)| Scores {
            combined: Points::new(combined),
            fit_grade: b"ABCD".get(grade).and_then(|&g| Grade::new(char::from(g)).ok()),
            engagement_level: EngagementLevel::new(level).ok(),
            ..Scores::default()
        });
        let mut checklist = Checklist::new();
        for (item, status) in ["budget", "authority", "need", "timeline"].into_iter().zip(bant) {
            checklist = match status {
                0 => checklist.met(item, "yes"),
                1 => checklist.unmet(item, "no"),
                _ => checklist,
            };
        }
        let mut view = LeadView::new(&l).with_events(&events).with_checklist(&checklist);
        if let Some(s) = &scores {
            view = view.with_scores(s);
        }
        let now = t(4, 12);
        let verdict = c.evaluate(&view, now);
        proptest::prop_assert!(agrees(&c, &verdict, &view, now), "{c:?} gave {verdict}");
    }
}

#[test]
fn a_window_reaching_past_the_calendars_start_holds_every_event() {
    let l = lead();
    let events = [ev("e1", t(0, 0), EventKind::DemoRequest)];
    let view = LeadView::new(&l).with_events(&events);
    let forever: Span = "1000000000000w".parse().unwrap();
    let c = Condition::did_within(EventType::DemoRequest, forever);
    assert_eq!(outcome(&c, &view, t(3, 0)), Outcome::Met);
    let c = Condition::count(EventType::DemoRequest, 1, Some(forever));
    assert_eq!(outcome(&c, &view, t(3, 0)), Outcome::Met);
}

#[test]
fn every_leaf_writes_its_verdict_text() {
    let l = lead();
    let mut scores = Scores {
        fit: Points::new(30),
        combined: Points::new(80),
        fit_grade: Some(Grade::new('B').unwrap()),
        engagement_level: Some(EngagementLevel::new(3).unwrap()),
        ..Scores::default()
    };
    scores.named.insert("analytics".into(), Points::new(12));
    let pricing = EventMatcher::download(AssetType::PricingSheet);
    let events = [
        ev(
            "p",
            t(2, 9),
            EventKind::ContentDownload {
                asset: AssetType::PricingSheet,
                asset_id: None,
            },
        ),
        visit("v1", t(1, 0), "/product/a"),
        visit("v2", t(3, 0), "/product/b"),
    ];
    let view = LeadView::new(&l).with_scores(&scores).with_events(&events);
    let named = |name: &str| Condition::ScoreAtLeast {
        dimension: Dimension::Combined,
        at_least: Points::new(10),
        score: Some(name.into()),
    };
    let cases = [
        (
            Condition::score_at_least(Dimension::Combined, 60),
            "combined score 80 >= 60",
        ),
        (named("analytics"), "analytics score 12 >= 10"),
        (named("nope"), "nope score unknown (needs >= 10)"),
        (
            Condition::fit_grade_at_least(Grade::new('A').unwrap()),
            "fit grade B (needs A or better)",
        ),
        (
            Condition::EngagementLevelAtLeast {
                level: EngagementLevel::new(2).unwrap(),
            },
            "engagement level 3 (needs 2 or better)",
        ),
        (
            Condition::did_within(pricing.clone(), Span::days(30)),
            "did content_download(pricing_sheet) within 30d: once",
        ),
        (Condition::did(EventType::DemoRequest), "did demo_request: never"),
        (
            Condition::count(pricing, 2, None),
            "content_download(pricing_sheet) 1 times (needs 2)",
        ),
        (
            Condition::repeat_visits(PageCategory::Product, 2, Some(Span::days(7))),
            "2 distinct visits to product pages within 1w (needs 2)",
        ),
        (
            Condition::attribute("employees", Predicate::at_least(200.0)),
            "employees 300 >= 200",
        ),
        (
            Condition::attribute("country", Predicate::at_least(1.0)),
            "country unknown (needs >= 1)",
        ),
    ];
    for (condition, text) in cases {
        assert_eq!(
            condition.evaluate(&view, t(4, 0)).description,
            text,
            "{condition:?}"
        );
    }
}

/// A probe that knows a combined score (exact or a bound) and a count.
struct Known {
    combined: Option<(Points, bool)>,
    demos: Option<usize>,
}

impl Probe for Known {
    fn score(&self, dimension: Dimension) -> Option<(Points, bool)> {
        self.combined.filter(|_| dimension == Dimension::Combined)
    }

    fn count(
        &self,
        _: &crate::matcher::EventMatcher,
        _: crate::criteria::events::Window,
        limit: usize,
    ) -> Option<usize> {
        self.demos.map(|n| n.min(limit))
    }

    fn lead(&self) -> Option<&Lead> {
        None
    }
}

/// What a cheap probe decides: an exact score decides a threshold both
/// ways, a bound only rules it out, a count decides, and what the probe
/// cannot see is unknown (the engine's gate skips a lead only on `NotMet`).
#[test]
fn bounded_decides_from_exact_scores_bounds_and_counts() {
    let hot = Condition::score_at_least(Dimension::Combined, 60);
    let now = t(1, 0);
    let probe = |combined, demos| Known { combined, demos };
    // (combined, exact or only a bound, outcome)
    for (combined, exact, want) in [
        (60, true, Outcome::Met),
        (59, true, Outcome::NotMet),
        (59, false, Outcome::NotMet),
        (60, false, Outcome::Unknown),
    ] {
        let known = probe(Some((Points::new(combined), exact)), None);
        assert_eq!(hot.bounded(&known, now), want, "{combined} exact: {exact}");
    }
    assert_eq!(hot.bounded(&probe(None, None), now), Outcome::Unknown);
    let demo = Condition::did(EventType::DemoRequest);
    assert_eq!(demo.bounded(&probe(None, Some(1)), now), Outcome::Met);
    assert_eq!(demo.bounded(&probe(None, Some(0)), now), Outcome::NotMet);
    let both = Condition::all([hot.clone(), demo.clone()]);
    assert_eq!(
        both.bounded(&probe(Some((Points::new(70), true)), Some(1)), now),
        Outcome::Met
    );
    assert_eq!(
        both.bounded(&probe(Some((Points::new(70), true)), Some(0)), now),
        Outcome::NotMet
    );
    // A condition at the depth limit is still decided; deeper is unknown.
    let nested = |nots: usize| (0..nots).fold(demo.clone(), |c, _| Condition::Not { of: Box::new(c) });
    let met = probe(None, Some(1));
    let at_limit = nested(MAX_CONDITION_DEPTH - 1).bounded(&met, now);
    let expected = if (MAX_CONDITION_DEPTH - 1) % 2 == 0 {
        Outcome::Met
    } else {
        Outcome::NotMet
    };
    assert_eq!(at_limit, expected);
    assert_eq!(nested(MAX_CONDITION_DEPTH).bounded(&met, now), Outcome::Unknown);
    // The same through `all` and `any`.
    for wrap in [|c| Condition::all([c]), |c| Condition::any([c])] as [fn(Condition) -> Condition; 2] {
        let chain = |levels: usize| (0..levels).fold(demo.clone(), |c, _| wrap(c));
        assert_eq!(chain(MAX_CONDITION_DEPTH - 1).bounded(&met, now), Outcome::Met);
        assert_eq!(chain(MAX_CONDITION_DEPTH).bounded(&met, now), Outcome::Unknown);
    }
    let twice = Condition::count(EventType::DemoRequest, 2, None);
    assert_eq!(twice.bounded(&probe(None, Some(2)), now), Outcome::Met);
    assert_eq!(twice.bounded(&probe(None, Some(1)), now), Outcome::NotMet);
}

/// A window deep in a condition is its horizon up to the depth limit;
/// beyond it every event is.
#[test]
fn the_event_horizon_stops_at_the_depth_limit() {
    let week = crate::Span::days(7);
    let nested = |nots: usize| {
        (0..nots).fold(Condition::did_within(EventType::DemoRequest, week), |c, _| {
            Condition::Not { of: Box::new(c) }
        })
    };
    assert_eq!(
        nested(MAX_CONDITION_DEPTH - 1).event_horizon(),
        crate::criteria::EventHorizon::Within(week)
    );
    assert_eq!(
        nested(MAX_CONDITION_DEPTH).event_horizon(),
        crate::criteria::EventHorizon::All
    );
}
