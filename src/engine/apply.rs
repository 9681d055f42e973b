//! Applying events, upserts and commands to a lead: the in-order path, and
//! the re-evaluation from a time in the past.
//!
//! An event later than everything on its lead's timeline is applied to the
//! lead's line in place (its rules' limits and points, its signals), kept
//! in the ring, and the lead's automatic edges are evaluated at its time.
//! Anything else (a late event, an upsert or command in the past) takes
//! back from a copy of the line the lead's recent entries from that time
//! on, rewinds its lifecycle there, and replays the timeline in order:
//! entries, upsert times and commands. The copy replaces the line only if
//! every command on record still applies.

use std::borrow::{Borrow, Cow};

use chrono::{DateTime, Utc};

use super::error::{CommandError, IngestError, Rejected};
use super::gate::may_fire;
use super::keys::{EventKey, KeyedEvent, LeadKey, ShapeKey};
use super::late::{Held, HeldEvent};
use super::lead::{Change, Cold, lead_at};
use super::line::{cache_fit, entry_rules};
use super::output::{IngestReport, Output};
use super::plan::{DUE, LAST, META, Plan, STAGE_BITS, TOUCH};
use super::recent::{Entry, Slot};
use super::view::{LeadEvents, Source, scores, time};
use super::{Engine, LeadRef, UnknownLeads};
use crate::criteria::{Events, LeadView};
use crate::event::{Event, EventKind};
use crate::id::{EventId, OwnerId};
use crate::lead::Lead;
use crate::lifecycle::{Transition, TransitionError, TransitionRecord, TriggerKind};
use crate::scores::Scores;

/// An event about to be applied, checked.
struct Incoming {
    lead: usize,
    key: u64,
    at: DateTime<Utc>,
    t: i64,
    shape: ShapeKey,
}

/// A command that could not be applied again when re-evaluating a lead.
pub(super) struct Conflict {
    pub(super) transition: Transition,
    pub(super) at: DateTime<Utc>,
    pub(super) error: TransitionError,
}

/// What a lead is re-evaluated for.
pub(super) enum Cause<'a> {
    /// An upsert, whose version is already on record.
    Upsert,
    /// New entries (late ones, in any order).
    Entries(&'a [Entry]),
    /// A copy that replaces an applied one with the same id and time.
    Replace {
        /// The applied copy, which leaves.
        old: Entry,
        /// The copy that takes its place.
        new: &'a Entry,
    },
    /// A command at its time.
    Command(Transition, DateTime<Utc>),
}

/// Nanoseconds since the epoch, when the engine can hold the time.
pub(super) fn nanos(at: DateTime<Utc>) -> Option<i64> {
    at.timestamp_nanos_opt()
}

/// Where an event came in a call, to name it in a refusal.
#[derive(Clone, Copy)]
struct Arrival<'a> {
    /// Its position in the call's input.
    index: usize,
    /// Its id, when it came as an `Event`.
    event: Option<&'a EventId>,
}

/// What an event is to an entry with its time and id.
enum Copy {
    /// The same event again (a duplicate).
    Same,
    /// A copy with another payload that comes first in canonical order.
    FirstOf,
}

/// The canonical position of an entry among a lead's events.
fn order(e: &Entry, fingerprint: u64) -> (i64, u64, u64) {
    (e.at, fingerprint, e.key)
}

impl Engine {
    /// An entry's canonical position.
    pub(super) fn order(&self, e: &Entry) -> (i64, u64, u64) {
        order(e, self.shapes.get(ShapeKey(e.shape)).map_or(0, |s| s.fingerprint))
    }

    /// Lead `i`'s line.
    pub(super) fn line(&self, i: usize) -> &[u64] {
        let w = self.plan.width;
        self.lines.get(i * w..(i + 1) * w).unwrap_or(&[])
    }

    /// The time (ns) from which recent entries must be kept: the retention
    /// behind the watermark.
    pub(super) fn keep_from(&self) -> i64 {
        self.keep_from_under(&self.plan)
    }

    /// The time (ns) from which recent entries must be kept under `plan`.
    pub(super) fn keep_from_under(&self, plan: &Plan) -> i64 {
        match (plan.retention, self.watermark.and_then(nanos)) {
            (Some(r), Some(w)) => w.saturating_sub(r.as_seconds().saturating_mul(1_000_000_000)),
            _ => i64::MIN,
        }
    }

    /// The earliest time an event or command is accepted at.
    pub(super) fn earliest(&self) -> Option<DateTime<Utc>> {
        self.watermark.and_then(|w| self.config.earliest(w))
    }

    /// Adds a lead, or records a new version of its attributes as of `now`
    /// (fit is recomputed from then on; history before `now` keeps the
    /// attributes it had). A new lead is evaluated at its creation time and
    /// an updated one at `now`; what fires (transitions, retractions and
    /// threshold crossings the new attributes cause) is returned with the
    /// lead's key. The first record of a lead its events created (see
    /// [`UnknownLeads::Create`]) is taken as if it had come first.
    ///
    /// # Errors
    ///
    /// [`CommandError::Transition`] when the new attributes would make a
    /// command on record after `now` illegal; [`CommandError::TooLate`] for
    /// an update dated before the allowed lateness; [`CommandError::Full`]
    /// past 2³² − 1 leads. Nothing changes.
    pub fn upsert_lead(
        &mut self,
        lead: Lead,
        now: DateTime<Utc>,
    ) -> Result<(LeadKey, Vec<Output>), CommandError> {
        let mut outputs = Vec::new();
        match self.index.get(&lead.id).map(|i| *i as usize) {
            None => {
                let created = lead.created_at;
                nanos(created).ok_or(CommandError::OutOfRange { at: created })?;
                let i = self.insert_lead(lead)?;
                self.evaluate_in_order(i, created, &mut outputs);
                self.report_crossings(i, created, &mut outputs);
                Ok((LeadKey(i as u32), outputs))
            }
            Some(i) => {
                let t = nanos(now).ok_or(CommandError::OutOfRange { at: now })?;
                self.check_not_too_late(now)?;
                let earliest = self.earliest();
                let placeholder = self
                    .cold
                    .get(i)
                    .filter(|c| c.by_events)
                    .and_then(|c| c.versions.first())
                    .map(|(t0, _)| *t0);
                if let Some(t0) = placeholder.filter(|t0| earliest.is_none_or(|e| *t0 >= e)) {
                    return self.redate(i, lead, t0, now);
                }
                let Some(cold) = self.cold.get_mut(i) else {
                    return Err(CommandError::UnknownLead { lead: lead.id });
                };
                cold.upsert(lead, now);
                let by_events = std::mem::take(&mut cold.by_events);
                let w = self.plan.width;
                if let Some(line) = self.lines.get_mut(i * w..(i + 1) * w) {
                    set(line, self.plan.fit_word, i64::MAX as u64);
                }
                let touch = self.line(i).get(TOUCH).map_or(i64::MIN, |w| *w as i64);
                if t > touch {
                    self.evaluate_in_order(i, now, &mut outputs);
                } else if let Err(c) = self.rerun(i, now, (t, 0, 0), Cause::Upsert, &mut outputs) {
                    if let Some(cold) = self.cold.get_mut(i) {
                        let pos = cold.versions.partition_point(|(at, _)| *at <= now);
                        if pos > 0 {
                            cold.versions.remove(pos - 1);
                        }
                        cold.by_events = by_events;
                    }
                    return Err(CommandError::Transition(c.error));
                }
                self.report_crossings(i, now, &mut outputs);
                Ok((LeadKey(i as u32), outputs))
            }
        }
    }

    /// The host's first record of lead `i`, created by its events at `t0`
    /// (all of them still re-evaluable): the lead is created again from the
    /// record, with its events, as if the record had come first.
    fn redate(
        &mut self,
        i: usize,
        lead: Lead,
        t0: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(LeadKey, Vec<Output>), CommandError> {
        let created = lead.created_at;
        nanos(created).ok_or(CommandError::OutOfRange { at: created })?;
        let from = created.min(t0);
        let Some(cold) = self.cold.get_mut(i) else {
            return Err(CommandError::UnknownLead { lead: lead.id });
        };
        let placeholder = std::mem::replace(&mut cold.versions, vec![(created, lead)]);
        cold.by_events = false;
        let w = self.plan.width;
        if let Some(line) = self.lines.get_mut(i * w..(i + 1) * w) {
            set(line, self.plan.fit_word, i64::MAX as u64);
        }
        let mut outputs = Vec::new();
        let order = (nanos(from).unwrap_or(i64::MIN), 0, 0);
        if let Err(c) = self.rerun(i, from, order, Cause::Upsert, &mut outputs) {
            if let Some(cold) = self.cold.get_mut(i) {
                cold.versions = placeholder;
                cold.by_events = true;
            }
            return Err(CommandError::Transition(c.error));
        }
        self.report_crossings(i, now, &mut outputs);
        Ok((LeadKey(i as u32), outputs))
    }

    fn check_not_too_late(&self, at: DateTime<Utc>) -> Result<(), CommandError> {
        match self.earliest() {
            Some(earliest) if at < earliest => Err(CommandError::TooLate { at, earliest }),
            _ => Ok(()),
        }
    }

    fn insert_lead(&mut self, lead: Lead) -> Result<usize, CommandError> {
        let i = u32::try_from(self.cold.len())
            .ok()
            .filter(|i| *i < u32::MAX)
            .ok_or(CommandError::Full)?;
        let life = self.machine.start(&lead);
        self.index.insert(lead.id.clone(), i);
        self.lines
            .extend(self.plan.empty_line(life.stage().index() as u8));
        self.crossing.extend(std::iter::repeat_n(
            crate::points::Points::ZERO,
            self.config.thresholds.len(),
        ));
        self.cold.push(Cold::new(lead, life));
        self.stats.leads_created += 1;
        Ok(i as usize)
    }

    /// Ingests events in the order given: each is checked (not after
    /// `now`, within the allowed lateness of the latest event before it,
    /// lead known or created per policy, not a duplicate, attribute changes
    /// valid) and applied. Refused events are listed in the report with
    /// why; nothing of them is applied.
    ///
    /// A lead's events that arrive late (earlier than something on its
    /// timeline) are applied together, before the lead's next in-order
    /// event of the call and at its end: one re-evaluation of the lead
    /// instead of one per event, so a backfill or a reversed stream costs
    /// time linear in its size. The state is the same as one at a time; the
    /// outputs are the net change (a transition one late event would fire
    /// and the next retract is not reported).
    pub fn ingest<E: Borrow<Event>>(
        &mut self,
        events: impl IntoIterator<Item = E>,
        now: DateTime<Utc>,
    ) -> IngestReport {
        let mut report = IngestReport::default();
        let mut touched = Vec::new();
        let mut held = Held::default();
        let behind = self.check_now(now);
        for (index, event) in events.into_iter().enumerate() {
            let event = event.borrow();
            if let Some(error) = &behind {
                report.rejected.push(Rejected {
                    index,
                    lead: Some(event.lead.clone()),
                    event: Some(event.id.clone()),
                    key: EventKey::of(&event.id),
                    error: error.clone(),
                });
                continue;
            }
            let key = EventKey::of(&event.id);
            let reject = |error| Rejected {
                index,
                lead: Some(event.lead.clone()),
                event: Some(event.id.clone()),
                key,
                error,
            };
            let lead = match self.index.get(&event.lead) {
                Some(&i) => i as usize,
                None if self.config.unknown_leads == UnknownLeads::Reject => {
                    let error = IngestError::UnknownLead {
                        lead: event.lead.clone(),
                    };
                    report.rejected.push(reject(error));
                    continue;
                }
                // A refused event creates no lead: check its time first.
                None => match self
                    .check_time(event.at, now)
                    .and_then(|()| self.auto_create(event, &mut report.outputs))
                {
                    Ok(i) => i,
                    Err(error) => {
                        report.rejected.push(reject(error));
                        continue;
                    }
                },
            };
            let shape = match self.shape(&event.shape) {
                Ok(s) => s,
                Err(error) => {
                    report.rejected.push(reject(error));
                    continue;
                }
            };
            let keyed = KeyedEvent {
                lead: LeadKey(lead as u32),
                key,
                at: event.at,
                shape,
            };
            let at = Arrival {
                index,
                event: Some(&event.id),
            };
            if let Err(error) = self.ingest_one(&keyed, at, now, &mut report, &mut touched, &mut held) {
                report.rejected.push(reject(error));
            }
        }
        self.release_all(&mut held, &mut report, &mut touched);
        self.finish(report, touched, now)
    }

    /// Ingests keyed events in the order given; see
    /// [`ingest`](Self::ingest). The fast path for hosts that keep keys:
    /// no string is hashed or compared.
    pub fn ingest_keyed(&mut self, events: &[KeyedEvent], now: DateTime<Utc>) -> IngestReport {
        let mut report = IngestReport::default();
        let mut touched = Vec::new();
        let mut held = Held::default();
        let behind = self.check_now(now);
        for (index, e) in events.iter().enumerate() {
            let at = Arrival { index, event: None };
            let result = match &behind {
                Some(error) => Err(error.clone()),
                None => self.ingest_one(e, at, now, &mut report, &mut touched, &mut held),
            };
            if let Err(error) = result {
                report.rejected.push(Rejected {
                    index,
                    lead: self.cold.get(e.lead.index()).map(|c| c.life.lead().clone()),
                    event: None,
                    key: e.key,
                    error,
                });
            }
        }
        self.release_all(&mut held, &mut report, &mut touched);
        self.finish(report, touched, now)
    }

    /// The refusal of every event of a call whose `now` is before the
    /// latest an earlier call passed; otherwise `now` becomes the latest.
    pub(super) fn check_now(&mut self, now: DateTime<Utc>) -> Option<IngestError> {
        match self.now {
            Some(latest) if now < latest => Some(IngestError::NowBeforeLatest { now, latest }),
            _ => {
                self.now = Some(now);
                None
            }
        }
    }

    /// Counts what a call refused and reports its leads' score crossings.
    pub(super) fn finish(
        &mut self,
        mut report: IngestReport,
        mut touched: Vec<usize>,
        now: DateTime<Utc>,
    ) -> IngestReport {
        self.stats.events_rejected += report.rejected.len() as u64;
        // Held late events refused when applied come after the others.
        report.rejected.sort_by_key(|r| r.index);
        if !self.config.thresholds.is_empty() {
            touched.sort_unstable();
            touched.dedup();
            for i in touched {
                self.report_crossings(i, now, &mut report.outputs);
            }
        }
        report
    }

    /// The lead an event of an unknown lead creates under
    /// [`UnknownLeads::Create`]: its id, created at the event's time (an
    /// earlier event or the host's first record re-dates it).
    fn auto_create(&mut self, event: &Event, outputs: &mut Vec<Output>) -> Result<usize, IngestError> {
        let lead = Lead::new(event.lead.clone(), event.at);
        if let EventKind::AttributeChange { key, value } = &event.shape.kind {
            lead.clone()
                .set_attribute(key, value.clone())
                .map_err(|e| IngestError::BadAttribute {
                    message: e.to_string(),
                })?;
        }
        let i = self
            .insert_lead(lead)
            .map_err(|_| IngestError::Full { what: "lead".into() })?;
        if let Some(cold) = self.cold.get_mut(i) {
            cold.by_events = true;
        }
        self.evaluate_in_order(i, event.at, outputs);
        Ok(i)
    }

    /// Checks one event and applies it, or holds it with its lead's other
    /// late events of the call.
    fn ingest_one(
        &mut self,
        e: &KeyedEvent,
        arrival: Arrival<'_>,
        now: DateTime<Utc>,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
        held: &mut Held,
    ) -> Result<(), IngestError> {
        let i = e.lead.index();
        if i >= self.cold.len() {
            return Err(IngestError::UnknownKey {
                what: "lead".into(),
                key: e.lead.0,
            });
        }
        if self.shapes.get(e.shape).is_none() {
            return Err(IngestError::UnknownKey {
                what: "shape".into(),
                key: e.shape.0,
            });
        }
        self.check_time(e.at, now)?;
        // Held events are applied before the watermark moves past them:
        // they were accepted against the watermark they came with.
        if let Some(first) = held.earliest() {
            if self.watermark.is_some_and(|w| e.at > w)
                && self
                    .config
                    .earliest(e.at)
                    .and_then(nanos)
                    .is_some_and(|t| first < t)
            {
                self.release_all(held, report, touched);
            }
        }
        if !self.hold_if_late(e, arrival, report, held)? {
            self.release(e.lead.index(), held, report, touched);
            self.apply_checked(e, report, touched)?;
        }
        self.watermark = Some(self.watermark.map_or(e.at, |w| w.max(e.at)));
        Ok(())
    }

    /// Refuses an event dated too far after `now`, outside the engine's
    /// time range, or too late.
    fn check_time(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), IngestError> {
        let skew = self.config.clock_skew;
        if skew.after(now).is_some_and(|latest| at > latest) {
            return Err(IngestError::TooFarInFuture { at, now, skew });
        }
        nanos(at).ok_or(IngestError::OutOfRange { at })?;
        if let (Some(earliest), Some(watermark)) = (self.earliest(), self.watermark) {
            if at < earliest {
                return Err(IngestError::TooLate {
                    at,
                    watermark,
                    allowed: self.config.allowed_lateness,
                });
            }
        }
        Ok(())
    }

    /// Holds `e` (or counts it as a duplicate) when it is late for its lead
    /// and not after the watermark (so holding it moves no later event's
    /// lateness check); true when it did. A copy of a held event with
    /// another payload is not held: the lead's held events are applied
    /// first, so it meets an applied copy. An attribute change is checked
    /// first (whether a value fits an attribute does not depend on the
    /// lead's other attributes).
    fn hold_if_late(
        &mut self,
        e: &KeyedEvent,
        arrival: Arrival<'_>,
        report: &mut IngestReport,
        held: &mut Held,
    ) -> Result<bool, IngestError> {
        let i = e.lead.index();
        let Some(t) = nanos(e.at) else {
            return Ok(false);
        };
        let line = self.line(i);
        let touch = line.get(TOUCH).map_or(i64::MIN, |w| *w as i64);
        if t > touch || self.watermark.is_none_or(|w| e.at > w) {
            return Ok(false);
        }
        let last = line.get(LAST).map_or(i64::MIN, |w| *w as i64);
        let meta = line.get(META).copied().unwrap_or(0);
        if let Some(seen) = (t <= last)
            .then(|| self.recent.find(meta, t, e.key.get()))
            .flatten()
        {
            match self.copy_of(&seen, e)? {
                Copy::Same => {
                    report.duplicates += 1;
                    self.stats.duplicates += 1;
                    return Ok(true);
                }
                // Replacing an applied copy takes its own re-evaluation.
                Copy::FirstOf => return Ok(false),
            }
        }
        if let Some(seen) = held.find(i, t, e.key.get()) {
            if seen.entry.shape != e.shape.0 {
                // A conflicting copy is judged against the applied copy,
                // as in a later call: whichever comes first in canonical
                // order counts, unless it is refused.
                return Ok(false);
            }
            // A duplicate once the held copy is applied; refused with it.
            seen.again.push((arrival.index, arrival.event.cloned()));
            return Ok(true);
        }
        self.check_attribute(i, e)?;
        held.hold(
            i,
            HeldEvent {
                index: arrival.index,
                event: arrival.event.cloned(),
                key: e.key,
                entry: Entry::new(t, e.key.get(), e.shape.0),
                again: Vec::new(),
            },
        );
        Ok(true)
    }

    /// Applies an event of a known lead and shape, within the lateness:
    /// ignores a duplicate, refuses a bad attribute change or a conflict
    /// with a command on record.
    pub(super) fn apply_checked(
        &mut self,
        e: &KeyedEvent,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
    ) -> Result<(), IngestError> {
        let i = e.lead.index();
        let t = nanos(e.at).ok_or(IngestError::OutOfRange { at: e.at })?;
        let line = self.line(i);
        let last = line.get(LAST).map_or(i64::MIN, |w| *w as i64);
        if t <= last {
            let meta = line.get(META).copied().unwrap_or(0);
            if let Some(seen) = self.recent.find(meta, t, e.key.get()) {
                return match self.copy_of(&seen, e)? {
                    Copy::Same => {
                        report.duplicates += 1;
                        self.stats.duplicates += 1;
                        Ok(())
                    }
                    Copy::FirstOf => self.replace_copy(i, seen, e, report, touched),
                };
            }
        }
        self.check_attribute(i, e)?;
        let inc = Incoming {
            lead: i,
            key: e.key.get(),
            at: e.at,
            t,
            shape: e.shape,
        };
        let touch = self.line(i).get(TOUCH).map_or(i64::MIN, |w| *w as i64);
        if t > touch {
            self.apply_in_order(&inc, &mut report.outputs);
        } else {
            let fingerprint = self.shapes.get(e.shape).map_or(0, |s| s.fingerprint);
            let entry = Entry::new(t, inc.key, inc.shape.0);
            let from = order(&entry, fingerprint);
            if let Err(c) = self.rerun(i, e.at, from, Cause::Entries(&[entry]), &mut report.outputs) {
                return Err(IngestError::ConflictsWithCommand {
                    command: c.transition.kind(),
                    command_at: c.at,
                    message: c.error.to_string(),
                });
            }
            self.stats.late_events += 1;
        }
        if let Some(log) = self.log.as_mut() {
            log.push(i as u32, t, e.shape.0);
        }
        report.applied += 1;
        self.stats.events_applied += 1;
        touched.push(i);
        Ok(())
    }

    /// What `e` is to the entry `seen` with its time and id: the same event
    /// again, or a conflicting copy (another payload) that comes first in
    /// canonical order and so replaces it. A conflicting copy that comes
    /// after is refused: of the copies of an event, the one with the lowest
    /// shape fingerprint counts, whatever the order they arrive in.
    fn copy_of(&self, seen: &Entry, e: &KeyedEvent) -> Result<Copy, IngestError> {
        if seen.shape == e.shape.0 {
            return Ok(Copy::Same);
        }
        let fp = |s: u32| self.shapes.get(ShapeKey(s)).map_or(0, |x| x.fingerprint);
        if fp(e.shape.0) < fp(seen.shape) {
            Ok(Copy::FirstOf)
        } else {
            Err(IngestError::ConflictingDuplicate { at: e.at })
        }
    }

    /// Replaces the applied copy `seen` of an event with `e`, which comes
    /// first in canonical order: the lead is re-evaluated from there.
    fn replace_copy(
        &mut self,
        i: usize,
        seen: Entry,
        e: &KeyedEvent,
        report: &mut IngestReport,
        touched: &mut Vec<usize>,
    ) -> Result<(), IngestError> {
        self.check_attribute(i, e)?;
        let t = seen.at;
        let entry = Entry::new(t, seen.key, e.shape.0);
        let from = self.order(&entry);
        self.rerun(
            i,
            e.at,
            from,
            Cause::Replace {
                old: seen,
                new: &entry,
            },
            &mut report.outputs,
        )
        .map_err(|c| IngestError::ConflictsWithCommand {
            command: c.transition.kind(),
            command_at: c.at,
            message: c.error.to_string(),
        })?;
        if let Some(log) = self.log.as_mut() {
            log.replace(i as u32, t, seen.shape, e.shape.0);
        }
        report.replaced += 1;
        self.stats.replaced += 1;
        touched.push(i);
        Ok(())
    }

    /// Refuses an attribute change the lead cannot take.
    fn check_attribute(&self, i: usize, e: &KeyedEvent) -> Result<(), IngestError> {
        let Some(shape) = self.shapes.get(e.shape) else {
            return Ok(());
        };
        if let EventKind::AttributeChange { key, value } = &shape.shape.kind {
            if let Some(lead) = self.cold.get(i).and_then(|c| c.lead_at(e.at)) {
                lead.into_owned()
                    .set_attribute(key, value.clone())
                    .map_err(|err| IngestError::BadAttribute {
                        message: err.to_string(),
                    })?;
            }
        }
        Ok(())
    }

    /// Applies an event later than everything on its lead's timeline.
    fn apply_in_order(&mut self, inc: &Incoming, outputs: &mut Vec<Output>) {
        let keep_from = self.keep_from();
        let w = self.plan.width;
        let mut entry = Entry::new(inc.t, inc.key, inc.shape.0);
        let Some(shape) = self.shapes.get(inc.shape) else {
            return;
        };
        let Some(line) = self.lines.get_mut(inc.lead * w..(inc.lead + 1) * w) else {
            return;
        };
        entry.counted = entry_rules(&self.model, &self.plan, &self.shapes, line, &entry, 1);
        // An entry already older than what must be kept (a long history
        // replayed at once) would only be dropped.
        if inc.t >= keep_from {
            let meta = line.get(META).copied().unwrap_or(0);
            let shapes = &self.shapes;
            let order = |e: &Entry| order(e, shapes.get(ShapeKey(e.shape)).map_or(0, |s| s.fingerprint));
            set(line, META, self.recent.add(meta, entry, keep_from, &order));
        }
        set(line, LAST, inc.t as u64);
        set(line, TOUCH, inc.t as u64);
        let follow_up = shape.follow_up();
        let change = match &shape.shape.kind {
            k @ EventKind::AttributeChange { .. } => Some(Change {
                order: order(&entry, shape.fingerprint),
                at: inc.at,
                shape: inc.shape.0,
                kind: k.clone(),
            }),
            _ => None,
        };
        if change.is_some() {
            set(line, self.plan.fit_word, i64::MAX as u64);
        }
        if let Some(cold) = self.cold.get_mut(inc.lead) {
            if let Some(c) = change {
                cold.change(c);
            }
            if let Some(by) = follow_up {
                cold.life.record_follow_up(inc.at, by);
            }
        }
        self.evaluate_in_order(inc.lead, inc.at, outputs);
    }

    /// Evaluates lead `i`'s automatic edges at `at`, the latest time on its
    /// timeline, and reports what fires.
    pub(super) fn evaluate_in_order(&mut self, i: usize, at: DateTime<Utc>, outputs: &mut Vec<Output>) {
        let keep_from = self.keep_from();
        let w = self.plan.width;
        let t = nanos(at).unwrap_or(i64::MIN);
        let Some(line) = self.lines.get_mut(i * w..(i + 1) * w) else {
            return;
        };
        set(
            line,
            TOUCH,
            line.get(TOUCH).map_or(0, |x| (*x as i64).max(t) as u64),
        );
        let stage = stage_of(line);
        if !self.plan.automatic.contains(stage) {
            return;
        }
        // The fit of the lead's current attributes, cached once per change.
        if line
            .get(self.plan.fit_word)
            .is_some_and(|f| *f as i64 == i64::MAX)
        {
            if let Some(cold) = self.cold.get(i) {
                if let Some(lead) = cold.current() {
                    cache_fit(&self.model, &self.plan, line, &lead, cold.attributes_from());
                }
            }
        }
        if !may_fire(&self.model, &self.machine, &self.plan, line, stage, at, None) {
            return;
        }
        let Engine {
            model,
            machine,
            plan,
            shapes,
            lines,
            cold,
            recent,
            stats,
            ..
        } = self;
        let (Some(line), Some(cold)) = (lines.get_mut(i * w..(i + 1) * w), cold.get_mut(i)) else {
            return;
        };
        let source = Source::Kept {
            recent,
            meta: line.get(META).copied().unwrap_or(0),
            from: keep_from,
        };
        let Cold {
            versions,
            changes,
            life,
            ..
        } = cold;
        let lead = lead_at(versions, changes, at);
        let Some(lead) = lead else { return };
        let fired = {
            let line: &[u64] = line;
            let events = LeadEvents::new(source, shapes, plan, line);
            let checklist = life.checklist().clone();
            let view = LeadView {
                lead: &lead,
                events: Events::kept(&events),
                scores: None,
                checklist: Some(&checklist),
                stage: None,
            };
            machine
                .advance_scoring_lazily(
                    life,
                    &view,
                    at,
                    model.version(),
                    |_| true,
                    || scores(model, plan, shapes, line, &lead, source, at),
                )
                .to_vec()
        };
        if fired.is_empty() {
            return;
        }
        stats.transitions += fired.len() as u64;
        settle_line(line, life, machine);
        outputs.extend(fired.into_iter().map(|record| Output::Transition { record }));
    }

    /// Re-evaluates lead `i` from the earliest of `entries` with them added.
    pub(super) fn rerun_entries(
        &mut self,
        i: usize,
        entries: &[Entry],
        report: &mut IngestReport,
    ) -> Result<(), IngestError> {
        let Some(first) = entries.iter().min_by_key(|e| self.order(e)) else {
            return Ok(());
        };
        let from = self.order(first);
        self.rerun(
            i,
            time(first.at),
            from,
            Cause::Entries(entries),
            &mut report.outputs,
        )
        .map_err(|c| IngestError::ConflictsWithCommand {
            command: c.transition.kind(),
            command_at: c.at,
            message: c.error.to_string(),
        })
    }

    /// Re-evaluates lead `i` from `from` (canonical position `from_order`)
    /// for `cause`.
    pub(super) fn rerun(
        &mut self,
        i: usize,
        from: DateTime<Utc>,
        from_order: (i64, u64, u64),
        cause: Cause<'_>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), Box<Conflict>> {
        let events = matches!(cause, Cause::Entries(_));
        let (new, replaced, command): (&[Entry], Option<Entry>, _) = match cause {
            Cause::Upsert => (&[], None, None),
            Cause::Entries(new) => (new, None, None),
            Cause::Replace { old, new } => (std::slice::from_ref(new), Some(old), None),
            Cause::Command(transition, at) => (&[], None, Some((transition, at))),
        };
        let keep_from = self.keep_from();
        let w = self.plan.width;
        let Some(line) = self.lines.get(i * w..(i + 1) * w) else {
            return Ok(());
        };
        let mut line = line.to_vec();
        let meta = line.get(META).copied().unwrap_or(0);
        // The lead's recent entries in canonical order, split at `from`.
        let fp = |e: &Entry| self.shapes.get(ShapeKey(e.shape)).map_or(0, |s| s.fingerprint);
        let by_order = |e: &Entry| order(e, fp(e));
        let (settled, mut redo) = self.recent.split(meta, keep_from, from_order, &by_order);
        let mut redo: Vec<(Option<Slot>, Entry)> = redo.drain(..).map(|(s, e)| (Some(s), e)).collect();
        let mut applied: Vec<Entry> = Vec::with_capacity(redo.len() + 1);
        // Take back the later entries, latest first.
        for (_, e) in redo.iter().rev() {
            self.take_back_entry(&mut line, e);
        }
        // A replaced copy leaves; its replacement takes its place.
        let mut reused: Option<Slot> = None;
        if let Some(old) = replaced {
            if let Some(pos) = redo
                .iter()
                .position(|(_, e)| (e.at, e.key, e.shape) == (old.at, old.key, old.shape))
            {
                reused = redo.remove(pos).0;
            }
        }
        if !new.is_empty() {
            // Merge the new entries (any order) into the later ones.
            redo.extend(
                new.iter()
                    .map(|e| (if replaced.is_some() { reused } else { None }, *e)),
            );
            redo.sort_by_key(|(_, e)| by_order(e));
        }
        let Some(cold) = self.cold.get(i) else {
            return Ok(());
        };
        // The new attribute changes and follow-ups take effect for the
        // replay.
        let mut changes = cold.changes.clone();
        let mut life = cold.life.clone();
        if let Some(old) = replaced {
            let gone = by_order(&old);
            let before = changes.len();
            changes.retain(|c| c.order != gone);
            if changes.len() != before {
                set(&mut line, self.plan.fit_word, i64::MAX as u64);
            }
            if let Some(by) = self.shapes.get(ShapeKey(old.shape)).and_then(|s| s.follow_up()) {
                life.forget_follow_up(time(old.at), &by);
            }
        }
        for e in new {
            let Some(shape) = self.shapes.get(ShapeKey(e.shape)) else {
                continue;
            };
            if let k @ EventKind::AttributeChange { .. } = &shape.shape.kind {
                let c = Change {
                    order: order(e, shape.fingerprint),
                    at: time(e.at),
                    shape: e.shape,
                    kind: k.clone(),
                };
                let pos = changes.partition_point(|x| x.order < c.order);
                changes.insert(pos, c);
                set(&mut line, self.plan.fit_word, i64::MAX as u64);
            }
            if let Some(by) = shape.follow_up() {
                life.record_follow_up(time(e.at), by);
            }
        }
        // A lead created by its events is created at the earliest.
        let mut versions = Cow::Borrowed(cold.versions.as_slice());
        if events && cold.by_events && versions.first().is_some_and(|(t, _)| from < *t) {
            versions = Cow::Owned(vec![(from, Lead::new(life.lead().clone(), from))]);
            set(&mut line, self.plan.fit_word, i64::MAX as u64);
        }
        // The lifecycle starts at the first version: a re-dated creation
        // starts it again.
        let removed = match versions.first() {
            Some((t, first))
                if (*t, self.machine.initial_stage(first)) != (life.created_at(), life.initial_stage()) =>
            {
                life.restart(self.machine.initial_stage(first), *t)
            }
            _ => life.rewind(from),
        };
        let keep = life.history().len();
        let mut commands: Vec<(Transition, DateTime<Utc>)> = removed
            .iter()
            .filter(|r| r.trigger == TriggerKind::Command)
            .map(|r| (r.transition.clone(), r.at))
            .collect();
        commands.extend(command);
        commands.sort_by_key(|c| c.1);
        let mut commands = commands.into_iter().peekable();
        // Every evaluation time from `from` on: the entries' and the
        // upserts'.
        let mut times: Vec<i64> = redo.iter().map(|(_, e)| e.at).collect();
        times.extend(
            versions
                .iter()
                .filter(|(at, _)| *at >= from)
                .filter_map(|(at, _)| nanos(*at)),
        );
        times.sort_unstable();
        times.dedup();
        let mut next = 0usize;
        let mut masks: Vec<(Option<Slot>, Entry)> = Vec::with_capacity(redo.len());
        let ctx = Replay {
            engine: self,
            versions: &versions,
            changes: &changes,
        };
        for &tau in &times {
            let at = time(tau);
            while let Some(c) = commands.next_if(|c| c.1 < at) {
                ctx.command(
                    &mut life,
                    &line,
                    Source::Parts(settled.parts().0, settled.parts().1, &applied),
                    c,
                )?;
            }
            while let Some(&(slot, mut e)) = redo.get(next).filter(|(_, e)| e.at == tau) {
                e.counted = ctx.engine.apply_entry(&mut line, &e);
                applied.push(e);
                masks.push((slot, e));
                next += 1;
            }
            if ctx.engine.plan.automatic.contains(life.stage()) {
                ctx.advance(
                    &mut life,
                    &line,
                    Source::Parts(settled.parts().0, settled.parts().1, &applied),
                    at,
                );
            }
        }
        for c in commands {
            ctx.command(
                &mut life,
                &line,
                Source::Parts(settled.parts().0, settled.parts().1, &applied),
                c,
            )?;
        }
        drop(settled);
        let redated = match versions {
            Cow::Owned(v) => Some(v),
            Cow::Borrowed(_) => None,
        };
        // Every command applied again: commit.
        let added: Vec<TransitionRecord> = life.history().get(keep..).unwrap_or(&[]).to_vec();
        // Masks first (the new entry's insertion may move the others).
        let meta = line.get(META).copied().unwrap_or(0);
        for (slot, e) in &masks {
            if let Some(slot) = slot.filter(|s| Some(*s) != reused) {
                self.recent.set_counted(meta, slot, e.counted);
            }
        }
        // The replacement last: in a heavy lead's list it may move.
        if let Some(slot) = reused {
            if let Some((_, e)) = masks.iter().find(|(s, _)| *s == Some(slot)) {
                let shapes = &self.shapes;
                let by_order =
                    |x: &Entry| order(x, shapes.get(ShapeKey(x.shape)).map_or(0, |s| s.fingerprint));
                self.recent.replace(meta, slot, e.shape, e.counted, &by_order);
            }
        }
        for (_, e) in masks.iter().filter(|(slot, _)| slot.is_none()) {
            let shapes = &self.shapes;
            let by_order = |x: &Entry| order(x, shapes.get(ShapeKey(x.shape)).map_or(0, |s| s.fingerprint));
            let meta = line.get(META).copied().unwrap_or(0);
            set(&mut line, META, self.recent.add(meta, *e, keep_from, &by_order));
            let last = line.get(LAST).map_or(i64::MIN, |w| *w as i64).max(e.at);
            set(&mut line, LAST, last as u64);
        }
        let touch = [
            line.get(TOUCH).map_or(i64::MIN, |w| *w as i64),
            nanos(from).unwrap_or(i64::MIN),
            life.last_transition_at().and_then(nanos).unwrap_or(i64::MIN),
        ]
        .into_iter()
        .max()
        .unwrap_or(i64::MIN);
        set(&mut line, TOUCH, touch as u64);
        settle_line(&mut line, &life, &self.machine);
        if let Some(dst) = self.lines.get_mut(i * w..(i + 1) * w) {
            dst.copy_from_slice(&line);
        }
        if let Some(cold) = self.cold.get_mut(i) {
            cold.life = life;
            cold.changes = changes;
            if let Some(versions) = redated {
                cold.versions = versions;
            }
        }
        let (retracted, fired) = diff(removed, added);
        self.stats.retractions += retracted.len() as u64;
        self.stats.transitions += fired.len() as u64;
        outputs.extend(retracted.into_iter().map(|record| Output::Retracted { record }));
        outputs.extend(fired.into_iter().map(|record| Output::Transition { record }));
        Ok(())
    }

    /// Applies a command from the host (sales accepts, rejects, qualifies,
    /// wins...) at time `at`, on the lead's timeline: automatic transitions
    /// after `at` are re-evaluated. Returns what changed.
    ///
    /// # Errors
    ///
    /// [`CommandError`] when the lead is unknown, the time is earlier than
    /// the allowed lateness lets the engine re-evaluate, or the lifecycle
    /// refuses the transition (illegal edge, unmet guard, or a later command
    /// on record would become illegal); nothing changes.
    pub fn command(
        &mut self,
        lead: impl LeadRef,
        transition: Transition,
        at: DateTime<Utc>,
    ) -> Result<Vec<Output>, CommandError> {
        let i = lead.index_in(self).ok_or_else(|| lead.unknown())?;
        let t = nanos(at).ok_or(CommandError::OutOfRange { at })?;
        self.check_not_too_late(at)?;
        let mut outputs = Vec::new();
        let touch = self.line(i).get(TOUCH).map_or(i64::MIN, |w| *w as i64);
        let result = if t >= touch {
            self.command_in_order(i, transition, at, &mut outputs)
        } else {
            self.rerun(i, at, (t, 0, 0), Cause::Command(transition, at), &mut outputs)
        };
        result.map_err(|c| CommandError::Transition(c.error))?;
        Ok(outputs)
    }

    /// Applies a command at or after everything on the lead's timeline.
    fn command_in_order(
        &mut self,
        i: usize,
        transition: Transition,
        at: DateTime<Utc>,
        outputs: &mut Vec<Output>,
    ) -> Result<(), Box<Conflict>> {
        let keep_from = self.keep_from();
        let w = self.plan.width;
        let Some(line) = self.lines.get(i * w..(i + 1) * w) else {
            return Ok(());
        };
        let mut line = line.to_vec();
        let meta = line.get(META).copied().unwrap_or(0);
        let Some(cold) = self.cold.get(i) else {
            return Ok(());
        };
        let mut life = cold.life.clone();
        let keep = life.history().len();
        let ctx = Replay {
            engine: self,
            versions: &cold.versions,
            changes: &cold.changes,
        };
        let source = Source::Kept {
            recent: &self.recent,
            meta,
            from: keep_from,
        };
        ctx.command(&mut life, &line, source, (transition, at))?;
        let added: Vec<TransitionRecord> = life.history().get(keep..).unwrap_or(&[]).to_vec();
        let touch = line
            .get(TOUCH)
            .map_or(i64::MIN, |w| *w as i64)
            .max(nanos(at).unwrap_or(i64::MIN));
        set(&mut line, TOUCH, touch as u64);
        settle_line(&mut line, &life, &self.machine);
        if let Some(dst) = self.lines.get_mut(i * w..(i + 1) * w) {
            dst.copy_from_slice(&line);
        }
        if let Some(cold) = self.cold.get_mut(i) {
            cold.life = life;
        }
        self.stats.transitions += added.len() as u64;
        outputs.extend(added.into_iter().map(|record| Output::Transition { record }));
        Ok(())
    }

    /// Records a sales follow-up (for follow-up SLAs and speed). `SalesTouch`
    /// and `MeetingHeld` events record one by themselves.
    ///
    /// # Errors
    ///
    /// [`CommandError::UnknownLead`] or [`CommandError::UnknownKey`].
    pub fn record_follow_up(
        &mut self,
        lead: impl LeadRef,
        at: DateTime<Utc>,
        by: Option<OwnerId>,
    ) -> Result<(), CommandError> {
        let i = lead.index_in(self).ok_or_else(|| lead.unknown())?;
        let w = self.plan.width;
        if let (Some(cold), Some(line)) = (self.cold.get_mut(i), self.lines.get_mut(i * w..(i + 1) * w)) {
            cold.life.record_follow_up(at, by);
            settle_line(line, &cold.life, &self.machine);
        }
        Ok(())
    }

    /// Lead `i`'s scores at `now`.
    pub(super) fn scores_of(&self, i: usize, now: DateTime<Utc>) -> Result<Scores, super::EngineError> {
        let t = nanos(now).unwrap_or(i64::MAX);
        let line = self.line(i);
        let keep_from = self.keep_from();
        let Some(cold) = self.cold.get(i) else {
            return Err(super::EngineError::UnknownLead(LeadKey(i as u32).unknown()));
        };
        let Some(lead) = cold.lead_at(now) else {
            return Ok(Scores::default());
        };
        let last = line.get(LAST).map_or(i64::MIN, |w| *w as i64);
        let meta = line.get(META).copied().unwrap_or(0);
        if t >= last {
            let source = Source::Kept {
                recent: &self.recent,
                meta,
                from: keep_from,
            };
            return Ok(scores(
                &self.model,
                &self.plan,
                &self.shapes,
                line,
                &lead,
                source,
                now,
            ));
        }
        let reach = self.earliest().and_then(nanos).unwrap_or(i64::MIN);
        if t < reach {
            return self.scores_from_history(i, now);
        }
        // Take back the entries after `now` from a copy.
        let mut line = line.to_vec();
        let mut applied = Vec::new();
        for e in self.recent.entries(meta, keep_from) {
            if e.at <= t {
                applied.push(e);
                continue;
            }
            // Taking back is exact in any order.
            self.take_back_entry(&mut line, &e);
        }
        Ok(scores(
            &self.model,
            &self.plan,
            &self.shapes,
            &line,
            &lead,
            Source::Parts(&applied, &[], &[]),
            now,
        ))
    }

    /// Records the scores of lead `i` at `now` for its thresholds, reporting
    /// crossings.
    fn report_crossings(&mut self, i: usize, now: DateTime<Utc>, outputs: &mut Vec<Output>) {
        let Ok(after) = self.scores_of(i, now) else { return };
        let n = self.config.thresholds.len();
        let Some(lead) = self.cold.get(i).map(|c| c.life.lead().clone()) else {
            return;
        };
        for (k, th) in self.config.thresholds.iter().enumerate() {
            let Some(slot) = self.crossing.get_mut(i * n + k) else {
                continue;
            };
            let (b, a) = (*slot, after.get(th.dimension));
            if (b >= th.at_least) != (a >= th.at_least) {
                outputs.push(Output::ScoreCrossed {
                    lead: lead.clone(),
                    threshold: th.name.clone(),
                    dimension: th.dimension,
                    before: b,
                    after: a,
                    upward: a >= th.at_least,
                    at: now,
                });
            }
            *slot = a;
        }
    }
}

/// What replaying a lead's timeline reads: the engine and the lead's
/// attributes.
struct Replay<'a> {
    engine: &'a Engine,
    versions: &'a [(DateTime<Utc>, Lead)],
    changes: &'a [Change],
}

impl Replay<'_> {
    /// Applies a command on record, or the new one, at its time.
    fn command(
        &self,
        life: &mut crate::lifecycle::LeadLifecycle,
        line: &[u64],
        source: Source<'_>,
        (transition, at): (Transition, DateTime<Utc>),
    ) -> Result<(), Box<Conflict>> {
        let e = self.engine;
        let Some(lead) = lead_at(self.versions, self.changes, at) else {
            return Ok(());
        };
        let events = LeadEvents::new(source, &e.shapes, &e.plan, line);
        let s = scores(&e.model, &e.plan, &e.shapes, line, &lead, source, at);
        let view = LeadView {
            lead: &lead,
            events: Events::kept(&events),
            scores: Some(&s),
            checklist: None,
            stage: None,
        };
        match e.machine.apply(life, transition.clone(), &view, at) {
            Ok(_) => Ok(()),
            Err(error) => Err(Box::new(Conflict {
                transition,
                at,
                error,
            })),
        }
    }

    /// Evaluates the automatic edges at `at`.
    fn advance(
        &self,
        life: &mut crate::lifecycle::LeadLifecycle,
        line: &[u64],
        source: Source<'_>,
        at: DateTime<Utc>,
    ) {
        let e = self.engine;
        let Some(lead) = lead_at(self.versions, self.changes, at) else {
            return;
        };
        if !may_fire(&e.model, &e.machine, &e.plan, line, life.stage(), at, Some(&lead)) {
            return;
        }
        let events = LeadEvents::new(source, &e.shapes, &e.plan, line);
        let checklist = life.checklist().clone();
        let view = LeadView {
            lead: &lead,
            events: Events::kept(&events),
            scores: None,
            checklist: Some(&checklist),
            stage: None,
        };
        e.machine.advance_scoring_lazily(
            life,
            &view,
            at,
            e.model.version(),
            |_| true,
            || scores(&e.model, &e.plan, &e.shapes, line, &lead, source, at),
        );
    }
}

/// Mirrors the lifecycle's stage and next due time into the line.
fn settle_line(
    line: &mut [u64],
    life: &crate::lifecycle::LeadLifecycle,
    machine: &crate::lifecycle::LifecycleStateMachine,
) {
    let meta = line.get(META).copied().unwrap_or(0);
    set(line, META, (meta & !STAGE_BITS) | life.stage().index() as u64);
    let due = life.next_due(machine).and_then(nanos).unwrap_or(i64::MAX);
    set(line, DUE, due as u64);
    if let Some(last) = life.last_transition_at().and_then(nanos) {
        let touch = line.get(TOUCH).map_or(i64::MIN, |w| *w as i64).max(last);
        set(line, TOUCH, touch as u64);
    }
}

/// The stage a line mirrors.
fn stage_of(line: &[u64]) -> crate::stage::Stage {
    let i = line.get(META).map_or(0, |m| (*m & STAGE_BITS) as usize);
    crate::stage::Stage::ALL
        .get(i)
        .copied()
        .unwrap_or(crate::stage::Stage::Lead)
}

fn set(line: &mut [u64], word: usize, v: u64) {
    if let Some(w) = line.get_mut(word) {
        *w = v;
    }
}

/// Pairs equal records off: what remains of `removed` is retracted, what
/// remains of `added` is new.
fn diff(
    mut removed: Vec<TransitionRecord>,
    added: Vec<TransitionRecord>,
) -> (Vec<TransitionRecord>, Vec<TransitionRecord>) {
    let mut fresh = Vec::new();
    for r in added {
        match removed.iter().position(|x| *x == r) {
            Some(i) => {
                removed.remove(i);
            }
            None => fresh.push(r),
        }
    }
    (removed, fresh)
}
