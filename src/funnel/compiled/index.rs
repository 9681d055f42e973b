//! Finding a lead's key from its id without a second copy of the ids.

use std::hash::BuildHasher;

use crate::hash::FxBuild;
use crate::id::LeadId;

/// An open-addressing table of lead numbers, found by the hash of their
/// ids.
///
/// The ids stay where the leads keep them: the table asks for a lead's id
/// through a closure when a slot's hash matches. A slot is 8 bytes (the
/// lead's number and the top half of its id's hash) instead of the 24 of a
/// `HashMap<LeadId, u32>` entry, and growing needs no id, since the stored
/// half of the hash gives each slot's place.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeadIndex {
    /// `[lead, tag]` pairs, `FREE` in the lead's place when free; a power
    /// of two long (or empty), at most half full so probes stay short.
    slots: Vec<[u32; 2]>,
    len: usize,
}

/// The mark of a free slot: never a lead's number (the funnel holds fewer
/// than 2³² − 1 leads).
const FREE: u32 = u32::MAX;

/// The top half of the hash of `id`: each slot keeps it.
fn tag(id: &LeadId) -> u32 {
    (FxBuild::default().hash_one(id.as_str()) >> 32) as u32
}

impl LeadIndex {
    /// The number of the lead with `id`; `id_of` gives the id of a number
    /// the table holds.
    pub(crate) fn get<'a>(&self, id: &LeadId, id_of: impl Fn(u32) -> Option<&'a LeadId>) -> Option<u32> {
        self.find(tag(id), id, id_of)
    }

    /// Adds `lead`, the number of a lead with `id` that the table does not
    /// hold yet (so `get` is `None` for it).
    pub(crate) fn insert(&mut self, id: &LeadId, lead: u32) {
        self.insert_tagged(tag(id), lead);
    }

    fn find<'a>(&self, tag: u32, id: &LeadId, id_of: impl Fn(u32) -> Option<&'a LeadId>) -> Option<u32> {
        let mut at = self.home(tag)?;
        loop {
            let &[lead, t] = self.slots.get(at)?;
            if lead == FREE {
                return None;
            }
            if t == tag && id_of(lead) == Some(id) {
                return Some(lead);
            }
            at = (at + 1) & (self.slots.len() - 1);
        }
    }

    fn insert_tagged(&mut self, tag: u32, lead: u32) {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        self.place(lead, tag);
        self.len += 1;
    }

    /// How many leads it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// The first slot to probe for `tag`: the tag scaled to the table's
    /// length (`None` when the table is empty).
    fn home(&self, tag: u32) -> Option<usize> {
        let n = self.slots.len() as u128;
        (n > 0).then(|| ((u128::from(tag) * n) >> 32) as usize)
    }

    fn place(&mut self, lead: u32, tag: u32) {
        let Some(mut at) = self.home(tag) else { return };
        let mask = self.slots.len() - 1;
        while let Some(slot) = self.slots.get_mut(at) {
            if slot[0] == FREE {
                *slot = [lead, tag];
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the table (16 slots at first), placing every lead again by
    /// its stored tag.
    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(16);
        let old = std::mem::replace(&mut self.slots, vec![[FREE, 0]; size]);
        for [lead, tag] in old {
            if lead != FREE {
                self.place(lead, tag);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn finds_every_lead_inserted_and_no_other(
            names in proptest::collection::hash_set("[a-z0-9-]{1,12}", 0..300),
            others in proptest::collection::vec("[a-z0-9-]{1,12}", 0..50),
        ) {
            let ids: Vec<LeadId> = names.iter().map(|n| LeadId::new(n.as_str()).unwrap()).collect();
            let id_of = |k: u32| ids.get(k as usize);
            let mut index = LeadIndex::default();
            for (k, id) in ids.iter().enumerate() {
                prop_assert_eq!(index.get(id, id_of), None);
                index.insert(id, k as u32);
            }
            prop_assert_eq!(index.len(), ids.len());
            prop_assert!(index.slots.len() >= 2 * ids.len());
            for (k, id) in ids.iter().enumerate() {
                prop_assert_eq!(index.get(id, id_of), Some(k as u32));
            }
            for other in others.iter().filter(|o| !names.contains(*o)) {
                prop_assert_eq!(index.get(&LeadId::new(other.as_str()).unwrap(), id_of), None);
            }
        }
    }

    #[test]
    fn ids_with_the_same_tag_are_told_apart_by_the_ids() {
        // Every lead under one tag: lookups must compare the ids themselves.
        let ids: Vec<LeadId> = (0..40)
            .map(|k| LeadId::new(format!("lead-{k}")).unwrap())
            .collect();
        let id_of = |k: u32| ids.get(k as usize);
        let mut index = LeadIndex::default();
        for k in 0..40u32 {
            index.insert_tagged(7, k);
        }
        for (k, id) in ids.iter().enumerate() {
            assert_eq!(index.find(7, id, id_of), Some(k as u32));
        }
        let stranger = LeadId::new("lead-40").unwrap();
        assert_eq!(index.find(7, &stranger, id_of), None);
        assert_eq!(LeadIndex::default().get(&ids[0], id_of), None);
    }
}
