//! The compiled funnel answers exactly as the funnel and the oracle: any
//! order, duplication and batching, commands in the past, model swaps,
//! thresholds, the synthetic workload, and bad input.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leadflow::criteria::CriteriaRegistry;
use leadflow::funnel::{
    CommandError, CompactEvent, CompiledFunnel, CompiledSnapshot, Funnel, FunnelConfig, FunnelError,
    FunnelSnapshot, IngestError, Output, Threshold, UnknownLeads, event_key,
};
use leadflow::synthetic::{SplitMix64, WorkloadConfig};
use leadflow::{Dimension, Event, EventKind, LeadId, LeadLifecycle, ModelVersion, Scores, Span, Stage};
use proptest::prelude::*;

use crate::funnel::{ev, history, kind, leads, lenient, machine, model, net_outputs, oracle, sales_command};
use crate::support::*;

fn compiled(config: FunnelConfig) -> CompiledFunnel {
    CompiledFunnel::new(model(), machine(), config)
}

fn state(f: &CompiledFunnel, now: DateTime<Utc>) -> BTreeMap<LeadId, (LeadLifecycle, Scores)> {
    f.leads()
        .map(|r| {
            (
                r.lead.id.clone(),
                (r.lifecycle.clone(), f.scores_at(r.key, now).unwrap()),
            )
        })
        .collect()
}

fn funnel_state(f: &Funnel, now: DateTime<Utc>) -> BTreeMap<LeadId, (LeadLifecycle, Scores)> {
    f.leads()
        .map(|r| {
            (
                r.lead.id.clone(),
                (r.lifecycle.clone(), f.scores_at(&r.lead.id, now).unwrap()),
            )
        })
        .collect()
}

/// The events keyed for `f` (leads must be upserted).
fn keyed(f: &mut CompiledFunnel, events: &[Event]) -> Vec<CompactEvent> {
    events.iter().map(|e| f.compact(e).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_duplication_and_batching_matches_the_oracle(
        events in history(3),
        seed in any::<u64>(),
        batch in 1usize..8,
        dup in 0usize..5,
        compact in any::<bool>(),
    ) {
        let ls = leads(3);
        let now = at(200);
        let expected = oracle(&ls, &events, now);

        let mut shuffled = events.clone();
        shuffled.extend(events.iter().take(dup).cloned());
        SplitMix64::new(seed).shuffle(&mut shuffled);

        let mut f = compiled(lenient());
        let mut outputs = Vec::new();
        for l in &ls {
            outputs.extend(f.upsert_lead(l.clone(), l.created_at).unwrap().1);
        }
        let mut duplicates = 0;
        for chunk in shuffled.chunks(batch) {
            let report = if compact {
                let keyed = keyed(&mut f, chunk);
                f.ingest(&keyed, now)
            } else {
                f.ingest_events(chunk.iter().cloned(), now)
            };
            prop_assert!(report.rejected.is_empty(), "{:?}", report.rejected);
            duplicates += report.duplicates;
            outputs.extend(report.outputs);
        }
        prop_assert_eq!(duplicates, dup.min(events.len()));
        prop_assert_eq!(&state(&f, now), &expected);
        let net = net_outputs(&outputs);
        let sorted = |mut v: Vec<leadflow::TransitionRecord>| {
            v.sort_by_key(|r| (r.at, format!("{r:?}")));
            v
        };
        for (id, (life, _)) in &expected {
            prop_assert_eq!(sorted(net.get(id).cloned().unwrap_or_default()), sorted(life.history().to_vec()));
        }
    }

    /// The same calls (upserts, events in any order, commands at any time)
    /// give the funnel and the compiled funnel the same answers and state.
    #[test]
    fn commands_and_late_events_answer_as_the_funnel(
        events in history(2),
        commands in prop::collection::vec((0usize..2, 0u8..4, 0i64..250), 0..5),
        seed in any::<u64>(),
        batch in 1usize..6,
    ) {
        let ls = leads(2);
        let now = at(400);
        let mut shuffled = events.clone();
        SplitMix64::new(seed).shuffle(&mut shuffled);
        let (mut f, mut c) = (crate::funnel::funnel(lenient()), compiled(lenient()));
        for l in &ls {
            prop_assert_eq!(f.upsert_lead(l.clone(), l.created_at).is_ok(), c.upsert_lead(l.clone(), l.created_at).is_ok());
        }
        let mut commands = commands.into_iter();
        for chunk in shuffled.chunks(batch) {
            // One event at a time, so both funnels refuse the same events.
            for e in chunk {
                let (a, b) = (f.ingest(e.clone(), now), c.ingest_events([e.clone()], now));
                prop_assert_eq!(a.applied, b.applied);
                prop_assert_eq!(a.duplicates, b.duplicates);
                prop_assert_eq!(&a.rejected, &b.rejected);
            }
            if let Some((lead, k, hours)) = commands.next() {
                let id = &ls[lead].id;
                let a = f.command(id, sales_command(k), at(hours));
                let b = c.command(c.key(id).unwrap(), sales_command(k), at(hours));
                prop_assert_eq!(a, b);
            }
        }
        prop_assert_eq!(state(&c, now), funnel_state(&f, now));
        prop_assert_eq!(c.stats(), f.stats());
    }

    #[test]
    fn snapshot_restore_continue_equals_never_stopping(
        events in history(2),
        cut in 0usize..60,
        lateness in 1i64..300,
    ) {
        let ls = leads(2);
        let now = at(200);
        let config = FunnelConfig { allowed_lateness: Span::hours(lateness), ..lenient() };
        let cut = cut.min(events.len());
        let (mut whole, mut halted) = (compiled(config.clone()), compiled(config));
        for l in &ls {
            whole.upsert_lead(l.clone(), l.created_at).unwrap();
            halted.upsert_lead(l.clone(), l.created_at).unwrap();
        }
        let a = whole.ingest_events(events.iter().cloned(), now);
        let b1 = halted.ingest_events(events[..cut].iter().cloned(), now);
        let json = serde_json::to_string(&halted.snapshot()).unwrap();
        let mut restored = serde_json::from_str::<CompiledSnapshot>(&json)
            .unwrap()
            .restore(&CriteriaRegistry::new())
            .unwrap();
        let b2 = restored.ingest_events(events[cut..].iter().cloned(), now);
        prop_assert_eq!(a.rejected.len(), b1.rejected.len() + b2.rejected.len());
        prop_assert_eq!(state(&restored, now), state(&whole, now));
        prop_assert_eq!(restored.stats().events_applied, whole.stats().events_applied);
        let again = restored.snapshot().restore(&CriteriaRegistry::new()).unwrap();
        prop_assert_eq!(again.snapshot(), restored.snapshot());
    }
}

#[test]
fn a_damaged_snapshot_is_refused_with_what_is_wrong() {
    let mut c = compiled(lenient());
    let mut f = crate::funnel::funnel(lenient());
    for l in leads(2) {
        c.upsert_lead(l.clone(), l.created_at).unwrap();
        f.upsert_lead(l.clone(), l.created_at).unwrap();
    }
    // A compiled snapshot's lead is `[state, log]`; a funnel's, the state.
    refuses_damage(
        serde_json::to_value(c.snapshot()).unwrap(),
        |json, k| &mut json["leads"][k][0],
        |v| {
            serde_json::from_value::<CompiledSnapshot>(v)
                .unwrap()
                .restore(&CriteriaRegistry::new())
                .map(|f| f.len())
        },
    );
    refuses_damage(
        serde_json::to_value(f.snapshot()).unwrap(),
        |json, k| &mut json["leads"][k],
        |v| {
            serde_json::from_value::<FunnelSnapshot>(v)
                .unwrap()
                .restore(&CriteriaRegistry::new())
                .map(|f| f.len())
        },
    );
}

/// Restores `json`, a snapshot of two leads (`lead(json, k)` is the state
/// of lead `k`, which holds its `life`), as it is, with its first lead twice
/// and with the second lead's attributes given the first's lifecycle.
fn refuses_damage(
    mut json: serde_json::Value,
    lead: fn(&mut serde_json::Value, usize) -> &mut serde_json::Value,
    restore: impl Fn(serde_json::Value) -> Result<usize, FunnelError>,
) {
    assert_eq!(restore(json.clone()), Ok(2));
    let life = |json: &mut serde_json::Value, k| lead(json, k)["life"].clone();
    let id = |life: &serde_json::Value| LeadId::new(life["lead"].as_str().unwrap()).unwrap();
    let (first, second) = (life(&mut json, 0), life(&mut json, 1));
    // The first lead twice.
    let mut twice = json.clone();
    *lead(&mut twice, 1) = lead(&mut json, 0).clone();
    assert_eq!(
        restore(twice),
        Err(FunnelError::DuplicateLead { lead: id(&first) })
    );
    // The second lead's attributes with the first lead's lifecycle.
    let mut swapped = json.clone();
    lead(&mut swapped, 1)["life"] = first.clone();
    assert_eq!(
        restore(swapped),
        Err(FunnelError::MismatchedLifecycle {
            lead: id(&second),
            lifecycle: id(&first)
        })
    );
}

fn synthetic_pair(shuffle: bool) -> (Funnel, CompiledFunnel, DateTime<Utc>) {
    synthetic_pair_with(300, 6_000, 42, shuffle)
}

/// The synthetic workload and its latest event's time.
fn synthetic_workload(
    leads: usize,
    events: usize,
    seed: u64,
) -> (leadflow::synthetic::Workload, DateTime<Utc>) {
    let w = WorkloadConfig {
        leads,
        events,
        seed,
        ..WorkloadConfig::default()
    }
    .generate();
    let now = w.events.iter().map(|e| e.at).max().unwrap();
    (w, now)
}

/// A funnel and a compiled funnel fed the same synthetic workload (the
/// synthetic model and lifecycle), checking every call's counts and that
/// the outputs net out alike.
fn synthetic_pair_with(
    leads: usize,
    events: usize,
    seed: u64,
    shuffle: bool,
) -> (Funnel, CompiledFunnel, DateTime<Utc>) {
    let (w, now) = synthetic_workload(leads, events, seed);
    let (model, machine) = (
        leadflow::synthetic::scoring_model().unwrap(),
        leadflow::synthetic::lifecycle().unwrap(),
    );
    let mut f = Funnel::new(model.clone(), machine.clone(), FunnelConfig::default());
    let mut c = CompiledFunnel::new(model, machine, FunnelConfig::default());
    for l in &w.leads {
        f.upsert_lead(l.clone(), l.created_at).unwrap();
        c.upsert_lead(l.clone(), l.created_at).unwrap();
    }
    let events = if shuffle {
        w.arrival_order(Span::days(1), 3)
    } else {
        w.events.clone()
    };
    let mut outputs = (Vec::new(), Vec::new());
    for chunk in events.chunks(500) {
        let a = f.ingest_batch(chunk.iter().cloned(), now);
        let keyed = keyed(&mut c, chunk);
        let b = c.ingest(&keyed, now);
        assert_eq!(
            (a.applied, a.duplicates, a.rejected.len()),
            (b.applied, b.duplicates, b.rejected.len())
        );
        outputs.0.extend(a.outputs);
        outputs.1.extend(b.outputs);
    }
    assert_eq!(net_outputs(&outputs.0), net_outputs(&outputs.1));
    (f, c, now)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random synthetic workloads (leads with and without free-mail
    /// penalties, every event kind, the synthetic model's caps, decay and
    /// limits): the bounds never hide a transition.
    #[test]
    fn random_synthetic_workloads_give_the_funnels_state(seed in any::<u64>(), shuffle in any::<bool>()) {
        let (f, c, now) = synthetic_pair_with(12, 400, seed, shuffle);
        prop_assert_eq!(state(&c, now), funnel_state(&f, now));
    }
}

#[test]
fn the_synthetic_workload_gives_the_funnels_state_in_order_and_shuffled() {
    for shuffle in [false, true] {
        let (f, c, now) = synthetic_pair(shuffle);
        assert_eq!(state(&c, now), funnel_state(&f, now));
        // Transitions and retractions reported depend on how arrivals group
        // into calls (the funnel nets out a lead's events within one call).
        let counts = |s: leadflow::funnel::FunnelStats| {
            (s.events_applied, s.duplicates, s.events_rejected, s.leads_created)
        };
        assert_eq!(counts(c.stats()), counts(f.stats()));
        if !shuffle {
            assert_eq!(c.stats(), f.stats());
        }
        assert!(c.leads().filter(|l| l.lifecycle.stage() == Stage::Mql).count() > 10);
    }
}

/// A compiled funnel holding the synthetic workload's leads, the
/// workload's events keyed (in time order), and the latest event's time.
fn synthetic_compiled(
    leads: usize,
    events: usize,
    seed: u64,
) -> (CompiledFunnel, Vec<CompactEvent>, DateTime<Utc>) {
    let (w, now) = synthetic_workload(leads, events, seed);
    let mut c = CompiledFunnel::new(
        leadflow::synthetic::scoring_model().unwrap(),
        leadflow::synthetic::lifecycle().unwrap(),
        FunnelConfig::default(),
    );
    for l in &w.leads {
        c.upsert_lead(l.clone(), l.created_at).unwrap();
    }
    let events = keyed(&mut c, &w.events);
    (c, events, now)
}

/// Outputs as sorted JSON lines: the same multiset compares equal.
fn as_multiset(outputs: &[Output]) -> Vec<String> {
    let mut lines: Vec<String> = outputs
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    lines.sort();
    lines
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Replaying a history in any order, with copies, after any part of it
    /// was ingested, leaves every lead where ingesting it in time order does
    /// (events at the same time in the order given: which of them fires a
    /// transition, to be restated by the next, depends on it), with the same
    /// transitions reported and the same statistics.
    #[test]
    fn replay_equals_ingesting_in_time_order(seed in any::<u64>(), quarter in 0usize..=4, copies in 0usize..40) {
        let (base, sorted, now) = synthetic_compiled(120, 1_500, seed);
        let cut = sorted.len() * quarter / 4;
        let mut rest = sorted[cut..].to_vec();
        let mut rng = SplitMix64::new(seed);
        for _ in 0..copies.min(rest.len()) {
            let copy = rest[rng.below(rest.len() as u64) as usize];
            rest.push(copy);
        }
        for i in (1..rest.len()).rev() {
            rest.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut in_time_order = rest.clone();
        in_time_order.sort_by_key(|e| e.at);

        let mut want = base.clone();
        want.ingest(&sorted[..cut], now);
        let ingested = want.ingest(&in_time_order, now);
        let mut got = base;
        got.ingest(&sorted[..cut], now);
        let replayed = got.replay(&rest, now);

        prop_assert_eq!(state(&got, now), state(&want, now));
        prop_assert_eq!(replayed.applied, sorted.len() - cut);
        prop_assert_eq!(replayed.applied, ingested.applied);
        prop_assert_eq!(replayed.duplicates, copies.min(sorted.len() - cut));
        prop_assert!(replayed.rejected.is_empty());
        prop_assert_eq!(as_multiset(&replayed.outputs), as_multiset(&ingested.outputs));
        prop_assert_eq!(got.stats(), want.stats());
        // A copy of the latest event arriving afterwards is still known.
        if let Some(last) = rest.iter().max_by_key(|e| e.at) {
            prop_assert_eq!(got.ingest(&[*last], now).duplicates, 1);
        }
    }
}

/// Replay groups a large call's events in buckets of leads before it groups
/// them by lead: with leads enough for many buckets, every lead still ends
/// where ingesting in time order leaves it, and the outputs come in the
/// order of the leads' keys.
#[test]
fn replay_over_many_leads_equals_ingesting_in_time_order() {
    let (base, sorted, now) = synthetic_compiled(9_000, 30_000, 11);
    let mut shuffled = sorted.clone();
    shuffled.reverse();
    let mut want = base.clone();
    let ingested = want.ingest(&sorted, now);
    let mut got = base;
    let replayed = got.replay(&shuffled, now);
    assert_eq!(replayed.applied, sorted.len());
    assert_eq!(state(&got, now), state(&want, now));
    assert_eq!(as_multiset(&replayed.outputs), as_multiset(&ingested.outputs));
    assert!(replayed.outputs.len() > 100, "a workload that moves leads");
    let leads: Vec<_> = replayed
        .outputs
        .iter()
        .map(|o| match o {
            Output::Transition { record } => got.key(&record.lead).unwrap(),
            other => panic!("no thresholds are configured: {other:?}"),
        })
        .collect();
    assert!(
        leads.windows(2).all(|w| w[0] <= w[1]),
        "outputs in the order of the keys"
    );
}

#[test]
fn swapping_the_model_reports_what_the_funnel_reports() {
    use leadflow::scoring::{Group, Rule};
    let base = leadflow::synthetic::scoring_model().unwrap().to_builder();
    let version = |v: &str| ModelVersion::new(v).unwrap();
    // A cap change (the bounds stay valid), a group's cap lowered (the same
    // totals settled under new caps), changed points for an event and an
    // attribute rule (bounds recomputed), a new group (a new layout).
    let rules = base.clone().build().unwrap().rules().to_vec();
    let repointed = rules.iter().cloned().fold(
        leadflow::scoring::ScoringModel::builder(version("synthetic@3")),
        |b, mut r| {
            if r.id == "demo_request" || r.id == "size_icp" {
                r.points = leadflow::Points::new(55);
            }
            b.rule(r)
        },
    );
    let groups = base.clone().build().unwrap().groups().clone();
    let repointed = groups
        .into_iter()
        .fold(repointed, |b, (name, g)| b.group(name, g));
    let models = [
        base.clone()
            .version(version("synthetic@2"))
            .engagement_cap(50)
            .build()
            .unwrap(),
        {
            let model = base.clone().build().unwrap();
            let (name, group) = model.groups().get_index(0).unwrap();
            let mut lower = group.clone();
            lower.cap = Some(leadflow::Points::new(5));
            base.clone()
                .version(version("synthetic@5"))
                .group(name.clone(), lower)
                .build()
                .unwrap()
        },
        repointed.build().unwrap(),
        base.version(version("synthetic@4"))
            .rule(Rule::event("feedback", leadflow::EventType::Feedback, 30).group("voice"))
            .group("voice", Group::new().cap(20))
            .build()
            .unwrap(),
    ];
    let (mut f, mut c, now) = synthetic_pair(false);
    for (k, next) in models.iter().enumerate() {
        for fire in [false, true] {
            let (a, b) = (
                f.swap_model(next.clone(), now, fire),
                c.swap_model(next.clone(), now, fire),
            );
            assert_eq!(a, b, "model {k}, fire {fire}");
            assert_eq!(state(&c, now), funnel_state(&f, now));
        }
    }
    // Events after the swaps answer alike too.
    let w = WorkloadConfig {
        leads: 300,
        events: 600,
        seed: 9,
        ..WorkloadConfig::default()
    }
    .generate();
    let later: Vec<Event> = w
        .events
        .iter()
        .map(|e| Event {
            id: leadflow::EventId::new(format!("later-{}", e.id)).unwrap(),
            at: now + (e.at - w.events[0].at) / 50,
            ..e.clone()
        })
        .collect();
    let end = later.iter().map(|e| e.at).max().unwrap();
    let keyed = keyed(&mut c, &later);
    let (a, b) = (f.ingest_batch(later.iter().cloned(), end), c.ingest(&keyed, end));
    assert_eq!((a.applied, a.rejected.len()), (b.applied, b.rejected.len()));
    assert_eq!(state(&c, end), funnel_state(&f, end));
}

#[test]
fn thresholds_report_the_funnels_crossings_in_order() {
    let ls = leads(2);
    let config = FunnelConfig {
        thresholds: vec![Threshold::new("warm", Dimension::Combined, 20)],
        ..lenient()
    };
    let (mut f, mut c) = (crate::funnel::funnel(config.clone()), compiled(config));
    for l in &ls {
        f.upsert_lead(l.clone(), l.created_at).unwrap();
        c.upsert_lead(l.clone(), l.created_at).unwrap();
    }
    let mut crossings = (Vec::new(), Vec::new());
    for h in 0..40 {
        let e = ev(
            &format!("lead-{}", h % 2),
            &format!("e{h}"),
            h,
            kind((h % 7) as u8),
        );
        let only = |o: Vec<Output>| {
            o.into_iter()
                .filter(|o| matches!(o, Output::ScoreCrossed { .. }))
                .collect::<Vec<_>>()
        };
        crossings.0.extend(only(f.ingest(e.clone(), at(h)).outputs));
        crossings.1.extend(only(c.ingest_events([e], at(h)).outputs));
    }
    assert!(!crossings.0.is_empty());
    assert_eq!(crossings.0, crossings.1);
}

#[test]
fn bad_input_is_refused_with_typed_errors_and_changes_nothing() {
    let now = at(100);
    let mut c = compiled(FunnelConfig {
        unknown_leads: UnknownLeads::Reject,
        allowed_lateness: Span::hours(5),
        ..FunnelConfig::default()
    });
    let (key, _) = c.upsert_lead(identified_lead("lead-0"), at(0)).unwrap();
    let e = ev("lead-0", "e1", 50, EventKind::DemoRequest);
    let action = c.action(&e).unwrap();
    let good = CompactEvent {
        lead: key,
        id: event_key(&e.id),
        at: at(50),
        action,
    };
    assert_eq!(c.ingest(&[good, good], now).duplicates, 1);
    // Keys another funnel issued.
    let mut other = compiled(lenient());
    other.upsert_lead(identified_lead("x"), at(0)).unwrap();
    let (far, _) = other.upsert_lead(identified_lead("y"), at(0)).unwrap();
    let other_action = other
        .action(&ev("x", "z", 0, EventKind::WebinarAttend { webinar: None }))
        .unwrap();
    other
        .action(&ev("x", "z", 0, EventKind::EmailOpen { campaign: None }))
        .unwrap();
    let unknown_action = other
        .action(&ev("x", "z", 0, EventKind::EmailClick { campaign: None }))
        .unwrap();
    assert_ne!(other_action, unknown_action);

    let cases = [
        CompactEvent {
            id: 2,
            at: at(101),
            ..good
        },
        CompactEvent {
            id: 3,
            at: at(40),
            ..good
        },
        CompactEvent {
            id: 4,
            lead: far,
            ..good
        },
        CompactEvent {
            id: 5,
            action: unknown_action,
            ..good
        },
    ];
    for event in &cases {
        let r = c.ingest(&[*event], now);
        assert_eq!(r.applied, 0);
        let error = &r.rejected[0].error;
        assert!(
            matches!(
                error,
                IngestError::FromTheFuture { .. }
                    | IngestError::TooLate { .. }
                    | IngestError::UnknownKey { .. }
            ),
            "{error}"
        );
    }
    // Replayed, the same refusals, in the order given.
    let r = c.replay(&cases, now);
    assert_eq!((r.applied, r.rejected.len()), (0, cases.len()));
    assert!(matches!(r.rejected[0].error, IngestError::FromTheFuture { .. }));
    assert!(matches!(r.rejected[1].error, IngestError::TooLate { .. }));
    assert!(matches!(r.rejected[2].error, IngestError::UnknownKey { .. }));
    assert!(matches!(r.rejected[3].error, IngestError::UnknownKey { .. }));
    // Unknown leads under the reject policy.
    let stranger = ev("lead-9", "e9", 60, EventKind::DemoRequest);
    let r = c.ingest_events([stranger], now);
    assert!(matches!(r.rejected[0].error, IngestError::UnknownLead { .. }));
    // Bad attribute values.
    let bad = ev(
        "lead-0",
        "e10",
        60,
        EventKind::AttributeChange {
            key: "employees".into(),
            value: leadflow::AttrValue::Text("many".into()),
        },
    );
    let r = c.ingest_events([bad.clone()], now);
    assert!(
        matches!(r.rejected[0].error, IngestError::BadAttribute { .. }),
        "{:?}",
        r.rejected
    );
    let bad = c.compact(&bad).unwrap();
    let r = c.replay(&[bad, bad], now);
    assert_eq!((r.applied, r.duplicates), (0, 0));
    assert!(
        r.rejected
            .iter()
            .all(|x| matches!(x.error, IngestError::BadAttribute { .. }))
    );
    // Its id is not remembered: sent again, it is refused again, not a duplicate.
    let r = c.ingest(&[bad], now);
    assert_eq!((r.duplicates, r.rejected.len()), (0, 1));
    // Illegal commands change nothing.
    let before = state(&c, now);
    let err = c.command(key, sales_command(2), at(60)).unwrap_err();
    assert!(matches!(err, CommandError::Transition(_)));
    assert_eq!(state(&c, now), before);
    assert_eq!(c.stats().events_applied, 1);
}

#[test]
fn ids_are_remembered_within_the_allowed_lateness() {
    let mut c = compiled(FunnelConfig {
        allowed_lateness: Span::hours(2),
        ..FunnelConfig::default()
    });
    c.upsert_lead(identified_lead("lead-0"), at(0)).unwrap();
    let first = ev("lead-0", "e1", 1, EventKind::EmailOpen { campaign: None });
    assert_eq!(c.ingest_events([first.clone()], at(1)).applied, 1);
    // A redelivered copy: a duplicate while within the lateness...
    assert_eq!(c.ingest_events([first.clone()], at(2)).duplicates, 1);
    c.ingest_events(
        [ev("lead-0", "e2", 10, EventKind::EmailOpen { campaign: None })],
        at(10),
    );
    c.ingest_events(
        [ev("lead-0", "e3", 20, EventKind::EmailOpen { campaign: None })],
        at(20),
    );
    // ...and too late after it.
    let r = c.ingest_events([first], at(20));
    assert!(matches!(r.rejected[0].error, IngestError::TooLate { .. }));
    // The id reused for an event with a new time is a new event.
    let reused = ev("lead-0", "e1", 20, EventKind::EmailOpen { campaign: None });
    assert_eq!(c.ingest_events([reused], at(20)).applied, 1);
}

/// An allowed lateness reaching past the earliest time chrono represents
/// (a host's "forever") makes no event too late, in both funnels and on
/// every path in, and keeps every id.
#[test]
fn a_lateness_past_the_calendars_start_refuses_nothing() {
    let config = FunnelConfig {
        allowed_lateness: "1000000000000w".parse().unwrap(),
        ..FunnelConfig::default()
    };
    let late = ev("lead-0", "e1", 1, EventKind::EmailOpen { campaign: None });
    let events = [
        ev("lead-0", "e2", 5_000, EventKind::EmailOpen { campaign: None }),
        late.clone(),
        late.clone(),
    ];
    let now = at(5_000);
    let mut f = Funnel::new(model(), machine(), config.clone());
    f.upsert_lead(identified_lead("lead-0"), at(0)).unwrap();
    let r = f.ingest_batch(events.clone(), now);
    assert_eq!((r.applied, r.duplicates, r.rejected.len()), (2, 1, 0));
    let later = ev("lead-0", "e3", 2, EventKind::EmailOpen { campaign: None });
    assert_eq!(f.ingest_batch([later.clone()], now).applied, 1);

    let mut c = compiled(config);
    c.upsert_lead(identified_lead("lead-0"), at(0)).unwrap();
    let mut replayed = c.clone();
    let r = c.ingest_events(events.clone(), now);
    assert_eq!((r.applied, r.duplicates, r.rejected.len()), (2, 1, 0));
    assert_eq!(c.ingest_events([late.clone()], now).duplicates, 1);
    assert_eq!(c.ingest_events([later.clone()], now).applied, 1);
    let keyed = keyed(&mut replayed, &events);
    let r = replayed.replay(&keyed, now);
    assert_eq!((r.applied, r.duplicates, r.rejected.len()), (2, 1, 0));
    assert_eq!(replayed.ingest(&keyed[1..2], now).duplicates, 1);
    let later = replayed.compact(&later).unwrap();
    assert_eq!(replayed.replay(&[later], now).applied, 1);
    assert_eq!(state(&replayed, now), state(&c, now));
}

/// A refused command leaves nothing behind, not even the bounds that decide
/// whether an event can qualify a lead: an event after the lead's last one
/// but before the refused command's time qualifies it as in the funnel.
/// (Found by `commands_and_late_events_answer_as_the_funnel` on CI.)
#[test]
fn a_refused_command_leaves_the_gates_as_they_were() {
    let ls = leads(1);
    let (mut f, mut c) = (crate::funnel::funnel(lenient()), compiled(lenient()));
    f.upsert_lead(ls[0].clone(), ls[0].created_at).unwrap();
    let key = c.upsert_lead(ls[0].clone(), ls[0].created_at).unwrap().0;
    let now = at(400);
    // 40 (demo, decaying) + 5 (product page) + 1 (email) - 20 (unsubscribe):
    // below 40 until the webinar adds 15.
    for (id, hours, k) in [
        ("p", 0, 1),
        ("u", 90, 7),
        ("d", 115, 6),
        ("o", 117, 4),
        ("o2", 140, 4),
    ] {
        let e = crate::funnel::ev("lead-0", id, hours, kind(k));
        let (a, b) = (f.ingest(e.clone(), now), c.ingest_events([e], now));
        assert_eq!(a.outputs, b.outputs);
    }
    // Sales cannot reject a lead marketing has not qualified: refused.
    let refused = |r: Result<Vec<Output>, CommandError>| matches!(r, Err(CommandError::Transition(_)));
    assert!(refused(f.command(&ls[0].id, sales_command(1), at(198))));
    assert!(refused(c.command(key, sales_command(1), at(198))));
    let webinar = crate::funnel::ev("lead-0", "w", 141, kind(9));
    let (a, b) = (f.ingest(webinar.clone(), now), c.ingest_events([webinar], now));
    assert!(
        matches!(&a.outputs[..], [Output::Transition { record }] if record.to == Stage::Mql),
        "{:?}",
        a.outputs
    );
    assert_eq!(a.outputs, b.outputs);
    assert_eq!(state(&c, now), funnel_state(&f, now));
}

/// `model` as a new version with its engagement capped at `cap`.
fn capped_engagement(
    model: &leadflow::scoring::ScoringModel,
    version: &str,
    cap: i32,
) -> leadflow::scoring::ScoringModel {
    model
        .to_builder()
        .version(ModelVersion::new(version).unwrap())
        .engagement_cap(cap)
        .build()
        .unwrap()
}

/// With an MQL criterion that needs a recent pricing-sheet download *and* a
/// score, leads without one are decided by their events alone (no
/// scoring), the others by their scores: the compiled funnel's swap still
/// reports what the funnel reports, and a criterion reading no scores at
/// all makes every model change report nobody. The last lifecycle has a
/// different criterion from Nurture: both edges into MQL count.
#[test]
fn swapping_the_model_with_criteria_decided_by_events() {
    use leadflow::criteria::Condition;
    let pricing = leadflow::EventMatcher::download(leadflow::AssetType::PricingSheet);
    // Within a window, so that a download long ago opens the bounds but
    // not the criterion.
    let recently = Condition::did_within(pricing.clone(), Span::days(60));
    let score = || Condition::score_at_least(Dimension::Combined, 30);
    let criteria = [
        Condition::all([recently.clone(), score()]),
        recently.clone(),
        // Decided by the counts for leads with two downloads (whenever),
        // by the scores for the others: a lead with one download counts.
        Condition::any([Condition::count(pricing, 2, None), score()]),
        // A download long ago counts for nothing: the window decides.
        Condition::any([recently.clone(), score()]),
    ];
    // Each criterion from MAL and from Nurture alike, then one pair that
    // differs: a lead qualifies at a swap when either holds.
    let machines = criteria
        .into_iter()
        .map(leadflow::LifecycleDefinition::standard_b2b)
        .chain([leadflow::LifecycleDefinition::standard_b2b(recently).automatic(
            Stage::Nurture,
            leadflow::TransitionKind::Qualify,
            "mql",
            score(),
        )]);
    let (w, now) = synthetic_workload(300, 6_000, 7);
    let model = leadflow::synthetic::scoring_model().unwrap();
    let next = capped_engagement(&model, "synthetic@2", 10);
    for (k, machine) in machines.enumerate() {
        let machine = machine.build().unwrap();
        let mut f = Funnel::new(model.clone(), machine.clone(), FunnelConfig::default());
        let mut c = CompiledFunnel::new(model.clone(), machine, FunnelConfig::default());
        for l in &w.leads {
            f.upsert_lead(l.clone(), l.created_at).unwrap();
            c.upsert_lead(l.clone(), l.created_at).unwrap();
        }
        f.ingest_batch(w.events.iter().cloned(), now);
        let keyed = keyed(&mut c, &w.events);
        c.ingest(&keyed, now);
        // As of the median event time: the later half counts for nothing,
        // whatever the counts say.
        let mut times: Vec<_> = w.events.iter().map(|e| e.at).collect();
        times.sort();
        let earlier = times[times.len() / 2];
        let (a, b) = (
            f.clone().swap_model(next.clone(), earlier, false),
            c.clone().swap_model(next.clone(), earlier, false),
        );
        assert_eq!(a, b, "criterion {k}, as of {earlier}");
        let (a, b) = (
            f.swap_model(next.clone(), now, false),
            c.swap_model(next.clone(), now, false),
        );
        assert_eq!(a, b, "criterion {k}");
        if k != 1 {
            assert!(
                !a.no_longer_qualified.is_empty(),
                "the lower cap disqualifies some (criterion {k})"
            );
        } else {
            assert!(a.newly_qualified.is_empty() && a.no_longer_qualified.is_empty());
        }
        assert_eq!(state(&c, now), funnel_state(&f, now));
    }
}

/// A swap as of a time before some events: a pricing-sheet download after
/// it counts for nothing, though the lead's counts hold it. The lead
/// qualified then by its score alone, which the new cap takes away.
#[test]
fn swapping_the_model_as_of_a_time_before_some_events() {
    use leadflow::criteria::Condition;
    use leadflow::scoring::ScoringModel;
    let pricing = leadflow::EventMatcher::download(leadflow::AssetType::PricingSheet);
    let mql = Condition::any([
        Condition::did(pricing),
        Condition::score_at_least(Dimension::Combined, 50),
    ]);
    let machine = leadflow::LifecycleDefinition::standard_b2b(mql).build().unwrap();
    let model = ScoringModel::b2b_default().unwrap();
    let next = capped_engagement(&model, "b2b@2", 10);
    let mut f = Funnel::new(model.clone(), machine.clone(), FunnelConfig::default());
    let mut c = CompiledFunnel::new(model, machine, FunnelConfig::default());
    let lead = leadflow::Lead::new(LeadId::new("lead-0").unwrap(), at(0));
    f.upsert_lead(lead.clone(), at(0)).unwrap();
    c.upsert_lead(lead, at(0)).unwrap();
    let download = EventKind::ContentDownload {
        asset: leadflow::AssetType::PricingSheet,
        asset_id: None,
    };
    let events = [
        crate::funnel::ev("lead-0", "demo", 1, EventKind::DemoRequest),
        crate::funnel::ev("lead-0", "contact", 2, EventKind::ContactRequest),
        crate::funnel::ev("lead-0", "pricing", 240, download),
    ];
    let now = at(300);
    f.ingest_batch(events.iter().cloned(), now);
    let keyed = keyed(&mut c, &events);
    c.ingest(&keyed, now);
    let (a, b) = (
        f.swap_model(next.clone(), at(24), false),
        c.swap_model(next, at(24), false),
    );
    assert_eq!(a.no_longer_qualified, vec![LeadId::new("lead-0").unwrap()]);
    assert_eq!(a, b);
}
