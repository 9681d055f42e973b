//! One lead's facts for the funnel (the stages it entered, its exits, stays,
//! follow-ups, breaches and wins within the window), computed once and added
//! to every segment it belongs to.

use super::input::{AnalysisConfig, LeadHistory};
use crate::event::EventType;
use crate::lifecycle::{LifecycleStateMachine, Money, ReasonCode, TransitionKind};
use crate::points::Points;
use crate::stage::{Stage, StageSet};

/// One lead's contribution, computed once and added to every segment.
#[derive(Debug, Default)]
pub(super) struct LeadFacts {
    pub(super) created: bool,
    pub(super) entered: StageSet,
    pub(super) entries: [u64; 12],
    /// `reach[a]`: the stages entered after the first entry into `a`.
    pub(super) reach: [StageSet; 12],
    pub(super) exits: Vec<(Stage, TransitionKind)>,
    pub(super) reasons: Vec<(TransitionKind, ReasonCode)>,
    pub(super) stays: Vec<(Stage, i64)>,
    pub(super) follow_ups: Vec<(Stage, i64)>,
    pub(super) breaches: Vec<(Stage, bool)>,
    pub(super) fit: Option<Points>,
    pub(super) engagement: Option<Points>,
    pub(super) forms: u64,
    pub(super) downloads: u64,
    pub(super) webinars: u64,
    pub(super) wins: Vec<Money>,
    pub(super) to_deal: Vec<i64>,
}

impl LeadFacts {
    /// Computes one lead's facts into `self`, reusing its buffers.
    pub(super) fn fill(
        &mut self,
        machine: &LifecycleStateMachine,
        config: &AnalysisConfig,
        h: &LeadHistory<'_>,
    ) {
        let life = h.lifecycle;
        let f = self;
        f.clear();
        // The sequence of entries within the window: (stage, position).
        let mut first = [usize::MAX; 12];
        let mut last = [0usize; 12];
        let mut pos = 0usize;
        let mut enter = |f: &mut LeadFacts, stage: Stage| {
            let i = stage.index();
            f.entered.insert(stage);
            if let Some(e) = f.entries.get_mut(i) {
                *e = e.saturating_add(1);
            }
            if let Some(x) = first.get_mut(i) {
                *x = (*x).min(pos);
            }
            if let Some(x) = last.get_mut(i) {
                *x = pos;
            }
            pos += 1;
        };
        if config.in_window(life.created_at()) {
            f.created = true;
            enter(f, life.initial_stage());
        }
        for r in life.history().iter().filter(|r| config.in_window(r.at)) {
            enter(f, r.to);
            f.exits.push((r.from, r.transition.kind()));
            if let Some(reason) = r.transition.reason() {
                f.reasons.push((r.transition.kind(), reason.code));
            }
            if r.transition.kind() == TransitionKind::Win {
                if let Some(v) = r.transition.value() {
                    f.wins.push(v.clone());
                }
                f.to_deal.push((r.at - life.created_at()).num_seconds());
            }
        }
        for (a, reach) in f.reach.iter_mut().enumerate() {
            let Some(&fa) = first.get(a) else { continue };
            if fa == usize::MAX {
                continue;
            }
            *reach = Stage::ALL
                .into_iter()
                .filter(|b| first.get(b.index()).is_some_and(|x| *x != usize::MAX))
                .filter(|b| last.get(b.index()).is_some_and(|lb| *lb > fa))
                .collect();
        }
        for v in life.visits() {
            if !config.in_window(v.entered_at) {
                continue;
            }
            if let Some(x) = v.exited_at.filter(|x| *x <= config.as_of) {
                f.stays.push((v.stage, (x - v.entered_at).num_seconds()));
            }
            if let Some(d) = v.first_follow_up.filter(|t| *t <= config.as_of) {
                f.follow_ups.push((v.stage, (d - v.entered_at).num_seconds()));
            }
        }
        if !machine.definition().slas.is_empty() {
            for b in life.sla_breaches(machine, config.as_of) {
                if config.in_window(b.entered_at) {
                    f.breaches.push((b.sla.stage, b.is_open()));
                }
            }
        }
        if let Some(s) = h.scores {
            f.fit = Some(s.fit);
            f.engagement = Some(s.engagement);
        }
        for e in h.events.iter().filter(|e| config.in_window(e.at)) {
            match e.event_type() {
                EventType::FormSubmit => f.forms += 1,
                EventType::ContentDownload => f.downloads += 1,
                EventType::WebinarAttend => f.webinars += 1,
                _ => {}
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.created = false;
        self.entered = StageSet::EMPTY;
        self.entries = [0; 12];
        self.reach = [StageSet::EMPTY; 12];
        self.exits.clear();
        self.reasons.clear();
        self.stays.clear();
        self.follow_ups.clear();
        self.breaches.clear();
        self.fit = None;
        self.engagement = None;
        self.forms = 0;
        self.downloads = 0;
        self.webinars = 0;
        self.wins.clear();
        self.to_deal.clear();
    }
}
