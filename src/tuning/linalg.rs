//! L2-regularised logistic regression on one-hot bins, by Newton's method.
//!
//! Each row activates exactly one bin per feature, so the Hessian is
//! accumulated from `width²` entries per row instead of a dense product, and
//! solved by a Cholesky factorisation. Deterministic, f64 throughout.

use super::TuningError;

/// A fitted logistic model over one-hot columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Logistic {
    pub(crate) intercept: f64,
    pub(crate) weights: Vec<f64>,
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

/// `log(1 + exp(z))` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn get(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0.0)
}

fn add(v: &mut [f64], i: usize, x: f64) {
    if let Some(s) = v.get_mut(i) {
        *s += x;
    }
}

/// Fits `P(y) = sigmoid(b + Σ w[col])` over `rows` (`width` column indices per
/// row, strictly increasing along a row, each below `columns`) minimising the log loss plus `l2/2 · |w|²`
/// (the intercept is not penalised).
pub(crate) fn fit_logistic(
    rows: &[u32],
    width: usize,
    columns: usize,
    labels: &[bool],
    l2: f64,
    max_iter: usize,
) -> Result<Logistic, TuningError> {
    let d = columns + 1;
    let mut theta = vec![0.0; d];
    // Start the intercept at the prior log-odds.
    let pos = labels.iter().filter(|&&y| y).count() as f64;
    let n = labels.len() as f64;
    if let Some(b) = theta.first_mut() {
        *b = ((pos + 0.5) / (n - pos + 0.5)).ln();
    }
    let mut objective = f64::INFINITY;
    let mut hess = vec![0.0; d * d];
    let mut grad = vec![0.0; d];
    // Near the optimum the Hessian barely changes: once a step is small, the
    // last factorisation is reused (a chord step) and only the gradient is
    // recomputed, which costs a tenth of a Newton iteration.
    let mut fresh = true;
    for iteration in 0..max_iter.max(1) {
        if fresh {
            hess.iter_mut().for_each(|h| *h = 0.0);
        }
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for (cols, &y) in rows.chunks_exact(width.max(1)).zip(labels) {
            let z = get(&theta, 0) + cols.iter().map(|&c| get(&theta, c as usize + 1)).sum::<f64>();
            let p = sigmoid(z);
            loss += softplus(z) - if y { z } else { 0.0 };
            let r = p - f64::from(u8::from(y));
            add(&mut grad, 0, r);
            if !fresh {
                for &c in cols {
                    add(&mut grad, c as usize + 1, r);
                }
                continue;
            }
            let w = (p * (1.0 - p)).max(1e-12);
            debug_assert!(cols.is_sorted(), "columns increase along a row");
            add(&mut hess, 0, w);
            for (a, &ca) in cols.iter().enumerate() {
                let ia = ca as usize + 1;
                add(&mut grad, ia, r);
                add(&mut hess, ia, w); // row 0, column ia (upper triangle)
                // Columns increase along a row (feature offsets increase), so
                // (ia, ib) is already in the upper triangle.
                if let Some(row) = hess.get_mut(ia * d..(ia + 1) * d) {
                    for &cb in cols.get(a..).unwrap_or(&[]) {
                        if let Some(h) = row.get_mut(cb as usize + 1) {
                            *h += w;
                        }
                    }
                }
            }
        }
        for j in 1..d {
            let wj = get(&theta, j);
            loss += 0.5 * l2 * wj * wj;
            add(&mut grad, j, l2 * wj);
            if fresh {
                add(&mut hess, j * d + j, l2);
            }
        }
        if !loss.is_finite() {
            return Err(TuningError::Diverged { iteration, l2 });
        }
        // Converged when the objective stops moving.
        if (objective - loss).abs() <= 1e-10 * (1.0 + loss.abs()) {
            break;
        }
        objective = loss;
        if fresh {
            // Mirror the upper triangle, then factorise in place.
            for i in 0..d {
                for j in 0..i {
                    let v = get(&hess, j * d + i);
                    if let Some(s) = hess.get_mut(i * d + j) {
                        *s = v;
                    }
                }
            }
            cholesky(&mut hess, d).ok_or(TuningError::Diverged { iteration, l2 })?;
        }
        let step = solve_factored(&hess, &grad, d).ok_or(TuningError::Diverged { iteration, l2 })?;
        let mut max_step: f64 = 0.0;
        for (t, s) in theta.iter_mut().zip(&step) {
            *t -= s;
            max_step = max_step.max(s.abs());
        }
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(TuningError::Diverged { iteration, l2 });
        }
        // Newton converges quadratically: after a step this small the next
        // would move a weight by ~1e-10, far below a thousandth of a point.
        if max_step < 1e-5 {
            break;
        }
        fresh = max_step >= 1e-3;
    }
    let intercept = get(&theta, 0);
    let weights = theta.get(1..).unwrap_or(&[]).to_vec();
    Ok(Logistic { intercept, weights })
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
/// (row-major `d×d`) with its Cholesky factor `L`. `None` when `A` is not
/// positive definite.
fn cholesky(a: &mut [f64], d: usize) -> Option<()> {
    for j in 0..d {
        let (head, tail) = a.split_at_mut_checked((j + 1) * d)?;
        let row_j = head.get(j * d..j * d + j)?;
        let s = head.get(j * d + j)? - dot(row_j, row_j);
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let ljj = s.sqrt();
        for row_i in tail.chunks_exact_mut(d) {
            let (prefix, rest) = row_i.split_at_mut_checked(j)?;
            let v = rest.first_mut()?;
            *v = (*v - dot(prefix, row_j)) / ljj;
        }
        *head.get_mut(j * d + j)? = ljj;
    }
    Some(())
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
    fn solves_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&mut a, &[2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }

    #[test]
    fn recovers_log_odds_of_a_single_binary_feature() {
        // Column 0: 30 rows with 20 positives; column 1: 70 rows with 7 positives.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100 {
            rows.push(if i < 30 { 0 } else { 1 });
            labels.push(if i < 30 { i < 20 } else { i < 37 });
        }
        let m = fit_logistic(&rows, 1, 2, &labels, 1e-6, 50).unwrap();
        let lo0 = m.intercept + m.weights[0];
        let lo1 = m.intercept + m.weights[1];
        assert!((lo0 - (20.0f64 / 10.0).ln()).abs() < 1e-4, "{lo0}");
        assert!((lo1 - (7.0f64 / 63.0).ln()).abs() < 1e-4, "{lo1}");
    }
}
