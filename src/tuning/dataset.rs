//! Labelled history: leads, their events and what became of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::lead::Lead;

/// The label of a row of history: what became of the lead, converted or
/// not, and when.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::Label;
///
/// let won = Label::new(true, Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()));
/// assert!(won.converted);
/// assert!(!Label::not_converted().converted);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Whether the lead converted (became a customer, a won deal, an SQL:
    /// whatever the host measures).
    pub converted: bool,
    /// When it converted, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Label {
    /// A label: converted or not, and when, if known.
    pub const fn new(converted: bool, at: Option<DateTime<Utc>>) -> Label {
        Label { converted, at }
    }

    /// A lead that did not convert.
    pub const fn not_converted() -> Label {
        Label {
            converted: false,
            at: None,
        }
    }
}

/// One row of a [`Dataset`]: a lead, its events in time order, its [`Label`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledLead {
    /// The lead, with the attributes known about it.
    pub lead: Lead,
    /// Its events, sorted by time (stable: equal times keep their order).
    #[serde(default)]
    pub events: Vec<Event>,
    /// Its label: what became of it.
    pub outcome: Label,
}

impl LabeledLead {
    /// The events known at `cutoff` (those with `at <= cutoff`): a prefix of
    /// [`LabeledLead::events`].
    pub fn events_known_at(&self, cutoff: DateTime<Utc>) -> &[Event] {
        let known = self.events.partition_point(|e| e.at <= cutoff);
        self.events.get(..known).unwrap_or(&[])
    }
}

/// Labelled history: rows of leads with their events and outcomes, built in
/// code by the host. Row indices (`0..len`) are how splits and folds refer to
/// rows.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::tuning::{Dataset, Label};
/// use leadflow::{Lead, LeadId};
///
/// let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let mut data = Dataset::new();
/// data.push(Lead::new(LeadId::new("a")?, t0), vec![], Label::new(true, Some(t0)));
/// data.push(Lead::new(LeadId::new("b")?, t0), vec![], Label::not_converted());
/// assert_eq!(data.labels(), vec![true, false]);
/// assert_eq!(data.positives(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    rows: Vec<LabeledLead>,
}

impl Dataset {
    /// An empty dataset.
    pub fn new() -> Dataset {
        Dataset::default()
    }

    /// Adds a row; the events are sorted by time (stable). Returns the row
    /// index.
    pub fn push(&mut self, lead: Lead, mut events: Vec<Event>, label: Label) -> usize {
        events.sort_by_key(|e| e.at);
        self.rows.push(LabeledLead {
            lead,
            events,
            outcome: label,
        });
        self.rows.len() - 1
    }

    /// The rows, in insertion order.
    pub fn rows(&self) -> &[LabeledLead] {
        &self.rows
    }

    /// One row.
    pub fn row(&self, index: usize) -> Option<&LabeledLead> {
        self.rows.get(index)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every row index, `0..len`.
    pub fn all_rows(&self) -> Vec<usize> {
        (0..self.rows.len()).collect()
    }

    /// The converted flag of every row, in order.
    pub fn labels(&self) -> Vec<bool> {
        self.rows.iter().map(|r| r.outcome.converted).collect()
    }

    /// Number of converted rows.
    pub fn positives(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.converted).count()
    }

    /// Total number of events over all rows.
    pub fn event_count(&self) -> usize {
        self.rows.iter().map(|r| r.events.len()).sum()
    }
}

impl FromIterator<LabeledLead> for Dataset {
    fn from_iter<I: IntoIterator<Item = LabeledLead>>(iter: I) -> Dataset {
        let mut data = Dataset::new();
        for r in iter {
            data.push(r.lead, r.events, r.outcome);
        }
        data
    }
}
