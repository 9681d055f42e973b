//! What the engine keeps of a lead off the hot path: its attribute
//! versions and changes, and its lifecycle.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::event::EventKind;
use crate::lead::Lead;
use crate::lifecycle::LeadLifecycle;

/// One lead's cold state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cold {
    /// The lead as upserted, with the time of each upsert, in time order;
    /// never empty (the first is dated at the lead's creation).
    pub(crate) versions: Vec<(DateTime<Utc>, Lead)>,
    /// The attribute changes its events made, in the canonical order of
    /// events: (time, shape fingerprint, event key, key, value).
    pub(crate) changes: Vec<Change>,
    /// Its lifecycle: stage, history, follow-ups, evidence.
    pub(crate) life: LeadLifecycle,
    /// Created by its events and never upserted: its one version is a
    /// bare lead dated at its earliest event, which an earlier event or
    /// the host's first record re-dates.
    pub(crate) by_events: bool,
}

/// An attribute change made by an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub(crate) order: (i64, u64, u64),
    pub(crate) at: DateTime<Utc>,
    /// The event's shape key.
    pub(crate) shape: u32,
    pub(crate) kind: EventKind,
}

impl Cold {
    pub(crate) fn new(lead: Lead, life: LeadLifecycle) -> Cold {
        Cold {
            versions: vec![(lead.created_at, lead)],
            changes: Vec::new(),
            life,
            by_events: false,
        }
    }

    /// The lead as it was at `t`; see [`lead_at`].
    pub(crate) fn lead_at(&self, t: DateTime<Utc>) -> Option<Cow<'_, Lead>> {
        lead_at(&self.versions, &self.changes, t)
    }

    /// The latest version's attributes (with every change after it).
    pub(crate) fn current(&self) -> Option<Cow<'_, Lead>> {
        self.lead_at(DateTime::<Utc>::MAX_UTC)
    }

    /// When the lead's current attributes took effect: its latest upsert
    /// or attribute change.
    pub(crate) fn attributes_from(&self) -> DateTime<Utc> {
        let upserted = self
            .versions
            .last()
            .map_or(DateTime::<Utc>::MIN_UTC, |(at, _)| *at);
        self.changes.iter().map(|c| c.at).fold(upserted, DateTime::max)
    }

    /// Records an upsert at `at`.
    pub(crate) fn upsert(&mut self, lead: Lead, at: DateTime<Utc>) {
        let pos = self.versions.partition_point(|(t, _)| *t <= at);
        self.versions.insert(pos, (at, lead));
    }

    /// Records an attribute change in order.
    pub(crate) fn change(&mut self, change: Change) {
        let pos = self.changes.partition_point(|c| c.order < change.order);
        self.changes.insert(pos, change);
    }
}

/// The lead as it was at `t`: the latest version upserted at or before `t`
/// (the first if none), with the attribute changes of events after that
/// version and up to `t` applied in order. The first version also takes
/// the changes of events at its own time: an event at a lead's creation is
/// part of it.
pub(crate) fn lead_at<'a>(
    versions: &'a [(DateTime<Utc>, Lead)],
    changes: &[Change],
    t: DateTime<Utc>,
) -> Option<Cow<'a, Lead>> {
    let i = versions.partition_point(|(at, _)| *at <= t).saturating_sub(1);
    let (since, lead) = versions.get(i)?;
    let after = |at: DateTime<Utc>| at > *since || (i == 0 && at == *since);
    let mut pending = changes.iter().filter(|c| after(c.at) && c.at <= t).peekable();
    if pending.peek().is_none() {
        return Some(Cow::Borrowed(lead));
    }
    let mut lead = lead.clone();
    for c in pending {
        if let EventKind::AttributeChange { key, value } = &c.kind {
            // Refused values never enter `changes`.
            let _ = lead.set_attribute(key, value.clone());
        }
    }
    Some(Cow::Owned(lead))
}
