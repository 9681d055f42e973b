//! Applying limits, windows, decay, caps and the floor; explaining the result.

use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::fold::{self, HitRef};
use super::model::ScoringModel;
use super::tally::{Totals, clamp, fit_contributions};
use crate::event::Event;
use crate::id::{EventId, GroupId, ModelVersion, RuleId};
use crate::lead::Lead;
use crate::points::Points;
use crate::scores::{Dimension, Scores};

/// A contribution under computation.
#[derive(Debug, Clone)]
struct Line<'a> {
    rule: usize,
    group: usize,
    dimension: Dimension,
    event: Option<&'a EventId>,
    at: Option<DateTime<Utc>>,
    raw: Points,
    decayed: Points,
    points: i128,
    group_clipped: bool,
    total_clipped: bool,
}

/// Which cap reduced a contribution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cap {
    /// The cap of a rule group.
    Group {
        /// The group.
        group: GroupId,
    },
    /// The model's fit cap.
    Fit,
    /// The model's engagement cap.
    Engagement,
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Group { group } => write!(f, "group {group} cap"),
            Cap::Fit => f.write_str("fit cap"),
            Cap::Engagement => f.write_str("engagement cap"),
        }
    }
}

/// What one rule gave, for one event (engagement) or for the lead's
/// attributes (fit), at each step of the cap order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// The rule id.
    pub rule: RuleId,
    /// The rule's group.
    pub group: GroupId,
    /// Fit or engagement.
    pub dimension: Dimension,
    /// The event that triggered it (engagement rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
    /// When that event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The rule's points.
    pub raw: Points,
    /// After decay.
    pub decayed: Points,
    /// After the group cap and the dimension cap: what it adds to the score.
    pub points: Points,
    /// The caps that reduced it, in the order applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clipped_by: Vec<Cap>,
}

/// How a named side score was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedExplanation {
    /// Each group's points after its cap.
    pub groups: IndexMap<GroupId, Points>,
    /// What the named score's cap removed (zero or negative).
    pub capped: Points,
    /// What the floor added (zero or positive).
    pub floor: Points,
    /// The score: the groups' sum + `capped` + `floor`.
    pub score: Points,
}

/// Why a lead has its scores at `now`: every contribution, summing exactly to
/// the scores.
///
/// For each dimension, the `points` of its contributions plus the floor
/// adjustment (`fit_floor`, `engagement_floor`) equal the score
/// ([`total`](Self::total) checks it); the combined score is fit +
/// engagement. Fit contributions come in rule order, engagement ones in event
/// time order (ties by event id, then rule order).
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::scoring::{Decay, Group, Rule};
/// use leadflow::{
///     Dimension, Event, EventId, EventKind, EventType, Lead, LeadId, Points, ScoringModel, Span,
/// };
///
/// let model = ScoringModel::builder("m@1".parse()?)
///     .rule(Rule::event("demo".parse()?, EventType::DemoRequest, 40).group("intent".parse()?))
///     .group("intent".parse()?, Group::new().cap(30).decay(Decay::half_life(Span::days(10))))
///     .build()?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let lead = Lead::new(LeadId::new("l1")?, t0);
/// let events = [Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest)];
///
/// let why = model.explain(&lead, &events, t0 + Duration::days(10));
/// let c = &why.contributions[0];
/// assert_eq!((c.raw, c.decayed, c.points), (Points::new(40), Points::new(20), Points::new(20)));
/// assert!(c.clipped_by.is_empty()); // 20 is under the cap of 30
/// assert_eq!(why.total(Dimension::Engagement), why.scores.engagement);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The model's version.
    pub model_version: ModelVersion,
    /// The time the scores are for.
    pub now: DateTime<Utc>,
    /// The scores.
    pub scores: Scores,
    /// Every contribution that counted (after limits and windows).
    pub contributions: Vec<Contribution>,
    /// What the floor added to fit (zero when not applied).
    pub fit_floor: Points,
    /// What the floor added to engagement (zero when not applied).
    pub engagement_floor: Points,
    /// How each named side score was reached.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub named: IndexMap<String, NamedExplanation>,
}

fn sum<'a>(points: impl Iterator<Item = &'a Points>) -> i128 {
    points.map(|p| i128::from(p.as_milli())).sum()
}

impl Explanation {
    /// The sum of a dimension's contributions and floor adjustment (fit +
    /// engagement for combined): always equal to the matching score, unless
    /// it saturates.
    pub fn total(&self, dimension: Dimension) -> Points {
        let of = |d: Dimension| {
            let floor = match d {
                Dimension::Fit => self.fit_floor,
                _ => self.engagement_floor,
            };
            sum(self
                .contributions
                .iter()
                .filter(|c| c.dimension == d)
                .map(|c| &c.points)
                .chain([&floor]))
        };
        clamp(match dimension {
            Dimension::Combined => of(Dimension::Fit) + of(Dimension::Engagement),
            d => of(d),
        })
    }

    /// The contributions of one rule.
    pub fn for_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Contribution> + 'a {
        self.contributions.iter().filter(move |c| c.rule == rule)
    }
}

impl fmt::Display for Explanation {
    /// A breakdown a sales rep can read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scores;
        write!(
            f,
            "scores at {} (model {})\n  fit {}",
            self.now.format("%Y-%m-%d %H:%M UTC"),
            self.model_version,
            s.fit
        )?;
        if let Some(g) = s.fit_grade {
            write!(f, " (grade {g})")?;
        }
        write!(f, ", engagement {}", s.engagement)?;
        if let Some(l) = s.engagement_level {
            write!(f, " (level {l})")?;
        }
        write!(f, ", combined {}", s.combined)?;
        if let Some(cell) = s.cell() {
            write!(f, ", cell {cell}")?;
        }
        writeln!(f)?;
        for (dimension, floor) in [
            (Dimension::Fit, self.fit_floor),
            (Dimension::Engagement, self.engagement_floor),
        ] {
            writeln!(f, "  {dimension}:")?;
            for c in self.contributions.iter().filter(|c| c.dimension == dimension) {
                write!(f, "    {:>+8}  {:<24} [{}]", c.points.to_f64(), c.rule, c.group)?;
                if let (Some(e), Some(at)) = (&c.event, c.at) {
                    write!(f, " event {e} on {}", at.format("%Y-%m-%d"))?;
                }
                if c.decayed != c.raw {
                    write!(f, "; {} decayed to {}", c.raw, c.decayed)?;
                }
                for cap in &c.clipped_by {
                    write!(f, "; clipped by {cap}")?;
                }
                writeln!(f)?;
            }
            if floor != Points::ZERO {
                writeln!(f, "    {:>+8}  floor", floor.to_f64())?;
            }
        }
        for (name, n) in &self.named {
            writeln!(f, "  {name}: {}", n.score)?;
        }
        Ok(())
    }
}

/// The result of settling, before names are attached.
pub(crate) struct Settled<'a> {
    lines: Vec<Line<'a>>,
    floors: [i128; 2],
    named: Vec<(Vec<i128>, i128, i128)>,
    pub(crate) scores: Scores,
}

/// Removes `excess` from the latest positive lines selected by `pick`.
fn clip(
    lines: &mut [Line<'_>],
    cap: Option<Points>,
    pick: impl Fn(&Line<'_>) -> bool,
    mark: fn(&mut Line<'_>),
) {
    let Some(cap) = cap else { return };
    let total: i128 = lines.iter().filter(|l| pick(l)).map(|l| l.points).sum();
    let mut excess = total - i128::from(cap.as_milli());
    for line in lines.iter_mut().rev() {
        if excess <= 0 {
            break;
        }
        if pick(line) && line.points > 0 {
            let take = line.points.min(excess);
            line.points -= take;
            excess -= take;
            mark(line);
        }
    }
}

/// The cap order: rule limit → window → decay → group cap → dimension cap →
/// floor. `hits` must be in canonical order. The scores come from the
/// running totals of the fold ([`Tally`](super::tally::Tally)); the lines
/// say what each contribution gave and which caps clipped it.
///
/// A decaying group's points are one running sum, rounded once: each of
/// its contributions shows its own decayed points, `points × 2^(−age/h)`
/// (or the steps it lost) rounded down, adjusted by a thousandth of a point
/// where needed (the largest first) so that they add up to the sum exactly.
pub(crate) fn settle<'a>(
    model: &ScoringModel,
    lead: &Lead,
    hits: &[HitRef<'a>],
    now: DateTime<Utc>,
) -> Settled<'a> {
    let folded = fold::fold(model, hits);
    let tally = folded.tally(model, lead, hits, now);
    let layout = &model.layout;
    let mut lines: Vec<Line<'a>> = Vec::new();
    for (i, points) in fit_contributions(model, lead) {
        let group = model.compiled.get(i).map_or(0, |c| c.group);
        lines.push(Line {
            rule: i,
            group,
            dimension: Dimension::Fit,
            event: None,
            at: None,
            raw: points,
            decayed: points,
            points: i128::from(points.as_milli()),
            group_clipped: false,
            total_clipped: false,
        });
    }
    // Per decaying accumulator: its lines and its value.
    let mut slots: Vec<(Vec<usize>, i64)> = layout
        .slot_values(&folded.row, now)
        .into_iter()
        .map(|v| (Vec::new(), v))
        .collect();
    for h in folded.counted.iter().filter_map(|i| hits.get(*i)) {
        let Some(c) = model.compiled.get(h.rule) else {
            continue;
        };
        let decayed = if layout.is_windowed(h.rule) {
            if c.within.is_some_and(|w| now.signed_duration_since(h.at) > w) {
                // Outside its window: counted under the limit, worth nothing.
                continue;
            }
            Points::from_milli(
                model
                    .compiled
                    .get(h.rule)
                    .map_or(0, |c| layout.windowed(c, h.at, now)),
            )
        } else {
            if let Some(slot) = layout.slot_of(h.rule).and_then(|s| slots.get_mut(s)) {
                slot.0.push(lines.len());
            }
            layout.decayed(c.decay, c.points, h.at, now)
        };
        lines.push(Line {
            rule: h.rule,
            group: c.group,
            dimension: Dimension::Engagement,
            event: h.event,
            at: Some(h.at),
            raw: c.points,
            decayed,
            points: i128::from(decayed.as_milli()),
            group_clipped: false,
            total_clipped: false,
        });
    }
    for (members, total) in slots {
        apportion(&mut lines, &members, total);
    }

    for (g, group) in model.groups.iter().enumerate() {
        clip(
            &mut lines,
            group.cap,
            |l| l.group == g,
            |l| l.group_clipped = true,
        );
    }
    clip(
        &mut lines,
        model.fit_cap(),
        |l| l.dimension == Dimension::Fit,
        |l| l.total_clipped = true,
    );
    clip(
        &mut lines,
        model.engagement_cap(),
        |l| l.dimension == Dimension::Engagement,
        |l| l.total_clipped = true,
    );
    let Totals {
        scores,
        floors,
        named,
    } = tally.settle(model);
    Settled {
        lines,
        floors,
        named,
        scores,
    }
}

/// Makes the decayed points of `members` (line indices) add up to
/// `total`: a thousandth of a point at a time, to the largest first (ties:
/// the later line), never below zero nor above the line's own points.
fn apportion(lines: &mut [Line<'_>], members: &[usize], total: i64) {
    let sum: i128 = members
        .iter()
        .filter_map(|&i| lines.get(i))
        .map(|l| l.points)
        .sum();
    let mut gap = i128::from(total) - sum;
    if gap == 0 || members.is_empty() {
        return;
    }
    let mut order: Vec<usize> = members.to_vec();
    order.sort_by_key(|&i| std::cmp::Reverse((lines.get(i).map_or(0, |l| l.points), i)));
    while gap != 0 {
        let before = gap;
        for &i in &order {
            let Some(line) = lines.get_mut(i) else { continue };
            if gap > 0 && line.points < i128::from(line.raw.as_milli()) {
                line.points += 1;
                gap -= 1;
            } else if gap < 0 && line.points > 0 {
                line.points -= 1;
                gap += 1;
            }
            line.decayed = clamp(line.points);
            if gap == 0 {
                break;
            }
        }
        if gap == before {
            break;
        }
    }
}

impl Settled<'_> {
    /// Attaches names: the full explanation.
    pub(crate) fn explain(self, model: &ScoringModel, now: DateTime<Utc>) -> Explanation {
        let group_name = |g: usize| model.groups.get(g).map(|g| g.name.clone());
        // Every line's rule and group exist: the lines were made from the model.
        let contributions = self
            .lines
            .into_iter()
            .filter_map(|l| {
                let rule = model.rules().get(l.rule)?.id.clone();
                let group = group_name(l.group)?;
                let mut clipped_by = Vec::new();
                if l.group_clipped {
                    clipped_by.push(Cap::Group { group: group.clone() });
                }
                if l.total_clipped {
                    clipped_by.push(match l.dimension {
                        Dimension::Fit => Cap::Fit,
                        _ => Cap::Engagement,
                    });
                }
                Some(Contribution {
                    rule,
                    group,
                    dimension: l.dimension,
                    event: l.event.cloned(),
                    at: l.at,
                    raw: l.raw,
                    decayed: l.decayed,
                    points: clamp(l.points),
                    clipped_by,
                })
            })
            .collect();
        let named = model
            .named
            .iter()
            .zip(self.named)
            .map(|(n, (parts, capped, gap))| {
                let groups = n
                    .groups
                    .iter()
                    .zip(parts)
                    .filter_map(|(&g, p)| Some((group_name(g)?, clamp(p))))
                    .collect();
                let score = self.scores.named.get(&n.name).copied().unwrap_or_default();
                (
                    n.name.clone(),
                    NamedExplanation {
                        groups,
                        capped: clamp(capped),
                        floor: clamp(gap),
                        score,
                    },
                )
            })
            .collect();
        Explanation {
            model_version: model.version().clone(),
            now,
            scores: self.scores,
            contributions,
            fit_floor: clamp(self.floors[0]),
            engagement_floor: clamp(self.floors[1]),
            named,
        }
    }
}

/// Scoring and explaining a lead from its events: the pure computation every
/// other path (incremental state, the engine) is checked against.
impl ScoringModel {
    /// The lead's scores from its attributes and events at `now`: the pure
    /// oracle. Events after `now` are ignored, an event (id and time) given
    /// twice counts once (of copies with other payloads, the one with the
    /// lowest shape fingerprint), and the order of `events` does not matter.
    pub fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Scores {
        let hits = fold::hits(self, events, now);
        fold::fold(self, &hits)
            .tally(self, lead, &hits, now)
            .settle(self)
            .scores
    }

    /// The lead's scores at `now` with every contribution explained; see
    /// [`Explanation`].
    pub fn explain(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Explanation {
        let hits = fold::hits(self, events, now);
        settle(self, lead, &hits, now).explain(self, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(points: i64) -> Line<'static> {
        Line {
            rule: 0,
            group: 0,
            dimension: Dimension::Engagement,
            event: None,
            at: None,
            raw: Points::new(points),
            decayed: Points::new(points),
            points: i128::from(points),
            group_clipped: false,
            total_clipped: false,
        }
    }

    #[test]
    fn clip_takes_the_latest_positive_points_first() {
        let mut lines = vec![line(10), line(10), line(-5), line(10), line(-3)];
        clip(
            &mut lines,
            Some(Points::from_milli(15)),
            |_| true,
            |l| l.group_clipped = true,
        );
        let got: Vec<i128> = lines.iter().map(|l| l.points).collect();
        assert_eq!(got, [10, 10, -5, 3, -3]);
        assert!(lines[3].group_clipped && !lines[1].group_clipped);
        let mut under = vec![line(4)];
        clip(
            &mut under,
            Some(Points::from_milli(5)),
            |_| true,
            |l| l.group_clipped = true,
        );
        assert_eq!(under[0].points, 4);
    }
}
