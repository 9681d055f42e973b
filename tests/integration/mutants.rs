//! Tests that kill mutants `cargo mutants` found surviving (see the
//! README's testing section for the command): each pins down behaviour no
//! other test checked.

use leadflow::criteria::{CriteriaRegistry, Criterion, LeadView, Outcome, Verdict};
use leadflow::{LifecycleDefinition, Stage, StageSet, Transition, TransitionKind};

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

/// A guard that holds only in the stage the command leaves.
#[derive(Debug)]
struct InMql;

impl Criterion for InMql {
    fn evaluate(&self, lead: &LeadView<'_>, _now: chrono::DateTime<chrono::Utc>) -> Verdict {
        Verdict::leaf(Outcome::from_bool(lead.stage == Some(Stage::Mql)), "in MQL")
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
    registry.register("in_mql", InMql);
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
