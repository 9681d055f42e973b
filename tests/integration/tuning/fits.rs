//! Fits that hold on any data: separable data, constant columns, sentinel
//! values, one row per level and a million rows each give a sound card (within
//! its sanity bounds) or a typed error, never an absurd card; the exported
//! scoring model scores exactly as the fitted card (property); the penalty
//! search brackets its optimum; the boosted card learns an interaction the
//! logistic one cannot; leakage is flagged.

use leadflow::tuning::{
    BoostedConfig, Bounds, Dataset, Feature, FitWarning, Label, Leak, Scorecard, ScorecardConfig, Search,
    SplitMix64, TuningError, check_leakage, index_split, metrics::roc_auc,
};
use leadflow::{AttrRef, AttrValue, Lead, LeadId, ModelVersion, Points};
use proptest::prelude::*;

use super::{features, synthetic, t0};

fn lead(i: usize) -> Lead {
    Lead::new(LeadId::new(format!("l{i}")).unwrap(), t0())
}

/// Both fits of `features` on all rows of `data`, with a small boosted
/// configuration (one bag) so debug-mode tests stay quick.
fn both(data: &Dataset, features: &[Feature]) -> [Result<Scorecard, TuningError>; 2] {
    let rows = data.all_rows();
    [
        ScorecardConfig::new(features.to_vec()).fit(data, &rows),
        BoostedConfig::new(features.to_vec())
            .with_bags(1)
            .fit(data, &rows),
    ]
}

fn sound(card: &Scorecard) {
    card.check_bounds(&Bounds::default()).unwrap();
    assert!(card.intercept.is_finite());
    for part in card.parts() {
        assert!(part.weight().is_finite(), "{part}");
    }
}

fn points_of(card: &Scorecard, name: &str, value: AttrRef<'_>) -> Points {
    card.features
        .iter()
        .find(|f| f.feature.name == name)
        .and_then(|f| f.bin_for(Some(value)))
        .map_or(Points::ZERO, |b| b.points)
}

#[test]
fn separable_data_gives_a_sound_card_or_a_typed_error() {
    // "pro" leads always convert, "free" ones never: perfect separation,
    // plus a numeric feature that separates too (x >= 50 converts).
    let mut data = Dataset::new();
    let mut rng = SplitMix64::new(3);
    for i in 0..600 {
        let mut l = lead(i);
        let won = i % 2 == 0;
        l.set_attribute("plan", if won { "pro" } else { "free" }).unwrap();
        let x = if won { 50 + rng.below(50) } else { rng.below(50) };
        l.set_attribute("x", x as i64).unwrap();
        data.push(l, vec![], Label::new(won, None));
    }
    let features = [Feature::categorical("plan"), Feature::numeric("x")];
    for fit in both(&data, &features) {
        let card = fit.unwrap();
        sound(&card);
        assert!(
            points_of(&card, "plan", AttrRef::Text("pro")) > points_of(&card, "plan", AttrRef::Text("free"))
        );
        assert!(
            card.warnings
                .iter()
                .any(|w| matches!(w, FitWarning::PureBin { .. } | FitWarning::Separated { .. })),
            "{:?}",
            card.warnings
        );
    }
    // With almost no penalty the weights would run off: a typed error or a
    // card that still respects its bounds, never an absurd one.
    let weak = ScorecardConfig::new(features.clone()).with_l2(1e-9);
    match weak.fit(&data, &data.all_rows()) {
        Ok(card) => sound(&card),
        Err(e) => assert!(
            matches!(
                e,
                TuningError::OutOfBounds { .. }
                    | TuningError::NotConverged { .. }
                    | TuningError::IllConditioned { .. }
            ),
            "{e}"
        ),
    }
    // The search refuses penalties whose cards leave the bounds.
    let tuned = ScorecardConfig::new(features.clone())
        .tune(&data, &data.all_rows(), &Search::default())
        .unwrap();
    sound(&tuned.config.fit(&data, &data.all_rows()).unwrap());
}

#[test]
fn a_constant_column_scores_nothing() {
    let data = synthetic(800, 31);
    let mut with_constant = Dataset::new();
    for r in data.rows() {
        let mut l = r.lead.clone();
        l.set_attribute("region", "emea").unwrap();
        with_constant.push(l, vec![], r.outcome);
    }
    let mut features = features();
    features.push(Feature::categorical("region"));
    for fit in both(&with_constant, &features) {
        let card = fit.unwrap();
        sound(&card);
        let region = card.features.iter().find(|f| f.feature.name == "region").unwrap();
        assert!(region.bins.iter().all(|b| b.points == Points::ZERO));
        assert!(card.warnings.contains(&FitWarning::Constant {
            feature: "region".into()
        }));
    }
    // A card on the constant column alone is the base rate, and sound.
    for fit in both(&with_constant, &[Feature::categorical("region")]) {
        let card = fit.unwrap();
        sound(&card);
        let rate = with_constant.positives() as f64 / with_constant.len() as f64;
        assert!((card.probability(card.base) - rate).abs() < 0.02);
    }
}

#[test]
fn a_sentinel_value_gets_a_bin_of_its_own() {
    // Days since the last visit, 0..60, falling odds with age; 10 % of the
    // leads never visited, recorded as 9999, and almost never convert.
    let mut data = Dataset::new();
    let mut rng = SplitMix64::new(8);
    for i in 0..3000 {
        let mut l = lead(i);
        let never = rng.below(10) == 0;
        let days = if never { 9999 } else { rng.below(60) as i64 };
        l.set_attribute("days", days).unwrap();
        let p = if never { 0.01 } else { 0.6 - days as f64 / 150.0 };
        data.push(l, vec![], Label::new(rng.next_f64() < p, None));
    }
    for fit in both(&data, &[Feature::numeric("days")]) {
        let card = fit.unwrap();
        sound(&card);
        let days = &card.features[0];
        let sentinel = days.bin_for(Some(AttrRef::Int(9999))).unwrap();
        // The sentinel's bin holds the sentinel's rows only ...
        assert_eq!(
            sentinel.train_rows,
            data.rows()
                .iter()
                .filter(|r| r.lead.attribute("days") == Some(AttrRef::Int(9999)))
                .count()
        );
        // ... and scores below the oldest real visits, which score below the freshest.
        let old = days.bin_for(Some(AttrRef::Int(59))).unwrap();
        let fresh = days.bin_for(Some(AttrRef::Int(0))).unwrap();
        assert!(
            sentinel.points < old.points,
            "{} vs {}",
            sentinel.points,
            old.points
        );
        assert!(old.points < fresh.points);
    }
}

#[test]
fn one_row_per_level_is_pooled_and_flagged() {
    let data = synthetic(600, 41);
    let mut with_id = Dataset::new();
    for (i, r) in data.rows().iter().enumerate() {
        let mut l = r.lead.clone();
        l.set_attribute("email", format!("person{i}@example.com"))
            .unwrap();
        with_id.push(l, vec![], r.outcome);
    }
    let mut features = features();
    features.push(Feature::categorical("email"));
    for fit in both(&with_id, &features) {
        let card = fit.unwrap();
        sound(&card);
        // Every level is rare: they share `Other`, the reference, at 0 points.
        let email = card.features.iter().find(|f| f.feature.name == "email").unwrap();
        assert!(email.bins.iter().all(|b| b.points == Points::ZERO));
    }
    let leaks = check_leakage(&with_id, &with_id.all_rows(), &features);
    assert!(
        leaks
            .iter()
            .any(|l| matches!(l, Leak::IdLike { feature, .. } if feature == "email")),
        "{leaks:?}"
    );
    assert!(leaks.iter().all(|l| l.feature() == "email"), "{leaks:?}");
}

#[test]
fn a_million_rows_fit() {
    // One feature and one shared lead id keep this quick in a debug build.
    let n = 1_000_000;
    let mut rng = SplitMix64::new(12);
    let mut data = Dataset::new();
    let template = lead(0);
    for _ in 0..n {
        let mut l = template.clone();
        let visits = rng.below(12) as i64;
        l.set_attribute("visits", visits).unwrap();
        let p = 0.05 + 0.05 * visits as f64;
        data.push(l, vec![], Label::new(rng.next_f64() < p, None));
    }
    let rows = data.all_rows();
    let features = [Feature::numeric("visits")];
    let logistic = ScorecardConfig::new(features.clone()).fit(&data, &rows).unwrap();
    // Long steps: a debug build boosts a million rows slowly.
    let mut quick = BoostedConfig::new(features.clone()).with_bags(1).with_pairs(0);
    quick.learning_rate = 0.5;
    let boosted = quick.fit(&data, &rows).unwrap();
    // A million rows pin the odds of each value down: 11 visits (p = 0.6)
    // against none (p = 0.05) is the true log-odds ratio, to within the
    // rounding to whole points for the logistic card, and within what early
    // stopping leaves for the boosted one.
    let truth = (0.6f64 / 0.4).ln() - (0.05f64 / 0.95).ln();
    for (card, within) in [(&logistic, 0.1), (&boosted, 0.3)] {
        sound(card);
        let lo = |v: i64| points_of(card, "visits", AttrRef::Int(v)).to_f64() / card.scaling.factor();
        let ratio = lo(11) - lo(0);
        assert!((ratio - truth).abs() < within, "{ratio} vs {truth}");
    }
}

#[test]
fn a_fit_that_cannot_converge_is_a_typed_error() {
    let data = synthetic(500, 2);
    let mut config = ScorecardConfig::new(features());
    config.max_iter = 1;
    let err = config.fit(&data, &data.all_rows()).unwrap_err();
    assert!(matches!(err, TuningError::NotConverged { .. }), "{err}");
    assert!(err.to_string().contains("raise l2 or max_iter"), "{err}");
}

#[test]
fn the_penalty_search_brackets_its_optimum() {
    let data = synthetic(1500, 19);
    let rows = data.all_rows();
    let tuned = ScorecardConfig::new(features())
        .tune(&data, &rows, &Search::default())
        .unwrap();
    assert!(tuned.bracketed);
    let best = tuned.config.l2;
    let same_bins = |t: &&leadflow::tuning::Trial| t.max_bins == tuned.config.max_bins;
    let chosen = tuned
        .trials
        .iter()
        .filter(same_bins)
        .find(|t| t.l2 == best)
        .unwrap();
    assert!(
        tuned
            .trials
            .iter()
            .filter(same_bins)
            .any(|t| t.l2 < best && t.log_loss > chosen.log_loss)
    );
    assert!(
        tuned
            .trials
            .iter()
            .filter(same_bins)
            .any(|t| t.l2 > best && t.log_loss > chosen.log_loss)
    );
    // A grid that starts far off is extended until it brackets the optimum.
    let mut far = Search::default();
    far.l2 = vec![3000.0, 10_000.0];
    far.bins = vec![16];
    let extended = ScorecardConfig::new(features()).tune(&data, &rows, &far).unwrap();
    assert!(extended.config.l2 < 3000.0, "{}", extended.config.l2);
    assert!(extended.bracketed);
}

/// Converts when visits are high on the pro plan only: an interaction no
/// additive card can hold.
fn interaction(n: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut data = Dataset::new();
    for i in 0..n {
        let mut l = lead(i);
        let visits = rng.below(20) as i64;
        let pro = rng.below(2) == 0;
        l.set_attribute("visits", visits).unwrap();
        l.set_attribute("plan", if pro { "pro" } else { "free" }).unwrap();
        let z = if pro {
            (visits as f64 - 10.0) / 2.0
        } else {
            (10.0 - visits as f64) / 4.0
        };
        let p = 1.0 / (1.0 + (-z).exp());
        data.push(l, vec![], Label::new(rng.next_f64() < p, None));
    }
    data
}

#[test]
fn the_boosted_card_learns_an_interaction() {
    let data = interaction(4000, 5);
    let (train, test) = index_split(data.len(), 5, 4).unwrap();
    let features = [Feature::numeric("visits"), Feature::categorical("plan")];
    let logistic = ScorecardConfig::new(features.clone()).fit(&data, &train).unwrap();
    let boosted = BoostedConfig::new(features.clone()).fit(&data, &train).unwrap();
    assert_eq!(boosted.pairs.len(), 1);
    assert_eq!(boosted.pairs[0].name(), "visits × plan");
    let auc = |card: &Scorecard| {
        let (scores, labels): (Vec<f64>, Vec<bool>) = test
            .iter()
            .map(|&i| &data.rows()[i])
            .map(|r| (card.points(&r.lead, &[]).to_f64(), r.outcome.converted))
            .unzip();
        roc_auc(&scores, &labels).unwrap()
    };
    let (a_logistic, a_boosted) = (auc(&logistic), auc(&boosted));
    assert!(a_boosted > a_logistic + 0.1, "{a_boosted} vs {a_logistic}");
    // A busy pro lead outscores a busy free one, a quiet free one a quiet pro.
    let with = |visits: i64, plan: &str| {
        let mut l = lead(0);
        l.set_attribute("visits", visits).unwrap();
        l.set_attribute("plan", plan).unwrap();
        boosted.points(&l, &[])
    };
    assert!(with(18, "pro") > with(18, "free"));
    assert!(with(2, "free") > with(2, "pro"));
}

/// Leads for the property: a few-valued numeric, a continuous numeric with
/// missing values, a categorical with a rare level, and an outcome with an
/// interaction.
fn random_leads(n: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut data = Dataset::new();
    let levels = ["a", "b", "c", "d", "rare"];
    for i in 0..n {
        let mut l = lead(i);
        let k = rng.below(4) as i64 + 1;
        let x = rng.next_f64() * 100.0;
        let level = if rng.below(50) == 0 {
            4
        } else {
            rng.below(4) as usize
        };
        l.set_attribute("k", k).unwrap();
        if rng.below(8) > 0 {
            l.set_attribute("x", AttrValue::number(x).unwrap()).unwrap();
        }
        l.set_attribute("level", levels[level]).unwrap();
        let z = (x - 50.0) / 30.0 * if level < 2 { 1.0 } else { -1.0 } + 0.3 * k as f64 - 0.8;
        data.push(
            l,
            vec![],
            Label::new(rng.next_f64() < 1.0 / (1.0 + (-z).exp()), None),
        );
    }
    data
}

/// Leads that probe the edges: every bin bound of the card exactly, unseen
/// and missing values, text where a number is expected.
fn probes(card: &Scorecard) -> Vec<Lead> {
    let mut bounds: Vec<f64> = Vec::new();
    let mut bins: Vec<&leadflow::tuning::Bin> = card
        .features
        .iter()
        .flat_map(|f| f.bins.iter().map(|b| &b.bin))
        .collect();
    bins.extend(card.pairs.iter().flat_map(|p| p.bins.iter().flatten()));
    for bin in bins {
        if let leadflow::tuning::Bin::Range { min, max } = bin {
            bounds.extend(min.iter().chain(max.iter()));
        }
    }
    let mut out = Vec::new();
    for (i, b) in bounds.into_iter().enumerate() {
        let mut l = lead(i);
        l.set_attribute("x", AttrValue::number(b).unwrap()).unwrap();
        l.set_attribute("k", AttrValue::number(b).unwrap()).unwrap();
        l.set_attribute("level", ["a", "unseen", "RARE"][i % 3]).unwrap();
        out.push(l);
    }
    let mut odd = lead(9999);
    odd.set_attribute("x", "not a number").unwrap();
    out.push(odd);
    out.push(lead(10_000)); // nothing known
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The exported scoring model gives every lead exactly the card's
    /// points: on the training leads and on leads at every bin bound, with
    /// unseen, missing and mistyped values, for both fits.
    #[test]
    fn exported_models_score_exactly_as_the_fitted_cards(n in 150usize..400, seed in 0u64..1000, pairs in 0usize..3) {
        let data = random_leads(n, seed);
        let features = [Feature::numeric("k"), Feature::numeric("x"), Feature::categorical("level")];
        let rows = data.all_rows();
        let cards = [
            ScorecardConfig::new(features.clone()).fit(&data, &rows),
            BoostedConfig::new(features.clone()).with_bags(1).with_pairs(pairs).with_seed(seed).fit(&data, &rows),
        ];
        for card in cards {
            let card = card.unwrap();
            let model = card.to_scoring_model(ModelVersion::new("prop@1").unwrap()).unwrap();
            let leads: Vec<Lead> = data.rows().iter().map(|r| r.lead.clone()).chain(probes(&card)).collect();
            for l in &leads {
                let scores = model.score(l, &[], t0());
                prop_assert_eq!(scores.fit, card.points(l, &[]), "{}", l.id);
                prop_assert_eq!(scores.combined, scores.fit);
            }
            // And the model survives JSON, scoring the same.
            let json = serde_json::to_string(&model).unwrap();
            let back: leadflow::ScoringModel = serde_json::from_str(&json).unwrap();
            for l in &leads {
                prop_assert_eq!(back.score(l, &[], t0()).fit, card.points(l, &[]));
            }
        }
    }
}
