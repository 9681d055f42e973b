//! Fast, stable hashing for interning, maps and fingerprints.
//!
//! `FxHasher` is the multiply-rotate hash used by rustc: fast on short keys,
//! not DoS-resistant (lead ids come from the host, not from attackers).
//! [`fingerprint`] is a stable 64-bit hash of a string, the same on every
//! platform and Rust version, used for shard assignment.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The rustc "Fx" hasher.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Builds [`FxHasher`]s for `HashMap`s.
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// A stable 64-bit hash of a byte stream (FNV-1a with a final avalanche):
/// the same value on every platform and version, for fingerprints that
/// outlive a process (shard assignment, snapshots, the canonical order of
/// events).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> StableHasher {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl StableHasher {
    /// Adds bytes.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds a string with its length first, so that two strings in a row
    /// cannot be confused with another split of the same bytes.
    pub(crate) fn text(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// Adds a number (little-endian bytes).
    pub(crate) fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }

    /// Adds one byte.
    pub(crate) fn u8(&mut self, x: u8) {
        self.bytes(&[x]);
    }

    /// The hash.
    pub(crate) fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A stable 64-bit fingerprint of a string (FNV-1a with a final avalanche):
/// the same value on every platform and version, so shard assignments and
/// snapshots stay valid.
pub(crate) fn fingerprint(s: &str) -> u64 {
    let mut h = StableHasher::default();
    h.bytes(s.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_EMPTY: u64 = 0xefd0_1f60_ba99_2926;
    const PINNED_LEAD_1: u64 = 0xb8ad_619e_c6d2_41dc;

    #[test]
    fn fingerprints_are_stable() {
        // Pinned values: changing them breaks every host's shard assignment.
        assert_eq!(fingerprint(""), PINNED_EMPTY);
        assert_eq!(fingerprint("lead-1"), PINNED_LEAD_1);
        assert_ne!(fingerprint("lead-1"), fingerprint("lead-2"));
        assert_eq!(fingerprint("lead-1"), fingerprint("lead-1"));
    }
}
