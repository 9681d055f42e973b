//! Replaying a history into a [`CompiledFunnel`]: events grouped by lead.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::ingest::id_of;
use super::{CompactEvent, CompiledFunnel};
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
            Some(&first) => vec![first; total],
            None => Vec::new(),
        };
        let mut next = starts.clone();
        for (ev, _) in events.iter().zip(&kept).filter(|(_, ok)| **ok) {
            if let Some(slot) = next.get_mut(ev.lead.index()) {
                if let Some(g) = grouped.get_mut(*slot) {
                    *g = *ev;
                }
                *slot += 1;
            }
        }
        drop((kept, next));

        // Ids older than this could only come back too late.
        let horizon = watermark.map(|w| w - self.config.allowed_lateness.to_time_delta());
        // Ids from earlier calls: none when replaying into a fresh funnel.
        let earlier_ids = !self.seen.is_empty();
        let mut in_call: HashSet<u64, FxBuild> = HashSet::default();
        let mut ids = Vec::new();
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
            let repeats = group.len() > 1 && repeats_an_id(group, &mut ids);
            if repeats {
                in_call.clear();
            }
            for ev in group.iter() {
                let key = (ev.lead.0, ev.id);
                let remember = horizon.is_none_or(|h| ev.at >= h);
                let duplicate = (repeats && in_call.contains(&ev.id))
                    || if remember {
                        !self.seen.insert(key)
                    } else {
                        earlier_ids && self.seen.contains(key)
                    };
                if duplicate {
                    report.duplicates += 1;
                    continue;
                }
                let refused = report.rejected.len();
                self.apply_checked(*ev, None, &mut report, &mut touched);
                if repeats && report.rejected.len() == refused {
                    in_call.insert(ev.id);
                }
            }
        }
        self.finish(report, touched, now)
    }
}

/// True when two events of `group` have the same id (`scratch` is room to
/// sort them in).
fn repeats_an_id(group: &[CompactEvent], scratch: &mut Vec<u64>) -> bool {
    scratch.clear();
    scratch.extend(group.iter().map(|e| e.id));
    scratch.sort_unstable();
    scratch.windows(2).any(|w| matches!(w, [a, b] if a == b))
}
