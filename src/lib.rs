//! # leadflow
//!
//! Embeddable, deterministic B2B lead qualification: describe who a lead is
//! ([`Lead`]) and what it does ([`Event`]), decide when it qualifies
//! ([`criteria`]), and move it through the lifecycle stages your company uses
//! (MAL → MQL → SAL → SQL → Customer → CSQL) with typed, explained, recorded
//! transitions ([`LifecycleStateMachine`]).
//!
//! leadflow does no I/O and reads no clock: the host feeds it data and the
//! current time and acts on what it returns, so every result can be replayed
//! bit for bit.
//!
//! ## Which module for which job
//!
//! | your job | start with | its docs open with |
//! |---|---|---|
//! | embed qualification in an app or service | [`Engine`] ([`engine`]) | many leads, events, a duplicate |
//! | run a pipeline: events in, outputs out | [`engine`] and `examples/pipeline.rs` | (the host loop below) |
//! | score a lead and explain its score | [`ScoringModel`] ([`scoring`]) | a director who asked for a demo |
//! | decide when a lead qualifies | [`criteria`] | an MQL condition in code and as data |
//! | the stages and moves your company uses | [`LifecycleStateMachine`] ([`lifecycle`]) | one lead from MQL to SQL |
//! | measure the funnel (KPIs, conversion, SLAs) | [`analytics`] | KPIs by channel |
//! | roll leads up to accounts (buying groups, MQA) | [`account`] | the standard account model |
//! | tune a model on history before switching | [`tuning`] | a scorecard fitted and measured |
//! | generate realistic test data | `synthetic` (cargo feature `synthetic`) | a seeded workload |
//!
//! The root holds the vocabulary every module shares (ids such as
//! [`LeadId`], [`Points`], [`Span`], [`Stage`], [`Lead`], [`Event`],
//! [`Scores`], [`EventMatcher`]...) and the three main types: [`Engine`],
//! [`ScoringModel`] and [`LifecycleStateMachine`], each only there. Every
//! other item has one path, in the module of its job:
//! `leadflow::engine::EngineConfig`, `leadflow::scoring::Rule`,
//! `leadflow::lifecycle::Transition`.
//!
//! ## The host loop, end to end
//!
//! A host keeps one [`Engine`]: it feeds it leads, events and sales'
//! commands with the current time, acts on every
//! [`Output`](engine::Output) it returns, asks it for overdue SLAs, and
//! snapshots it to survive a restart. Nothing else is needed.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::criteria::Condition;
//! use leadflow::engine::{EngineConfig, Output, Snapshot, Threshold, UnknownLeads};
//! use leadflow::lifecycle::{LifecycleDefinition, Transition};
//! use leadflow::{
//!     AssetType, Dimension, Engine, Event, EventId, EventKind, EventMatcher, Lead, LeadId,
//!     OwnerId, ScoringModel, Stage,
//! };
//!
//! // Configuration: what qualifies, the stages and moves, a score alert,
//! // and events only for leads the CRM has sent.
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//! let machine = LifecycleDefinition::standard_b2b(mql.clone()).build()?;
//! let config = EngineConfig::default()
//!     .threshold(Threshold::new("hot".parse()?, Dimension::Engagement, 30))
//!     .unknown_leads(UnknownLeads::Reject);
//! let mut engine = Engine::new(ScoringModel::b2b_default()?, machine, config.clone())?;
//!
//! // A new lead from the CRM.
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let ada = LeadId::new("lead-ada")?;
//! let mut lead = Lead::new(ada.clone(), t0);
//! lead.person.set_email("ada@acme.io");
//! engine.upsert_lead(lead, t0)?;
//!
//! // Events from the website and email tool, in any order within the
//! // allowed lateness, duplicates included.
//! let events = [
//!     Event::new(EventId::new("e1")?, ada.clone(), t0 + Duration::minutes(5),
//!         EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None }),
//!     Event::new(EventId::new("e2")?, ada.clone(), t0 + Duration::minutes(9), EventKind::DemoRequest),
//!     Event::new(EventId::new("e3")?, LeadId::new("nobody")?, t0, EventKind::DemoRequest),
//! ];
//! let report = engine.ingest(&events, t0 + Duration::minutes(10));
//!
//! // Act on each output.
//! let mut hand_to_sales = Vec::new();
//! for output in &report.outputs {
//!     match output {
//!         // A lead changed stage: update the CRM, route MQLs to sales.
//!         Output::Transition { record } if record.to == Stage::Mql => {
//!             hand_to_sales.push(record.lead.clone())
//!         }
//!         Output::Transition { .. } => {}
//!         // A late event undid an earlier transition: undo what you did.
//!         Output::Retracted { record } => println!("undo {} -> {}", record.from, record.to),
//!         // A score crossed a threshold: alert someone.
//!         Output::ScoreCrossed { lead, threshold, upward, .. } => {
//!             println!("{lead} {} {threshold}", if *upward { "is now" } else { "is no longer" })
//!         }
//!         // Outputs added in later versions.
//!         _ => {}
//!     }
//! }
//! assert_eq!(hand_to_sales, [ada.clone()]);
//! // Refused events say which and why (here: a lead the engine does not know).
//! assert_eq!(report.rejected.len(), 1);
//! assert_eq!(report.rejected[0].index, 2);
//!
//! // Sales works the lead: commands go on the same timeline.
//! let rep = OwnerId::new("rep-jane")?;
//! engine.command(&ada, Transition::Accept { owner: rep }, t0 + Duration::hours(2))?;
//! assert_eq!(engine.lead(&ada).map(|l| l.lifecycle.stage()), Some(Stage::Sal));
//!
//! // Time-driven work: SLAs due (the standard SAL follow-up is 24 h).
//! let late = engine.overdue(t0 + Duration::days(2));
//! assert_eq!(late.len(), 1);
//!
//! // Survive a restart: snapshot, store, restore with the same setup.
//! let json = serde_json::to_string(&engine.snapshot())?;
//! let machine = LifecycleDefinition::standard_b2b(mql).build()?;
//! let restored = Engine::restore(serde_json::from_str::<Snapshot>(&json)?,
//!     ScoringModel::b2b_default()?, machine, config)?;
//! assert_eq!(restored.scores_at(&ada, t0 + Duration::days(2))?,
//!            engine.scores_at(&ada, t0 + Duration::days(2))?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//!
//! - **Ids** ([`LeadId`], [`EventId`], [`AccountId`], [`OwnerId`],
//!   [`CampaignId`], [`ModelVersion`], a scoring model's [`RuleId`] and
//!   [`GroupId`], an engine's [`ThresholdId`]) are validated newtypes.
//! - **[`Points`]** are exact fixed-point numbers (thousandths), saturating,
//!   `Eq + Ord + Hash`: scores never drift between batch and incremental
//!   computation.
//! - **[`Lead`]** holds [`Company`] and [`Person`] attributes, custom
//!   attributes and a [`Source`]; [`Lead::attribute`] reads any of them by
//!   name.
//! - **[`Event`]** has an id (for idempotency), a time and an [`EventKind`]
//!   with the kind's fields; [`EventMatcher`] selects events for rules and
//!   criteria.
//! - **[`Scores`]** (fit, engagement, combined, grade, level) are the seam
//!   between scoring and qualification.
//! - **[`Stage`]** and [`StageSet`]: the lifecycle stages, read by criteria,
//!   the lifecycle, analytics and the engine.
//! - **[`criteria`]**: the [`Criterion`](criteria::Criterion) trait, the
//!   serializable built-in [`Condition`](criteria::Condition)s and their
//!   three-valued [`Verdict`](criteria::Verdict)s.
//! - **[`lifecycle`]**: stages, typed transitions, the definition, the
//!   machine ([`LifecycleStateMachine`]), per-lead records, SLAs and the
//!   CSQL expansion criteria.
//! - **[`scoring`]**: the [`ScoringModel`] that produces [`Scores`] from
//!   attributes and events (rules, limits, windows, decay, caps, floor,
//!   grades), explained contribution by contribution
//!   ([`Explanation`](scoring::Explanation));
//!   [`ScoringModel::b2b_default`] is a documented starting point.
//! - **[`engine`]**: the [`Engine`] holds many leads, one scoring model and
//!   one lifecycle; it ingests events (duplicates ignored, late events
//!   giving exactly the in-order result) and commands, returns the
//!   transitions and score crossings to act on, swaps models, explains
//!   scores, snapshots and restores, and partitions by lead. This is what a
//!   host embeds; the modules above are its parts, usable on their own.
//! - **[`analytics`]**: funnel KPIs per stage, conversion, time in stage and
//!   to deal, SLA breaches, by source, channel, campaign, owner and cohort,
//!   mergeable across shards.
//! - **[`account`]**: the account view: lead scores rolled up to accounts,
//!   buying-group coverage and the marketing-qualified-account decision.
//! - **[`tuning`]**: measure a scoring model on history before switching to
//!   it: point-in-time backtests through the [`Scorer`](tuning::Scorer)
//!   trait, metrics (AUC, lift, missed buyers, weekly MQL volume), capacity
//!   calibration, model comparison, and integer-points scorecards fitted from
//!   outcomes.
//!
//! ## Cookbook
//!
//! ### The whole configuration as data
//!
//! Models, criteria and lifecycle definitions are serde data, validated when
//! built; errors name the offending rule or edge.
//!
//! ```
//! use leadflow::criteria::Condition;
//! use leadflow::lifecycle::LifecycleDefinition;
//!
//! let mql: Condition = serde_json::from_str(r#"{"type": "any", "of": [
//!     {"type": "all", "of": [
//!         {"type": "score_at_least", "dimension": "combined", "at_least": 60},
//!         {"type": "fit_grade_at_least", "grade": "B"}]},
//!     {"type": "did_action", "action": {"event": "demo_request"}, "within": "30d"}
//! ]}"#)?;
//! let definition = LifecycleDefinition::standard_b2b(mql);
//! let json = serde_json::to_string(&definition)?; // store it, diff it, load it back
//! let machine = serde_json::from_str::<LifecycleDefinition>(&json)?.build()?;
//! assert_eq!(machine.definition(), &definition);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### A typo in a configuration
//!
//! Every type leadflow reads refuses a field it does not have, so a typo
//! cannot silently leave a default in place (`"limt"` would leave a rule
//! at its default limit, `"capp"` a group uncapped). The error names the
//! field and the fields the type takes; `serde_path_to_error` adds where it
//! is:
//!
//! ```
//! use leadflow::ScoringModel;
//!
//! let json = r#"{"version": "m@1", "groups": {"web": {"capp": 30}},
//!     "rules": [{"id": "pricing", "group": "web", "points": 10,
//!                "when": {"type": "event", "action": {"event": "page_view"}}}]}"#;
//! let error = serde_json::from_str::<ScoringModel>(json).unwrap_err();
//! assert!(error.to_string().starts_with("unknown field `capp`, expected `cap` or `decay`"));
//!
//! let mut reader = serde_json::Deserializer::from_str(json);
//! let error = serde_path_to_error::deserialize::<_, ScoringModel>(&mut reader).unwrap_err();
//! assert_eq!(error.path().to_string(), "groups.web.capp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Why is this lead scored 55?
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use leadflow::{Dimension, Event, EventId, EventKind, Lead, LeadId, ScoringModel};
//!
//! let model = ScoringModel::b2b_default()?;
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.company.employees = Some(450);
//! let events = [Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest)];
//! let why = model.explain(&lead, &events, t0);
//! // Every contribution (rule, event, raw, after decay, after caps) adds up exactly.
//! assert_eq!(why.total(Dimension::Combined), model.score(&lead, &events, t0).combined);
//! assert_eq!(why.total(Dimension::Combined).to_string(), "55");
//! println!("{why}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### More
//!
//! - Your own qualification rule: implement
//!   [`Criterion`](criteria::Criterion) and register it in a
//!   [`CriteriaRegistry`](criteria::CriteriaRegistry).
//! - Stage KPIs and conversion by channel, mergeable across shards:
//!   [`analytics::FunnelAnalyzer`].
//! - Fit points from won and lost leads, then use them as an ordinary model:
//!   [`tuning::ScorecardConfig::fit`] and
//!   [`tuning::Scorecard::to_scoring_model`].
//! - Realistic test data: `synthetic::WorkloadConfig`, with the `synthetic`
//!   feature.
//!
//! ## Features and dependencies
//!
//! - `synthetic` (off by default): the `synthetic` module, seeded workloads
//!   (leads, events, a scoring model and a lifecycle) for tests, benches and
//!   demos.
//!
//! Runtime dependencies: serde, thiserror, chrono (without its clock) and
//! indexmap.
//!
//! ## Strict inputs
//!
//! Reading any configuration or input type (models, rules, groups,
//! conditions, lifecycle definitions, transitions, leads, analytics
//! configurations) refuses, with an error naming what is wrong:
//!
//! - a field the type does not have, at every level, including the unit
//!   variants of tagged enums (`{"type": "once", "n": 3}`);
//! - a key given twice in a map of names (groups, named scores, custom
//!   attributes, property predicates, checklist items);
//! - a condition nested deeper than
//!   [`MAX_CONDITION_DEPTH`](criteria::MAX_CONDITION_DEPTH);
//! - a non-finite float (TOML can spell `nan`).
//!
//! Writing refuses what could not be read back the same (a NaN bound,
//! which JSON would write as `null`; a condition deeper than the limit), and
//! everything that writes reads back equal, in JSON and in TOML (property
//! tests). Points whose fraction a float cannot carry are written as exact
//! decimal text. With serde_json, exact floats need its `float_roundtrip`
//! feature: without it, a decimal such as a range bound can read back one
//! unit in the last place away.
//!
//! ## Limits
//!
//! What one input can make leadflow hold or do is bounded:
//!
//! - ids ([`LeadId`] and the others, rule ids, group and threshold names
//!   included): at most [`MAX_ID_LEN`] bytes;
//! - a scoring model: at most [`MAX_RULES`](scoring::MAX_RULES) rules;
//! - a condition: at most [`MAX_CONDITION_DEPTH`](criteria::MAX_CONDITION_DEPTH)
//!   levels deep (any number of parts per level), checked when it is
//!   validated, built into a machine, bound, read and written; a deeper one
//!   built in code can still be held, cloned, compared, dropped and printed
//!   without exhausting the stack, and its parts beyond the limit evaluate
//!   to unknown;
//! - a lifecycle definition: at most one edge per stage and kind
//!   (12 × 11) and one SLA per stage and kind, or it does not build;
//! - a time: chrono's range (years −262143 to 262142); a span reaching
//!   past it is still answered (such a window holds every earlier event,
//!   such an SLA is never due).
//!
//! - an [`Engine`]: at most 2³² − 1 leads and 2³² − 1 distinct event
//!   shapes ([`IngestError::Full`](engine::IngestError::Full)), and at most
//!   64 scoring rules matching one event
//!   ([`IngestError::TooManyRules`](engine::IngestError::TooManyRules)).
//!   Per lead it holds one line of machine words, its attribute versions
//!   and its recent events within the allowed lateness (or a rule's
//!   window); its history log grows by 16 bytes per accepted event
//!   ([`History::Off`](engine::History::Off) keeps none). A line keeps a
//!   bit per `once_per` period and a byte per decay era as far back as the
//!   allowed lateness reaches, at most 8 KiB: a longer lateness is refused
//!   when the engine is built or given a model
//!   ([`EngineError::LatenessTooLong`](engine::EngineError::LatenessTooLong)).
//!
//! Everything else leadflow allocates grows linearly with its input: a model, a definition or a lead takes
//! memory in proportion to its serialized size; evaluating a condition or
//! explaining a score allocates in proportion to the condition or model
//! plus the lead's events; and no count read from data (a rule's `times n`,
//! a roll-up's top `n`, a checklist's `at_least`) reserves memory by
//! itself. Other text fields (names of named scores, descriptions,
//! attribute values) have no length limit of their own: bound
//! what you accept at your input's edge.
//!
//! ## Determinism
//!
//! Nothing in leadflow reads the clock, the environment or random state.
//! Times are arguments; events after `now` are ignored by criteria and
//! scoring; points are integers and decay is integer arithmetic. The same
//! inputs always give the same outputs, on every platform.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod account;
pub mod analytics;
pub mod criteria;
pub mod engine;
mod event;
mod hash;
mod id;
mod lead;
pub mod lifecycle;
mod matcher;
mod points;
mod rng;
mod scores;
pub mod scoring;
mod span;
mod stage;
mod strict;
#[cfg(feature = "synthetic")]
pub mod synthetic;
pub mod tuning;
mod value;

pub use engine::store::Engine;
pub use event::{AssetType, Event, EventKind, EventShape, EventType, PageCategory};
pub use id::{
    AccountId, CampaignId, EventId, GroupId, IdError, LeadId, MAX_ID_LEN, ModelVersion, OwnerId, RuleId,
    ThresholdId,
};
pub use lead::{
    AttributeError, Channel, Company, JobFunction, Lead, Person, Seniority, SizeBand, Source,
    is_free_mail_domain, keys,
};
pub use lifecycle::machine::LifecycleStateMachine;
pub use matcher::{EventMatcher, MatcherError, Predicate};
pub use points::{Points, PointsError};
pub use scores::{Dimension, EngagementLevel, Grade, GradeError, MatrixCell, Scores};
pub use scoring::model::ScoringModel;
pub use span::{Span, SpanError};
pub use stage::{Stage, StageSet};
pub use value::{AttrRef, AttrValue, NonFiniteError};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
