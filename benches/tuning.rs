//! Tuning costs, on seeded synthetic data:
//!
//! - `tuning/fit/scorecard/100k_leads/20_features`: binning plus the L2
//!   logistic fit (damped Newton) plus scaling to points: what one fit of
//!   the logistic scorecard costs (cross-validation repeats it per fold and
//!   penalty). Compare with the scikit-learn fit times in
//!   `shared/data/BASELINES.md`.
//! - `tuning/fit/boosted/100k_leads/20_features`: the boosted additive card
//!   at its defaults: binning, two bags of cyclic boosting of the 20 shapes,
//!   the pair screen over 190 pairs and the boosting of the chosen pair
//!   tables, centring and scaling to points.
//! - `tuning/fit/naive_bayes/100k_leads/20_features`: the comparison model.
//! - `tuning/backtest/scores_at/100k_leads/10m_events`: every lead scored as
//!   of a cutoff from the events known then (10 M events scanned).
//! - `tuning/backtest/replay/10k_leads/1m_events`: each lead replayed event by
//!   event to find its MQL moment (quadratic in events per lead, so a tenth).
//! - `tuning/calibrate/100k_leads`: the capacity trade-off curve and the
//!   weekly gate.
//!
//! Run: `cargo bench --bench tuning -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use leadflow::tuning::{
    Backtest, BoostedConfig, Candidate, Dataset, Feature, Label, NaiveBayesConfig, ScorecardConfig, Scorer,
    SplitMix64, calibrate,
};
use leadflow::{AttrValue, Event, EventId, EventKind, Lead, LeadId, Points};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// 10 numeric and 10 categorical attributes; conversion from a logistic
/// model with one interaction (`num_0` matters more at level 0 of `cat_1`).
fn leads(n: usize, seed: u64) -> (Dataset, Vec<Feature>) {
    let mut rng = SplitMix64::new(seed);
    let mut features = Vec::new();
    for f in 0..10 {
        features.push(Feature::numeric(format!("num_{f}")));
        features.push(Feature::categorical(format!("cat_{f}")));
    }
    let mut data = Dataset::new();
    for i in 0..n {
        let mut lead = Lead::new(LeadId::new(format!("l{i}")).unwrap(), t0());
        let mut z = -1.0;
        for f in 0..10 {
            let x = rng.next_f64() * 100.0;
            let level = rng.below(3 + f as u64 * 3);
            z += if f % 2 == 0 {
                (x - 50.0) / 60.0
            } else {
                ((x - 50.0) / 30.0).powi(2) * -0.3
            };
            z += (level as f64 - 2.0) * 0.1;
            if rng.below(20) > 0 {
                lead.set_attribute(&format!("num_{f}"), AttrValue::number(x).unwrap())
                    .unwrap();
            }
            lead.set_attribute(&format!("cat_{f}"), format!("level-{level}"))
                .unwrap();
        }
        if lead.attribute("cat_1") == Some(leadflow::AttrRef::Text("level-0")) {
            if let Some(x) = lead.attribute("num_0").and_then(|v| v.as_f64()) {
                z += (x - 50.0) / 40.0;
            }
        }
        let converted = rng.next_f64() < 1.0 / (1.0 + (-z).exp());
        data.push(lead, Vec::new(), Label::new(converted, None));
    }
    (data, features)
}

/// `leads` leads with `per_lead` events each over 90 days.
fn history(leads: usize, per_lead: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let ids: Vec<EventId> = (0..per_lead)
        .map(|i| EventId::new(format!("e{i}")).unwrap())
        .collect();
    let mut data = Dataset::new();
    for l in 0..leads {
        let lead_id = LeadId::new(format!("l{l}")).unwrap();
        let events: Vec<Event> = ids
            .iter()
            .map(|id| {
                let at = t0() + Duration::minutes(rng.below(90 * 24 * 60) as i64);
                let kind = match rng.below(20) {
                    0 => EventKind::DemoRequest,
                    1..=3 => EventKind::EmailClick { campaign: None },
                    _ => EventKind::PageView {
                        path: String::new(),
                        category: None,
                    },
                };
                Event::new(id.clone(), lead_id.clone(), at, kind)
            })
            .collect();
        let converted = rng.below(10) == 0;
        let at = converted.then(|| t0() + Duration::days(60));
        data.push(Lead::new(lead_id, t0()), events, Label::new(converted, at));
    }
    data
}

/// Points per event type.
struct Engagement;

impl Scorer for Engagement {
    fn score(&self, _: &Lead, events: &[Event], _: DateTime<Utc>) -> Points {
        let milli: i64 = events
            .iter()
            .map(|e| match e.shape.kind {
                EventKind::DemoRequest => 30_000,
                EventKind::EmailClick { .. } => 3_000,
                _ => 1_000,
            })
            .sum();
        Points::from_milli(milli)
    }
}

fn bench(c: &mut Criterion) {
    {
        let (data, features) = leads(100_000, 1);
        let rows = data.all_rows();
        let mut group = c.benchmark_group("tuning/fit");
        group.sample_size(10);
        let config = ScorecardConfig::new(features.clone());
        group.bench_function("scorecard/100k_leads/20_features", |b| {
            b.iter(|| black_box(config.fit(&data, &rows).unwrap()))
        });
        let boosted = BoostedConfig::new(features.clone());
        group.bench_function("boosted/100k_leads/20_features", |b| {
            b.iter(|| black_box(boosted.fit(&data, &rows).unwrap()))
        });
        let nb = NaiveBayesConfig::new(features);
        group.bench_function("naive_bayes/100k_leads/20_features", |b| {
            b.iter(|| black_box(nb.fit(&data, &rows).unwrap()))
        });
        group.finish();
    }

    let cutoff = t0() + Duration::days(45);
    let mut group = c.benchmark_group("tuning/backtest");
    group.sample_size(10);
    {
        let big = history(100_000, 100, 2);
        assert_eq!(big.event_count(), 10_000_000);
        group.bench_function("scores_at/100k_leads/10m_events", |b| {
            b.iter(|| black_box(Backtest::new(&Engagement).scores_at(&big, cutoff)))
        });
    }
    let small = history(10_000, 100, 3);
    group.bench_function("replay/10k_leads/1m_events", |b| {
        b.iter(|| black_box(Backtest::new(&Engagement).replay(&small, Points::new(60), None)))
    });
    group.finish();

    let mut rng = SplitMix64::new(4);
    let monday = t0().date_naive();
    let candidates: Vec<Candidate> = (0..100_000)
        .map(|_| Candidate {
            score: Points::new(rng.below(200) as i64),
            week: monday + Duration::days(rng.below(364) as i64),
            converted: rng.below(10) == 0,
        })
        .collect();
    c.bench_function("tuning/calibrate/100k_leads", |b| {
        b.iter(|| black_box(calibrate(&candidates, 150)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
