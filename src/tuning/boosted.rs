//! The boosted additive scorecard: cyclic gradient boosting of per-feature
//! bin shapes, then pair tables for the pairs a cheap screen keeps, in the
//! spirit of explainable boosting machines, exported as the same integer
//! points table as the logistic scorecard.

use serde::{Deserialize, Serialize};

use super::binning::{Encoded, Feature};
use super::linalg::{fast_sigmoid, row_loss};
use super::logistic::{check_features, check_rows, labels_of};
use super::pairs::{Coarse, PairTable, Rows, Step, centre, pair_step, screen};
use super::scorecard::Fitted;
use super::table::Table;
use super::{Bounds, Dataset, PdoScaling, Scorecard, SplitMix64, TuningError};

/// How to fit a boosted additive [`Scorecard`]: the features, binning,
/// boosting and pair-table settings, and the scaling. An unfitted
/// configuration; [`BoostedConfig::fit`] makes the fitted scorecard.
///
/// The defaults need no tuning: each bag holds out a share of the training
/// rows, takes a step only when it lowers their log loss, and stops when
/// they stop improving.
///
/// # Example
///
/// ```
/// use leadflow::tuning::{BoostedConfig, Feature};
///
/// let config = BoostedConfig::new([Feature::numeric("visits"), Feature::categorical("origin")])
///     .with_pairs(3);
/// assert_eq!(config.pairs, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BoostedConfig {
    /// The attributes to fit on.
    pub features: Vec<Feature>,
    /// Bins per numeric feature at most, as for the logistic scorecard
    /// (their shapes are fitted, and bins that end with equal points merge).
    /// Default 32.
    pub max_bins: usize,
    /// Categorical levels (and numeric bins) with fewer training rows than
    /// this share a bin. Default 20: a level's shape is fitted from its
    /// rows alone (no penalty pools it with the others, as the logistic
    /// scorecard's does), so it needs more of them.
    pub min_level_rows: usize,
    /// Shrinkage of every boosting step. Default 0.1.
    pub learning_rate: f64,
    /// Boosting rounds at most (a round offers every term one step).
    /// Default 2000.
    pub max_rounds: usize,
    /// Refused steps in a row after which a term stops, and rounds without
    /// a better held-out log loss after which boosting stops. Default 5.
    pub patience: usize,
    /// The fall of the held-out log loss a round must bring to count as
    /// better, relative to the loss when the stage (shapes, then pairs)
    /// started. Default 1e-4.
    pub tolerance: f64,
    /// Pieces a feature's shape may change by in one step (the leaves of a
    /// small tree over its ordered bins; missing values always change on
    /// their own). Default 3.
    pub max_leaves: usize,
    /// Training rows a piece of a step needs at least. Default 10.
    pub min_leaf_rows: usize,
    /// L2 penalty of each step's values (added to the Hessian). Default 1.
    pub step_l2: f64,
    /// Share of the training rows each bag holds out to judge steps and
    /// decide when to stop. Default 0.25.
    pub validation_share: f64,
    /// Bags: models fitted with different rows held out (disjoint shares of
    /// one shuffle), averaged. More bags give steadier shapes, at
    /// proportional cost. Default 2.
    pub bags: usize,
    /// Pair tables at most. Candidates are the pairs whose screen gain,
    /// summed over the bags' held-out rows, is positive; boosting then
    /// leaves the tables of pairs whose steps do not help at zero, and they
    /// are dropped. 0 gives a purely additive card. Default 60.
    pub pairs: usize,
    /// Bins per attribute in a pair table at most (a table has at most the
    /// square of this many cells). Default 8.
    pub pair_bins: usize,
    /// Seed of the held-out shares. Default 42.
    pub seed: u64,
    /// How log-odds become points.
    pub scaling: PdoScaling,
    /// Sanity bounds every fitted card must respect.
    #[serde(default)]
    pub bounds: Bounds,
}

impl BoostedConfig {
    /// What one boosting step may do.
    pub(super) fn step(&self) -> Step {
        Step {
            learning_rate: self.learning_rate,
            l2: self.step_l2,
            min_leaf_rows: self.min_leaf_rows,
        }
    }

    /// The default configuration for these features.
    pub fn new(features: impl IntoIterator<Item = Feature>) -> BoostedConfig {
        BoostedConfig {
            features: features.into_iter().collect(),
            max_bins: 32,
            min_level_rows: 20,
            learning_rate: 0.1,
            max_rounds: 2000,
            patience: 5,
            tolerance: 1e-4,
            max_leaves: 3,
            min_leaf_rows: 10,
            step_l2: 1.0,
            validation_share: 0.25,
            bags: 2,
            pairs: 60,
            pair_bins: 8,
            seed: 42,
            scaling: PdoScaling::default(),
            bounds: Bounds::default(),
        }
    }

    /// Sets the number of pair tables at most.
    pub fn with_pairs(mut self, pairs: usize) -> BoostedConfig {
        self.pairs = pairs;
        self
    }

    /// Sets the number of bags.
    pub fn with_bags(mut self, bags: usize) -> BoostedConfig {
        self.bags = bags;
        self
    }

    /// Sets the bins per numeric feature.
    pub fn with_max_bins(mut self, max_bins: usize) -> BoostedConfig {
        self.max_bins = max_bins;
        self
    }

    /// Sets the seed of the held-out shares.
    pub fn with_seed(mut self, seed: u64) -> BoostedConfig {
        self.seed = seed;
        self
    }

    /// Sets the points scaling.
    pub fn with_scaling(mut self, scaling: PdoScaling) -> BoostedConfig {
        self.scaling = scaling;
        self
    }

    fn validate(&self, data: &Dataset, rows: &[usize]) -> Result<(), TuningError> {
        check_features(&self.features)?;
        let bad = |name, value: f64, expected| {
            Err(TuningError::InvalidParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(
                "learning_rate",
                self.learning_rate,
                "a shrinkage above 0 and at most 1",
            );
        }
        if !(self.tolerance.is_finite() && (0.0..1.0).contains(&self.tolerance)) {
            return bad("tolerance", self.tolerance, "a relative fall from 0 up to 1");
        }
        if !(self.validation_share > 0.0 && self.validation_share < 0.5) {
            return bad(
                "validation_share",
                self.validation_share,
                "a share above 0 and below 0.5",
            );
        }
        if !(self.step_l2.is_finite() && self.step_l2 >= 0.0) {
            return bad("step_l2", self.step_l2, "a finite penalty of 0 or more");
        }
        if self.max_bins < 2 || self.max_bins > usize::from(u16::MAX) {
            return bad("max_bins", self.max_bins as f64, "from 2 to 65535 bins");
        }
        if self.pair_bins < 2 || self.pair_bins > 255 {
            return bad("pair_bins", self.pair_bins as f64, "from 2 to 255 bins");
        }
        if self.bags == 0 {
            return bad("bags", 0.0, "at least 1 bag");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves", self.max_leaves as f64, "at least 2 pieces per step");
        }
        if self.max_rounds == 0 || self.patience == 0 {
            return bad(
                "patience",
                self.patience as f64,
                "at least 1 round and a patience of 1",
            );
        }
        self.scaling.validate()?;
        check_rows(data, rows)?;
        let held_out = (rows.len() as f64 * self.validation_share).floor() as usize;
        if held_out == 0 || held_out >= rows.len() {
            return bad(
                "validation_share",
                self.validation_share,
                "a share that leaves rows on both sides: give more training rows",
            );
        }
        Ok(())
    }

    /// Fits a boosted additive scorecard on the given rows of `data`.
    ///
    /// The training rows are shuffled once (seeded); each bag holds out its
    /// own slice of them (`validation_share`) and fits on the rest. In each
    /// bag every feature's shape (a log-odds per bin) starts at 0 and, round
    /// after round, each feature in turn is offered a small step fitted to
    /// the current errors of the fitting rows (a tree of at most
    /// `max_leaves` pieces over its ordered bins, shrunk by
    /// `learning_rate`). A step that does not lower the held-out log loss is
    /// refused, a feature whose last `patience` steps were refused stops,
    /// and boosting stops when `patience` rounds bring no gain of
    /// `tolerance`. Then every pair of features is screened: a full step on
    /// the pair's coarse bins (a cut on one attribute, then a cut on the
    /// other on each side) is fitted on the fitting rows, and its gain beyond
    /// either attribute alone is measured on the held-out rows. The pairs
    /// whose gains, summed over the bags, are positive (at most `pairs`,
    /// largest first) get tables, boosted the same way on top of the shapes.
    /// The bags' shapes and tables are averaged; each table is centred (what
    /// a row or column of it adds on average moves into the attribute's own
    /// shape) so it holds only the interaction; the card is scaled to whole
    /// points and checked against the sanity bounds.
    ///
    /// # Errors
    ///
    /// [`TuningError`] for an invalid configuration, no rows, rows out of
    /// range, a single class, too few rows to hold some out, or a card
    /// beyond its sanity [`Bounds`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::tuning::{BoostedConfig, Dataset, Feature, Label};
    /// use leadflow::{Lead, LeadId};
    ///
    /// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    /// let mut data = Dataset::new();
    /// for i in 0..400_i64 {
    ///     let mut lead = Lead::new(LeadId::new(format!("l{i}"))?, t0);
    ///     let (visits, plan) = (i % 10, if i % 3 == 0 { "pro" } else { "free" });
    ///     lead.set_attribute("visits", visits)?;
    ///     lead.set_attribute("plan", plan)?;
    ///     // Visits only matter on the pro plan: an interaction.
    ///     let converted = (plan == "pro" && visits > 4) || i % 11 == 0;
    ///     data.push(lead, vec![], Label::new(converted, None));
    /// }
    /// let features = [Feature::numeric("visits"), Feature::categorical("plan")];
    /// let card = BoostedConfig::new(features).fit(&data, &data.all_rows())?;
    /// let pro_busy = &data.rows()[9].lead; // visits 9, pro
    /// let free_busy = &data.rows()[7].lead; // visits 7, free
    /// assert!(card.points(pro_busy, &[]) > card.points(free_busy, &[]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit(&self, data: &Dataset, rows: &[usize]) -> Result<Scorecard, TuningError> {
        self.validate(data, rows)?;
        let enc = Encoded::fit(
            data,
            rows,
            &self.features,
            self.max_bins,
            self.min_level_rows,
            false,
        );
        let labels = labels_of(data, rows);
        // Codes are 16-bit: a categorical feature may keep that many levels.
        if enc.bins.iter().any(|fb| fb.len() > usize::from(u16::MAX)) {
            return Err(TuningError::InvalidParameter {
                name: "min_level_rows",
                value: self.min_level_rows as f64,
                expected: "a minimum that leaves at most 65,533 levels per categorical feature (is an id among the features?)",
            });
        }
        let table = Table::new(&enc, &labels);
        let coarse: Vec<Coarse> = enc
            .bins
            .iter()
            .zip(&table.bin_rows)
            .map(|(fb, counts)| Coarse::new(fb, counts, self.pair_bins))
            .collect();
        let mut rng = SplitMix64::new(self.seed);
        // One shuffle; bag b holds out the b-th slice of it, so the bags'
        // held-out rows do not overlap (and cover every row when
        // bags · validation_share reaches 1). Each bag boosts its shapes;
        // the pairs are screened on every bag's held-out rows (their gains
        // summed), so one split's luck does not decide them; then each bag
        // boosts the chosen pairs' tables.
        let mut order: Vec<usize> = (0..table.n).collect();
        rng.shuffle(&mut order);
        let mut bags: Vec<Bag> = (0..self.bags)
            .map(|b| Bag::new(&table, self.validation_share, &order, b, &coarse))
            .collect();
        let mut gains: Vec<(f64, usize, usize)> = Vec::new();
        for bag in &mut bags {
            bag.boost_shapes(self);
            for (k, found) in screen(self.pairs, &self.step(), &bag.rows(), &coarse)
                .into_iter()
                .enumerate()
            {
                match gains.get_mut(k) {
                    Some(g) => g.0 += found.0,
                    None => gains.push(found),
                }
            }
        }
        gains.retain(|g| g.0 > 0.0);
        gains.sort_by(|x, z| z.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(z.1, z.2))));
        let chosen: Vec<(usize, usize)> = gains.iter().take(self.pairs).map(|g| (g.1, g.2)).collect();
        let mut mains: Vec<Vec<f64>> = table.sizes.iter().map(|&b| vec![0.0; b]).collect();
        let mut tables: Vec<Vec<f64>> = Vec::new();
        let mut intercept = 0.0;
        for bag in &mut bags {
            let fitted = bag.boost_pairs(self, &coarse, &chosen);
            tables.resize_with(fitted.len(), Vec::new);
            for (sum, values) in tables.iter_mut().zip(fitted) {
                sum.resize(values.len(), 0.0);
                for (s, v) in sum.iter_mut().zip(values) {
                    *s += v;
                }
            }
            intercept += bag.intercept;
            for (sum, shape) in mains.iter_mut().zip(&bag.shapes) {
                for (s, v) in sum.iter_mut().zip(shape) {
                    *s += v;
                }
            }
        }
        let count = self.bags as f64;
        intercept /= count;
        mains.iter_mut().flatten().for_each(|v| *v /= count);
        tables.iter_mut().flatten().for_each(|v| *v /= count);
        let mut pairs = chosen
            .iter()
            .zip(tables)
            .map(|(&(f, g), values)| PairTable {
                features: (f, g),
                values,
            })
            .collect::<Vec<_>>();
        let cards = centre(&table, &coarse, &mut mains, &mut pairs, &enc);
        let weights: Vec<f64> = mains.into_iter().flatten().collect();
        let logits = table.logits(intercept, &weights, &enc, &coarse, &pairs);
        Fitted {
            enc: &enc,
            labels: &labels,
            intercept,
            weights,
            pairs: cards,
            l2: self.step_l2,
            logits,
        }
        .into_card(self.scaling, &self.bounds)
    }
}

impl Table {
    /// The fitted log-odds of every training row.
    fn logits(
        &self,
        intercept: f64,
        weights: &[f64],
        enc: &Encoded,
        coarse: &[Coarse],
        pairs: &[PairTable],
    ) -> Vec<f64> {
        let width = enc.bins.len().max(1);
        let mut z: Vec<f64> = enc
            .rows
            .chunks_exact(width)
            .map(|cols| {
                intercept
                    + cols
                        .iter()
                        .map(|&c| weights.get(c as usize).copied().unwrap_or(0.0))
                        .sum::<f64>()
            })
            .collect();
        for pair in pairs {
            let cells = pair.cells(self, coarse, 0..self.n);
            for (z, cell) in z.iter_mut().zip(cells) {
                *z += pair.values.get(cell).copied().unwrap_or(0.0);
            }
        }
        z
    }
}

/// One bag: the training rows in a seeded order, the fitting part first
/// and the held-out rest last, with the terms and scores fitted so far.
struct Bag {
    /// Fitting rows.
    m: usize,
    /// 1.0 for converted rows, in the bag's order.
    y: Vec<f64>,
    /// The prior log-odds of the fitting rows.
    intercept: f64,
    /// One term per feature, codes in the bag's order.
    terms: Vec<Term>,
    /// The fitted shapes, once boosted.
    shapes: Vec<Vec<f64>>,
    /// Every row's log-odds so far.
    score: Vec<f64>,
}

impl Bag {
    /// The rows as the pair screen reads them.
    fn rows(&self) -> Rows<'_> {
        Rows {
            m: self.m,
            y: &self.y,
            score: &self.score,
            codes: self.terms.iter().map(|t| t.codes.as_slice()).collect(),
        }
    }

    /// The bag that holds out the `index`-th slice (wrapping around) of
    /// `shuffled`, a share `share` of the rows.
    fn new(table: &Table, share: f64, shuffled: &[usize], index: usize, coarse: &[Coarse]) -> Bag {
        let n = table.n;
        let held_out = ((n as f64 * share).floor() as usize).clamp(1, n.saturating_sub(1));
        let m = n - held_out;
        // Rotate so the held-out slice comes last.
        let mut order = shuffled.to_vec();
        let start = (index * held_out) % n.max(1);
        order.rotate_left((start + held_out) % n.max(1));
        let y: Vec<f64> = order
            .iter()
            .map(|&i| table.y.get(i).copied().unwrap_or(0.0))
            .collect();
        let positives: f64 = y.iter().take(m).sum();
        let intercept = ((positives + 0.5) / (m as f64 - positives + 0.5)).ln();
        let terms = (0..table.sizes.len())
            .map(|f| {
                let src = table.column(f);
                Term {
                    codes: order.iter().map(|&i| src.get(i).copied().unwrap_or(0)).collect(),
                    size: table.sizes.get(f).copied().unwrap_or(1),
                    kind: table_kind(coarse, f),
                }
            })
            .collect();
        Bag {
            m,
            y,
            intercept,
            terms,
            shapes: Vec::new(),
            score: vec![intercept; n],
        }
    }

    fn boost_shapes(&mut self, cfg: &BoostedConfig) {
        self.shapes = boost_terms(cfg, &self.terms, &self.y, self.m, &mut self.score);
    }

    /// Boosts a table for each pair on top of the shapes; returns the
    /// tables' values.
    fn boost_pairs(
        &mut self,
        cfg: &BoostedConfig,
        coarse: &[Coarse],
        pairs: &[(usize, usize)],
    ) -> Vec<Vec<f64>> {
        let terms: Vec<Term> = pairs
            .iter()
            .filter_map(|&(f, g)| {
                let (cf, cg) = (coarse.get(f)?, coarse.get(g)?);
                let (a, b) = (self.terms.get(f)?, self.terms.get(g)?);
                let codes = a
                    .codes
                    .iter()
                    .zip(&b.codes)
                    .map(|(&x, &y)| (cf.of(x) * cg.len() + cg.of(y)) as u16)
                    .collect();
                Some(Term {
                    codes,
                    size: cf.len() * cg.len(),
                    kind: TermKind::Cells {
                        rows: cf.len(),
                        columns: cg.len(),
                        levels: (cf.levels(), cg.levels()),
                    },
                })
            })
            .collect();
        if terms.is_empty() {
            return Vec::new();
        }
        boost_terms(cfg, &terms, &self.y, self.m, &mut self.score)
    }
}

fn table_kind(coarse: &[Coarse], f: usize) -> TermKind {
    if coarse.get(f).is_some_and(Coarse::levels) {
        TermKind::Levels
    } else {
        TermKind::Ordered
    }
}

/// How a term's step is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    /// Ordered bins (a numeric feature): pieces are runs of adjacent bins.
    Ordered,
    /// Levels: ordered by their current errors, then cut into runs.
    Levels,
    /// A pair table of `rows × columns` cells, each attribute's bins
    /// ordered (numeric) or levels.
    Cells {
        rows: usize,
        columns: usize,
        levels: (bool, bool),
    },
}

/// One additive term being boosted: a code per row (bag order) and the
/// number of codes.
struct Term {
    codes: Vec<u16>,
    size: usize,
    kind: TermKind,
}

/// Cyclic boosting of `terms` on top of `score` (updated in place): each
/// round, each term in turn takes a step fitted to the first `m` rows
/// (the fitting rows). A step that does not lower the log loss of the
/// held-out rest (to second order) is not taken, and a term whose last
/// `patience` steps were all refused stops, so a term without signal stays
/// near zero instead of fitting noise while the others learn. Boosting stops
/// when a round has not lowered the held-out log loss by `tolerance` times
/// its value at the start for `patience` rounds; returns each term's values
/// at the best round, and leaves `score` there.
fn boost_terms(cfg: &BoostedConfig, terms: &[Term], y: &[f64], m: usize, score: &mut [f64]) -> Vec<Vec<f64>> {
    let mut values: Vec<Vec<f64>> = terms.iter().map(|t| vec![0.0; t.size]).collect();
    let mut best = values.clone();
    let held_out = |score: &[f64]| {
        let rows = score.len().saturating_sub(m).max(1) as f64;
        score
            .iter()
            .zip(y)
            .skip(m)
            .map(|(&z, &y)| row_loss(z, y > 0.5))
            .sum::<f64>()
            / rows
    };
    let mut best_loss = held_out(score);
    // Improvements are measured against the stage's starting loss: on
    // separable rows the loss itself falls towards 0, and a bar relative to
    // it would let the weights grow without end.
    let bar = cfg.tolerance * best_loss;
    let mut best_score = score.to_vec();
    let mut stall = 0;
    let counts: Vec<Vec<usize>> = terms
        .iter()
        .map(|t| {
            let mut c = vec![0usize; t.size];
            for &code in t.codes.iter().take(m) {
                if let Some(k) = c.get_mut(usize::from(code)) {
                    *k += 1;
                }
            }
            c
        })
        .collect();
    let (mut probabilities, mut lanes, mut hist) = (Vec::new(), Vec::new(), Vec::new());
    // The last step taken, applied to the fitting rows with the next pass.
    let mut pending: Option<(usize, Vec<f64>)> = None;
    let mut refused = vec![0usize; terms.len()];
    for _ in 0..cfg.max_rounds {
        for (t, term) in terms.iter().enumerate() {
            if refused.get(t).is_some_and(|&k| k >= cfg.patience) {
                continue;
            }
            let previous = pending
                .take()
                .and_then(|(p, step)| terms.get(p).map(|prev| (prev.codes.as_slice(), step)));
            gradients(
                score,
                y,
                m,
                &term.codes,
                previous.as_ref().map(|(c, s)| (*c, s.as_slice())),
                term.size,
                &mut probabilities,
                &mut lanes,
                &mut hist,
            );
            let step = fit_step(
                cfg,
                term.kind,
                &hist,
                counts.get(t).map_or(&[][..], Vec::as_slice),
            );
            let rest = term.codes.get(m..).unwrap_or(&[]);
            // The held-out change of the log loss, to second order.
            let held = score.get(m..).unwrap_or(&[]);
            probabilities.resize(held.len(), 0.0);
            for (p, &s) in probabilities.iter_mut().zip(held) {
                *p = fast_sigmoid(s);
            }
            let mut change = 0.0;
            for ((&p, &yy), &c) in probabilities.iter().zip(y.iter().skip(m)).zip(rest) {
                let d = step.get(usize::from(c)).copied().unwrap_or(0.0);
                change += (p - yy) * d + 0.5 * p * (1.0 - p) * d * d;
            }
            if let Some(k) = refused.get_mut(t) {
                if change >= 0.0 {
                    *k += 1;
                    continue;
                }
                *k = 0;
            }
            if let Some(v) = values.get_mut(t) {
                for (v, s) in v.iter_mut().zip(&step) {
                    *v += s;
                }
            }
            // Held-out rows take the step now (no probabilities needed).
            for (s, &c) in score.iter_mut().skip(m).zip(rest) {
                *s += step.get(usize::from(c)).copied().unwrap_or(0.0);
            }
            pending = Some((t, step));
        }
        // Bring the fitting rows up to date.
        if let Some((p, step)) = pending.take() {
            let codes = terms.get(p).map_or(&[][..], |t| t.codes.as_slice());
            for (s, &c) in score.iter_mut().take(m).zip(codes) {
                *s += step.get(usize::from(c)).copied().unwrap_or(0.0);
            }
        }
        let loss = held_out(score);
        if loss < best_loss - bar {
            best_loss = loss;
            best.clone_from(&values);
            best_score.copy_from_slice(score);
            stall = 0;
        } else {
            stall += 1;
            let all_stopped = refused.iter().all(|&k| k >= cfg.patience);
            if stall >= cfg.patience || all_stopped {
                break;
            }
        }
    }
    score.copy_from_slice(&best_score);
    best
}

/// The gradient histogram of one term over the first `m` rows: for each
/// code, the sum of `p - y` and of `p (1 - p)`. First adds the previous
/// term's step (`previous`: its codes and step) to those rows' scores, so
/// each pass over the rows does both. Two interleaved histograms (even and
/// odd rows) keep rows that fall in the same bin one after the other from
/// waiting on each other's additions.
#[allow(clippy::too_many_arguments)]
fn gradients(
    score: &mut [f64],
    y: &[f64],
    m: usize,
    codes: &[u16],
    previous: Option<(&[u16], &[f64])>,
    size: usize,
    probabilities: &mut Vec<f64>,
    lanes: &mut Vec<(f64, f64)>,
    hist: &mut Vec<(f64, f64)>,
) {
    lanes.clear();
    lanes.resize(2 * size, (0.0, 0.0));
    let score = score.get_mut(..m).unwrap_or(&mut []);
    let y = y.get(..m).unwrap_or(&[]);
    let codes = codes.get(..m).unwrap_or(&[]);
    if let Some((prev, step)) = previous {
        for (s, &pc) in score.iter_mut().zip(prev) {
            *s += step.get(usize::from(pc)).copied().unwrap_or(0.0);
        }
    }
    // Probabilities in a loop of their own, which vectorises.
    probabilities.resize(score.len(), 0.0);
    for (p, &s) in probabilities.iter_mut().zip(score.iter()) {
        *p = fast_sigmoid(s);
    }
    for (i, ((&p, &yy), &c)) in probabilities.iter().zip(y).zip(codes).enumerate() {
        if let Some(h) = lanes.get_mut(2 * usize::from(c) + (i & 1)) {
            h.0 += p - yy;
            h.1 += p * (1.0 - p);
        }
    }
    hist.clear();
    hist.extend(lanes.chunks_exact(2).map(|l| match l {
        [a, b] => (a.0 + b.0, a.1 + b.1),
        _ => (0.0, 0.0),
    }));
}

/// One boosting step of a term: the value each code moves by.
fn fit_step(cfg: &BoostedConfig, kind: TermKind, hist: &[(f64, f64)], counts: &[usize]) -> Vec<f64> {
    let lambda = cfg.step_l2;
    let leaf = |g: f64, h: f64| -cfg.learning_rate * g / (h + lambda).max(1e-12);
    let mut step = vec![0.0; hist.len()];
    let enough = |k: usize| k >= cfg.min_leaf_rows;
    if let TermKind::Cells {
        rows,
        columns,
        levels,
    } = kind
    {
        return pair_step(&cfg.step(), hist, counts, (rows, columns), levels);
    }
    // Missing values (code 0) move on their own.
    if let (Some(s), Some(&(g, h)), Some(&k)) = (step.first_mut(), hist.first(), counts.first()) {
        if enough(k) {
            *s = leaf(g, h);
        }
    }
    // The other codes in order: bin order, or levels by their current
    // error ratio; then cut into at most `max_leaves` runs.
    let mut order: Vec<usize> = (1..hist.len()).collect();
    if kind == TermKind::Levels {
        let ratio = |i: usize| hist.get(i).map_or(0.0, |&(g, h)| g / (h + lambda).max(1e-12));
        order.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)).then(a.cmp(&b)));
    }
    let stats: Vec<(f64, f64, usize)> = order
        .iter()
        .map(|&i| {
            let (g, h) = hist.get(i).copied().unwrap_or((0.0, 0.0));
            (g, h, counts.get(i).copied().unwrap_or(0))
        })
        .collect();
    let gain = |g: f64, h: f64| g * g / (h + lambda).max(1e-12);
    // Runs: [start, end) over `order`; best-first splitting.
    let mut runs = vec![(0usize, stats.len())];
    while runs.len() < cfg.max_leaves {
        let mut best: Option<(f64, usize, usize)> = None;
        for (r, &(start, end)) in runs.iter().enumerate() {
            let part = stats.get(start..end).unwrap_or(&[]);
            let (gt, ht, kt) = part
                .iter()
                .fold((0.0, 0.0, 0usize), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
            let (mut gl, mut hl, mut kl) = (0.0, 0.0, 0usize);
            for (i, s) in part.iter().enumerate().take(part.len().saturating_sub(1)) {
                gl += s.0;
                hl += s.1;
                kl += s.2;
                if !enough(kl) || !enough(kt - kl) {
                    continue;
                }
                let g = gain(gl, hl) + gain(gt - gl, ht - hl) - gain(gt, ht);
                if g > 1e-12 && best.is_none_or(|b| g > b.0) {
                    best = Some((g, r, start + i + 1));
                }
            }
        }
        let Some((_, r, cut)) = best else { break };
        if let Some(run) = runs.get_mut(r) {
            let end = run.1;
            run.1 = cut;
            runs.push((cut, end));
        }
    }
    for (start, end) in runs {
        let part = stats.get(start..end).unwrap_or(&[]);
        let (g, h, k) = part
            .iter()
            .fold((0.0, 0.0, 0usize), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
        if !enough(k) {
            continue;
        }
        let v = leaf(g, h);
        for &i in order.get(start..end).unwrap_or(&[]) {
            if let Some(s) = step.get_mut(i) {
                *s = v;
            }
        }
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BoostedConfig {
        BoostedConfig::new([Feature::numeric("x")])
    }

    #[test]
    fn a_step_cuts_ordered_bins_into_runs() {
        // Bins 1-2 err high, bins 3-4 err low: one cut between 2 and 3.
        let hist = [(0.0, 1.0), (5.0, 10.0), (5.0, 10.0), (-5.0, 10.0), (-5.0, 10.0)];
        let counts = [0, 20, 20, 20, 20];
        let step = fit_step(&cfg(), TermKind::Ordered, &hist, &counts);
        assert_eq!(step[0], 0.0, "no missing rows, no move");
        assert!(step[1] < 0.0 && step[1] == step[2]);
        assert!(step[3] > 0.0 && step[3] == step[4]);
    }

    #[test]
    fn a_step_respects_the_minimum_rows() {
        let hist = [(0.0, 0.0), (9.0, 2.0), (-1.0, 10.0)];
        let counts = [0, 3, 40];
        let step = fit_step(&cfg(), TermKind::Ordered, &hist, &counts);
        // Bin 1 has 3 rows: it cannot be a piece of its own.
        assert_eq!(step[1], step[2]);
    }
}
