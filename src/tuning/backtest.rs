//! Point-in-time backtests: what a model would have done on past history.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Dataset, Metrics};
use crate::event::Event;
use crate::id::LeadId;
use crate::lead::Lead;
use crate::points::Points;

/// A model a backtest can replay: scores a lead from its attributes and the
/// events known at `now`.
///
/// Object safe, so backtests take `&dyn Scorer`. Implemented by the fitted
/// [`Scorecard`](super::Scorecard), [`NaiveBayes`](super::NaiveBayes) and
/// [`ScoringModel`](crate::ScoringModel) (by its combined score);
/// so can any model of yours.
///
/// The backtest only ever passes events with `at <= now`, sorted by time, so
/// a scorer cannot look ahead even by mistake. `Send + Sync`, like
/// [`Criterion`](crate::criteria::Criterion), so a backtest can be shared
/// across threads.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Utc};
/// use leadflow::tuning::Scorer;
/// use leadflow::{Event, Lead, Points};
///
/// /// Ten points per event.
/// struct Busy;
/// impl Scorer for Busy {
///     fn score(&self, _: &Lead, events: &[Event], _: DateTime<Utc>) -> Points {
///         Points::new(10 * events.len() as i64)
///     }
/// }
/// let scorer: &dyn Scorer = &Busy;
/// # let _ = scorer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Scorer: Send + Sync {
    /// The lead's score at `now`, from its attributes and the events known
    /// then (sorted by time).
    fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Points;

    /// The probability of converting at a score, when the model yields one.
    /// `None` by default.
    fn probability(&self, points: Points) -> Option<f64> {
        let _ = points;
        None
    }
}

/// A [`ScoringModel`](crate::ScoringModel) scores by its combined
/// score. It yields no probability.
impl Scorer for crate::scoring::ScoringModel {
    fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Points {
        crate::scoring::ScoringModel::score(self, lead, events, now).combined
    }
}

impl fmt::Debug for dyn Scorer + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scorer")
    }
}

/// When a lead would have crossed into MQL under a model, replaying its
/// history event by event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// The lead.
    pub lead: LeadId,
    /// When its score first reached the threshold, if it did.
    pub mql_at: Option<DateTime<Utc>>,
    /// The highest score it reached in the replayed window.
    pub peak: Points,
    /// When it first reached that peak.
    pub peak_at: DateTime<Utc>,
    /// Whether it converted.
    pub converted: bool,
    /// When it converted, if known.
    pub converted_at: Option<DateTime<Utc>>,
}

/// A converted lead that never qualified, and what it would have taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedBuyer {
    /// The lead.
    pub lead: LeadId,
    /// When it converted, if known.
    pub converted_at: Option<DateTime<Utc>>,
    /// Its highest score before converting.
    pub peak: Points,
    /// When it first reached that score: it would have qualified then with a
    /// threshold of at most `peak`.
    pub could_have_at: DateTime<Utc>,
    /// How far below the threshold the peak stayed.
    pub shortfall: Points,
}

/// Replays history through a [`Scorer`] using only what was known at each
/// moment.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Duration, TimeZone, Utc};
/// use leadflow::tuning::{Backtest, Dataset, Label, Scorer};
/// use leadflow::{Event, EventId, EventKind, Lead, LeadId, Points};
///
/// struct PerEvent;
/// impl Scorer for PerEvent {
///     fn score(&self, _: &Lead, events: &[Event], _: DateTime<Utc>) -> Points {
///         Points::new(10 * events.len() as i64)
///     }
/// }
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let id = LeadId::new("a")?;
/// let events: Vec<Event> = (0..3)
///     .map(|i| Event::new(EventId::new(format!("e{i}")).unwrap(), id.clone(),
///                         t0 + Duration::days(i), EventKind::DemoRequest))
///     .collect();
/// let mut data = Dataset::new();
/// data.push(Lead::new(id, t0), events, Label::not_converted());
///
/// let bt = Backtest::new(&PerEvent);
/// // At the cutoff only the first two events are known.
/// let at = bt.scores_at(&data, t0 + Duration::hours(30));
/// assert_eq!(at, vec![Some(Points::new(20))]);
/// // It crosses 30 points with its third event.
/// let replay = bt.replay(&data, Points::new(30), None);
/// assert_eq!(replay[0].mql_at, Some(t0 + Duration::days(2)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Backtest<'a> {
    scorer: &'a dyn Scorer,
}

impl<'a> Backtest<'a> {
    /// A backtest of this scorer.
    pub fn new(scorer: &'a dyn Scorer) -> Backtest<'a> {
        Backtest { scorer }
    }

    /// Each lead's score as of `cutoff`, from the events with `at <= cutoff`
    /// only; `None` for leads created after the cutoff.
    pub fn scores_at(&self, data: &Dataset, cutoff: DateTime<Utc>) -> Vec<Option<Points>> {
        data.rows()
            .iter()
            .map(|r| {
                (r.lead.created_at <= cutoff)
                    .then(|| self.scorer.score(&r.lead, r.events_known_at(cutoff), cutoff))
            })
            .collect()
    }

    /// Metrics of the scores at `cutoff` over the leads that existed then
    /// (probabilities, and so the log loss, when the scorer yields them).
    pub fn metrics_at(&self, data: &Dataset, cutoff: DateTime<Utc>) -> Metrics {
        let mut scores = Vec::new();
        let mut labels = Vec::new();
        let mut probs = Vec::new();
        for (s, r) in self.scores_at(data, cutoff).into_iter().zip(data.rows()) {
            if let Some(s) = s {
                scores.push(s.to_f64());
                labels.push(r.outcome.converted);
                probs.push(self.scorer.probability(s));
            }
        }
        let probs: Option<Vec<f64>> = probs.into_iter().collect();
        Metrics::compute(&scores, &labels, probs.as_deref())
    }

    /// Replays each lead: its score at creation, then after each event (all
    /// events at the same instant together), up to `until` and never past
    /// its conversion (qualifying after the sale catches nobody). Reports
    /// when it first reached `threshold` and its peak.
    pub fn replay(&self, data: &Dataset, threshold: Points, until: Option<DateTime<Utc>>) -> Vec<Replay> {
        data.rows()
            .iter()
            .map(|r| {
                let horizon = match (until, r.outcome.at.filter(|_| r.outcome.converted)) {
                    (Some(u), Some(c)) => Some(u.min(c)),
                    (u, c) => u.or(c),
                };
                let check = |events: &[Event], now: DateTime<Utc>, state: &mut ReplayState| {
                    let s = self.scorer.score(&r.lead, events, now);
                    if state.peak.is_none_or(|(p, _)| s > p) {
                        state.peak = Some((s, now));
                    }
                    if state.mql_at.is_none() && s >= threshold {
                        state.mql_at = Some(now);
                    }
                };
                let mut state = ReplayState::default();
                let start = r.lead.created_at;
                check(&[], start, &mut state);
                let mut i = 0;
                let events = &r.events;
                while let Some(e) = events.get(i) {
                    let now = e.at;
                    if horizon.is_some_and(|h| now > h) {
                        break;
                    }
                    let mut j = i + 1;
                    while events.get(j).is_some_and(|n| n.at == now) {
                        j += 1;
                    }
                    check(events.get(..j).unwrap_or(&[]), now.max(start), &mut state);
                    i = j;
                }
                let (peak, peak_at) = state.peak.unwrap_or((Points::ZERO, start));
                Replay {
                    lead: r.lead.id.clone(),
                    mql_at: state.mql_at,
                    peak,
                    peak_at,
                    converted: r.outcome.converted,
                    converted_at: r.outcome.at,
                }
            })
            .collect()
    }
}

#[derive(Default)]
struct ReplayState {
    peak: Option<(Points, DateTime<Utc>)>,
    mql_at: Option<DateTime<Utc>>,
}

/// The buyers a threshold misses: converted leads whose replay never reached
/// `threshold`, with the peak they did reach and when, sorted by smallest
/// shortfall first (the cheapest to catch).
pub fn missed_buyers(replays: &[Replay], threshold: Points) -> Vec<MissedBuyer> {
    let mut out: Vec<MissedBuyer> = replays
        .iter()
        .filter(|r| r.converted && r.mql_at.is_none())
        .map(|r| MissedBuyer {
            lead: r.lead.clone(),
            converted_at: r.converted_at,
            peak: r.peak,
            could_have_at: r.peak_at,
            shortfall: threshold - r.peak,
        })
        .collect();
    out.sort_by(|a, b| a.shortfall.cmp(&b.shortfall).then_with(|| a.lead.cmp(&b.lead)));
    out
}

/// Two models on the same history, side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Metrics of the first model at the cutoff.
    pub a: Metrics,
    /// Metrics of the second model at the cutoff.
    pub b: Metrics,
    /// Leads the first model qualifies and the second does not.
    pub only_a: Vec<LeadId>,
    /// Leads the second model qualifies and the first does not.
    pub only_b: Vec<LeadId>,
    /// Leads both qualify.
    pub both: usize,
    /// Converted leads among `only_a`.
    pub only_a_converted: usize,
    /// Converted leads among `only_b`.
    pub only_b_converted: usize,
}

/// Compares two scorers as of `cutoff`: metrics of each, and which leads
/// each qualifies (score at least its threshold) that the other does not.
///
/// # Example
///
/// ```
/// use chrono::{DateTime, TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Label, Scorer, compare};
/// use leadflow::{Event, Lead, LeadId, Points};
///
/// struct Attr(&'static str);
/// impl Scorer for Attr {
///     fn score(&self, lead: &Lead, _: &[Event], _: DateTime<Utc>) -> Points {
///         Points::new(lead.attribute(self.0).and_then(|v| v.as_f64()).unwrap_or(0.0) as i64)
///     }
/// }
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// for (i, (x, y, won)) in [(9, 1, true), (1, 9, false), (9, 9, true)].into_iter().enumerate() {
///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
///     lead.set_attribute("x", x as i64)?;
///     lead.set_attribute("y", y as i64)?;
///     data.push(lead, vec![], Label::new(won, None));
/// }
/// let c = compare(&Attr("x"), &Attr("y"), &data, t0, Points::new(5), Points::new(5));
/// assert_eq!(c.only_a, vec![LeadId::new("l0")?]);
/// assert_eq!(c.only_b, vec![LeadId::new("l1")?]);
/// assert_eq!((c.both, c.only_a_converted, c.only_b_converted), (1, 1, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(
    a: &dyn Scorer,
    b: &dyn Scorer,
    data: &Dataset,
    cutoff: DateTime<Utc>,
    threshold_a: Points,
    threshold_b: Points,
) -> Comparison {
    let (ba, bb) = (Backtest::new(a), Backtest::new(b));
    let sa = ba.scores_at(data, cutoff);
    let sb = bb.scores_at(data, cutoff);
    let mut c = Comparison {
        a: ba.metrics_at(data, cutoff),
        b: bb.metrics_at(data, cutoff),
        only_a: Vec::new(),
        only_b: Vec::new(),
        both: 0,
        only_a_converted: 0,
        only_b_converted: 0,
    };
    for ((x, y), r) in sa.into_iter().zip(sb).zip(data.rows()) {
        let qa = x.is_some_and(|s| s >= threshold_a);
        let qb = y.is_some_and(|s| s >= threshold_b);
        let won = usize::from(r.outcome.converted);
        match (qa, qb) {
            (true, true) => c.both += 1,
            (true, false) => {
                c.only_a.push(r.lead.id.clone());
                c.only_a_converted += won;
            }
            (false, true) => {
                c.only_b.push(r.lead.id.clone());
                c.only_b_converted += won;
            }
            (false, false) => {}
        }
    }
    c
}
