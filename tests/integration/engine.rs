//! The engine answers exactly as the oracle, whatever the arrival order,
//! duplication and batching of events within the allowed lateness.

use chrono::{DateTime, Utc};
use leadflow::engine::{Engine, EngineConfig, IngestError, Output};
use leadflow::scoring::ScoringModel;
use leadflow::synthetic::scoring_model;
use leadflow::{
    AssetType, Channel, Event, EventId, EventKind, Lead, LeadId, OwnerId, PageCategory, Span, Stage,
    Transition,
};
use proptest::prelude::*;

use crate::oracle::Oracle;
use crate::support::{at, pricing_download, standard};

fn config() -> EngineConfig {
    EngineConfig::default().allowed_lateness(Span::days(60))
}

fn engine(model: ScoringModel) -> Engine {
    Engine::new(model, standard(), config())
}

/// An event kind from a small vocabulary that reaches every kind of rule:
/// limits, windows, decay, penalties, the MQL signal, follow-ups and
/// attribute changes.
fn kind(k: u8) -> EventKind {
    match k % 14 {
        0 => EventKind::PageView {
            path: "/pricing".into(),
            category: None,
        },
        1 => EventKind::PageView {
            path: "/product/tour".into(),
            category: None,
        },
        2 => EventKind::ContentDownload {
            asset: AssetType::Whitepaper,
            asset_id: None,
        },
        3 => EventKind::ContentDownload {
            asset: AssetType::PricingSheet,
            asset_id: None,
        },
        4 => EventKind::FormSubmit { form: None },
        5 => EventKind::DemoRequest,
        6 => EventKind::EmailOpen { campaign: None },
        7 => EventKind::EmailUnsubscribe,
        8 => EventKind::SocialEngagement,
        9 => EventKind::AdClick { campaign: None },
        10 => EventKind::WebinarAttend { webinar: None },
        11 => EventKind::SalesTouch {
            by: Some(OwnerId::new("rep").unwrap()),
        },
        12 => EventKind::AttributeChange {
            key: "employees".into(),
            value: 450.into(),
        },
        _ => EventKind::PageView {
            path: "/careers".into(),
            category: Some(PageCategory::Careers),
        },
    }
}

fn lead(i: usize) -> Lead {
    let mut l = Lead::new(LeadId::new(format!("lead-{i}")).unwrap(), at(0));
    if i % 2 == 0 {
        l.person.set_email("ada@acme.io");
    }
    l
}

/// A history in time order: leads 0..3, ids unique per lead.
fn history() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((0usize..3, 0u8..14, 0i64..400, any::<bool>()), 1..50).prop_map(|raw| {
        let mut events: Vec<Event> = raw
            .into_iter()
            .enumerate()
            .map(|(n, (l, k, hour, email))| {
                let e = Event::new(
                    EventId::new(format!("e{n}")).unwrap(),
                    lead(l).id,
                    at(hour),
                    kind(k),
                );
                if email { e.with_channel(Channel::Email) } else { e }
            })
            .collect();
        events.sort_by_key(|e| e.at);
        events
    })
}

/// The same events in another order, with some sent twice, in batches.
fn arrival(events: &[Event], seed: u64) -> Vec<Vec<Event>> {
    let mut rng = leadflow::synthetic::SplitMix64::new(seed);
    let mut all = events.to_vec();
    for e in events {
        if rng.below(4) == 0 {
            all.push(e.clone());
        }
    }
    rng.shuffle(&mut all);
    let mut batches = Vec::new();
    while !all.is_empty() {
        let n = (rng.below(5) as usize + 1).min(all.len());
        batches.push(all.drain(..n).collect());
    }
    batches
}

fn now() -> DateTime<Utc> {
    at(400)
}

/// Feeds an engine and the oracle the same leads and events; checks every
/// lead's lifecycle and scores agree.
fn agree(model: ScoringModel, events: &[Event], seed: u64) -> Result<(), TestCaseError> {
    let mut e = engine(model.clone());
    let mut o = Oracle::new(model, standard());
    for i in 0..3 {
        e.upsert_lead(lead(i), at(0)).unwrap();
        o.upsert(lead(i), at(0));
    }
    let mut transitions = Vec::new();
    for batch in arrival(events, seed) {
        let report = e.ingest(batch.clone(), now());
        prop_assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        transitions.extend(report.outputs);
    }
    for ev in events {
        o.event(ev.clone());
    }
    for id in o.leads().cloned().collect::<Vec<_>>() {
        let want = o.lifecycle(&id).unwrap();
        let got = e.lead(&id).unwrap();
        prop_assert_eq!(got.lifecycle, &want, "lifecycle of {}", id);
        prop_assert_eq!(
            e.scores_at(&id, now()).unwrap(),
            o.scores(&id, now()),
            "scores of {}",
            id
        );
        // What was reported adds up to the history.
        let mut net: Vec<_> = Vec::new();
        for out in &transitions {
            match out {
                Output::Transition { record } if record.lead == id => net.push(record.clone()),
                Output::Retracted { record } if record.lead == id => {
                    let pos = net.iter().position(|r| r == record);
                    prop_assert!(pos.is_some(), "retracted an unreported transition");
                    net.remove(pos.unwrap());
                }
                _ => {}
            }
        }
        let mut history = want.history().to_vec();
        net.sort_by_key(|r| r.at);
        history.sort_by_key(|r| r.at);
        prop_assert_eq!(net, history);
    }
    prop_assert_eq!(e.stats().events_applied as usize, events.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_order_duplication_and_batching_equals_the_oracle(events in history(), seed in any::<u64>()) {
        agree(scoring_model().unwrap(), &events, seed)?;
    }

    #[test]
    fn the_default_model_equals_the_oracle(events in history(), seed in any::<u64>()) {
        agree(ScoringModel::b2b_default().unwrap(), &events, seed)?;
    }
}

#[test]
fn a_pricing_download_makes_an_mql_and_a_duplicate_changes_nothing() {
    let mut e = engine(ScoringModel::b2b_default().unwrap());
    let l = lead(0);
    let (key, fired) = e.upsert_lead(l.clone(), at(0)).unwrap();
    assert!(fired.is_empty());
    let report = e.ingest([pricing_download(&l, "e1", 2)], at(3));
    let stages: Vec<Stage> = report
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Transition { record } => Some(record.to),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [Stage::Mal, Stage::Mql]);
    let again = e.ingest([pricing_download(&l, "e1", 2)], at(4));
    assert_eq!((again.applied, again.duplicates), (0, 1));
    assert_eq!(e.lead(key).unwrap().lifecycle.stage(), Stage::Mql);
}

#[test]
fn a_late_event_retracts_what_it_changes() {
    let mut e = engine(ScoringModel::b2b_default().unwrap());
    let l = lead(0);
    e.upsert_lead(l.clone(), at(0)).unwrap();
    // A form fill at hour 10 makes a MAL; the pricing sheet at 20, an MQL.
    e.ingest(
        [
            crate::support::event(&l, "form", 10, EventKind::FormSubmit { form: None }),
            pricing_download(&l, "p", 20),
        ],
        at(30),
    );
    // A whitepaper at hour 5 arrives late: the lead was identified at 5.
    let report = e.ingest(
        [crate::support::event(
            &l,
            "wp",
            5,
            EventKind::ContentDownload {
                asset: AssetType::Whitepaper,
                asset_id: None,
            },
        )],
        at(31),
    );
    let kinds: Vec<(&str, DateTime<Utc>)> = report
        .outputs
        .iter()
        .map(|o| match o {
            Output::Transition { record } => ("transition", record.at),
            Output::Retracted { record } => ("retracted", record.at),
            _ => ("other", at(0)),
        })
        .collect();
    assert!(kinds.contains(&("retracted", at(10))), "{kinds:?}");
    assert!(kinds.contains(&("transition", at(5))), "{kinds:?}");
    assert_eq!(e.stats().late_events, 1);
}

#[test]
fn too_late_events_and_unknown_keys_are_refused_with_why() {
    let mut e = Engine::new(
        ScoringModel::b2b_default().unwrap(),
        standard(),
        EngineConfig::default().allowed_lateness(Span::days(1)),
    );
    let l = lead(0);
    e.upsert_lead(l.clone(), at(0)).unwrap();
    e.ingest([pricing_download(&l, "new", 100)], at(100));
    let report = e.ingest([pricing_download(&l, "old", 10)], at(100));
    assert!(matches!(report.rejected[0].error, IngestError::TooLate { .. }));
    let future = e.ingest([pricing_download(&l, "future", 200)], at(100));
    assert!(matches!(
        future.rejected[0].error,
        IngestError::FromTheFuture { .. }
    ));
    assert_eq!(e.stats().events_rejected, 2);
}

#[test]
fn commands_apply_on_the_timeline_and_illegal_ones_change_nothing() {
    let mut e = engine(ScoringModel::b2b_default().unwrap());
    let l = lead(0);
    e.upsert_lead(l.clone(), at(0)).unwrap();
    e.ingest([pricing_download(&l, "p", 2)], at(3));
    let rep = OwnerId::new("rep").unwrap();
    let accepted = e
        .command(&l.id, Transition::Accept { owner: rep.clone() }, at(5))
        .unwrap();
    assert!(matches!(&accepted[..], [Output::Transition { record }] if record.to == Stage::Sal));
    // Accepting again: illegal from SAL; nothing changes.
    assert!(
        e.command(&l.id, Transition::Accept { owner: rep }, at(6))
            .is_err()
    );
    assert_eq!(e.lead(&l.id).unwrap().lifecycle.stage(), Stage::Sal);
}
