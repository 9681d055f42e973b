//! Seeded randomness and reproducible splits.

use super::TuningError;

/// A tiny, fast, seeded pseudo-random generator (SplitMix64).
///
/// The same seed always gives the same sequence on every platform, which is
/// all the tuning code needs: shuffles for cross-validation folds and
/// synthetic data.
///
/// # Example
///
/// ```
/// use leadflow::tuning::SplitMix64;
///
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for shuffles, and deterministic.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

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
    fn splitmix_known_values() {
        // Reference values of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

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
