//! A lead's line: applying an entry to it (or taking one back), and the
//! fit it caches.

use chrono::{DateTime, Utc};

use super::Engine;
use super::keys::ShapeKey;
use super::plan::Plan;
use super::recent::Entry;
use super::shapes::Shapes;
use super::view::time;
use crate::lead::Lead;
use crate::scoring::ScoringModel;
use crate::scoring::tally::fit_contributions;

impl Engine {
    /// Applies an entry's rules and signals to a line; returns which rules
    /// counted.
    pub(super) fn apply_entry(&self, line: &mut [u64], e: &Entry) -> u64 {
        self.entry_rules(line, e, 1)
    }

    /// Takes back an entry [`apply_entry`](Self::apply_entry) applied.
    pub(super) fn take_back_entry(&self, line: &mut [u64], e: &Entry) {
        self.entry_rules(line, e, -1);
    }

    fn entry_rules(&self, line: &mut [u64], e: &Entry, sign: i32) -> u64 {
        entry_rules(&self.model, &self.plan, &self.shapes, line, e, sign)
    }
}

/// Applies (`sign` 1) or takes back (−1) an entry's rules and signals under
/// a plan; returns which rules counted.
pub(super) fn entry_rules(
    model: &ScoringModel,
    plan: &Plan,
    shapes: &Shapes,
    line: &mut [u64],
    e: &Entry,
    sign: i32,
) -> u64 {
    let Some(shape) = shapes.get(ShapeKey(e.shape)) else {
        return 0;
    };
    let at = time(e.at);
    let mut counted = 0u64;
    let mut windowed = 0i64;
    if let Some(row) = line.get_mut(plan.row()) {
        for (b, &rule) in shapes.rules(shape).iter().enumerate() {
            let rule = usize::from(rule);
            let hit = if sign > 0 {
                plan.row.apply(row, rule, at) == Ok(true)
            } else {
                // Within the reach: the engine takes back only entries
                // after the allowed lateness.
                e.counted >> b & 1 == 1 && plan.row.take_back(row, rule, at).is_ok()
            };
            if hit {
                counted |= 1 << b;
                if plan.row.is_windowed(rule) {
                    windowed += model.compiled.get(rule).map_or(0, |c| c.points.as_milli().max(0));
                }
            }
        }
    }
    if let Some(w) = plan.windowed_word.and_then(|w| line.get_mut(w)) {
        *w = ((*w as i64).saturating_add(windowed * i64::from(sign))) as u64;
    }
    plan.add_counts(line, shape.signals, sign);
    counted
}

/// Caches in `line` the fit of `lead`, the lead's attributes from
/// `from` on (its latest upsert or attribute change).
pub(super) fn cache_fit(
    model: &ScoringModel,
    plan: &Plan,
    line: &mut [u64],
    lead: &Lead,
    from: DateTime<Utc>,
) {
    let Some(from) = from.timestamp_nanos_opt() else {
        return;
    };
    let mut parts = vec![(0i64, 0i64); plan.fit_groups.len()];
    for (rule, points) in fit_contributions(model, lead) {
        let Some(g) = model.compiled.get(rule).map(|c| c.group) else {
            continue;
        };
        if let Some(k) = plan.fit_groups.iter().position(|x| *x == g) {
            if let Some(p) = parts.get_mut(k) {
                p.0 = p.0.saturating_add(points.as_milli());
                p.1 = p.1.saturating_add(points.as_milli().max(0));
            }
        }
    }
    for (k, (sum, positive)) in parts.into_iter().enumerate() {
        for (j, v) in [sum, positive].into_iter().enumerate() {
            if let Some(w) = line.get_mut(plan.fit_word + 1 + 2 * k + j) {
                *w = v as u64;
            }
        }
    }
    if let Some(w) = line.get_mut(plan.fit_word) {
        *w = from as u64;
    }
}
