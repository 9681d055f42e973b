//! Reproducible splits and folds.

use super::TuningError;

use crate::rng::SplitMix64;

/// The fixed index split: data row `i` is test iff `i % modulus == test_rem`.
/// Returns `(train, test)` row indices in order. `index_split(n, 5, 4)` is the
/// split of the shared baselines.
///
/// # Errors
///
/// [`TuningError::InvalidParameter`] when `modulus` is 0 or `test_rem >= modulus`.
///
/// # Example
///
/// ```
/// let (train, test) = leadflow::tuning::index_split(10, 5, 4)?;
/// assert_eq!(test, vec![4, 9]);
/// assert_eq!(train.len(), 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn index_split(
    n: usize,
    modulus: usize,
    test_rem: usize,
) -> Result<(Vec<usize>, Vec<usize>), TuningError> {
    if modulus == 0 || test_rem >= modulus {
        return Err(TuningError::InvalidParameter {
            name: "test_rem",
            value: test_rem as f64,
            expected: "a remainder below a modulus of at least 1",
        });
    }
    Ok((0..n).partition(|i| i % modulus != test_rem))
}

/// `k` cross-validation folds over `rows`, shuffled with `seed`: returns, for
/// each fold, `(train, validation)` row lists (each sorted). Every row is in
/// exactly one validation fold.
///
/// # Errors
///
/// [`TuningError::InvalidParameter`] when `k < 2` or there are fewer rows than
/// folds.
///
/// # Example
///
/// ```
/// let rows: Vec<usize> = (0..10).collect();
/// let f = leadflow::tuning::folds(&rows, 5, 42)?;
/// assert_eq!(f.len(), 5);
/// assert!(f.iter().all(|(train, valid)| train.len() == 8 && valid.len() == 2));
/// assert_eq!(f, leadflow::tuning::folds(&rows, 5, 42)?); // reproducible
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn folds(rows: &[usize], k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>, TuningError> {
    if k < 2 || rows.len() < k {
        return Err(TuningError::InvalidParameter {
            name: "k",
            value: k as f64,
            expected: "at least 2 folds and no more folds than rows",
        });
    }
    let mut order = rows.to_vec();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut fold_of = vec![(usize::MAX, 0usize); order.len()];
    for (pos, (slot, row)) in fold_of.iter_mut().zip(&order).enumerate() {
        *slot = (*row, pos % k);
    }
    fold_of.sort_unstable();
    Ok((0..k)
        .map(|f| {
            let (valid, train): (Vec<_>, Vec<_>) = fold_of.iter().partition(|(_, g)| *g == f);
            (
                train.into_iter().map(|(r, _)| r).collect(),
                valid.into_iter().map(|(r, _)| r).collect(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_rows() {
        let rows: Vec<usize> = (0..23).collect();
        let f = folds(&rows, 4, 1).unwrap();
        let mut all: Vec<usize> = f.iter().flat_map(|(_, v)| v.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, rows);
        for (t, v) in &f {
            assert_eq!(t.len() + v.len(), 23);
            assert!(t.iter().all(|r| !v.contains(r)));
        }
        assert!(folds(&rows, 1, 0).is_err());
    }
}
