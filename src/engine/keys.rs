//! The engine's keys: dense numbers for leads and event shapes, and event
//! ids as numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::hash::fingerprint;
use crate::id::EventId;

/// The dense key of a lead in an [`Engine`](super::Engine): leads are
/// numbered in the order they were first seen, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeadKey(pub(crate) u32);

impl LeadKey {
    /// The lead's number: 0 for the first lead seen, then 1, 2...
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The key of an event shape interned by an [`Engine`](super::Engine)
/// (see [`Engine::shape`](super::Engine::shape)): shapes are numbered in
/// the order they were first seen, from 0. A host may keep its own tables
/// by [`index`](Self::index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShapeKey(pub(crate) u32);

impl ShapeKey {
    /// The shape's number.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An event id as a number: a stable 64-bit fingerprint of an [`EventId`]
/// (the same on every machine and version), or a host's own numeric id.
///
/// Two events of one lead with the same key and the same time are one
/// event. Two different ids have the same fingerprint with a chance of
/// about one in 2⁶⁴ per pair: for a lead with a million events kept at once,
/// about 3 × 10⁻⁸.
///
/// ```
/// use leadflow::EventId;
/// use leadflow::engine::EventKey;
/// let id = EventId::new("evt-1")?;
/// assert_eq!(EventKey::of(&id), EventKey::of(&EventId::new("evt-1")?));
/// assert_ne!(EventKey::of(&id), EventKey::of(&EventId::new("evt-2")?));
/// assert_eq!(EventKey::new(42).get(), 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventKey(u64);

impl EventKey {
    /// The key of an event id.
    pub fn of(id: &EventId) -> EventKey {
        EventKey(fingerprint(id.as_str()))
    }

    /// A host's own numeric event id as a key.
    pub const fn new(key: u64) -> EventKey {
        EventKey(key)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// One event with its lead, id and shape as keys: what
/// [`Engine::ingest_keyed`](super::Engine::ingest_keyed) takes, 32 bytes
/// with no string in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyedEvent {
    /// The lead.
    pub lead: LeadKey,
    /// The event's id.
    pub key: EventKey,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub shape: ShapeKey,
}
