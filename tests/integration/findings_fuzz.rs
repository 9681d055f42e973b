//! Open findings of the fuzz harness (`tests/fuzz/`), one ignored test
//! each, named for the behaviour that must hold; the fix un-ignores it (and
//! moves it to `findings.rs`).

use leadflow::engine::{EngineConfig, Threshold};
use leadflow::lifecycle::{Reason, ReasonCode, Transition};
use leadflow::{
    AssetType, Channel, Dimension, Engine, Event, EventId, EventKind, Lead, LeadId, OwnerId, PageCategory,
    Span,
};

use crate::support::{at, standard};

fn lead(id: &str, email: bool) -> Lead {
    let mut l = Lead::new(LeadId::new(id).unwrap(), at(0));
    if email {
        l.person.set_email("ada@acme.io");
    }
    l
}

fn ev(id: &str, hours: i64, kind: EventKind, email: bool) -> Event {
    let e = Event::new(
        EventId::new(id).unwrap(),
        LeadId::new("lead-0").unwrap(),
        at(hours),
        kind,
    );
    if email { e.with_channel(Channel::Email) } else { e }
}

/// Fuzz target `engine`, seed 108586 (shrunk to one lead and ten steps): a
/// swap to the model the engine already runs (`fire` false) changes the
/// lifecycle its later events reach: with the swap, a rejection by sales
/// three events later is refused (the lead is at MAL), without it the
/// same rejection is taken, as the oracle's fold takes it.
#[test]
#[ignore = "open finding: a swap to the same model changes the lifecycle later events reach (fuzz engine seed 108586)"]
fn a_swap_to_the_same_model_changes_no_later_lifecycle() {
    let run = |swap: bool| {
        let model = leadflow::synthetic::scoring_model().unwrap();
        let config = EngineConfig::default()
            .allowed_lateness(Span::days(1))
            .clock_skew(Span::hours(3))
            .threshold(Threshold::new("hot".parse().unwrap(), Dimension::Combined, 40));
        let mut e = Engine::new(model.clone(), standard(), config).unwrap();
        e.upsert_lead(lead("lead-0", true), at(0)).unwrap();
        e.upsert_lead(lead("lead-1", false), at(0)).unwrap();
        let webinar = EventKind::WebinarAttend { webinar: None };
        let tour = EventKind::PageView {
            path: "/product/tour".into(),
            category: Some(PageCategory::Product),
        };
        let careers = EventKind::PageView {
            path: "/careers".into(),
            category: Some(PageCategory::Careers),
        };
        let whitepaper = EventKind::ContentDownload {
            asset: AssetType::Whitepaper,
            asset_id: None,
        };
        let batches = [
            (vec![ev("e4", 0, webinar, true)], 6),
            (vec![ev("e17", 0, EventKind::SocialEngagement, true)], 14),
            (
                vec![
                    ev("e16", 0, EventKind::EmailOpen { campaign: None }, false),
                    ev("e2", 11, tour.clone(), false),
                ],
                30,
            ),
            (vec![ev("e18", 52, careers, false)], 50),
        ];
        for (batch, now) in batches {
            assert!(e.ingest(&batch, at(now)).rejected.is_empty());
        }
        let mut bigger = lead("lead-0", true);
        bigger.company.employees = Some(47);
        e.upsert_lead(bigger, at(50)).unwrap();
        if swap {
            e.swap_model(model, at(58), false).unwrap();
        }
        let batch = [
            ev("e14", 81, EventKind::DemoRequest, false),
            ev("e5", 65, whitepaper, false),
            ev("e1", 64, tour, false),
        ];
        assert!(e.ingest(&batch, at(86)).rejected.is_empty());
        let reject = Transition::Reject {
            by: OwnerId::new("rep").unwrap(),
            reason: Reason::new(ReasonCode::BadTiming),
        };
        let taken = e
            .command(LeadId::new("lead-0").unwrap(), reject, at(91))
            .map(|_| ());
        (
            taken,
            e.lead(LeadId::new("lead-0").unwrap()).unwrap().lifecycle.clone(),
        )
    };
    let (without, life_without) = run(false);
    let (with, life_with) = run(true);
    assert!(without.is_ok(), "{without:?}");
    assert_eq!(with, without, "{life_with:?}\nagainst\n{life_without:?}");
}
