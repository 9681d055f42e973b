//! One lead inside the funnel: its attribute versions, events, lifecycle and
//! last scores, and the re-evaluation of its timeline.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::timeline::{self, Conflict, Diff, Timeline, first_from_end};
use crate::criteria::LeadView;
use crate::event::{Event, EventKind};
use crate::lead::Lead;
use crate::lifecycle::{LeadLifecycle, LifecycleStateMachine, StageSet, Transition, TransitionRecord};
use crate::scores::Scores;
use crate::scoring::{ScoreState, ScoringModel};

/// A lead's state in the funnel. Equality compares what is serialized, not
/// the derived fields (which are rebuilt on restore).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LeadState {
    /// The lead as upserted, with the time of each upsert; never empty. The
    /// first version is dated at the lead's creation.
    pub(crate) versions: Vec<(DateTime<Utc>, Lead)>,
    /// The events, sorted by (time, id), unique ids.
    pub(crate) events: Vec<Event>,
    /// The lifecycle.
    pub(crate) life: LeadLifecycle,
    /// The scores at the last time the lead was touched, computed when
    /// first read.
    pub(crate) scores: LazyScores,
    /// The events' hits under the funnel's model (derived from `events`;
    /// rebuilt on restore and on a model swap).
    #[serde(skip)]
    pub(crate) hits: ScoreState,
    /// How many of `events` are attribute changes (derived; rebuilt on
    /// restore): with none, the lead at any time is a stored version.
    #[serde(skip)]
    pub(crate) attr_changes: u32,
    /// Rules (the first 64) whose count limit is full in `hits`: an event
    /// appended after every other cannot add a hit that counts for them.
    #[serde(skip)]
    pub(crate) full: u64,
}

impl PartialEq for LeadState {
    fn eq(&self, other: &LeadState) -> bool {
        (&self.versions, &self.events, &self.life, &self.scores)
            == (&other.versions, &other.events, &other.life, &other.scores)
    }
}

/// A lead's scores at a time, computed on first read (most touches are
/// never read: computing them at every touch would cost a pass over the
/// lead's hits per ingest call). Serializes as the [`Scores`]: force it with
/// [`LeadState::scores`] first.
#[derive(Debug, Clone, Default)]
pub(crate) struct LazyScores {
    /// When they are due, if not computed yet.
    at: Option<DateTime<Utc>>,
    cell: OnceLock<Scores>,
}

impl LazyScores {
    /// Scores already computed.
    pub(crate) fn ready(scores: Scores) -> LazyScores {
        LazyScores {
            at: None,
            cell: OnceLock::from(scores),
        }
    }

    /// Scores due at `at`, computed when read.
    pub(crate) fn due(at: DateTime<Utc>) -> LazyScores {
        LazyScores {
            at: Some(at),
            cell: OnceLock::new(),
        }
    }
}

impl PartialEq for LazyScores {
    fn eq(&self, other: &LazyScores) -> bool {
        (self.cell.get(), self.cell.get().is_none().then_some(self.at))
            == (other.cell.get(), other.cell.get().is_none().then_some(other.at))
    }
}

impl Serialize for LazyScores {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.cell.get() {
            Some(s) => s.serialize(serializer),
            None => Scores::default().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for LazyScores {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<LazyScores, D::Error> {
        Scores::deserialize(deserializer).map(LazyScores::ready)
    }
}

/// Which stages have an automatic outgoing edge (elsewhere evaluating is a
/// no-op and is skipped), and which of them have only criteria that read no
/// score (there, bounds on the scores need no tightening).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stages {
    pub(crate) automatic: StageSet,
    pub(crate) scoreless: StageSet,
}

impl Stages {
    pub(crate) fn of(machine: &LifecycleStateMachine) -> Stages {
        let mut automatic = StageSet::EMPTY;
        for (e, _) in machine.automatic_edges() {
            automatic.insert(e.from);
        }
        let scored = machine.scored_stages();
        let mut scoreless = StageSet::EMPTY;
        for s in automatic.iter().filter(|s| !scored.contains(*s)) {
            scoreless.insert(s);
        }
        Stages { automatic, scoreless }
    }
}

/// The model, machine and stages a re-evaluation runs with.
#[derive(Clone, Copy)]
pub(crate) struct Engine<'a> {
    model: &'a ScoringModel,
    machine: &'a LifecycleStateMachine,
    stages: Stages,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        model: &'a ScoringModel,
        machine: &'a LifecycleStateMachine,
        stages: Stages,
    ) -> Engine<'a> {
        Engine {
            model,
            machine,
            stages,
        }
    }
}

impl LeadState {
    pub(crate) fn new(lead: Lead, machine: &LifecycleStateMachine) -> LeadState {
        LeadState {
            life: machine.start(&lead),
            versions: vec![(lead.created_at, lead)],
            events: Vec::new(),
            scores: LazyScores::default(),
            hits: ScoreState::new(),
            attr_changes: 0,
            full: 0,
        }
    }

    /// Rebuilds the derived fields (hits under `model`, attribute-change
    /// count) from the events.
    pub(crate) fn reindex(&mut self, model: &ScoringModel) {
        self.hits = ScoreState::new();
        self.full = 0;
        for e in &self.events {
            record(&mut self.hits, &mut self.full, model, e, true);
        }
        self.attr_changes = self.events.iter().filter(|e| is_attribute_change(e)).count() as u32;
    }

    /// Rebuilds the hits under `new` (after a model swap) and returns the
    /// scores at `now` under `old` (before) and `new` (after).
    pub(crate) fn rescore(
        &mut self,
        old: &ScoringModel,
        new: &ScoringModel,
        now: DateTime<Utc>,
    ) -> (Scores, Scores) {
        let (mut hits, mut full) = (ScoreState::new(), 0);
        for e in &self.events {
            record(&mut hits, &mut full, new, e, true);
        }
        let scores = lead_at(&self.versions, &self.events, self.attr_changes, now).map(|lead| {
            (
                old.scores_with(&lead, &self.hits, now),
                new.scores_with(&lead, &hits, now),
            )
        });
        (self.hits, self.full) = (hits, full);
        scores.unwrap_or_default()
    }

    /// Fires the automatic edges that hold at `now` with `scores`; returns
    /// the new records.
    pub(crate) fn advance_now(
        &mut self,
        machine: &LifecycleStateMachine,
        scores: &Scores,
        now: DateTime<Utc>,
    ) -> Vec<TransitionRecord> {
        let Some(lead) = lead_at(&self.versions, &self.events, self.attr_changes, now) else {
            return Vec::new();
        };
        let view = LeadView::new(&lead).with_events(&self.events).with_scores(scores);
        machine.advance(&mut self.life, &view, now).to_vec()
    }

    /// The scores as of the last touch (computed now if not yet).
    pub(crate) fn scores(&self, model: &ScoringModel) -> &Scores {
        self.scores.cell.get_or_init(|| match self.scores.at {
            Some(at) => self.scores_at(model, at),
            None => Scores::default(),
        })
    }

    /// The lead's latest version.
    pub(crate) fn lead(&self) -> Option<&Lead> {
        self.versions.last().map(|(_, l)| l)
    }

    /// The lead as it was at `t` (see [`lead_at`]).
    pub(crate) fn lead_at(&self, t: DateTime<Utc>) -> Option<Cow<'_, Lead>> {
        lead_at(&self.versions, &self.events, self.attr_changes, t)
    }

    /// Inserts an event (whose id is new for this lead) at its place in
    /// (time, id) order; in-order arrival appends.
    pub(crate) fn insert(&mut self, event: Event, model: &ScoringModel) {
        if is_attribute_change(&event) {
            self.attr_changes += 1;
        }
        let pos = match self.events.last() {
            Some(last) if (last.at, last.id.as_str()) > (event.at, event.id.as_str()) => {
                first_from_end(&self.events, |e| {
                    (e.at, e.id.as_str()) < (event.at, event.id.as_str())
                })
            }
            _ => self.events.len(),
        };
        let appended = pos == self.events.len();
        record(&mut self.hits, &mut self.full, model, &event, appended);
        self.events.insert(pos, event);
    }

    /// The scores at `t`, from the lead as it was then and its events.
    pub(crate) fn scores_at(&self, model: &ScoringModel, t: DateTime<Utc>) -> Scores {
        match self.lead_at(t) {
            Some(lead) => model.scores_with(&lead, &self.hits, t),
            None => Scores::default(),
        }
    }

    /// Re-evaluates the timeline from `from` (see [`timeline::rerun`]).
    pub(crate) fn rerun(
        &mut self,
        from: DateTime<Utc>,
        new_command: Option<(Transition, DateTime<Utc>)>,
        engine: Engine<'_>,
    ) -> Result<Diff, Box<Conflict>> {
        timeline::rerun(&mut Replay { state: self, engine }, from, new_command)
    }

    fn advance_at(&mut self, t: DateTime<Utc>, engine: Engine<'_>) {
        let Some(lead) = lead_at(&self.versions, &self.events, self.attr_changes, t) else {
            return;
        };
        let view = LeadView::new(&lead).with_events(&self.events);
        let scores = || engine.model.scores_with(&lead, &self.hits, t);
        let version = engine.model.version();
        engine
            .machine
            .advance_scoring_lazily(&mut self.life, &view, t, version, |_| true, scores);
    }

    fn apply_command(
        &mut self,
        (transition, at): (Transition, DateTime<Utc>),
        engine: Engine<'_>,
    ) -> Result<(), Box<Conflict>> {
        let Some(lead) = lead_at(&self.versions, &self.events, self.attr_changes, at) else {
            return Ok(());
        };
        let scores = engine.model.scores_with(&lead, &self.hits, at);
        let view = LeadView::new(&lead)
            .with_events(&self.events)
            .with_scores(&scores);
        match engine
            .machine
            .apply(&mut self.life, transition.clone(), &view, at)
        {
            Ok(_) => Ok(()),
            Err(error) => Err(Box::new(Conflict {
                transition,
                at,
                error,
            })),
        }
    }
}

/// Records `event`'s hits. When it comes after every event recorded
/// (`appended`), rules whose count limit is full are skipped (their hit would
/// be dropped), and the rules it hits are checked for becoming full; a rule
/// is checked at most its limit times per lead, so the count stays cheap.
fn record(hits: &mut ScoreState, full: &mut u64, model: &ScoringModel, event: &Event, appended: bool) {
    let bit = |rule: usize| {
        u32::try_from(rule)
            .ok()
            .and_then(|r| 1u64.checked_shl(r))
            .unwrap_or(0)
    };
    if !appended {
        hits.record_unique(model, event, |_| false);
        return;
    }
    let known = *full;
    hits.record_unique(model, event, |rule| known & bit(rule) != 0);
    for (rule, _) in model.matches(&event.shape) {
        let b = bit(rule);
        if b != 0 && known & b == 0 && hits.is_full(model, rule) {
            *full |= b;
        }
    }
}

fn is_attribute_change(e: &Event) -> bool {
    matches!(e.shape.kind, EventKind::AttributeChange { .. })
}

/// The lead as it was at `t`: the last version upserted at or before `t`
/// (the first version when none), with the attribute-change events since
/// that version (up to `t`) applied in time order. `attr_changes` counts the
/// attribute-change events: with none, no scan.
pub(crate) fn lead_at<'a>(
    versions: &'a [(DateTime<Utc>, Lead)],
    events: &[Event],
    attr_changes: u32,
    t: DateTime<Utc>,
) -> Option<Cow<'a, Lead>> {
    let idx = versions.partition_point(|(vt, _)| *vt <= t).saturating_sub(1);
    let (since, base) = versions.get(idx)?;
    if attr_changes == 0 {
        return Some(Cow::Borrowed(base));
    }
    let since = (idx > 0).then_some(*since);
    let mut changes = events
        .iter()
        .filter(|e| e.at <= t && since.is_none_or(|s| e.at >= s))
        .filter_map(|e| match &e.shape.kind {
            EventKind::AttributeChange { key, value } => Some((key, value)),
            _ => None,
        })
        .peekable();
    if changes.peek().is_none() {
        return Some(Cow::Borrowed(base));
    }
    let mut lead = base.clone();
    for (key, value) in changes {
        // Validated when the event was ingested; an invalid one changes nothing.
        let _ = lead.set_attribute(key, value.clone());
    }
    Some(Cow::Owned(lead))
}

/// A lead of the [`Funnel`](super::Funnel) as the schedule walks it.
struct Replay<'s, 'e> {
    state: &'s mut LeadState,
    engine: Engine<'e>,
}

impl Timeline for Replay<'_, '_> {
    fn life(&mut self) -> &mut LeadLifecycle {
        &mut self.state.life
    }

    fn automatic(&self) -> StageSet {
        self.engine.stages.automatic
    }

    fn events(&self) -> usize {
        self.state.events.len()
    }

    fn event_at(&self, i: usize) -> Option<DateTime<Utc>> {
        self.state.events.get(i).map(|e| e.at)
    }

    fn versions(&self) -> usize {
        self.state.versions.len()
    }

    fn version_at(&self, i: usize) -> Option<DateTime<Utc>> {
        self.state.versions.get(i).map(|v| v.0)
    }

    fn advance_at(&mut self, t: DateTime<Utc>) {
        self.state.advance_at(t, self.engine);
    }

    fn apply_command(&mut self, command: (Transition, DateTime<Utc>)) -> Result<(), Box<Conflict>> {
        self.state.apply_command(command, self.engine)
    }
}
