//! The recent events of every lead: one ring, written in arrival order,
//! each lead's entries chained newest first.
//!
//! An entry is kept while a late event or a window can still reach it
//! (the engine's retention behind its latest event): the ring grows rather
//! than overwrite such an entry, and is otherwise overwritten in order, so
//! it holds about the events of one retention period. Duplicates are found
//! among a lead's own entries; late events re-evaluate the lead from them.

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

/// The ring.
#[derive(Debug, Clone)]
pub(crate) struct Recent {
    ring: Vec<Entry>,
    /// The absolute position the next entry gets (from 1).
    next: u64,
    /// The lowest position that may still hold its entry: the ring grew
    /// after overwriting the ones below.
    floor: u64,
}

const FIRST_CAPACITY: usize = 1 << 10;

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            ring: vec![Entry::default(); FIRST_CAPACITY],
            next: 1,
            floor: 1,
        }
    }
}

impl Recent {
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

    /// Adds `entry` as the newest of the chain starting at `head`; returns
    /// the new head. An entry at or after `keep_from` is never overwritten:
    /// the ring grows instead.
    pub(crate) fn push(&mut self, mut entry: Entry, head: u32, keep_from: i64) -> u32 {
        entry.prev = if self.position(head).is_some() { head } else { 0 };
        let mut p = self.next;
        if p as u32 == 0 {
            // Link 0 means none: skip the position.
            p += 1;
        }
        if let Some(old) = p.checked_sub(self.ring.len() as u64).filter(|q| *q >= 1) {
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

    /// The entries of the chain starting at `head`, newest first, with their
    /// links, down to the first before `from` (exclusive).
    pub(crate) fn chain(&self, head: u32, from: i64) -> Chain<'_> {
        Chain {
            recent: self,
            link: head,
            from,
        }
    }

    /// The entry at a link, to update in place.
    pub(crate) fn get_mut(&mut self, link: u32) -> Option<&mut Entry> {
        let p = self.position(link)?;
        let slot = self.slot(p);
        self.ring.get_mut(slot)
    }

    /// The ring's size in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.ring.len() * std::mem::size_of::<Entry>()
    }
}

/// A lead's entries, newest first.
pub(crate) struct Chain<'a> {
    recent: &'a Recent,
    link: u32,
    from: i64,
}

impl Iterator for Chain<'_> {
    type Item = (u32, Entry);

    fn next(&mut self) -> Option<(u32, Entry)> {
        // Arrival order is not time order (a late entry is older than ones
        // that arrived before it): the walk skips entries too old to need
        // and stops only where the ring no longer holds the chain.
        loop {
            let p = self.recent.position(self.link)?;
            let e = *self.recent.ring.get(self.recent.slot(p))?;
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

    #[test]
    fn chains_survive_growth_and_overwrites() {
        let mut r = Recent::default();
        let (mut a, mut b) = (0u32, 0u32);
        for i in 0..5_000i64 {
            // Lead a's entries stay needed; lead b's age out.
            a = r.push(Entry::new(1_000_000 + i, i as u64, 0), a, 1_000_000);
            b = r.push(Entry::new(i, i as u64, 1), b, 1_000_000);
        }
        let kept_a: Vec<i64> = r.chain(a, 1_000_000).map(|(_, e)| e.at).collect();
        assert_eq!(kept_a.len(), 5_000);
        assert!(kept_a.windows(2).all(|w| w[0] > w[1]));
        // b's entries were kept too (the ring grew for a's), but none is
        // needed from 1_000_000 on.
        assert_eq!(r.chain(b, 1_000_000).count(), 0);
        if let Some(e) = r.get_mut(a) {
            e.counted = 7;
        }
        assert_eq!(r.chain(a, 0).next().map(|(_, e)| e.counted), Some(7));
    }

    #[test]
    fn overwritten_links_end_the_chain() {
        let mut r = Recent::default();
        let first = r.push(Entry::new(5, 1, 0), 0, i64::MAX);
        for i in 0..(FIRST_CAPACITY as i64) {
            r.push(Entry::new(i, 9, 9), 0, i64::MAX);
        }
        assert_eq!(r.chain(first, 0).count(), 0);
        assert!(r.get_mut(first).is_none());
    }
}
