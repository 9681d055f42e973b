//! A call's late events, held per lead and applied together.
//!
//! An event earlier than something on its lead's timeline re-evaluates the
//! lead from its time on: the cost is that of the lead's later entries.
//! Applied one at a time, a call holding many late events of one lead (a
//! backfill, a stream delivered in reverse) would cost the square of its
//! size. So within an `ingest` call, a lead's late events are held and
//! applied together, in one re-evaluation, before the lead's next in-order
//! event and at the end of the call. The result is the same (the engine is
//! order independent); the outputs are the net change (transitions a later
//! event of the same call would retract at once are not reported).

use std::collections::HashSet;

use indexmap::IndexMap;

use super::Engine;
use super::error::{IngestError, Rejected};
use super::keys::EventKey;
use super::output::IngestReport;
use super::recent::Entry;
use crate::id::{EventId, LeadId};

/// One held event: its entry and what names it in a refusal.
#[derive(Debug, Clone)]
pub(super) struct HeldEvent {
    /// Its position in the call's input.
    pub(super) index: usize,
    /// Its id, when it came as an `Event`.
    pub(super) event: Option<EventId>,
    /// Its id as a key.
    pub(super) key: EventKey,
    /// What it adds to its lead.
    pub(super) entry: Entry,
    /// The same event given again later in the call (its position and
    /// id): duplicates once it is applied, refused with it if it is
    /// refused.
    pub(super) again: Vec<(usize, Option<EventId>)>,
}

impl HeldEvent {
    /// The refusal of this event and of each copy of it given again.
    fn refused(self, lead: Option<LeadId>, error: IngestError) -> impl Iterator<Item = Rejected> {
        let first = (self.index, self.event);
        let key = self.key;
        std::iter::once(first)
            .chain(self.again)
            .map(move |(index, event)| Rejected {
                index,
                lead: lead.clone(),
                event,
                key,
                error: error.clone(),
            })
    }
}

/// The late events of a call not yet applied, by lead, leads in the order
/// their first late event came.
#[derive(Debug, Default)]
pub(super) struct Held {
    by_lead: IndexMap<usize, Vec<HeldEvent>>,
    /// Every held event's lead, time and key.
    ids: HashSet<(usize, i64, u64)>,
    /// No held event is earlier than this (nanoseconds).
    earliest: Option<i64>,
}

impl Held {
    /// Holds a late event of lead `i`.
    pub(super) fn hold(&mut self, i: usize, event: HeldEvent) {
        self.ids.insert((i, event.entry.at, event.entry.key));
        self.earliest = Some(self.earliest.map_or(event.entry.at, |t| t.min(event.entry.at)));
        self.by_lead.entry(i).or_default().push(event);
    }

    /// No held event is earlier than this (nanoseconds); `None` when none
    /// is held.
    pub(super) fn earliest(&self) -> Option<i64> {
        self.earliest
    }

    /// Lead `i`'s held event at `t` (nanoseconds) with key `key`: a copy
    /// of it came earlier in the call.
    pub(super) fn find(&mut self, i: usize, t: i64, key: u64) -> Option<&mut HeldEvent> {
        if !self.ids.contains(&(i, t, key)) {
            return None;
        }
        self.by_lead
            .get_mut(&i)?
            .iter_mut()
            .find(|h| h.entry.at == t && h.entry.key == key)
    }
}

impl Engine {
    /// Applies lead `i`'s held events, if any: together when they conflict
    /// with no command on record, else one at a time in the order given,
    /// refusing those that conflict.
    pub(super) fn release(
        &mut self,
        i: usize,
        held: &mut Held,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
    ) {
        if held.by_lead.is_empty() {
            return;
        }
        let Some(events) = held.by_lead.shift_remove(&i) else {
            return;
        };
        for h in &events {
            held.ids.remove(&(i, h.entry.at, h.entry.key));
        }
        if held.by_lead.is_empty() {
            held.earliest = None;
        }
        let entries: Vec<Entry> = events.iter().map(|h| h.entry).collect();
        if self.rerun_entries(i, &entries, report).is_ok() {
            for h in &events {
                self.count_applied(i, h, report, touched);
            }
            return;
        }
        for h in events {
            match self.rerun_entries(i, std::slice::from_ref(&h.entry), report) {
                Ok(()) => self.count_applied(i, &h, report, touched),
                Err(error) => {
                    let lead = self.cold.get(i).map(|c| c.life.lead().clone());
                    report.rejected.extend(h.refused(lead, error));
                }
            }
        }
    }

    /// Applies every lead's held events.
    pub(super) fn release_all(
        &mut self,
        held: &mut Held,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
    ) {
        while let Some(&i) = held.by_lead.keys().next() {
            self.release(i, held, report, touched);
        }
    }

    /// Counts an applied late event (and its copies, as duplicates) and
    /// writes it to the history.
    fn count_applied(
        &mut self,
        i: usize,
        h: &HeldEvent,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
    ) {
        if let Some(log) = self.log.as_mut() {
            log.push(i as u32, h.entry.at, h.entry.shape);
        }
        self.stats.late_events += 1;
        report.applied += 1;
        self.stats.events_applied += 1;
        report.duplicates += h.again.len();
        self.stats.duplicates += h.again.len() as u64;
        touched.push(i);
    }
}
