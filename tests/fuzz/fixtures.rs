//! Inputs every case would otherwise build again from the same constants:
//! the two stock models, a few variants of each, the standard lifecycle
//! machine, fresh engines for a configuration. Each is built once per run and cloned into a case, so a
//! case pays for what it tests; a clone equals what building it again
//! returns, so a seed still replays the same case.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use leadflow::engine::EngineConfig;
use leadflow::scoring::{Decay, Limit, ScoringModelBuilder, Trigger};
use leadflow::tuning::SplitMix64;
use leadflow::{Engine, LifecycleStateMachine, ModelVersion, Points, ScoringModel, Span};

/// `ScoringModel::b2b_default()`.
pub(crate) fn b2b() -> &'static ScoringModel {
    static M: OnceLock<ScoringModel> = OnceLock::new();
    M.get_or_init(|| ScoringModel::b2b_default().unwrap())
}

/// `leadflow::synthetic::scoring_model()`.
pub(crate) fn synthetic() -> &'static ScoringModel {
    static M: OnceLock<ScoringModel> = OnceLock::new();
    M.get_or_init(|| leadflow::synthetic::scoring_model().unwrap())
}

/// `support::standard()`: the standard B2B lifecycle machine.
pub(crate) fn machine() -> &'static LifecycleStateMachine {
    static M: OnceLock<LifecycleStateMachine> = OnceLock::new();
    M.get_or_init(crate::support::standard)
}

thread_local! {
    static ENGINES: RefCell<HashMap<(&'static str, u64), Engine>> = RefCell::new(HashMap::new());
}

/// A fresh engine: `Engine::new(model, machine(), config)`, built on the
/// first call for `key` and cloned after. `key` (the target's name and a
/// number) names the model and configuration: one key, one pair.
pub(crate) fn engine(key: (&'static str, u64), model: &ScoringModel, config: &EngineConfig) -> Engine {
    ENGINES.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| Engine::new(model.clone(), machine().clone(), config.clone()).unwrap())
            .clone()
    })
}

/// How many variants [`variant`] has of each stock model.
pub(crate) const VARIANTS: u64 = 6;

/// Variant `i` (below [`VARIANTS`]) of stock model `base` (0: b2b, 1:
/// synthetic): the same rules with other points, limits, windows and decay,
/// drawn from a fixed seed, under another version.
pub(crate) fn variant(base: u64, i: u64) -> &'static ScoringModel {
    static M: OnceLock<Vec<ScoringModel>> = OnceLock::new();
    let all = M.get_or_init(|| {
        let mut rng = SplitMix64::new(0x5eed_cafe);
        [b2b(), synthetic()]
            .into_iter()
            .flat_map(|m| (0..VARIANTS).map(move |i| (m, i)))
            .map(|(m, i)| vary(&mut rng, m, i))
            .collect()
    });
    &all[(base * VARIANTS + i) as usize]
}

/// `model` with each rule's points, or an event rule's limit, window or
/// decay, drawn anew (some rules left as they are).
fn vary(rng: &mut SplitMix64, model: &ScoringModel, i: u64) -> ScoringModel {
    let version = ModelVersion::new(format!("{}-v{i}", model.version())).unwrap();
    let mut rules = model.rules().to_vec();
    for r in &mut rules {
        let event = matches!(r.when, Trigger::Event { .. });
        match rng.below(6) {
            0 => r.points = Points::new(rng.below(60) as i64 - 10),
            1 if event => {
                r.limit = match rng.below(4) {
                    0 => Limit::Once,
                    1 => Limit::Times {
                        n: 1 + rng.below(4) as u32,
                    },
                    2 => Limit::OncePer {
                        period: Span::hours(1 + rng.below(48) as i64),
                    },
                    _ => Limit::Unlimited,
                }
            }
            2 if event => r.within = Some(Span::hours(1 + rng.below(24 * 20) as i64)),
            3 if event => {
                r.decay = Some(match rng.below(3) {
                    0 => Decay::None,
                    1 => Decay::half_life(Span::hours(1 + rng.below(24 * 30) as i64)),
                    _ => Decay::step(
                        Span::hours(1 + rng.below(24 * 10) as i64),
                        1 + rng.below(99) as u8,
                    ),
                })
            }
            _ => {}
        }
    }
    // The builder's other parts as they are: through its data.
    let mut data = serde_json::to_value(model.to_builder()).unwrap();
    data["rules"] = serde_json::to_value(&rules).unwrap();
    let builder: ScoringModelBuilder = serde_json::from_value(data).unwrap();
    builder.version(version).build().unwrap()
}
