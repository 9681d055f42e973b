//! Applying a batch of events lead by lead: the fast way to load a history.

use chrono::{DateTime, Utc};

use super::Engine;
use super::apply::nanos;
use super::error::{IngestError, Rejected};
use super::keys::KeyedEvent;
use super::output::IngestReport;

/// Leads per bucket of the first grouping pass: their lines and events fit
/// in cache together.
const BUCKET: usize = 1 << 11;

impl Engine {
    /// Ingests a batch of keyed events lead by lead: each is checked
    /// against the watermark at the start of the call (an event older than
    /// the allowed lateness behind it is refused), then the batch is grouped
    /// by lead and each lead's events are applied in time order, as if the
    /// batch had arrived sorted by time. Duplicates within the batch or of
    /// events already held are ignored. The result is the same as
    /// [`ingest_keyed`](Self::ingest_keyed) of the events in time order;
    /// the outputs come lead by lead (leads in key order).
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use leadflow::engine::EngineConfig;
    /// use leadflow::synthetic::{lifecycle, scoring_model};
    /// use leadflow::{Engine, Event, EventId, EventKind, Lead, LeadId};
    ///
    /// let mut engine = Engine::new(scoring_model()?, lifecycle()?, EngineConfig::default())?;
    /// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    /// engine.upsert_lead(Lead::new(LeadId::new("l1")?, t0), t0)?;
    /// let mut batch = Vec::new();
    /// for (n, hours) in [5, 1, 3].into_iter().enumerate() {
    ///     let e = Event::new(EventId::new(format!("e{n}"))?, LeadId::new("l1")?, t0 + Duration::hours(hours), EventKind::EmailOpen { campaign: None });
    ///     batch.push(engine.keyed(&e)?);
    /// }
    /// batch.push(batch[0]); // a duplicate
    /// let report = engine.replay(&batch, t0 + Duration::hours(6));
    /// assert_eq!((report.applied, report.duplicates), (3, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replay(&mut self, events: &[KeyedEvent], now: DateTime<Utc>) -> IngestReport {
        let mut report = IngestReport::default();
        let earliest = self.earliest();
        let leads = self.cold.len();
        let behind = self.check_now(now);
        let skew = self.config.clock_skew;
        // Check every event, then group the accepted ones by lead: by
        // bucket of leads, then by lead within each bucket.
        let mut accepted: Vec<(u32, i64, u32)> = Vec::with_capacity(events.len());
        for (index, e) in events.iter().enumerate() {
            let error = if let Some(error) = &behind {
                Some(error.clone())
            } else if e.lead.index() >= leads {
                Some(IngestError::UnknownKey {
                    what: "lead".into(),
                    key: e.lead.0,
                })
            } else if self.shapes.get(e.shape).is_none() {
                Some(IngestError::UnknownKey {
                    what: "shape".into(),
                    key: e.shape.0,
                })
            } else if skew.after(now).is_some_and(|latest| e.at > latest) {
                Some(IngestError::TooFarInFuture { at: e.at, now, skew })
            } else if nanos(e.at).is_none() {
                Some(IngestError::OutOfRange { at: e.at })
            } else {
                match (earliest, self.watermark) {
                    (Some(min), Some(watermark)) if e.at < min => Some(IngestError::TooLate {
                        at: e.at,
                        watermark,
                        allowed: self.config.allowed_lateness,
                    }),
                    _ => None,
                }
            };
            match error {
                Some(error) => report.rejected.push(Rejected {
                    index,
                    lead: self.cold.get(e.lead.index()).map(|c| c.life.lead().clone()),
                    event: None,
                    key: e.key,
                    error,
                }),
                None => accepted.push((e.lead.0, nanos(e.at).unwrap_or(i64::MIN), index as u32)),
            }
        }
        let grouped = group(&accepted, leads);
        // The watermark the batch ends with: what the ring must keep is
        // known up front.
        if let Some(max) = accepted.iter().map(|a| a.1).max() {
            let latest = super::view::time(max);
            self.watermark = Some(self.watermark.map_or(latest, |w| w.max(latest)));
        }
        let mut touched = Vec::new();
        let mut run: Vec<(i64, u64, u64, u32)> = Vec::new();
        let mut start = 0;
        while start < grouped.len() {
            let lead = grouped.get(start).map_or(0, |g| g.0);
            let end = start
                + grouped
                    .get(start..)
                    .map_or(0, |g| g.iter().take_while(|x| x.0 == lead).count());
            run.clear();
            for &(_, t, index) in grouped.get(start..end).unwrap_or(&[]) {
                if let Some(e) = events.get(index as usize) {
                    let fp = self.shapes.get(e.shape).map_or(0, |s| s.fingerprint);
                    run.push((t, fp, e.key.get(), index));
                }
            }
            run.sort_unstable();
            let mut previous: Option<(i64, u64)> = None;
            for &(t, _, key, index) in &run {
                let Some(e) = events.get(index as usize) else {
                    continue;
                };
                if previous == Some((t, key)) {
                    report.duplicates += 1;
                    self.stats.duplicates += 1;
                    continue;
                }
                previous = Some((t, key));
                if let Err(error) = self.apply_checked(e, &mut report, &mut touched) {
                    report.rejected.push(Rejected {
                        index: index as usize,
                        lead: self.cold.get(e.lead.index()).map(|c| c.life.lead().clone()),
                        event: None,
                        key: e.key,
                        error,
                    });
                }
            }
            start = end;
        }
        report.rejected.sort_by_key(|r| r.index);
        self.finish(report, touched, now)
    }
}

/// `(lead, time, index)` grouped by lead, leads in order (within a lead,
/// in the order given): a radix sort in two passes, by bucket of leads then
/// by lead, so that each pass writes to few places at a time.
fn group(items: &[(u32, i64, u32)], leads: usize) -> Vec<(u32, i64, u32)> {
    let by =
        |items: &[(u32, i64, u32)], out: &mut Vec<(u32, i64, u32)>, key: &dyn Fn(u32) -> usize, n: usize| {
            let mut start = vec![0usize; n + 1];
            for it in items {
                if let Some(c) = start.get_mut(key(it.0) + 1) {
                    *c += 1;
                }
            }
            for i in 1..start.len() {
                let prev = start.get(i - 1).copied().unwrap_or(0);
                if let Some(c) = start.get_mut(i) {
                    *c += prev;
                }
            }
            out.clear();
            out.resize(items.len(), (0, 0, 0));
            for it in items {
                let k = key(it.0);
                if let Some(pos) = start.get_mut(k) {
                    if let Some(slot) = out.get_mut(*pos) {
                        *slot = *it;
                    }
                    *pos += 1;
                }
            }
        };
    let mut buckets = Vec::new();
    by(items, &mut buckets, &|l| l as usize / BUCKET, leads / BUCKET + 1);
    let mut out = Vec::with_capacity(items.len());
    let mut start = 0;
    while start < buckets.len() {
        let b = buckets.get(start).map_or(0, |x| x.0 as usize / BUCKET);
        let end = start
            + buckets
                .get(start..)
                .map_or(0, |g| g.iter().take_while(|x| x.0 as usize / BUCKET == b).count());
        let mut part = Vec::with_capacity(end - start);
        by(
            buckets.get(start..end).unwrap_or(&[]),
            &mut part,
            &|l| l as usize % BUCKET,
            BUCKET,
        );
        out.extend(part);
        start = end;
    }
    out
}
