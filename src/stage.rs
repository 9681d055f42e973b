//! Stages and sets of stages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A lifecycle stage. Which stages a company uses is configuration (see
/// [`LifecycleDefinition`](crate::lifecycle::LifecycleDefinition)); none is mandatory.
///
/// The main path, in order: Lead → MAL → MQL (or SGL) → SAL → SQL →
/// Opportunity → Customer → CSQL. Nurture, Disqualified and Lost are side
/// stages, entered only through reasoned transitions (reject, recycle,
/// disqualify, lose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[repr(u8)]
pub enum Stage {
    /// Any known contact (an inquiry).
    Lead,
    /// Marketing Accepted Lead: passes basic data checks.
    Mal,
    /// Marketing Qualified Lead: meets the company's bar of interest and fit.
    Mql,
    /// Sales Generated Lead: created by sales without marketing.
    Sgl,
    /// Sales Accepted Lead: sales committed to follow up.
    Sal,
    /// Sales Qualified Lead: sales judges a deal likely.
    Sql,
    /// A deal is open.
    Opportunity,
    /// A deal was won.
    Customer,
    /// Customer Success Qualified Lead: a customer with expansion potential.
    Csql,
    /// Sent back for more nurturing.
    Nurture,
    /// Removed from the funnel.
    Disqualified,
    /// The deal was lost.
    Lost,
}

impl Stage {
    /// Every stage, in declaration order: `ALL[s.index()] == s`.
    pub const ALL: [Stage; 12] = [
        Stage::Lead,
        Stage::Mal,
        Stage::Mql,
        Stage::Sgl,
        Stage::Sal,
        Stage::Sql,
        Stage::Opportunity,
        Stage::Customer,
        Stage::Csql,
        Stage::Nurture,
        Stage::Disqualified,
        Stage::Lost,
    ];

    /// A dense index in `0..12`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The position on the main path (Lead 0 … CSQL 7; MQL and SGL share 2),
    /// or `None` for side stages. Progression along the main path only moves
    /// forward.
    pub fn rank(self) -> Option<u8> {
        match self {
            Stage::Lead => Some(0),
            Stage::Mal => Some(1),
            Stage::Mql | Stage::Sgl => Some(2),
            Stage::Sal => Some(3),
            Stage::Sql => Some(4),
            Stage::Opportunity => Some(5),
            Stage::Customer => Some(6),
            Stage::Csql => Some(7),
            Stage::Nurture | Stage::Disqualified | Stage::Lost => None,
        }
    }

    /// The usual abbreviation: `Lead`, `MAL`, `MQL`, `SGL`, `SAL`, `SQL`,
    /// `Opportunity`, `Customer`, `CSQL`, `Nurture`, `Disqualified`, `Lost`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lead => "Lead",
            Stage::Mal => "MAL",
            Stage::Mql => "MQL",
            Stage::Sgl => "SGL",
            Stage::Sal => "SAL",
            Stage::Sql => "SQL",
            Stage::Opportunity => "Opportunity",
            Stage::Customer => "Customer",
            Stage::Csql => "CSQL",
            Stage::Nurture => "Nurture",
            Stage::Disqualified => "Disqualified",
            Stage::Lost => "Lost",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A set of stages.
///
/// ```
/// use leadflow::{Stage, StageSet};
/// let set: StageSet = [Stage::Mql, Stage::Sal].into_iter().collect();
/// assert!(set.contains(Stage::Sal));
/// assert_eq!(set.to_string(), "MQL, SAL");
/// // Written as the list of its stages.
/// assert_eq!(serde_json::to_string(&set)?, r#"["mql","sal"]"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "Vec<Stage>", from = "Vec<Stage>")]
pub struct StageSet(u16);

impl StageSet {
    /// The empty set.
    pub const EMPTY: StageSet = StageSet(0);

    /// Adds a stage.
    pub fn insert(&mut self, stage: Stage) {
        self.0 |= 1 << stage.index();
    }

    /// True when the stage is in the set.
    pub fn contains(self, stage: Stage) -> bool {
        self.0 & (1 << stage.index()) != 0
    }

    /// The stages, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Stage> {
        Stage::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// True when empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of stages.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
}

impl FromIterator<Stage> for StageSet {
    fn from_iter<I: IntoIterator<Item = Stage>>(iter: I) -> StageSet {
        let mut s = StageSet::EMPTY;
        for stage in iter {
            s.insert(stage);
        }
        s
    }
}

impl From<StageSet> for Vec<Stage> {
    fn from(set: StageSet) -> Vec<Stage> {
        set.iter().collect()
    }
}

impl From<Vec<Stage>> for StageSet {
    fn from(stages: Vec<Stage>) -> StageSet {
        stages.into_iter().collect()
    }
}

impl fmt::Display for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StageSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_dense() {
        for (i, s) in Stage::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }

    #[test]
    fn sets() {
        let mut s = StageSet::EMPTY;
        assert_eq!(s.to_string(), "none");
        s.insert(Stage::Lost);
        s.insert(Stage::Lead);
        s.insert(Stage::Lead);
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Stage::Lead, Stage::Lost]);
    }
}
