//! Tests of `leadflow::tuning`: metrics against hand-computed
//! cases, capacity calibration, the fitted scorecard against its logistic
//! model, point-in-time backtests (no look-ahead), and the backtest example's
//! CSV loading on synthetic files (`;`-separated, outcomes joined from a
//! second table, codes, clashing names). Fits on awkward data and the
//! exported models' exactness are in [`fits`]; the README's tuning table,
//! checked row by row on the shared datasets against the scikit-learn
//! baselines, is in [`rows`].

mod fits;
mod rows;

use crate::{args, data};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use leadflow::tuning::metrics::{
    Confusion, average_precision, lift_at_k, log_loss, precision_at_k, recall_at_k, roc_auc, top_k_count,
    weekly_volume,
};
use leadflow::tuning::{
    Backtest, Bin, Candidate, Dataset, Feature, Label, Metrics, NaiveBayesConfig, Scorecard, ScorecardConfig,
    Scorer, SplitMix64, TuningError, calibrate, compare, folds, index_split, missed_buyers,
};
use leadflow::{AttrValue, Event, EventId, EventKind, Lead, LeadId, Points};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// Synthetic leads from a known logistic model: two numerics (one
/// non-linear), two categoricals, some missing values.
fn synthetic(n: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut data = Dataset::new();
    let industries = ["software", "retail", "finance", "health", "edu"];
    let effect = [1.2, -0.4, 0.6, 0.0, -1.5];
    for i in 0..n {
        let mut lead = Lead::new(LeadId::new(format!("l{i}")).unwrap(), t0());
        let visits = (rng.next_f64() * 20.0).floor();
        let minutes = rng.next_f64() * 60.0;
        let k = rng.below(5) as usize;
        let paid = rng.below(2) == 0;
        let mut z = -1.0 + 0.12 * visits + effect[k] + if paid { -0.5 } else { 0.3 };
        // Non-linear: a sweet spot of time on site.
        z += if (15.0..40.0).contains(&minutes) {
            1.0
        } else {
            -0.3
        };
        if rng.below(10) > 0 {
            lead.set_attribute("visits", visits as i64).unwrap();
        }
        lead.set_attribute("minutes", AttrValue::number(minutes).unwrap())
            .unwrap();
        lead.set_attribute("industry", industries[k]).unwrap();
        lead.set_attribute("paid", if paid { "yes" } else { "no" })
            .unwrap();
        let p = 1.0 / (1.0 + (-z).exp());
        let converted = rng.next_f64() < p;
        data.push(lead, Vec::new(), Label::new(converted, None));
    }
    data
}

fn features() -> Vec<Feature> {
    vec![
        Feature::numeric("visits"),
        Feature::numeric("minutes"),
        Feature::categorical("industry"),
        Feature::categorical("paid"),
    ]
}

// ---------------------------------------------------------------- metrics

#[test]
fn auc_with_ties_by_hand() {
    // Positives 0.9, 0.5, 0.5; negatives 0.5, 0.2.
    // Pairs (pos, neg): (.9,.5)=1 (.9,.2)=1 (.5,.5)=½ (.5,.2)=1 (.5,.5)=½ (.5,.2)=1 → 5/6.
    let s = [0.9, 0.5, 0.5, 0.5, 0.2];
    let y = [true, true, false, true, false];
    assert!((roc_auc(&s, &y).unwrap() - 5.0 / 6.0).abs() < 1e-12);
    // All tied: 0.5.
    assert_eq!(roc_auc(&[1.0; 4], &[true, false, true, false]), Some(0.5));
    // Reversed ranking: 0.
    assert_eq!(roc_auc(&[1.0, 2.0], &[true, false]), Some(0.0));
}

#[test]
fn precision_recall_lift_at_k_by_hand() {
    // 10 leads, 4 converted (base rate 0.4). Scores tie at 0.7 for rows 2 and 3.
    let s = [0.9, 0.8, 0.7, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
    let y = [true, false, false, true, true, false, false, true, false, false];
    // Top 3: rows 0, 1, 2 (row 2 beats row 3 on index) → 1 converted.
    assert_eq!(precision_at_k(&s, &y, 3), Some(1.0 / 3.0));
    assert_eq!(recall_at_k(&s, &y, 3), Some(0.25));
    assert!((lift_at_k(&s, &y, 3).unwrap() - (1.0 / 3.0) / 0.4).abs() < 1e-12);
    // Top 10 % of 10 = 1 lead: row 0, converted → lift 2.5.
    let k = top_k_count(10, 0.1);
    assert_eq!(k, 1);
    assert_eq!(lift_at_k(&s, &y, k), Some(2.5));
    // At a threshold of 0.7 both tied rows qualify.
    let c = Confusion::at_threshold(&s, &y, 0.7);
    assert_eq!((c.tp, c.fp, c.tn, c.fn_), (2, 2, 4, 2));
    assert_eq!(c.precision(), Some(0.5));
    assert_eq!(c.recall(), Some(0.5));
    assert_eq!(c.lift(), Some(1.25));
}

#[test]
fn average_precision_and_log_loss_by_hand() {
    // Ranked pos, neg, pos, neg: AP = (1/1 + 2/3) / 2.
    let ap = average_precision(&[4.0, 3.0, 2.0, 1.0], &[true, false, true, false]).unwrap();
    assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    let l = log_loss(&[0.8, 0.4], &[true, false]).unwrap();
    assert!((l - (-(0.8f64.ln()) - (0.6f64.ln())) / 2.0).abs() < 1e-12);
    assert_eq!(log_loss(&[f64::NAN], &[true]), None);
}

#[test]
fn weekly_volume_counts_empty_weeks() {
    let d = |day| Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap();
    // Sun 8 March belongs to the week of Monday 2 March.
    let w = weekly_volume([d(8), d(2), d(23)]);
    assert_eq!(
        w,
        vec![
            (NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), 2),
            (NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(), 0),
            (NaiveDate::from_ymd_opt(2026, 3, 16).unwrap(), 0),
            (NaiveDate::from_ymd_opt(2026, 3, 23).unwrap(), 1),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// AUC equals the brute-force pairwise count, and is invariant under a
    /// strictly increasing transform of the scores.
    #[test]
    fn auc_matches_pairwise_count(rows in proptest::collection::vec((0u8..6, any::<bool>()), 2..40)) {
        let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &yi) in y.iter().enumerate() {
            for (j, &yj) in y.iter().enumerate() {
                if yi && !yj {
                    den += 1.0;
                    num += if s[i] > s[j] { 1.0 } else if s[i] == s[j] { 0.5 } else { 0.0 };
                }
            }
        }
        let auc = roc_auc(&s, &y);
        if den == 0.0 {
            prop_assert_eq!(auc, None);
        } else {
            prop_assert!((auc.unwrap() - num / den).abs() < 1e-12);
            let t: Vec<f64> = s.iter().map(|x| x.exp() * 3.0 - 7.0).collect();
            prop_assert!((roc_auc(&t, &y).unwrap() - num / den).abs() < 1e-12);
        }
    }

    /// Confusion counts over chunks merge to the counts over the whole.
    #[test]
    fn confusion_merges_over_chunks(rows in proptest::collection::vec((0u8..10, any::<bool>()), 0..60), cut in 0usize..60) {
        let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let cut = cut.min(s.len());
        let whole = Confusion::at_threshold(&s, &y, 5.0);
        let parts = Confusion::at_threshold(&s[..cut], &y[..cut], 5.0) + Confusion::at_threshold(&s[cut..], &y[cut..], 5.0);
        prop_assert_eq!(whole, parts);
        prop_assert_eq!(whole.total(), s.len());
    }
}

// ------------------------------------------------------------ calibration

#[test]
fn calibration_honours_capacity_on_a_synthetic_history() {
    let mut rng = SplitMix64::new(11);
    let monday = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let mut leads = Vec::new();
    for week in 0..26 {
        // Volume varies from week to week.
        let n = 20 + rng.below(40) as usize;
        for _ in 0..n {
            let score = rng.below(100) as i64;
            let converted = rng.next_f64() < score as f64 / 150.0;
            leads.push(Candidate {
                score: Points::new(score),
                week: monday + Duration::weeks(week) + Duration::days(rng.below(7) as i64),
                converted,
            });
        }
    }
    for capacity in [1, 3, 5, 12, 30] {
        let cal = calibrate(&leads, capacity);
        let Some(chosen) = cal.threshold else {
            // Nothing fits only when the top score alone overflows a week.
            assert!(cal.curve[0].peak_per_week > capacity, "capacity {capacity}");
            assert!(cal.gate.mqls <= capacity * 26);
            continue;
        };
        // Every week within capacity at the chosen threshold...
        let mut per_week = std::collections::HashMap::new();
        for c in leads.iter().filter(|c| c.score >= chosen.threshold) {
            *per_week
                .entry(leadflow::tuning::metrics::week_start(
                    Utc.from_utc_datetime(&c.week.and_hms_opt(0, 0, 0).unwrap()),
                ))
                .or_insert(0usize) += 1;
        }
        assert!(per_week.values().all(|&v| v <= capacity), "capacity {capacity}");
        assert_eq!(
            per_week.values().copied().max().unwrap_or(0),
            chosen.peak_per_week
        );
        // ... and the next lower threshold would overflow a week.
        let i = cal
            .curve
            .iter()
            .position(|p| p.threshold == chosen.threshold)
            .unwrap();
        if let Some(next) = cal.curve.get(i + 1) {
            assert!(next.peak_per_week > capacity);
        }
        // The weekly gate never exceeds capacity and catches at least as many buyers.
        assert!(cal.gate.mqls <= capacity * 26);
        assert!(cal.gate.buyers >= chosen.buyers);
        // The curve is monotone: lower thresholds, more MQLs and buyers.
        for w in cal.curve.windows(2) {
            assert!(w[0].threshold > w[1].threshold);
            assert!(w[0].mqls < w[1].mqls && w[0].buyers <= w[1].buyers);
        }
    }
}

// ---------------------------------------------------------------- fitting

#[test]
fn scorecard_reproduces_the_logistic_ranking() {
    let data = synthetic(4000, 7);
    let (train, test) = index_split(data.len(), 5, 4).unwrap();
    let card = ScorecardConfig::new(features())
        .with_max_bins(10)
        .fit(&data, &train)
        .unwrap();
    let rows: Vec<_> = test.iter().map(|&i| &data.rows()[i]).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r.outcome.converted).collect();
    let logits: Vec<f64> = rows.iter().map(|r| card.logit(&r.lead, &r.events)).collect();
    let points: Vec<f64> = rows
        .iter()
        .map(|r| card.points(&r.lead, &r.events).to_f64())
        .collect();
    // Points are whole numbers.
    assert!(points.iter().all(|p| p.fract() == 0.0));
    // Points are the logit on the PDO scale, up to rounding half a point per factor.
    for (p, z) in points.iter().zip(&logits) {
        assert!((p - card.scaling.points(*z)).abs() <= 0.5 * (1 + card.features.len()) as f64);
    }
    // Same ranking: no pair ordered strictly the other way by more than the rounding.
    let auc_logit = roc_auc(&logits, &labels).unwrap();
    let auc_points = roc_auc(&points, &labels).unwrap();
    assert!(
        (auc_logit - auc_points).abs() < 0.005,
        "{auc_logit} vs {auc_points}"
    );
    let mut discordant = 0;
    let mut pairs = 0;
    for i in 0..rows.len().min(300) {
        for j in 0..i {
            if (logits[i] - logits[j]).abs() > 0.2 {
                pairs += 1;
                if (logits[i] - logits[j]).signum() != (points[i] - points[j]).signum() {
                    discordant += 1;
                }
            }
        }
    }
    assert_eq!(discordant, 0, "of {pairs} pairs");
    // It learned the signal: better than chance by a wide margin.
    assert!(auc_points > 0.7, "{auc_points}");
    // The non-linear sweet spot shows in the minutes bins.
    let minutes = card
        .features
        .iter()
        .find(|f| f.feature.name == "minutes")
        .unwrap();
    let at = |x: f64| {
        minutes
            .bin_for(Some(leadflow::AttrRef::Number(x)))
            .unwrap()
            .points
    };
    assert!(at(25.0) > at(5.0) && at(25.0) > at(55.0));
}

#[test]
fn fitting_is_deterministic_and_serializable() {
    let data = synthetic(1500, 3);
    let rows = data.all_rows();
    let config = ScorecardConfig::new(features());
    let a = config.fit(&data, &rows).unwrap();
    let b = config.fit(&data, &rows).unwrap();
    assert_eq!(a, b);
    // JSON keeps every bin and its whole points (floats to within an ulp).
    let json = serde_json::to_string(&a).unwrap();
    let back: Scorecard = serde_json::from_str(&json).unwrap();
    let points = |c: &Scorecard| {
        c.factors()
            .map(|(n, _, p)| (n.to_string(), p))
            .collect::<Vec<_>>()
    };
    assert_eq!(points(&back), points(&a));
    assert_eq!(back.base, a.base);
    for r in data.rows() {
        assert_eq!(back.points(&r.lead, &r.events), a.points(&r.lead, &r.events));
    }
    // Reference bins carry 0 points: missing for numerics, Other for categoricals.
    for f in &a.features {
        let reference = match f.feature.kind {
            leadflow::tuning::FeatureKind::Numeric => f.bins.first().unwrap(),
            _ => f.bins.last().unwrap(),
        };
        assert_eq!(reference.points, Points::ZERO, "{}", f.feature.name);
    }
    // Every range and level converts to a predicate.
    for (_, bin, _) in a.factors() {
        match bin {
            Bin::Other => assert!(bin.to_predicate().is_none()),
            Bin::Missing => assert_eq!(bin.to_predicate(), Some(leadflow::Predicate::Missing)),
            _ => assert!(bin.to_predicate().unwrap().validate().is_ok()),
        }
    }
    // Cross-validation is reproducible.
    let cv1 = config.cross_validate(&data, &rows, 5, 9).unwrap();
    let cv2 = config.cross_validate(&data, &rows, 5, 9).unwrap();
    assert_eq!(cv1, cv2);
    assert!(cv1 > 0.65);
}

#[test]
fn scorecard_converts_to_an_equivalent_scoring_model() {
    let data = synthetic(1500, 4);
    let rows = data.all_rows();
    let card = ScorecardConfig::new(features()).fit(&data, &rows).unwrap();
    let version = leadflow::ModelVersion::new("fitted@1").unwrap();
    let model = card.to_scoring_model(version).unwrap();
    let now = t0();
    for r in data.rows() {
        let scores = model.score(&r.lead, &r.events, now);
        assert_eq!(scores.fit, card.points(&r.lead, &r.events), "{}", r.lead.id);
        assert_eq!(scores.combined, scores.fit);
        // The model is a Scorer too, ranking by its combined score.
        assert_eq!(
            leadflow::tuning::Scorer::score(&model, &r.lead, &r.events, now),
            scores.combined
        );
    }
    // Readable, editable data: it round-trips and explains itself.
    let json = serde_json::to_string_pretty(&model).unwrap();
    assert_eq!(
        serde_json::from_str::<leadflow::ScoringModel>(&json).unwrap(),
        model
    );
    assert!(model.rules().iter().any(|r| r.id == "base"));
    let lead = &data.rows()[0].lead;
    let explanation = model.explain(lead, &[], now);
    assert_eq!(
        explanation.total(leadflow::Dimension::Fit),
        model.score(lead, &[], now).fit
    );
    // A feature whose name cannot make a rule id is refused, naming the bin.
    let mut renamed = card.clone();
    let bad = renamed
        .features
        .iter_mut()
        .find(|f| f.bins.iter().any(|b| b.points != Points::ZERO))
        .unwrap();
    bad.feature.name = "visits\nlast week".to_owned();
    let refused = renamed.to_scoring_model(leadflow::ModelVersion::new("fitted@2").unwrap());
    assert!(
        matches!(
            &refused,
            Err(TuningError::InvalidRuleId { what, source: leadflow::IdError::ControlCharacter { .. } })
                if what.ends_with("of visits\nlast week")
        ),
        "{refused:?}"
    );
}

#[test]
fn monotone_binning_gives_monotone_rates() {
    let data = synthetic(3000, 29);
    let card = ScorecardConfig::new(features())
        .with_max_bins(20)
        .with_monotone(true)
        .fit(&data, &data.all_rows())
        .unwrap();
    let visits = card.features.iter().find(|f| f.feature.name == "visits").unwrap();
    let rates: Vec<f64> = visits
        .bins
        .iter()
        .skip(1)
        .map(|b| b.train_positives as f64 / b.train_rows as f64)
        .collect();
    assert!(rates.len() >= 2);
    // Visits raise the odds in the generating model: rates rise bin by bin.
    assert!(rates.windows(2).all(|w| w[0] < w[1]), "{rates:?}");
    let quantile = ScorecardConfig::new(features())
        .with_max_bins(20)
        .fit(&data, &data.all_rows())
        .unwrap();
    assert!(card.factors().count() < quantile.factors().count());
}

#[test]
fn fitting_refuses_bad_input() {
    let data = synthetic(50, 1);
    let rows = data.all_rows();
    assert!(ScorecardConfig::new([]).fit(&data, &rows).is_err());
    assert!(
        ScorecardConfig::new(features())
            .with_l2(0.0)
            .fit(&data, &rows)
            .is_err()
    );
    assert!(
        ScorecardConfig::new(features())
            .with_l2(f64::NAN)
            .fit(&data, &rows)
            .is_err()
    );
    assert!(ScorecardConfig::new(features()).fit(&data, &[]).is_err());
    assert!(ScorecardConfig::new(features()).fit(&data, &[999]).is_err());
    let dup = [Feature::numeric("visits"), Feature::categorical("visits")];
    assert!(ScorecardConfig::new(dup).fit(&data, &rows).is_err());
    let one_class: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| !data.rows()[r].outcome.converted)
        .collect();
    let err = ScorecardConfig::new(features())
        .fit(&data, &one_class)
        .unwrap_err();
    assert!(err.to_string().contains("both classes"), "{err}");
}

#[test]
fn rare_and_unseen_levels_share_the_other_bin() {
    let mut data = synthetic(500, 5);
    // A level seen twice only, and later a level never seen.
    for i in 0..2 {
        let mut lead = Lead::new(LeadId::new(format!("rare{i}")).unwrap(), t0());
        lead.set_attribute("industry", "mining").unwrap();
        data.push(lead, vec![], Label::new(true, None));
    }
    let card = ScorecardConfig::new(features())
        .fit(&data, &data.all_rows())
        .unwrap();
    let industry = card
        .features
        .iter()
        .find(|f| f.feature.name == "industry")
        .unwrap();
    let other = industry.bin_for(Some(leadflow::AttrRef::Text("mining"))).unwrap();
    assert_eq!(other.bin, Bin::Other);
    assert_eq!(other.train_rows, 2);
    let unseen = industry.bin_for(Some(leadflow::AttrRef::Text("space"))).unwrap();
    assert_eq!(unseen.bin, Bin::Other);
    assert_eq!(industry.bin_for(None).unwrap().bin, Bin::Missing);
    // Level matching ignores ASCII case, as predicates do.
    let sw = industry
        .bin_for(Some(leadflow::AttrRef::Text("SOFTWARE")))
        .unwrap();
    assert!(matches!(&sw.bin, Bin::OneOf { .. }));
}

#[test]
fn naive_bayes_explains_its_score() {
    let data = synthetic(2000, 13);
    let (train, test) = index_split(data.len(), 5, 4).unwrap();
    let nb = NaiveBayesConfig::new(features()).fit(&data, &train).unwrap();
    let r = &data.rows()[test[0]];
    let why = nb.explain(&r.lead, &r.events);
    assert_eq!(why.len(), 4);
    let total: f64 = nb.prior + why.iter().map(|c| c.log_odds).sum::<f64>();
    assert!((total - nb.log_odds(&r.lead, &r.events)).abs() < 1e-12);
    let scores: Vec<f64> = test
        .iter()
        .map(|&i| nb.log_odds(&data.rows()[i].lead, &[]))
        .collect();
    let labels: Vec<bool> = test.iter().map(|&i| data.rows()[i].outcome.converted).collect();
    assert!(roc_auc(&scores, &labels).unwrap() > 0.65);
}

#[test]
fn folds_and_index_split_are_reproducible() {
    let (train, test) = index_split(9240, 5, 4).unwrap();
    assert_eq!((train.len(), test.len()), (7392, 1848));
    assert!(test.iter().all(|i| i % 5 == 4));
    let rows: Vec<usize> = (0..100).collect();
    assert_eq!(folds(&rows, 5, 1).unwrap(), folds(&rows, 5, 1).unwrap());
    assert_ne!(folds(&rows, 5, 1).unwrap(), folds(&rows, 5, 2).unwrap());
}

// --------------------------------------------------------------- backtest

/// Ten points per demo request, one per page view.
struct Engagement;

impl Scorer for Engagement {
    fn score(&self, _: &Lead, events: &[Event], _: DateTime<Utc>) -> Points {
        events
            .iter()
            .map(|e| match e.shape.kind {
                EventKind::DemoRequest => Points::new(10),
                _ => Points::new(1),
            })
            .sum()
    }
}

fn event(id: &str, lead: &LeadId, at: DateTime<Utc>, kind: EventKind) -> Event {
    Event::new(EventId::new(id).unwrap(), lead.clone(), at, kind)
}

fn page(path: &str) -> EventKind {
    EventKind::PageView {
        path: path.into(),
        category: None,
    }
}

#[test]
fn backtest_ignores_events_after_the_cutoff() {
    let cutoff = t0() + Duration::days(10);
    let id = LeadId::new("a").unwrap();
    let known = vec![
        event("e1", &id, t0() + Duration::days(1), page("/pricing")),
        event("e2", &id, t0() + Duration::days(2), EventKind::DemoRequest),
    ];
    let mut planted = known.clone();
    // Planted after the cutoff: a demo request and an attribute change.
    planted.push(event(
        "e3",
        &id,
        cutoff + Duration::seconds(1),
        EventKind::DemoRequest,
    ));
    planted.push(event(
        "e4",
        &id,
        cutoff + Duration::days(1),
        EventKind::AttributeChange {
            key: "industry".into(),
            value: AttrValue::text("software"),
        },
    ));
    let mut clean = Dataset::new();
    clean.push(Lead::new(id.clone(), t0()), known, Label::not_converted());
    let mut dirty = Dataset::new();
    dirty.push(Lead::new(id.clone(), t0()), planted, Label::not_converted());

    let bt = Backtest::new(&Engagement);
    assert_eq!(bt.scores_at(&clean, cutoff), vec![Some(Points::new(11))]);
    assert_eq!(bt.scores_at(&dirty, cutoff), bt.scores_at(&clean, cutoff));
    // An event exactly at the cutoff is known.
    let at_cutoff = dirty.rows()[0].events_known_at(cutoff + Duration::seconds(1));
    assert_eq!(at_cutoff.len(), 3);

    // The scorecard reads attributes as of the cutoff too.
    let data = synthetic(800, 21);
    let card = ScorecardConfig::new(features())
        .fit(&data, &data.all_rows())
        .unwrap();
    let mut lead = Lead::new(id, t0());
    lead.set_attribute("industry", "edu").unwrap();
    let mut history = Dataset::new();
    history.push(
        lead.clone(),
        dirty.rows()[0].events.clone(),
        Label::not_converted(),
    );
    let before = Backtest::new(&card).scores_at(&history, cutoff);
    assert_eq!(before, vec![Some(card.points(&lead, &[]))]);
    let after = Backtest::new(&card).scores_at(&history, cutoff + Duration::days(2));
    let mut changed = lead.clone();
    changed.set_attribute("industry", "software").unwrap();
    assert_eq!(after, vec![Some(card.points(&changed, &[]))]);
    assert_ne!(before, after, "the planted change matters once known");
    // Leads created after the cutoff are not scored.
    let late = Backtest::new(&Engagement).scores_at(&history, t0() - Duration::days(1));
    assert_eq!(late, vec![None]);
}

#[test]
fn replay_finds_the_mql_moment_and_the_missed_buyers() {
    let a = LeadId::new("a").unwrap();
    let b = LeadId::new("b").unwrap();
    let c = LeadId::new("c").unwrap();
    let mut data = Dataset::new();
    // a: two page views then a demo: crosses 12 on day 3.
    data.push(
        Lead::new(a.clone(), t0()),
        vec![
            event("a3", &a, t0() + Duration::days(3), EventKind::DemoRequest),
            event("a1", &a, t0() + Duration::days(1), page("/")),
            event("a2", &a, t0() + Duration::days(2), page("/x")),
        ],
        Label::new(true, Some(t0() + Duration::days(5))),
    );
    // b: buys on day 2 after one page view; its demo after the sale does not count.
    data.push(
        Lead::new(b.clone(), t0()),
        vec![
            event("b1", &b, t0() + Duration::days(1), page("/")),
            event("b2", &b, t0() + Duration::days(4), EventKind::DemoRequest),
        ],
        Label::new(true, Some(t0() + Duration::days(2))),
    );
    // c: a demo but never buys.
    data.push(
        Lead::new(c.clone(), t0()),
        vec![event("c1", &c, t0() + Duration::days(1), EventKind::DemoRequest)],
        Label::not_converted(),
    );
    let threshold = Points::new(12);
    let replays = Backtest::new(&Engagement).replay(&data, threshold, None);
    assert_eq!(replays[0].mql_at, Some(t0() + Duration::days(3)));
    assert_eq!(replays[1].mql_at, None);
    assert_eq!(replays[1].peak, Points::new(1));
    assert_eq!(replays[2].mql_at, None);
    let missed = missed_buyers(&replays, threshold);
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0].lead, b);
    assert_eq!(missed[0].shortfall, Points::new(11));
    assert_eq!(missed[0].could_have_at, t0() + Duration::days(1));
    // Replaying only to day 2 stops before a's demo.
    let early = Backtest::new(&Engagement).replay(&data, threshold, Some(t0() + Duration::days(2)));
    assert_eq!(early[0].mql_at, None);
    assert_eq!(early[0].peak, Points::new(2));
}

#[test]
fn comparison_lists_leads_only_one_model_qualifies() {
    let data = synthetic(1200, 17);
    let (train, test) = index_split(data.len(), 5, 4).unwrap();
    let card = ScorecardConfig::new(features()).fit(&data, &train).unwrap();
    let nb = NaiveBayesConfig::new(features()).fit(&data, &train).unwrap();
    let test_data: Dataset = test.iter().map(|&i| data.rows()[i].clone()).collect();
    let now = t0();
    let c = compare(&card, &nb, &test_data, now, Points::new(100), Points::new(100));
    let qualified = |s: &dyn Scorer| {
        test_data
            .rows()
            .iter()
            .filter(|r| s.score(&r.lead, &r.events, now) >= Points::new(100))
            .count()
    };
    assert_eq!(c.both + c.only_a.len(), qualified(&card));
    assert_eq!(c.both + c.only_b.len(), qualified(&nb));
    assert_eq!(c.a.n, test_data.len());
    assert!(c.a.log_loss.is_some() && c.b.log_loss.is_some());
    let m = Backtest::new(&card).metrics_at(&test_data, now);
    assert_eq!(m, c.a);
}

// ------------------------------------------------------ the example's loader

#[test]
fn example_loader_reads_semicolons_and_joined_outcomes() {
    let dir = std::env::temp_dir().join(format!("leadflow-tuning-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leads = dir.join("leads.csv");
    let won = dir.join("won.csv");
    let mut csv = String::from("lead_key;signup;visits;country;note\n");
    let mut deals = String::from("lead_key;closed_on\n");
    let mut rng = SplitMix64::new(5);
    for i in 0..200 {
        let visits = rng.below(30);
        let country = ["fr", "de", "es", "NA"][rng.below(4) as usize];
        let day = 1 + (i % 28);
        csv.push_str(&format!("k{i};2026-02-{day:02};{visits};{country};n{i}\n"));
        if visits > 18 || i % 17 == 0 {
            deals.push_str(&format!("k{i};2026-03-{day:02} 10:00:00\n"));
        }
    }
    std::fs::write(&leads, csv).unwrap();
    std::fs::write(&won, deals).unwrap();
    let argv = [
        "--csv",
        leads.to_str().unwrap(),
        "--outcomes",
        won.to_str().unwrap(),
        "--key",
        "lead_key",
        "--outcome-date",
        "closed_on",
        "--sep",
        ";",
        "--split",
        "temporal",
        "--date",
        "signup",
    ];
    let args = args::parse(argv.iter().map(|s| s.to_string())).unwrap();
    let loaded = data::load(&args).unwrap();
    assert_eq!(loaded.data.len(), 200);
    let names: Vec<&str> = loaded.features.iter().map(|f| f.name.as_str()).collect();
    // The key and date columns are not features; the id-like note is dropped;
    // weekday and days are derived from the date.
    assert_eq!(
        names,
        [
            "visits",
            "country",
            "signup weekday",
            "signup days since 2017-06-01"
        ]
    );
    let won_rows: Vec<_> = loaded
        .data
        .rows()
        .iter()
        .filter(|r| r.outcome.converted)
        .collect();
    assert!(!won_rows.is_empty());
    assert!(won_rows.iter().all(|r| r.outcome.at.is_some()));
    // "NA" means missing.
    assert!(
        loaded
            .data
            .rows()
            .iter()
            .any(|r| r.lead.attribute("country").is_none())
    );
    let (train, test) = data::split(&args, &loaded).unwrap();
    assert_eq!((train.len(), test.len()), (160, 40));
    let dates = loaded.dates.as_ref().unwrap();
    let last_train = train.iter().map(|&i| dates[i]).max().unwrap();
    assert!(test.iter().all(|&i| dates[i] >= last_train));
    let card = ScorecardConfig::new(loaded.features.clone())
        .fit(&loaded.data, &train)
        .unwrap();
    assert!(card.factors().count() > 4);
    // A bad separator or a missing column is a readable error.
    let bad = args::parse(
        [
            "--csv",
            leads.to_str().unwrap(),
            "--target",
            "nope",
            "--positive",
            "1",
            "--sep",
            ";",
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .unwrap();
    let err = data::load(&bad).err().unwrap().to_string();
    assert!(err.contains("no column \"nope\""), "{err}");
    assert!(args::parse(["--csv", "x", "--sep", ";;"].iter().map(|s| s.to_string())).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

// ------------------------------------------------------------ shared data

#[test]
fn example_loader_reads_codes_as_categories_and_keeps_clashing_columns() {
    let dir = std::env::temp_dir().join(format!("leadflow-codes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leads = dir.join("leads.csv");
    let won = dir.join("won.csv");
    let mut csv = String::from("lead_key,browser,visits,campaign,employees,revenue\n");
    let mut deals = String::from("lead_key\n");
    let mut rng = SplitMix64::new(9);
    for i in 0..300 {
        let browser = 1 + rng.below(6);
        let visits = rng.below(40);
        let campaign = ["spring", "summer", "fall"][rng.below(3) as usize];
        let employees = 10 + rng.below(500);
        csv.push_str(&format!(
            "k{i},{browser},{visits},{campaign},{employees},{}.5\n",
            rng.below(900)
        ));
        if visits > 25 || browser == 3 {
            deals.push_str(&format!("k{i}\n"));
        }
    }
    std::fs::write(&leads, csv).unwrap();
    std::fs::write(&won, deals).unwrap();
    let argv = [
        "--csv",
        leads.to_str().unwrap(),
        "--outcomes",
        won.to_str().unwrap(),
        "--key",
        "lead_key",
    ];
    let args = args::parse(argv.iter().map(|s| s.to_string())).unwrap();
    let loaded = data::load(&args).unwrap();
    let kinds: Vec<(&str, leadflow::tuning::FeatureKind)> = loaded
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.kind))
        .collect();
    use leadflow::tuning::FeatureKind::{Categorical, Numeric};
    assert_eq!(
        kinds,
        [
            ("browser", Categorical),
            ("visits", Numeric),
            // `campaign` is derived from the lead's source: kept under a name of its own.
            ("campaign (column)", Categorical),
            // Every `employees` value fits the built-in attribute.
            ("employees", Numeric),
            ("revenue", Numeric),
        ]
    );
    let notes = loaded.notes.join("\n");
    assert!(
        notes.contains("\"browser\" holds 6 whole-number codes"),
        "{notes}"
    );
    assert!(notes.contains("kept as \"campaign (column)\""), "{notes}");
    let first = &loaded.data.rows()[0].lead;
    // Leads are named by the outcomes' key.
    assert_eq!(first.id.as_str(), "k0");
    assert!(first.attribute("campaign (column)").is_some());
    assert!(first.company.employees.is_some());
    // `--help` is not an error, and says how to use the example.
    let help = args::parse(["--help".to_string()]).unwrap();
    assert!(help.help);
    assert!(args::USAGE.contains("--compare FILE"));
    assert!(
        args::parse(["--bogus".to_string()])
            .unwrap_err()
            .to_string()
            .starts_with("unknown flag")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tuning_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Dataset>();
    check::<Scorecard>();
    check::<leadflow::tuning::NaiveBayes>();
    check::<ScorecardConfig>();
    check::<leadflow::tuning::Calibration>();
    check::<leadflow::tuning::Comparison>();
    check::<leadflow::tuning::Replay>();
    check::<Metrics>();
    check::<leadflow::tuning::TuningError>();
    check::<Backtest<'static>>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Scores at a cutoff depend only on the events known then, whatever the
    /// order the host pushed them in, and never on later ones.
    #[test]
    fn backtest_is_order_independent_and_causal(
        offsets in proptest::collection::vec((0i64..240, any::<bool>()), 0..30),
        cutoff in 0i64..240,
    ) {
        let id = LeadId::new("p").unwrap();
        let events: Vec<Event> = offsets
            .iter()
            .enumerate()
            .map(|(i, &(h, demo))| {
                let kind = if demo { EventKind::DemoRequest } else { page("/") };
                event(&format!("e{i}"), &id, t0() + Duration::hours(h), kind)
            })
            .collect();
        let mut reversed = events.clone();
        reversed.reverse();
        let known: Vec<Event> = events.iter().filter(|e| e.at <= t0() + Duration::hours(cutoff)).cloned().collect();
        let mut a = Dataset::new();
        a.push(Lead::new(id.clone(), t0()), events, Label::not_converted());
        let mut b = Dataset::new();
        b.push(Lead::new(id.clone(), t0()), reversed, Label::not_converted());
        let mut c = Dataset::new();
        c.push(Lead::new(id, t0()), known, Label::not_converted());
        let at = t0() + Duration::hours(cutoff);
        let bt = Backtest::new(&Engagement);
        prop_assert_eq!(bt.scores_at(&a, at), bt.scores_at(&b, at));
        prop_assert_eq!(bt.scores_at(&a, at), bt.scores_at(&c, at));
    }

    /// The calibrated threshold and the weekly gate never exceed capacity.
    #[test]
    fn calibration_never_exceeds_capacity(
        leads in proptest::collection::vec((0i64..50, 0i64..60, any::<bool>()), 1..200),
        capacity in 1usize..20,
    ) {
        let monday = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let candidates: Vec<Candidate> = leads
            .iter()
            .map(|&(s, d, won)| Candidate { score: Points::new(s), week: monday + Duration::days(d), converted: won })
            .collect();
        let cal = calibrate(&candidates, capacity);
        if let Some(t) = cal.threshold {
            prop_assert!(t.peak_per_week <= capacity);
        }
        let weeks = 60 / 7 + 1;
        prop_assert!(cal.gate.mqls <= capacity * weeks);
        prop_assert!(cal.gate.mqls <= candidates.len());
    }
}

#[test]
fn example_loader_leaves_out_rows_whose_target_is_missing() {
    // Before: a row with an empty target counted as "not converted".
    let dir = std::env::temp_dir().join(format!("leadflow-no-target-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leads = dir.join("leads.csv");
    let mut csv = String::from("id,visits,source,Converted\n");
    for i in 0..60 {
        let target = match i {
            7 => "",
            13 => "NA",
            _ if i % 3 == 0 => "1",
            _ => "0",
        };
        csv.push_str(&format!("L{i},{},{},{target}\n", i % 11, ["web", "ads"][i % 2]));
    }
    std::fs::write(&leads, csv).unwrap();
    let argv = [
        "--csv",
        leads.to_str().unwrap(),
        "--target",
        "Converted",
        "--positive",
        "1",
        "--id",
        "id",
    ];
    let args = args::parse(argv.iter().map(|s| s.to_string())).unwrap();
    let loaded = data::load(&args).unwrap();
    assert_eq!(loaded.no_target, ["L7", "L13"]);
    assert_eq!(loaded.data.len(), 58);
    assert_eq!(loaded.data.positives(), 20);
    let ids: Vec<&str> = loaded.data.rows().iter().map(|r| r.lead.id.as_str()).collect();
    assert!(!ids.contains(&"L7") && !ids.contains(&"L13"));
    assert!(
        loaded
            .notes
            .iter()
            .any(|n| n.starts_with("2 rows have no value in column \"Converted\"") && n.contains("L7, L13")),
        "{:?}",
        loaded.notes
    );
    std::fs::remove_dir_all(&dir).ok();
}
