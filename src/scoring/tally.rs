//! Settling hits into scores on running totals: the cap order of the
//! explanation (limit → window → decay → group cap → dimension cap → floor)
//! without keeping a line per contribution.
//!
//! A cap removes its excess from the latest positive contributions first,
//! never more than they hold, so what it leaves of a total depends only on
//! the total and on the sum of its positive parts: per group and dimension
//! these two numbers are all the scores need.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use super::model::ScoringModel;
use super::rule::Limit;
use crate::points::Points;
use crate::scores::{Dimension, Scores};
use crate::span::Span;

/// Applies each rule's limit, window and decay to hits given in settle
/// order (time, event id, rule), seen at `now`.
struct Counter {
    now: Moment,
    /// Per rule: how many counted, and when the last one counted.
    counted: Vec<(u32, Option<Moment>)>,
}

impl Counter {
    fn new(model: &ScoringModel, now: DateTime<Utc>) -> Counter {
        Counter {
            now: Moment::of(now),
            counted: vec![(0, None); model.compiled.len()],
        }
    }

    /// What a hit of `rule` at `at` counts for: `None` when it does not
    /// count (after `now`, over its rule's limit or outside its window). A
    /// hit over the limit is not counted; one outside the window is counted
    /// (it uses up the limit) but scores nothing.
    fn count(&mut self, model: &ScoringModel, rule: usize, at: DateTime<Utc>) -> Option<Counted> {
        if at > self.now.at {
            return None;
        }
        let (c, state) = (model.compiled.get(rule)?, self.counted.get_mut(rule)?);
        let at = Moment::of(at);
        let accept = match c.limit {
            Limit::Once => state.0 < 1,
            Limit::Times { n } => state.0 < n,
            Limit::OncePer { period } => state
                .1
                .is_none_or(|last| at.since(last) >= period.to_time_delta()),
            Limit::Unlimited => true,
        };
        if !accept {
            return None;
        }
        state.0 = state.0.saturating_add(1);
        state.1 = Some(at);
        // Windows are inclusive and exact: `now - within <= at`.
        let age = self.now.since(at);
        if c.within.is_some_and(|w| age > w) {
            return None;
        }
        Some(Counted {
            group: c.group,
            raw: c.points,
            points: c.decayed(Span::from_time_delta(age)),
        })
    }
}

/// A time with its seconds and nanoseconds since the epoch: the difference
/// of two is then two subtractions, where chrono's works through calendar
/// dates (an eighth of the time of scoring a long history, profiled).
#[derive(Debug, Clone, Copy)]
struct Moment {
    at: DateTime<Utc>,
    /// `None` within a leap second, left to chrono's own arithmetic.
    stamp: Option<(i64, i64)>,
}

impl Moment {
    fn of(at: DateTime<Utc>) -> Moment {
        let nanos = at.timestamp_subsec_nanos();
        Moment {
            at,
            stamp: (nanos < 1_000_000_000).then(|| (at.timestamp(), i64::from(nanos))),
        }
    }

    /// `self - earlier`, exactly as chrono computes it.
    fn since(self, earlier: Moment) -> chrono::TimeDelta {
        let fast = self.stamp.zip(earlier.stamp).and_then(|((s1, n1), (s0, n0))| {
            let (mut secs, mut nanos) = (s1.checked_sub(s0)?, n1 - n0);
            if nanos < 0 {
                secs = secs.checked_sub(1)?;
                nanos += 1_000_000_000;
            }
            chrono::TimeDelta::new(secs, u32::try_from(nanos).ok()?)
        });
        fast.unwrap_or_else(|| self.at - earlier.at)
    }
}

/// A hit that counts.
pub(crate) struct Counted {
    pub(crate) group: usize,
    /// The rule's points.
    pub(crate) raw: Points,
    /// Decayed.
    pub(crate) points: Points,
}

/// Calls `each` with every contribution that counts at `now`: the fit
/// rules `lead` matches (with no hit), then the hits (`key` gives a hit's
/// rule and time, in settle order) after their rules' limits, windows and
/// decay.
pub(crate) fn contributions<H>(
    model: &ScoringModel,
    lead: &crate::lead::Lead,
    hits: impl Iterator<Item = H>,
    key: impl Fn(&H) -> (usize, DateTime<Utc>),
    now: DateTime<Utc>,
    mut each: impl FnMut(Option<&H>, usize, Dimension, Counted),
) {
    for &i in &model.fit_rules {
        if let (Some(rule), Some(c)) = (model.rules().get(i), model.compiled.get(i)) {
            if rule.matches_lead(lead) {
                let counted = Counted {
                    group: c.group,
                    raw: c.points,
                    points: c.points,
                };
                each(None, i, Dimension::Fit, counted);
            }
        }
    }
    let mut counter = Counter::new(model, now);
    for hit in hits {
        let (rule, at) = key(&hit);
        if let Some(c) = counter.count(model, rule, at) {
            each(Some(&hit), rule, Dimension::Engagement, c);
        }
    }
}

/// A sum and the sum of its positive parts, in milli-points.
#[derive(Debug, Clone, Copy, Default)]
struct Part {
    sum: i128,
    positive: i128,
}

impl Part {
    fn add(&mut self, milli: i128) {
        self.sum += milli;
        self.positive += milli.max(0);
    }

    /// What a cap takes from the latest positive parts: the excess over
    /// it, at most every positive point.
    fn excess(self, cap: Option<Points>) -> i128 {
        cap.map_or(0, |cap| {
            (self.sum - i128::from(cap.as_milli())).max(0).min(self.positive)
        })
    }
}

/// Per group, the fit and the engagement contributions so far.
pub(crate) struct Tally {
    groups: Vec<[Part; 2]>,
}

/// Scores with the parts an explanation shows.
pub(crate) struct Totals {
    pub(crate) scores: Scores,
    /// The floor's lift of fit and of engagement.
    pub(crate) floors: [i128; 2],
    /// Per named score: its groups' totals, what its cap took (≤ 0) and the
    /// floor's lift.
    pub(crate) named: Vec<(Vec<i128>, i128, i128)>,
}

impl Tally {
    pub(crate) fn new(model: &ScoringModel) -> Tally {
        Tally {
            groups: vec![[Part::default(); 2]; model.groups.len()],
        }
    }

    /// Adds a contribution of `milli` points to `group` in `dimension`
    /// (anything but fit counts as engagement).
    pub(crate) fn add(&mut self, group: usize, dimension: Dimension, milli: i128) {
        let d = usize::from(dimension != Dimension::Fit);
        if let Some(part) = self.groups.get_mut(group).and_then(|g| g.get_mut(d)) {
            part.add(milli);
        }
    }

    /// The contributions of `lead`'s fit rules and of `hits` (rule and time,
    /// in settle order) at `now`.
    pub(crate) fn of_hits(
        model: &ScoringModel,
        lead: &crate::lead::Lead,
        hits: impl Iterator<Item = (usize, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Tally {
        let mut tally = Tally::new(model);
        contributions(
            model,
            lead,
            hits,
            |&h| h,
            now,
            |_, _, dimension, c| {
                tally.add(c.group, dimension, i128::from(c.points.as_milli()));
            },
        );
        tally
    }

    /// The scores: group caps, then the fit and engagement caps, then the
    /// floor, then bands and named scores.
    pub(crate) fn settle(&self, model: &ScoringModel) -> Totals {
        let mut dims = [Part::default(); 2];
        let mut group_totals = Vec::with_capacity(self.groups.len());
        for (group, [fit, engagement]) in model.groups.iter().zip(&self.groups) {
            let whole = Part {
                sum: fit.sum + engagement.sum,
                positive: fit.positive + engagement.positive,
            };
            let taken = whole.excess(group.cap);
            // Engagement contributions come after fit ones: the cap takes
            // from them first.
            let from_engagement = taken.min(engagement.positive);
            for (dim, part, from) in [
                (0, fit, taken - from_engagement),
                (1, engagement, from_engagement),
            ] {
                if let Some(d) = dims.get_mut(dim) {
                    d.sum += part.sum - from;
                    d.positive += part.positive - from;
                }
            }
            group_totals.push(whole.sum - taken);
        }
        let [fit, engagement] = dims;
        let fit_raw = fit.sum - fit.excess(model.fit_cap());
        let eng_raw = engagement.sum - engagement.excess(model.engagement_cap());

        let floor = model.floor().milli();
        let floors = [floor_gap(fit_raw, floor), floor_gap(eng_raw, floor)];
        let fit = clamp(fit_raw + floors[0]);
        let engagement = clamp(eng_raw + floors[1]);

        let mut named_scores = IndexMap::new();
        let mut named = Vec::with_capacity(model.named.len());
        for n in &model.named {
            let parts: Vec<i128> = n
                .groups
                .iter()
                .map(|&g| group_totals.get(g).copied().unwrap_or(0))
                .collect();
            let raw: i128 = parts.iter().sum();
            let capped = n.cap.map_or(0, |c| (i128::from(c.as_milli()) - raw).min(0));
            let gap = floor_gap(raw + capped, floor);
            named_scores.insert(n.name.clone(), clamp(raw + capped + gap));
            named.push((parts, capped, gap));
        }
        let scores = Scores {
            fit,
            engagement,
            combined: fit + engagement,
            fit_grade: band(fit, model.fit_grades().iter().map(|b| (b.at_least, b.grade))),
            engagement_level: band(
                engagement,
                model.engagement_levels().iter().map(|b| (b.at_least, b.level)),
            ),
            named: named_scores,
            model_version: Some(model.version().clone()),
        };
        Totals {
            scores,
            floors,
            named,
        }
    }
}

/// A total's lift to the floor, if any.
pub(crate) fn floor_gap(total: i128, floor: Option<i128>) -> i128 {
    floor.map_or(0, |f| (f - total).max(0))
}

/// Milli-points as [`Points`], saturating.
pub(crate) fn clamp(milli: i128) -> Points {
    Points::from_milli(i64::try_from(milli).unwrap_or(if milli < 0 { i64::MIN } else { i64::MAX }))
}

fn band<T: Copy>(score: Points, bands: impl Iterator<Item = (Points, T)>) -> Option<T> {
    let mut last = None;
    for (at_least, value) in bands {
        if score >= at_least {
            return Some(value);
        }
        last = Some(value);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_takes_the_excess_from_positive_parts_only() {
        let mut p = Part::default();
        for m in [10, 10, -5, 10, -3] {
            p.add(m);
        }
        assert_eq!((p.sum, p.positive), (22, 30));
        assert_eq!(p.excess(Some(Points::from_milli(15))), 7);
        assert_eq!(p.excess(Some(Points::from_milli(30))), 0);
        assert_eq!(p.excess(None), 0);
        // A cap below the penalties takes every positive point, no more.
        assert_eq!(p.excess(Some(Points::from_milli(-100))), 30);
    }

    /// A time anywhere chrono can hold one, to the nanosecond, sometimes
    /// within a leap second.
    fn any_time() -> impl proptest::strategy::Strategy<Value = DateTime<Utc>> {
        use proptest::prelude::*;
        let (min, max) = (
            DateTime::<Utc>::MIN_UTC.timestamp(),
            DateTime::<Utc>::MAX_UTC.timestamp(),
        );
        let near = 1_700_000_000i64..1_900_000_000;
        (prop_oneof![min..=max, near], 0u32..2_000_000_000).prop_map(|(secs, nanos)| {
            DateTime::from_timestamp(secs, nanos)
                .or_else(|| DateTime::from_timestamp(secs, nanos % 1_000_000_000))
                .unwrap_or_default()
        })
    }

    proptest::proptest! {
        /// The counter's differences of times are chrono's, bit for bit.
        #[test]
        fn stamp_differences_are_chronos(a in any_time(), b in any_time()) {
            let got = Moment::of(b).since(Moment::of(a));
            proptest::prop_assert_eq!(got, b - a);
        }
    }

    #[test]
    fn floors_and_bands() {
        assert_eq!(floor_gap(-7, Some(0)), 7);
        assert_eq!(floor_gap(7, Some(0)), 0);
        assert_eq!(floor_gap(-7, None), 0);
        let bands = [(Points::new(30), 'A'), (Points::new(10), 'B')];
        assert_eq!(band(Points::new(30), bands.into_iter()), Some('A'));
        assert_eq!(band(Points::new(-3), bands.into_iter()), Some('B'));
        assert_eq!(band(Points::new(3), std::iter::empty::<(Points, char)>()), None);
        assert_eq!(clamp(i128::MAX), Points::MAX);
        assert_eq!(clamp(i128::MIN), Points::MIN);
    }
}
