//! Pair tables of the boosted card: coarse bins per attribute, the screen
//! that chooses the pairs, the step a table takes, and the centring that
//! leaves a table only the interaction.

use super::binning::{Bin, Encoded, FeatureBins, FeatureKind};
use super::linalg::sigmoid;
use super::table::Table;
use super::{PairCard, PairCell};
use crate::points::Points;

/// A feature's coarse bins for pair tables: each fine bin's coarse bin, and
/// the coarse bins themselves.
pub(super) struct Coarse {
    of_fine: Vec<u8>,
    pub(super) bins: Vec<Bin>,
}

impl Coarse {
    /// Numeric: missing, then consecutive ranges of about equal rows;
    /// categorical: missing, the most frequent levels, and the rest together
    /// as `Other`.
    pub(super) fn new(fb: &FeatureBins, rows: &[usize], pair_bins: usize) -> Coarse {
        let mut of_fine = vec![0u8; fb.len()];
        let mut bins = vec![Bin::Missing];
        match fb.feature.kind {
            FeatureKind::Numeric => {
                let ranges = pair_bins.saturating_sub(1).max(1);
                let total: usize = rows.iter().skip(1).sum();
                let target = (total as f64 / ranges as f64).max(1.0);
                let mut acc = 0usize;
                let mut lower: Option<Option<f64>> = None;
                let count = fb.bins.len();
                for (i, bin) in fb.bins.iter().enumerate().skip(1) {
                    let Bin::Range { min, max } = bin else { continue };
                    let lo = *lower.get_or_insert(*min);
                    if let Some(slot) = of_fine.get_mut(i) {
                        *slot = bins.len() as u8;
                    }
                    acc += rows.get(i).copied().unwrap_or(0);
                    let last = i + 1 == count;
                    if last || (acc as f64 >= target && bins.len() < ranges) {
                        bins.push(Bin::Range { min: lo, max: *max });
                        lower = None;
                        acc = 0;
                    }
                }
            }
            FeatureKind::Categorical => {
                // Levels are ordered most frequent first; `Other` is last.
                let keep = pair_bins.saturating_sub(2);
                let other = (keep + 1).min(fb.len().saturating_sub(1)) as u8;
                let levels = fb.len().saturating_sub(2);
                for (i, bin) in fb.bins.iter().enumerate().skip(1) {
                    let coarse = if i <= keep && i <= levels {
                        bins.push(bin.clone());
                        (bins.len() - 1) as u8
                    } else {
                        other
                    };
                    if let Some(slot) = of_fine.get_mut(i) {
                        *slot = coarse;
                    }
                }
                bins.push(Bin::Other);
            }
        }
        Coarse { of_fine, bins }
    }

    pub(super) fn len(&self) -> usize {
        self.bins.len()
    }

    /// Whether the feature's bins are levels (a categorical feature, whose
    /// coarse bins end with `Other`).
    pub(super) fn levels(&self) -> bool {
        matches!(self.bins.last(), Some(Bin::Other))
    }

    pub(super) fn of(&self, fine: u16) -> usize {
        usize::from(self.of_fine.get(usize::from(fine)).copied().unwrap_or(0))
    }
}

/// What a boosting step may do: its learning rate, its L2 penalty and the
/// fewest fitting rows a piece needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    pub(super) learning_rate: f64,
    pub(super) l2: f64,
    pub(super) min_leaf_rows: usize,
}

/// A bag's rows as the pair screen reads them: the first `m` are the
/// fitting rows, the rest held out.
pub(super) struct Rows<'a> {
    pub(super) m: usize,
    /// 1.0 for converted rows.
    pub(super) y: &'a [f64],
    /// Every row's log-odds so far.
    pub(super) score: &'a [f64],
    /// Per feature, every row's bin.
    pub(super) codes: Vec<&'a [u16]>,
}

/// A pair table: `values[a * len(g) + b]` for coarse bins `a` of feature
/// `f` and `b` of feature `g`.
pub(super) struct PairTable {
    pub(super) features: (usize, usize),
    pub(super) values: Vec<f64>,
}

impl PairTable {
    /// The cell of each of some rows.
    pub(super) fn cells<'a>(
        &'a self,
        table: &'a Table,
        coarse: &'a [Coarse],
        rows: std::ops::Range<usize>,
    ) -> impl Iterator<Item = usize> + 'a {
        let (f, g) = self.features;
        let (cf, cg) = (coarse.get(f), coarse.get(g));
        let width = cg.map_or(1, Coarse::len);
        let a = table.column(f).get(rows.clone()).unwrap_or(&[]);
        let b = table.column(g).get(rows).unwrap_or(&[]);
        a.iter()
            .zip(b)
            .map(move |(&x, &y)| cf.map_or(0, |c| c.of(x)) * width + cg.map_or(0, |c| c.of(y)))
    }
}

/// A pair table's step, as explainable boosting machines fit one: a cut on
/// one attribute's bins, then on each side a cut on the other's (at most
/// four pieces), the attribute cut first being whichever fits the errors
/// better. Levels are ordered by their errors first.
pub(super) fn pair_step(
    cfg: &Step,
    hist: &[(f64, f64)],
    counts: &[usize],
    (rows, columns): (usize, usize),
    levels: (bool, bool),
) -> Vec<f64> {
    let lambda = cfg.l2;
    let gain = |s: Sums| s.0 * s.0 / (s.1 + lambda).max(1e-12);
    let enough = |s: Sums| s.2 >= cfg.min_leaf_rows;
    let at = |i: usize, j: usize| -> Sums {
        let k = i * columns + j;
        let (g, h) = hist.get(k).copied().unwrap_or((0.0, 0.0));
        (g, h, counts.get(k).copied().unwrap_or(0))
    };
    let order = |n: usize, levels: bool, sum: &dyn Fn(usize) -> Sums| -> Vec<usize> {
        let mut o: Vec<usize> = (0..n).collect();
        if levels {
            let ratio = |i: usize| {
                let s = sum(i);
                s.0 / (s.1 + lambda).max(1e-12)
            };
            o.sort_by(|&x, &y| ratio(x).total_cmp(&ratio(y)).then(x.cmp(&y)));
        }
        o
    };
    let row_sum = |i: usize| (0..columns).map(|j| at(i, j)).fold(ZERO, plus);
    let column_sum = |j: usize| (0..rows).map(|i| at(i, j)).fold(ZERO, plus);
    let order_rows = order(rows, levels.0, &row_sum);
    let order_columns = order(columns, levels.1, &column_sum);
    // Best split of a run of sums into two runs, or none.
    let best_cut = |sums: &[Sums]| -> (f64, Option<usize>) {
        let total = sums.iter().copied().fold(ZERO, plus);
        let mut best = (gain(total), None);
        let mut left = ZERO;
        for (q, &s) in sums.iter().enumerate().take(sums.len().saturating_sub(1)) {
            left = plus(left, s);
            let right = minus(total, left);
            if enough(left) && enough(right) {
                let g = gain(left) + gain(right);
                if g > best.0 + 1e-12 {
                    best = (g, Some(q + 1));
                }
            }
        }
        best
    };
    // (score, first axis is rows, first cut, second cuts of each side)
    let mut best: Option<(f64, bool, usize, Cut, Cut)> = None;
    for rows_first in [true, false] {
        let (first, second) = if rows_first {
            (&order_rows, &order_columns)
        } else {
            (&order_columns, &order_rows)
        };
        let cell = |x: usize, y: usize| if rows_first { at(x, y) } else { at(y, x) };
        for p in 1..first.len() {
            let side = |part: &[usize]| -> Vec<Sums> {
                second
                    .iter()
                    .map(|&y| part.iter().map(|&x| cell(x, y)).fold(ZERO, plus))
                    .collect()
            };
            let (lo, hi) = first.split_at(p);
            let (sl, sh) = (side(lo), side(hi));
            let (tl, th) = (
                sl.iter().copied().fold(ZERO, plus),
                sh.iter().copied().fold(ZERO, plus),
            );
            if !enough(tl) || !enough(th) {
                continue;
            }
            let ((gl, cl), (gh, ch)) = (best_cut(&sl), best_cut(&sh));
            if best.is_none_or(|b| gl + gh > b.0 + 1e-12) {
                best = Some((gl + gh, rows_first, p, cl, ch));
            }
        }
    }
    let mut step = vec![0.0; hist.len()];
    let Some((_, rows_first, p, cl, ch)) = best else {
        return step;
    };
    let (first, second) = if rows_first {
        (&order_rows, &order_columns)
    } else {
        (&order_columns, &order_rows)
    };
    let index = |x: usize, y: usize| {
        if rows_first {
            x * columns + y
        } else {
            y * columns + x
        }
    };
    let (lo, hi) = first.split_at(p);
    for (part, cut) in [(lo, cl), (hi, ch)] {
        let pieces: Vec<&[usize]> = match cut {
            Some(q) => {
                let (a, b) = second.split_at(q);
                vec![a, b]
            }
            None => vec![second.as_slice()],
        };
        for piece in pieces {
            let mut sum = ZERO;
            for &x in part {
                for &y in piece {
                    sum = plus(sum, if rows_first { at(x, y) } else { at(y, x) });
                }
            }
            let v = -cfg.learning_rate * sum.0 / (sum.1 + lambda).max(1e-12);
            for &x in part {
                for &y in piece {
                    if let Some(s) = step.get_mut(index(x, y)) {
                        *s = v;
                    }
                }
            }
        }
    }
    step
}

/// Gradient, Hessian and row sums.
type Sums = (f64, f64, usize);

/// Where a run of bins is cut in two, if it is.
type Cut = Option<usize>;

const ZERO: Sums = (0.0, 0.0, 0);

fn plus(a: Sums, b: Sums) -> Sums {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

fn minus(a: Sums, b: Sums) -> Sums {
    (a.0 - b.0, a.1 - b.1, a.2.saturating_sub(b.2))
}

/// The pairs worth a table. For every pair of features: the errors of the
/// fitting rows on the pair's coarse cells give a full step of the kind
/// boosting takes (at most four pieces, see [`pair_step`]); the pair's
/// worth is how much that step lowers the log loss of the held-out rows (to
/// second order). Pairs that lower it are kept, the `cfg.pairs` largest
/// gains, largest first. Judging on rows the step was not fitted to keeps
/// pairs that only fit noise out.
pub(super) fn screen(
    pairs: usize,
    cfg: &Step,
    bag: &Rows<'_>,
    coarse: &[Coarse],
) -> Vec<(f64, usize, usize)> {
    let mut found: Vec<(f64, usize, usize)> = Vec::new();
    if pairs == 0 {
        return found;
    }
    let grad: Vec<(f64, f64)> = bag
        .score
        .iter()
        .zip(bag.y)
        .map(|(&z, &y)| {
            let p = sigmoid(z);
            (p - y, p * (1.0 - p))
        })
        .collect();
    let full = Step {
        learning_rate: 1.0,
        ..*cfg
    };
    let coarse_codes: Vec<Vec<u8>> = bag
        .codes
        .iter()
        .zip(coarse)
        .map(|(codes, cf)| codes.iter().map(|&c| cf.of(c) as u8).collect())
        .collect();
    let features = bag.codes.len().min(coarse.len());
    for f in 0..features {
        for g in f + 1..features {
            let (Some(cf), Some(cg)) = (coarse.get(f), coarse.get(g)) else {
                continue;
            };
            let (Some(xf), Some(xg)) = (coarse_codes.get(f), coarse_codes.get(g)) else {
                continue;
            };
            let (a, b) = (cf.len(), cg.len());
            let mut fitting = vec![(0.0f64, 0.0f64); a * b];
            let mut held = vec![(0.0f64, 0.0f64); a * b];
            let mut counts = vec![0usize; a * b];
            for (r, ((&i, &j), &(gr, he))) in xf.iter().zip(xg).zip(&grad).enumerate() {
                let k = usize::from(i) * b + usize::from(j);
                let sums = if r < bag.m {
                    if let Some(c) = counts.get_mut(k) {
                        *c += 1;
                    }
                    fitting.get_mut(k)
                } else {
                    held.get_mut(k)
                };
                if let Some(c) = sums {
                    c.0 += gr;
                    c.1 += he;
                }
            }
            let mut step = pair_step(&full, &fitting, &counts, (a, b), (cf.levels(), cg.levels()));
            // Only what the step does beyond each attribute on its own.
            let weights: Vec<f64> = fitting.iter().map(|c| c.1).collect();
            double_centre(&mut step, &weights, (a, b));
            let gain: f64 = step
                .iter()
                .zip(&held)
                .map(|(&v, &(gr, he))| -(gr * v + 0.5 * he * v * v))
                .sum();
            found.push((gain, f, g));
        }
    }
    found
}

/// Removes from a table of `rows × columns` values its weighted row and
/// column means (alternately, until they vanish), returning what moved out
/// of each row and each column.
fn double_centre(
    values: &mut [f64],
    weights: &[f64],
    (rows, columns): (usize, usize),
) -> (Vec<f64>, Vec<f64>) {
    let w = |i: usize, j: usize| weights.get(i * columns + j).copied().unwrap_or(0.0);
    let v = |values: &[f64], i: usize, j: usize| values.get(i * columns + j).copied().unwrap_or(0.0);
    let mut moved_rows = vec![0.0; rows];
    let mut moved_columns = vec![0.0; columns];
    for _ in 0..20 {
        for (i, moved) in moved_rows.iter_mut().enumerate() {
            let total: f64 = (0..columns).map(|j| w(i, j)).sum();
            if total > 0.0 {
                let mean = (0..columns).map(|j| w(i, j) * v(values, i, j)).sum::<f64>() / total;
                for j in 0..columns {
                    if let Some(x) = values.get_mut(i * columns + j) {
                        *x -= mean;
                    }
                }
                *moved += mean;
            }
        }
        for (j, moved) in moved_columns.iter_mut().enumerate() {
            let total: f64 = (0..rows).map(|i| w(i, j)).sum();
            if total > 0.0 {
                let mean = (0..rows).map(|i| w(i, j) * v(values, i, j)).sum::<f64>() / total;
                for i in 0..rows {
                    if let Some(x) = values.get_mut(i * columns + j) {
                        *x -= mean;
                    }
                }
                *moved += mean;
            }
        }
    }
    (moved_rows, moved_columns)
}

/// Centres each pair table on the training rows (each row's and column's
/// row-weighted mean moves into the feature's own shape, so the table holds
/// only the interaction), then moves the `Other` row and column of a
/// categorical feature into its shape too (`Other` has no rule form), and
/// returns the tables as cards. Every training row's log-odds is unchanged.
pub(super) fn centre(
    table: &Table,
    coarse: &[Coarse],
    mains: &mut [Vec<f64>],
    pairs: &mut [PairTable],
    enc: &Encoded,
) -> Vec<PairCard> {
    let mut cards = Vec::with_capacity(pairs.len());
    for pair in pairs.iter_mut() {
        let (f, g) = pair.features;
        let (Some(cf), Some(cg)) = (coarse.get(f), coarse.get(g)) else {
            continue;
        };
        let (a, b) = (cf.len(), cg.len());
        let mut rows = vec![(0usize, 0usize); a * b];
        for (cell, &y) in pair.cells(table, coarse, 0..table.n).zip(&table.y) {
            if let Some(r) = rows.get_mut(cell) {
                r.0 += 1;
                r.1 += usize::from(y > 0.5);
            }
        }
        let weights: Vec<f64> = rows.iter().map(|r| r.0 as f64).collect();
        let values = &mut pair.values;
        let (mut moves_f, mut moves_g) = double_centre(values, &weights, (a, b));
        // `Other` rows and columns have no rule form: move them too.
        if cf.levels() {
            clear(values, (a, b), Line::Row(a - 1), &mut moves_g);
        }
        if cg.levels() {
            clear(values, (a, b), Line::Column(b - 1), &mut moves_f);
        }
        // Each coarse bin's move goes to every fine bin in it.
        for (fi, moves, c) in [(f, &moves_f, cf), (g, &moves_g, cg)] {
            if let Some(shape) = mains.get_mut(fi) {
                for (fine, v) in shape.iter_mut().enumerate() {
                    *v += moves.get(c.of(fine as u16)).copied().unwrap_or(0.0);
                }
            }
        }
        let cells = (0..a * b)
            .filter_map(|k| {
                let weight = values.get(k).copied().unwrap_or(0.0);
                let (train_rows, train_positives) = rows.get(k).copied().unwrap_or((0, 0));
                (weight != 0.0).then_some(PairCell {
                    at: [k / b, k % b],
                    points: Points::ZERO,
                    weight,
                    train_rows,
                    train_positives,
                })
            })
            .collect();
        let feature = |i: usize| enc.bins.get(i).map(|fb| fb.feature.clone());
        if let (Some(ff), Some(fg)) = (feature(f), feature(g)) {
            cards.push(PairCard {
                features: [ff, fg],
                bins: [cf.bins.clone(), cg.bins.clone()],
                cells,
            });
        }
    }
    cards
}

/// A row or a column of a table.
#[derive(Debug, Clone, Copy)]
enum Line {
    Row(usize),
    Column(usize),
}

/// Zeroes a row (or column) of a `rows × columns` table without changing
/// any row's total: each of its values is taken from its whole column (or
/// row) and added to that column's (or row's) move.
fn clear(values: &mut [f64], (rows, columns): (usize, usize), line: Line, moves: &mut [f64]) {
    let (count, along) = match line {
        Line::Row(_) => (columns, rows),
        Line::Column(_) => (rows, columns),
    };
    let at = |k: usize, other: usize| match line {
        Line::Row(i) => (i * columns + k, other * columns + k),
        Line::Column(j) => (k * columns + j, k * columns + other),
    };
    for k in 0..count {
        let v = values.get(at(k, 0).0).copied().unwrap_or(0.0);
        if let Some(m) = moves.get_mut(k) {
            *m += v;
        }
        for other in 0..along {
            if let Some(x) = values.get_mut(at(k, other).1) {
                *x -= v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuning::{BoostedConfig, Feature};

    #[test]
    fn centring_moves_means_out_and_keeps_every_cell() {
        let original = [1.0, 2.0, 3.0, 5.0, 4.0, 9.0];
        let weights = [1.0, 2.0, 1.0, 3.0, 1.0, 1.0];
        let mut values = original;
        let (rows, columns) = double_centre(&mut values, &weights, (2, 3));
        for i in 0..2 {
            let mean: f64 = (0..3).map(|j| weights[i * 3 + j] * values[i * 3 + j]).sum();
            assert!(mean.abs() < 1e-9, "row {i}: {mean}");
            for j in 0..3 {
                let back = values[i * 3 + j] + rows[i] + columns[j];
                assert!((back - original[i * 3 + j]).abs() < 1e-12);
            }
        }
        for j in 0..3 {
            let mean: f64 = (0..2).map(|i| weights[i * 3 + j] * values[i * 3 + j]).sum();
            assert!(mean.abs() < 1e-9, "column {j}: {mean}");
        }
        // Clearing the last row moves it into the columns, cell totals kept.
        let before = values;
        let mut moves = [0.0; 3];
        clear(&mut values, (2, 3), Line::Row(1), &mut moves);
        for i in 0..2 {
            for j in 0..3 {
                assert!((values[i * 3 + j] + moves[j] - before[i * 3 + j]).abs() < 1e-12);
            }
        }
        assert!(values[3..].iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn a_pair_step_has_at_most_four_pieces() {
        // A 3 × 3 table whose errors differ only in the top-right corner.
        let mut hist = vec![(0.0, 10.0); 9];
        hist[2] = (8.0, 10.0);
        let counts = vec![40; 9];
        let cfg = BoostedConfig::new([Feature::numeric("x")]).step();
        let step = pair_step(&cfg, &hist, &counts, (3, 3), (false, false));
        let mut distinct: Vec<f64> = step.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() <= 4, "{step:?}");
        // The corner cell moves down the most (its error is positive).
        assert!(step.iter().all(|&v| v >= step[2]));
        assert!(step[2] < 0.0);
    }
}
