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

/// A set of event keys for one lead's events within a call, sized once for
/// them: open addressing, at most half full, Fibonacci hashing. Cheaper
/// than a growing hash set for the few leads that hold most events.
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    /// The keys, [`FREE`](Self::FREE) in a free slot; a power of two long.
    slots: Vec<u64>,
    /// How many slots hold a key.
    len: usize,
    /// Whether the key [`FREE`](Self::FREE) is in the set.
    has_free: bool,
    /// How far a key's hash is shifted to give its first slot: 64 less
    /// the bits of a slot's index.
    shift: u32,
}

impl IdSet {
    /// The mark of a free slot; the key with this value is tracked apart.
    const FREE: u64 = 0;

    /// Empties the set, with room for `n` keys.
    pub(crate) fn reset(&mut self, n: usize) {
        let room = (2 * n).max(2).next_power_of_two();
        self.slots.clear();
        self.slots.resize(room, Self::FREE);
        self.shift = 64 - room.trailing_zeros();
        self.len = 0;
        self.has_free = false;
    }

    /// The slot holding `key`, or the free slot where it would go.
    #[inline]
    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len().wrapping_sub(1);
        // Fibonacci hashing: the top bits of the product.
        let mut slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift.min(63)) as usize & mask;
        // At most half full: the probe meets a free slot.
        while let Some(&s) = self.slots.get(slot) {
            if s == Self::FREE || s == key {
                break;
            }
            slot = (slot + 1) & mask;
        }
        slot
    }

    /// Adds `key`; false when it was in the set already.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        if key == Self::FREE {
            return !std::mem::replace(&mut self.has_free, true);
        }
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let slot = self.slot(key);
        match self.slots.get_mut(slot) {
            Some(s) if *s == Self::FREE => {
                *s = key;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Past the room asked for: twice the room.
    #[cold]
    fn grow(&mut self) {
        let keys: Vec<u64> = self.slots.iter().copied().filter(|&s| s != Self::FREE).collect();
        let has_free = self.has_free;
        self.reset(self.slots.len());
        self.has_free = has_free;
        for k in keys {
            self.insert(k);
        }
    }

    /// True when `key` is in the set.
    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        if key == Self::FREE {
            return self.has_free;
        }
        self.slots.get(self.slot(key)) == Some(&key)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_id_set_holds_what_a_hash_set_holds(
            room in 0usize..20,
            keys in proptest::collection::vec(prop_oneof![Just(0u64), Just(u64::MAX), 1u64..50, any::<u64>()], 0..200),
        ) {
            let mut set = IdSet::default();
            set.reset(room);
            let mut model = std::collections::HashSet::new();
            for &k in &keys {
                prop_assert_eq!(set.contains(k), model.contains(&k));
                prop_assert_eq!(set.insert(k), model.insert(k));
                prop_assert!(set.contains(k));
            }
            prop_assert!(2 * set.len <= set.slots.len());
        }
    }

    #[test]
    fn an_id_set_works_before_its_first_reset() {
        let mut set = IdSet::default();
        assert!(!set.contains(5));
        assert!(set.insert(5));
        assert!(!set.insert(5));
        assert!(set.contains(5));
    }

    #[test]
    fn an_id_set_keeps_its_keys_when_it_grows_past_its_room() {
        let mut set = IdSet::default();
        set.reset(1);
        assert!(set.insert(0));
        for k in 1..100 {
            assert!(set.insert(k));
        }
        assert!((0..100).all(|k| set.contains(k)));
        assert!(!set.contains(100));
    }
}
