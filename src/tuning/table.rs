//! The training rows of a boosted fit as bin codes, feature by feature: what
//! the per-attribute shapes and the pair tables are fitted on.

use super::binning::{Encoded, FeatureBins};

/// The training rows as bin codes, feature by feature.
pub(super) struct Table {
    /// Rows.
    pub(super) n: usize,
    /// Bins per feature.
    pub(super) sizes: Vec<usize>,
    /// `codes[f * n + i]`: the bin of row `i` in feature `f`.
    codes: Vec<u16>,
    /// 1.0 for converted rows, else 0.0.
    pub(super) y: Vec<f64>,
    /// Training rows per bin, per feature.
    pub(super) bin_rows: Vec<Vec<usize>>,
}

impl Table {
    pub(super) fn new(enc: &Encoded, labels: &[bool]) -> Table {
        let n = labels.len();
        let width = enc.bins.len().max(1);
        let sizes: Vec<usize> = enc.bins.iter().map(FeatureBins::len).collect();
        let mut codes = vec![0u16; n * enc.bins.len()];
        let mut bin_rows: Vec<Vec<usize>> = sizes.iter().map(|&s| vec![0; s]).collect();
        for (i, cols) in enc.rows.chunks_exact(width).enumerate() {
            for (f, (&c, &offset)) in cols.iter().zip(&enc.offsets).enumerate() {
                let local = (c as usize).saturating_sub(offset);
                if let Some(slot) = codes.get_mut(f * n + i) {
                    *slot = local as u16;
                }
                if let Some(k) = bin_rows.get_mut(f).and_then(|b| b.get_mut(local)) {
                    *k += 1;
                }
            }
        }
        Table {
            n,
            sizes,
            codes,
            y: labels.iter().map(|&y| f64::from(u8::from(y))).collect(),
            bin_rows,
        }
    }

    pub(super) fn column(&self, f: usize) -> &[u16] {
        self.codes.get(f * self.n..(f + 1) * self.n).unwrap_or(&[])
    }
}
