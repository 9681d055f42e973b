//! Property tests: whatever commands and automatic steps arrive, a lifecycle
//! only ever takes legal edges, refusals change nothing, and its records
//! replay to the same state.

use leadflow::criteria::LeadView;
use leadflow::lifecycle::TransitionKind;
use leadflow::{Points, Scores, Stage};
use proptest::prelude::*;

use crate::lifecycle::sample;
use crate::support::*;

#[derive(Debug, Clone)]
enum Step {
    Command(TransitionKind),
    Advance { score: i64 },
    FollowUp,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..TransitionKind::ALL.len()).prop_map(|i| Step::Command(TransitionKind::ALL[i])),
        2 => (0i64..100).prop_map(|score| Step::Advance { score }),
        1 => Just(Step::FollowUp),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_commands_only_take_legal_edges_and_replay(
        steps in prop::collection::vec((step(), 0i64..5), 1..40),
        sales in any::<bool>(),
    ) {
        let machine = standard();
        let mut lead = identified_lead("p");
        if sales {
            lead = lead.with_source(leadflow::Source::sales(None));
        }
        let events = vec![event(&lead, "f", 0, leadflow::EventKind::FormSubmit { form: None })];
        let used = machine.definition().stages();
        let mut life = machine.start(&lead);
        let mut hour = 0;
        for (s, dt) in steps {
            hour += dt;
            let before = life.clone();
            match s {
                Step::Command(kind) => {
                    let view = LeadView::new(&lead).with_events(&events);
                    match machine.apply(&mut life, sample(kind), &view, at(hour)) {
                        Ok(record) => {
                            prop_assert!(machine.allows(before.stage(), kind));
                            prop_assert_eq!(record.to, kind.target());
                        }
                        Err(_) => prop_assert_eq!(&life, &before),
                    }
                }
                Step::Advance { score } => {
                    let scores = Scores { combined: Points::new(score), ..Scores::default() };
                    let view = LeadView::new(&lead).with_events(&events).with_scores(&scores);
                    let n = machine.advance(&mut life, &view, at(hour)).len();
                    prop_assert!(n <= Stage::ALL.len());
                }
                Step::FollowUp => life.record_follow_up(at(hour), None),
            }
            prop_assert!(used.contains(life.stage()));
        }
        // Every record is a legal edge, in time order, chained stage to stage.
        let mut stage = life.initial_stage();
        let mut last = None;
        for r in life.history() {
            prop_assert_eq!(r.from, stage);
            prop_assert_eq!(machine.check(r.from, r.transition.kind()), Ok(r.to));
            prop_assert!(last.is_none_or(|t| t <= r.at));
            stage = r.to;
            last = Some(r.at);
        }
        prop_assert_eq!(stage, life.stage());
        // The history replays to the same lifecycle (follow-ups are not
        // transitions, so compare without them).
        let replayed = machine.replay(&lead, life.history()).unwrap();
        prop_assert_eq!(replayed.stage(), life.stage());
        prop_assert_eq!(replayed.history(), life.history());
        prop_assert_eq!(replayed.checklist(), life.checklist());
        // SLA answers never panic and open breaches are about the current stage.
        for b in life.overdue(&machine, at(hour + 100)) {
            prop_assert_eq!(b.sla.stage, life.stage());
        }
    }
}
