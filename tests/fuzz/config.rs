//! Models, lifecycle definitions, conditions and engine configs as JSON and
//! TOML: a generated value is written and read back equal; then its text is
//! mutated, and whatever still reads is written and read back equal and put
//! to work: a model scores (`score` against `scores_with`), a definition
//! builds a machine that runs in an engine (against the oracle), a
//! condition validates (deeper than the limit is refused) and evaluates, an
//! engine config runs an engine.

use std::fmt::Debug;
use std::thread::LocalKey;

use leadflow::criteria::{Condition, Criterion, LeadView, MAX_CONDITION_DEPTH};
use leadflow::engine::{EngineConfig, IngestError, Threshold, UnknownLeads};
use leadflow::lifecycle::LifecycleDefinition;
use leadflow::scoring::ScoringModelBuilder;
use leadflow::tuning::SplitMix64;
use leadflow::{Dimension, Engine, LifecycleStateMachine, ScoringModel, Span};
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::{events, lead, scores_agree};
use crate::mutate::mutate;
use crate::oracle::Oracle;
use crate::support::at;
use crate::{Finding, fixtures};

/// TOML needs a table at the top.
#[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
struct Wrap<T> {
    value: T,
}

thread_local! {
    // Built once: a strategy is the same at every case (its regexes
    // compiled once), and proptest's default configuration reads the
    // environment.
    static MODEL: BoxedStrategy<ScoringModelBuilder> = crate::arbitrary::model();
    static DEFINITION: BoxedStrategy<LifecycleDefinition> = crate::arbitrary::definition();
    static CONDITION: BoxedStrategy<Condition> = crate::arbitrary::condition();
    static DEEPEST: BoxedStrategy<Condition> = crate::arbitrary::deepest_condition();
    static CONFIG: Config = Config::default();
}

/// The value `strategy` draws for `seed`.
fn generate<T: Debug>(strategy: &'static LocalKey<BoxedStrategy<T>>, seed: u64) -> T {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        CONFIG.with(Config::clone),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    strategy.with(|s| s.new_tree(&mut runner).unwrap().current())
}

fn write<T: Serialize>(value: &T, toml: bool) -> Result<String, String> {
    if toml {
        toml::to_string(&Wrap { value }).map_err(|e| e.to_string())
    } else {
        serde_json::to_string(value).map_err(|e| e.to_string())
    }
}

fn read<T: DeserializeOwned>(text: &str, toml: bool) -> Result<T, String> {
    if toml {
        toml::from_str::<Wrap<T>>(text)
            .map(|w| w.value)
            .map_err(|e| e.to_string())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// Writes `value`, reads it back equal, uses it; then mutated texts.
fn check<T>(
    rng: &mut SplitMix64,
    value: T,
    using: impl Fn(&mut SplitMix64, &T) -> Result<(), Finding>,
) -> Result<(), Finding>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    // The value as JSON and as TOML, each written once.
    let mut texts = [String::new(), String::new()];
    for (toml, text) in [false, true].into_iter().zip(&mut texts) {
        *text = write(&value, toml).map_err(|e| format!("{value:?} does not write (toml {toml}): {e}"))?;
        let back: T = read(text, toml).map_err(|e| format!("{text} does not read back: {e}"))?;
        if back != value {
            return Err(format!("{text} reads back as {back:?}"));
        }
    }
    using(rng, &value)?;
    for _ in 0..4 {
        let toml = rng.below(2) == 0;
        let mut bytes = texts[usize::from(toml)].clone().into_bytes();
        mutate(rng, &mut bytes);
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(mutant) = read::<T>(&text, toml) else {
            continue;
        };
        let again =
            write(&mutant, toml).map_err(|e| format!("{mutant:?} read from {text} does not write: {e}"))?;
        let back: T =
            read(&again, toml).map_err(|e| format!("{again} (read from {text}) does not read back: {e}"))?;
        if back != mutant {
            return Err(format!("{again} (read from {text}) reads back as {back:?}"));
        }
        using(rng, &mutant)?;
    }
    Ok(())
}

fn use_model(rng: &mut SplitMix64, builder: &ScoringModelBuilder) -> Result<(), Finding> {
    let Ok(model) = builder.clone().build() else {
        return Ok(());
    };
    let n = rng.below(12);
    let events = events(rng, n, 1, 500);
    let mut l = lead(0);
    l.company.employees = Some(rng.below(2000) as u32);
    let now = at(rng.below(600) as i64);
    scores_agree(rng, &model, &l, &events, now)?;
    // The model reads back as itself.
    let json = serde_json::to_string(&model).map_err(|e| e.to_string())?;
    let back: ScoringModel =
        serde_json::from_str(&json).map_err(|e| format!("{json} does not read back: {e}"))?;
    if back != model {
        return Err(format!("a built model reads back as another: {json}"));
    }
    Ok(())
}

/// A machine built from a definition: an engine running it equals the
/// oracle folding the same events.
fn use_definition(rng: &mut SplitMix64, def: &LifecycleDefinition) -> Result<(), Finding> {
    let Ok(machine) = def.clone().build() else {
        return Ok(());
    };
    machine_agrees(rng, machine)
}

fn machine_agrees(rng: &mut SplitMix64, machine: LifecycleStateMachine) -> Result<(), Finding> {
    let model = fixtures::b2b().clone();
    let config = EngineConfig::default().allowed_lateness(Span::days(60));
    let mut e = Engine::new(model.clone(), machine.clone(), config).unwrap();
    let mut o = Oracle::new(model, machine);
    for i in 0..2 {
        e.upsert_lead(lead(i), at(0)).map_err(|e| e.to_string())?;
        o.upsert(lead(i), at(0));
    }
    let n = 1 + rng.below(12);
    let mut events = events(rng, n, 2, 200);
    rng.shuffle(&mut events);
    while !events.is_empty() {
        let n = (1 + rng.below(4) as usize).min(events.len());
        let batch: Vec<_> = events.drain(..n).collect();
        let report = e.ingest(&batch, at(300));
        let refused: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
        for r in &report.rejected {
            if !matches!(r.error, IngestError::ConflictingDuplicate { .. }) {
                return Err(format!("{:?} refused: {}", batch[r.index], r.error));
            }
        }
        for (i, ev) in batch.iter().enumerate() {
            if !refused.contains(&i) {
                o.event(ev.clone());
            }
        }
        // A losing copy: the oracle keeps the copy it has (from this call
        // or before).
        for &i in &refused {
            if o.clone().event(batch[i].clone()) {
                return Err(format!(
                    "{:?} refused as a losing copy, the oracle takes it",
                    batch[i]
                ));
            }
        }
    }
    for id in o.leads().cloned().collect::<Vec<_>>() {
        let want = o.lifecycle(&id).map_err(|e| e.to_string())?;
        let got = e.lead(&id).ok_or("a lead is missing")?;
        if *got.lifecycle != want {
            return Err(format!(
                "lifecycle of {id} under {:?}: engine {:?}, oracle {want:?}",
                o.machine.definition(),
                got.lifecycle
            ));
        }
    }
    Ok(())
}

fn use_condition(rng: &mut SplitMix64, c: &Condition) -> Result<(), Finding> {
    let valid = c.validate();
    if c.depth() > MAX_CONDITION_DEPTH && valid.is_ok() {
        return Err(format!("a condition {} deep validates", c.depth()));
    }
    if valid.is_err() {
        return Ok(());
    }
    let n = rng.below(8);
    let events = events(rng, n, 1, 300);
    let l = lead(0);
    let scores = fixtures::b2b().score(&l, &events, at(300));
    let view = LeadView::new(&l).with_events(&events).with_scores(&scores);
    let verdict = c.evaluate(&view, at(300));
    // The verdict is data too.
    let json = serde_json::to_string(&verdict).map_err(|e| e.to_string())?;
    serde_json::from_str::<leadflow::criteria::Verdict>(&json).map_err(|e| format!("{json}: {e}"))?;
    Ok(())
}

fn engine_config(rng: &mut SplitMix64) -> EngineConfig {
    let mut c = EngineConfig::default()
        .allowed_lateness(Span::seconds(rng.below(400 * 86_400) as i64))
        .clock_skew(Span::seconds(rng.below(100_000) as i64));
    if rng.below(2) == 0 {
        c = c.unknown_leads(UnknownLeads::Reject);
    }
    for i in 0..rng.below(3) {
        c = c.threshold(Threshold::new(
            format!("t{i}").parse().unwrap(),
            Dimension::Combined,
            rng.below(100) as i32,
        ));
    }
    c
}

fn use_engine_config(rng: &mut SplitMix64, config: &EngineConfig) -> Result<(), Finding> {
    // A lateness beyond what a line holds is refused (it was allocated:
    // finding `a_lateness_beyond_what_a_line_holds_is_refused_not_allocated`).
    let Ok(mut e) = Engine::new(
        fixtures::b2b().clone(),
        fixtures::machine().clone(),
        config.clone(),
    ) else {
        return Ok(());
    };
    let n = rng.below(8);
    let events = events(rng, n, 3, 300);
    e.ingest(&events, at(300));
    Ok(())
}

pub(crate) fn case(seed: u64) -> Result<(), Finding> {
    let mut rng = SplitMix64::new(seed);
    match seed % 5 {
        0 => check(&mut rng, generate(&MODEL, seed), use_model),
        1 => check(&mut rng, generate(&DEFINITION, seed), use_definition),
        2 => check(&mut rng, generate(&CONDITION, seed), use_condition),
        3 => check(&mut rng, generate(&DEEPEST, seed), use_condition),
        _ => {
            let config = engine_config(&mut rng);
            check(&mut rng, config, use_engine_config)
        }
    }
}
