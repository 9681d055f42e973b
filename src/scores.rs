//! The scores a lead carries: the seam between scoring and qualification.
//!
//! A [`ScoringModel`](crate) produces [`Scores`]; score-based criteria
//! ([`Condition::ScoreAtLeast`](crate::criteria::Condition::ScoreAtLeast),
//! [`Condition::FitGradeAtLeast`](crate::criteria::Condition::FitGradeAtLeast),
//! ...) read them through a [`LeadView`](crate::criteria::LeadView). Hosts with
//! their own scoring can fill `Scores` themselves.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::ModelVersion;
use crate::points::Points;

/// Which score dimension a criterion or rule refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Dimension {
    /// Fit: who the lead is (attributes).
    Fit,
    /// Engagement: what the lead does (events).
    Engagement,
    /// The combined score.
    Combined,
}

impl Dimension {
    /// The dimension's name: `fit`, `engagement` or `combined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Fit => "fit",
            Dimension::Engagement => "engagement",
            Dimension::Combined => "combined",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lead's scores at one point in time.
///
/// # Example
///
/// ```
/// use leadflow::{Dimension, EngagementLevel, Grade, Points, Scores};
///
/// let scores = Scores {
///     fit: Points::new(40),
///     engagement: Points::new(35),
///     combined: Points::new(75),
///     fit_grade: Some(Grade::new('B')?),
///     engagement_level: Some(EngagementLevel::new(1)?),
///     ..Scores::default()
/// };
/// assert_eq!(scores.get(Dimension::Combined), Points::new(75));
/// assert_eq!(scores.cell().map(|c| c.to_string()).as_deref(), Some("B1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    /// Fit points.
    pub fit: Points,
    /// Engagement points.
    pub engagement: Points,
    /// Combined points.
    pub combined: Points,
    /// The fit grade, when the model defines grade bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_grade: Option<Grade>,
    /// The engagement level, when the model defines level bands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement_level: Option<EngagementLevel>,
    /// Further named scores computed side by side (e.g. one per product line).
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    pub named: IndexMap<String, Points>,
    /// The version of the model that produced these scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<ModelVersion>,
}

impl Scores {
    /// The points of one dimension.
    pub fn get(&self, dimension: Dimension) -> Points {
        match dimension {
            Dimension::Fit => self.fit,
            Dimension::Engagement => self.engagement,
            Dimension::Combined => self.combined,
        }
    }

    /// The fit × engagement matrix cell, when both grade and level are known.
    pub fn cell(&self) -> Option<MatrixCell> {
        Some(MatrixCell {
            grade: self.fit_grade?,
            level: self.engagement_level?,
        })
    }
}

/// Why a grade or level was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GradeError {
    /// A grade must be an uppercase ASCII letter.
    #[error("grade {text:?} is not a letter A to Z")]
    NotALetter {
        /// The refused text.
        text: String,
    },
    /// A level must be from 1 to 9.
    #[error("engagement level {text:?} is not a number from 1 to 9")]
    NotALevel {
        /// The refused text.
        text: String,
    },
}

/// A fit grade: a letter, where `A` is the best fit.
///
/// Grades order by quality: `A > B > C`. "At least B" means A or B.
///
/// ```
/// use leadflow::Grade;
/// let a = Grade::new('A')?;
/// let c: Grade = "C".parse()?;
/// assert!(a > c);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade(u8);

impl Grade {
    /// A grade from an uppercase letter `A`–`Z`.
    ///
    /// # Errors
    ///
    /// [`GradeError::NotALetter`] for anything else.
    pub fn new(letter: char) -> Result<Grade, GradeError> {
        if letter.is_ascii_uppercase() {
            Ok(Grade(letter as u8))
        } else {
            Err(GradeError::NotALetter {
                text: letter.to_string(),
            })
        }
    }

    /// The grade at a 0-based rank: 0 is `A`. Ranks past `Z` give `Z`.
    pub fn from_rank(rank: usize) -> Grade {
        Grade(b'A' + u8::try_from(rank.min(25)).unwrap_or(25))
    }

    /// The 0-based rank: `A` is 0.
    pub fn rank(self) -> usize {
        usize::from(self.0 - b'A')
    }

    /// The letter.
    pub fn letter(self) -> char {
        char::from(self.0)
    }
}

impl Ord for Grade {
    fn cmp(&self, other: &Grade) -> Ordering {
        other.0.cmp(&self.0)
    }
}

impl PartialOrd for Grade {
    fn partial_cmp(&self, other: &Grade) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

impl fmt::Debug for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grade({})", self.letter())
    }
}

impl FromStr for Grade {
    type Err = GradeError;
    fn from_str(s: &str) -> Result<Grade, GradeError> {
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Grade::new(c),
            _ => Err(GradeError::NotALetter { text: s.to_owned() }),
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grade {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An engagement level from 1 to 9, where **1 is the most engaged** (as in the
/// A1…D4 matrix, where A1 is the hottest lead).
///
/// Levels order by engagement: `1 > 2 > 3`. "At least 2" means 1 or 2.
///
/// ```
/// use leadflow::EngagementLevel;
/// assert!(EngagementLevel::new(1)? > EngagementLevel::new(3)?);
/// assert!(EngagementLevel::new(0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngagementLevel(u8);

impl EngagementLevel {
    /// A level from 1 to 9.
    ///
    /// # Errors
    ///
    /// [`GradeError::NotALevel`] outside 1–9.
    pub fn new(level: u8) -> Result<EngagementLevel, GradeError> {
        if (1..=9).contains(&level) {
            Ok(EngagementLevel(level))
        } else {
            Err(GradeError::NotALevel {
                text: level.to_string(),
            })
        }
    }

    /// The level at a 0-based rank: 0 is level 1. Ranks past 8 give 9.
    pub fn from_rank(rank: usize) -> EngagementLevel {
        EngagementLevel(1 + u8::try_from(rank.min(8)).unwrap_or(8))
    }

    /// The level number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Ord for EngagementLevel {
    fn cmp(&self, other: &EngagementLevel) -> Ordering {
        other.0.cmp(&self.0)
    }
}

impl PartialOrd for EngagementLevel {
    fn partial_cmp(&self, other: &EngagementLevel) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for EngagementLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for EngagementLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EngagementLevel({})", self.0)
    }
}

impl Serialize for EngagementLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.0)
    }
}

impl<'de> Deserialize<'de> for EngagementLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(deserializer)?;
        EngagementLevel::new(n).map_err(serde::de::Error::custom)
    }
}

/// A cell of the fit × engagement matrix, printed `A1`…`D4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixCell {
    /// The fit grade.
    pub grade: Grade,
    /// The engagement level.
    pub level: EngagementLevel,
}

impl fmt::Display for MatrixCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.grade, self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_and_levels() {
        assert_eq!(Grade::from_rank(1).letter(), 'B');
        assert_eq!(Grade::from_rank(99).letter(), 'Z');
        assert_eq!(Grade::new('C').unwrap().rank(), 2);
        assert!(Grade::new('a').is_err());
        assert!("AB".parse::<Grade>().is_err());
        assert_eq!(EngagementLevel::from_rank(0).get(), 1);
        assert!(EngagementLevel::new(10).is_err());
    }

    #[test]
    fn serde() {
        let s = Scores {
            fit: Points::new(10),
            fit_grade: Some(Grade::new('A').unwrap()),
            engagement_level: Some(EngagementLevel::new(2).unwrap()),
            ..Scores::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"fit_grade\":\"A\""), "{json}");
        assert_eq!(serde_json::from_str::<Scores>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Grade>("\"a\"").is_err());
    }
}
