//! Decay as running sums: eras, weights and carries.
//!
//! A decaying group's positive points are kept as one unsigned 128-bit
//! accumulator per lead, in fixed point (`2^32` units per milli-point at
//! the start of an era). Time is cut into eras from the model's calendar
//! offset:
//!
//! - half-life `h`: eras of `8h`; a contribution of `p` milli-points at `x`
//!   seconds into its era adds `p × ⌊2^32 · 2^(x/h)⌋`; at `now`, `y` seconds
//!   into the era, the accumulator is worth `⌊acc · 2^(−y/h)⌋ / 2^32`
//!   milli-points rounded to the nearest (`2^(−y/h)` in 64-bit fixed point,
//!   as [`Decay::apply`](super::Decay) computes it);
//! - step decay losing `q` % every `e`: eras of `e` (the steps); a
//!   contribution adds `p × 2^32`; the accumulator is worth `acc / 2^32`
//!   rounded to the nearest.
//!
//! The weights and factors are exact to about 2^−32 of the points, so the
//! one rounding at the end gives the exact decayed sum whenever that is a
//! whole number of milli-points (40 points at one half-life read 20).
//!
//! When an era ends, the accumulator carries into the next era: `⌊acc /
//! 2^8⌋` for a half-life (eight half-lives later), `⌊acc · (100 − q) / 100⌋`
//! for a step. Integer addition is associative and the carries depend only
//! on each era's total, so the value is the same for any order and batching
//! of the contributions. What each carry drops (its remainder, below 256 or
//! 100) is kept for the last few eras, so a late contribution, or taking
//! one back, updates the accumulator exactly.

use super::decay::{Decay, Divisor, halving_factor};
use crate::span::Span;

/// Fixed-point bits below a milli-point.
const SCALE: u32 = 32;
/// Half-lives per era.
const HALVINGS: u32 = 8;

/// One decay's eras and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Era {
    /// The era's length, in seconds.
    len: i64,
    /// Where eras start, in seconds after the Unix epoch (mod `len`).
    offset: i64,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Halving { h: Divisor },
    Step { keep: u8 },
}

impl Era {
    /// The eras of `decay` with the model's calendar offset; `None` for no
    /// decay, and for steps that lose everything (no carry to keep: such
    /// contributions are worth their points until the step ends, then
    /// nothing, and are computed one by one like windowed ones).
    pub(crate) fn of(decay: Decay, offset: Span) -> Option<Era> {
        let offset = offset.as_seconds();
        match decay {
            Decay::None => None,
            Decay::HalfLife { half_life } => {
                let h = Divisor::of_seconds(half_life)?;
                Some(Era {
                    len: half_life.as_seconds().saturating_mul(i64::from(HALVINGS)),
                    offset,
                    kind: Kind::Halving { h },
                })
            }
            Decay::Step { every, percent } => {
                let keep = 100u8.checked_sub(percent).filter(|k| *k > 0)?;
                (every.as_seconds() > 0).then_some(Era {
                    len: every.as_seconds(),
                    offset,
                    kind: Kind::Step { keep },
                })
            }
        }
    }

    /// The era's length, in seconds.
    pub(crate) fn len(&self) -> i64 {
        self.len
    }

    /// The era of time `t` (seconds).
    pub(crate) fn index(&self, t: i64) -> i64 {
        match t.checked_sub(self.offset) {
            Some(x) => x.div_euclid(self.len),
            None => (i128::from(t) - i128::from(self.offset)).div_euclid(i128::from(self.len)) as i64,
        }
    }

    /// Seconds from the start of era `e` to `t`.
    fn seconds_into(&self, e: i64, t: i64) -> i64 {
        let start = i128::from(e) * i128::from(self.len) + i128::from(self.offset);
        (i128::from(t) - start).clamp(0, i128::from(i64::MAX)) as i64
    }

    /// How many eras back from an anchor a time `reach` earlier can fall:
    /// the remainders to keep for contributions that late.
    pub(crate) fn reach(&self, reach: Span) -> usize {
        usize::try_from(reach.as_seconds() / self.len + 1).unwrap_or(usize::MAX)
    }

    /// The weight of a contribution at `t`, in fixed point (below 2^40).
    pub(crate) fn weight(&self, t: i64) -> u64 {
        match self.kind {
            Kind::Step { .. } => 1 << SCALE,
            Kind::Halving { h } => {
                let x = self.seconds_into(self.index(t), t) as u64;
                let (k, rem) = h.div_rem(x);
                let k = k.min(u64::from(HALVINGS) - 1) as u32;
                let frac = h.fraction(rem);
                if frac == 0 {
                    return 1 << (SCALE + k);
                }
                // 2^(x/h) = 2^(k+1) · 2^(−(1 − f)), with 1 − f > 0.
                let factor = halving_factor((1u64 << 32).wrapping_sub(u64::from(frac)) as u32);
                factor.map_or(1 << (SCALE + k + 1), |f| f >> (64 - (SCALE + k + 1)))
            }
        }
    }

    /// Carries `acc` into the next era: the new accumulator and the
    /// remainder dropped.
    pub(crate) fn fold(&self, acc: u128) -> (u128, u8) {
        match self.kind {
            Kind::Halving { .. } => (acc >> HALVINGS, (acc & 0xff) as u8),
            Kind::Step { keep } => {
                // Exact: acc · keep = 100 · (acc / 100 · keep) + (acc % 100) · keep.
                let (q, r) = (acc / 100, acc % 100);
                let rk = r * u128::from(keep);
                (q.saturating_mul(u128::from(keep)) + rk / 100, (rk % 100) as u8)
            }
        }
    }

    /// [`fold`](Self::fold) `eras` times, without the remainders (for
    /// reading ahead).
    pub(crate) fn fold_n(&self, mut acc: u128, eras: u64) -> u128 {
        match self.kind {
            Kind::Halving { .. } => acc
                .checked_shr((eras.min(128) * u64::from(HALVINGS)) as u32)
                .unwrap_or(0),
            Kind::Step { .. } => {
                let mut n = eras;
                while n > 0 && acc > 0 {
                    acc = self.fold(acc).0;
                    n -= 1;
                }
                acc
            }
        }
    }

    /// The inverse of [`fold`](Self::fold) for an accumulator that got no
    /// contribution of its own since: the previous era's accumulator.
    pub(crate) fn unfold(&self, acc: u128, rem: u8) -> u128 {
        match self.kind {
            Kind::Halving { .. } => (acc << HALVINGS) | u128::from(rem),
            Kind::Step { keep } => {
                // acc_before · keep = 100 · acc + rem.
                let keep = u128::from(keep);
                let (q, r) = (acc / keep, acc % keep);
                q * 100 + (r * 100 + u128::from(rem)) / keep
            }
        }
    }

    /// Adds `delta` (taken back when negative) to an earlier era's total
    /// whose carry dropped `rem`: updates `rem` and returns what the carry
    /// into the next era changes by.
    pub(crate) fn carry(&self, delta: i128, rem: &mut u8) -> i128 {
        let (mul, div) = match self.kind {
            Kind::Halving { .. } => (1, 256),
            Kind::Step { keep } => (i128::from(keep), 100),
        };
        let x = i128::from(*rem) + delta * mul;
        *rem = x.rem_euclid(div) as u8;
        x.div_euclid(div)
    }

    /// What an accumulator of era `e` is worth at `now`, in milli-points,
    /// `now` being in era `e`.
    pub(crate) fn read(&self, acc: u128, e: i64, now: i64) -> i64 {
        let scaled = match self.kind {
            Kind::Step { .. } => acc,
            Kind::Halving { h } => {
                let y = self.seconds_into(e, now) as u64;
                let (k, rem) = h.div_rem(y);
                let t = match halving_factor(h.fraction(rem)) {
                    Some(f) => mul_shr64(acc, f),
                    None => acc,
                };
                t.checked_shr(k.min(128) as u32).unwrap_or(0)
            }
        };
        let rounded = (scaled >> (SCALE - 1)).div_ceil(2);
        i64::try_from(rounded).unwrap_or(i64::MAX)
    }
}

/// `⌊a · b / 2^64⌋`, exactly (the product needs 192 bits).
fn mul_shr64(a: u128, b: u64) -> u128 {
    let (hi, lo) = (a >> 64, a & u128::from(u64::MAX));
    let b = u128::from(b);
    (hi * b).saturating_add((lo * b) >> 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(days: i64) -> Era {
        Era::of(Decay::half_life(Span::days(days)), Span::ZERO).unwrap()
    }

    const DAY: i64 = 86_400;

    #[test]
    fn a_contribution_reads_as_its_decayed_points() {
        let era = half(30);
        let e = era.index(10 * DAY);
        let acc = 40_000 * u128::from(era.weight(10 * DAY));
        // At its own time: the points, to within a milli-point.
        assert_eq!(era.read(acc, e, 10 * DAY), 40_000);
        // One half-life later: half.
        assert_eq!(era.read(acc, e, 40 * DAY), 20_000);
        // A step: whole until the step ends, then 75 %.
        let step = Era::of(Decay::step(Span::days(30), 25), Span::ZERO).unwrap();
        let acc = 20_000 * u128::from(step.weight(DAY));
        assert_eq!(step.read(acc, 0, 29 * DAY), 20_000);
        assert_eq!(step.read(step.fold(acc).0, 1, 31 * DAY), 15_000);
        assert_eq!(step.read(step.fold_n(acc, 2), 2, 61 * DAY), 11_250);
    }

    #[test]
    fn weights_grow_with_time_in_the_era() {
        let era = half(1);
        let mut last = 0;
        for t in (0..8 * DAY).step_by(997) {
            let w = era.weight(t);
            assert!(w >= last, "{t}");
            assert!((1 << 32..1 << 40).contains(&w));
            last = w;
        }
        assert_eq!(era.weight(0), 1 << 32);
        assert_eq!(era.weight(DAY), 1 << 33);
        assert_eq!(era.weight(8 * DAY), 1 << 32);
    }

    #[test]
    fn folding_then_reading_is_reading_across_eras() {
        let era = half(2);
        let acc = 12_345 * u128::from(era.weight(DAY));
        let later = 20 * DAY;
        let e = era.index(later);
        let direct = era.read(era.fold_n(acc, e as u64), e, later);
        let ideal = 12_345.0 * (-19.0f64 / 2.0).exp2();
        assert!((direct as f64 - ideal).abs() <= 1.0, "{direct} vs {ideal}");
        let (f, rem) = era.fold(acc);
        assert_eq!(era.unfold(f, rem), acc);
        let step = Era::of(Decay::step(Span::days(1), 30), Span::ZERO).unwrap();
        for acc in [987_654_321u128, 1 << 100, 7] {
            let (f, rem) = step.fold(acc);
            assert_eq!(step.unfold(f, rem), acc);
        }
    }

    #[test]
    fn a_late_contribution_carries_as_if_it_had_come_first() {
        for era in [
            half(3),
            Era::of(Decay::step(Span::days(5), 40), Span::ZERO).unwrap(),
        ] {
            let (a, b) = (
                7_777 * u128::from(era.weight(DAY)),
                3_333 * u128::from(era.weight(2 * DAY)),
            );
            // In order: both, then a fold.
            let (in_order, _) = era.fold(a + b);
            // Late: a folded, then b carried in.
            let (mut acc, mut rem) = era.fold(a);
            acc = acc.wrapping_add_signed(era.carry(b as i128, &mut rem));
            assert_eq!(acc, in_order);
            // And taken back again.
            acc = acc.wrapping_add_signed(era.carry(-(b as i128), &mut rem));
            assert_eq!((acc, rem), era.fold(a));
        }
    }

    #[test]
    fn eras_start_at_the_offset() {
        let era = Era::of(Decay::step(Span::days(1), 10), Span::hours(5)).unwrap();
        assert_eq!(era.index(5 * 3_600 - 1), -1);
        assert_eq!(era.index(5 * 3_600), 0);
        assert_eq!(era.reach(Span::days(7)), 8);
        assert!(Era::of(Decay::step(Span::days(1), 100), Span::ZERO).is_none());
        assert!(Era::of(Decay::None, Span::ZERO).is_none());
    }
}
