//! Replaying a history into a [`CompiledFunnel`]: events grouped by lead.

use chrono::{DateTime, Utc};

use super::ids::IdSet;
use super::ingest::id_of;
use super::{ActionKey, CompactEvent, CompiledFunnel, LeadKey};
use crate::funnel::IngestReport;

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
        let mut call = Call {
            report: IngestReport::default(),
            touched: Vec::new(),
            // Ids from earlier calls: none when replaying into a fresh
            // funnel. (Ids repeated within the call are found by
            // `repeats_an_id` and `in_call`.)
            earlier_ids: !self.seen.is_empty(),
            horizon: None,
            in_call: IdSet::default(),
            table: IdSet::default(),
            remember: Vec::new(),
        };
        // Checked in the order given, and counted per bucket of leads.
        let mut kept = Vec::with_capacity(events.len());
        // (Each count one place after its bucket's: see `group`.)
        let mut ends_of_buckets = vec![0usize; (self.cold.len() >> BUCKET_BITS) + 2];
        let mut watermark = self.watermark;
        for ev in events {
            let ok = match self.check_time(ev.at, || id_of(ev.id, None), now) {
                Ok(()) => self.known(ev, None, &mut call.report),
                Err(error) => {
                    self.reject(ev, None, error, &mut call.report);
                    false
                }
            };
            if let Some(count) = ends_of_buckets.get_mut(bucket_of(ev) + 1).filter(|_| ok) {
                *count += 1;
                watermark = Some(watermark.map_or(ev.at, |w| w.max(ev.at)));
            }
            kept.push(ok);
        }
        // Staged by bucket, in the order given: the first pass of a radix
        // sort by lead. It writes to one place per bucket, where a single
        // pass grouping by lead writes to one place per lead, each a cache
        // miss once the leads are many.
        let mut staged = Vec::new();
        let ok = events.iter().zip(&kept).filter(|(_, ok)| **ok).map(|(ev, _)| ev);
        group(
            ok,
            |ev| bucket_of(ev),
            Staged::of,
            &mut ends_of_buckets,
            &mut staged,
        );
        drop(kept);

        // Ids older than this could only come back too late.
        // (None: all of them can, or no event was applied.)
        call.horizon = watermark.and_then(|w| self.config.allowed_lateness.before(w));
        // Each bucket grouped by lead (its groups fit in cache), then
        // applied lead by lead.
        let mut grouped = Vec::new();
        let mut ends = Vec::new();
        let mut bucket_start = 0;
        for (b, &bucket_end) in ends_of_buckets.iter().enumerate() {
            let bucket = staged.get(bucket_start..bucket_end).unwrap_or(&[]);
            bucket_start = bucket_end;
            if bucket.is_empty() {
                continue;
            }
            ends.clear();
            ends.resize(LEADS_PER_BUCKET + 1, 0);
            for s in bucket {
                if let Some(count) = ends.get_mut(s.lead_in_bucket() + 1) {
                    *count += 1;
                }
            }
            group(
                bucket.iter(),
                |s| s.lead_in_bucket(),
                |s| s.pending,
                &mut ends,
                &mut grouped,
            );
            let mut start = 0;
            for (k, &end) in ends.iter().enumerate() {
                if let Some(group) = grouped.get_mut(start..end).filter(|g| !g.is_empty()) {
                    self.replay_lead((b << BUCKET_BITS) + k, group, &mut call);
                }
                start = end;
            }
        }
        // Remembered at the end, in one go: the set is sized once.
        self.seen.remember_all(&call.remember);
        self.finish(call.report, call.touched, now)
    }

    /// Applies lead `i`'s events of the call, in time order.
    fn replay_lead(&mut self, i: usize, group: &mut [Pending], call: &mut Call) {
        group.sort_by_key(|e| e.at);
        if let Some(lane) = self.lanes.get_mut(i) {
            lane.log.reserve(group.len());
        }
        // Ids given twice within the call are rare: the set of the ids seen
        // so far is kept only for a group that has some.
        let repeats = group.len() > 1 && repeats_an_id(group, &mut call.table);
        if repeats {
            call.in_call.reset(group.len());
        }
        for p in group.iter() {
            let ev = p.event(i);
            let key = (ev.lead.0, ev.id);
            if (repeats && call.in_call.contains(ev.id)) || (call.earlier_ids && self.seen.contains(key)) {
                call.report.duplicates += 1;
                continue;
            }
            let refused = call.report.rejected.len();
            self.apply_checked(ev, None, &mut call.report, &mut call.touched);
            if call.report.rejected.len() == refused {
                if repeats {
                    call.in_call.insert(ev.id);
                }
                if call.horizon.is_none_or(|h| ev.at >= h) {
                    call.remember.push(key);
                }
            }
        }
    }
}

/// Leads per bucket in [`CompiledFunnel::replay`]'s grouping, as a power
/// of two: a bucket's events grouped by lead (about 10 per lead, 24 bytes
/// each) take about half a megabyte, within a core's L2 cache on common
/// machines.
const BUCKET_BITS: u32 = 11;
const LEADS_PER_BUCKET: usize = 1 << BUCKET_BITS;

fn bucket_of(ev: &CompactEvent) -> usize {
    ev.lead.index() >> BUCKET_BITS
}

/// Puts `items` into `out` grouped by `key`, in the order given: the
/// second half of a counting sort. `ends` holds the number of items with
/// each key one place after the key (`ends[k + 1]` for key `k`), and its
/// last place is dropped; afterwards `ends[k]` is where key `k`'s items end
/// in `out` (and key `k + 1`'s start).
fn group<T, U: Copy + Default>(
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> usize,
    make: impl Fn(T) -> U,
    ends: &mut Vec<usize>,
    out: &mut Vec<U>,
) {
    let mut total = 0;
    for c in ends.iter_mut() {
        total += *c;
        *c = total;
    }
    ends.pop();
    out.clear();
    out.resize(total, U::default());
    for item in items {
        if let Some(slot) = ends.get_mut(key(&item)) {
            if let Some(o) = out.get_mut(*slot) {
                *o = make(item);
            }
            *slot += 1;
        }
    }
}

/// What a [`CompiledFunnel::replay`] call carries from lead to lead.
struct Call {
    report: IngestReport,
    touched: Vec<u32>,
    earlier_ids: bool,
    horizon: Option<DateTime<Utc>>,
    /// The ids of the current lead's events so far, for a lead whose
    /// events repeat an id.
    in_call: IdSet,
    /// Room for [`repeats_an_id`].
    table: IdSet,
    /// The ids of the applied events within the allowed lateness of the
    /// new watermark (a copy of one is a duplicate in later calls).
    remember: Vec<(u32, u64)>,
}

/// An event staged in its bucket: its lead and the rest (28 bytes).
#[derive(Debug, Clone, Copy, Default)]
struct Staged {
    pending: Pending,
    lead: u32,
}

impl Staged {
    fn of(ev: &CompactEvent) -> Staged {
        Staged {
            pending: Pending::of(ev),
            lead: ev.lead.0,
        }
    }

    /// Its lead's place in the bucket.
    fn lead_in_bucket(&self) -> usize {
        self.lead as usize % LEADS_PER_BUCKET
    }
}

/// An event in a lead's group: a [`CompactEvent`] without its lead, and
/// without the padding a `u64` field brings (24 bytes instead of 32: the
/// staged copy of a large batch, with its lead, is the call's largest
/// allocation).
#[derive(Debug, Clone, Copy, Default)]
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

/// True when two events of `group` have the same id; `ids` is room for
/// the set of them (a sort of the ids costs more: a few groups hold most
/// events).
fn repeats_an_id(group: &[Pending], ids: &mut IdSet) -> bool {
    if group.len() <= 8 {
        // (Equal halves, equal ids.)
        return group
            .iter()
            .enumerate()
            .any(|(k, a)| group.get(k + 1..).unwrap_or(&[]).iter().any(|b| b.id == a.id));
    }
    ids.reset(group.len());
    group.iter().any(|p| !ids.insert(p.id()))
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
            let mut table = IdSet::default();
            table.reset(2);
            prop_assert_eq!(repeats_an_id(&group(&ids), &mut table), sorted.len() < ids.len());
        }
    }

    #[test]
    fn a_pending_event_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Pending>(), 24);
        assert_eq!(std::mem::size_of::<Staged>(), 28);
        assert_eq!(std::mem::size_of::<CompactEvent>(), 32);
    }

    #[test]
    fn repeats_an_id_finds_the_repeat_anywhere() {
        let mut table = IdSet::default();
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
