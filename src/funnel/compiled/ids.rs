//! The event ids a [`CompiledFunnel`](super::CompiledFunnel) remembers.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::hash::FxBuild;
use crate::span::Span;

/// The (lead, event key) pairs of recent events, in two generations.
///
/// An id only needs remembering while a copy of its event could still be
/// admitted: while the event is within the allowed lateness of the
/// watermark. Ids go into the current generation; when the watermark has
/// moved more than the allowed lateness since the last rotation, the
/// current generation becomes the earlier one and the earlier one is
/// dropped. An id is therefore kept until the watermark is more than the
/// allowed lateness past the watermark at its insertion (itself at or after
/// the event's time), after which a copy is refused as too late anyway. Each
/// event costs two hash probes and no bookkeeping of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "IdsData", into = "IdsData")]
pub(crate) struct RecentIds {
    current: HashSet<(u32, u64), FxBuild>,
    earlier: HashSet<(u32, u64), FxBuild>,
    rotated_at: Option<DateTime<Utc>>,
}

impl RecentIds {
    /// Remembers `key`; false when it was remembered already.
    pub(crate) fn insert(&mut self, key: (u32, u64)) -> bool {
        !self.earlier.contains(&key) && self.current.insert(key)
    }

    /// Remembers `keys`, none of them remembered yet.
    pub(crate) fn remember_all(&mut self, keys: &[(u32, u64)]) {
        self.current.reserve(keys.len());
        self.current.extend(keys.iter().copied());
    }

    /// True when `key` is remembered (a read only: see
    /// [`CompiledFunnel::warm`](super::CompiledFunnel)).
    pub(crate) fn contains(&self, key: (u32, u64)) -> bool {
        self.current.contains(&key) || self.earlier.contains(&key)
    }

    /// True when no id is remembered.
    pub(crate) fn is_empty(&self) -> bool {
        self.current.is_empty() && self.earlier.is_empty()
    }

    /// Forgets `key` (an event refused after its id was taken).
    pub(crate) fn remove(&mut self, key: (u32, u64)) {
        self.current.remove(&key);
    }

    /// Rotates the generations when the watermark has moved on far enough.
    pub(crate) fn rotate(&mut self, watermark: DateTime<Utc>, lateness: Span) {
        match self.rotated_at {
            Some(r) if lateness.after(r).is_some_and(|end| watermark > end) => {
                // The dropped generation's table, emptied, holds the next
                // one: no regrowing from nothing after each rotation.
                std::mem::swap(&mut self.earlier, &mut self.current);
                self.current.clear();
                self.rotated_at = Some(watermark);
            }
            Some(_) => {}
            None => self.rotated_at = Some(watermark),
        }
    }
}

/// The serialized form: sorted lists, so equal sets serialize alike.
#[derive(Serialize, Deserialize)]
struct IdsData {
    current: Vec<(u32, u64)>,
    earlier: Vec<(u32, u64)>,
    rotated_at: Option<DateTime<Utc>>,
}

impl From<RecentIds> for IdsData {
    fn from(ids: RecentIds) -> IdsData {
        let sorted = |s: HashSet<(u32, u64), FxBuild>| {
            let mut v: Vec<(u32, u64)> = s.into_iter().collect();
            v.sort_unstable();
            v
        };
        IdsData {
            current: sorted(ids.current),
            earlier: sorted(ids.earlier),
            rotated_at: ids.rotated_at,
        }
    }
}

impl From<IdsData> for RecentIds {
    fn from(data: IdsData) -> RecentIds {
        RecentIds {
            current: data.current.into_iter().collect(),
            earlier: data.earlier.into_iter().collect(),
            rotated_at: data.rotated_at,
        }
    }
}
