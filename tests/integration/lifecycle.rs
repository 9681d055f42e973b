//! The lifecycle state machine: the legal-edge table, refusals that change
//! nothing, automatic edges, guards, SLAs, validation and replay.

use leadflow::criteria::{Checklist, Condition, CriteriaRegistry, Criterion, LeadView, Outcome, Verdict};
use leadflow::lifecycle::{
    DefinitionError, LifecycleDefinition, QualifiedBy, Reason, ReasonCode, Sla, SlaKind, Transition,
    TransitionError, TransitionKind,
};
use leadflow::{Lead, ModelVersion, OwnerId, Points, Predicate, Scores, Source, Span, Stage};

use crate::support::*;

fn rep() -> OwnerId {
    OwnerId::new("rep-jane").unwrap()
}

/// A payload-carrying transition of each kind, as a host would send it.
pub(crate) fn sample(kind: TransitionKind) -> Transition {
    let reason = Reason::new(ReasonCode::NoBudget);
    let manual = QualifiedBy::Manual {
        by: rep(),
        note: None,
    };
    match kind {
        TransitionKind::MarketingAccept => Transition::MarketingAccept { by: manual },
        TransitionKind::Qualify => Transition::Qualify { by: manual },
        TransitionKind::Accept => Transition::Accept { owner: rep() },
        TransitionKind::Reject => Transition::Reject { by: rep(), reason },
        TransitionKind::QualifyForSales => Transition::QualifyForSales {
            by: rep(),
            evidence: Checklist::new()
                .met("budget", "b")
                .met("authority", "a")
                .met("need", "n"),
        },
        TransitionKind::Convert => Transition::Convert {
            by: None,
            value: None,
        },
        TransitionKind::Win => Transition::Win {
            by: None,
            value: None,
        },
        TransitionKind::Lose => Transition::Lose { by: None, reason },
        TransitionKind::FlagForExpansion => Transition::FlagForExpansion { by: manual },
        TransitionKind::Recycle => Transition::Recycle { by: None, reason },
        TransitionKind::Disqualify => Transition::Disqualify { by: None, reason },
        _ => unreachable!("a new kind needs a sample"),
    }
}

#[test]
fn standard_preset_has_exactly_the_documented_edges() {
    use Stage::*;
    use TransitionKind as K;
    let expected: &[(Stage, &[TransitionKind])] = &[
        (Lead, &[K::MarketingAccept, K::Disqualify]),
        (Mal, &[K::Qualify, K::Disqualify]),
        (Mql, &[K::Accept, K::Reject, K::Disqualify]),
        (Sgl, &[K::Accept, K::QualifyForSales, K::Disqualify]),
        (Sal, &[K::QualifyForSales, K::Recycle, K::Disqualify]),
        (Sql, &[K::Convert, K::Win, K::Lose, K::Recycle, K::Disqualify]),
        (Opportunity, &[K::Win, K::Lose]),
        (Customer, &[K::FlagForExpansion]),
        (Csql, &[]),
        (Nurture, &[K::Qualify, K::Disqualify]),
        (Disqualified, &[]),
        (Lost, &[K::Recycle]),
    ];
    let machine = standard();
    assert_eq!(expected.len(), Stage::ALL.len());
    for (stage, kinds) in expected {
        assert_eq!(
            machine.allowed_from(*stage),
            kinds.to_vec(),
            "allowed from {stage}"
        );
    }
}

#[test]
fn illegal_commands_are_refused_and_change_nothing() {
    let machine = standard();
    let lead = identified_lead("l1");
    let view = LeadView::new(&lead);
    // Walk the happy path; at every stage try every kind that is not allowed.
    let path = [
        TransitionKind::MarketingAccept,
        TransitionKind::Qualify,
        TransitionKind::Accept,
        TransitionKind::QualifyForSales,
        TransitionKind::Convert,
        TransitionKind::Win,
        TransitionKind::FlagForExpansion,
    ];
    let mut life = machine.start(&lead);
    for (hour, step) in path.into_iter().enumerate() {
        let stage = life.stage();
        for kind in TransitionKind::ALL {
            if machine.allows(stage, kind) {
                continue;
            }
            let before = life.clone();
            let err = machine
                .apply(&mut life, sample(kind), &view, at(100))
                .unwrap_err();
            assert!(
                matches!(err, TransitionError::NotAllowed { from, transition, .. } if from == stage && transition == kind)
            );
            assert_eq!(
                life, before,
                "a refused {kind} from {stage} changed the lifecycle"
            );
        }
        let record = machine
            .apply(&mut life, sample(step), &view, at(hour as i64))
            .unwrap();
        assert_eq!((record.from, record.to), (stage, step.target()));
    }
    assert_eq!(life.stage(), Stage::Csql);
    assert_eq!(life.history().len(), 7);
}

#[test]
fn refusal_message_names_stage_transition_and_what_is_allowed() {
    let machine = standard();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    let err = machine
        .apply(
            &mut life,
            sample(TransitionKind::Accept),
            &LeadView::new(&lead),
            at(1),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot accept a lead in stage Lead: allowed from Lead are marketing_accept, disqualify"
    );
}

#[test]
fn automatic_edges_chain_and_carry_their_verdict_and_model_version() {
    let machine = standard();
    let lead = identified_lead("l1");
    let events = vec![pricing_download(&lead, "e1", 5)];
    let scores = Scores {
        model_version: Some(ModelVersion::new("m@7").unwrap()),
        ..Scores::default()
    };
    let view = LeadView::new(&lead).with_events(&events).with_scores(&scores);
    let mut life = machine.start(&lead);

    // Before the download happened nothing fires.
    assert!(machine.advance(&mut life, &view, at(4)).is_empty());
    let fired = machine.advance(&mut life, &view, at(5));
    assert_eq!(fired.len(), 2);
    let qualify = &fired[1];
    assert_eq!((qualify.from, qualify.to), (Stage::Mal, Stage::Mql));
    assert_eq!(qualify.trigger, leadflow::lifecycle::TriggerKind::Automatic);
    assert_eq!(
        qualify.model_version.as_ref().map(ModelVersion::as_str),
        Some("m@7")
    );
    match &qualify.transition {
        Transition::Qualify {
            by: QualifiedBy::Criterion { name, verdict },
        } => {
            assert_eq!(name, "mql");
            assert_eq!(verdict.outcome, Outcome::Met);
            assert_eq!(verdict.met_reasons().len(), 1);
            assert!(verdict.met_reasons()[0].starts_with("did content_download(pricing_sheet)"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Advancing again changes nothing; an earlier `now` changes nothing.
    assert!(machine.advance(&mut life, &view, at(6)).is_empty());
    assert!(machine.advance(&mut life, &view, at(1)).is_empty());
    assert_eq!(life.stage(), Stage::Mql);
}

#[test]
fn unknown_outcomes_do_not_fire() {
    // Not identified (no email domain): the MAL criterion is unknown, not met.
    let machine = standard();
    let lead = Lead::new(leadflow::LeadId::new("anon").unwrap(), at(0));
    let events = vec![pricing_download(&lead, "e1", 1)];
    let mut life = machine.start(&lead);
    assert!(
        machine
            .advance(&mut life, &LeadView::new(&lead).with_events(&events), at(2))
            .is_empty()
    );
    assert_eq!(life.stage(), Stage::Lead);
}

#[test]
fn sales_generated_leads_start_in_sgl() {
    let machine = standard();
    let lead = identified_lead("s1").with_source(Source::sales(Some(rep())));
    let mut life = machine.start(&lead);
    assert_eq!(life.stage(), Stage::Sgl);
    machine
        .apply(
            &mut life,
            sample(TransitionKind::QualifyForSales),
            &LeadView::new(&lead),
            at(1),
        )
        .unwrap();
    assert_eq!(life.stage(), Stage::Sql);
}

#[test]
fn guard_sees_the_commands_evidence_and_the_gathered_checklist() {
    let machine = standard();
    let lead = identified_lead("l1");
    let view = LeadView::new(&lead);
    let mut life = machine.start(&lead);
    for (h, k) in [
        TransitionKind::MarketingAccept,
        TransitionKind::Qualify,
        TransitionKind::Accept,
    ]
    .into_iter()
    .enumerate()
    {
        machine.apply(&mut life, sample(k), &view, at(h as i64)).unwrap();
    }
    let weak = Transition::QualifyForSales {
        by: rep(),
        evidence: Checklist::new().met("budget", "40k"),
    };
    let before = life.clone();
    let err = machine.apply(&mut life, weak, &view, at(10)).unwrap_err();
    match &err {
        TransitionError::GuardNotMet { verdict, .. } => assert_eq!(verdict.outcome, Outcome::Unknown),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(life, before);
    assert!(
        err.to_string()
            .starts_with("cannot qualify_for_sales a lead in stage SAL: the guard is unknown: BANT 1 of 4")
    );

    // Answers gathered earlier count together with the command's evidence.
    life.update_checklist(&Checklist::new().met("authority", "VP").met("need", "yes"));
    let ok = Transition::QualifyForSales {
        by: rep(),
        evidence: Checklist::new().met("budget", "40k"),
    };
    machine.apply(&mut life, ok, &view, at(11)).unwrap();
    assert_eq!(life.stage(), Stage::Sql);
    assert_eq!(life.checklist().count(Outcome::Met), 3);
}

#[test]
fn commands_out_of_time_order_are_refused() {
    let machine = standard();
    let lead = identified_lead("l1");
    let view = LeadView::new(&lead);
    let mut life = machine.start(&lead);
    machine
        .apply(&mut life, sample(TransitionKind::MarketingAccept), &view, at(10))
        .unwrap();
    let before = life.clone();
    let err = machine
        .apply(&mut life, sample(TransitionKind::Qualify), &view, at(9))
        .unwrap_err();
    assert!(matches!(err, TransitionError::OutOfOrder { .. }));
    assert_eq!(life, before);
    // The same time is fine.
    machine
        .apply(&mut life, sample(TransitionKind::Qualify), &view, at(10))
        .unwrap();
}

#[test]
fn automatic_disqualification_records_its_reason() {
    let student = Condition::attribute("job_title", Predicate::contains("student"));
    let machine = LifecycleDefinition::standard_b2b(mql_condition())
        .auto_disqualify(Stage::Mal, "student", student, Reason::new(ReasonCode::Student))
        .build()
        .unwrap();
    let mut lead = identified_lead("l1");
    lead.person.job_title = Some("PhD Student".into());
    let events = vec![event(
        &lead,
        "f",
        1,
        leadflow::EventKind::FormSubmit { form: None },
    )];
    let mut life = machine.start(&lead);
    let fired = machine.advance(&mut life, &LeadView::new(&lead).with_events(&events), at(1));
    assert_eq!(fired.len(), 2);
    assert_eq!(
        fired[1].transition.reason().map(|r| r.code),
        Some(ReasonCode::Student)
    );
    assert_eq!(life.stage(), Stage::Disqualified);
}

#[test]
fn automatic_cycles_fire_each_stage_at_most_once_per_advance() {
    let always = Condition::attribute("email_domain", Predicate::Exists);
    let machine = LifecycleDefinition::new(Stage::Mal)
        .automatic(Stage::Mal, TransitionKind::Qualify, "q", always.clone())
        .auto_disqualify(Stage::Mql, "dq", always.clone(), Reason::new(ReasonCode::Other))
        .automatic(Stage::Disqualified, TransitionKind::Qualify, "back", always)
        .build()
        .unwrap();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    let fired = machine.advance(&mut life, &LeadView::new(&lead), at(1)).len();
    assert_eq!(
        fired, 3,
        "MAL → MQL → Disqualified → MQL, then MQL was already left once"
    );
    assert_eq!(life.stage(), Stage::Mql);
}

#[test]
fn an_sla_past_the_calendars_end_is_never_due() {
    let forever: leadflow::Span = "1000000000000w".parse().unwrap();
    let machine = LifecycleDefinition::new(Stage::Mal)
        .automatic(
            Stage::Mal,
            TransitionKind::Qualify,
            "q",
            Condition::attribute("email_domain", Predicate::Exists),
        )
        .sla(leadflow::lifecycle::Sla::exit_within(Stage::Mql, forever))
        .build()
        .unwrap();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    machine.advance(&mut life, &LeadView::new(&lead), at(1));
    assert_eq!(life.stage(), Stage::Mql);
    assert!(life.sla_breaches(&machine, at(1_000_000)).is_empty());
    assert!(life.overdue(&machine, at(1_000_000)).is_empty());
}

#[test]
fn sla_overdue_is_answered_from_the_records() {
    let machine = standard();
    let lead = identified_lead("l1");
    let view = LeadView::new(&lead);
    let mql_at = |life: &mut leadflow::lifecycle::LeadLifecycle| {
        machine
            .apply(life, sample(TransitionKind::MarketingAccept), &view, at(0))
            .unwrap();
        machine
            .apply(life, sample(TransitionKind::Qualify), &view, at(0))
            .unwrap();
    };

    // MQL must leave within 24 h.
    let mut life = machine.start(&lead);
    mql_at(&mut life);
    assert!(
        life.overdue(&machine, at(24)).is_empty(),
        "exactly on time is not overdue"
    );
    let overdue = life.overdue(&machine, at(25));
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].sla.kind, SlaKind::Exit);
    assert_eq!(overdue[0].due_at, at(24));

    // Accepted late: a closed breach, nothing overdue; the SAL follow-up clock starts.
    machine
        .apply(&mut life, sample(TransitionKind::Accept), &view, at(30))
        .unwrap();
    let breaches = life.sla_breaches(&machine, at(31));
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].resolved_at, Some(at(30)));
    assert!(life.overdue(&machine, at(31)).is_empty());
    // No follow-up 24 h after acceptance: overdue.
    let overdue = life.overdue(&machine, at(55));
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].sla.kind, SlaKind::FirstFollowUp);
    // A late follow-up closes it; follow-up speed is measured.
    life.record_follow_up(at(60), Some(rep()));
    assert!(life.overdue(&machine, at(61)).is_empty());
    assert_eq!(life.sla_breaches(&machine, at(61)).len(), 2);
    assert_eq!(
        life.follow_up_speed(Stage::Sal),
        Some(chrono::Duration::hours(30))
    );

    // On time everywhere: no breach at all.
    let mut life = machine.start(&lead);
    mql_at(&mut life);
    machine
        .apply(&mut life, sample(TransitionKind::Accept), &view, at(3))
        .unwrap();
    life.record_follow_up(at(4), None);
    assert!(life.sla_breaches(&machine, at(500)).is_empty());
    assert_eq!(life.follow_up_speed(Stage::Sal), Some(chrono::Duration::hours(1)));
}

#[test]
fn leaving_a_stage_without_follow_up_closes_the_follow_up_sla() {
    let machine = LifecycleDefinition::new(Stage::Sal)
        .command(Stage::Sal, TransitionKind::Recycle)
        .sla(Sla::first_follow_up_within(Stage::Sal, Span::hours(4)))
        .build()
        .unwrap();
    let lead = identified_lead("l1");
    let mut life = machine.start(&lead);
    machine
        .apply(
            &mut life,
            sample(TransitionKind::Recycle),
            &LeadView::new(&lead),
            at(2),
        )
        .unwrap();
    assert!(
        life.sla_breaches(&machine, at(100)).is_empty(),
        "left after 2 h, before the 4 h due time"
    );
}

#[test]
fn builder_replaces_an_existing_edge_instead_of_duplicating_it() {
    let def = LifecycleDefinition::standard_b2b(mql_condition()).command(Stage::Mal, TransitionKind::Qualify);
    assert_eq!(
        def.edges
            .iter()
            .filter(|e| e.from == Stage::Mal && e.transition == TransitionKind::Qualify)
            .count(),
        1
    );
    let machine = def.build().unwrap();
    assert!(matches!(
        machine
            .edge(Stage::Mal, TransitionKind::Qualify)
            .map(|e| &e.trigger),
        Some(leadflow::lifecycle::EdgeTrigger::Command { guard: None })
    ));
}

#[test]
fn invalid_definitions_are_rejected_with_the_offending_edge() {
    use Stage::*;
    use TransitionKind as K;
    type Check = fn(&DefinitionError) -> bool;
    let cases: Vec<(LifecycleDefinition, Check)> = vec![
        (
            {
                let mut d = LifecycleDefinition::new(Lead).command(Lead, K::Qualify);
                d.edges.push(d.edges[0].clone());
                d
            },
            |e| matches!(e, DefinitionError::DuplicateEdge { index: 1, .. }),
        ),
        (LifecycleDefinition::new(Sql).command(Sql, K::Qualify), |e| {
            matches!(
                e,
                DefinitionError::Backward {
                    from: Sql,
                    to: Mql,
                    ..
                }
            )
        }),
        (
            LifecycleDefinition::new(Mql).automatic(Mql, K::Accept, "a", mql_condition()),
            |e| {
                matches!(
                    e,
                    DefinitionError::NotAutomatable {
                        transition: K::Accept,
                        ..
                    }
                )
            },
        ),
        (
            LifecycleDefinition::new(Mql).automatic(Mql, K::Disqualify, "d", mql_condition()),
            |e| matches!(e, DefinitionError::MissingReason { .. }),
        ),
        (
            LifecycleDefinition::new(Lead)
                .command(Lead, K::Qualify)
                .command(Sal, K::QualifyForSales),
            |e| matches!(e, DefinitionError::Unreachable { stage: Sal, .. }),
        ),
        (
            LifecycleDefinition::new(Lead).automatic(Lead, K::Qualify, "q", Condition::any([])),
            |e| matches!(e, DefinitionError::Criteria { index: 0, .. }),
        ),
        (
            LifecycleDefinition::new(Mql).sla(Sla::exit_within(Mql, Span::ZERO)),
            |e| matches!(e, DefinitionError::ZeroSla { .. }),
        ),
        (
            LifecycleDefinition::new(Mql)
                .sla(Sla::exit_within(Mql, Span::hours(1)))
                .sla(Sla::exit_within(Mql, Span::hours(2))),
            |e| matches!(e, DefinitionError::DuplicateSla { index: 1, .. }),
        ),
        (
            LifecycleDefinition::new(Lead).automatic(Lead, K::Qualify, "q", Condition::custom("x")),
            |e| matches!(e, DefinitionError::Criteria { .. }),
        ),
    ];
    for (def, check) in cases {
        let err = def.clone().build().unwrap_err();
        assert!(check(&err), "{def:?} gave {err:?}");
        assert!(!err.to_string().is_empty());
    }
    let err = LifecycleDefinition::new(Sql)
        .command(Sql, K::Qualify)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "edges[0]: qualify from SQL to MQL goes backwards: progression is forward-only; use reject, recycle or disqualify to leave the main path"
    );
}

#[derive(Debug)]
struct Engaged;

impl Criterion for Engaged {
    fn evaluate(&self, lead: &LeadView<'_>, _now: chrono::DateTime<chrono::Utc>) -> Verdict {
        Verdict::leaf(
            Outcome::from_bool(lead.events.len() >= 2),
            format!("{} events", lead.events.len()),
        )
    }
}

#[test]
fn custom_criteria_plug_into_automatic_edges() {
    let json = r#"{
        "initial": "lead",
        "edges": [
            {"from": "lead", "transition": "qualify",
             "trigger": {"type": "automatic", "name": "engaged", "criterion": {"type": "custom", "name": "engaged"}}},
            {"from": "mql", "transition": "accept"}
        ]
    }"#;
    let def: LifecycleDefinition = serde_json::from_str(json).unwrap();
    assert!(def.clone().build().is_err(), "unbound custom criterion");
    let mut registry = CriteriaRegistry::new();
    registry.register("engaged", Engaged);
    let machine = def.build_with(&registry).unwrap();
    let lead = identified_lead("l1");
    let events = vec![pricing_download(&lead, "a", 1), pricing_download(&lead, "b", 2)];
    let mut life = machine.start(&lead);
    let fired = machine.advance(&mut life, &LeadView::new(&lead).with_events(&events), at(3));
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].transition.describe(),
        "qualify by criterion \"engaged\": engaged: 2 events"
    );
}

#[test]
fn replay_rebuilds_the_same_lifecycle_and_detects_tampering() {
    let machine = standard();
    let lead = identified_lead("l1");
    let events = vec![pricing_download(&lead, "e", 1)];
    let view = LeadView::new(&lead).with_events(&events);
    let mut life = machine.start(&lead);
    machine.advance(&mut life, &view, at(1));
    machine
        .apply(&mut life, sample(TransitionKind::Accept), &view, at(2))
        .unwrap();
    machine
        .apply(&mut life, sample(TransitionKind::QualifyForSales), &view, at(3))
        .unwrap();
    let replayed = machine.replay(&lead, life.history()).unwrap();
    assert_eq!(replayed, life);

    let mut tampered = life.history().to_vec();
    tampered.remove(1);
    assert!(matches!(
        machine.replay(&lead, &tampered),
        Err(TransitionError::ReplayMismatch { index: 1, .. })
    ));
}

#[test]
fn scores_drive_qualification() {
    let machine = standard();
    let lead = identified_lead("l1");
    let events = vec![event(
        &lead,
        "f",
        1,
        leadflow::EventKind::FormSubmit { form: None },
    )];
    let mut life = machine.start(&lead);
    let low = Scores {
        combined: Points::new(59),
        ..Scores::default()
    };
    machine.advance(
        &mut life,
        &LeadView::new(&lead).with_events(&events).with_scores(&low),
        at(2),
    );
    assert_eq!(life.stage(), Stage::Mal);
    let high = Scores {
        combined: Points::new(60),
        ..Scores::default()
    };
    machine.advance(
        &mut life,
        &LeadView::new(&lead).with_events(&events).with_scores(&high),
        at(3),
    );
    assert_eq!(life.stage(), Stage::Mql);
}
