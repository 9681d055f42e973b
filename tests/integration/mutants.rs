//! Tests that kill mutants `cargo mutants` found surviving (see the
//! README's testing section for the command): each pins down behaviour no
//! other test checked.
//!
//! Survivors left alive are equivalent: no input tells them from the code.
//! - `scoring/decay.rs`, `byte_factors`: `while j < 8` → `<=` (at `j == 8`
//!   the bit tested, `0x80 >> 8`, is 0).
//! - `Decay::problem`: the `Decay::None` arm deleted (the last arm gives the
//!   same `None`).
//! - `engine/recent.rs`, `with_handle`: `|` → `^` (the two halves it joins
//!   share no bit).
//! - `Recent::add`: the append guard (`order(last) > key`) → `true` (the
//!   binary search it skips finds the end too).
//! - `scoring/tally.rs`, `Tally::capped`: `d.positive += part.positive -
//!   from` → `+ from` (a dimension's positive points only bound its cap's
//!   excess, `sum - cap`, which with a cap of at least 0 never passes them).

use leadflow::criteria::{CriteriaRegistry, Criterion, LeadView, Outcome, Verdict};
use leadflow::lifecycle::{LifecycleDefinition, Transition, TransitionKind};
use leadflow::{Stage, StageSet};

use crate::support::*;

#[test]
fn next_stages_are_the_targets_of_the_allowed_transitions() {
    // Mutant: `next_stages` returning the empty set.
    let machine = standard();
    for stage in Stage::ALL {
        let want: StageSet = machine
            .allowed_from(stage)
            .into_iter()
            .map(TransitionKind::target)
            .collect();
        assert_eq!(machine.next_stages(stage), want, "from {stage}");
    }
    assert!(machine.next_stages(Stage::Mql).contains(Stage::Sal));
    assert!(machine.next_stages(Stage::Lead).contains(Stage::Mal));
}

/// A criterion that holds only in a given stage.
#[derive(Debug)]
struct In(Stage);

impl Criterion for In {
    fn evaluate(&self, lead: &LeadView<'_>, _now: chrono::DateTime<chrono::Utc>) -> Verdict {
        Verdict::leaf(
            Outcome::from_bool(lead.stage == Some(self.0)),
            format!("in {}", self.0),
        )
    }
}

#[test]
fn a_guard_sees_the_stage_the_command_leaves() {
    // Mutant: the guard's view built without `stage`.
    let json = r#"{
        "initial": "mql",
        "edges": [
            {"from": "mql", "transition": "accept",
             "trigger": {"type": "command", "guard": {"type": "custom", "name": "in_mql"}}}
        ]
    }"#;
    let def: LifecycleDefinition = serde_json::from_str(json).unwrap();
    let mut registry = CriteriaRegistry::new();
    registry.register("in_mql", In(Stage::Mql));
    let machine = def.build_with(&registry).unwrap();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    let accept = Transition::Accept {
        owner: leadflow::OwnerId::new("rep").unwrap(),
    };
    let record = machine
        .apply(&mut life, accept, &LeadView::new(&lead), at(1))
        .unwrap();
    assert_eq!(record.to, Stage::Sal);
}

#[test]
fn advance_fires_at_the_time_of_the_last_transition_but_not_before() {
    // Mutant: `now < last` turned into `now == last` in `advance_with`.
    let machine = standard();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    let form = [event(
        &lead,
        "f",
        10,
        leadflow::EventKind::FormSubmit { form: None },
    )];
    let fired = machine.advance(&mut life, &LeadView::new(&lead).with_events(&form), at(10));
    assert_eq!(fired.iter().map(|r| r.to).collect::<Vec<_>>(), [Stage::Mal]);
    // Earlier than the last transition: nothing fires, even when met.
    let pricing = [form[0].clone(), pricing_download(&lead, "p", 5)];
    let view = LeadView::new(&lead).with_events(&pricing);
    assert!(machine.advance(&mut life, &view, at(5)).is_empty());
    assert_eq!(life.stage(), Stage::Mal);
    // At the same time: it fires.
    let fired = machine.advance(&mut life, &view, at(10));
    assert_eq!(fired.iter().map(|r| r.to).collect::<Vec<_>>(), [Stage::Mql]);
}

#[test]
fn an_automatic_criterion_sees_the_stage_it_leaves() {
    // Mutant: `first_met`'s view built without `stage`.
    let json = r#"{
        "initial": "lead",
        "edges": [
            {"from": "lead", "transition": "marketing_accept",
             "trigger": {"type": "automatic", "name": "in_lead", "criterion": {"type": "custom", "name": "in_lead"}}}
        ]
    }"#;
    let def: LifecycleDefinition = serde_json::from_str(json).unwrap();
    let mut registry = CriteriaRegistry::new();
    registry.register("in_lead", In(Stage::Lead));
    let machine = def.build_with(&registry).unwrap();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    let fired = machine.advance(&mut life, &LeadView::new(&lead), at(1));
    assert_eq!(fired.iter().map(|r| r.to).collect::<Vec<_>>(), [Stage::Mal]);
}

#[test]
fn a_swap_reports_the_leads_that_newly_qualify() {
    // Mutant: `automatic_edges` empty (the swap then finds no edge into MQL).
    use leadflow::engine::EngineConfig;
    use leadflow::scoring::Rule;
    use leadflow::{Engine, EventKind, EventType, LeadId, ScoringModel};
    let mut engine = Engine::new(
        ScoringModel::b2b_default().unwrap(),
        standard(),
        EngineConfig::default(),
    )
    .unwrap();
    let lead = identified_lead("l1");
    engine.upsert_lead(lead.clone(), at(0)).unwrap();
    engine.ingest([event(&lead, "d", 1, EventKind::DemoRequest)], at(1));
    assert_eq!(engine.lead(&lead.id).unwrap().lifecycle.stage(), Stage::Mal);
    let generous = ScoringModel::builder("generous@1".parse().unwrap())
        .rule(Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 70))
        .build()
        .unwrap();
    let change = engine.swap_model(generous, at(1), false).unwrap();
    assert_eq!(change.newly_qualified, [LeadId::new("l1").unwrap()]);
}

#[test]
fn every_group_counts_however_many_groups_a_model_has() {
    // Mutant: `Tally::groups` reading the inline groups only below a
    // threshold (`len > INLINE` turned into `len == INLINE`).
    use leadflow::scoring::Rule;
    use leadflow::{EventKind, EventType, GroupId, Points, RuleId, ScoringModel};
    let lead = identified_lead("l1");
    let demo = [event(&lead, "d", 1, EventKind::DemoRequest)];
    for n in 1..=20 {
        let model = (0..n)
            .fold(ScoringModel::builder("groups@1".parse().unwrap()), |b, g| {
                b.rule(
                    Rule::event(RuleId::new(format!("r{g}")).unwrap(), EventType::DemoRequest, 1)
                        .group(GroupId::new(format!("g{g}")).unwrap()),
                )
            })
            .build()
            .unwrap();
        assert_eq!(
            model.score(&lead, &demo, at(2)).engagement,
            Points::new(n),
            "{n} groups"
        );
    }
}

#[test]
fn a_named_score_sums_its_groups_after_their_caps() {
    // Mutant: a group's total for named scores taken as `sum + taken`
    // instead of `sum - taken`.
    use leadflow::scoring::{Group, NamedScore, Rule};
    use leadflow::{EventKind, EventType, Points, ScoringModel};
    let model = ScoringModel::builder("named@1".parse().unwrap())
        .rule(
            Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 50).group("intent".parse().unwrap()),
        )
        .group("intent".parse().unwrap(), Group::new().cap(10))
        .named(
            "intent_only",
            NamedScore {
                groups: vec!["intent".parse().unwrap()],
                cap: None,
            },
        )
        .build()
        .unwrap();
    let lead = identified_lead("l1");
    let demo = [event(&lead, "d", 1, EventKind::DemoRequest)];
    let scores = model.score(&lead, &demo, at(2));
    assert_eq!(scores.engagement, Points::new(10));
    assert_eq!(scores.named.get("intent_only"), Some(&Points::new(10)));
}
