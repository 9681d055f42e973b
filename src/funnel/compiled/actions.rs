//! Event shapes interned once: what a [`CompiledFunnel`](super::CompiledFunnel)
//! keeps of an event is its time and the key of its shape.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::hash::FxBuild;
use crate::id::{EventId, LeadId, OwnerId};
use crate::matcher::EventMatcher;
use crate::scoring::ScoringModel;

/// The key of an interned event shape: everything rules and criteria can
/// match on (kind with its payload, channel, properties), without the id,
/// lead and time. Obtained from
/// [`CompiledFunnel::action`](super::CompiledFunnel::action); valid for the
/// funnel that issued it (and its snapshots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ActionKey(pub(crate) u32);

impl ActionKey {
    /// The shape's number: 0 for the first shape interned, then 1, 2...
    /// (for a host's own tables per shape).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::funnel::{CompiledFunnel, FunnelConfig};
    /// use leadflow::synthetic::{lifecycle, scoring_model};
    /// use leadflow::{Event, EventId, EventKind, LeadId};
    ///
    /// let mut funnel = CompiledFunnel::new(scoring_model()?, lifecycle()?, FunnelConfig::default());
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// let demo = Event::new(EventId::new("e1")?, LeadId::new("l1")?, t0, EventKind::DemoRequest);
    /// let contact = Event::new(EventId::new("e2")?, LeadId::new("l1")?, t0, EventKind::ContactRequest);
    /// assert_eq!(funnel.action(&demo)?.index(), 0);
    /// assert_eq!(funnel.action(&contact)?.index(), 1);
    /// assert_eq!(funnel.action(&demo)?.index(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What the funnel derives from one shape under its model and lifecycle.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    /// A representative event (placeholder id and lead, epoch time).
    pub(crate) shape: Event,
    /// The event rules it hits, in rule order.
    pub(crate) rules: Box<[u16]>,
    /// Positive points it adds to each group's upper bound: (group, milli).
    pub(crate) bound: Box<[(u16, i64)]>,
    /// The criteria signals it carries (bit `i`: signal `i`).
    pub(crate) signals: u64,
}

impl Action {
    /// A sales follow-up this event records, if it is one.
    pub(crate) fn follow_up(&self) -> Option<Option<OwnerId>> {
        match &self.shape.shape.kind {
            EventKind::SalesTouch { by } | EventKind::MeetingHeld { by } => Some(by.clone()),
            _ => None,
        }
    }

    pub(crate) fn is_attribute_change(&self) -> bool {
        matches!(self.shape.shape.kind, EventKind::AttributeChange { .. })
    }
}

/// The interned shapes, with their hits under the funnel's model and their
/// signals under its lifecycle.
#[derive(Debug, Clone, Default)]
pub(crate) struct Actions {
    index: HashMap<String, u32, FxBuild>,
    pub(crate) list: Vec<Action>,
}

/// The shape's identity: its matchable fields, rendered.
fn shape_key(e: &Event) -> String {
    format!(
        "{:?}|{:?}|{:?}",
        e.shape.kind, e.shape.channel, e.shape.properties
    )
}

/// The placeholder id and lead of representative events.
pub(crate) fn placeholder() -> (EventId, LeadId) {
    (
        EventId::new("_").unwrap_or_else(|_| unreachable!("\"_\" is a valid id")),
        LeadId::new("_").unwrap_or_else(|_| unreachable!("\"_\" is a valid id")),
    )
}

impl Actions {
    /// The key of `event`'s shape, interning it on first sight. `None` when
    /// 2^32 shapes are interned already.
    pub(crate) fn intern(
        &mut self,
        event: &Event,
        model: &ScoringModel,
        signals: &[EventMatcher],
    ) -> Option<ActionKey> {
        let key = shape_key(event);
        if let Some(&i) = self.index.get(&key) {
            return Some(ActionKey(i));
        }
        let i = u32::try_from(self.list.len()).ok()?;
        let (id, lead) = placeholder();
        let shape = Event::of_shape(id, lead, chrono::DateTime::UNIX_EPOCH, event.shape.clone());
        self.list.push(Action::new(shape, model, signals));
        self.index.insert(key, i);
        Some(ActionKey(i))
    }

    /// The same shapes derived under another model.
    pub(crate) fn under(&self, model: &ScoringModel, signals: &[EventMatcher]) -> Actions {
        Actions {
            index: self.index.clone(),
            list: self
                .list
                .iter()
                .map(|a| Action::new(a.shape.clone(), model, signals))
                .collect(),
        }
    }

    /// The shapes, in key order (for snapshots).
    pub(crate) fn shapes(&self) -> impl Iterator<Item = &Event> {
        self.list.iter().map(|a| &a.shape)
    }

    /// Interns shapes in order: key `i` is the `i`-th shape.
    pub(crate) fn from_shapes(shapes: Vec<Event>, model: &ScoringModel, signals: &[EventMatcher]) -> Actions {
        let mut actions = Actions::default();
        for shape in shapes {
            let key = shape_key(&shape);
            if let Ok(i) = u32::try_from(actions.list.len()) {
                actions.index.insert(key, i);
            }
            actions.list.push(Action::new(shape, model, signals));
        }
        actions
    }
}

impl Action {
    fn new(shape: Event, model: &ScoringModel, signals: &[EventMatcher]) -> Action {
        let mut rules = Vec::new();
        let mut bound: Vec<(u16, i64)> = Vec::new();
        for (rule, points) in model.matches(&shape.shape) {
            let Ok(r) = u16::try_from(rule) else { continue };
            rules.push(r);
            let group = model.compiled.get(rule).map_or(0, |c| c.group);
            let Ok(g) = u16::try_from(group) else { continue };
            let milli = points.as_milli().max(0);
            match bound.iter_mut().find(|(x, _)| *x == g) {
                Some((_, p)) => *p = p.saturating_add(milli),
                None => bound.push((g, milli)),
            }
        }
        let signals = signals
            .iter()
            .enumerate()
            .filter(|(_, m)| m.matches(&shape.shape))
            .fold(0u64, |acc, (i, _)| acc | 1u64.checked_shl(i as u32).unwrap_or(0));
        Action {
            shape,
            rules: rules.into(),
            bound: bound.into(),
            signals,
        }
    }
}
