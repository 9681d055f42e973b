//! Settling contributions into scores on running totals: the caps, floor,
//! bands and named scores of the cap order (limit → window → decay → group
//! cap → dimension cap → floor), without a line per contribution.
//!
//! A cap removes its excess from the latest positive contributions first,
//! never more than they hold, so what it leaves of a total depends only on
//! the total and on the sum of its positive parts: per group and dimension
//! these two numbers are all the scores need.

use indexmap::IndexMap;

use super::model::ScoringModel;
use crate::lead::Lead;
use crate::points::Points;
use crate::scores::{Dimension, Scores};

/// The fit rules `lead` matches, with their points, in rule order.
pub(crate) fn fit_contributions<'m>(
    model: &'m ScoringModel,
    lead: &'m Lead,
) -> impl Iterator<Item = (usize, Points)> + 'm {
    model.fit_rules.iter().filter_map(move |&i| {
        let rule = model.rules().get(i)?;
        rule.matches_lead(lead).then_some((i, rule.points))
    })
}

/// A sum and the sum of its positive parts, in milli-points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) sum: i128,
    pub(crate) positive: i128,
}

impl Part {
    pub(crate) fn add(&mut self, milli: i128) {
        self.sum += milli;
        self.positive += milli.max(0);
    }

    /// Adds a sum whose positive parts add up to `positive`.
    pub(crate) fn add_parts(&mut self, sum: i128, positive: i128) {
        self.sum += sum;
        self.positive += positive;
    }

    /// What a cap takes from the latest positive parts: the excess over
    /// it, at most every positive point.
    fn excess(self, cap: Option<Points>) -> i128 {
        cap.map_or(0, |cap| {
            (self.sum - i128::from(cap.as_milli())).max(0).min(self.positive)
        })
    }
}

/// Groups a tally holds without allocating.
const INLINE: usize = 8;

/// Per group, the fit and the engagement contributions so far (inline for
/// models of up to eight groups: scoring a lead allocates nothing then).
pub(crate) struct Tally {
    inline: [[Part; 2]; INLINE],
    heap: Vec<[Part; 2]>,
    len: usize,
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
        let len = model.groups.len();
        Tally {
            inline: [[Part::default(); 2]; INLINE],
            heap: if len > INLINE {
                vec![[Part::default(); 2]; len]
            } else {
                Vec::new()
            },
            len,
        }
    }

    fn groups(&self) -> &[[Part; 2]] {
        if self.len > INLINE {
            &self.heap
        } else {
            self.inline.get(..self.len).unwrap_or(&[])
        }
    }

    fn groups_mut(&mut self) -> &mut [[Part; 2]] {
        if self.len > INLINE {
            &mut self.heap
        } else {
            self.inline.get_mut(..self.len).unwrap_or(&mut [])
        }
    }

    /// Adds a contribution of `milli` points to `group` in `dimension`
    /// (anything but fit counts as engagement).
    pub(crate) fn add(&mut self, group: usize, dimension: Dimension, milli: i128) {
        let d = usize::from(dimension != Dimension::Fit);
        if let Some(part) = self.groups_mut().get_mut(group).and_then(|g| g.get_mut(d)) {
            part.add(milli);
        }
    }

    /// Adds to `group`'s part of `dimension` a sum whose positive parts
    /// add up to `positive`.
    pub(crate) fn add_parts(&mut self, group: usize, dimension: Dimension, sum: i128, positive: i128) {
        let d = usize::from(dimension != Dimension::Fit);
        if let Some(part) = self.groups_mut().get_mut(group).and_then(|g| g.get_mut(d)) {
            part.add_parts(sum, positive);
        }
    }

    /// Adds the fit contributions of `lead`: its attributes' rules.
    pub(crate) fn add_fit(&mut self, model: &ScoringModel, lead: &Lead) {
        for (i, points) in fit_contributions(model, lead) {
            if let Some(c) = model.compiled.get(i) {
                self.add(c.group, Dimension::Fit, i128::from(points.as_milli()));
            }
        }
    }

    /// Fit and engagement after the group caps, the dimension caps and the
    /// floor (milli-points), with what the floor added to each; each
    /// group's total after its cap goes to `group_totals` when given.
    fn capped(
        &self,
        model: &ScoringModel,
        mut group_totals: Option<&mut Vec<i128>>,
    ) -> ([i128; 2], [i128; 2]) {
        let mut dims = [Part::default(); 2];
        for (group, [fit, engagement]) in model.groups.iter().zip(self.groups()) {
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
            if let Some(totals) = group_totals.as_deref_mut() {
                totals.push(whole.sum - taken);
            }
        }
        let [fit, engagement] = dims;
        let fit_raw = fit.sum - fit.excess(model.fit_cap());
        let eng_raw = engagement.sum - engagement.excess(model.engagement_cap());
        let floor = model.floor().milli();
        let floors = [floor_gap(fit_raw, floor), floor_gap(eng_raw, floor)];
        ([fit_raw + floors[0], eng_raw + floors[1]], floors)
    }

    /// Fit and engagement (milli-points): the main scores without bands or
    /// named scores.
    pub(crate) fn core(&self, model: &ScoringModel) -> [i128; 2] {
        self.capped(model, None).0
    }

    /// The scores: group caps, then the fit and engagement caps, then the
    /// floor, then bands and named scores.
    pub(crate) fn settle(&self, model: &ScoringModel) -> Totals {
        let mut group_totals = Vec::with_capacity(if model.named.is_empty() { 0 } else { self.len });
        let named_wanted = (!model.named.is_empty()).then_some(&mut group_totals);
        let ([fit, engagement], floors) = self.capped(model, named_wanted);
        let floor = model.floor().milli();
        let fit = clamp(fit);
        let engagement = clamp(engagement);

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
