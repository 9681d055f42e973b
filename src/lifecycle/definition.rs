//! Lifecycle definitions: which stages and edges a company uses. Data.

use serde::{Deserialize, Serialize};

use super::{Reason, Sla, TransitionKind, TriggerKind};
use crate::criteria::{Condition, CriteriaError, Framework};
use crate::event::EventType;
use crate::matcher::{EventMatcher, Predicate};
use crate::span::Span;
use crate::stage::{Stage, StageSet};

/// Which stages a company uses, which transitions are allowed from where,
/// which fire automatically and which are commands, and the SLAs. Plain data:
/// it round-trips through serde, and [`LifecycleDefinition::build`] validates
/// it into a [`LifecycleStateMachine`](crate::LifecycleStateMachine).
///
/// Start from [`LifecycleDefinition::standard_b2b`] or build your own.
///
/// # Example
///
/// ```
/// use leadflow::criteria::Condition;
/// use leadflow::lifecycle::{LifecycleDefinition, TransitionKind};
/// use leadflow::{Dimension, Stage};
///
/// // A small company: leads go straight to MQL, then to sales.
/// let machine = LifecycleDefinition::new(Stage::Lead)
///     .automatic(Stage::Lead, TransitionKind::Qualify, "mql",
///                Condition::score_at_least(Dimension::Combined, 50))
///     .command(Stage::Mql, TransitionKind::QualifyForSales)
///     .command(Stage::Sql, TransitionKind::Win)
///     .build()?;
/// assert!(machine.allows(Stage::Mql, TransitionKind::QualifyForSales));
/// assert!(!machine.allows(Stage::Mql, TransitionKind::Accept));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleDefinition {
    /// Where marketing-generated leads start.
    pub initial: Stage,
    /// Where sales-generated leads start (usually SGL); `initial` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_initial: Option<Stage>,
    /// The allowed edges. For each stage, automatic edges are tried in this
    /// order.
    pub edges: Vec<Edge>,
    /// Service-level agreements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slas: Vec<Sla>,
}

/// An allowed transition from a stage. The target stage is the kind's
/// [`target`](TransitionKind::target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The stage it leaves.
    pub from: Stage,
    /// The kind of transition.
    pub transition: TransitionKind,
    /// Whether it fires by itself or on a command.
    #[serde(default)]
    pub trigger: EdgeTrigger,
}

impl Edge {
    /// The stage it enters.
    pub fn to(&self) -> Stage {
        self.transition.target()
    }
}

/// How an edge is taken.
///
/// Serialized internally tagged: `{"type": "command", "guard": {...}}`,
/// `{"type": "automatic", "name": "mql", "criterion": {...}}`. Reading one
/// refuses a field its type does not take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "TriggerData")]
#[non_exhaustive]
pub enum EdgeTrigger {
    /// A command from the host (a sales rep accepts, rejects...). An optional
    /// guard must be met for the command to be applied; for
    /// qualify-for-sales, the guard sees the checklist evidence the command
    /// carries.
    Command {
        /// A condition that must be met, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guard: Option<Condition>,
    },
    /// Fires by itself when the criterion is met. Hosts may still take the
    /// edge by command (a manual override).
    Automatic {
        /// A name for the criterion, recorded with every transition it fires.
        name: String,
        /// The criterion.
        criterion: Condition,
        /// For automatic disqualification: the reason recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
}

impl Default for EdgeTrigger {
    fn default() -> EdgeTrigger {
        EdgeTrigger::Command { guard: None }
    }
}

/// A [`EdgeTrigger`] as read: one map for both types, so that its conditions are
/// read as they come (a derived tagged enum would buffer the whole trigger,
/// however deep its condition, before reading it), then checked against its
/// type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerData {
    #[serde(rename = "type")]
    kind: TriggerKind,
    #[serde(default)]
    guard: Option<Condition>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    criterion: Option<Condition>,
    #[serde(default)]
    reason: Option<Reason>,
}

impl TryFrom<TriggerData> for EdgeTrigger {
    type Error = String;

    /// The trigger, or serde's message for a missing field or one its type
    /// does not take.
    fn try_from(d: TriggerData) -> Result<EdgeTrigger, String> {
        let unknown = |field: &str, expected: &str| format!("unknown field `{field}`, expected {expected}");
        match d.kind {
            TriggerKind::Command => {
                let set = [
                    ("name", d.name.is_some()),
                    ("criterion", d.criterion.is_some()),
                    ("reason", d.reason.is_some()),
                ];
                match set.into_iter().find_map(|(field, set)| set.then_some(field)) {
                    Some(field) => Err(unknown(field, "`guard`")),
                    None => Ok(EdgeTrigger::Command { guard: d.guard }),
                }
            }
            TriggerKind::Automatic => {
                if d.guard.is_some() {
                    return Err(unknown("guard", "one of `name`, `criterion`, `reason`"));
                }
                Ok(EdgeTrigger::Automatic {
                    name: d.name.ok_or("missing field `name`")?,
                    criterion: d.criterion.ok_or("missing field `criterion`")?,
                    reason: d.reason,
                })
            }
        }
    }
}

/// Why a [`LifecycleDefinition`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// Two edges of the same kind leave the same stage.
    #[error("edges[{index}]: {transition} from {from} is defined twice: keep one")]
    DuplicateEdge {
        /// The index of the second edge.
        index: usize,
        /// The stage.
        from: Stage,
        /// The kind.
        transition: TransitionKind,
    },
    /// An edge goes backwards on the main path.
    #[error(
        "edges[{index}]: {transition} from {from} to {to} goes backwards: progression is forward-only; use reject, recycle or disqualify to leave the main path"
    )]
    Backward {
        /// The edge's index.
        index: usize,
        /// The stage it leaves.
        from: Stage,
        /// The stage it enters.
        to: Stage,
        /// The kind.
        transition: TransitionKind,
    },
    /// An edge that cannot be automatic is marked automatic.
    #[error(
        "edges[{index}]: {transition} cannot be automatic (it needs a person's payload): make it a command; automatic edges can be marketing_accept, qualify, flag_for_expansion or disqualify"
    )]
    NotAutomatable {
        /// The edge's index.
        index: usize,
        /// The kind.
        transition: TransitionKind,
    },
    /// An automatic disqualification without a reason.
    #[error("edges[{index}]: automatic disqualify from {from} needs a reason to record")]
    MissingReason {
        /// The edge's index.
        index: usize,
        /// The stage.
        from: Stage,
    },
    /// A stage that no path reaches.
    #[error(
        "stage {stage} is used by an edge or SLA but cannot be reached from {initial}: add an edge into it"
    )]
    Unreachable {
        /// The stage.
        stage: Stage,
        /// The initial stage(s).
        initial: StageSet,
    },
    /// A criterion or guard is invalid.
    #[error("edges[{index}] ({transition} from {from}): {source}")]
    Criteria {
        /// The edge's index.
        index: usize,
        /// The stage.
        from: Stage,
        /// The kind.
        transition: TransitionKind,
        /// The problem.
        source: CriteriaError,
    },
    /// Two SLAs of the same kind on one stage.
    #[error("slas[{index}]: a second {kind:?} SLA on {stage}: keep one")]
    DuplicateSla {
        /// The index of the second SLA.
        index: usize,
        /// The stage.
        stage: Stage,
        /// The SLA kind.
        kind: super::SlaKind,
    },
    /// An SLA of zero length.
    #[error("slas[{index}]: SLA on {stage} has a zero span: give a positive span like \"24h\"")]
    ZeroSla {
        /// The index.
        index: usize,
        /// The stage.
        stage: Stage,
    },
}

impl LifecycleDefinition {
    /// An empty definition starting at `initial`.
    pub fn new(initial: Stage) -> LifecycleDefinition {
        LifecycleDefinition {
            initial,
            sales_initial: None,
            edges: Vec::new(),
            slas: Vec::new(),
        }
    }

    /// Sets where sales-generated leads start.
    pub fn sales_initial(mut self, stage: Stage) -> LifecycleDefinition {
        self.sales_initial = Some(stage);
        self
    }

    /// Adds an edge, or replaces the trigger of the existing edge of the same
    /// kind from the same stage (keeping its position).
    pub fn edge(
        mut self,
        from: Stage,
        transition: TransitionKind,
        trigger: EdgeTrigger,
    ) -> LifecycleDefinition {
        match self
            .edges
            .iter_mut()
            .find(|e| e.from == from && e.transition == transition)
        {
            Some(e) => e.trigger = trigger,
            None => self.edges.push(Edge {
                from,
                transition,
                trigger,
            }),
        }
        self
    }

    /// Adds (or makes) a command edge.
    pub fn command(self, from: Stage, transition: TransitionKind) -> LifecycleDefinition {
        self.edge(from, transition, EdgeTrigger::Command { guard: None })
    }

    /// Adds (or makes) a command edge with a guard condition.
    pub fn guarded(self, from: Stage, transition: TransitionKind, guard: Condition) -> LifecycleDefinition {
        self.edge(from, transition, EdgeTrigger::Command { guard: Some(guard) })
    }

    /// Adds (or makes) an automatic edge.
    pub fn automatic(
        self,
        from: Stage,
        transition: TransitionKind,
        name: impl Into<String>,
        criterion: Condition,
    ) -> LifecycleDefinition {
        let trigger = EdgeTrigger::Automatic {
            name: name.into(),
            criterion,
            reason: None,
        };
        self.edge(from, transition, trigger)
    }

    /// Adds (or makes) an automatic disqualification with the reason it
    /// records.
    pub fn auto_disqualify(
        self,
        from: Stage,
        name: impl Into<String>,
        criterion: Condition,
        reason: Reason,
    ) -> LifecycleDefinition {
        let trigger = EdgeTrigger::Automatic {
            name: name.into(),
            criterion,
            reason: Some(reason),
        };
        self.edge(from, TransitionKind::Disqualify, trigger)
    }

    /// Replaces the trigger of every edge of `transition` kind (from any
    /// stage) with an automatic one: e.g. set the MQL criterion of the
    /// standard preset.
    pub fn set_automatic(
        mut self,
        transition: TransitionKind,
        name: &str,
        criterion: &Condition,
    ) -> LifecycleDefinition {
        for e in self.edges.iter_mut().filter(|e| e.transition == transition) {
            e.trigger = EdgeTrigger::Automatic {
                name: name.to_owned(),
                criterion: criterion.clone(),
                reason: None,
            };
        }
        self
    }

    /// Adds an SLA.
    pub fn sla(mut self, sla: Sla) -> LifecycleDefinition {
        self.slas.push(sla);
        self
    }

    /// The standard B2B waterfall from the domain, with `mql` as the MQL
    /// criterion:
    ///
    /// | from | transition | trigger |
    /// |---|---|---|
    /// | Lead | marketing_accept → MAL | automatic "identified": email domain known and a form, download, webinar registration, contact or demo request |
    /// | MAL, Nurture | qualify → MQL | automatic "mql": the given criterion |
    /// | MQL, SGL | accept → SAL | command |
    /// | MQL | reject → Nurture | command |
    /// | SAL, SGL | qualify_for_sales → SQL | command, guarded by BANT 3 of 4 |
    /// | SAL, SQL, Lost | recycle → Nurture | command |
    /// | SQL | convert → Opportunity | command |
    /// | Opportunity | win → Customer, lose → Lost | command |
    /// | SQL | win → Customer, lose → Lost | command |
    /// | Customer | flag_for_expansion → CSQL | command (make it automatic with [`set_automatic`](Self::set_automatic)) |
    /// | Lead, MAL, MQL, SGL, SAL, SQL, Nurture | disqualify → Disqualified | command |
    ///
    /// CSQL is the last stage: an expansion deal is the host's new
    /// opportunity, not a step back. Sales-generated leads start in SGL. SLAs: an MQL must leave the stage
    /// within 24 h; an SAL must get a first follow-up within 24 h.
    pub fn standard_b2b(mql: Condition) -> LifecycleDefinition {
        use Stage::*;
        use TransitionKind as K;
        let identified = Condition::all([
            Condition::attribute("email_domain", Predicate::Exists),
            Condition::any(
                [
                    EventType::FormSubmit,
                    EventType::ContentDownload,
                    EventType::WebinarRegister,
                    EventType::ContactRequest,
                    EventType::DemoRequest,
                ]
                .into_iter()
                .map(|t| Condition::did(EventMatcher::of(t))),
            ),
        ]);
        let mut def = LifecycleDefinition::new(Lead)
            .sales_initial(Sgl)
            .automatic(Lead, K::MarketingAccept, "identified", identified)
            .automatic(Mal, K::Qualify, "mql", mql.clone())
            .automatic(Nurture, K::Qualify, "mql", mql)
            .command(Mql, K::Accept)
            .command(Sgl, K::Accept)
            .command(Mql, K::Reject);
        let bant = Condition::checklist(Framework::Bant, 3);
        for from in [Sal, Sgl] {
            def = def.guarded(from, K::QualifyForSales, bant.clone());
        }
        for from in [Sal, Sql, Lost] {
            def = def.command(from, K::Recycle);
        }
        def = def
            .command(Sql, K::Convert)
            .command(Opportunity, K::Win)
            .command(Opportunity, K::Lose)
            .command(Sql, K::Win)
            .command(Sql, K::Lose)
            .command(Customer, K::FlagForExpansion);
        for from in [Lead, Mal, Mql, Sgl, Sal, Sql, Nurture] {
            def = def.command(from, K::Disqualify);
        }
        def.sla(Sla::exit_within(Mql, Span::hours(24)))
            .sla(Sla::first_follow_up_within(Sal, Span::hours(24)))
    }

    /// Every stage the definition mentions.
    pub fn stages(&self) -> StageSet {
        let mut s = StageSet::EMPTY;
        s.insert(self.initial);
        if let Some(i) = self.sales_initial {
            s.insert(i);
        }
        for e in &self.edges {
            s.insert(e.from);
            s.insert(e.to());
        }
        for sla in &self.slas {
            s.insert(sla.stage);
        }
        s
    }

    pub(crate) fn validate(&self) -> Result<(), DefinitionError> {
        let mut seen = [[false; TransitionKind::ALL.len()]; Stage::ALL.len()];
        for (index, e) in self.edges.iter().enumerate() {
            let slot = seen
                .get_mut(e.from.index())
                .and_then(|row| row.get_mut(e.transition.index()));
            if let Some(slot) = slot {
                if *slot {
                    return Err(DefinitionError::DuplicateEdge {
                        index,
                        from: e.from,
                        transition: e.transition,
                    });
                }
                *slot = true;
            }
            if let (Some(a), Some(b)) = (e.from.rank(), e.to().rank()) {
                if b <= a {
                    return Err(DefinitionError::Backward {
                        index,
                        from: e.from,
                        to: e.to(),
                        transition: e.transition,
                    });
                }
            }
            let criteria_error = |source| DefinitionError::Criteria {
                index,
                from: e.from,
                transition: e.transition,
                source,
            };
            match &e.trigger {
                EdgeTrigger::Command { guard } => {
                    if let Some(g) = guard {
                        g.validate().map_err(criteria_error)?;
                    }
                }
                EdgeTrigger::Automatic {
                    criterion, reason, ..
                } => {
                    if !e.transition.can_be_automatic() {
                        return Err(DefinitionError::NotAutomatable {
                            index,
                            transition: e.transition,
                        });
                    }
                    if e.transition == TransitionKind::Disqualify && reason.is_none() {
                        return Err(DefinitionError::MissingReason { index, from: e.from });
                    }
                    criterion.validate().map_err(criteria_error)?;
                }
            }
        }
        let mut sla_seen = Vec::new();
        for (index, sla) in self.slas.iter().enumerate() {
            if sla.within.is_zero() {
                return Err(DefinitionError::ZeroSla {
                    index,
                    stage: sla.stage,
                });
            }
            if sla_seen.contains(&(sla.stage, sla.kind)) {
                return Err(DefinitionError::DuplicateSla {
                    index,
                    stage: sla.stage,
                    kind: sla.kind,
                });
            }
            sla_seen.push((sla.stage, sla.kind));
        }
        self.check_reachable()
    }

    fn check_reachable(&self) -> Result<(), DefinitionError> {
        let mut initial = StageSet::EMPTY;
        initial.insert(self.initial);
        if let Some(s) = self.sales_initial {
            initial.insert(s);
        }
        let mut reached = initial;
        loop {
            let before = reached;
            for e in &self.edges {
                if reached.contains(e.from) {
                    reached.insert(e.to());
                }
            }
            if reached == before {
                break;
            }
        }
        match self.stages().iter().find(|s| !reached.contains(*s)) {
            Some(stage) => Err(DefinitionError::Unreachable { stage, initial }),
            None => Ok(()),
        }
    }
}
