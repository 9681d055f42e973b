//! L2-regularised logistic regression on one-hot bins, by damped Newton
//! steps with a backtracking line search.
//!
//! Each row activates exactly one bin per feature, so the Hessian is
//! accumulated from `width²` entries per row instead of a dense product, and
//! solved by a Cholesky factorisation. Every step is checked: the objective
//! must decrease (Armijo condition, halving the step until it does), the
//! factorisation must succeed with a bounded condition estimate, and the fit
//! stops only when the Newton decrement says the objective is within a
//! relative `1e-10` of its minimum. Anything else is a typed error, never a
//! model. Deterministic, f64 throughout.

use super::TuningError;

/// A fitted logistic model over one-hot columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Logistic {
    pub(crate) intercept: f64,
    pub(crate) weights: Vec<f64>,
    /// Newton steps taken.
    pub(crate) iterations: usize,
}

/// Numerically safe logistic function.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The logistic function by a fast, branch-free `exp` (see [`fast_exp`]):
/// for the inner loops of boosting, where only gradients depend on it.
pub(crate) fn fast_sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + fast_exp(-z))
}

/// `e^x` to a relative `1e-10`, without branches or library calls,
/// identical on every platform: `x = k·ln 2 + r` with `|r| <= ln 2 / 2`, a
/// degree-9 Taylor polynomial for `e^r`, and `2^k` written into the exponent
/// bits. Clamped to `[-708, 709]` (so the result is a normal, finite
/// number).
pub(crate) fn fast_exp(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding and subtracting 1.5 · 2^52 rounds to the nearest integer.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    // t holds k = round(x / ln 2) in its low bits; no float-to-integer
    // conversion, so loops of this vectorise.
    let t = x * std::f64::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Horner's rule on 1 + r + r²/2! + ... + r⁹/9!, by the reciprocals.
    const C: [f64; 8] = [
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let [c9, c8, c7, c6, c5, c4, c3, c2] = C;
    let p =
        ((((((((c9 * r + c8) * r + c7) * r + c6) * r + c5) * r + c4) * r + c3) * r + c2) * r + 1.0) * r + 1.0;
    // The low bits of t are 2^51 + k, with k within [-1022, 1023]: adding
    // the bias and shifting leaves the exponent bits of 2^k.
    p * f64::from_bits(t.to_bits().wrapping_add(1023) << 52)
}

/// `log(1 + exp(z))` without overflow.
pub(crate) fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// The log loss of one row at log-odds `z`: `-ln p` if converted, else
/// `-ln (1 - p)`.
pub(crate) fn row_loss(z: f64, y: bool) -> f64 {
    softplus(z) - if y { z } else { 0.0 }
}

fn get(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0.0)
}

fn add(v: &mut [f64], i: usize, x: f64) {
    if let Some(s) = v.get_mut(i) {
        *s += x;
    }
}

/// The largest condition estimate (squared ratio of the largest to the
/// smallest Cholesky pivot) a fit accepts. Beyond it the solution is
/// dominated by rounding: the columns are (nearly) collinear and the penalty
/// too weak to tell them apart.
const MAX_CONDITION: f64 = 1e12;

/// Relative objective accuracy at which the fit stops.
const TOLERANCE: f64 = 1e-10;

/// The problem: rows of one-hot columns and their labels.
struct Problem<'a> {
    rows: &'a [u32],
    width: usize,
    labels: &'a [bool],
    l2: f64,
    /// Parameters: the intercept, then one weight per column.
    d: usize,
}

impl Problem<'_> {
    fn rows(&self) -> impl Iterator<Item = (&[u32], bool)> {
        self.rows
            .chunks_exact(self.width.max(1))
            .zip(self.labels.iter().copied())
    }

    fn logit(theta: &[f64], cols: &[u32]) -> f64 {
        get(theta, 0) + cols.iter().map(|&c| get(theta, c as usize + 1)).sum::<f64>()
    }

    /// The penalised objective.
    fn objective(&self, theta: &[f64]) -> f64 {
        let loss: f64 = self
            .rows()
            .map(|(cols, y)| row_loss(Self::logit(theta, cols), y))
            .sum();
        let penalty: f64 = theta.iter().skip(1).map(|w| w * w).sum();
        loss + 0.5 * self.l2 * penalty
    }

    /// The gradient and, when asked, the full (mirrored) Hessian of the
    /// objective.
    fn derivatives(&self, theta: &[f64], grad: &mut [f64], hess: Option<&mut [f64]>) {
        let d = self.d;
        grad.iter_mut().for_each(|g| *g = 0.0);
        let Some(hess) = hess else {
            for (cols, y) in self.rows() {
                let r = sigmoid(Self::logit(theta, cols)) - f64::from(u8::from(y));
                add(grad, 0, r);
                for &c in cols {
                    add(grad, c as usize + 1, r);
                }
            }
            for j in 1..d {
                add(grad, j, self.l2 * get(theta, j));
            }
            return;
        };
        hess.iter_mut().for_each(|h| *h = 0.0);
        for (cols, y) in self.rows() {
            let p = sigmoid(Self::logit(theta, cols));
            let r = p - f64::from(u8::from(y));
            let w = (p * (1.0 - p)).max(1e-12);
            debug_assert!(cols.is_sorted(), "columns increase along a row");
            add(grad, 0, r);
            add(hess, 0, w);
            let mut rest = cols;
            while let Some((&ca, tail)) = rest.split_first() {
                let ia = ca as usize + 1;
                add(grad, ia, r);
                add(hess, ia, w); // row 0, column ia (upper triangle)
                // Columns increase along a row (feature offsets increase), so
                // (ia, ib) is already in the upper triangle.
                if let Some(row) = hess.get_mut(ia * d + 1..(ia + 1) * d) {
                    add(row, ca as usize, w);
                    for &cb in tail {
                        add(row, cb as usize, w);
                    }
                }
                rest = tail;
            }
        }
        for j in 1..d {
            add(grad, j, self.l2 * get(theta, j));
            add(hess, j * d + j, self.l2);
        }
        for i in 0..d {
            for j in 0..i {
                let v = get(hess, j * d + i);
                if let Some(s) = hess.get_mut(i * d + j) {
                    *s = v;
                }
            }
        }
    }
}

/// Fits `P(y) = sigmoid(b + Σ w[col])` over `rows` (`width` column indices per
/// row, strictly increasing along a row, each below `columns`) minimising the
/// log loss plus `l2/2 · |w|²` (the intercept is not penalised), starting
/// from `start` when given (a fit of the same columns, for example at a
/// neighbouring `l2`).
///
/// # Errors
///
/// [`TuningError::IllConditioned`] when the Hessian cannot be factorised
/// reliably, [`TuningError::NotConverged`] when `max_iter` steps do not reach
/// the optimum, [`TuningError::Diverged`] on a non-finite objective.
pub(crate) fn fit_logistic(
    rows: &[u32],
    width: usize,
    columns: usize,
    labels: &[bool],
    l2: f64,
    max_iter: usize,
    start: Option<&Logistic>,
) -> Result<Logistic, TuningError> {
    let d = columns + 1;
    let problem = Problem {
        rows,
        width,
        labels,
        l2,
        d,
    };
    let mut theta = vec![0.0; d];
    match start.filter(|s| s.weights.len() == columns) {
        Some(s) => {
            if let Some(b) = theta.first_mut() {
                *b = s.intercept;
            }
            for (t, &w) in theta.iter_mut().skip(1).zip(&s.weights) {
                *t = w;
            }
        }
        None => {
            // Start the intercept at the prior log-odds.
            let pos = labels.iter().filter(|&&y| y).count() as f64;
            let n = labels.len() as f64;
            if let Some(b) = theta.first_mut() {
                *b = ((pos + 0.5) / (n - pos + 0.5)).ln();
            }
        }
    }
    let mut objective = problem.objective(&theta);
    let mut hess = vec![0.0; d * d];
    let mut grad = vec![0.0; d];
    let mut next = vec![0.0; d];
    // Near the optimum the Hessian barely changes: once a full step is
    // small, the last factorisation is reused (a chord step: only the
    // gradient is recomputed, a tenth of the work). The line search guards
    // every step either way, and a step the chord cannot make is retried
    // with a fresh Hessian.
    let mut fresh = true;
    let mut iteration = 0;
    while iteration < max_iter.max(1) {
        if !objective.is_finite() {
            return Err(TuningError::Diverged { iteration, l2 });
        }
        if fresh {
            problem.derivatives(&theta, &mut grad, Some(&mut hess));
            let condition = cholesky(&mut hess, d).ok_or(TuningError::IllConditioned {
                condition: f64::INFINITY,
                l2,
            })?;
            if condition > MAX_CONDITION {
                return Err(TuningError::IllConditioned { condition, l2 });
            }
        } else {
            problem.derivatives(&theta, &mut grad, None);
        }
        let step = solve_factored(&hess, &grad, d).ok_or(TuningError::Diverged { iteration, l2 })?;
        // The Newton decrement: half of it estimates the distance to the
        // minimum of the objective.
        let decrement: f64 = grad.iter().zip(&step).map(|(g, s)| g * s).sum();
        if !decrement.is_finite() {
            return Err(TuningError::Diverged { iteration, l2 });
        }
        if decrement / 2.0 <= TOLERANCE * (1.0 + objective.abs()) {
            return Ok(finish(theta, iteration));
        }
        iteration += 1;
        // Backtracking: halve the step until the objective falls enough.
        let mut t = 1.0;
        let accepted = loop {
            for ((n, th), s) in next.iter_mut().zip(&theta).zip(&step) {
                *n = th - t * s;
            }
            let trial = problem.objective(&next);
            if trial.is_finite() && trial <= objective - 1e-4 * t * decrement {
                objective = trial;
                std::mem::swap(&mut theta, &mut next);
                break true;
            }
            t *= 0.5;
            if t < 1e-12 {
                break false;
            }
        };
        if !accepted {
            if !fresh {
                fresh = true;
                continue;
            }
            // No decrease along a Newton direction: rounding has the last
            // word, so the objective is as low as f64 can tell.
            if decrement / 2.0 <= 1e-6 * (1.0 + objective.abs()) {
                return Ok(finish(theta, iteration));
            }
            return Err(TuningError::NotConverged {
                iterations: iteration,
                gap: decrement / 2.0,
                l2,
            });
        }
        let largest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        fresh = t < 1.0 || largest > 0.05;
    }
    // Out of steps: converged only if nothing is left to gain.
    problem.derivatives(&theta, &mut grad, Some(&mut hess));
    let iterations = max_iter.max(1);
    let factored = cholesky(&mut hess, d).is_some();
    match solve_factored(&hess, &grad, d).filter(|_| factored) {
        Some(step) => {
            let gap = grad.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>() / 2.0;
            if gap <= TOLERANCE * (1.0 + objective.abs()) {
                Ok(finish(theta, iterations))
            } else {
                Err(TuningError::NotConverged { iterations, gap, l2 })
            }
        }
        None => Err(TuningError::IllConditioned {
            condition: f64::INFINITY,
            l2,
        }),
    }
}

fn finish(theta: Vec<f64>, iterations: usize) -> Logistic {
    let intercept = get(&theta, 0);
    let weights = theta.get(1..).unwrap_or(&[]).to_vec();
    Logistic {
        intercept,
        weights,
        iterations,
    }
}

/// A dot product with four independent accumulators, so the additions
/// pipeline (and vectorise); the order is fixed, so results are reproducible.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((s, p), q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(p, q)| p * q)
        .sum();
    let [a0, a1, a2, a3] = acc;
    (a0 + a1) + (a2 + a3) + tail
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major `d×d`,
/// overwritten by its Cholesky factor). `None` when `A` is not positive
/// definite.
#[cfg(test)]
fn solve_spd(a: &mut [f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    cholesky(a, d)?;
    solve_factored(a, b, d)
}

/// Overwrites the lower triangle of a symmetric positive definite `A`
/// (row-major `d×d`) with its Cholesky factor `L`, and returns the condition
/// estimate `(max Lᵢᵢ / min Lᵢᵢ)²` (a lower bound of the condition number).
/// `None` when `A` is not positive definite.
fn cholesky(a: &mut [f64], d: usize) -> Option<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for j in 0..d {
        let (head, tail) = a.split_at_mut_checked((j + 1) * d)?;
        let row_j = head.get(j * d..j * d + j)?;
        let s = head.get(j * d + j)? - dot(row_j, row_j);
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let ljj = s.sqrt();
        lo = lo.min(ljj);
        hi = hi.max(ljj);
        for row_i in tail.chunks_exact_mut(d) {
            let (prefix, rest) = row_i.split_at_mut_checked(j)?;
            let v = rest.first_mut()?;
            *v = (*v - dot(prefix, row_j)) / ljj;
        }
        *head.get_mut(j * d + j)? = ljj;
    }
    Some(if d == 0 { 1.0 } else { (hi / lo).powi(2) })
}

/// Solves `L Lᵀ x = b` with the factor left by [`cholesky`].
fn solve_factored(a: &[f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    // Forward: L y = b.
    let mut y = vec![0.0; d];
    for i in 0..d {
        let row = a.get(i * d..i * d + i)?;
        let known = y.get(..i)?;
        *y.get_mut(i)? = (get(b, i) - dot(row, known)) / get(a, i * d + i);
    }
    // Backward: Lᵀ x = y.
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        let dot: f64 = (i + 1..d).map(|k| get(a, k * d + i) * get(&x, k)).sum();
        *x.get_mut(i)? = (get(&y, i) - dot) / get(a, i * d + i);
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_accurate() {
        let mut x = -700.0;
        while x < 700.0 {
            let (a, b) = (fast_exp(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-10, "{x}: {a} vs {b}");
            x += 0.37;
        }
        assert_eq!(fast_exp(0.0), 1.0);
        assert!(fast_exp(-1e9) > 0.0 && fast_exp(1e9).is_finite());
        assert!((fast_sigmoid(0.0) - 0.5).abs() < 1e-16);
    }

    #[test]
    fn solves_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&mut a, &[2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }

    fn binary_feature() -> (Vec<u32>, Vec<bool>) {
        // Column 0: 30 rows with 20 positives; column 1: 70 rows with 7 positives.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100 {
            rows.push(if i < 30 { 0 } else { 1 });
            labels.push(if i < 30 { i < 20 } else { i < 37 });
        }
        (rows, labels)
    }

    #[test]
    fn recovers_log_odds_of_a_single_binary_feature() {
        let (rows, labels) = binary_feature();
        let m = fit_logistic(&rows, 1, 2, &labels, 1e-6, 50, None).unwrap();
        let lo0 = m.intercept + m.weights[0];
        let lo1 = m.intercept + m.weights[1];
        assert!((lo0 - (20.0f64 / 10.0).ln()).abs() < 1e-4, "{lo0}");
        assert!((lo1 - (7.0f64 / 63.0).ln()).abs() < 1e-4, "{lo1}");
    }

    #[test]
    fn a_warm_start_reaches_the_same_optimum() {
        let (rows, labels) = binary_feature();
        let cold = fit_logistic(&rows, 1, 2, &labels, 1.0, 50, None).unwrap();
        let near = fit_logistic(&rows, 1, 2, &labels, 3.0, 50, None).unwrap();
        let warm = fit_logistic(&rows, 1, 2, &labels, 1.0, 50, Some(&near)).unwrap();
        assert!((cold.intercept - warm.intercept).abs() < 1e-6);
        assert!(warm.iterations <= cold.iterations);
    }

    #[test]
    fn separable_data_with_a_tiny_penalty_stays_finite_or_fails_typed() {
        // Column 0 only converted leads, column 1 only unconverted ones.
        let rows: Vec<u32> = (0..200).map(|i| u32::from(i >= 100)).collect();
        let labels: Vec<bool> = (0..200).map(|i| i < 100).collect();
        for l2 in [1.0, 1e-3, 1e-9] {
            match fit_logistic(&rows, 1, 2, &labels, l2, 100, None) {
                Ok(m) => {
                    assert!(m.weights.iter().all(|w| w.is_finite()), "l2 {l2}");
                    // The penalty alone bounds the weights: 100 (1 - p) = l2 w.
                    assert!(m.weights[0] > 0.0 && m.weights[1] < 0.0);
                }
                Err(e) => assert!(
                    matches!(
                        e,
                        TuningError::NotConverged { .. } | TuningError::IllConditioned { .. }
                    ),
                    "l2 {l2}: {e}"
                ),
            }
        }
    }

    #[test]
    fn the_condition_estimate_flags_near_singular_systems() {
        let mut a = vec![1.0, 0.0, 0.0, 1e-14];
        let c = cholesky(&mut a, 2).unwrap();
        assert!(c > MAX_CONDITION);
        let mut b = vec![2.0, 1.0, 1.0, 2.0];
        assert!(cholesky(&mut b, 2).unwrap() < 10.0);
    }
}
