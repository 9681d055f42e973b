//! Definitions, conditions, transitions, records and lifecycles survive serde
//! (JSON and TOML), and data-driven lifecycle fixtures under
//! `tests/data/lifecycle/` replay as expected.

use std::path::Path;

use chrono::{DateTime, Utc};
use leadflow::criteria::{Checklist, Condition, Framework, LeadView};
use leadflow::{
    AssetType, Dimension, EngagementLevel, Event, EventMatcher, EventType, Grade, Lead, LifecycleDefinition,
    PageCategory, Predicate, Scores, Span, Stage, Transition,
};
use serde::Deserialize;

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
    let back: leadflow::LeadLifecycle = serde_json::from_str(&json).unwrap();
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
