//! Qualification checklists: BANT, CHAMP, MEDDICC and your own.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::Outcome;

/// Answers to qualification questions, each met, not met or unknown, with
/// optional evidence. Sales fills it in; a
/// [`Condition::Checklist`](super::Condition::Checklist) asks for k of n items.
///
/// Item names are compared as written (use the [`Framework`] names for the
/// presets: `budget`, `authority`, `need`, `timeline`...).
///
/// # Example
///
/// ```
/// use leadflow::criteria::{Checklist, Outcome};
///
/// let bant = Checklist::new()
///     .met("budget", "40k approved for Q3")
///     .met("need", "replacing spreadsheets")
///     .unmet("authority", "needs CFO sign-off")
///     .unknown("timeline");
/// assert_eq!(bant.status("budget"), Outcome::Met);
/// assert_eq!(bant.status("champion"), Outcome::Unknown);
/// assert_eq!(bant.count(Outcome::Met), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checklist {
    #[serde(deserialize_with = "crate::strict::unique_keys")]
    items: IndexMap<String, ChecklistItem>,
}

/// One answered checklist question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Met, not met or unknown.
    pub status: Outcome,
    /// What supports the answer (a note, a quote, a document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl Checklist {
    /// An empty checklist: every item unknown.
    pub fn new() -> Checklist {
        Checklist::default()
    }

    /// Sets an item.
    pub fn set(mut self, item: impl Into<String>, status: Outcome, evidence: Option<String>) -> Checklist {
        self.items.insert(item.into(), ChecklistItem { status, evidence });
        self
    }

    /// Marks an item met, with evidence.
    pub fn met(self, item: impl Into<String>, evidence: impl Into<String>) -> Checklist {
        self.set(item, Outcome::Met, Some(evidence.into()))
    }

    /// Marks an item not met, with evidence.
    pub fn unmet(self, item: impl Into<String>, evidence: impl Into<String>) -> Checklist {
        self.set(item, Outcome::NotMet, Some(evidence.into()))
    }

    /// Marks an item unknown.
    pub fn unknown(self, item: impl Into<String>) -> Checklist {
        self.set(item, Outcome::Unknown, None)
    }

    /// The status of an item; unknown when absent.
    pub fn status(&self, item: &str) -> Outcome {
        self.items.get(item).map_or(Outcome::Unknown, |i| i.status)
    }

    /// The item, if answered.
    pub fn get(&self, item: &str) -> Option<&ChecklistItem> {
        self.items.get(item)
    }

    /// How many items have a status.
    pub fn count(&self, status: Outcome) -> usize {
        self.items.values().filter(|i| i.status == status).count()
    }

    /// The answered items, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ChecklistItem)> {
        self.items.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Merges newer answers over these: items in `newer` replace ours.
    pub fn merge(&mut self, newer: &Checklist) {
        for (k, v) in &newer.items {
            self.items.insert(k.clone(), v.clone());
        }
    }

    /// True when no item is answered.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A standard qualification framework: its item names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Framework {
    /// Budget, authority, need, timeline.
    Bant,
    /// Challenges, authority, money, prioritization.
    Champ,
    /// Metrics, economic buyer, decision criteria, decision process, identify
    /// pain, champion, competition.
    Meddicc,
}

impl Framework {
    /// The framework's item names.
    pub fn items(self) -> &'static [&'static str] {
        match self {
            Framework::Bant => &["budget", "authority", "need", "timeline"],
            Framework::Champ => &["challenges", "authority", "money", "prioritization"],
            Framework::Meddicc => &[
                "metrics",
                "economic_buyer",
                "decision_criteria",
                "decision_process",
                "identify_pain",
                "champion",
                "competition",
            ],
        }
    }

    /// The framework's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Bant => "BANT",
            Framework::Champ => "CHAMP",
            Framework::Meddicc => "MEDDICC",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_replaces_items() {
        let mut a = Checklist::new().unknown("budget").met("need", "x");
        a.merge(&Checklist::new().met("budget", "approved"));
        assert_eq!(a.status("budget"), Outcome::Met);
        assert_eq!(a.status("need"), Outcome::Met);
        assert_eq!(a.iter().count(), 2);
    }

    #[test]
    fn serde_is_a_map() {
        let c = Checklist::new().met("budget", "ok").unknown("timeline");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"budget":{"status":"met","evidence":"ok"},"timeline":{"status":"unknown"}}"#
        );
        assert_eq!(serde_json::from_str::<Checklist>(&json).unwrap(), c);
    }
}
