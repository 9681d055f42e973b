//! A length of time that configuration can spell.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative length of time, exact to the second.
///
/// Used for windows ("in the last 30 days"), SLAs ("within 24 hours") and decay
/// half-lives. In configuration it is written as a number and a unit:
/// `"45s"`, `"90m"`, `"24h"`, `"30d"` or `"2w"`.
///
/// # Example
///
/// ```
/// use leadflow::Span;
///
/// let sla: Span = "24h".parse()?;
/// assert_eq!(sla, Span::hours(24));
/// assert_eq!(Span::days(14).to_string(), "2w");
/// assert!("-3d".parse::<Span>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

/// Why a string was refused as a [`Span`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpanError {
    /// The text is not a number followed by a unit.
    #[error("cannot read {text:?} as a span: write a whole number and a unit s, m, h, d or w, like \"30d\"")]
    Malformed {
        /// The refused text.
        text: String,
    },
    /// The span is too long to represent.
    #[error("span {text:?} is too long: keep it under 290 billion years")]
    TooLong {
        /// The refused text.
        text: String,
    },
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

impl Span {
    /// The empty span.
    pub const ZERO: Span = Span(0);

    /// A span of whole seconds; negative values become zero.
    pub const fn seconds(seconds: i64) -> Span {
        Span(if seconds < 0 { 0 } else { seconds })
    }
    /// A span of whole minutes (saturating).
    pub const fn minutes(minutes: i64) -> Span {
        Span::seconds(minutes.saturating_mul(MINUTE))
    }
    /// A span of whole hours (saturating).
    pub const fn hours(hours: i64) -> Span {
        Span::seconds(hours.saturating_mul(HOUR))
    }
    /// A span of whole days (saturating).
    pub const fn days(days: i64) -> Span {
        Span::seconds(days.saturating_mul(DAY))
    }
    /// A span of whole weeks (saturating).
    pub const fn weeks(weeks: i64) -> Span {
        Span::seconds(weeks.saturating_mul(WEEK))
    }

    /// The number of seconds.
    pub const fn as_seconds(self) -> i64 {
        self.0
    }

    /// True for the empty span.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The span as a chrono duration.
    pub fn to_time_delta(self) -> TimeDelta {
        TimeDelta::try_seconds(self.0).unwrap_or(TimeDelta::MAX)
    }

    /// The time this span before `t`; `None` when that is before the
    /// earliest time chrono represents (every time is later).
    pub(crate) fn before(self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        t.checked_sub_signed(self.to_time_delta())
    }

    /// The time this span after `t`; `None` when that is past the latest
    /// time chrono represents (every time is earlier).
    pub(crate) fn after(self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        t.checked_add_signed(self.to_time_delta())
    }

    /// The span from a chrono duration, rounded down to the second; negative
    /// durations become zero.
    pub fn from_time_delta(delta: TimeDelta) -> Span {
        Span::seconds(delta.num_seconds())
    }
}

impl fmt::Display for Span {
    /// The largest unit that divides the span exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        for (unit, size) in [("w", WEEK), ("d", DAY), ("h", HOUR), ("m", MINUTE)] {
            if s != 0 && s % size == 0 {
                return write!(f, "{}{unit}", s / size);
            }
        }
        write!(f, "{s}s")
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Span({self})")
    }
}

impl FromStr for Span {
    type Err = SpanError;
    fn from_str(text: &str) -> Result<Span, SpanError> {
        let malformed = || SpanError::Malformed {
            text: text.to_owned(),
        };
        let t = text.trim();
        let unit_at = t.char_indices().last().map(|(i, _)| i).ok_or_else(malformed)?;
        let (number, unit) = t.split_at(unit_at);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let n: i64 = number.parse().map_err(|_| SpanError::TooLong {
            text: text.to_owned(),
        })?;
        let size = match unit {
            "s" => 1,
            "m" => MINUTE,
            "h" => HOUR,
            "d" => DAY,
            "w" => WEEK,
            _ => return Err(malformed()),
        };
        n.checked_mul(size).map(Span).ok_or(SpanError::TooLong {
            text: text.to_owned(),
        })
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("45s".parse::<Span>().unwrap(), Span::seconds(45));
        assert_eq!("90m".parse::<Span>().unwrap(), Span::minutes(90));
        assert_eq!("24h".parse::<Span>().unwrap(), Span::days(1));
        assert_eq!("2w".parse::<Span>().unwrap(), Span::days(14));
        for bad in ["", "d", "3", "3y", "-3d", "1.5d", "99999999999999999999d"] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            Span::ZERO,
            Span::seconds(61),
            Span::minutes(90),
            Span::days(30),
            Span::weeks(3),
        ] {
            assert_eq!(s.to_string().parse::<Span>().unwrap(), s);
        }
        assert_eq!(Span::minutes(90).to_string(), "90m");
        assert_eq!(Span::ZERO.to_string(), "0s");
    }
}
