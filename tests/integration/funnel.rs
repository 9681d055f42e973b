//! The funnel: idempotency, order and batching independence against an
//! oracle, late events, commands, model swaps, snapshots and bad input.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use leadflow::criteria::{Condition, CriteriaRegistry, LeadView};
use leadflow::funnel::{
    CommandError, Funnel, FunnelConfig, FunnelSnapshot, IngestError, Output, Threshold, UnknownLeads,
};
use leadflow::scoring::ScoringModel;
use leadflow::{
    AssetType, AttrValue, Dimension, Event, EventId, EventKind, Lead, LeadId, LeadLifecycle,
    LifecycleDefinition, LifecycleStateMachine, OwnerId, Reason, ReasonCode, Scores, Span, Stage, Transition,
    TransitionRecord,
};
use proptest::prelude::*;

use crate::support::*;

pub(crate) fn machine() -> LifecycleStateMachine {
    let mql = Condition::any([
        Condition::score_at_least(Dimension::Combined, 40),
        Condition::did(leadflow::EventMatcher::download(AssetType::PricingSheet)),
    ]);
    LifecycleDefinition::standard_b2b(mql).build().unwrap()
}

pub(crate) fn model() -> ScoringModel {
    ScoringModel::b2b_default().unwrap()
}

pub(crate) fn funnel(config: FunnelConfig) -> Funnel {
    Funnel::new(model(), machine(), config)
}

pub(crate) fn lenient() -> FunnelConfig {
    FunnelConfig {
        allowed_lateness: Span::days(10_000),
        ..FunnelConfig::default()
    }
}

pub(crate) fn kind(k: u8) -> EventKind {
    match k % 10 {
        0 => EventKind::PageView {
            path: "/pricing".into(),
            category: None,
        },
        1 => EventKind::PageView {
            path: "/product/x".into(),
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
        4 => EventKind::EmailOpen { campaign: None },
        5 => EventKind::FormSubmit { form: None },
        6 => EventKind::DemoRequest,
        7 => EventKind::EmailUnsubscribe,
        8 => EventKind::AttributeChange {
            key: "employees".into(),
            value: AttrValue::Int(400),
        },
        _ => EventKind::WebinarAttend { webinar: None },
    }
}

/// The oracle: each lead's sorted, de-duplicated events replayed through the
/// pure scoring function and the lifecycle, evaluated at every event time.
pub(crate) fn oracle(
    leads: &[Lead],
    events: &[Event],
    now: DateTime<Utc>,
) -> BTreeMap<LeadId, (LeadLifecycle, Scores)> {
    let (model, machine) = (model(), machine());
    let mut out = BTreeMap::new();
    for lead in leads {
        let mut mine: Vec<Event> = events.iter().filter(|e| e.lead == lead.id).cloned().collect();
        mine.sort_by(|a, b| (a.at, a.id.as_str()).cmp(&(b.at, b.id.as_str())));
        mine.dedup_by(|a, b| a.id == b.id);
        let mut seen = std::collections::HashSet::new();
        mine.retain(|e| seen.insert(e.id.clone()));
        let lead_at = |t: DateTime<Utc>| {
            let mut l = lead.clone();
            for e in mine.iter().filter(|e| e.at <= t) {
                if let EventKind::AttributeChange { key, value } = &e.shape.kind {
                    l.set_attribute(key, value.clone()).unwrap();
                }
            }
            l
        };
        let mut life = machine.start(lead);
        let mut times: Vec<DateTime<Utc>> = mine.iter().map(|e| e.at).chain([lead.created_at]).collect();
        times.sort();
        times.dedup();
        for t in times {
            let l = lead_at(t);
            let scores = model.score(&l, &mine, t);
            machine.advance(
                &mut life,
                &LeadView::new(&l).with_events(&mine).with_scores(&scores),
                t,
            );
        }
        let scores = model.score(&lead_at(now), &mine, now);
        out.insert(lead.id.clone(), (life, scores));
    }
    out
}

fn state(f: &Funnel) -> BTreeMap<LeadId, (LeadLifecycle, Scores)> {
    f.leads()
        .map(|r| (r.lead.id.clone(), (r.lifecycle.clone(), r.scores.clone())))
        .collect()
}

pub(crate) fn leads(n: usize) -> Vec<Lead> {
    (0..n)
        .map(|i| {
            let mut l = identified_lead(&format!("lead-{i}"));
            l.company.employees = Some(20 + 100 * i as u32);
            l
        })
        .collect()
}

pub(crate) fn history(n_leads: usize) -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((0..n_leads, 0u8..10, 0i64..200, 0u32..40), 1..60).prop_map(|raw| {
        raw.into_iter()
            .map(|(lead, k, hour, id)| Event {
                id: EventId::new(format!("e{lead}-{id}")).unwrap(),
                lead: LeadId::new(format!("lead-{lead}")).unwrap(),
                at: at(hour),
                shape: kind(k).into(),
            })
            // Ids are unique per (lead, id) with one fixed content.
            .fold(Vec::<Event>::new(), |mut acc, e| {
                if !acc.iter().any(|x| x.id == e.id && x.lead == e.lead) {
                    acc.push(e);
                }
                acc
            })
    })
}

/// Transitions reported minus retractions reported, per lead, in time order
/// (ties in the order of their debug text): what the outputs add up to,
/// whatever order a funnel reported and retracted them in.
pub(crate) fn net_outputs(outputs: &[Output]) -> BTreeMap<LeadId, Vec<TransitionRecord>> {
    let mut net: BTreeMap<LeadId, Vec<TransitionRecord>> = BTreeMap::new();
    for o in outputs {
        match o {
            Output::Transition { record } => net.entry(record.lead.clone()).or_default().push(record.clone()),
            Output::Retracted { record } => {
                let v = net.entry(record.lead.clone()).or_default();
                let i = v
                    .iter()
                    .position(|r| r == record)
                    .expect("retracts something reported");
                v.remove(i);
            }
            Output::ScoreCrossed { .. } => {}
            _ => {}
        }
    }
    for records in net.values_mut() {
        records.sort_by_cached_key(|r| (r.at, format!("{r:?}")));
    }
    net
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_duplication_and_batching_matches_the_oracle(
        events in history(3),
        seed in any::<u64>(),
        batch in 1usize..8,
        dup in 0usize..5,
    ) {
        let ls = leads(3);
        let now = at(200);
        let expected = oracle(&ls, &events, now);

        let mut shuffled = events.clone();
        shuffled.extend(events.iter().take(dup).cloned());
        leadflow::synthetic::SplitMix64::new(seed).shuffle(&mut shuffled);

        let mut f = funnel(lenient());
        let mut outputs = Vec::new();
        for l in &ls {
            outputs.extend(f.upsert_lead(l.clone(), l.created_at).unwrap());
        }
        let mut duplicates = 0;
        for chunk in shuffled.chunks(batch) {
            let report = f.ingest_batch(chunk.iter().cloned(), now);
            prop_assert!(report.rejected.is_empty(), "{:?}", report.rejected);
            duplicates += report.duplicates;
            outputs.extend(report.outputs);
        }
        prop_assert_eq!(duplicates, dup.min(events.len()));
        prop_assert_eq!(&state(&f), &expected);
        // What the host was told adds up to the final histories.
        let net = net_outputs(&outputs);
        let sorted = |mut v: Vec<TransitionRecord>| {
            v.sort_by_key(|r| (r.at, format!("{r:?}")));
            v
        };
        for (id, (life, _)) in &expected {
            prop_assert_eq!(sorted(net.get(id).cloned().unwrap_or_default()), sorted(life.history().to_vec()));
        }
    }

    #[test]
    fn snapshot_restore_continue_equals_never_stopping(events in history(2), cut in 0usize..60) {
        let ls = leads(2);
        let now = at(200);
        let cut = cut.min(events.len());
        let mut whole = funnel(lenient());
        let mut halted = funnel(lenient());
        for l in &ls {
            whole.upsert_lead(l.clone(), l.created_at).unwrap();
            halted.upsert_lead(l.clone(), l.created_at).unwrap();
        }
        whole.ingest_batch(events.iter().cloned(), now);
        halted.ingest_batch(events[..cut].iter().cloned(), now);
        let json = serde_json::to_string(&halted.snapshot()).unwrap();
        let mut restored = serde_json::from_str::<FunnelSnapshot>(&json).unwrap().restore(&CriteriaRegistry::new()).unwrap();
        restored.ingest_batch(events[cut..].iter().cloned(), now);
        prop_assert_eq!(state(&restored), state(&whole));
        // A snapshot of a restored funnel equals its own round trip.
        let again = restored.snapshot().restore(&CriteriaRegistry::new()).unwrap();
        prop_assert_eq!(again.snapshot(), restored.snapshot());
        prop_assert_eq!(whole.snapshot().restore(&CriteriaRegistry::new()).unwrap().snapshot(), whole.snapshot());
        prop_assert_eq!(restored.stats().events_applied, whole.stats().events_applied);
    }
}

pub(crate) fn ev(lead: &str, id: &str, hours: i64, k: EventKind) -> Event {
    Event::new(
        EventId::new(id).unwrap(),
        LeadId::new(lead).unwrap(),
        at(hours),
        k,
    )
}

#[test]
fn duplicates_are_counted_not_rescored() {
    let mut f = funnel(FunnelConfig::default());
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    let e = ev("a", "d1", 1, EventKind::DemoRequest);
    let first = f.ingest(e.clone(), at(2));
    let scores = f.lead(&LeadId::new("a").unwrap()).unwrap().scores.clone();
    let second = f.ingest_batch([e.clone(), e], at(2));
    assert_eq!((first.applied, first.duplicates), (1, 0));
    assert_eq!((second.applied, second.duplicates), (0, 2));
    assert!(second.outputs.is_empty());
    assert_eq!(f.lead(&LeadId::new("a").unwrap()).unwrap().scores, &scores);
    assert_eq!(f.stats().duplicates, 2);
}

#[test]
fn unknown_leads_follow_the_policy() {
    let mut create = funnel(FunnelConfig::default());
    let r = create.ingest(ev("new", "e", 1, EventKind::DemoRequest), at(1));
    assert_eq!(r.applied, 1);
    assert_eq!(
        create.lead(&LeadId::new("new").unwrap()).unwrap().lead.created_at,
        at(1)
    );

    let mut reject = funnel(FunnelConfig {
        unknown_leads: UnknownLeads::Reject,
        ..FunnelConfig::default()
    });
    let r = reject.ingest(ev("new", "e", 1, EventKind::DemoRequest), at(1));
    assert_eq!(r.applied, 0);
    assert!(matches!(&r.rejected[0].error, IngestError::UnknownLead { lead } if lead.as_str() == "new"));
    assert!(reject.is_empty());
}

#[test]
fn events_beyond_the_allowed_lateness_are_refused_and_change_nothing() {
    let mut f = funnel(FunnelConfig {
        allowed_lateness: Span::hours(24),
        ..FunnelConfig::default()
    });
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    f.ingest(
        ev("a", "late-anchor", 100, EventKind::EmailOpen { campaign: None }),
        at(100),
    );
    let before = state(&f);
    let r = f.ingest(ev("a", "old", 75, EventKind::DemoRequest), at(100));
    assert!(matches!(r.rejected[0].error, IngestError::TooLate { .. }));
    assert_eq!(r.applied, 0);
    assert_eq!(state(&f), before);
    assert_eq!(f.lead(&LeadId::new("a").unwrap()).unwrap().events.len(), 1);
    assert_eq!(f.stats().events_rejected, 1);
    // Within the lateness, a late event is applied.
    assert_eq!(
        f.ingest(ev("a", "ok", 77, EventKind::DemoRequest), at(100))
            .applied,
        1
    );
}

#[test]
fn events_from_the_future_and_bad_attributes_are_refused() {
    let mut f = funnel(FunnelConfig::default());
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    let r = f.ingest_batch(
        [
            ev("a", "future", 10, EventKind::DemoRequest),
            ev(
                "a",
                "bad",
                1,
                EventKind::AttributeChange {
                    key: "seniority".into(),
                    value: AttrValue::text("wizard"),
                },
            ),
        ],
        at(5),
    );
    assert_eq!(r.applied, 0);
    assert!(matches!(r.rejected[0].error, IngestError::FromTheFuture { .. }));
    assert!(
        matches!(&r.rejected[1].error, IngestError::BadAttribute { message, .. } if message.contains("wizard"))
    );
    assert!(f.lead(&LeadId::new("a").unwrap()).unwrap().events.is_empty());
}

#[test]
fn late_events_retract_and_restate_transitions() {
    let mut f = funnel(lenient());
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    let r = f.ingest_batch(
        [
            ev("a", "form", 1, EventKind::FormSubmit { form: None }),
            ev("a", "price", 10, kind(3)),
        ],
        at(10),
    );
    let mql = |outputs: &[Output]| {
        outputs.iter().find_map(|o| match o {
            Output::Transition { record } if record.to == Stage::Mql => Some(record.at),
            _ => None,
        })
    };
    assert_eq!(mql(&r.outputs), Some(at(10)));
    // A pricing sheet downloaded at hour 5 arrives late: MQL was really at 5.
    let r = f.ingest(ev("a", "price-early", 5, kind(3)), at(11));
    assert!(r.outputs.iter().any(
        |o| matches!(o, Output::Retracted { record } if record.to == Stage::Mql && record.at == at(10))
    ));
    assert_eq!(mql(&r.outputs), Some(at(5)));
    assert_eq!(f.stats().retractions, 1);
}

#[test]
fn commands_are_checked_on_the_timeline() {
    let mut f = funnel(lenient());
    let id = LeadId::new("a").unwrap();
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    f.ingest(ev("a", "price", 1, kind(3)), at(1)); // MAL → MQL
    let rep = OwnerId::new("rep").unwrap();
    // Illegal: an MQL cannot be won. Nothing changes.
    let before = f.snapshot();
    let err = f
        .command(
            &id,
            Transition::Win {
                by: None,
                value: None,
            },
            at(2),
        )
        .unwrap_err();
    assert!(matches!(err, CommandError::Transition(_)));
    assert_eq!(f.snapshot(), before);
    assert!(matches!(
        f.command(
            &LeadId::new("zz").unwrap(),
            Transition::Accept { owner: rep.clone() },
            at(2)
        ),
        Err(CommandError::UnknownLead { .. })
    ));
    // Legal.
    let out = f.command(&id, Transition::Accept { owner: rep }, at(3)).unwrap();
    assert!(matches!(&out[..], [Output::Transition { record }] if record.to == Stage::Sal));
    // A late event before the acceptance only re-evaluates the timeline.
    let r = f.ingest(ev("a", "open", 2, EventKind::EmailOpen { campaign: None }), at(4));
    assert!(r.rejected.is_empty());
    assert_eq!(f.lead(&id).unwrap().lifecycle.stage(), Stage::Sal);
}

/// Students are disqualified automatically from MQL; lead "a" became an
/// MQL at hour 1 and sales accepted it at hour 5.
fn accepted_student_funnel() -> (Funnel, LeadId) {
    let student = Condition::attribute("job_title", leadflow::Predicate::contains("student"));
    let machine = LifecycleDefinition::standard_b2b(Condition::did(leadflow::EventType::DemoRequest))
        .auto_disqualify(Stage::Mql, "student", student, Reason::new(ReasonCode::Student))
        .build()
        .unwrap();
    let mut f = Funnel::new(model(), machine, lenient());
    let id = LeadId::new("a").unwrap();
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    f.ingest(ev("a", "demo", 1, EventKind::DemoRequest), at(1));
    f.command(
        &id,
        Transition::Accept {
            owner: OwnerId::new("rep").unwrap(),
        },
        at(5),
    )
    .unwrap();
    (f, id)
}

#[test]
fn an_upsert_that_would_invalidate_a_command_is_refused_and_changes_nothing() {
    let (mut f, id) = accepted_student_funnel();
    let before = f.snapshot();
    // New attributes as of hour 2: a student, disqualified before the
    // acceptance at hour 5.
    let mut student = identified_lead("a");
    student.person.job_title = Some("PhD student".into());
    let err = f.upsert_lead(student.clone(), at(2)).unwrap_err();
    assert!(matches!(err, CommandError::Transition(_)), "{err}");
    assert_eq!(f.snapshot(), before, "the refused version is not kept");
    assert_eq!(f.lead(&id).unwrap().lifecycle.stage(), Stage::Sal);
    // After the acceptance the same attributes are fine: MQL is left behind.
    f.upsert_lead(student, at(6)).unwrap();
    assert_eq!(
        f.lead(&id).unwrap().lead.person.job_title.as_deref(),
        Some("PhD student")
    );
    assert_eq!(f.lead(&id).unwrap().lifecycle.stage(), Stage::Sal);
}

#[test]
fn a_late_event_that_would_invalidate_a_command_is_refused() {
    let (mut f, id) = accepted_student_funnel();
    let before = state(&f);
    // The title changed to student at hour 2: the lead would have been
    // disqualified before the acceptance at hour 5.
    let change = EventKind::AttributeChange {
        key: "job_title".into(),
        value: AttrValue::text("Student"),
    };
    let r = f.ingest(ev("a", "title", 2, change), at(6));
    assert_eq!(r.applied, 0);
    assert!(
        matches!(&r.rejected[0].error, IngestError::ConflictsWithCommand { command, .. } if command == "accept")
    );
    assert_eq!(state(&f), before);
    assert_eq!(f.lead(&id).unwrap().lifecycle.stage(), Stage::Sal);
    assert_eq!(f.lead(&id).unwrap().events.len(), 1);
    // The refused id was not recorded as seen: it is refused again, not ignored.
    let change = EventKind::AttributeChange {
        key: "job_title".into(),
        value: AttrValue::text("Student"),
    };
    let again = f.ingest(ev("a", "title", 2, change), at(6));
    assert_eq!((again.duplicates, again.rejected.len()), (0, 1));
}

#[test]
fn thresholds_report_crossings() {
    let config = FunnelConfig {
        thresholds: vec![Threshold::new("hot", Dimension::Engagement, 40)],
        ..lenient()
    };
    let mut f = funnel(config);
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    let r = f.ingest(ev("a", "demo", 1, EventKind::DemoRequest), at(1));
    assert!(
        r.outputs
            .iter()
            .any(|o| matches!(o, Output::ScoreCrossed { upward: true, threshold, .. } if threshold == "hot"))
    );
    let r = f.ingest(ev("a", "open", 2, EventKind::EmailOpen { campaign: None }), at(2));
    assert!(!r.outputs.iter().any(|o| matches!(o, Output::ScoreCrossed { .. })));
}

#[test]
fn swapping_the_model_reports_who_would_qualify() {
    let mut f = funnel(lenient());
    for l in leads(3) {
        f.upsert_lead(l, at(0)).unwrap();
    }
    f.ingest(
        ev("lead-0", "o", 1, EventKind::EmailOpen { campaign: None }),
        at(1),
    );
    let stricter_json = serde_json::to_string(&model())
        .unwrap()
        .replace("\"b2b-default@1\"", "\"v2\"");
    let v2: ScoringModel = serde_json::from_str(&stricter_json).unwrap();
    let change = f.swap_model(v2, at(2), false);
    assert_eq!(change.to.as_str(), "v2");
    assert_eq!(change.rescored, 3);
    assert!(change.outputs.is_empty());

    // A model that fails validation never reaches the funnel.
    let broken = stricter_json.replacen("\"points\":40", "\"points\":1e300", 1);
    assert!(serde_json::from_str::<ScoringModel>(&broken).is_err());
    assert_eq!(f.model().version().as_str(), "v2");
}

#[test]
fn follow_up_events_feed_slas() {
    let mut f = funnel(lenient());
    let id = LeadId::new("a").unwrap();
    f.upsert_lead(identified_lead("a"), at(0)).unwrap();
    f.ingest(ev("a", "price", 1, kind(3)), at(1));
    assert_eq!(f.overdue(at(30)).len(), 1, "MQL not accepted within 24 h");
    f.command(
        &id,
        Transition::Accept {
            owner: OwnerId::new("rep").unwrap(),
        },
        at(31),
    )
    .unwrap();
    f.ingest(ev("a", "call", 33, EventKind::SalesTouch { by: None }), at(33));
    assert!(f.overdue(at(80)).is_empty());
    assert_eq!(
        f.lead(&id).unwrap().lifecycle.follow_up_speed(Stage::Sal),
        Some(Duration::hours(2))
    );
}

#[test]
fn shards_partition_leads_and_stats_merge() {
    let ls = leads(20);
    let mut shards: Vec<Funnel> = (0..3).map(|_| funnel(lenient())).collect();
    let mut whole = funnel(lenient());
    for l in &ls {
        shards[leadflow::funnel::shard_for(&l.id, 3)]
            .upsert_lead(l.clone(), at(0))
            .unwrap();
        whole.upsert_lead(l.clone(), at(0)).unwrap();
    }
    let events: Vec<Event> = (0..100)
        .map(|i| {
            ev(
                &format!("lead-{}", i % 20),
                &format!("e{i}"),
                i as i64,
                kind(i as u8),
            )
        })
        .collect();
    for e in &events {
        shards[leadflow::funnel::shard_for(&e.lead, 3)].ingest(e.clone(), at(200));
        whole.ingest(e.clone(), at(200));
    }
    let mut merged = leadflow::funnel::FunnelStats::default();
    for s in &shards {
        merged.merge(&s.stats());
    }
    assert_eq!(merged, whole.stats());
    let mut sharded_state = BTreeMap::new();
    for s in &shards {
        sharded_state.extend(state(s));
    }
    assert_eq!(sharded_state, state(&whole));
}

/// A sales command: accept, reject (to nurture), recycle (to nurture, where
/// automatic edges apply again) or disqualify.
pub(crate) fn sales_command(k: u8) -> Transition {
    let rep = OwnerId::new("rep").unwrap();
    match k % 4 {
        0 => Transition::Accept { owner: rep },
        1 => Transition::Reject {
            by: rep,
            reason: Reason::new(ReasonCode::BadTiming),
        },
        2 => Transition::Recycle {
            by: None,
            reason: Reason::new(ReasonCode::Unresponsive),
        },
        _ => Transition::Disqualify {
            by: None,
            reason: Reason::new(ReasonCode::NoNeed),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Commands given in time order, between the events, give the same
    /// outcomes and final state as the same commands given in the past,
    /// after every event (which places them on the timeline).
    #[test]
    fn commands_in_the_past_equal_commands_in_time(
        events in history(1),
        commands in prop::collection::vec((0u8..4, 0i64..60), 1..5),
        seed in any::<u64>(),
    ) {
        let ls = leads(1);
        let id = ls[0].id.clone();
        let now = at(400);
        let mut t = 0;
        let commands: Vec<(Transition, i64)> = commands
            .into_iter()
            .map(|(k, gap)| {
                t += gap;
                (sales_command(k), t)
            })
            .collect();
        let mut shuffled = events.clone();
        leadflow::synthetic::SplitMix64::new(seed).shuffle(&mut shuffled);

        // In time: the events up to each command (in any order), then it.
        let mut live = funnel(lenient());
        live.upsert_lead(ls[0].clone(), ls[0].created_at).unwrap();
        let mut done: Option<i64> = None;
        let mut in_time = Vec::new();
        for (command, hours) in &commands {
            let due: Vec<Event> = shuffled
                .iter()
                .filter(|e| e.at <= at(*hours) && done.is_none_or(|d| e.at > at(d)))
                .cloned()
                .collect();
            let r = live.ingest_batch(due, now);
            prop_assert!(r.rejected.is_empty(), "{:?}", r.rejected);
            done = Some(*hours);
            in_time.push(live.command(&id, command.clone(), at(*hours)).is_ok());
        }
        let rest: Vec<Event> = shuffled.iter().filter(|e| done.is_none_or(|d| e.at > at(d))).cloned().collect();
        let r = live.ingest_batch(rest, now);
        prop_assert!(r.rejected.is_empty(), "{:?}", r.rejected);

        // In the past: every event first, then the commands.
        let mut past = funnel(lenient());
        past.upsert_lead(ls[0].clone(), ls[0].created_at).unwrap();
        past.ingest_batch(shuffled.iter().cloned(), now);
        let late: Vec<bool> = commands
            .iter()
            .map(|(command, hours)| past.command(&id, command.clone(), at(*hours)).is_ok())
            .collect();
        prop_assert_eq!(late, in_time);
        prop_assert_eq!(state(&past), state(&live));
    }

    /// Scores are computed when read: configuring thresholds (which
    /// computes them at every touch) changes nothing in the final state.
    #[test]
    fn lazy_scores_equal_eager_scores(events in history(2), batch in 1usize..6) {
        let ls = leads(2);
        let now = at(200);
        let eager_config = FunnelConfig {
            thresholds: vec![Threshold::new("warm", Dimension::Combined, 20)],
            ..lenient()
        };
        let (mut lazy, mut eager) = (funnel(lenient()), funnel(eager_config));
        for l in &ls {
            lazy.upsert_lead(l.clone(), l.created_at).unwrap();
            eager.upsert_lead(l.clone(), l.created_at).unwrap();
        }
        for chunk in events.chunks(batch) {
            lazy.ingest_batch(chunk.iter().cloned(), now);
            eager.ingest_batch(chunk.iter().cloned(), now);
        }
        prop_assert_eq!(state(&lazy), state(&eager));
        prop_assert_eq!(&state(&lazy), &oracle(&ls, &events, now));
    }
}
