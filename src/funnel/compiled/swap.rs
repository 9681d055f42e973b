//! Swapping a [`CompiledFunnel`]'s scoring model.

use chrono::{DateTime, Utc};

use super::CompiledFunnel;
use super::lead::{Ctx, Entry};
use crate::event::Event;
use crate::funnel::ModelChange;
use crate::lead::Lead;
use crate::scoring::{ScoringModel, Tally};

impl CompiledFunnel {
    /// Replaces the scoring model and rescores every lead at `now`; see
    /// [`Funnel::swap_model`](crate::funnel::Funnel::swap_model). Leads whose bounds
    /// show no edge into MQL could hold under either model are not scored
    /// exactly, nor are leads whose criteria into MQL their events alone
    /// decide (say "combined ≥ 60 or a pricing-sheet download", for a lead
    /// with a download): a model change cannot change their answer. When
    /// the lead's counts of events settle it (a download criterion without
    /// a window, every event of the lead up to `now`), its events are not
    /// even read.
    pub fn swap_model(&mut self, model: ScoringModel, now: DateTime<Utc>, fire: bool) -> ModelChange {
        let old_model = std::mem::replace(&mut self.model, model);
        let old_actions = std::mem::take(&mut self.actions);
        self.actions = old_actions.under(&self.model, &self.gates.signals);
        let old_gates = std::mem::take(&mut self.gates);
        self.gates = old_gates.under(&self.model);
        // What the change leaves valid: most changes touch a few rules or
        // caps, and every lead's bounds need not be recomputed.
        let same = Unchanged::between(&old_model, &self.model);
        let mut old_row = Vec::new();
        let mut change = ModelChange::between(&old_model, &self.model);
        let (w, w_old) = (self.gates.layout.width(), old_gates.layout.width());
        // Groups added or removed change the rows' layout: start afresh.
        let old_rows = (w != w_old).then(|| {
            let fresh = vec![0; w * self.cold.len()];
            std::mem::replace(&mut self.rows, fresh)
        });
        let relaid = old_rows.is_some();
        let (refit, reevents) = (!same.fit || relaid, !same.events || relaid);
        // First the bounds of every lead, in one pass over the rows: the
        // leads whose bounds leave an edge into MQL open under either model.
        let mut open = Vec::new();
        for i in 0..self.cold.len() {
            // The old row, when the new one differs.
            old_row.clear();
            match &old_rows {
                Some(rows) => old_row.extend_from_slice(rows.get(i * w_old..(i + 1) * w_old).unwrap_or(&[])),
                None if refit || reevents => old_row.extend_from_slice(self.bounds(i)),
                None => {}
            }
            self.rebound_parts(i, refit, reevents);
            let new_bounds = self.bounds(i);
            let old_bounds = if old_row.is_empty() {
                new_bounds
            } else {
                old_row.as_slice()
            };
            let flags = (
                old_gates.open_into_mql(old_bounds),
                self.gates.open_into_mql(new_bounds),
            );
            if flags.0 || flags.1 {
                open.push(Candidate {
                    lead: i,
                    open: flags,
                    sure: self.gates.surely_into_mql(new_bounds),
                    reads_none: self.gates.none_read_into_mql(new_bounds),
                });
            }
        }
        // Then those leads, a few at a time, their records read ahead.
        let rescore = Rescore {
            old: Ctx {
                model: &old_model,
                actions: &old_actions,
                gates: &old_gates,
                ..self.ctx()
            },
            new: self.ctx(),
            same_hits: same.hits,
            now,
        };
        for chunk in open.chunks(READ_AHEAD) {
            std::hint::black_box(self.read_ahead(chunk.iter().map(|c| c.lead)));
            for c in chunk {
                let (Some(cold), Some(lane)) = (self.cold.get(c.lead), self.lanes.get(c.lead)) else {
                    continue;
                };
                if c.sure && lane.last <= now {
                    continue;
                }
                let Some(lead) = cold.lead_at(now) else {
                    continue;
                };
                // The events the criteria into MQL read do not depend on
                // the model.
                let events = if c.reads_none {
                    Vec::new()
                } else {
                    rescore.new.events(&lane.log, now, self.gates.reads_into_mql())
                };
                match rescore.answers(&lead, &lane.log, &events, c.open) {
                    (false, true) => change.newly_qualified.push(lead.id.clone()),
                    (true, false) => change.no_longer_qualified.push(lead.id.clone()),
                    _ => {}
                }
            }
        }
        for i in 0..self.cold.len() {
            if fire && !self.advance(i, now, &mut change.outputs) {
                continue;
            }
            self.touch(i, now, None);
            change.rescored += 1;
        }
        change
    }

    /// Reads the lanes and records of `leads`, then what those point to
    /// (their logs and attribute versions), so that the cache misses of the
    /// leads overlap instead of coming one after another. The result is
    /// meaningless: it only keeps the reads from being optimized away.
    fn read_ahead(&self, leads: impl Iterator<Item = usize> + Clone) -> u64 {
        let mut sum = 0u64;
        for i in leads.clone() {
            if let (Some(lane), Some(cold)) = (self.lanes.get(i), self.cold.get(i)) {
                sum = sum.wrapping_add(lane.last.timestamp() as u64) ^ cold.versions.len() as u64;
            }
        }
        for i in leads {
            if let (Some(lane), Some(cold)) = (self.lanes.get(i), self.cold.get(i)) {
                let first = lane.log.first().map_or(0, |e| e.action);
                let created = cold.versions.first().map_or(0, |(t, _)| t.timestamp());
                sum = sum.wrapping_add(u64::from(first)) ^ created as u64;
            }
        }
        sum
    }
}

/// How many leads [`CompiledFunnel::swap_model`] reads ahead at a time.
const READ_AHEAD: usize = 16;

/// A lead whose bounds leave an edge into MQL open under the old or the
/// new model, with what its new row says.
struct Candidate {
    lead: usize,
    /// Whether its bounds leave an edge into MQL open under the old and
    /// under the new model.
    open: (bool, bool),
    /// Its counts of events meet an edge into MQL (under both models): with
    /// every event up to `now` it qualifies either way and is not read any
    /// further, nor its attributes (a pricing-sheet download, say).
    sure: bool,
    /// None of its events is one the criteria into MQL read.
    reads_none: bool,
}

/// One lead's answers under the old and the new model at `now`.
struct Rescore<'a> {
    old: Ctx<'a>,
    new: Ctx<'a>,
    /// A lead's totals before caps are the same under both models.
    same_hits: bool,
    now: DateTime<Utc>,
}

impl Rescore<'_> {
    /// Whether the lead qualifies under the old and under the new model,
    /// given which of them its bounds leave open (a shut one answers no).
    fn answers(
        &self,
        lead: &Lead,
        log: &[Entry],
        events: &[Event],
        (open_before, open_after): (bool, bool),
    ) -> (bool, bool) {
        let now = self.now;
        // Decided by the events alone (a pricing-sheet download, say): no
        // need to score the lead under either model.
        if let Some(q) = self.new.qualifies_whatever_the_scores(lead, events, now) {
            return (open_before && q, open_after && q);
        }
        let qualifies =
            |c: &Ctx<'_>, tally: &Tally| c.qualifies(lead, events, &tally.settle(c.model).scores, now);
        let after = open_after.then(|| self.new.tally(lead, log, now));
        // With the same rules and groups the totals before caps are the
        // same: tally once, settle under each model.
        let before = open_before
            && match &after {
                Some(tally) if self.same_hits => qualifies(&self.old, tally),
                _ => qualifies(&self.old, &self.old.tally(lead, log, now)),
            };
        (before, after.is_some_and(|tally| qualifies(&self.new, &tally)))
    }
}

/// What a model change leaves as it was in a compiled funnel's bounds.
struct Unchanged {
    /// The fit bounds: attribute rules (at the same indices), groups, fit
    /// cap and floor are all equal.
    fit: bool,
    /// The group bounds: event rules (at the same indices), groups and floor
    /// are all equal.
    events: bool,
    /// A lead's totals before caps are the same under both.
    hits: bool,
}

impl Unchanged {
    fn between(old: &ScoringModel, new: &ScoringModel) -> Unchanged {
        let is_event = |r: &crate::scoring::Rule| matches!(r.when, crate::scoring::Trigger::Event { .. });
        let aligned = old.rules().len() == new.rules().len()
            && old.groups() == new.groups()
            && old.floor() == new.floor();
        let same = |event: bool| {
            aligned
                && old
                    .rules()
                    .iter()
                    .zip(new.rules())
                    .all(|(a, b)| is_event(a) == is_event(b) && (is_event(a) != event || a == b))
        };
        Unchanged {
            fit: same(false) && old.fit_cap() == new.fit_cap(),
            events: same(true),
            hits: old.tallies_like(new),
        }
    }
}
