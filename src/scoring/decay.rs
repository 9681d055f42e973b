//! Score decay: exact, integer, platform-independent.

use serde::{Deserialize, Serialize};

use crate::points::Points;
use crate::span::Span;

/// How engagement points fade with age.
///
/// Decay is computed lazily from the event's time and `now` (in whole
/// seconds), never by timers, so the same inputs at the same `now` always
/// give the same points. Only **positive** points decay: penalties
/// (unsubscribes, bounces) keep their full weight until their window, if any,
/// ends.
///
/// # In a model
///
/// A group's decaying points are one running sum per lead (see
/// [`scoring`](crate::scoring)'s "Decay"): for a half-life, `Σ points ×
/// 2^(−age/h)` in 128-bit fixed point with the weights and factors below,
/// carried forward every eight half-lives, rounded to a milli-point once
/// when read; for a step decay, the points lose `p` % at each calendar
/// step boundary (steps of `every` from the Unix epoch plus the model's
/// calendar offset), each step's carry rounded down. A rule with a window
/// decays contribution by contribution, with [`apply`](Self::apply) (steps
/// counted at calendar boundaries too).
///
/// # One contribution: the formulas of [`apply`](Self::apply)
///
/// - [`Decay::HalfLife`] with half-life `h`: `points × 2^(−age / h)`.
///   The factor is evaluated in 64-bit fixed point with integer arithmetic
///   only: `age / h = k + f` with whole `k` and `f` in `[0, 1)` taken to 32
///   binary digits; `2^(−f)` is the product of the four factors of `f`'s
///   bytes, highest first, the factor of a byte being the product of the
///   constants `2^(−2^−i)` for its set bits `i`, highest first (every
///   product rounded down to 64 bits); then `k` halvings.
///   The result is the exact product rounded toward zero to a thousandth of a
///   point. At whole multiples of the half-life it is exact: 20 points at
///   one half-life are 10, at two half-lives 5, at three 2.5.
/// - [`Decay::Step`], losing `p` percent every period `e`: the points are
///   multiplied by `(100 − p) / 100` once per *whole* period elapsed,
///   `floor(age / e)` times, each step rounded toward zero to a thousandth
///   (in a model, once per calendar step boundary passed instead).
///   20 points losing 25 % every 30 days are 20 until day 30, then 15, then
///   11.25 from day 60.
///
/// # Example
///
/// ```
/// use leadflow::scoring::Decay;
/// use leadflow::{Points, Span};
///
/// let half = Decay::half_life(Span::days(30));
/// assert_eq!(half.apply(Points::new(20), Span::days(30)), Points::new(10));
/// assert_eq!(half.apply(Points::new(20), Span::days(90)), Points::from_milli(2_500));
///
/// let step = Decay::step(Span::days(30), 25);
/// assert_eq!(step.apply(Points::new(20), Span::days(59)), Points::new(15));
/// assert_eq!(step.apply(Points::new(20), Span::days(60)), Points::from_milli(11_250));
/// // Penalties do not decay.
/// assert_eq!(half.apply(Points::new(-20), Span::days(300)), Points::new(-20));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Decay {
    /// No decay: points keep their full weight.
    #[default]
    #[serde(deserialize_with = "crate::strict::no_fields")]
    None,
    /// Exponential decay: the points halve every `half_life`.
    HalfLife {
        /// The time after which half the points remain (non-zero).
        half_life: Span,
    },
    /// Stepwise decay: lose `percent` of the remaining points at the end of
    /// every `every`.
    Step {
        /// The period (non-zero).
        every: Span,
        /// The share lost per period, 1 to 100.
        percent: u8,
    },
}

/// `2^(−2^−i)` for `i` in `1..=32`, in 64-bit fixed point (`1.0 = 2^64`),
/// rounded down.
const HALVING_ROOTS: [u128; 32] = [
    0xb504_f333_f9de_6484,
    0xd744_fcca_d69d_6af4,
    0xeac0_c6e7_dd24_392e,
    0xf525_7d15_2486_cc2c,
    0xfa83_b2db_722a_033a,
    0xfd3e_0c0c_f486_c174,
    0xfe9e_115c_7b8f_884b,
    0xff4e_cb59_511e_c8a5,
    0xffa7_5652_1c8d_aed1,
    0xffd3_a751_c0f7_e10b,
    0xffe9_d2b2_f7db_2755,
    0xfff4_e91b_ff1b_8c3d,
    0xfffa_747e_a004_0664,
    0xfffd_3a3b_7814_eb53,
    0xfffe_9d1c_c60d_dab1,
    0xffff_4e8e_2587_9bfa,
    0xffff_a747_0363_f451,
    0xffff_d3a3_7dda_0313,
    0xffff_e9d1_bdf7_03ae,
    0xffff_f4e8_debe_025e,
    0xffff_fa74_6f4f_a150,
    0xffff_fd3a_37a3_f8b0,
    0xffff_fe9d_1bd1_065a,
    0xffff_ff4e_8de8_45ad,
    0xffff_ffa7_46f4_1376,
    0xffff_ffd3_a37a_05e3,
    0xffff_ffe9_d1bd_01fb,
    0xffff_fff4_e8de_80c0,
    0xffff_fffa_746f_4050,
    0xffff_fffd_3a37_a024,
    0xffff_fffe_9d1b_d011,
    0xffff_ffff_4e8d_e808,
];

/// Per byte of `f` (`0` the highest): the factor `2^(−b·2^(−8(k+1)))` of
/// each value `b` of byte `k`, the product of the roots of `b`'s set bits,
/// highest first, each product rounded down (0 for `b = 0`, whose factor 1
/// 64 bits cannot hold). Computed at compile time from [`HALVING_ROOTS`].
const BYTE_FACTORS: [[u64; 256]; 4] = byte_factors();

// Runs at compile time only: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn byte_factors() -> [[u64; 256]; 4] {
    let mut tables = [[0u64; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let mut b = 1;
        while b < 256 {
            let mut factor: u128 = 0;
            let mut j = 0;
            while j < 8 {
                if b & (0x80 >> j) != 0 {
                    let root = HALVING_ROOTS[8 * k + j];
                    factor = if factor == 0 { root } else { (factor * root) >> 64 };
                }
                j += 1;
            }
            tables[k][b] = factor as u64;
            b += 1;
        }
        k += 1;
    }
    tables
}

/// `2^(−f)` for `f = frac / 2^32`, in 64-bit fixed point: the product of
/// the factors of `frac`'s bytes ([`BYTE_FACTORS`]), highest first, each
/// product rounded down; `None` for `f = 0` (the factor 1, which 64 bits
/// cannot hold). Four table reads and at most three multiplications, where
/// a product of the roots of every set bit took up to 32 (a fifth of the
/// time of rescoring a model, profiled).
pub(crate) fn halving_factor(frac: u32) -> Option<u64> {
    let mut factor: Option<u64> = None;
    for (k, table) in BYTE_FACTORS.iter().enumerate() {
        let byte = (frac >> (24 - 8 * k)) as u8;
        if byte == 0 {
            continue;
        }
        let t = table.get(usize::from(byte)).copied().unwrap_or(0);
        // Both below 2^64, so the product's top half fits 64 bits.
        factor = Some(match factor {
            None => t,
            Some(f) => ((u128::from(f) * u128::from(t)) >> 64) as u64,
        });
    }
    factor
}

/// What is left of `milli` (positive) after `age` seconds (negative ones
/// count as 0) of decay with the half-life `h` seconds: see
/// [`Decay::HalfLife`].
fn halved(milli: i64, age: i64, h: Divisor) -> i64 {
    let (whole, rem) = h.div_rem(u64::try_from(age).unwrap_or(0));
    if whole >= 64 {
        return 0;
    }
    let scaled = match halving_factor(h.fraction(rem)) {
        Some(factor) => ((milli as u128) * u128::from(factor)) >> 64,
        None => milli as u128,
    };
    i64::try_from(scaled >> whole).unwrap_or(milli)
}

/// A divisor known in advance: dividing by it is a multiplication by its
/// reciprocal and at most one correction, exact for every dividend (a
/// 64-bit division costs several times that, twice per decayed hit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Divisor {
    d: u64,
    /// `⌊(2^64 − 1) / d⌋`.
    inverse: u64,
}

impl Divisor {
    /// `d` as a divisor; `None` for 0.
    pub(crate) fn new(d: u64) -> Option<Divisor> {
        (d > 0).then(|| Divisor {
            d,
            inverse: u64::MAX / d,
        })
    }

    /// A span's seconds as a divisor; `None` for an empty span.
    pub(crate) fn of_seconds(span: Span) -> Option<Divisor> {
        Divisor::new(u64::try_from(span.as_seconds()).ok()?)
    }

    /// `rem / d` (for `rem < d`) to 32 binary digits, rounded down (in 64
    /// bits when they suffice: the same digits, far cheaper).
    pub(crate) fn fraction(self, rem: u64) -> u32 {
        if self.d <= u64::from(u32::MAX) {
            self.div_rem(rem << 32).0 as u32
        } else {
            ((u128::from(rem) << 32) / u128::from(self.d)) as u32
        }
    }

    /// `(n / d, n % d)`.
    pub(crate) fn div_rem(self, n: u64) -> (u64, u64) {
        // `inverse / 2^64` is at most `1 / d` and at most `1 / 2^64` below
        // it: the estimate is never above `n / d` and at most one below, so
        // `q · d <= n` and one step corrects it.
        let mut q = ((u128::from(n) * u128::from(self.inverse)) >> 64) as u64;
        let mut r = n - q * self.d;
        while r >= self.d {
            q += 1;
            r -= self.d;
        }
        (q, r)
    }
}

impl Decay {
    /// Exponential decay with a half-life.
    pub fn half_life(half_life: Span) -> Decay {
        Decay::HalfLife { half_life }
    }

    /// Stepwise decay: lose `percent` every `every`.
    pub fn step(every: Span, percent: u8) -> Decay {
        Decay::Step { every, percent }
    }

    /// The half-life's seconds as a divisor (`None` without a half-life,
    /// or for an empty one).
    pub(crate) fn half_life_divisor(&self) -> Option<Divisor> {
        match *self {
            Decay::HalfLife { half_life } => Divisor::of_seconds(half_life),
            _ => None,
        }
    }

    /// The problem with the parameters, if any: a zero period or a percentage
    /// outside 1–100.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        match *self {
            Decay::None => None,
            Decay::HalfLife { half_life } if half_life.is_zero() => Some("half_life must be longer than 0s"),
            Decay::Step { every, .. } if every.is_zero() => Some("every must be longer than 0s"),
            Decay::Step { percent, .. } if percent == 0 || percent > 100 => {
                Some("percent must be from 1 to 100")
            }
            _ => None,
        }
    }

    /// The points left of `points` after `age`. Negative and zero points are
    /// returned unchanged; the result is never above `points`.
    pub fn apply(&self, points: Points, age: Span) -> Points {
        self.apply_with(points, age, self.half_life_divisor())
    }

    /// [`apply`](Self::apply) with the half-life's divisor worked out
    /// already (`half_life` is [`half_life_divisor`](Self::half_life_divisor)).
    pub(crate) fn apply_with(&self, points: Points, age: Span, half_life: Option<Divisor>) -> Points {
        if !points.is_positive() {
            return points;
        }
        let milli = points.as_milli();
        let age = age.as_seconds();
        match *self {
            Decay::None => points,
            Decay::HalfLife { .. } => match half_life {
                Some(h) => Points::from_milli(halved(milli, age, h)),
                None => points,
            },
            Decay::Step { every, percent } => {
                let e = every.as_seconds();
                if e <= 0 {
                    return points;
                }
                let keep = i128::from(100u8.saturating_sub(percent));
                let mut steps = age / e;
                let mut left = i128::from(milli);
                while steps > 0 && left > 0 {
                    left = left * keep / 100;
                    steps -= 1;
                }
                Points::from_milli(i64::try_from(left).unwrap_or(milli))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prop_oneof;

    #[test]
    fn half_life_is_exact_at_whole_multiples() {
        let d = Decay::half_life(Span::days(30));
        assert_eq!(d.apply(Points::new(20), Span::ZERO), Points::new(20));
        assert_eq!(d.apply(Points::new(20), Span::days(30)), Points::new(10));
        assert_eq!(d.apply(Points::new(20), Span::days(60)), Points::new(5));
        assert_eq!(d.apply(Points::new(20), Span::days(30 * 70)), Points::ZERO);
    }

    #[test]
    fn half_life_matches_floats_closely() {
        let d = Decay::half_life(Span::days(7));
        for secs in [1, 3_600, 86_400, 100_000, 555_555, 2_000_000] {
            let got = d.apply(Points::new(1_000), Span::seconds(secs)).as_milli();
            let want = 1_000_000.0 * (-(secs as f64) / (7.0 * 86_400.0)).exp2();
            assert!((got as f64 - want).abs() <= 1.0, "{secs}: {got} vs {want}");
        }
    }

    /// The half-life formula as documented, in 128-bit arithmetic: every
    /// bit tested in turn, the product of each byte's bits then the
    /// product of the bytes' factors.
    fn half_life_reference(milli: i64, age: i64, h: i64) -> i64 {
        const ONE: u128 = 1 << 64;
        let whole = age / h;
        if whole >= 64 {
            return 0;
        }
        let rem = age % h;
        let frac = ((rem as u128) << 32) / (h as u128);
        let mut factor = ONE;
        for byte in HALVING_ROOTS.chunks(8).enumerate().map(|(k, roots)| {
            let mut f = ONE;
            for (j, root) in roots.iter().enumerate() {
                if frac & (1 << (31 - 8 * k - j)) != 0 {
                    f = if f == ONE { *root } else { (f * root) >> 64 };
                }
            }
            f
        }) {
            factor = if factor == ONE {
                byte
            } else if byte == ONE {
                factor
            } else {
                (factor * byte) >> 64
            };
        }
        let scaled = ((milli as u128) * factor) >> 64;
        i64::try_from(scaled >> whole).unwrap_or(milli)
    }

    /// The formula before byte tables (the product of every set bit's
    /// root in turn) differs by a few units in the 64th bit at most: at a
    /// thousandth of a point, points from a thousandth to a billion over a
    /// week of ages every 7 seconds come out the same.
    #[test]
    fn byte_tables_stay_within_a_milli_point_of_the_bitwise_product() {
        const ONE: u128 = 1 << 64;
        let h = 7 * 86_400i64;
        let mut differ = 0;
        for age in (0..h).step_by(7) {
            let frac = ((age as u128) << 32) / (h as u128);
            let mut bitwise = ONE;
            for (i, root) in HALVING_ROOTS.iter().enumerate() {
                if frac & (1 << (31 - i)) != 0 {
                    bitwise = (bitwise * root) >> 64;
                }
            }
            for milli in [1i64, 999, 40_000, 1_000_000, 123_456_789, 999_999_999_999] {
                let got =
                    Decay::half_life(Span::seconds(h)).apply(Points::from_milli(milli), Span::seconds(age));
                let want = ((milli as u128 * bitwise) >> 64) as i64;
                assert!(
                    (got.as_milli() - want).abs() <= 1,
                    "{age}: {} vs {want}",
                    got.as_milli()
                );
                differ += usize::from(got.as_milli() != want);
            }
        }
        assert_eq!(differ, 0, "scores computed before the tables stay as they were");
    }

    proptest::proptest! {
        #[test]
        fn half_life_is_the_reference_bit_for_bit(
            milli in 1i64..i64::MAX,
            age in 0i64..(1 << 40),
            h in prop_oneof![1i64..100_000, 1i64..(1 << 33), 1i64..i64::MAX],
        ) {
            let got = Decay::half_life(Span::seconds(h)).apply(Points::from_milli(milli), Span::seconds(age));
            proptest::prop_assert_eq!(got.as_milli(), half_life_reference(milli, age, h));
        }
    }

    #[test]
    fn half_life_matches_the_reference_where_a_division_needs_its_correction() {
        let (milli, age, h) = (1_932_390_136_568_143_173, 2_320_760_649, 3_745_921_375);
        let got = Decay::half_life(Span::seconds(h)).apply(Points::from_milli(milli), Span::seconds(age));
        assert_eq!(got.as_milli(), half_life_reference(milli, age, h));
    }

    proptest::proptest! {
        /// Division by the reciprocal is exact: small divisors, divisors
        /// near the top, dividends at both ends.
        #[test]
        fn divisors_divide_exactly(
            d in prop_oneof![1u64..1_000, 1u64..=u64::from(u32::MAX), proptest::num::u64::ANY],
            n in prop_oneof![0u64..1_000_000, proptest::num::u64::ANY, (u64::MAX - 1_000)..=u64::MAX],
        ) {
            if let Some(divisor) = Divisor::new(d) {
                proptest::prop_assert_eq!(divisor.div_rem(n), (n / d, n % d));
            }
        }
    }

    #[test]
    fn divisor_edges() {
        assert_eq!(Divisor::new(0), None);
        // 167: where an estimate one below needs its correction (found by
        // the property test against a version without it).
        for d in [1, 2, 3, 7, 167, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let divisor = Divisor::new(d).unwrap();
            for n in [0, 1, d - 1, d, d.saturating_add(1), u64::MAX - 1, u64::MAX] {
                assert_eq!(divisor.div_rem(n), (n / d, n % d), "{n} / {d}");
            }
        }
    }

    #[test]
    fn half_life_is_monotone() {
        let d = Decay::half_life(Span::hours(5));
        let mut last = Points::MAX;
        for secs in (0..200_000).step_by(997) {
            let p = d.apply(Points::new(77), Span::seconds(secs));
            assert!(p <= last);
            last = p;
        }
    }

    #[test]
    fn step_loses_percent_per_whole_period() {
        let d = Decay::step(Span::days(30), 25);
        assert_eq!(d.apply(Points::new(20), Span::days(29)), Points::new(20));
        assert_eq!(d.apply(Points::new(20), Span::days(30)), Points::new(15));
        assert_eq!(
            d.apply(Points::new(20), Span::days(60)),
            Points::from_milli(11_250)
        );
        assert_eq!(
            Decay::step(Span::days(1), 100).apply(Points::new(5), Span::days(1)),
            Points::ZERO
        );
        assert_eq!(
            Decay::step(Span::seconds(1), 1).apply(Points::MAX, Span::seconds(i64::MAX)),
            Points::ZERO
        );
    }

    #[test]
    fn problems() {
        assert!(Decay::half_life(Span::ZERO).problem().is_some());
        assert!(Decay::step(Span::days(1), 0).problem().is_some());
        assert!(Decay::step(Span::days(1), 101).problem().is_some());
        assert!(Decay::step(Span::days(1), 10).problem().is_none());
        assert_eq!(
            Decay::step(Span::ZERO, 10).problem(),
            Some("every must be longer than 0s")
        );
        assert!(Decay::None.problem().is_none());
        let json = serde_json::to_string(&Decay::half_life(Span::days(30))).unwrap();
        assert_eq!(json, r#"{"type":"half_life","half_life":"30d"}"#);
    }
}
