//! The history: every accepted event, appended in arrival order to three
//! columns (16 bytes an event), never read on the ingest path.

use super::keys::{LeadKey, ShapeKey};

/// The history log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Log {
    lead: Vec<u32>,
    at: Vec<i64>,
    shape: Vec<u32>,
}

impl Log {
    pub(crate) fn push(&mut self, lead: u32, at: i64, shape: u32) {
        self.lead.push(lead);
        self.at.push(at);
        self.shape.push(shape);
    }

    /// Gives the latest event of `lead` at `at` with shape `from` the shape
    /// `to` (a copy of the event that replaced it); a search from the end,
    /// off the ingest path (conflicting copies are rare).
    pub(crate) fn replace(&mut self, lead: u32, at: i64, from: u32, to: u32) {
        let found = (0..self.len()).rev().find(|&k| {
            self.lead.get(k) == Some(&lead) && self.at.get(k) == Some(&at) && self.shape.get(k) == Some(&from)
        });
        if let Some(s) = found.and_then(|k| self.shape.get_mut(k)) {
            *s = to;
        }
    }

    /// How many events.
    pub(crate) fn len(&self) -> usize {
        self.lead.len()
    }

    /// Its size in bytes (what it holds, not its spare capacity).
    pub(crate) fn bytes(&self) -> usize {
        self.len() * (4 + 8 + 4)
    }

    /// Every event, in arrival order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (LeadKey, i64, ShapeKey)> + '_ {
        self.lead
            .iter()
            .zip(&self.at)
            .zip(&self.shape)
            .map(|((&l, &at), &s)| (LeadKey(l), at, ShapeKey(s)))
    }

    /// One lead's events (time and shape), in arrival order.
    pub(crate) fn of(&self, lead: LeadKey) -> Vec<(i64, u32)> {
        self.iter()
            .filter(|(l, _, _)| *l == lead)
            .map(|(_, at, s)| (at, s.0))
            .collect()
    }

    /// The events grouped by lead: `offsets[i]..offsets[i + 1]` are lead
    /// `i`'s, in arrival order (a counting sort, off the ingest path).
    pub(crate) fn grouped(&self, leads: usize) -> Grouped {
        let mut offsets = vec![0u32; leads + 1];
        for &l in &self.lead {
            if let Some(c) = offsets.get_mut(l as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..offsets.len() {
            let prev = offsets.get(i - 1).copied().unwrap_or(0);
            if let Some(c) = offsets.get_mut(i) {
                *c += prev;
            }
        }
        let mut next = offsets.clone();
        let mut events = vec![(0i64, 0u32); self.len()];
        for ((&l, &at), &s) in self.lead.iter().zip(&self.at).zip(&self.shape) {
            if let Some(n) = next.get_mut(l as usize) {
                if let Some(slot) = events.get_mut(*n as usize) {
                    *slot = (at, s);
                }
                *n += 1;
            }
        }
        Grouped { offsets, events }
    }

    /// Builds a log from entries (a restored snapshot's history).
    pub(crate) fn from_columns(lead: Vec<u32>, at: Vec<i64>, shape: Vec<u32>) -> Option<Log> {
        (lead.len() == at.len() && at.len() == shape.len()).then_some(Log { lead, at, shape })
    }

    /// The columns (for snapshots).
    pub(crate) fn columns(&self) -> (&[u32], &[i64], &[u32]) {
        (&self.lead, &self.at, &self.shape)
    }
}

/// The history grouped by lead.
pub(crate) struct Grouped {
    offsets: Vec<u32>,
    events: Vec<(i64, u32)>,
}

impl Grouped {
    /// Lead `i`'s events (time, shape key), in arrival order.
    pub(crate) fn of(&self, i: usize) -> &[(i64, u32)] {
        let (Some(&a), Some(&b)) = (self.offsets.get(i), self.offsets.get(i + 1)) else {
            return &[];
        };
        self.events.get(a as usize..b as usize).unwrap_or(&[])
    }
}
