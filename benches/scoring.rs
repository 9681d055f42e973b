//! Scoring costs on a 30-rule model (the default B2B preset plus five rules):
//!
//! - `scoring/matches/30_rules`: dispatching one event to the rules it
//!   matches (the engine's per-event match cost), reported per event;
//! - `scoring/record/30_rules`: matching plus recording the hits into a
//!   lead's `ScoreState`, per event, over a 50-event history;
//! - `scoring/score/50_events`: the pure `ScoringModel::score` of a lead with
//!   50 events (dedupe, sort, limits, windows, decay, caps, floor);
//! - `scoring/scores_with/50_events`: the same answer from a `ScoreState`.
//!
//! Fixed event mix, no randomness. Run:
//! `cargo bench --bench scoring -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leadflow::scoring::{Rule, ScoreState, b2b_default_builder};
use leadflow::{
    AssetType, Event, EventId, EventKind, EventMatcher, EventType, JobFunction, Lead, LeadId, ModelVersion,
    Predicate, ScoringModel, Seniority, Span,
};

fn model() -> ScoringModel {
    let mut b = b2b_default_builder(ModelVersion::new("bench@1").unwrap());
    let extra = [
        Rule::event("ad_click".parse().unwrap(), EventType::AdClick, 2)
            .group("web".parse().unwrap())
            .once_per(Span::days(1)),
        Rule::event(
            "docs".parse().unwrap(),
            EventMatcher::of(EventType::PageView).with_path_prefix("/docs"),
            2,
        )
        .group("web".parse().unwrap())
        .once_per(Span::days(1)),
        Rule::event(
            "ebook".parse().unwrap(),
            EventMatcher::download(AssetType::Ebook),
            4,
        )
        .group("content".parse().unwrap())
        .times(3),
        Rule::event(
            "big_deal".parse().unwrap(),
            EventMatcher::of(EventType::FormSubmit).with_property("seats", Predicate::at_least(50.0)),
            20,
        )
        .group("intent".parse().unwrap()),
        Rule::event("social".parse().unwrap(), EventType::SocialEngagement, 1)
            .group("web".parse().unwrap())
            .unlimited()
            .within(Span::days(30)),
    ];
    for r in extra {
        b = b.rule(r);
    }
    b.build().unwrap()
}

fn events(lead: &LeadId) -> Vec<Event> {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let page = |p: &str| EventKind::PageView {
        path: p.into(),
        category: None,
    };
    (0..50)
        .map(|i: i64| {
            let kind = match i % 10 {
                0 => page("/pricing"),
                1 => page("/product/api"),
                2 => page("/blog/post"),
                3 => EventKind::EmailOpen { campaign: None },
                4 => EventKind::EmailClick { campaign: None },
                5 => EventKind::ContentDownload {
                    asset: AssetType::Whitepaper,
                    asset_id: None,
                },
                6 => page("/docs/start"),
                7 => EventKind::WebinarAttend { webinar: None },
                8 => EventKind::AdClick { campaign: None },
                _ => EventKind::TrialActivity { feature: None },
            };
            Event::new(
                EventId::new(format!("e{i:03}")).unwrap(),
                lead.clone(),
                t0 + Duration::hours(7 * i),
                kind,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = model();
    assert_eq!(model.rules().len(), 30);
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let mut lead = Lead::new(LeadId::new("lead-1").unwrap(), t0);
    lead.company.industry = Some("software".into());
    lead.company.employees = Some(450);
    lead.person.seniority = Some(Seniority::Director);
    lead.person.function = Some(JobFunction::It);
    let events = events(&lead.id);
    let now = t0 + Duration::days(20);

    let mut g = c.benchmark_group("scoring");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("matches/30_rules", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in &events {
                n += model.matches(black_box(&e.shape)).count();
            }
            n
        })
    });
    g.bench_function("record/30_rules", |b| {
        b.iter_batched(
            ScoreState::new,
            |mut state| {
                for e in &events {
                    state.record(&model, black_box(e));
                }
                state
            },
            BatchSize::SmallInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("score/50_events", |b| {
        b.iter(|| model.score(&lead, black_box(&events), now))
    });
    let mut state = ScoreState::new();
    for e in &events {
        state.record(&model, e);
    }
    g.bench_function("scores_with/50_events", |b| {
        b.iter(|| model.scores_with(&lead, black_box(&state), now))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
