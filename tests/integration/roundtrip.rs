//! Definitions, conditions, transitions, records and lifecycles survive serde
//! (JSON and TOML), and data-driven lifecycle fixtures under
//! `tests/data/lifecycle/` replay as expected.

use std::path::Path;

use chrono::{DateTime, Utc};
use leadflow::criteria::{Checklist, Condition, Framework, LeadView, MAX_CONDITION_DEPTH};
use leadflow::lifecycle::{LifecycleDefinition, Transition};
use leadflow::{
    AssetType, Dimension, EngagementLevel, Event, EventMatcher, EventType, Grade, Lead, PageCategory,
    Predicate, Scores, Span, Stage,
};
use proptest::prelude::*;
use serde::Deserialize;

use crate::arbitrary;
use crate::support::*;

fn every_condition() -> Condition {
    Condition::all([
        Condition::score_at_least(Dimension::Engagement, 25),
        Condition::fit_grade_at_least(Grade::new('B').unwrap()),
        Condition::EngagementLevelAtLeast {
            level: EngagementLevel::new(2).unwrap(),
        },
        Condition::did_within(EventMatcher::download(AssetType::CaseStudy), Span::days(30)),
        Condition::count(
            EventMatcher::of(EventType::PageView)
                .with_path_prefix("/pricing")
                .with_property("utm", Predicate::Exists),
            3,
            Some(Span::weeks(2)),
        ),
        Condition::repeat_visits(PageCategory::Product, 3, None),
        Condition::attribute("employees", Predicate::between(50.0, 5000.0)),
        Condition::any([
            Condition::checklist(Framework::Meddicc, 5),
            Condition::negate(Condition::attribute(
                "industry",
                Predicate::one_of(["education", "government"]),
            )),
        ]),
        Condition::custom("my_rule"),
    ])
}

#[test]
fn conditions_round_trip_json_and_toml() {
    let c = every_condition();
    let json = serde_json::to_string_pretty(&c).unwrap();
    assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), c);
    #[derive(serde::Serialize, Deserialize, PartialEq, Debug)]
    struct Wrap {
        condition: Condition,
    }
    let w = Wrap { condition: c };
    let toml_text = toml::to_string(&w).unwrap();
    assert_eq!(toml::from_str::<Wrap>(&toml_text).unwrap(), w);
}

#[test]
fn the_seed_mql_rule_in_json() {
    // "MQL when score >= threshold OR a pricing-sheet download", as data.
    let json = r#"{"type": "any", "of": [
        {"type": "score_at_least", "dimension": "combined", "at_least": 60},
        {"type": "did_action", "action": {"event": "content_download", "asset": "pricing_sheet"}}
    ]}"#;
    assert_eq!(serde_json::from_str::<Condition>(json).unwrap(), mql_condition());
}

#[test]
fn definitions_round_trip_json_and_toml() {
    let def = LifecycleDefinition::standard_b2b(every_condition());
    let json = serde_json::to_string(&def).unwrap();
    assert_eq!(serde_json::from_str::<LifecycleDefinition>(&json).unwrap(), def);
    let toml_text = toml::to_string(&def).unwrap();
    assert_eq!(toml::from_str::<LifecycleDefinition>(&toml_text).unwrap(), def);
}

#[test]
fn lifecycles_round_trip_with_their_records() {
    let machine = standard();
    let lead = identified_lead("l1");
    let events = vec![pricing_download(&lead, "e", 1)];
    let view = LeadView::new(&lead).with_events(&events);
    let mut life = machine.start(&lead);
    machine.advance(&mut life, &view, at(1));
    let t = Transition::Accept {
        owner: leadflow::OwnerId::new("rep").unwrap(),
    };
    machine.apply(&mut life, t, &view, at(2)).unwrap();
    life.record_follow_up(at(3), None);
    life.update_checklist(&Checklist::new().met("budget", "yes"));
    let json = serde_json::to_string(&life).unwrap();
    let back: leadflow::lifecycle::LeadLifecycle = serde_json::from_str(&json).unwrap();
    assert_eq!(back, life);
}

#[derive(Deserialize)]
struct Fixture {
    definition: LifecycleDefinition,
    lead: Lead,
    #[serde(default)]
    events: Vec<Event>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    at: DateTime<Utc>,
    #[serde(default)]
    scores: Option<Scores>,
    #[serde(default)]
    command: Option<Transition>,
    #[serde(default)]
    follow_up: bool,
    #[serde(default)]
    expect_error: Option<String>,
    expect_stage: Stage,
    #[serde(default)]
    expect_overdue: usize,
}

#[test]
fn lifecycle_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifecycle");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path.display().to_string();
        let f: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let machine = f.definition.build().unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut life = machine.start(&f.lead);
        for (i, step) in f.steps.iter().enumerate() {
            let mut view = LeadView::new(&f.lead).with_events(&f.events);
            if let Some(s) = &step.scores {
                view = view.with_scores(s);
            }
            if step.follow_up {
                life.record_follow_up(step.at, None);
            }
            match &step.command {
                Some(cmd) => match (
                    machine.apply(&mut life, cmd.clone(), &view, step.at),
                    &step.expect_error,
                ) {
                    (Ok(_), None) => {}
                    (Err(e), Some(expected)) => {
                        assert!(e.to_string().contains(expected.as_str()), "{name} step {i}: {e}")
                    }
                    (r, expected) => panic!("{name} step {i}: got {r:?}, expected error {expected:?}"),
                },
                None => {
                    machine.advance(&mut life, &view, step.at);
                }
            }
            assert_eq!(life.stage(), step.expect_stage, "{name} step {i}");
            assert_eq!(
                life.overdue(&machine, step.at).len(),
                step.expect_overdue,
                "{name} step {i} overdue"
            );
        }
    }
}

// ---- every value that serializes loads back equal ----

/// Writes `value` as JSON, and as TOML when `toml_too` (a type written as a
/// table), and reads each back equal.
fn round_trips<T>(value: &T, toml_too: bool) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(format!("to JSON: {e}")))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("from {json}: {e}")))?;
    prop_assert_eq!(&back, value, "JSON {}", json);
    if toml_too {
        let text = toml::to_string(value).map_err(|e| TestCaseError::fail(format!("to TOML: {e}")))?;
        let back: T =
            toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("from TOML {text}: {e}")))?;
        prop_assert_eq!(&back, value, "TOML {}", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn conditions_round_trip(c in arbitrary::condition()) {
        round_trips(&c, true)?;
    }

    #[test]
    fn the_deepest_allowed_condition_round_trips(c in arbitrary::deepest_condition()) {
        prop_assert_eq!(c.depth(), MAX_CONDITION_DEPTH);
        round_trips(&c, true)?;
        // And inside a lifecycle definition, where serde_json counts the
        // definition's own levels too.
        let def = LifecycleDefinition::standard_b2b(c);
        round_trips(&def, true)?;
    }

    #[test]
    fn matchers_and_predicates_round_trip(m in arbitrary::matcher(), p in arbitrary::predicate()) {
        round_trips(&m, true)?;
        round_trips(&p, true)?;
    }

    #[test]
    fn scoring_models_round_trip(m in arbitrary::model()) {
        round_trips(&m, true)?;
    }

    #[test]
    fn rules_round_trip(r in arbitrary::rule(), d in arbitrary::decay()) {
        round_trips(&r, true)?;
        round_trips(&d, true)?;
    }

    #[test]
    fn lifecycle_definitions_round_trip(d in arbitrary::definition()) {
        round_trips(&d, true)?;
    }

    #[test]
    fn transitions_round_trip(t in arbitrary::transition()) {
        round_trips(&t, true)?;
    }

    #[test]
    fn leads_round_trip(l in arbitrary::lead()) {
        round_trips(&l, true)?;
    }

    #[test]
    fn scores_and_values_round_trip(
        s in arbitrary::scores(),
        p in arbitrary::points(),
        v in arbitrary::attr_value(),
        span in arbitrary::span(),
    ) {
        round_trips(&s, true)?;
        round_trips(&p, false)?;
        round_trips(&v, false)?;
        round_trips(&span, false)?;
    }

    #[test]
    fn analytics_configurations_round_trip(
        a in arbitrary::account_model(),
        c in arbitrary::analysis_config(),
        e in arbitrary::expansion(),
    ) {
        round_trips(&a, true)?;
        round_trips(&c, true)?;
        round_trips(&e, true)?;
    }
}
