//! The validated, immutable state machine.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};

use super::{
    DefinitionError, Edge, EdgeTrigger, LeadLifecycle, LifecycleDefinition, QualifiedBy, Transition,
    TransitionKind, TransitionRecord, TriggerKind,
};
use crate::criteria::{Condition, CriteriaRegistry, Criterion, LeadView, Outcome, Verdict};
use crate::id::ModelVersion;
use crate::lead::Lead;
use crate::scores::Scores;
use crate::stage::{Stage, StageSet};

/// The lifecycle rules, validated: which transitions are legal from each
/// stage, which fire automatically, and the SLAs. Immutable and shared by all
/// leads; each lead's own state is a [`LeadLifecycle`].
///
/// - [`apply`](Self::apply) takes a command (sales accepts, rejects, wins...);
///   an illegal one returns a [`TransitionError`] and changes nothing.
/// - [`advance`](Self::advance) fires the automatic edges whose criteria are
///   met, one after another (Lead → MAL → MQL in one call if both hold).
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::criteria::{Condition, LeadView};
/// use leadflow::lifecycle::{LifecycleDefinition, Transition};
/// use leadflow::{Dimension, Lead, LeadId, OwnerId, Points, Scores, Stage};
///
/// let machine = LifecycleDefinition::standard_b2b(
///     Condition::score_at_least(Dimension::Combined, 60)).build()?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
/// lead.person.set_email("ada@acme.io");
/// let mut life = machine.start(&lead);
///
/// // Scores reach 75: the lead qualifies (MAL needs a form fill, so it stays a Lead here).
/// let scores = Scores { combined: Points::new(75), ..Scores::default() };
/// let view = LeadView::new(&lead).with_scores(&scores);
/// assert!(machine.advance(&mut life, &view, t0).is_empty());
///
/// // A sales rep cannot accept a lead that is not an MQL: refused, nothing changes.
/// let accept = Transition::Accept { owner: OwnerId::new("rep-jane")? };
/// assert!(machine.apply(&mut life, accept, &view, t0 + Duration::hours(1)).is_err());
/// assert_eq!(life.stage(), Stage::Lead);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LifecycleStateMachine {
    definition: LifecycleDefinition,
    /// `table[stage][kind]` = index into `definition.edges`.
    table: [[Option<u16>; TransitionKind::ALL.len()]; Stage::ALL.len()],
    /// The stages with an automatic edge whose criterion reads scores.
    scored: StageSet,
    /// Per stage, its automatic edges (indices into the definition's), in
    /// definition order.
    automatic: Vec<Vec<u16>>,
}

/// Why a transition was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// No edge of this kind leaves the current stage.
    #[error("cannot {transition} a lead in stage {from}: allowed from {from} are {allowed}")]
    NotAllowed {
        /// The current stage.
        from: Stage,
        /// The refused transition.
        transition: TransitionKind,
        /// What is allowed from there (comma-separated).
        allowed: String,
    },
    /// The edge's guard was not met.
    #[error("cannot {transition} a lead in stage {from}: the guard is {}: {}", verdict.outcome, verdict.description)]
    GuardNotMet {
        /// The current stage.
        from: Stage,
        /// The refused transition.
        transition: TransitionKind,
        /// Why the guard did not hold.
        verdict: Verdict,
    },
    /// The transition is dated before the lead's last recorded transition.
    #[error(
        "cannot {transition} at {at}: the lead's last transition was at {last}; transitions must be applied in time order"
    )]
    OutOfOrder {
        /// The refused transition.
        transition: TransitionKind,
        /// Its time.
        at: DateTime<Utc>,
        /// The last recorded transition's time.
        last: DateTime<Utc>,
    },
    /// A record being replayed does not match the lifecycle.
    #[error("record {index} goes from {recorded} but the lead is in {actual}")]
    ReplayMismatch {
        /// The record's index.
        index: usize,
        /// The stage the record says.
        recorded: Stage,
        /// The stage the replay is in.
        actual: Stage,
    },
}

impl LifecycleDefinition {
    /// Validates the definition into a state machine.
    ///
    /// # Errors
    ///
    /// [`DefinitionError`] naming the offending edge or SLA: duplicates,
    /// backward edges on the main path, non-automatable automatic edges,
    /// unreachable stages, invalid or unbound criteria.
    pub fn build(self) -> Result<LifecycleStateMachine, DefinitionError> {
        self.validate()?;
        let mut table = [[None; TransitionKind::ALL.len()]; Stage::ALL.len()];
        for (i, e) in self.edges.iter().enumerate() {
            if let Some(slot) = table
                .get_mut(e.from.index())
                .and_then(|row| row.get_mut(e.transition.index()))
            {
                *slot = u16::try_from(i).ok();
            }
        }
        let mut scored = StageSet::EMPTY;
        for e in &self.edges {
            if let EdgeTrigger::Automatic { criterion, .. } = &e.trigger {
                if criterion.reads_scores() {
                    scored.insert(e.from);
                }
            }
        }
        let mut automatic = vec![Vec::new(); Stage::ALL.len()];
        for (i, e) in self.edges.iter().enumerate() {
            if let (EdgeTrigger::Automatic { .. }, Some(list), Ok(i)) =
                (&e.trigger, automatic.get_mut(e.from.index()), u16::try_from(i))
            {
                list.push(i);
            }
        }
        Ok(LifecycleStateMachine {
            definition: self,
            table,
            scored,
            automatic,
        })
    }

    /// Binds custom criteria from `registry`, then validates.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), plus an unbound-criterion error when a
    /// custom criterion is not in the registry.
    pub fn build_with(
        mut self,
        registry: &CriteriaRegistry,
    ) -> Result<LifecycleStateMachine, DefinitionError> {
        for (index, e) in self.edges.iter_mut().enumerate() {
            let condition = match &mut e.trigger {
                EdgeTrigger::Automatic { criterion, .. } => Some(criterion),
                EdgeTrigger::Command { guard } => guard.as_mut(),
            };
            if let Some(c) = condition {
                c.bind(registry).map_err(|source| DefinitionError::Criteria {
                    index,
                    from: e.from,
                    transition: e.transition,
                    source,
                })?;
            }
        }
        self.build()
    }
}

impl LifecycleStateMachine {
    /// The definition it was built from.
    pub fn definition(&self) -> &LifecycleDefinition {
        &self.definition
    }

    /// The edge of `kind` leaving `from`, if allowed.
    pub fn edge(&self, from: Stage, kind: TransitionKind) -> Option<&Edge> {
        let i = (*self.table.get(from.index())?.get(kind.index())?)?;
        self.definition.edges.get(usize::from(i))
    }

    /// True when a transition of `kind` may leave `from`.
    pub fn allows(&self, from: Stage, kind: TransitionKind) -> bool {
        self.edge(from, kind).is_some()
    }

    /// The kinds allowed from a stage, in declaration order.
    pub fn allowed_from(&self, from: Stage) -> Vec<TransitionKind> {
        TransitionKind::ALL
            .into_iter()
            .filter(|k| self.allows(from, *k))
            .collect()
    }

    /// The stages reachable in one step from `from`.
    pub fn next_stages(&self, from: Stage) -> StageSet {
        self.allowed_from(from)
            .into_iter()
            .map(TransitionKind::target)
            .collect()
    }

    /// Where a lead starts: `sales_initial` for sales-generated leads when
    /// set, else `initial`.
    pub fn initial_stage(&self, lead: &Lead) -> Stage {
        match self.definition.sales_initial {
            Some(s) if lead.source.is_sales_generated() => s,
            _ => self.definition.initial,
        }
    }

    /// A new lifecycle for a lead, in its initial stage since its creation.
    pub fn start(&self, lead: &Lead) -> LeadLifecycle {
        LeadLifecycle::new(lead.id.clone(), self.initial_stage(lead), lead.created_at)
    }

    /// The target of `kind` from `from`, or why it is not allowed. Checks the
    /// edge only (no guard, no time).
    ///
    /// # Errors
    ///
    /// [`TransitionError::NotAllowed`] listing what is allowed.
    pub fn check(&self, from: Stage, kind: TransitionKind) -> Result<Stage, TransitionError> {
        match self.edge(from, kind) {
            Some(e) => Ok(e.to()),
            None => Err(self.not_allowed(from, kind)),
        }
    }

    fn not_allowed(&self, from: Stage, transition: TransitionKind) -> TransitionError {
        let allowed: Vec<&str> = self
            .allowed_from(from)
            .into_iter()
            .map(TransitionKind::as_str)
            .collect();
        TransitionError::NotAllowed {
            from,
            transition,
            allowed: if allowed.is_empty() {
                "nothing (a terminal stage)".to_owned()
            } else {
                allowed.join(", ")
            },
        }
    }

    /// Applies a command at time `at`. The edge must exist from the lead's
    /// stage, its guard (if any) must be met (evaluated on `view`, with the
    /// lead's checklist plus the evidence the transition carries), and `at`
    /// must not precede the lead's last transition. The record is stamped
    /// with the model version of `view.scores`, if any.
    ///
    /// # Errors
    ///
    /// [`TransitionError`]; the lifecycle is then unchanged.
    pub fn apply<'l>(
        &self,
        life: &'l mut LeadLifecycle,
        transition: Transition,
        view: &LeadView<'_>,
        at: DateTime<Utc>,
    ) -> Result<&'l TransitionRecord, TransitionError> {
        let from = life.stage();
        let kind = transition.kind();
        let edge = self
            .edge(from, kind)
            .ok_or_else(|| self.not_allowed(from, kind))?;
        if let Some(last) = life.last_transition_at() {
            if at < last {
                return Err(TransitionError::OutOfOrder {
                    transition: kind,
                    at,
                    last,
                });
            }
        }
        if let EdgeTrigger::Command { guard: Some(guard) } = &edge.trigger {
            let mut checklist = life.checklist().clone();
            if let Some(evidence) = transition.evidence() {
                checklist.merge(evidence);
            }
            let guarded_view = LeadView {
                checklist: Some(&checklist),
                stage: Some(from),
                ..*view
            };
            if guard.outcome(&guarded_view, at) != Outcome::Met {
                return Err(TransitionError::GuardNotMet {
                    from,
                    transition: kind,
                    verdict: guard.evaluate(&guarded_view, at),
                });
            }
        }
        let record = TransitionRecord {
            lead: life.lead().clone(),
            from,
            to: edge.to(),
            transition,
            at,
            trigger: TriggerKind::Command,
            model_version: view.scores.and_then(|s| s.model_version.clone()),
        };
        Ok(life.push(record))
    }

    /// Fires automatic edges while their criteria are met at `now`, starting
    /// from the lead's stage; each step is recorded. At most one transition
    /// per stage per call, so a cycle of automatic edges cannot loop. Returns
    /// the new records (empty when nothing fired). Does nothing when `now`
    /// precedes the lead's last transition.
    pub fn advance<'l>(
        &self,
        life: &'l mut LeadLifecycle,
        view: &LeadView<'_>,
        now: DateTime<Utc>,
    ) -> &'l [TransitionRecord] {
        let version = view.scores.and_then(|s| s.model_version.as_ref());
        self.advance_with(life, view, now, version, |_| Some(view.scores))
    }

    /// [`advance`](Self::advance) for a `view` without scores, where the
    /// caller may know that nothing can fire from some stages: the edges
    /// from a stage are tried only when `may_fire` says something can, and
    /// see `scores()` only when one of them reads scores. So a lead whose
    /// edges fire (or not) without scores is never scored. `scores` is
    /// called once at most (at `now`), and the records carry `version`.
    pub(crate) fn advance_scoring_lazily<'l>(
        &self,
        life: &'l mut LeadLifecycle,
        view: &LeadView<'_>,
        now: DateTime<Utc>,
        version: &ModelVersion,
        may_fire: impl Fn(Stage) -> bool,
        scores: impl Fn() -> Scores,
    ) -> &'l [TransitionRecord] {
        let cell = OnceCell::new();
        self.advance_with(life, view, now, Some(version), |stage| {
            let reads = self.scored.contains(stage);
            may_fire(stage).then(|| reads.then(|| cell.get_or_init(&scores)))
        })
    }

    /// [`advance`](Self::advance), with the scores the edges from each stage
    /// see given by `scores_for` (`None`: nothing can fire from the stage,
    /// so its edges are not tried).
    fn advance_with<'l, 's>(
        &self,
        life: &'l mut LeadLifecycle,
        view: &LeadView<'s>,
        now: DateTime<Utc>,
        version: Option<&ModelVersion>,
        mut scores_for: impl FnMut(Stage) -> Option<Option<&'s Scores>>,
    ) -> &'l [TransitionRecord] {
        let start = life.history().len();
        if life.last_transition_at().is_some_and(|last| now < last) {
            return &[];
        }
        let mut visited = StageSet::EMPTY;
        loop {
            let stage = life.stage();
            if visited.contains(stage) {
                break;
            }
            let Some(scores) = scores_for(stage) else {
                break;
            };
            let view = LeadView { scores, ..*view };
            let Some((edge, verdict)) = self.first_met(stage, &view, now) else {
                break;
            };
            visited.insert(stage);
            let transition = match &edge.trigger {
                EdgeTrigger::Automatic { name, reason, .. } => {
                    let by = QualifiedBy::Criterion {
                        name: name.clone(),
                        verdict,
                    };
                    match (edge.transition, reason) {
                        (TransitionKind::MarketingAccept, _) => Transition::MarketingAccept { by },
                        (TransitionKind::Qualify, _) => Transition::Qualify { by },
                        (TransitionKind::FlagForExpansion, _) => Transition::FlagForExpansion { by },
                        (TransitionKind::Disqualify, Some(reason)) => Transition::Disqualify {
                            by: None,
                            reason: reason.clone(),
                        },
                        // Validation makes every other combination impossible.
                        _ => break,
                    }
                }
                EdgeTrigger::Command { .. } => break,
            };
            let record = TransitionRecord {
                lead: life.lead().clone(),
                from: life.stage(),
                to: edge.to(),
                transition,
                at: now,
                trigger: TriggerKind::Automatic,
                model_version: version.cloned(),
            };
            life.push(record);
        }
        life.history().get(start..).unwrap_or(&[])
    }

    /// The first automatic edge from `stage` whose criterion is met, with its
    /// verdict.
    fn first_met(&self, stage: Stage, view: &LeadView<'_>, now: DateTime<Utc>) -> Option<(&Edge, Verdict)> {
        let view = LeadView {
            stage: Some(stage),
            ..*view
        };
        self.automatic_from(stage)
            .find(|(_, criterion)| criterion.outcome(&view, now) == Outcome::Met)
            .map(|(e, criterion)| (e, criterion.evaluate(&view, now)))
    }

    /// The automatic edges from `stage` with their criteria, in definition
    /// order.
    pub(crate) fn automatic_from(&self, stage: Stage) -> impl Iterator<Item = (&Edge, &Condition)> {
        self.automatic
            .get(stage.index())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|&i| {
                let e = self.definition.edges.get(usize::from(i))?;
                match &e.trigger {
                    EdgeTrigger::Automatic { criterion, .. } => Some((e, criterion)),
                    EdgeTrigger::Command { .. } => None,
                }
            })
    }

    /// The automatic edges with their criteria, in definition order.
    pub(crate) fn automatic_edges(&self) -> impl Iterator<Item = (&Edge, &Condition)> {
        self.definition.edges.iter().filter_map(|e| match &e.trigger {
            EdgeTrigger::Automatic { criterion, .. } => Some((e, criterion)),
            EdgeTrigger::Command { .. } => None,
        })
    }

    /// Rebuilds a lifecycle from its records, checking each is a legal edge
    /// in time order (criteria and guards are not re-evaluated: the records
    /// carry their verdicts and evidence).
    ///
    /// # Errors
    ///
    /// [`TransitionError`] at the first record that does not fit.
    pub fn replay<'r>(
        &self,
        lead: &Lead,
        records: impl IntoIterator<Item = &'r TransitionRecord>,
    ) -> Result<LeadLifecycle, TransitionError> {
        let mut life = self.start(lead);
        for (index, r) in records.into_iter().enumerate() {
            if r.from != life.stage() {
                return Err(TransitionError::ReplayMismatch {
                    index,
                    recorded: r.from,
                    actual: life.stage(),
                });
            }
            self.check(r.from, r.transition.kind())?;
            if let Some(last) = life.last_transition_at() {
                if r.at < last {
                    return Err(TransitionError::OutOfOrder {
                        transition: r.transition.kind(),
                        at: r.at,
                        last,
                    });
                }
            }
            life.push(r.clone());
        }
        Ok(life)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::synthetic::lifecycle;
    use crate::{AssetType, Event, EventId, EventKind, LeadId};

    /// Advances a new lead with `kind` on record, lazily and with the
    /// scores given up front: the records of each (which must agree) and
    /// how often the lazy advance scored the lead.
    fn both_ways(kind: EventKind, may_fire: impl Fn(Stage) -> bool) -> (Vec<(Stage, Stage)>, usize) {
        let machine = lifecycle().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let mut lead = Lead::new(LeadId::new("l1").unwrap(), t);
        lead.person.set_email("ada@acme.io");
        let events = [Event::new(EventId::new("e1").unwrap(), lead.id.clone(), t, kind)];
        let version = ModelVersion::new("m@1").unwrap();
        let scores = Scores {
            model_version: Some(version.clone()),
            ..Scores::default()
        };
        let view = LeadView::new(&lead).with_events(&events);

        let calls = Cell::new(0);
        let mut lazy = machine.start(&lead);
        let fired = machine.advance_scoring_lazily(&mut lazy, &view, t, &version, &may_fire, || {
            calls.set(calls.get() + 1);
            scores.clone()
        });
        let steps = fired.iter().map(|r| (r.from, r.to)).collect();
        assert!(fired.iter().all(|r| r.model_version.as_ref() == Some(&version)));
        if Stage::ALL.into_iter().all(&may_fire) {
            let mut eager = machine.start(&lead);
            machine.advance(&mut eager, &view.with_scores(&scores), t);
            assert_eq!(eager, lazy);
        }
        (steps, calls.get())
    }

    #[test]
    fn a_lead_is_scored_only_for_a_stage_whose_edges_read_scores() {
        // Lead -> MAL reads no scores; MAL -> MQL does (score or pricing
        // sheet), and is tried once with them.
        let form = EventKind::FormSubmit { form: None };
        assert_eq!(
            both_ways(form.clone(), |_| true),
            (vec![(Stage::Lead, Stage::Mal)], 1)
        );
        let pricing = EventKind::ContentDownload {
            asset: AssetType::PricingSheet,
            asset_id: None,
        };
        let chain = vec![(Stage::Lead, Stage::Mal), (Stage::Mal, Stage::Mql)];
        assert_eq!(both_ways(pricing.clone(), |_| true), (chain, 1));
        // A stage the caller knows nothing can fire from is not tried, and
        // the lead is not scored for it.
        let not_mal = |s: Stage| s != Stage::Mal;
        assert_eq!(both_ways(pricing, not_mal), (vec![(Stage::Lead, Stage::Mal)], 0));
        assert_eq!(both_ways(form, |s| s != Stage::Lead), (vec![], 0));
    }
}
