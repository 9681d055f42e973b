//! The oracle: the simplest exact implementation of what the engine must
//! equal. Per lead it keeps every upsert, event and command as given; a
//! lead's lifecycle is a fold over its timeline in time order (commands
//! before the evaluation of a later time, after the evaluation of their
//! own), each automatic evaluation seeing the pure model's scores of the
//! lead's attributes and events at that time.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use leadflow::criteria::LeadView;
use leadflow::engine::EventKey;
use leadflow::lifecycle::{LeadLifecycle, Transition, TransitionError};
use leadflow::{Event, EventKind, Lead, LeadId, LifecycleStateMachine, Scores, ScoringModel};

#[derive(Debug, Clone, Default)]
struct Timeline {
    versions: Vec<(DateTime<Utc>, Lead)>,
    events: Vec<Event>,
    commands: Vec<(Transition, DateTime<Utc>)>,
    /// Created by its events and never upserted: its one version is a bare
    /// lead at its earliest event.
    by_events: bool,
}

/// Leads, their timelines, and the pure model and machine to fold them.
#[derive(Debug, Clone)]
pub(crate) struct Oracle {
    pub(crate) model: ScoringModel,
    pub(crate) machine: LifecycleStateMachine,
    leads: IndexMap<LeadId, Timeline>,
}

impl Oracle {
    pub(crate) fn new(model: ScoringModel, machine: LifecycleStateMachine) -> Oracle {
        Oracle {
            model,
            machine,
            leads: IndexMap::new(),
        }
    }

    /// Adds a lead, or a version of its attributes at `at`. The first
    /// record of a lead its events created replaces the bare lead: the lead
    /// is as if the record had come first.
    pub(crate) fn upsert(&mut self, lead: Lead, at: DateTime<Utc>) {
        self.upsert_within(lead, at, None);
    }

    /// [`upsert`](Self::upsert) when events before `earliest` can no longer
    /// be re-evaluated: a lead its events created before then keeps its
    /// creation, and the record is a version at `at`.
    pub(crate) fn upsert_within(&mut self, lead: Lead, at: DateTime<Utc>, earliest: Option<DateTime<Utc>>) {
        let t = self.leads.entry(lead.id.clone()).or_default();
        let placeholder = t.by_events && earliest.is_none_or(|e| t.versions[0].0 >= e);
        t.by_events = false;
        if t.versions.is_empty() || placeholder {
            t.versions = vec![(lead.created_at, lead)];
            return;
        }
        let pos = t.versions.partition_point(|(x, _)| *x <= at);
        t.versions.insert(pos, (at, lead));
    }

    /// Adds an event (a lead unknown until then is created at its earliest
    /// event); false for a copy of one it has (same lead, id and time) that
    /// does not replace it: of copies with other payloads, the one with the
    /// lowest shape fingerprint is kept.
    pub(crate) fn event(&mut self, e: Event) -> bool {
        let t = self.leads.entry(e.lead.clone()).or_default();
        if t.versions.is_empty() || t.by_events && e.at < t.versions[0].0 {
            t.versions = vec![(e.at, Lead::new(e.lead.clone(), e.at))];
            t.by_events = true;
        }
        if let Some(x) = t.events.iter_mut().find(|x| x.id == e.id && x.at == e.at) {
            if e.shape.fingerprint() < x.shape.fingerprint() {
                *x = e;
                return true;
            }
            return false;
        }
        t.events.push(e);
        true
    }

    /// Adds a command; refused (and forgotten) when the timeline no longer
    /// folds.
    pub(crate) fn command(
        &mut self,
        lead: &LeadId,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        self.leads
            .get_mut(lead)
            .expect("a known lead")
            .commands
            .push((transition, at));
        match self.lifecycle(lead) {
            Ok(_) => Ok(()),
            Err(e) => {
                self.leads.get_mut(lead).unwrap().commands.pop();
                Err(e)
            }
        }
    }

    pub(crate) fn leads(&self) -> impl Iterator<Item = &LeadId> {
        self.leads.keys()
    }

    /// The lead's events in canonical order.
    fn sorted(&self, lead: &LeadId) -> Vec<Event> {
        let mut events = self.leads[lead].events.clone();
        events.sort_by_key(|e| (e.at, e.shape.fingerprint(), EventKey::of(&e.id)));
        events
    }

    /// The lead at `t`: its latest version by then, with the attribute
    /// changes of its events since, in order.
    pub(crate) fn lead_at(&self, lead: &LeadId, t: DateTime<Utc>) -> Lead {
        let tl = &self.leads[lead];
        let i = tl.versions.partition_point(|(at, _)| *at <= t).saturating_sub(1);
        let (since, base) = &tl.versions[i];
        let mut out = base.clone();
        // The first version also takes the changes at its own time.
        for e in self.sorted(lead) {
            if (e.at > *since || (i == 0 && e.at == *since)) && e.at <= t {
                if let EventKind::AttributeChange { key, value } = &e.shape.kind {
                    out.set_attribute(key, value.clone()).unwrap();
                }
            }
        }
        out
    }

    /// The lead's scores at `now`.
    pub(crate) fn scores(&self, lead: &LeadId, now: DateTime<Utc>) -> Scores {
        self.model
            .score(&self.lead_at(lead, now), &self.leads[lead].events, now)
    }

    /// The lead's lifecycle: its timeline folded in time order.
    pub(crate) fn lifecycle(&self, lead: &LeadId) -> Result<LeadLifecycle, TransitionError> {
        let tl = &self.leads[lead];
        let mut life = self.machine.start(&tl.versions[0].1);
        for e in &tl.events {
            if let EventKind::SalesTouch { by } | EventKind::MeetingHeld { by } = &e.shape.kind {
                life.record_follow_up(e.at, by.clone());
            }
        }
        let mut times: Vec<DateTime<Utc>> = tl.events.iter().map(|e| e.at).collect();
        times.extend(tl.versions.iter().map(|(at, _)| *at));
        times.sort();
        times.dedup();
        let mut commands = tl.commands.clone();
        commands.sort_by_key(|c| c.1);
        let mut commands = commands.into_iter().peekable();
        let automatic: Vec<_> = self
            .machine
            .definition()
            .edges
            .iter()
            .filter(|e| matches!(e.trigger, leadflow::lifecycle::EdgeTrigger::Automatic { .. }))
            .map(|e| e.from)
            .collect();
        for tau in times {
            while let Some((transition, at)) = commands.next_if(|c| c.1 < tau) {
                self.apply(&mut life, lead, transition, at)?;
            }
            if automatic.contains(&life.stage()) {
                let l = self.lead_at(lead, tau);
                let scores = self.model.score(&l, &tl.events, tau);
                let checklist = life.checklist().clone();
                let view = LeadView::new(&l)
                    .with_events(&tl.events)
                    .with_scores(&scores)
                    .with_checklist(&checklist);
                self.machine.advance(&mut life, &view, tau);
            }
        }
        for (transition, at) in commands {
            self.apply(&mut life, lead, transition, at)?;
        }
        Ok(life)
    }

    fn apply(
        &self,
        life: &mut LeadLifecycle,
        lead: &LeadId,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        let l = self.lead_at(lead, at);
        let tl = &self.leads[lead];
        let scores = self.model.score(&l, &tl.events, at);
        let view = LeadView::new(&l).with_events(&tl.events).with_scores(&scores);
        self.machine.apply(life, transition, &view, at).map(|_| ())
    }
}
