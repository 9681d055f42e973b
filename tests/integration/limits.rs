//! The nesting limit of conditions: the same for code and data, checked
//! when conditions are validated, built into a machine and read; and a
//! condition built far deeper in code is safe everywhere a host can reach it,
//! on the stack of an ordinary thread.

use chrono::{TimeZone, Utc};
use leadflow::account::AccountModel;
use leadflow::criteria::{
    Condition, CriteriaError, CriteriaRegistry, Criterion, LeadView, MAX_CONDITION_DEPTH, Outcome,
};
use leadflow::lifecycle::{DefinitionError, LifecycleDefinition, TransitionKind};
use leadflow::{Dimension, Lead, LeadId, Predicate, Stage};

/// The default stack of a spawned thread (and of a test's thread).
const THREAD_STACK: usize = 2 * 1024 * 1024;

/// Runs `f` on a thread with the default 2 MiB stack.
fn on_a_default_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(THREAD_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

fn leaf() -> Condition {
    Condition::attribute("industry", Predicate::Exists)
}

/// `depth` levels: `not`s, or `all`s each holding a leaf beside the part.
fn nested(depth: usize, all: bool) -> Condition {
    (1..depth).fold(leaf(), |c, _| {
        if all {
            Condition::all([c, leaf()])
        } else {
            Condition::negate(c)
        }
    })
}

/// The JSON of [`nested`], written by hand (nothing in the library can
/// write a condition deeper than the limit).
fn nested_json(depth: usize, all: bool) -> String {
    let leaf = r#"{"type": "attribute", "key": "industry", "predicate": {"type": "exists"}}"#;
    let (open, close) = if all {
        (r#"{"type": "all", "of": ["#.to_owned(), format!(", {leaf}]}}"))
    } else {
        (r#"{"type": "not", "of": "#.to_owned(), "}".to_owned())
    };
    let levels = depth - 1;
    let mut s = String::with_capacity(levels * (open.len() + close.len()) + leaf.len());
    (0..levels).for_each(|_| s.push_str(&open));
    s.push_str(leaf);
    (0..levels).for_each(|_| s.push_str(&close));
    s
}

#[test]
fn the_limit_is_the_same_for_code_and_data() {
    for all in [false, true] {
        let at_limit = nested(MAX_CONDITION_DEPTH, all);
        assert_eq!(at_limit.depth(), MAX_CONDITION_DEPTH);
        assert_eq!(at_limit.validate(), Ok(()));
        let json = nested_json(MAX_CONDITION_DEPTH, all);
        assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), at_limit);

        let beyond = nested(MAX_CONDITION_DEPTH + 1, all);
        let step = if all { ".of[0]" } else { ".of" };
        let deepest_path = format!("${}", step.repeat(MAX_CONDITION_DEPTH));
        assert_eq!(
            beyond.validate(),
            Err(CriteriaError::TooDeep {
                path: deepest_path,
                max: MAX_CONDITION_DEPTH
            })
        );
        let e = serde_json::from_str::<Condition>(&nested_json(MAX_CONDITION_DEPTH + 1, all))
            .unwrap_err()
            .to_string();
        assert!(e.contains("deeper than 32 levels (MAX_CONDITION_DEPTH)"), "{e}");
        let e = serde_json::to_string(&beyond).unwrap_err().to_string();
        assert!(e.contains("MAX_CONDITION_DEPTH"), "{e}");
    }
    // An empty `all` or `any` at the limit has no part beyond it: it is
    // written, so it reads back (it does not validate, being empty).
    for empty in [Condition::all([]), Condition::any([])] {
        let c = (1..MAX_CONDITION_DEPTH).fold(empty, |c, _| Condition::negate(c));
        assert_eq!(c.depth(), MAX_CONDITION_DEPTH);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), c);
    }
}

#[test]
fn a_deeper_condition_is_refused_when_built_into_a_machine() {
    let def = LifecycleDefinition::new(Stage::Lead).automatic(
        Stage::Lead,
        TransitionKind::Qualify,
        "mql",
        nested(MAX_CONDITION_DEPTH + 1, true),
    );
    match def.build() {
        Err(DefinitionError::Criteria {
            index: 0,
            source: CriteriaError::TooDeep { max, .. },
            ..
        }) => assert_eq!(max, MAX_CONDITION_DEPTH),
        other => panic!("expected TooDeep, got {other:?}"),
    }
    let mut model = AccountModel::standard();
    model.mqa = nested(MAX_CONDITION_DEPTH + 1, false);
    assert!(model.validate().is_err());
}

#[test]
fn a_far_deeper_condition_is_refused_when_read_naming_the_limit() {
    // 100,000 levels: serde_json's own recursion limit (128) used to answer,
    // or the stack for a format without one.
    for all in [false, true] {
        let json = nested_json(100_000, all);
        let e = serde_json::from_str::<Condition>(&json).unwrap_err().to_string();
        assert!(e.contains("MAX_CONDITION_DEPTH"), "{e}");
        assert!(!e.contains("recursion limit"), "{e}");
        // Inside a definition, whose trigger used to buffer the whole
        // criterion before reading it.
        let def = format!(
            r#"{{"initial": "lead", "edges": [{{"from": "lead", "transition": "qualify",
                "trigger": {{"type": "automatic", "name": "mql", "criterion": {json}}}}}]}}"#
        );
        let e = serde_json::from_str::<LifecycleDefinition>(&def)
            .unwrap_err()
            .to_string();
        assert!(e.contains("MAX_CONDITION_DEPTH"), "{e}");
        assert!(!e.contains("recursion limit"), "{e}");
    }
    // TOML has no recursion limit of its own.
    let toml_text = format!(
        "type = \"not\"\n{}[{}]\ntype = \"attribute\"\nkey = \"industry\"\npredicate = {{ type = \"exists\" }}\n",
        (1..40)
            .map(|i| format!("[{}]\ntype = \"not\"\n", vec!["of"; i].join(".")))
            .collect::<String>(),
        vec!["of"; 40].join(".")
    );
    let e = toml::from_str::<Condition>(&toml_text).unwrap_err().to_string();
    assert!(e.contains("MAX_CONDITION_DEPTH"), "{e}");
}

/// What the lead-side criteria see in the deep tests.
fn view_lead() -> Lead {
    let mut lead = Lead::new(
        LeadId::new("l").unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    );
    lead.company.industry = Some("software".into());
    lead
}

/// ~30,000 levels built in code used to overflow the stack (an abort, not a
/// panic) in validate, evaluate, Debug, Clone, Drop, serialize and `==`.
#[test]
fn a_condition_thirty_thousand_deep_is_safe_everywhere() {
    const DEEP: usize = 30_000;
    for all in [false, true] {
        on_a_default_stack(move || {
            let c = nested(DEEP, all);
            assert_eq!(c.depth(), DEEP);
            assert!(matches!(c.validate(), Err(CriteriaError::TooDeep { .. })));

            let lead = view_lead();
            let now = lead.created_at;
            let view = LeadView::new(&lead);
            let verdict = c.evaluate(&view, now);
            assert_eq!(verdict.outcome, Outcome::Unknown);
            assert_eq!(c.outcome(&view, now), Outcome::Unknown);
            // The verdict stops at the limit too.
            let mut levels = 1;
            let mut v = &verdict;
            while let Some(child) = v.children.first() {
                levels += 1;
                v = child;
            }
            assert_eq!(levels, MAX_CONDITION_DEPTH + 1);
            assert_eq!(
                v.description,
                format!("nested deeper than {MAX_CONDITION_DEPTH} levels: not evaluated")
            );

            let debug = format!("{c:?}");
            assert!(debug.contains(".."), "{}", &debug[..200]);
            assert!(format!("{c:#?}").len() > debug.len());

            let copy = c.clone();
            assert_eq!(copy, c);
            let other = nested(DEEP, !all);
            assert_ne!(other, c);
            drop(other);
            let mut different = nested(DEEP - 1, all);
            different = if all {
                Condition::all([different, Condition::score_at_least(Dimension::Fit, 1)])
            } else {
                Condition::negate(different)
            };
            assert_eq!(different.depth(), DEEP);
            assert_eq!(different == c, !all, "only the leaf beside the top part differs");

            assert!(serde_json::to_string(&c).is_err());
            assert!(toml::to_string(&c).is_err());
            let mut bound = copy;
            assert!(matches!(
                bound.bind(&CriteriaRegistry::new()),
                Err(CriteriaError::TooDeep { .. })
            ));

            // Held in a definition: building refuses it; Debug, Clone, `==`
            // and Drop of the definition are safe.
            let def = LifecycleDefinition::new(Stage::Lead).guarded(Stage::Lead, TransitionKind::Qualify, c);
            let copy = def.clone();
            assert!(copy.clone().build().is_err());
            assert_eq!(copy, def);
            assert!(!format!("{def:?}").is_empty());
            drop(def);
            drop(copy);
            drop(bound);
            drop(different);
        });
    }
}

/// A wide condition is fine at any width: only depth is limited.
#[test]
fn width_is_not_limited() {
    let wide = Condition::any((0..100_000).map(|_| leaf()));
    assert_eq!(wide.depth(), 2);
    assert_eq!(wide.validate(), Ok(()));
    let json = serde_json::to_string(&wide).unwrap();
    assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), wide);
    let lead = view_lead();
    assert_eq!(wide.outcome(&LeadView::new(&lead), lead.created_at), Outcome::Met);
}
