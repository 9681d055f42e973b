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
//! ## Quick example
//!
//! The lifecycle on its own, for one lead (the [`engine`] module's docs show
//! the same with many leads, events arriving late and snapshots):
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::criteria::{Checklist, Condition, LeadView};
//! use leadflow::{
//!     AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId,
//!     LifecycleDefinition, OwnerId, Stage, Transition,
//! };
//!
//! // MQL when the combined score reaches 60, or on a pricing-sheet download.
//! let mql = Condition::any([
//!     Condition::score_at_least(Dimension::Combined, 60),
//!     Condition::did(EventMatcher::download(AssetType::PricingSheet)),
//! ]);
//! let machine = LifecycleDefinition::standard_b2b(mql).build()?;
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.person.set_email("ada@acme.io");
//! let mut life = machine.start(&lead);
//!
//! let events = vec![Event::new(
//!     EventId::new("e1")?, lead.id.clone(), t0,
//!     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None },
//! )];
//! let view = LeadView::new(&lead).with_events(&events);
//!
//! // Identified + a download → MAL; pricing sheet → MQL. Both fire at once.
//! let fired = machine.advance(&mut life, &view, t0);
//! assert_eq!(fired.len(), 2);
//! assert_eq!(life.stage(), Stage::Mql);
//!
//! // Sales accepts, then qualifies with BANT evidence (3 of 4 needed).
//! let rep = OwnerId::new("rep-jane")?;
//! machine.apply(&mut life, Transition::Accept { owner: rep.clone() }, &view, t0 + Duration::hours(2))?;
//! let bant = Checklist::new()
//!     .met("budget", "40k").met("authority", "VP signs").met("need", "replacing sheets");
//! machine.apply(&mut life, Transition::QualifyForSales { by: rep, evidence: bant }, &view,
//!               t0 + Duration::days(3))?;
//! assert_eq!(life.stage(), Stage::Sql);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//!
//! - **Ids** ([`LeadId`], [`EventId`], [`AccountId`], [`OwnerId`],
//!   [`CampaignId`], [`ModelVersion`]) are validated newtypes.
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
//! - **[`criteria`]**: the [`Criterion`](criteria::Criterion) trait, the
//!   serializable built-in [`Condition`](criteria::Condition)s and their
//!   three-valued [`Verdict`](criteria::Verdict)s.
//! - **[`lifecycle`]**: stages, typed transitions, the definition, the
//!   machine, per-lead records and SLAs.
//! - **[`scoring`]**: the [`ScoringModel`] that produces [`Scores`] from
//!   attributes and events (rules, limits, windows, decay, caps, floor,
//!   grades), explained contribution by contribution ([`Explanation`]);
//!   [`ScoringModel::b2b_default`] is a documented starting point.
//! - **[`engine`]**: the [`Engine`] holds many leads, one scoring model and
//!   one lifecycle; it ingests events (duplicates ignored, late events
//!   giving exactly the in-order result) and commands, returns the
//!   transitions and score crossings to act on, swaps models, explains
//!   scores, snapshots and restores, and partitions by lead. This is what a
//!   host embeds; the modules above are its parts, usable on their own.
//! - **[`analytics`]**: funnel KPIs per stage, conversion, time in stage and
//!   to deal, SLA breaches, by source, channel, campaign, owner and cohort,
//!   mergeable across shards; the account view (roll-up, buying-group
//!   coverage, MQA) and CSQL expansion criteria.
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
//! use leadflow::LifecycleDefinition;
//! use leadflow::criteria::Condition;
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
//! use leadflow::scoring::ScoringModel;
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
//! ### Why is this lead scored 57?
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use leadflow::scoring::ScoringModel;
//! use leadflow::{Dimension, Event, EventId, EventKind, Lead, LeadId};
//!
//! let model = ScoringModel::b2b_default()?;
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.company.employees = Some(450);
//! let events = [Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest)];
//! let why = model.explain(&lead, &events, t0);
//! // Every contribution (rule, event, raw, after decay, after caps) adds up exactly.
//! assert_eq!(why.total(Dimension::Combined), model.score(&lead, &events, t0).combined);
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
//! - Realistic test data: [`synthetic::WorkloadConfig`].
//!
//! ## Features and dependencies
//!
//! No cargo features. Runtime dependencies: serde, thiserror, chrono (without
//! its clock) and indexmap.
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
//! - ids ([`LeadId`] and the others): at most [`MAX_ID_LEN`] bytes;
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
//!   shapes ([`IngestError::Full`](engine::IngestError::Full)), and at
//!   most 64 scoring rules matching one event
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
//! itself. Text fields (rule ids, names, descriptions, attribute values)
//! have no length limit of their own: bound what you accept at your
//! input's edge.
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
mod scores;
pub mod scoring;
mod span;
mod strict;
pub mod synthetic;
pub mod tuning;
mod value;

pub use engine::Engine;
pub use event::{AssetType, Event, EventKind, EventShape, EventType, PageCategory};
pub use id::{AccountId, CampaignId, EventId, IdError, LeadId, MAX_ID_LEN, ModelVersion, OwnerId};
pub use lead::{
    AttributeError, Channel, Company, JobFunction, Lead, Person, Seniority, SizeBand, Source,
    is_free_mail_domain, keys,
};
pub use lifecycle::{
    DefinitionError, LeadLifecycle, LifecycleDefinition, LifecycleStateMachine, Money, QualifiedBy, Reason,
    ReasonCode, Sla, SlaBreach, SlaKind, Stage, StageSet, Transition, TransitionError, TransitionKind,
    TransitionRecord,
};
pub use matcher::{EventMatcher, MatcherError, Predicate};
pub use points::{Points, PointsError};
pub use scores::{Dimension, EngagementLevel, Grade, GradeError, MatrixCell, Scores};
pub use scoring::{Explanation, ModelError, Rule, ScoringModel, ScoringModelBuilder};
pub use span::{Span, SpanError};
pub use value::{AttrRef, AttrValue, NonFiniteError};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
