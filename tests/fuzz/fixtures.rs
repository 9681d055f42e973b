//! Inputs every case would otherwise build again from the same constants:
//! the two stock models, the standard lifecycle machine, fresh engines for
//! a configuration. Each is built once per run and cloned into a case, so a
//! case pays for what it tests; a clone equals what building it again
//! returns, so a seed still replays the same case.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use leadflow::LifecycleStateMachine;
use leadflow::engine::{Engine, EngineConfig};
use leadflow::scoring::ScoringModel;

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
