//! The recent events of every lead.
//!
//! An entry is kept while a late event or a window can still reach it (the
//! engine's retention behind its latest event). A light lead's entries live
//! in one ring shared by all leads, written in arrival order and chained
//! newest first per lead; the ring grows rather than overwrite an entry
//! still needed, and is otherwise overwritten in order, so it holds about
//! one retention period of events. A lead with many entries gets its own
//! list, sorted in the canonical order of events, so that finding a
//! duplicate, or the entries after a late event, costs a binary search
//! instead of a walk. Duplicates are found among a lead's own entries.

use std::collections::VecDeque;

/// One event as the engine remembers it: 32 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// When, in nanoseconds since the Unix epoch.
    pub(crate) at: i64,
    /// The event's id as a key.
    pub(crate) key: u64,
    /// The shape's key.
    pub(crate) shape: u32,
    /// The ring position of the lead's previous entry (0: none).
    prev: u32,
    /// Which of the shape's rules counted (bit `i`: its `i`-th rule).
    pub(crate) counted: u64,
}

impl Entry {
    pub(crate) fn new(at: i64, key: u64, shape: u32) -> Entry {
        Entry {
            at,
            key,
            shape,
            prev: 0,
            counted: 0,
        }
    }
}

/// The canonical position of an entry: time, shape fingerprint, id key.
pub(crate) type Order = (i64, u64, u64);

/// Where a lead's entries are, kept in its line's meta word: bit 8 set for
/// an own sorted list; the high half the list's number, or the ring link of
/// the newest entry.
const HEAVY: u64 = 1 << 8;
/// A light lead's entries pushed since its chain was last counted (bits
/// 16–23 of the meta word).
const PUSHED_SHIFT: u32 = 16;
const PUSHED_MASK: u64 = 0xff << PUSHED_SHIFT;
/// How many entries make a lead heavy.
const HEAVY_FROM: usize = 16;

fn handle(meta: u64) -> u32 {
    (meta >> 32) as u32
}

fn with_handle(meta: u64, h: u32) -> u64 {
    (meta & 0xffff_ffff) | (u64::from(h) << 32)
}

/// Where one entry of a lead is: its ring link, or its index in the lead's
/// list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(u32);

/// Every lead's recent entries.
#[derive(Debug, Clone)]
pub(crate) struct Recent {
    ring: Vec<Entry>,
    /// The absolute position the next ring entry gets (from 1).
    next: u64,
    /// The lowest position that may still hold its entry: the ring grew
    /// after overwriting the ones below.
    floor: u64,
    /// The heavy leads' lists, in canonical order.
    lists: Vec<VecDeque<Entry>>,
    free: Vec<u32>,
    /// The allowed lateness, in nanoseconds: an entry that arrived before
    /// another is at most this much later than it.
    lateness: i64,
}

const FIRST_CAPACITY: usize = 1 << 10;

impl Recent {
    /// Recent entries for an engine whose allowed lateness is `lateness`
    /// nanoseconds: every entry added is at most that much older than the
    /// latest one added before it.
    pub(crate) fn new(lateness: i64) -> Recent {
        Recent {
            ring: vec![Entry::default(); FIRST_CAPACITY],
            next: 1,
            floor: 1,
            lists: Vec::new(),
            free: Vec::new(),
            lateness,
        }
    }

    /// True when the lead has its own list.
    pub(crate) fn is_heavy(meta: u64) -> bool {
        meta & HEAVY != 0
    }

    /// The absolute position of a chain link, if it still holds its entry.
    fn position(&self, link: u32) -> Option<u64> {
        if link == 0 {
            return None;
        }
        let back = (self.next as u32).wrapping_sub(link);
        let p = self.next.checked_sub(u64::from(back))?;
        (back != 0 && u64::from(back) <= self.ring.len() as u64 && p >= self.floor).then_some(p)
    }

    fn slot(&self, p: u64) -> usize {
        (p as usize) & (self.ring.len() - 1)
    }

    /// Adds an entry to the lead whose line's meta word is `meta`; returns
    /// the new meta word. Entries before `keep_from` are no longer needed.
    /// `order` gives an entry's canonical position.
    pub(crate) fn add(
        &mut self,
        meta: u64,
        entry: Entry,
        keep_from: i64,
        order: &dyn Fn(&Entry) -> Order,
    ) -> u64 {
        if Recent::is_heavy(meta) {
            let list = handle(meta);
            let meta = self.evict(meta, keep_from);
            if Recent::is_heavy(meta) {
                if let Some(l) = self.lists.get_mut(list as usize) {
                    let key = order(&entry);
                    let pos = match l.back() {
                        Some(last) if order(last) > key => l.partition_point(|x| order(x) < key),
                        _ => l.len(),
                    };
                    l.insert(pos, entry);
                }
                return meta;
            }
            return self.add(meta, entry, keep_from, order);
        }
        let head = self.push(entry, handle(meta), keep_from);
        let pushed = ((meta & PUSHED_MASK) >> PUSHED_SHIFT) + 1;
        let meta = with_handle(meta & !PUSHED_MASK, head);
        if pushed < HEAVY_FROM as u64 {
            return meta | (pushed << PUSHED_SHIFT);
        }
        // Count the chain now and then; promote a lead with many entries.
        let kept: Vec<Entry> = self.chain(head, keep_from).map(|(_, e)| e).collect();
        if kept.len() < HEAVY_FROM {
            return meta | ((kept.len() as u64) << PUSHED_SHIFT);
        }
        let mut list = kept;
        list.sort_by_key(|e| order(e));
        let list = VecDeque::from(list);
        let n = match self.free.pop() {
            Some(n) => {
                if let Some(l) = self.lists.get_mut(n as usize) {
                    *l = list;
                }
                n
            }
            None => {
                self.lists.push(list);
                (self.lists.len() - 1) as u32
            }
        };
        with_handle(meta, n) | HEAVY
    }

    /// Drops a heavy lead's entries before `keep_from`; a lead left with
    /// none becomes light again. Returns the new meta word.
    pub(crate) fn evict(&mut self, meta: u64, keep_from: i64) -> u64 {
        if !Recent::is_heavy(meta) {
            return meta;
        }
        let n = handle(meta);
        let Some(l) = self.lists.get_mut(n as usize) else {
            return meta;
        };
        while l.front().is_some_and(|e| e.at < keep_from) {
            l.pop_front();
        }
        if l.is_empty() {
            *l = VecDeque::new();
            self.free.push(n);
            return with_handle(meta & !HEAVY, 0);
        }
        meta
    }

    fn push(&mut self, mut entry: Entry, head: u32, keep_from: i64) -> u32 {
        entry.prev = if self.position(head).is_some() { head } else { 0 };
        let mut p = self.next;
        if p as u32 == 0 {
            // Link 0 means none: skip the position.
            p += 1;
        }
        if let Some(old) = p.checked_sub(self.ring.len() as u64).filter(|q| *q >= self.floor) {
            if self.ring.get(self.slot(old)).is_some_and(|e| e.at >= keep_from) {
                self.grow();
            }
        }
        let slot = self.slot(p);
        if let Some(s) = self.ring.get_mut(slot) {
            *s = entry;
        }
        self.next = p + 1;
        p as u32
    }

    fn grow(&mut self) {
        let cap = self.ring.len() * 2;
        let mut ring = vec![Entry::default(); cap];
        let from = self.next.saturating_sub(self.ring.len() as u64).max(self.floor);
        self.floor = from;
        for p in from..self.next {
            if let (Some(e), Some(dst)) = (
                self.ring.get(self.slot(p)).copied(),
                ring.get_mut((p as usize) & (cap - 1)),
            ) {
                *dst = e;
            }
        }
        self.ring = ring;
    }

    fn chain(&self, head: u32, from: i64) -> Chain<'_> {
        Chain {
            recent: self,
            link: head,
            from,
            stop: from.saturating_sub(self.lateness),
        }
    }

    /// The lead's entries at or after `from`, in no particular order.
    pub(crate) fn entries(&self, meta: u64, from: i64) -> Entries<'_> {
        if let Some(l) = self.list(meta) {
            let start = l.partition_point(|e| e.at < from);
            Entries::Sorted(l.range(start..))
        } else {
            Entries::Chain(self.chain(handle(meta), from))
        }
    }

    /// The lead's entry with this time and key, if it has one.
    pub(crate) fn find(&self, meta: u64, at: i64, key: u64) -> Option<Entry> {
        if let Some(l) = self.list(meta) {
            let start = l.partition_point(|e| e.at < at);
            l.range(start..)
                .take_while(|e| e.at == at)
                .find(|e| e.key == key)
                .copied()
        } else {
            self.chain(handle(meta), at)
                .map(|(_, e)| e)
                .find(|e| e.at == at && e.key == key)
        }
    }

    /// The lead's entries at or after `from`, in canonical order, split
    /// at `at`: those before (borrowed where they are kept in order), and
    /// those from `at` on with where each is.
    pub(crate) fn split(
        &self,
        meta: u64,
        from: i64,
        at: Order,
        order: &dyn Fn(&Entry) -> Order,
    ) -> (Before<'_>, Vec<(Slot, Entry)>) {
        if let Some(l) = self.list(meta) {
            let start = l.partition_point(|e| e.at < from);
            let split = l.partition_point(|e| order(e) < at).max(start);
            let after = l
                .range(split..)
                .enumerate()
                .map(|(i, e)| (Slot((split + i) as u32), *e))
                .collect();
            let (a, b) = l.as_slices();
            let n = a.len();
            let parts = if split <= n {
                (a.get(start..split).unwrap_or(&[]), &[][..])
            } else if start >= n {
                (b.get(start - n..split - n).unwrap_or(&[]), &[][..])
            } else {
                (a.get(start..).unwrap_or(&[]), b.get(..split - n).unwrap_or(&[]))
            };
            (Before::Kept(parts.0, parts.1), after)
        } else {
            let mut v: Vec<(Slot, Entry)> = self
                .chain(handle(meta), from)
                .map(|(l, e)| (Slot(l), e))
                .collect();
            v.sort_by_key(|(_, e)| order(e));
            let split = v.partition_point(|(_, e)| order(e) < at);
            let after = v.split_off(split);
            (Before::Copied(v.into_iter().map(|(_, e)| e).collect()), after)
        }
    }

    fn list(&self, meta: u64) -> Option<&VecDeque<Entry>> {
        if Recent::is_heavy(meta) {
            self.lists.get(handle(meta) as usize)
        } else {
            None
        }
    }

    /// Every entry of the lead in canonical order.
    pub(crate) fn all(&self, meta: u64, order: &dyn Fn(&Entry) -> Order) -> Vec<Entry> {
        let mut v: Vec<Entry> = self.entries(meta, i64::MIN).collect();
        v.sort_by_key(|e| order(e));
        v
    }

    /// Updates which rules an entry counted.
    pub(crate) fn set_counted(&mut self, meta: u64, slot: Slot, counted: u64) {
        let e = if Recent::is_heavy(meta) {
            self.lists
                .get_mut(handle(meta) as usize)
                .and_then(|l| l.get_mut(slot.0 as usize))
        } else {
            self.position(slot.0)
                .map(|p| self.slot(p))
                .and_then(|s| self.ring.get_mut(s))
        };
        if let Some(e) = e {
            e.counted = counted;
        }
    }

    /// Gives the entry at `slot` another shape (a copy of the same event
    /// that comes first in canonical order) and what it counted, keeping a
    /// heavy lead's list in canonical order. Moves other entries' list
    /// slots: update them first.
    pub(crate) fn replace(
        &mut self,
        meta: u64,
        slot: Slot,
        shape: u32,
        counted: u64,
        order: &dyn Fn(&Entry) -> Order,
    ) {
        if Recent::is_heavy(meta) {
            let Some(l) = self.lists.get_mut(handle(meta) as usize) else {
                return;
            };
            let mut i = slot.0 as usize;
            let Some(e) = l.get_mut(i) else {
                return;
            };
            e.shape = shape;
            e.counted = counted;
            // Same time, another shape fingerprint: move it within the
            // entries at its time.
            while i > 0
                && l.get(i - 1)
                    .zip(l.get(i))
                    .is_some_and(|(a, b)| order(a) > order(b))
            {
                l.swap(i - 1, i);
                i -= 1;
            }
            while l
                .get(i)
                .zip(l.get(i + 1))
                .is_some_and(|(a, b)| order(a) > order(b))
            {
                l.swap(i, i + 1);
                i += 1;
            }
        } else if let Some(e) = self
            .position(slot.0)
            .map(|p| self.slot(p))
            .and_then(|s| self.ring.get_mut(s))
        {
            e.shape = shape;
            e.counted = counted;
        }
    }

    /// The size in bytes of what it holds.
    pub(crate) fn bytes(&self) -> usize {
        self.ring.len() * std::mem::size_of::<Entry>()
            + self
                .lists
                .iter()
                .map(|l| l.capacity() * std::mem::size_of::<Entry>() + std::mem::size_of::<Vec<Entry>>())
                .sum::<usize>()
    }
}

/// A lead's entries before a point in the canonical order: borrowed from
/// its list (in two parts, as a ring buffer holds them), or copied from the
/// ring.
pub(crate) enum Before<'a> {
    Kept(&'a [Entry], &'a [Entry]),
    Copied(Vec<Entry>),
}

impl Before<'_> {
    /// The entries, in canonical order, in two parts.
    pub(crate) fn parts(&self) -> (&[Entry], &[Entry]) {
        match self {
            Before::Kept(a, b) => (a, b),
            Before::Copied(v) => (v, &[]),
        }
    }

    /// True when there are none.
    pub(crate) fn is_empty(&self) -> bool {
        let (a, b) = self.parts();
        a.is_empty() && b.is_empty()
    }
}

/// A lead's entries.
pub(crate) enum Entries<'a> {
    Chain(Chain<'a>),
    Sorted(std::collections::vec_deque::Iter<'a, Entry>),
}

impl Iterator for Entries<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        match self {
            Entries::Chain(c) => c.next().map(|(_, e)| e),
            Entries::Sorted(s) => s.next().copied(),
        }
    }
}

/// A light lead's entries, newest first.
pub(crate) struct Chain<'a> {
    recent: &'a Recent,
    link: u32,
    from: i64,
    /// Entries that arrived before one older than this are all older than
    /// `from` (each was accepted within the lateness of the watermark, which
    /// only grows).
    stop: i64,
}

impl Iterator for Chain<'_> {
    type Item = (u32, Entry);

    fn next(&mut self) -> Option<(u32, Entry)> {
        // Arrival order is not time order (a late entry is older than ones
        // that arrived before it): the walk skips entries too old to need,
        // and stops at one older than the lateness allows anything before
        // it to be needed, or where the ring no longer holds the chain.
        loop {
            let p = self.recent.position(self.link)?;
            let e = *self.recent.ring.get(self.recent.slot(p))?;
            if e.at < self.stop {
                self.link = 0;
                return None;
            }
            let link = self.link;
            self.link = e.prev;
            if e.at >= self.from {
                return Some((link, e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(e: &Entry) -> Order {
        (e.at, 0, e.key)
    }

    #[test]
    fn a_lead_with_many_entries_gets_a_sorted_list() {
        let mut r = Recent::new(0);
        let mut meta = 0u64;
        for i in (0..100i64).rev() {
            meta = r.add(meta, Entry::new(1_000 + i, i as u64, 0), 0, &order);
        }
        assert!(Recent::is_heavy(meta));
        let (before, after) = r.split(meta, 0, (1_050, 0, 0), &order);
        let (a, b) = before.parts();
        assert_eq!((a.len() + b.len(), after.len()), (50, 50));
        assert!(after.windows(2).all(|w| w[0].1.at < w[1].1.at));
        assert_eq!(r.all(meta, &order).len(), 100);
        assert!(r.find(meta, 1_050, 50).is_some() && r.find(meta, 1_050, 51).is_none());
        // Everything ages out: light again.
        meta = r.evict(meta, 10_000);
        assert!(!Recent::is_heavy(meta));
        assert_eq!(r.entries(meta, 0).count(), 0);
    }

    #[test]
    fn chains_survive_growth_and_overwrites() {
        let mut r = Recent::new(i64::MAX);
        let mut heads = [0u32; 2];
        for i in 0..5_000i64 {
            // Lead 0's entries stay needed; lead 1's age out.
            heads[0] = r.push(Entry::new(1_000_000 + i, i as u64, 0), heads[0], 1_000_000);
            heads[1] = r.push(Entry::new(i, i as u64, 1), heads[1], 1_000_000);
        }
        let kept: Vec<i64> = r.chain(heads[0], 1_000_000).map(|(_, e)| e.at).collect();
        assert_eq!(kept.len(), 5_000);
        assert_eq!(r.chain(heads[1], 1_000_000).count(), 0);
    }

    #[test]
    fn overwritten_links_end_the_chain() {
        let mut r = Recent::new(i64::MAX);
        let first = r.push(Entry::new(5, 1, 0), 0, i64::MAX);
        for i in 0..(FIRST_CAPACITY as i64) {
            r.push(Entry::new(i, 9, 9), 0, i64::MAX);
        }
        assert_eq!(r.chain(first, 0).count(), 0);
    }
}
