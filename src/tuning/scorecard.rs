//! A readable integer-points scorecard: what both fits produce, a base plus
//! whole points per bin of each attribute and per cell of a few pair tables.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TuningError;
use super::backtest::Scorer;
use super::binning::{Bin, Encoded, Feature, FeatureKind, read_attribute};
use super::linalg::sigmoid;
use crate::event::Event;
use crate::id::{ModelVersion, RuleId};
use crate::lead::{Lead, keys};
use crate::matcher::Predicate;
use crate::points::Points;
use crate::scoring::{AttributeTest, Floor, Rule, ScoringModel};
use crate::value::AttrRef;

/// Points-to-double-the-odds scaling, as in credit scorecards: a lead with
/// `score` points has odds `odds : 1` of converting, and every `pdo` more
/// points double the odds.
///
/// # Example
///
/// ```
/// use leadflow::tuning::PdoScaling;
///
/// let s = PdoScaling::default(); // 100 points at odds 1:1, 20 points double the odds
/// assert!((s.probability(100.0) - 0.5).abs() < 1e-12);
/// assert!((s.probability(120.0) - 2.0 / 3.0).abs() < 1e-12);
/// assert!((s.points(2f64.ln()) - 120.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PdoScaling {
    /// Points that double the odds.
    pub pdo: f64,
    /// The score at the reference odds.
    pub score: f64,
    /// The reference odds (converted : not converted).
    pub odds: f64,
}

impl Default for PdoScaling {
    fn default() -> PdoScaling {
        PdoScaling {
            pdo: 20.0,
            score: 100.0,
            odds: 1.0,
        }
    }
}

impl PdoScaling {
    /// Points per unit of log-odds: `pdo / ln 2`.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// The score of log-odds 0 (odds 1:1).
    pub fn offset(&self) -> f64 {
        self.score - self.factor() * self.odds.ln()
    }

    /// Points for a log-odds value.
    pub fn points(&self, log_odds: f64) -> f64 {
        self.offset() + self.factor() * log_odds
    }

    /// Log-odds for a number of points.
    pub fn log_odds(&self, points: f64) -> f64 {
        (points - self.offset()) / self.factor()
    }

    /// The probability of converting at a number of points.
    pub fn probability(&self, points: f64) -> f64 {
        sigmoid(self.log_odds(points))
    }

    pub(crate) fn validate(&self) -> Result<(), TuningError> {
        let bad = |name, value, expected| {
            Err(TuningError::InvalidParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.pdo.is_finite() && self.pdo > 0.0) {
            return bad("pdo", self.pdo, "a finite number of points above 0");
        }
        if !(self.odds.is_finite() && self.odds > 0.0) {
            return bad("odds", self.odds, "finite odds above 0");
        }
        if !self.score.is_finite() {
            return bad("score", self.score, "a finite number of points");
        }
        Ok(())
    }
}

/// Sanity bounds on a fitted card, in log-odds (points ÷
/// [`PdoScaling::factor`]), checked by every fit and by
/// [`Scorecard::check_bounds`].
///
/// A factor states how much one attribute value multiplies the odds of
/// converting. Beyond `e^15` (3.3 million times; 433 points at the default
/// 20 points per doubling) no attribute of a lead is evidence: such a weight
/// comes from training rows that a bin separates perfectly, where the
/// likelihood keeps improving as the weight grows and only the penalty stops
/// it. The base (the score of a lead in every reference bin) may combine
/// many such shifts, so its bound is wider: ±30 log-odds (866 points from the
/// score at odds 1:1). A card beyond either bound is refused, never
/// returned.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{Bounds, PdoScaling};
///
/// let b = Bounds::default();
/// assert_eq!((b.factor, b.base), (15.0, 30.0));
/// assert_eq!(b.factor_points(&PdoScaling::default()).round(), 433.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// The largest log-odds one factor (a bin or a pair cell) may add or
    /// take away. Default 15.
    pub factor: f64,
    /// The largest log-odds of the base. Default 30.
    pub base: f64,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            factor: 15.0,
            base: 30.0,
        }
    }
}

impl Bounds {
    /// The factor bound in points on a scale.
    pub fn factor_points(&self, scaling: &PdoScaling) -> f64 {
        self.factor * scaling.factor()
    }
}

/// Something a fit noticed about its training rows that a reader of the
/// card should know; the card is still sound.
///
/// Serialized internally tagged: `{"type": "constant", "feature": "plan"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FitWarning {
    /// Every training row fell in one bin of the feature: it cannot tell
    /// leads apart, so it scores nothing.
    Constant {
        /// The attribute.
        feature: String,
    },
    /// Many training rows fall in a bin and all of them converted, or none
    /// did. The bin's points then come from the penalty, not from an
    /// estimate, and a value that decides the outcome alone is often
    /// recorded after it (leakage).
    PureBin {
        /// The attribute.
        feature: String,
        /// The bin.
        bin: Bin,
        /// Training rows in the bin.
        rows: usize,
        /// Whether they all converted (else none did).
        converted: bool,
    },
    /// The fitted log-odds rank every converted training lead above every
    /// other one: the training rows are perfectly separated, and the points
    /// are only as large as the penalty lets them be.
    Separated {
        /// The L2 penalty (or the boosting shrinkage) that bounded them.
        l2: f64,
    },
}

impl fmt::Display for FitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitWarning::Constant { feature } => {
                write!(
                    f,
                    "{feature} has a single value on the training rows: it scores nothing"
                )
            }
            FitWarning::PureBin {
                feature,
                bin,
                rows,
                converted,
            } => write!(
                f,
                "{feature} {bin}: {} of its {rows} training leads converted, so its points are set by the penalty; check the value is known before the outcome",
                if *converted { "all" } else { "none" }
            ),
            FitWarning::Separated { l2 } => write!(
                f,
                "the training leads are perfectly separated: the points are as large as the penalty ({l2}) allows, not estimates"
            ),
        }
    }
}

/// One bin of a [`FeatureCard`] with its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinPoints {
    /// Which values fall in the bin.
    pub bin: Bin,
    /// Whole points a lead in this bin gets.
    pub points: Points,
    /// The fitted log-odds weight behind the points (relative to the
    /// feature's reference bin).
    pub weight: f64,
    /// Training rows in the bin.
    pub train_rows: usize,
    /// Converted training rows in the bin.
    pub train_positives: usize,
}

/// The bins of one feature and their points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureCard {
    /// The attribute and its kind.
    pub feature: Feature,
    /// Its bins; `Missing` first, for categoricals `Other` last.
    pub bins: Vec<BinPoints>,
}

/// The position of the bin a value falls in: the first matching bin, an
/// `Other` bin only when no other bin matches a known value.
fn locate<'a>(bins: impl Iterator<Item = &'a Bin> + Clone, value: Option<AttrRef<'_>>) -> Option<usize> {
    bins.clone()
        .position(|b| *b != Bin::Other && b.matches(value))
        .or_else(|| bins.clone().position(|b| *b == Bin::Other && value.is_some()))
}

impl FeatureCard {
    /// The bin a value falls in: the first matching bin, `Other` only when
    /// no other bin matches.
    pub fn bin_for(&self, value: Option<AttrRef<'_>>) -> Option<&BinPoints> {
        locate(self.bins.iter().map(|b| &b.bin), value).and_then(|i| self.bins.get(i))
    }
}

/// An interaction table: whole points for each combination of a bin of one
/// attribute and a bin of another, on top of each attribute's own points.
///
/// The table holds only what the two attributes do together that their own
/// cards do not: its rows and columns are centred, and its reference bins
/// (`Other` of a categorical, which has no rule form) score 0. Cells that
/// round to 0 points are left out.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{Bin, Feature, PairCard, PairCell};
/// use leadflow::{AttrRef, Points};
///
/// let pair = PairCard {
///     features: [Feature::numeric("visits"), Feature::categorical("plan")],
///     bins: [
///         vec![Bin::Missing, Bin::Range { min: None, max: Some(5.0) }, Bin::Range { min: Some(5.0), max: None }],
///         vec![Bin::Missing, Bin::OneOf { values: vec!["pro".into()] }, Bin::Other],
///     ],
///     cells: vec![PairCell { at: [2, 1], points: Points::new(12), weight: 0.42, train_rows: 80, train_positives: 50 }],
/// };
/// let cell = pair.cell_for(Some(AttrRef::Int(9)), Some(AttrRef::Text("Pro")));
/// assert_eq!(cell.map(|c| c.points), Some(Points::new(12)));
/// assert!(pair.cell_for(Some(AttrRef::Int(1)), Some(AttrRef::Text("pro"))).is_none());
/// assert_eq!(pair.describe(&pair.cells[0]), "visits >= 5 and plan = \"pro\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairCard {
    /// The two attributes.
    pub features: [Feature; 2],
    /// Each attribute's bins in this table (coarser than its own card's):
    /// `bins[0]` for `features[0]`, `bins[1]` for `features[1]`.
    pub bins: [Vec<Bin>; 2],
    /// The cells with points.
    pub cells: Vec<PairCell>,
}

/// One cell of a [`PairCard`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairCell {
    /// The cell's bins: positions in the card's `bins[0]` and `bins[1]`.
    pub at: [usize; 2],
    /// Whole points a lead in this cell gets.
    pub points: Points,
    /// The fitted log-odds weight behind the points.
    pub weight: f64,
    /// Training rows in the cell.
    pub train_rows: usize,
    /// Converted training rows in the cell.
    pub train_positives: usize,
}

impl PairCard {
    /// The cell two values fall in, if it has points.
    pub fn cell_for(&self, first: Option<AttrRef<'_>>, second: Option<AttrRef<'_>>) -> Option<&PairCell> {
        let [b0, b1] = &self.bins;
        let a = locate(b0.iter(), first)?;
        let b = locate(b1.iter(), second)?;
        self.cells.iter().find(|c| c.at == [a, b])
    }

    /// The bins of a cell, when both positions exist.
    pub fn cell_bins(&self, cell: &PairCell) -> Option<(&Bin, &Bin)> {
        let [b0, b1] = &self.bins;
        Some((b0.get(cell.at[0])?, b1.get(cell.at[1])?))
    }

    /// A cell in words: `visits >= 5 and plan = "pro"`.
    pub fn describe(&self, cell: &PairCell) -> String {
        let [f0, f1] = &self.features;
        match self.cell_bins(cell) {
            Some((a, b)) => format!("{} {a} and {} {b}", f0.name, f1.name),
            None => format!("{} and {}: no such cell", f0.name, f1.name),
        }
    }

    /// The table's name: `visits × plan`.
    pub fn name(&self) -> String {
        let [f0, f1] = &self.features;
        format!("{} × {}", f0.name, f1.name)
    }
}

/// One part of a lead's score: the bin of one attribute, or a cell of a
/// pair table.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Part<'a> {
    /// The bin of an attribute the lead falls in.
    Bin {
        /// The attribute.
        feature: &'a Feature,
        /// The bin and its points.
        bin: &'a BinPoints,
    },
    /// The cell of a pair table the lead falls in.
    Cell {
        /// The table.
        pair: &'a PairCard,
        /// The cell and its points.
        cell: &'a PairCell,
    },
}

impl Part<'_> {
    /// Its whole points.
    pub fn points(&self) -> Points {
        match self {
            Part::Bin { bin, .. } => bin.points,
            Part::Cell { cell, .. } => cell.points,
        }
    }

    /// Its fitted log-odds weight.
    pub fn weight(&self) -> f64 {
        match self {
            Part::Bin { bin, .. } => bin.weight,
            Part::Cell { cell, .. } => cell.weight,
        }
    }

    /// The attributes it reads: one for a bin, two for a cell.
    pub fn attributes(&self) -> Vec<&str> {
        match self {
            Part::Bin { feature, .. } => vec![feature.name.as_str()],
            Part::Cell { pair, .. } => pair.features.iter().map(|f| f.name.as_str()).collect(),
        }
    }
}

impl fmt::Display for Part<'_> {
    /// `employees in [200, 500)`, or a cell's two bins joined by `and`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Bin { feature, bin } => write!(f, "{} {}", feature.name, bin.bin),
            Part::Cell { pair, cell } => f.write_str(&pair.describe(cell)),
        }
    }
}

/// The bin of each feature a lead falls in, reading attributes in feature
/// order with a position hint (see `read_attribute`).
pub(crate) fn lead_bins<'a, 'l>(
    features: &'a [FeatureCard],
    lead: &'l Lead,
    events: &'l [Event],
) -> impl Iterator<Item = (&'a FeatureCard, &'a BinPoints)> {
    let mut hint = 0;
    features.iter().filter_map(move |f| {
        let value = read_attribute(lead, events, &f.feature.name, None, &mut hint);
        f.bin_for(value).map(|b| (f, b))
    })
}

/// The cell of each pair table a lead falls in.
fn lead_cells<'a, 'l>(
    pairs: &'a [PairCard],
    lead: &'l Lead,
    events: &'l [Event],
) -> impl Iterator<Item = (&'a PairCard, &'a PairCell)> {
    pairs.iter().filter_map(move |p| {
        let [f0, f1] = &p.features;
        let a = read_attribute(lead, events, &f0.name, None, &mut 0);
        let b = read_attribute(lead, events, &f1.name, None, &mut 0);
        p.cell_for(a, b).map(|c| (p, c))
    })
}

/// A fitted, readable points scorecard: a base score plus, for each feature,
/// the whole points of the bin the lead falls in, plus the points of the
/// cell it falls in in each pair table.
///
/// Both fits produce one: [`ScorecardConfig::fit`](super::ScorecardConfig::fit)
/// (a penalised logistic regression on the bins, no pair tables) and
/// [`BoostedConfig::fit`](super::BoostedConfig::fit) (boosted per-bin shapes
/// and a few pair tables).
///
/// The conversion to a scoring model is mechanical
/// ([`Scorecard::to_scoring_model`]): each bin is an attribute name, a
/// [`Bin::to_predicate`] and whole [`Points`]; each pair cell two of them;
/// `base` is a constant; [`PdoScaling`] turns points back into a
/// probability. Numeric features give their missing bin 0 points and
/// categorical features their `Other` bin, so those need no rule (a
/// categorical `Missing` bin is a rule on the attribute being absent).
///
/// Implements [`Scorer`]: the attributes are read as of `now`, the latest
/// `AttributeChange` event at or before `now` overriding the lead's own value.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Feature, Label, ScorecardConfig, Scorer};
/// use leadflow::{Lead, LeadId};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// for i in 0..100_i64 {
///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
///     lead.set_attribute("plan", if i % 2 == 0 { "pro" } else { "free" })?;
///     data.push(lead, vec![], Label::new(i % 2 == 0 && i % 3 != 0, None));
/// }
/// let card = ScorecardConfig::new([Feature::categorical("plan")]).fit(&data, &data.all_rows())?;
/// let pro = &data.rows()[0];
/// let free = &data.rows()[1];
/// assert!(card.score(&pro.lead, &[], t0) > card.score(&free.lead, &[], t0));
/// for part in card.explain(&pro.lead, &[]) {
///     println!("{:+} {part}", part.points());
/// }
/// let json = serde_json::to_string(&card)?;
/// let back: leadflow::tuning::Scorecard = serde_json::from_str(&json)?;
/// assert_eq!(back.points(&pro.lead, &[]), card.points(&pro.lead, &[]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// How points map to odds.
    pub scaling: PdoScaling,
    /// Whole points every lead starts with.
    pub base: Points,
    /// The fitted log-odds of a lead in every reference bin.
    pub intercept: f64,
    /// The features, in fitting order.
    pub features: Vec<FeatureCard>,
    /// The pair tables, strongest interaction first (none for a logistic
    /// scorecard).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairCard>,
    /// What the fit noticed about its training rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FitWarning>,
}

impl Scorecard {
    /// Every (attribute, bin, points) triple of the features' own cards,
    /// feature by feature (pair cells are in [`Scorecard::pairs`]).
    pub fn factors(&self) -> impl Iterator<Item = (&str, &Bin, Points)> {
        self.features.iter().flat_map(|f| {
            f.bins
                .iter()
                .map(move |b| (f.feature.name.as_str(), &b.bin, b.points))
        })
    }

    /// Every part with points that a lead can fall in: each feature's bins,
    /// then each pair table's cells.
    pub fn parts(&self) -> impl Iterator<Item = Part<'_>> {
        let bins = self.features.iter().flat_map(|f| {
            f.bins.iter().map(move |bin| Part::Bin {
                feature: &f.feature,
                bin,
            })
        });
        let cells = self
            .pairs
            .iter()
            .flat_map(|pair| pair.cells.iter().map(move |cell| Part::Cell { pair, cell }));
        bins.chain(cells)
    }

    /// The parts of a lead's score: the bin of each feature it falls in,
    /// then the cell of each pair table, given the events known (see
    /// [`Scorer`] for how events matter). The base plus their points is
    /// [`Scorecard::points`].
    pub fn explain<'a>(&'a self, lead: &Lead, events: &[Event]) -> Vec<Part<'a>> {
        lead_bins(&self.features, lead, events)
            .map(|(f, bin)| Part::Bin {
                feature: &f.feature,
                bin,
            })
            .chain(lead_cells(&self.pairs, lead, events).map(|(pair, cell)| Part::Cell { pair, cell }))
            .collect()
    }

    /// The whole points of a lead: base plus its bins' and cells' points.
    pub fn points(&self, lead: &Lead, events: &[Event]) -> Points {
        self.base
            + lead_bins(&self.features, lead, events)
                .map(|(_, b)| b.points)
                .sum()
            + lead_cells(&self.pairs, lead, events).map(|(_, c)| c.points).sum()
    }

    /// The unrounded fitted log-odds of a lead (the model behind the
    /// points).
    pub fn logit(&self, lead: &Lead, events: &[Event]) -> f64 {
        self.intercept
            + lead_bins(&self.features, lead, events)
                .map(|(_, b)| b.weight)
                .sum::<f64>()
            + lead_cells(&self.pairs, lead, events)
                .map(|(_, c)| c.weight)
                .sum::<f64>()
    }

    /// The probability of converting implied by a number of points.
    pub fn probability(&self, points: Points) -> f64 {
        self.scaling.probability(points.to_f64())
    }

    /// Checks the card against sanity bounds: every bin's and cell's points,
    /// and the base, in log-odds on the card's scale.
    ///
    /// # Errors
    ///
    /// [`TuningError::OutOfBounds`] naming the first factor beyond its
    /// bound (the base first).
    ///
    /// # Example
    ///
    /// ```
    /// use leadflow::tuning::{Bounds, PdoScaling, Scorecard};
    /// use leadflow::Points;
    ///
    /// let mut card = Scorecard {
    ///     scaling: PdoScaling::default(),
    ///     base: Points::new(100),
    ///     intercept: 0.0,
    ///     features: vec![],
    ///     pairs: vec![],
    ///     warnings: vec![],
    /// };
    /// assert!(card.check_bounds(&Bounds::default()).is_ok());
    /// card.base = Points::new(-8_352_927_986_385);
    /// assert!(card.check_bounds(&Bounds::default()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_bounds(&self, bounds: &Bounds) -> Result<(), TuningError> {
        let factor = self.scaling.factor();
        let base = self.scaling.log_odds(self.base.to_f64());
        // Rounding to whole points may move a value by half a point.
        let slack = 0.5 / factor;
        if !within(base, bounds.base + slack) {
            return Err(TuningError::OutOfBounds {
                what: "the base".into(),
                log_odds: base,
                bound: bounds.base,
            });
        }
        for part in self.parts() {
            let log_odds = part.points().to_f64() / factor;
            if !within(log_odds, bounds.factor + slack) {
                return Err(TuningError::OutOfBounds {
                    what: part.to_string(),
                    log_odds,
                    bound: bounds.factor,
                });
            }
        }
        Ok(())
    }
}

impl Scorer for Scorecard {
    fn score(&self, lead: &Lead, events: &[Event], now: DateTime<Utc>) -> Points {
        let known = events.partition_point(|e| e.at <= now);
        self.points(lead, events.get(..known).unwrap_or(&[]))
    }

    fn probability(&self, points: Points) -> Option<f64> {
        Some(Scorecard::probability(self, points))
    }
}

impl Scorecard {
    /// The scorecard as an ordinary [`ScoringModel`] a person can read, edit,
    /// serialize and explain: one fit rule per bin with non-zero points
    /// (`{attribute}#{bin index}`, described by the bin), one
    /// [`AllAttributes`](crate::scoring::Trigger::AllAttributes) rule per
    /// pair cell with points (`{first} × {second}#{i}.{j}`), plus a `base`
    /// rule on the always-known `source` attribute carrying the base points,
    /// with an unbounded floor. For leads without attribute-change events,
    /// the model's fit (and combined) score equals [`Scorecard::points`].
    ///
    /// # Errors
    ///
    /// [`TuningError::NoRuleForm`] when a bin or cell with points has no
    /// equivalent rule (an `Other` bin, which fitted scorecards never give
    /// points), [`TuningError::CellOutsideBins`] for a pair cell outside its
    /// bins, [`TuningError::InvalidRuleId`] when a feature's name cannot make
    /// a rule id (too long, or a control character), and
    /// [`TuningError::InvalidModel`] when the model fails validation.
    pub fn to_scoring_model(&self, version: ModelVersion) -> Result<ScoringModel, TuningError> {
        let mut builder = ScoringModel::builder(version)
            .describe(format!(
                "fitted integer-points scorecard: {} points at odds {}:1, {} more points double the odds",
                self.scaling.score, self.scaling.odds, self.scaling.pdo
            ))
            .floor(Floor::Unbounded);
        if self.base != Points::ZERO {
            builder = builder.rule(
                Rule::attribute(RuleId::known("base"), keys::SOURCE, Predicate::Exists, self.base)
                    .describe("base points: every lead has a source"),
            );
        }
        let no_rule = |what: String, bin: &Bin, points: Points| TuningError::NoRuleForm {
            what,
            bin: bin.clone(),
            points,
        };
        for card in &self.features {
            let name = &card.feature.name;
            for (i, bp) in card.bins.iter().enumerate() {
                if bp.points == Points::ZERO {
                    continue;
                }
                let predicate = bp
                    .bin
                    .to_predicate()
                    .ok_or_else(|| no_rule(format!("bin {i} of {name}"), &bp.bin, bp.points))?;
                let id = RuleId::new(format!("{name}#{i}")).map_err(|source| TuningError::InvalidRuleId {
                    what: format!("bin {i} of {name}"),
                    source,
                })?;
                builder = builder.rule(
                    Rule::attribute(id, name.clone(), predicate, bp.points)
                        .describe(format!("{name} {}", bp.bin)),
                );
            }
        }
        for pair in &self.pairs {
            let [f0, f1] = &pair.features;
            for cell in pair.cells.iter().filter(|c| c.points != Points::ZERO) {
                let [i, j] = cell.at;
                let (b0, b1) = pair.cell_bins(cell).ok_or_else(|| TuningError::CellOutsideBins {
                    pair: pair.name(),
                    cell: [i, j],
                })?;
                let test = |f: &Feature, b: &Bin| {
                    b.to_predicate()
                        .map(|predicate| AttributeTest::new(f.name.clone(), predicate))
                        .ok_or_else(|| no_rule(format!("a cell of {}", pair.name()), b, cell.points))
                };
                let tests = vec![test(f0, b0)?, test(f1, b1)?];
                let id = RuleId::new(format!("{}#{i}.{j}", pair.name())).map_err(|source| {
                    TuningError::InvalidRuleId {
                        what: format!("a cell of {}", pair.name()),
                        source,
                    }
                })?;
                builder =
                    builder.rule(Rule::all_attributes(id, tests, cell.points).describe(pair.describe(cell)));
            }
        }
        builder
            .build()
            .map_err(|source| TuningError::InvalidModel { source })
    }
}

/// Training rows and converted rows per global column of an encoding.
pub(crate) fn column_counts(enc: &Encoded, labels: &[bool]) -> Vec<(usize, usize)> {
    let width = enc.bins.len().max(1);
    let mut counts = vec![(0usize, 0usize); enc.columns];
    for (cols, &y) in enc.rows.chunks_exact(width).zip(labels) {
        for &c in cols {
            if let Some(slot) = counts.get_mut(c as usize) {
                slot.0 += 1;
                slot.1 += usize::from(y);
            }
        }
    }
    counts
}

/// Whether fitted weights (one per global column of `enc`, with their
/// intercept) make a card within `bounds` once each feature is shifted to
/// its reference bin, as [`Fitted::into_card`] shifts it.
pub(crate) fn within_bounds(enc: &Encoded, weights: &[f64], intercept: f64, bounds: &Bounds) -> bool {
    let mut base = intercept;
    for (fb, &offset) in enc.bins.iter().zip(&enc.offsets) {
        let w = weights.get(offset..offset + fb.len()).unwrap_or(&[]);
        let shift = w.get(reference_bin(fb)).copied().unwrap_or(0.0);
        base += shift;
        if !w.iter().all(|x| within(x - shift, bounds.factor)) {
            return false;
        }
    }
    within(base, bounds.base)
}

/// `|x| <= bound`, false for NaN.
fn within(x: f64, bound: f64) -> bool {
    x.abs() <= bound
}

/// The bin a feature's points are measured from: missing for numerics (so
/// every range converts to a plain rule), `Other` for categoricals.
fn reference_bin(fb: &super::binning::FeatureBins) -> usize {
    match fb.feature.kind {
        FeatureKind::Numeric => 0,
        FeatureKind::Categorical => fb.len().saturating_sub(1),
    }
}

/// Fitted log-odds before rounding, from either fit.
pub(crate) struct Fitted<'a> {
    /// The bins and the training rows' columns.
    pub(crate) enc: &'a Encoded,
    /// Training labels, in row order.
    pub(crate) labels: &'a [bool],
    /// The log-odds of a lead whose every column weight is 0.
    pub(crate) intercept: f64,
    /// One weight per global column of `enc`.
    pub(crate) weights: Vec<f64>,
    /// Pair tables with their cells' weights (points are set here).
    pub(crate) pairs: Vec<PairCard>,
    /// The penalty, for the separation warning.
    pub(crate) l2: f64,
    /// The fitted log-odds of each training row.
    pub(crate) logits: Vec<f64>,
}

impl Fitted<'_> {
    /// The integer card: each feature shifted so its reference bin (missing
    /// for numerics, `Other` for categoricals) has 0 points, weights scaled
    /// and rounded, bins with equal points merged, bounds checked, warnings
    /// collected.
    pub(crate) fn into_card(self, scaling: PdoScaling, bounds: &Bounds) -> Result<Scorecard, TuningError> {
        let counts = column_counts(self.enc, self.labels);
        let n = self.labels.len();
        let mut warnings = Vec::new();
        let factor = scaling.factor();
        let mut intercept = self.intercept;
        let mut features = Vec::with_capacity(self.enc.bins.len());
        let whole = |weight: f64, what: &dyn Fn() -> String| -> Result<Points, TuningError> {
            if !within(weight, bounds.factor) {
                return Err(TuningError::OutOfBounds {
                    what: what(),
                    log_odds: weight,
                    bound: bounds.factor,
                });
            }
            whole_points(factor * weight)
        };
        for (fb, &offset) in self.enc.bins.iter().zip(&self.enc.offsets) {
            let weights = self.weights.get(offset..offset + fb.len()).unwrap_or(&[]);
            let shift = weights.get(reference_bin(fb)).copied().unwrap_or(0.0);
            intercept += shift;
            let name = &fb.feature.name;
            let mut bins = Vec::with_capacity(fb.len());
            for (i, (bin, &w)) in fb.bins.iter().zip(weights).enumerate() {
                let weight = w - shift;
                let (train_rows, train_positives) = counts.get(offset + i).copied().unwrap_or((0, 0));
                let pure = train_positives == 0 || train_positives == train_rows;
                if pure && train_rows >= (n / 200).max(20) && train_rows < n {
                    warnings.push(FitWarning::PureBin {
                        feature: name.clone(),
                        bin: bin.clone(),
                        rows: train_rows,
                        converted: train_positives > 0,
                    });
                }
                bins.push(BinPoints {
                    bin: bin.clone(),
                    points: whole(weight, &|| format!("{name} {bin}"))?,
                    weight,
                    train_rows,
                    train_positives,
                });
            }
            if bins.iter().filter(|b| b.train_rows > 0).count() <= 1 {
                warnings.push(FitWarning::Constant {
                    feature: name.clone(),
                });
            }
            features.push(FeatureCard {
                feature: fb.feature.clone(),
                bins: merge_equal_points(bins),
            });
        }
        let mut pairs = self.pairs;
        for pair in &mut pairs {
            let name = pair.name();
            for cell in &mut pair.cells {
                cell.points = whole(cell.weight, &|| format!("a cell of {name}"))?;
            }
            pair.cells.retain(|c| c.points != Points::ZERO);
        }
        pairs.retain(|p| !p.cells.is_empty());
        if !within(intercept, bounds.base) {
            return Err(TuningError::OutOfBounds {
                what: "the base".into(),
                log_odds: intercept,
                bound: bounds.base,
            });
        }
        let (mut lowest_positive, mut highest_negative) = (f64::INFINITY, f64::NEG_INFINITY);
        for (&z, &y) in self.logits.iter().zip(self.labels) {
            if y {
                lowest_positive = lowest_positive.min(z);
            } else {
                highest_negative = highest_negative.max(z);
            }
        }
        if lowest_positive > highest_negative {
            warnings.push(FitWarning::Separated { l2: self.l2 });
        }
        Ok(Scorecard {
            scaling,
            base: whole_points(scaling.points(intercept))?,
            intercept,
            features,
            pairs,
            warnings,
        })
    }
}

/// Merges bins that score the same, so the card has fewer, larger factors
/// and every score is unchanged: adjacent numeric ranges with equal points
/// become one range, categorical levels with equal points one `OneOf`. The
/// merged weight is the row-weighted mean, which rounds to the same points.
fn merge_equal_points(bins: Vec<BinPoints>) -> Vec<BinPoints> {
    let mut out: Vec<BinPoints> = Vec::with_capacity(bins.len());
    for b in bins {
        let target = match &b.bin {
            Bin::Range { .. } => out
                .last_mut()
                .filter(|l| matches!(l.bin, Bin::Range { .. }) && l.points == b.points),
            Bin::OneOf { .. } => out
                .iter_mut()
                .find(|l| matches!(l.bin, Bin::OneOf { .. }) && l.points == b.points),
            _ => None,
        };
        let Some(into) = target else {
            out.push(b);
            continue;
        };
        let rows = (into.train_rows + b.train_rows) as f64;
        into.weight = if rows > 0.0 {
            (into.weight * into.train_rows as f64 + b.weight * b.train_rows as f64) / rows
        } else {
            (into.weight + b.weight) / 2.0
        };
        into.train_rows += b.train_rows;
        into.train_positives += b.train_positives;
        match (&mut into.bin, b.bin) {
            (Bin::Range { max, .. }, Bin::Range { max: next, .. }) => *max = next,
            (Bin::OneOf { values }, Bin::OneOf { values: more }) => values.extend(more),
            _ => {}
        }
    }
    out
}

fn whole_points(x: f64) -> Result<Points, TuningError> {
    Points::try_from_f64(x.round()).map_err(|_| TuningError::InvalidParameter {
        name: "points",
        value: x,
        expected: "a finite number of points: lower pdo or raise l2",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::AttrValue;

    fn bp(bin: Bin, points: i64, weight: f64, rows: usize) -> BinPoints {
        BinPoints {
            bin,
            points: Points::new(points),
            weight,
            train_rows: rows,
            train_positives: rows / 2,
        }
    }

    #[test]
    fn equal_points_merge_without_changing_scores() {
        let r = |min: Option<f64>, max: Option<f64>| Bin::Range { min, max };
        let bins = vec![
            bp(Bin::Missing, 0, 0.0, 3),
            bp(r(None, Some(1.0)), 5, 0.17, 10),
            bp(r(Some(1.0), Some(2.0)), 5, 0.18, 30),
            bp(r(Some(2.0), None), 7, 0.24, 10),
        ];
        let merged = merge_equal_points(bins);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[1].bin, r(None, Some(2.0)));
        assert_eq!((merged[1].points, merged[1].train_rows), (Points::new(5), 40));
        assert!((merged[1].weight - (0.17 * 10.0 + 0.18 * 30.0) / 40.0).abs() < 1e-12);

        let level = |v: &str| Bin::OneOf {
            values: vec![AttrValue::text(v)],
        };
        let bins = vec![
            bp(Bin::Missing, -3, -0.1, 5),
            bp(level("a"), 4, 0.14, 10),
            bp(level("b"), -2, -0.07, 10),
            bp(level("c"), 4, 0.13, 10),
            bp(Bin::Other, 0, 0.0, 2),
        ];
        let merged = merge_equal_points(bins);
        assert_eq!(merged.len(), 4);
        assert_eq!(
            merged[1].bin,
            Bin::OneOf {
                values: vec![AttrValue::text("a"), AttrValue::text("c")]
            }
        );
        assert_eq!(merged[3].bin, Bin::Other);
    }
}
