//! What the engine answers from its history log: explanations, and scores
//! at times its lines no longer reach.

use chrono::{DateTime, Utc};

use super::error::EngineError;
use super::keys::ShapeKey;
use super::view::time;
use super::{Engine, LeadRef};
use crate::scores::Scores;
use crate::scoring::Explanation;
use crate::scoring::explain::settle;
use crate::scoring::fold::{self, HitRef};

impl Engine {
    /// A lead's scores at `now` with every contribution explained (see
    /// [`Explanation`]), from the engine's history: equal to
    /// [`ScoringModel::explain`](crate::ScoringModel::explain) of
    /// the lead's events. Events are named by their time and rule (the
    /// history keeps no ids). It reads the whole history log: for an
    /// occasional question, not for every event.
    ///
    /// # Errors
    ///
    /// [`EngineError::UnknownLead`]; [`EngineError::NoHistory`] when the
    /// history is off.
    pub fn explain(&self, lead: impl LeadRef, now: DateTime<Utc>) -> Result<Explanation, EngineError> {
        let i = self.require(&lead)?;
        let hits = self.history_hits(i, now, "explain")?;
        let lead = self
            .cold
            .get(i)
            .and_then(|c| c.lead_at(now))
            .ok_or_else(|| EngineError::UnknownLead(lead.unknown()))?;
        Ok(settle(&self.model, &lead, &hits, now).explain(&self.model, now))
    }

    /// Lead `i`'s scores at `now` from the history.
    pub(super) fn scores_from_history(&self, i: usize, now: DateTime<Utc>) -> Result<Scores, EngineError> {
        let hits = self.history_hits(i, now, "scores before the allowed lateness")?;
        let Some(lead) = self.cold.get(i).and_then(|c| c.lead_at(now)) else {
            return Ok(Scores::default());
        };
        Ok(fold::fold(&self.model, &hits)
            .tally(&self.model, &lead, &hits, now)
            .settle(&self.model)
            .scores)
    }

    /// Lead `i`'s hits up to `now` from the history, in canonical order.
    fn history_hits(
        &self,
        i: usize,
        now: DateTime<Utc>,
        operation: &'static str,
    ) -> Result<Vec<HitRef<'_>>, EngineError> {
        let log = self.log.as_ref().ok_or(EngineError::NoHistory { operation })?;
        let mut hits = Vec::new();
        for (at, shape) in log.of(super::keys::LeadKey(i as u32)) {
            let at = time(at);
            if at > now {
                continue;
            }
            let Some(s) = self.shapes.get(ShapeKey(shape)) else {
                continue;
            };
            for &rule in self.shapes.rules(s) {
                hits.push(HitRef {
                    rule: usize::from(rule),
                    at,
                    shape: s.fingerprint,
                    key: 0,
                    event: None,
                });
            }
        }
        hits.sort_by_key(HitRef::order);
        Ok(hits)
    }
}
