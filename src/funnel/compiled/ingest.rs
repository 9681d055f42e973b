//! Ingesting events into a [`CompiledFunnel`]: checks, ids, the in-order
//! fast path and the re-evaluation of late events.

use chrono::{DateTime, Utc};

use super::lead::Entry;
use super::{CompactEvent, CompiledFunnel, LeadKey, event_key, needs_backup};
use crate::event::{Event, EventKind};
use crate::funnel::{IngestError, IngestReport, Rejected, UnknownLeads};
use crate::id::{EventId, LeadId};

/// How many events a long call ingests between checks for ids it can
/// forget.
const ROTATE_EVERY: usize = 1024;

/// How many events [`CompiledFunnel::ingest`] reads ahead of applying them
/// (see `warm`).
const WARM: usize = 32;

/// From how many leads `ingest` reads ahead: below, the leads' state mostly
/// stays in cache and reading ahead only adds work (measured: about 5 %
/// slower at 100 k leads, 20 % faster at 1 M).
const WARM_FROM_LEADS: usize = 1 << 18;

impl CompiledFunnel {
    /// Ingests keyed events, in the order given. Each is checked (not after
    /// `now`, within the allowed lateness, keys issued by this funnel, id
    /// not seen before, attribute changes valid) and applied; refused
    /// events are listed in the report with why, and nothing of them is
    /// applied.
    pub fn ingest(&mut self, events: &[CompactEvent], now: DateTime<Utc>) -> IngestReport {
        let mut report = IngestReport::default();
        let mut touched = Vec::new();
        let read_ahead = self.lanes.len() >= WARM_FROM_LEADS;
        for (k, window) in events.chunks(WARM).enumerate() {
            if read_ahead {
                std::hint::black_box(self.warm(window));
            }
            for (n, ev) in window.iter().enumerate() {
                if (k * WARM + n) % ROTATE_EVERY == ROTATE_EVERY - 1 {
                    self.forget_old_ids();
                }
                if let Err(error) = self.check_time(ev.at, || id_of(ev.id, None), now) {
                    self.reject(ev, None, error, &mut report);
                    continue;
                }
                self.admit_and_apply(*ev, None, &mut report, &mut touched);
            }
        }
        self.finish(report, touched, now)
    }

    /// Reads the state `events` will touch, changing nothing, in passes
    /// over the window: first what each event's lead holds in place (its
    /// lane, its row of bounds, its id in the id set), then what the lanes
    /// point to (the tails of the logs) and, for a late event, the lead's
    /// record, then what a late event's record points to (the times of its
    /// last upsert and last transition, where its re-evaluation starts
    /// reading). Reads that do not depend on one another miss the cache
    /// together, so a window costs a memory round trip per pass, not one
    /// per read; the processing that follows finds the lines in cache. (A
    /// read that depends on another can only start once that one is done:
    /// in one pass, each event's second miss waited for its first, and
    /// fewer events' misses overlapped.) The result is meaningless: it
    /// only keeps the reads from being optimized away.
    fn warm(&self, events: &[CompactEvent]) -> u64 {
        let w = self.gates.layout.width();
        let mut sum = 0u64;
        for ev in events {
            let i = ev.lead.index();
            if let Some(lane) = self.lanes.get(i) {
                sum = sum.wrapping_add(lane.log.len() as u64);
            }
            if let Some(row) = self.rows.get(i * w..(i + 1) * w) {
                let ends = row.first().zip(row.last()).map_or(0, |(a, b)| a ^ b);
                sum = sum.wrapping_add(ends as u64);
            }
            sum = sum.wrapping_add(u64::from(self.seen.contains((ev.lead.0, ev.id))));
        }
        // A late event (see `apply`) re-evaluates its lead's timeline.
        let late = |ev: &CompactEvent| {
            let i = ev.lead.index();
            self.lanes
                .get(i)
                .filter(|l| ev.at <= l.last)
                .and(self.cold.get(i))
        };
        let mut any_late = false;
        for ev in events {
            if let Some(e) = self.lanes.get(ev.lead.index()).and_then(|l| l.log.last()) {
                sum = sum.wrapping_add(u64::from(e.action));
            }
            if let Some(cold) = late(ev) {
                any_late = true;
                sum = sum.wrapping_add(cold.versions.len() as u64 ^ cold.life.history().len() as u64);
            }
        }
        if any_late {
            for cold in events.iter().filter_map(late) {
                let upserted = cold.versions.last().map_or(0, |v| v.0.timestamp_subsec_nanos());
                let moved = cold
                    .life
                    .last_transition_at()
                    .map_or(0, |t| t.timestamp_subsec_nanos());
                sum = sum.wrapping_add(u64::from(upserted ^ moved));
            }
        }
        sum
    }

    /// Ingests ordinary events (keying leads and shapes itself); the same
    /// checks and policies as [`Funnel::ingest_batch`](crate::funnel::Funnel::ingest_batch),
    /// including creating unknown leads under [`UnknownLeads::Create`](crate::funnel::UnknownLeads::Create).
    pub fn ingest_events(
        &mut self,
        events: impl IntoIterator<Item = Event>,
        now: DateTime<Utc>,
    ) -> IngestReport {
        let mut report = IngestReport::default();
        let mut touched = Vec::new();
        for (n, event) in events.into_iter().enumerate() {
            if n % ROTATE_EVERY == ROTATE_EVERY - 1 {
                self.forget_old_ids();
            }
            match self.key_event(&event, now) {
                Ok(ev) => self.admit_and_apply(ev, Some(&event.id), &mut report, &mut touched),
                Err(error) => report.rejected.push(Rejected {
                    event: event.id,
                    lead: event.lead,
                    error,
                }),
            }
        }
        self.finish(report, touched, now)
    }

    /// Checks an ordinary event's time, finds or creates its lead (per the
    /// policy) and keys it.
    fn key_event(&mut self, event: &Event, now: DateTime<Utc>) -> Result<CompactEvent, IngestError> {
        self.check_time(event.at, || event.id.clone(), now)?;
        let full = |what: &str| IngestError::Full {
            event: event.id.clone(),
            what: what.to_owned(),
        };
        let lead = match self.index.get(&event.lead) {
            Some(&i) => i,
            None if self.config.unknown_leads == UnknownLeads::Reject => {
                return Err(IngestError::UnknownLead {
                    lead: event.lead.clone(),
                });
            }
            None => self
                .insert_lead(crate::funnel::auto_created(event)?)
                .ok_or_else(|| full("lead"))?,
        };
        Ok(CompactEvent {
            lead: LeadKey(lead),
            id: event_key(&event.id),
            at: event.at,
            action: self.action(event).map_err(|_| full("shape"))?,
        })
    }

    pub(super) fn finish(
        &mut self,
        mut report: IngestReport,
        mut touched: Vec<u32>,
        now: DateTime<Utc>,
    ) -> IngestReport {
        if !self.config.thresholds.is_empty() {
            touched.sort_unstable();
            touched.dedup();
            for i in touched {
                self.touch(i as usize, now, Some(&mut report.outputs));
            }
        }
        self.forget_old_ids();
        self.stats.duplicates += report.duplicates as u64;
        self.stats.events_rejected += report.rejected.len() as u64;
        report
    }

    /// Forgets the ids of events older than the allowed lateness: a copy of
    /// one is refused as too late before its id is looked at.
    fn forget_old_ids(&mut self) {
        if let Some(w) = self.watermark {
            self.seen.rotate(w, self.config.allowed_lateness);
        }
    }

    /// Refuses events after `now` or beyond the allowed lateness.
    pub(super) fn check_time(
        &self,
        at: DateTime<Utc>,
        event: impl FnOnce() -> EventId,
        now: DateTime<Utc>,
    ) -> Result<(), IngestError> {
        if at > now {
            return Err(IngestError::FromTheFuture {
                event: event(),
                at,
                now,
            });
        }
        if let Some(w) = self.watermark {
            if self.config.too_late(at, w) {
                return Err(IngestError::TooLate {
                    event: event(),
                    at,
                    watermark: w,
                    allowed: self.config.allowed_lateness,
                });
            }
        }
        Ok(())
    }

    pub(super) fn reject(
        &self,
        ev: &CompactEvent,
        given: Option<&EventId>,
        error: IngestError,
        report: &mut IngestReport,
    ) {
        let lead = self
            .cold
            .get(ev.lead.index())
            .map(|c| c.life.lead().clone())
            .or_else(|| LeadId::new(format!("#{}", ev.lead.0)).ok());
        if let Some(lead) = lead {
            report.rejected.push(Rejected {
                event: id_of(ev.id, given),
                lead,
                error,
            });
        }
    }

    fn admit_and_apply(
        &mut self,
        ev: CompactEvent,
        given: Option<&EventId>,
        report: &mut IngestReport,
        touched: &mut Vec<u32>,
    ) {
        if !self.known(&ev, given, report) {
            return;
        }
        if !self.seen.insert((ev.lead.0, ev.id)) {
            report.duplicates += 1;
            return;
        }
        self.apply_checked(ev, given, report, touched);
    }

    /// True when the event's lead and action keys were issued by this
    /// funnel; otherwise refuses it.
    pub(super) fn known(
        &self,
        ev: &CompactEvent,
        given: Option<&EventId>,
        report: &mut IngestReport,
    ) -> bool {
        let unknown = |kind: &str, key: u32| IngestError::UnknownKey {
            event: id_of(ev.id, given),
            kind: kind.to_owned(),
            key,
        };
        if ev.lead.index() >= self.cold.len() {
            self.reject(ev, given, unknown("lead", ev.lead.0), report);
            return false;
        }
        if self.actions.list.get(ev.action.0 as usize).is_none() {
            self.reject(ev, given, unknown("action", ev.action.0), report);
            return false;
        }
        true
    }

    /// Applies an event with known keys and a new id, unless it changes an
    /// attribute to something invalid (then its id is forgotten and it is
    /// refused).
    pub(super) fn apply_checked(
        &mut self,
        ev: CompactEvent,
        given: Option<&EventId>,
        report: &mut IngestReport,
        touched: &mut Vec<u32>,
    ) {
        let Some(action) = self.actions.list.get(ev.action.0 as usize) else {
            return;
        };
        if let EventKind::AttributeChange { key, value } = &action.shape.shape.kind {
            let checked = self
                .cold
                .get(ev.lead.index())
                .and_then(|c| Some(c.lead_at(ev.at)?.into_owned().set_attribute(key, value.clone())));
            if let Some(Err(e)) = checked {
                self.seen.remove((ev.lead.0, ev.id));
                let error = IngestError::bad_attribute(&id_of(ev.id, given), &e);
                return self.reject(&ev, given, error, report);
            }
        }
        if !self.config.thresholds.is_empty() {
            touched.push(ev.lead.0);
        }
        self.apply(ev, given, report);
    }

    fn apply(&mut self, ev: CompactEvent, given: Option<&EventId>, report: &mut IngestReport) {
        let i = ev.lead.index();
        let Some(action) = self.actions.list.get(ev.action.0 as usize) else {
            return;
        };
        let w = self.gates.layout.width();
        self.watermark = Some(self.watermark.map_or(ev.at, |x| x.max(ev.at)));
        let follow_up = action.follow_up();
        let change = action.is_attribute_change();
        let Some(lane) = self.lanes.get_mut(i) else { return };
        if ev.at > lane.last && !change {
            // Nothing on the lead's timeline is at or after `at`:
            // re-evaluating from `at` is evaluating at `at`.
            lane.last = ev.at;
            lane.log.push(Entry {
                at: ev.at,
                action: ev.action.0,
            });
            let stage = lane.stage;
            if let Some(row) = self.rows.get_mut(i * w..(i + 1) * w) {
                self.gates.layout.add(row, &action.bound, action.signals);
            }
            if let (Some(by), Some(cold)) = (follow_up, self.cold.get_mut(i)) {
                cold.life.record_follow_up(ev.at, by);
            }
            self.stats.events_applied += 1;
            report.applied += 1;
            if self.stages.automatic.contains(stage) && self.gates.open(stage, self.bounds(i)) {
                if !self.stages.scoreless.contains(stage) && !self.tighten(i, ev.at, stage) {
                    return;
                }
                self.advance(i, ev.at, &mut report.outputs);
            }
            return;
        }
        // Late (or at the time of something already on the timeline):
        // insert, then re-evaluate from its time.
        let backup = self.cold.get(i).filter(|c| needs_backup(&c.life, ev.at)).cloned();
        let Some(log) = self.lanes.get_mut(i).map(|l| &mut l.log) else {
            return;
        };
        let pos = crate::funnel::timeline::first_from_end(log, |x| x.at <= ev.at);
        log.insert(
            pos,
            Entry {
                at: ev.at,
                action: ev.action.0,
            },
        );
        if let Some(cold) = self.cold.get_mut(i) {
            if let Some(by) = follow_up {
                cold.life.record_follow_up(ev.at, by);
            }
            if change {
                let mut e = action.shape.clone();
                e.at = ev.at;
                let pos = cold.changes.partition_point(|x| x.at <= ev.at);
                cold.changes.insert(pos, e);
            }
        }
        if change {
            self.rebound(i);
        } else if let Some(row) = self.rows.get_mut(i * w..(i + 1) * w) {
            self.gates.layout.add(row, &action.bound, action.signals);
            // The tight bounds hold from their evaluation on, and this
            // re-evaluation starts earlier. (Recomputing them from here
            // costs a pass over the log per late event: measured slower.)
            self.gates.layout.loosen(row);
        }
        self.stats.events_applied += 1;
        let mut outputs = Vec::new();
        match self.rerun(i, ev.at, None, &mut outputs) {
            Ok(()) => {
                report.applied += 1;
                report.outputs.extend(outputs);
                self.settle(i, ev.at);
            }
            Err(c) => {
                // Only possible with a command on record, so with a backup.
                if let Some(b) = backup {
                    if let Some(cold) = self.cold.get_mut(i) {
                        *cold = b;
                    }
                }
                if let Some(log) = self.lanes.get_mut(i).map(|l| &mut l.log) {
                    log.remove(pos);
                }
                self.rebound(i);
                self.stats.events_applied -= 1;
                self.seen.remove((ev.lead.0, ev.id));
                let error = IngestError::ConflictsWithCommand {
                    event: id_of(ev.id, given),
                    command: c.transition.kind().to_string(),
                    command_at: c.at,
                    message: c.error.to_string(),
                };
                self.reject(&ev, given, error, report);
            }
        }
    }
}

/// The id to report for a compact event: the one given, or `#` and the key
/// in hexadecimal.
pub(super) fn id_of(key: u64, given: Option<&EventId>) -> EventId {
    given.cloned().unwrap_or_else(|| {
        EventId::new(format!("#{key:016x}")).unwrap_or_else(|_| unreachable!("a valid id"))
    })
}
