//! Replaying a history into a [`CompiledFunnel`]: events grouped by lead.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::ingest::id_of;
use super::{ActionKey, CompactEvent, CompiledFunnel, LeadKey};
use crate::funnel::IngestReport;
use crate::hash::FxBuild;

impl CompiledFunnel {
    /// Applies a batch of keyed events lead by lead: the fast way to
    /// rebuild a funnel's state from a history, or to backfill one.
    ///
    /// The events may come in any order. They are checked as
    /// [`ingest`](Self::ingest) checks them (not after `now`, within the
    /// allowed lateness, keys issued by this funnel, ids not seen before,
    /// attribute changes valid), then grouped by lead, sorted by time within
    /// each lead (events at the same time keep the order given) and applied
    /// one lead after another, so each lead's state stays in cache while
    /// its events go in. Every lead ends where `ingest` would have left it
    /// given the same events sorted by time, those at the same time in the
    /// order given: the same stage, history, scores and statistics. (Which
    /// of two events at the same time fires a transition, restated by the
    /// other, depends on their order.)
    ///
    /// What differs from `ingest`:
    ///
    /// - An event is too late only against the watermark *before* the call
    ///   (the call's own events are sorted before they are applied, so none
    ///   is late against another).
    /// - An id given twice for a lead within the call is a duplicate
    ///   however far apart the copies' times are; the earliest copy counts.
    /// - The outputs come lead by lead, in the order of the leads' keys, and
    ///   each lead's in time order. Refusals for time or unknown keys come
    ///   first, in the order given.
    /// - Afterwards the funnel remembers the ids of the events within the
    ///   allowed lateness of the new watermark (older ones could only come
    ///   back too late).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use leadflow::funnel::{CompactEvent, CompiledFunnel, FunnelConfig, event_key};
    /// use leadflow::scoring::ScoringModel;
    /// use leadflow::{AssetType, Event, EventId, EventKind, Lead, LeadId, LifecycleDefinition, Stage};
    /// use leadflow::criteria::Condition;
    /// use leadflow::EventMatcher;
    ///
    /// let mql = Condition::did(EventMatcher::download(AssetType::PricingSheet));
    /// let machine = LifecycleDefinition::standard_b2b(mql).build()?;
    /// let mut funnel = CompiledFunnel::new(ScoringModel::b2b_default()?, machine, FunnelConfig::default());
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
    /// lead.person.set_email("ada@acme.io");
    /// let (key, _) = funnel.upsert_lead(lead, t0)?;
    ///
    /// // A history, newest first, with a redelivered copy.
    /// let download = Event::new(EventId::new("e1")?, LeadId::new("lead-1")?, t0,
    ///     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
    /// let action = funnel.action(&download)?;
    /// let at = |h: i64| t0 + Duration::hours(h);
    /// let history = [
    ///     CompactEvent { lead: key, id: 2, at: at(30), action },
    ///     CompactEvent { lead: key, id: 1, at: at(2), action },
    ///     CompactEvent { lead: key, id: 1, at: at(2), action },
    /// ];
    /// let report = funnel.replay(&history, at(48));
    /// assert_eq!((report.applied, report.duplicates), (2, 1));
    /// assert_eq!(funnel.lead(key).unwrap().lifecycle.stage(), Stage::Mql);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(&mut self, events: &[CompactEvent], now: DateTime<Utc>) -> IngestReport {
        let mut report = IngestReport::default();
        let mut touched = Vec::new();
        // Checked in the order given, and counted per lead.
        let mut kept = Vec::with_capacity(events.len());
        let mut starts = vec![0usize; self.cold.len() + 1];
        let mut watermark = self.watermark;
        for ev in events {
            let ok = match self.check_time(ev.at, || id_of(ev.id, None), now) {
                Ok(()) => self.known(ev, None, &mut report),
                Err(error) => {
                    self.reject(ev, None, error, &mut report);
                    false
                }
            };
            if let Some(count) = starts.get_mut(ev.lead.index() + 1).filter(|_| ok) {
                *count += 1;
                watermark = Some(watermark.map_or(ev.at, |w| w.max(ev.at)));
            }
            kept.push(ok);
        }
        let mut total = 0;
        for s in &mut starts {
            total += *s;
            *s = total;
        }
        // Grouped by lead (a counting sort, in the order given).
        let mut grouped = match events.first() {
            Some(first) => vec![Pending::of(first); total],
            None => Vec::new(),
        };
        let mut next = starts.clone();
        for (ev, _) in events.iter().zip(&kept).filter(|(_, ok)| **ok) {
            if let Some(slot) = next.get_mut(ev.lead.index()) {
                if let Some(g) = grouped.get_mut(*slot) {
                    *g = Pending::of(ev);
                }
                *slot += 1;
            }
        }
        drop((kept, next));

        // Ids older than this could only come back too late.
        // (None: all of them can, or no event was applied.)
        let horizon = watermark.and_then(|w| self.config.allowed_lateness.before(w));
        // Ids from earlier calls: none when replaying into a fresh funnel.
        // (Ids repeated within the call are found by `repeats_an_id` and
        // `in_call`.)
        let earlier_ids = !self.seen.is_empty();
        let mut in_call: HashSet<u64, FxBuild> = HashSet::default();
        let mut table = Vec::new();
        // The ids of the applied events within the allowed lateness of the
        // new watermark (a copy of one is a duplicate in later calls).
        let mut remember = Vec::new();
        for (i, bounds) in starts.windows(2).enumerate() {
            let Some(group) = bounds
                .first()
                .zip(bounds.get(1))
                .and_then(|(&a, &b)| grouped.get_mut(a..b))
            else {
                continue;
            };
            if group.is_empty() {
                continue;
            }
            group.sort_by_key(|e| e.at);
            if let Some(lane) = self.lanes.get_mut(i) {
                lane.log.reserve(group.len());
            }
            // Ids given twice within the call are rare: the set of the
            // ids seen so far is kept only for a group that has some.
            let repeats = group.len() > 1 && repeats_an_id(group, &mut table);
            if repeats {
                in_call.clear();
            }
            for p in group.iter() {
                let ev = p.event(i);
                let key = (ev.lead.0, ev.id);
                if (repeats && in_call.contains(&ev.id)) || (earlier_ids && self.seen.contains(key)) {
                    report.duplicates += 1;
                    continue;
                }
                let refused = report.rejected.len();
                self.apply_checked(ev, None, &mut report, &mut touched);
                if report.rejected.len() == refused {
                    if repeats {
                        in_call.insert(ev.id);
                    }
                    if horizon.is_none_or(|h| ev.at >= h) {
                        remember.push(key);
                    }
                }
            }
        }
        // Remembered at the end, in one go: the set is sized once.
        self.seen.remember_all(&remember);
        self.finish(report, touched, now)
    }
}

/// An event in a lead's group: a [`CompactEvent`] without its lead, and
/// without the padding a `u64` field brings (24 bytes instead of 32: the
/// grouped copy of a large batch is the call's largest allocation).
#[derive(Debug, Clone, Copy)]
struct Pending {
    at: DateTime<Utc>,
    action: u32,
    id: [u32; 2],
}

impl Pending {
    fn of(ev: &CompactEvent) -> Pending {
        Pending {
            at: ev.at,
            action: ev.action.0,
            id: [ev.id as u32, (ev.id >> 32) as u32],
        }
    }

    fn id(&self) -> u64 {
        u64::from(self.id[0]) | (u64::from(self.id[1]) << 32)
    }

    /// The event again, for lead `i` (a key below 2³²: it was one).
    fn event(&self, i: usize) -> CompactEvent {
        CompactEvent {
            lead: LeadKey(i as u32),
            id: self.id(),
            at: self.at,
            action: ActionKey(self.action),
        }
    }
}

/// True when two events of `group` have the same id. `table` is room for
/// an open-addressing set of the ids (a sort of the ids costs more: a few
/// groups hold most events).
fn repeats_an_id(group: &[Pending], table: &mut Vec<u64>) -> bool {
    /// The mark of a free slot; the id with this value is tracked apart.
    const FREE: u64 = 0;
    if group.len() <= 8 {
        // (Equal halves, equal ids.)
        return group
            .iter()
            .enumerate()
            .any(|(k, a)| group.get(k + 1..).unwrap_or(&[]).iter().any(|b| b.id == a.id));
    }
    // At most half full, so probes stay short.
    let bits = (2 * group.len()).next_power_of_two().trailing_zeros();
    let mask = (1usize << bits) - 1;
    table.clear();
    table.resize(mask + 1, FREE);
    let mut free_id_seen = false;
    for id in group.iter().map(Pending::id) {
        if id == FREE {
            if free_id_seen {
                return true;
            }
            free_id_seen = true;
            continue;
        }
        // Fibonacci hashing: the top bits of the product.
        let mut slot = (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
        while let Some(s) = table.get_mut(slot) {
            if *s == FREE {
                *s = id;
                break;
            }
            if *s == id {
                return true;
            }
            slot = (slot + 1) & mask;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn group(ids: &[u64]) -> Vec<Pending> {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        ids.iter()
            .map(|&id| {
                let ev = CompactEvent {
                    lead: LeadKey(7),
                    id,
                    at,
                    action: ActionKey(3),
                };
                let p = Pending::of(&ev);
                assert_eq!(p.event(7), ev);
                p
            })
            .collect()
    }

    proptest! {
        #[test]
        fn repeats_an_id_is_whether_the_ids_are_distinct(
            ids in prop_oneof![
                proptest::collection::vec(0u64..40, 0..60),
                proptest::collection::vec(any::<u64>(), 0..300),
                proptest::collection::vec(prop_oneof![Just(0u64), Just(u64::MAX), 1u64..4], 0..20),
            ],
        ) {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let mut table = vec![7; 3];
            prop_assert_eq!(repeats_an_id(&group(&ids), &mut table), sorted.len() < ids.len());
        }
    }

    #[test]
    fn a_pending_event_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Pending>(), 24);
        assert_eq!(std::mem::size_of::<CompactEvent>(), 32);
    }

    #[test]
    fn repeats_an_id_finds_the_repeat_anywhere() {
        let mut table = Vec::new();
        let mut ids: Vec<u64> = (1..=1000).map(|k| k * 0x1_0000_0000).collect();
        assert!(!repeats_an_id(&group(&ids), &mut table));
        ids.push(ids[500]);
        assert!(repeats_an_id(&group(&ids), &mut table));
        // The free mark as an id, once and then twice.
        let mut ids: Vec<u64> = (0..20).collect();
        assert!(!repeats_an_id(&group(&ids), &mut table));
        ids.push(0);
        assert!(repeats_an_id(&group(&ids), &mut table));
    }
}
