//! Strict inputs: a field a type does not have is refused with an error
//! naming it (and, through `serde_path_to_error`, where it is), at every
//! level of every configuration and input type; so are a key given twice
//! and a float that cannot be written back.

use chrono::{TimeZone, Utc};
use leadflow::account::{AccountModel, Rollup};
use leadflow::analytics::AnalysisConfig;
use leadflow::criteria::Condition;
use leadflow::lifecycle::{ExpansionCriteria, LifecycleDefinition, Transition};
use leadflow::scoring::{Floor, Limit, ScoringModelBuilder};
use leadflow::{AttrValue, Company, Lead, LeadId, Predicate, Scores, ScoringModel};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::arbitrary;

/// Reads JSON the way a host reporting errors to people would: the error
/// says what is wrong and where (`rules[0].limt: unknown field ...`).
fn read<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

/// The error reading `json` as `T`, which must be refused.
fn refused<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match read::<T>(json) {
        Ok(v) => panic!("accepted {json} as {v:?}"),
        Err(e) => e,
    }
}

const DEMO_RULE: &str =
    r#""id": "demo", "points": 40, "when": {"type": "event", "action": {"event": "demo_request"}}"#;

#[test]
fn a_typo_on_a_rule_is_refused_with_its_path() {
    // "limt" used to leave the rule at its default limit (once) silently.
    let json =
        format!(r#"{{"version": "m@1", "rules": [{{{DEMO_RULE}, "limt": {{"type": "unlimited"}}}}]}}"#);
    let e = refused::<ScoringModel>(&json);
    assert!(
        e.starts_with("rules[0].limt: unknown field `limt`, expected one of"),
        "{e}"
    );
    assert!(e.contains("`limit`"), "{e}");
    let e = toml::from_str::<ScoringModelBuilder>(
        "version = \"m@1\"\n[[rules]]\nid = \"demo\"\npoints = 40\nlimt = { type = \"unlimited\" }\n[rules.when]\ntype = \"event\"\naction = { event = \"demo_request\" }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field `limt`"), "{e}");
}

#[test]
fn a_typo_on_a_group_is_refused_with_its_path() {
    // "capp" used to leave the group uncapped silently.
    let json = format!(
        r#"{{"version": "m@1", "groups": {{"web": {{"capp": 30}}}}, "rules": [{{{DEMO_RULE}, "group": "web"}}]}}"#
    );
    let e = refused::<ScoringModel>(&json);
    assert!(
        e.starts_with("groups.web.capp: unknown field `capp`, expected `cap` or `decay`"),
        "{e}"
    );
}

#[test]
fn no_decay_takes_no_fields() {
    // A half-life written on "none" used to be dropped silently: the group
    // did not decay.
    let json = format!(
        r#"{{"version": "m@1", "groups": {{"web": {{"decay": {{"type": "none", "half_life": "30d"}}}}}}, "rules": [{{{DEMO_RULE}, "group": "web"}}]}}"#
    );
    let e = refused::<ScoringModel>(&json);
    assert!(e.starts_with("groups.web.decay"), "{e}");
    assert!(e.contains("half_life"), "{e}");
    assert!(read::<ScoringModel>(&json.replace(r#", "half_life": "30d""#, "")).is_ok());
}

#[test]
fn a_typo_in_an_upserted_lead_is_refused_with_its_path() {
    // "emplyees" used to give a lead without attributes.
    let e = refused::<Lead>(
        r#"{"id": "lead-ada", "created_at": "2026-03-02T09:00:00Z", "company": {"emplyees": 450}}"#,
    );
    assert!(
        e.starts_with("company.emplyees: unknown field `emplyees`, expected one of"),
        "{e}"
    );
    let e = refused::<Lead>(r#"{"id": "lead-ada", "created_at": "2026-03-02T09:00:00Z", "emplyees": 450}"#);
    assert!(e.starts_with("emplyees: unknown field `emplyees`"), "{e}");
    let e = refused::<Lead>(
        r#"{"id": "l", "created_at": "2026-03-02T09:00:00Z", "source": {"type": "marketing", "channel": "email", "campaing": "spring"}}"#,
    );
    assert!(
        e.contains("unknown field `campaing`, expected `channel` or `campaign`"),
        "{e}"
    );
}

#[test]
fn a_typo_in_a_condition_is_refused_with_its_path_and_the_fields_its_type_takes() {
    let e = refused::<LifecycleDefinition>(
        r#"{"initial": "lead", "edges": [{"from": "lead", "transition": "qualify", "trigger":
            {"type": "automatic", "name": "mql", "criterion": {"type": "any", "of": [
                {"type": "score_at_least", "dimension": "combined", "at_least": 60},
                {"type": "did_action", "action": {"event": "demo_request"}, "withn": "7d"}]}}}]}"#,
    );
    assert!(
        e.starts_with(
            "edges[0].trigger.criterion.of[1].withn: unknown field `withn`, expected `action` or `within`"
        ),
        "{e}"
    );
    // Before the type, a field is checked once the type is known.
    let e = refused::<Condition>(r#"{"dimension": "fit", "at_least": 3, "type": "did_action"}"#);
    assert!(
        e.contains("unknown field `dimension`, expected `action` or `within`"),
        "{e}"
    );
    let e = refused::<Condition>(r#"{"type": "did_action"}"#);
    assert!(e.contains("missing field `action`"), "{e}");
    let e = refused::<Condition>(r#"{"of": []}"#);
    assert!(e.contains("missing field `type`"), "{e}");
    let e = refused::<Condition>(r#"{"type": "not", "of": [{"type": "custom", "name": "x"}]}"#);
    assert!(
        e.contains("invalid type: sequence, expected one condition"),
        "{e}"
    );
    let e = refused::<Condition>(
        r#"{"type": "action_count", "action": {"event": "email_open"}, "at_least": 2.5}"#,
    );
    assert!(e.contains("expected a whole number from 0 to 4294967295"), "{e}");
    // Every form the derived format accepted still reads.
    let c: Condition = serde_json::from_str(
        r#"{"at_least": 2, "type": "repeat_visits", "page": "pricing", "within": null}"#,
    )
    .unwrap();
    assert_eq!(
        c,
        Condition::repeat_visits(leadflow::PageCategory::Pricing, 2, None)
    );
}

#[test]
fn a_trigger_refuses_the_fields_of_the_other_type() {
    let e = refused::<LifecycleDefinition>(
        r#"{"initial": "lead", "edges": [{"from": "mql", "transition": "accept", "trigger":
            {"type": "command", "criterion": {"type": "custom", "name": "x"}}}]}"#,
    );
    assert!(
        e.starts_with("edges[0].trigger: unknown field `criterion`, expected `guard`"),
        "{e}"
    );
    let e = refused::<LifecycleDefinition>(
        r#"{"initial": "lead", "edges": [{"from": "lead", "transition": "qualify", "trigger":
            {"type": "automatic", "name": "mql"}}]}"#,
    );
    assert!(e.contains("missing field `criterion`"), "{e}");
}

#[test]
fn unit_variants_refuse_fields() {
    // serde's derive ignores every field of a unit variant, even with
    // deny_unknown_fields: `{"type": "once", "n": 3}` read as `once`.
    let e = refused::<Limit>(r#"{"type": "once", "n": 3}"#);
    assert!(e.contains("unknown field `n`, there are no fields"), "{e}");
    refused::<Limit>(r#"{"type": "unlimited", "period": "1d"}"#);
    refused::<Floor>(r#"{"type": "zero", "points": -5}"#);
    refused::<Floor>(r#"{"type": "unbounded", "points": -5}"#);
    refused::<Predicate>(r#"{"type": "exists", "value": 3}"#);
    refused::<Predicate>(r#"{"type": "missing", "value": 3}"#);
    refused::<Rollup>(r#"{"type": "max", "n": 3}"#);
    refused::<leadflow::analytics::Breakdown>(r#"{"type": "channel", "key": "origin"}"#);
    assert_eq!(read::<Limit>(r#"{"type": "once"}"#), Ok(Limit::Once));
}

#[test]
fn a_key_given_twice_is_refused() {
    let e = refused::<ScoringModelBuilder>(
        r#"{"version": "m@1", "groups": {"web": {"cap": 30}, "web": {"cap": 10}}}"#,
    );
    assert!(e.starts_with("groups: duplicate key `web`"), "{e}");
    let e = refused::<Lead>(
        r#"{"id": "l", "created_at": "2026-03-02T09:00:00Z", "custom": {"plan": "pro", "plan": "free"}}"#,
    );
    assert!(e.contains("duplicate key `plan`"), "{e}");
    let e = refused::<Condition>(
        r#"{"type": "not", "of": {"type": "custom", "name": "a"}, "of": {"type": "custom", "name": "b"}}"#,
    );
    assert!(e.contains("duplicate field `of`"), "{e}");
    refused::<leadflow::EventMatcher>(
        r#"{"event": "feedback", "properties": {"score": {"type": "exists"}, "score": {"type": "missing"}}}"#,
    );
    refused::<Transition>(
        r#"{"type": "qualify_for_sales", "by": "rep", "evidence": {"budget": {"status": "met"}, "budget": {"status": "not_met"}}}"#,
    );
}

#[test]
fn a_float_that_cannot_be_written_back_is_refused_when_written() {
    // JSON writes NaN as null: the bound used to come back as "no bound".
    let range = Predicate::Range {
        min: Some(f64::NAN),
        max: None,
    };
    let e = serde_json::to_string(&range).unwrap_err().to_string();
    assert!(e.contains("NaN is not a finite number"), "{e}");
    let company = Company {
        annual_revenue: Some(f64::INFINITY),
        ..Company::default()
    };
    assert!(serde_json::to_string(&company).is_err());
    assert!(serde_json::to_string(&AttrValue::Number(f64::NAN)).is_err());
    let mut criteria = ExpansionCriteria::standard();
    criteria.seat_utilisation_at_least = f64::NAN;
    assert!(serde_json::to_string(&criteria).is_err());
    // TOML can spell them; they are refused when read.
    assert!(toml::from_str::<Company>("annual_revenue = nan").is_err());
    assert!(toml::from_str::<Predicate>("type = \"range\"\nmax = inf").is_err());
}

#[test]
fn the_extreme_points_round_trip() {
    // Points::MAX has a fraction a float cannot carry: it was written as
    // 9.223372036854776e15 and could not be read back.
    for p in [leadflow::Points::MAX, leadflow::Points::MIN] {
        let scores = Scores {
            combined: p,
            ..Scores::default()
        };
        let json = serde_json::to_string(&scores).unwrap();
        assert_eq!(serde_json::from_str::<Scores>(&json).unwrap(), scores, "{json}");
    }
}

/// The keys whose value is a map of the user's names (groups, custom
/// attributes, predicates by property...), where any key is allowed.
const USER_MAPS: &[&str] = &["groups", "named", "custom", "properties", "evidence"];

/// The paths of every object in `value` that is a type's fields (not one of
/// the user's maps): where an unknown field must be refused.
fn typed_objects(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            let user_map = path.last().is_some_and(|k| USER_MAPS.contains(&k.as_str()));
            if !user_map {
                out.push(path.clone());
            }
            for (k, v) in map {
                path.push(k.clone());
                typed_objects(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                typed_objects(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Adds `"zzz_typo": 0` to each typed object of `value`'s JSON in turn and
/// checks that reading it back is refused, naming the field.
fn every_level_refuses_an_unknown_field<T>(value: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + DeserializeOwned + std::fmt::Debug,
{
    let json = serde_json::to_value(value).unwrap();
    let mut objects = Vec::new();
    typed_objects(&json, &mut Vec::new(), &mut objects);
    for path in objects {
        let mut bad = json.clone();
        let mut at = &mut bad;
        for k in &path {
            at = match at {
                Value::Object(m) => m.get_mut(k).unwrap(),
                Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                _ => unreachable!(),
            };
        }
        at.as_object_mut()
            .unwrap()
            .insert("zzz_typo".into(), Value::from(0));
        let text = bad.to_string();
        match read::<T>(&text) {
            Ok(v) => return Err(TestCaseError::fail(format!("accepted {text} as {v:?}"))),
            Err(e) => prop_assert!(e.contains("unknown field `zzz_typo`"), "{}: {}", text, e),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn unknown_fields_are_refused_at_every_level_of_models(m in arbitrary::model()) {
        every_level_refuses_an_unknown_field(&m)?;
    }

    #[test]
    fn unknown_fields_are_refused_at_every_level_of_definitions(d in arbitrary::definition()) {
        every_level_refuses_an_unknown_field(&d)?;
    }

    #[test]
    fn unknown_fields_are_refused_at_every_level_of_leads_and_transitions(
        l in arbitrary::lead(),
        t in arbitrary::transition(),
        s in arbitrary::scores(),
    ) {
        every_level_refuses_an_unknown_field(&l)?;
        every_level_refuses_an_unknown_field(&t)?;
        every_level_refuses_an_unknown_field(&s)?;
    }

    #[test]
    fn unknown_fields_are_refused_at_every_level_of_analytics_configurations(
        a in arbitrary::account_model(),
        c in arbitrary::analysis_config(),
        e in arbitrary::expansion(),
    ) {
        every_level_refuses_an_unknown_field(&a)?;
        every_level_refuses_an_unknown_field(&c)?;
        every_level_refuses_an_unknown_field(&e)?;
    }
}

#[test]
fn unknown_fields_are_refused_in_the_presets() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let check = |r: Result<(), TestCaseError>| r.unwrap();
    check(every_level_refuses_an_unknown_field(
        &leadflow::scoring::b2b_default_builder("b2b@1".parse().unwrap()),
    ));
    check(every_level_refuses_an_unknown_field(
        &LifecycleDefinition::standard_b2b(Condition::score_at_least(leadflow::Dimension::Combined, 60)),
    ));
    check(every_level_refuses_an_unknown_field(&AccountModel::standard()));
    check(every_level_refuses_an_unknown_field(&AnalysisConfig::new(t0)));
    check(every_level_refuses_an_unknown_field(&Lead::new(
        LeadId::new("l").unwrap(),
        t0,
    )));
}
