//! Exact, deterministic score arithmetic.

use std::fmt;
use std::iter::Sum;
use std::ops::Neg;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Thousandths of a point per point.
const MILLI: i64 = 1_000;

/// A number of score points, exact to a thousandth of a point.
///
/// Points are stored as a whole number of milli-points in an `i64`, so sums
/// never drift: adding the same contributions in any order, in one batch or one
/// at a time, gives the bit-identical result. All arithmetic saturates at
/// [`Points::MIN`] and [`Points::MAX`] instead of overflowing, and `Points` is
/// `Eq + Ord + Hash`.
///
/// In serialized form points are plain numbers (`30`, `-5`, `12.5`) that read
/// back as the same points; a fraction beyond about ±2.25 × 10¹² points, which
/// a float cannot carry exactly, is written as its decimal text
/// (`"9223372036854775.807"`).
///
/// # Example
///
/// ```
/// use leadflow::Points;
///
/// let demo = Points::new(30);
/// let half = Points::try_from_f64(12.5)?;
/// assert_eq!((demo + half).to_string(), "42.5");
/// assert_eq!(Points::MAX + demo, Points::MAX); // saturates
/// assert!(Points::try_from_f64(f64::NAN).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

/// Why a number was refused as [`Points`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PointsError {
    /// The number was NaN or infinite.
    #[error("points must be a finite number, got {value}")]
    NotFinite {
        /// The refused value.
        value: f64,
    },
    /// The number does not fit the representable range.
    #[error("points {value} out of range: use a value within ±9.2e15")]
    OutOfRange {
        /// The refused value.
        value: f64,
    },
}

impl Points {
    /// Zero points.
    pub const ZERO: Points = Points(0);
    /// The largest representable number of points.
    pub const MAX: Points = Points(i64::MAX);
    /// The smallest representable number of points.
    pub const MIN: Points = Points(i64::MIN);

    /// Whole points. Saturates for values beyond the representable range.
    pub const fn new(points: i64) -> Points {
        Points(points.saturating_mul(MILLI))
    }

    /// Points from a count of thousandths of a point.
    pub const fn from_milli(milli: i64) -> Points {
        Points(milli)
    }

    /// Points from a float, rounded to the nearest thousandth.
    ///
    /// # Errors
    ///
    /// [`PointsError::NotFinite`] for NaN or infinities,
    /// [`PointsError::OutOfRange`] when the value does not fit.
    pub fn try_from_f64(value: f64) -> Result<Points, PointsError> {
        if !value.is_finite() {
            return Err(PointsError::NotFinite { value });
        }
        let milli = (value * MILLI as f64).round();
        // i64::MAX as f64 rounds up to 2^63, so `<` (not `<=`) is the exact bound.
        if milli >= i64::MAX as f64 || milli < i64::MIN as f64 {
            return Err(PointsError::OutOfRange { value });
        }
        Ok(Points(milli as i64))
    }

    /// The number of thousandths of a point.
    pub const fn as_milli(self) -> i64 {
        self.0
    }

    /// The value as a float (for display and statistics only).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MILLI as f64
    }

    /// Adds, saturating at the bounds.
    pub const fn saturating_add(self, other: Points) -> Points {
        Points(self.0.saturating_add(other.0))
    }

    /// Subtracts, saturating at the bounds.
    pub const fn saturating_sub(self, other: Points) -> Points {
        Points(self.0.saturating_sub(other.0))
    }

    /// Adds, or `None` on overflow.
    pub const fn checked_add(self, other: Points) -> Option<Points> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Points(v)),
            None => None,
        }
    }

    /// Multiplies by a whole number, saturating.
    pub const fn saturating_mul(self, factor: i64) -> Points {
        Points(self.0.saturating_mul(factor))
    }

    /// True when the value is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True when the value is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    /// Saturating addition.
    fn add(self, rhs: Points) -> Points {
        self.saturating_add(rhs)
    }
}

impl std::ops::AddAssign for Points {
    fn add_assign(&mut self, rhs: Points) {
        *self = self.saturating_add(rhs);
    }
}

impl std::ops::Sub for Points {
    type Output = Points;
    /// Saturating subtraction.
    fn sub(self, rhs: Points) -> Points {
        self.saturating_sub(rhs)
    }
}

impl std::ops::SubAssign for Points {
    fn sub_assign(&mut self, rhs: Points) {
        *self = self.saturating_sub(rhs);
    }
}

impl Neg for Points {
    type Output = Points;
    fn neg(self) -> Points {
        Points(self.0.saturating_neg())
    }
}

impl Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, |a, b| a + b)
    }
}

impl From<i32> for Points {
    fn from(points: i32) -> Points {
        Points::new(i64::from(points))
    }
}

impl fmt::Display for Points {
    /// Whole points print without decimals (`57`), others with up to three
    /// (`12.5`, `0.125`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / MILLI as u64;
        let frac = abs % MILLI as u64;
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl fmt::Debug for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Points({self})")
    }
}

impl Serialize for Points {
    /// A number: whole points as an integer, others as a float when the
    /// float reads back as the same points (every value within about
    /// ±2.25 × 10¹² points); a fraction too large for a float to carry
    /// exactly (such as [`Points::MAX`]) as its exact decimal text.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % MILLI == 0 {
            serializer.serialize_i64(self.0 / MILLI)
        } else if Points::try_from_f64(self.to_f64()) == Ok(*self) {
            serializer.serialize_f64(self.to_f64())
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for Points {
    /// A number, or a decimal text with at most three decimals
    /// (`"9223372036854775.807"`), the form [`Serialize`] writes when a
    /// float cannot carry the value exactly.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            Int(i64),
            Float(f64),
            Text(String),
        }
        match Num::deserialize(deserializer)? {
            Num::Int(v) => v
                .checked_mul(MILLI)
                .map(Points)
                .ok_or_else(|| serde::de::Error::custom(PointsError::OutOfRange { value: v as f64 })),
            Num::Float(v) => Points::try_from_f64(v).map_err(serde::de::Error::custom),
            Num::Text(text) => parse_decimal(&text).ok_or_else(|| {
                serde::de::Error::custom(format_args!(
                    "cannot read {text:?} as points: write a number such as 12 or -12.5, with at most three decimals, within ±9223372036854775.807"
                ))
            }),
        }
    }
}

/// Exact decimal text (`-12.5`, `9223372036854775.807`) as points: an
/// optional sign, digits, and at most three decimals.
fn parse_decimal(text: &str) -> Option<Points> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 3 || !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    let mut milli = i128::from(whole.parse::<i64>().ok()?) * i128::from(MILLI);
    let mut scale = i128::from(MILLI);
    for b in frac.bytes() {
        scale /= 10;
        milli += i128::from(b - b'0') * scale;
    }
    i64::try_from(if negative { -milli } else { milli })
        .ok()
        .map(Points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_trims_fraction() {
        assert_eq!(Points::new(57).to_string(), "57");
        assert_eq!(Points::from_milli(12_500).to_string(), "12.5");
        assert_eq!(Points::from_milli(-125).to_string(), "-0.125");
        assert_eq!(Points::from_milli(-3_050).to_string(), "-3.05");
    }

    #[test]
    fn saturates() {
        assert_eq!(Points::MAX + Points::new(1), Points::MAX);
        assert_eq!(Points::MIN - Points::new(1), Points::MIN);
        assert_eq!(-Points::MIN, Points::MAX);
        assert_eq!(Points::new(i64::MAX), Points::MAX);
        assert_eq!(Points::MAX.checked_add(Points::from_milli(1)), None);
    }

    #[test]
    fn from_f64_rounds_and_rejects() {
        assert_eq!(Points::try_from_f64(0.1).unwrap(), Points::from_milli(100));
        assert_eq!(Points::try_from_f64(-2.0005).unwrap(), Points::from_milli(-2001));
        assert!(matches!(
            Points::try_from_f64(f64::INFINITY),
            Err(PointsError::NotFinite { .. })
        ));
        assert!(matches!(
            Points::try_from_f64(1e17),
            Err(PointsError::OutOfRange { .. })
        ));
    }

    #[test]
    fn serde_round_trip() {
        for p in [
            Points::new(30),
            Points::new(-5),
            Points::from_milli(12_500),
            Points::from_milli(1),
        ] {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Points>(&json).unwrap(), p);
        }
        assert_eq!(serde_json::to_string(&Points::new(30)).unwrap(), "30");
        assert!(serde_json::from_str::<Points>("1e300").is_err());
        assert!(serde_json::from_str::<Points>("9223372036854775807").is_err());
    }

    #[test]
    fn a_fraction_a_float_cannot_carry_is_written_as_exact_text() {
        assert_eq!(
            serde_json::to_string(&Points::MAX).unwrap(),
            "\"9223372036854775.807\""
        );
        // MIN is a power of two: its float reads back exactly.
        assert_eq!(
            serde_json::to_string(&Points::MIN).unwrap(),
            "-9223372036854776.0"
        );
        assert_eq!(
            serde_json::from_str::<Points>("-9223372036854776.0").unwrap(),
            Points::MIN
        );
        assert_eq!(
            serde_json::to_string(&Points::from_milli(12_500)).unwrap(),
            "12.5"
        );
        let read = |s: &str| serde_json::from_str::<Points>(s);
        assert_eq!(read("\"9223372036854775.807\"").unwrap(), Points::MAX);
        assert_eq!(read("\"-12.05\"").unwrap(), Points::from_milli(-12_050));
        assert_eq!(read("\"7\"").unwrap(), Points::new(7));
        for bad in [
            "\"12.3456\"",
            "\"1e3\"",
            "\".5\"",
            "\"+5\"",
            "\"9223372036854775.808\"",
            "\"\"",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
