//! The canonical fold: a lead's hits, in canonical order, into a
//! [row](super::row), and the row into a [tally](super::tally) at `now`.
//! Every scoring path (the pure [`ScoringModel::score`], the incremental
//! [`ScoreState`](super::ScoreState), the engine) goes through it.

use chrono::{DateTime, Utc};

use super::model::ScoringModel;
use super::row::Layout;
use super::tally::Tally;
use crate::event::Event;
use crate::hash::fingerprint;
use crate::id::EventId;
use crate::lead::Lead;
use crate::scores::Dimension;

/// One event rule matched by one event, with what orders it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HitRef<'a> {
    pub(crate) rule: usize,
    pub(crate) at: DateTime<Utc>,
    /// The event's shape fingerprint.
    pub(crate) shape: u64,
    /// The event's id fingerprint.
    pub(crate) key: u64,
    /// The event's id, when known (explanations name it).
    pub(crate) event: Option<&'a EventId>,
}

impl HitRef<'_> {
    /// The canonical order: time, then shape fingerprint, then id
    /// fingerprint, then rule.
    pub(crate) fn order(&self) -> (DateTime<Utc>, u64, u64, usize) {
        (self.at, self.shape, self.key, self.rule)
    }
}

/// The hits of `events` up to `now` in canonical order: one copy of each
/// event (id and time; of copies with other payloads, the one with the
/// lowest shape fingerprint), each matched against the model's event rules.
pub(crate) fn hits<'a>(model: &ScoringModel, events: &'a [Event], now: DateTime<Utc>) -> Vec<HitRef<'a>> {
    let mut kept: Vec<(DateTime<Utc>, u64, u64, &'a Event)> = events
        .iter()
        .filter(|e| e.at <= now)
        .map(|e| (e.at, e.shape.fingerprint(), fingerprint(e.id.as_str()), e))
        .collect();
    // One copy per id and time: the first in canonical order.
    kept.sort_by(|a, b| (&a.3.id, a.0, a.1).cmp(&(&b.3.id, b.0, b.1)));
    kept.dedup_by(|later, first| later.3.id == first.3.id && later.0 == first.0);
    kept.sort_by_key(|a| (a.0, a.1, a.2));
    let mut hits = Vec::with_capacity(kept.len());
    for (at, shape, key, e) in kept {
        for (rule, _) in model.matches(&e.shape) {
            hits.push(HitRef {
                rule,
                at,
                shape,
                key,
                event: Some(&e.id),
            });
        }
    }
    hits
}

/// Hits folded into a row.
pub(crate) struct Fold {
    pub(crate) row: Vec<u64>,
    /// The indices of the hits that counted under their limits, in order.
    pub(crate) counted: Vec<usize>,
}

/// Folds hits given in canonical order into the model's row.
pub(crate) fn fold(model: &ScoringModel, hits: &[HitRef<'_>]) -> Fold {
    let layout = &model.layout;
    let mut row = layout.empty();
    let mut counted = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        // In canonical order a hit is never before the anchor: never out
        // of reach.
        if layout.apply(&mut row, h.rule, h.at) == Ok(true) {
            counted.push(i);
        }
    }
    Fold { row, counted }
}

impl Fold {
    /// The contributions at `now`: `lead`'s fit rules and the counted hits.
    pub(crate) fn tally(
        &self,
        model: &ScoringModel,
        lead: &Lead,
        hits: &[HitRef<'_>],
        now: DateTime<Utc>,
    ) -> Tally {
        let windowed = self
            .counted
            .iter()
            .filter_map(|i| hits.get(*i))
            .filter(|h| model.layout.is_windowed(h.rule))
            .map(|h| (h.rule, h.at));
        tally(model, &model.layout, lead, &self.row, windowed, now)
    }
}

/// The contributions at `now` of `lead`'s fit rules, of a row of `layout`
/// (holding no hit after `now`) and of the counted hits of windowed rules.
pub(crate) fn tally(
    model: &ScoringModel,
    layout: &Layout,
    lead: &Lead,
    row: &[u64],
    windowed: impl IntoIterator<Item = (usize, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Tally {
    let mut tally = Tally::new(model);
    tally.add_fit(model, lead);
    layout.parts(row, now, |g, sum, positive| {
        tally.add_parts(g, Dimension::Engagement, sum, positive);
    });
    for (rule, at) in windowed {
        add_windowed(model, layout, &mut tally, rule, at, now);
    }
    tally
}

/// Adds to a tally what a counted hit of windowed `rule` at `at` is worth
/// at `now`.
pub(crate) fn add_windowed(
    model: &ScoringModel,
    layout: &Layout,
    tally: &mut Tally,
    rule: usize,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let v = model
        .compiled
        .get(rule)
        .map_or(0, |c| layout.windowed(c, at, now));
    if let Some(c) = model.compiled.get(rule) {
        tally.add(c.group, Dimension::Engagement, i128::from(v));
    }
}
