//! Replacing the scoring model: every lead rescored from its history.

use chrono::{DateTime, Utc};

use super::Engine;
use super::error::EngineError;
use super::gate::bounded;
use super::keys::{KeyedEvent, ShapeKey};
use super::line::{cache_fit, entry_rules};
use super::log::Grouped;
use super::output::{ModelChange, Output};
use super::plan::{DUE, LAST, META, Plan, STAGE_BITS, TOUCH};
use super::recent::{Entry, Recent, Slot};
use super::shapes::ShapeError;
use super::view::{LeadEvents, Source, scores};
use crate::criteria::{Criterion, Events, LeadView, Outcome};
use crate::scoring::ScoringModel;
use crate::stage::Stage;

impl Engine {
    /// Replaces the scoring model and rescores every lead from the
    /// engine's history, returning which leads newly qualify and which no
    /// longer would at `now` (an automatic edge into MQL holding, from any
    /// stage, under each model). With `fire` the automatic edges are then
    /// evaluated at `now` under the new model and what fires is returned;
    /// without it no transition happens. History is not rewritten, but
    /// later re-evaluations (late events, commands in the past) use the new
    /// model. `now` should be at or after every lead's latest event.
    ///
    /// # Errors
    ///
    /// [`EngineError::NoHistory`] when the history is off (use
    /// [`swap_model_with_history`](Self::swap_model_with_history));
    /// [`EngineError::ShapeTooBroad`] when an event shape on record matches
    /// more than 64 rules of the new model;
    /// [`EngineError::LatenessTooLong`] when the allowed lateness reaches
    /// too far back for the new model (as in [`Engine::new`]). Nothing
    /// changes then.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::engine::EngineConfig;
    /// use leadflow::scoring::Rule;
    /// use leadflow::synthetic::lifecycle;
    /// use leadflow::{
    ///     Engine, Event, EventId, EventKind, EventType, Lead, LeadId, Points, ScoringModel,
    /// };
    ///
    /// let mut engine = Engine::new(ScoringModel::b2b_default()?, lifecycle()?, EngineConfig::default())?;
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// let mut lead = Lead::new(LeadId::new("l1")?, t0);
    /// lead.person.set_email("ada@acme.io");
    /// engine.upsert_lead(lead, t0)?;
    /// engine.ingest([Event::new(EventId::new("e1")?, LeadId::new("l1")?, t0, EventKind::DemoRequest)], t0);
    ///
    /// // A model that values demo requests at 70: the lead now qualifies.
    /// let generous = ScoringModel::builder("generous@1".parse()?)
    ///     .rule(Rule::event("demo".parse()?, EventType::DemoRequest, 70))
    ///     .build()?;
    /// let change = engine.swap_model(generous, t0, false)?;
    /// assert_eq!(change.newly_qualified, [LeadId::new("l1")?]);
    /// assert_eq!(engine.scores_at(&LeadId::new("l1")?, t0)?.engagement, Points::new(70));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn swap_model(
        &mut self,
        model: ScoringModel,
        now: DateTime<Utc>,
        fire: bool,
    ) -> Result<ModelChange, EngineError> {
        let log = self.log.as_ref().ok_or(EngineError::NoHistory {
            operation: "swap_model",
        })?;
        let grouped = log.grouped(self.cold.len());
        self.swap(model, &grouped, now, fire)
    }

    /// [`swap_model`](Self::swap_model) for an engine whose history is off:
    /// `history` holds every event the engine accepted, in any order (as the
    /// host stored them, keyed as it ingested them).
    ///
    /// # Errors
    ///
    /// [`EngineError::UnknownHistoryLead`] for an event of a lead the engine
    /// does not hold, and those of [`swap_model`](Self::swap_model).
    pub fn swap_model_with_history(
        &mut self,
        model: ScoringModel,
        history: &[KeyedEvent],
        now: DateTime<Utc>,
        fire: bool,
    ) -> Result<ModelChange, EngineError> {
        let mut log = super::log::Log::default();
        for e in history {
            if e.lead.index() >= self.cold.len() {
                return Err(EngineError::UnknownHistoryLead { key: e.lead });
            }
            if let Some(t) = super::apply::nanos(e.at) {
                log.push(e.lead.0, t, e.shape.0);
            }
        }
        let grouped = log.grouped(self.cold.len());
        self.swap(model, &grouped, now, fire)
    }

    fn swap(
        &mut self,
        model: ScoringModel,
        history: &Grouped,
        now: DateTime<Utc>,
        fire: bool,
    ) -> Result<ModelChange, EngineError> {
        let plan = Plan::new(&model, &self.machine, self.config.allowed_lateness)?;
        let shapes = self
            .shapes
            .recompiled(&model, &plan.signals)
            .map_err(|e| match e {
                ShapeError::TooManyRules(rules) => EngineError::ShapeTooBroad { rules },
                ShapeError::Full => EngineError::ShapeTooBroad { rules: 0 },
            })?;
        let before: Vec<Option<bool>> = (0..self.cold.len()).map(|i| self.qualifies(i, now)).collect();
        let keep_from = self.keep_from();
        // A model whose windows reach further back needs the events from
        // there on as recent entries again: they come from the history
        // (without their ids, which only events within the allowed
        // lateness, so after `keep_from`, are checked against), and every
        // lead's entries are written anew, oldest first.
        let reach_from = self.keep_from_under(&plan).min(keep_from);
        let mut rebuilt = (reach_from < keep_from).then(|| Recent::new(self.config.lateness_nanos()));
        let w = plan.width;
        let mut lines = Vec::with_capacity(self.cold.len() * w);
        let mut masks: Vec<(u64, Slot, u64)> = Vec::new();
        for i in 0..self.cold.len() {
            let old = self.line(i);
            let mut line = plan.empty_line(0);
            for word in [LAST, META, DUE, TOUCH] {
                if let (Some(d), Some(s)) = (line.get_mut(word), old.get(word)) {
                    *d = *s;
                }
            }
            // The settled events from the history, then the recent ones
            // (which hold their keys) in canonical order.
            let fp = |s: u32| shapes.get(ShapeKey(s)).map_or(0, |x| x.fingerprint);
            let mut settled: Vec<(i64, u32)> = history
                .of(i)
                .iter()
                .copied()
                .filter(|(at, _)| *at < keep_from)
                .collect();
            settled.sort_by_key(|&(at, s)| (at, fp(s)));
            let by_order = |e: &Entry| (e.at, fp(e.shape), e.key);
            let meta = old.get(META).copied().unwrap_or(0);
            let (before, recent) = self.recent.split(meta, keep_from, (i64::MIN, 0, 0), &by_order);
            debug_assert!(before.is_empty());
            if let Some(rebuilt) = rebuilt.as_mut() {
                // The stage the line mirrors stays; where entries are is new.
                let mut meta = old.get(META).map_or(0, |m| m & STAGE_BITS);
                // Entries from the history have no ids: a number each keeps
                // copies of one shape at one time apart, in a stable order.
                let entries = (1u64..).zip(settled).map(|(n, (at, s))| Entry::new(at, n, s));
                for mut e in entries.chain(recent.into_iter().map(|(_, e)| e)) {
                    e.counted = entry_rules(&model, &plan, &shapes, &mut line, &e, 1);
                    if e.at >= reach_from {
                        meta = rebuilt.add(meta, e, reach_from, &by_order);
                    }
                }
                if let Some(m) = line.get_mut(META) {
                    *m = meta;
                }
            } else {
                for (at, s) in settled {
                    entry_rules(&model, &plan, &shapes, &mut line, &Entry::new(at, 0, s), 1);
                }
                for (slot, e) in recent {
                    masks.push((meta, slot, entry_rules(&model, &plan, &shapes, &mut line, &e, 1)));
                }
            }
            // The fit of the lead's current attributes under the new model.
            if let Some(cold) = self.cold.get(i) {
                if let Some(lead) = cold.current() {
                    cache_fit(&model, &plan, &mut line, &lead, cold.attributes_from());
                }
            }
            lines.extend(line);
        }
        let old_model = std::mem::replace(&mut self.model, model);
        self.setup = super::snapshot::setup(&self.model, &self.machine, &self.config);
        let mut change = ModelChange {
            from: old_model.version().clone(),
            to: self.model.version().clone(),
            rescored: self.cold.len(),
            newly_qualified: Vec::new(),
            no_longer_qualified: Vec::new(),
            outputs: Vec::new(),
        };
        self.plan = plan;
        self.shapes = shapes;
        self.lines = lines;
        if let Some(rebuilt) = rebuilt {
            self.recent = rebuilt;
        }
        for (meta, slot, counted) in masks {
            self.recent.set_counted(meta, slot, counted);
        }
        for (i, was) in before.into_iter().enumerate() {
            let is = self.qualifies(i, now);
            let (Some(was), Some(is)) = (was, is) else {
                continue;
            };
            let Some(id) = self.cold.get(i).map(|c| c.life.lead().clone()) else {
                continue;
            };
            match (was, is) {
                (false, true) => change.newly_qualified.push(id),
                (true, false) => change.no_longer_qualified.push(id),
                _ => {}
            }
        }
        if fire {
            let mut outputs: Vec<Output> = Vec::new();
            for i in 0..self.cold.len() {
                self.evaluate_in_order(i, now, &mut outputs);
            }
            change.outputs = outputs;
        }
        Ok(change)
    }

    /// True when an automatic edge into MQL holds for lead `i` at `now`
    /// under the engine's model; `None` when the lifecycle has none.
    fn qualifies(&self, i: usize, now: DateTime<Utc>) -> Option<bool> {
        let line = self.line(i);
        // A built-in criterion is decided from the line when it can be (its
        // counts, its exact or bounded scores); the rest are evaluated on
        // the lead.
        let mut open = Vec::new();
        for (e, criterion) in self
            .machine
            .automatic_edges()
            .filter(|(e, _)| e.to() == Stage::Mql)
        {
            let outcome = if criterion.is_builtin() {
                bounded(&self.model, &self.plan, line, now, criterion)
            } else {
                Outcome::Unknown
            };
            match outcome {
                Outcome::Met => return Some(true),
                Outcome::NotMet => {}
                Outcome::Unknown => open.push((e.from, criterion)),
            }
        }
        if open.is_empty() {
            // No edge into MQL, or none that holds.
            return self
                .machine
                .automatic_edges()
                .any(|(e, _)| e.to() == Stage::Mql)
                .then_some(false);
        }
        let cold = self.cold.get(i)?;
        let lead = cold.lead_at(now)?;
        let source = Source::Kept {
            recent: &self.recent,
            meta: line.get(META).copied().unwrap_or(0),
            from: self.keep_from(),
        };
        let events = LeadEvents::new(source, &self.shapes, &self.plan, line);
        let view = LeadView {
            lead: &lead,
            events: Events::kept(&events),
            scores: None,
            checklist: Some(cold.life.checklist()),
            stage: None,
        };
        // A built-in criterion decided without scores is decided the same
        // under any model.
        let mut undecided = Vec::new();
        for (from, criterion) in open {
            let outcome = if criterion.is_builtin() {
                criterion.outcome(
                    &LeadView {
                        stage: Some(from),
                        ..view
                    },
                    now,
                )
            } else {
                Outcome::Unknown
            };
            match outcome {
                Outcome::Met => return Some(true),
                Outcome::NotMet => {}
                Outcome::Unknown => undecided.push((from, criterion)),
            }
        }
        if undecided.is_empty() {
            return Some(false);
        }
        let s = scores(&self.model, &self.plan, &self.shapes, line, &lead, source, now);
        Some(undecided.into_iter().any(|(from, c)| {
            c.outcome(
                &LeadView {
                    scores: Some(&s),
                    stage: Some(from),
                    ..view
                },
                now,
            ) == Outcome::Met
        }))
    }
}
