//! Lifecycle costs: one automatic `advance` (criteria evaluation plus the
//! recorded transitions Lead → MAL → MQL) and one refused command, per lead.
//! These bound what the engine pays per lifecycle step on top of scoring.
//!
//! Run: `cargo bench --bench lifecycle`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use leadflow::criteria::{Condition, LeadView};
use leadflow::lifecycle::{LifecycleDefinition, Transition};
use leadflow::{
    AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId, OwnerId, Points, Scores,
};

fn bench(c: &mut Criterion) {
    let mql = Condition::any([
        Condition::score_at_least(Dimension::Combined, 60),
        Condition::did(EventMatcher::download(AssetType::PricingSheet)),
    ]);
    let machine = LifecycleDefinition::standard_b2b(mql).build().unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let mut lead = Lead::new(LeadId::new("lead-1").unwrap(), t0);
    lead.person.set_email("ada@acme.io");
    let events: Vec<Event> = (0..20)
        .map(|i| {
            let asset = if i == 19 {
                AssetType::PricingSheet
            } else {
                AssetType::Whitepaper
            };
            Event::new(
                EventId::new(format!("e{i}")).unwrap(),
                lead.id.clone(),
                t0 + Duration::hours(i),
                EventKind::ContentDownload {
                    asset,
                    asset_id: None,
                },
            )
        })
        .collect();
    let scores = Scores {
        combined: Points::new(30),
        ..Scores::default()
    };
    let view = LeadView::new(&lead).with_events(&events).with_scores(&scores);
    let now = t0 + Duration::days(2);

    c.bench_function("lifecycle/advance/lead_to_mql_20_events", |b| {
        b.iter(|| {
            let mut life = machine.start(&lead);
            let n = machine.advance(&mut life, &view, black_box(now)).len();
            black_box(n)
        })
    });

    let accept = Transition::Accept {
        owner: OwnerId::new("rep").unwrap(),
    };
    c.bench_function("lifecycle/apply/refused_command", |b| {
        let mut life = machine.start(&lead);
        b.iter(|| {
            black_box(
                machine
                    .apply(&mut life, black_box(accept.clone()), &view, now)
                    .is_err(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
