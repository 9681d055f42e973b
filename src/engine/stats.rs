//! What an engine did, counted.

use serde::{Deserialize, Serialize};

/// Counters of what an engine did. Mergeable across shards: merging is
/// associative and commutative.
///
/// ```
/// use leadflow::engine::EngineStats;
/// let (mut a, mut b) = (EngineStats::default(), EngineStats::default());
/// a.events_applied = 3;
/// (b.events_applied, b.duplicates) = (2, 1);
/// a.merge(&b);
/// assert_eq!((a.events_applied, a.duplicates), (5, 1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EngineStats {
    /// Events applied.
    pub events_applied: u64,
    /// Of which arrived late (at or before their lead's latest event).
    pub late_events: u64,
    /// Duplicate events ignored.
    pub duplicates: u64,
    /// Events that replaced an applied copy with the same id and time and
    /// another payload.
    pub replaced: u64,
    /// Events refused (too late, unknown lead, from the future, invalid, in
    /// conflict).
    pub events_rejected: u64,
    /// Transitions reported.
    pub transitions: u64,
    /// Transitions retracted.
    pub retractions: u64,
    /// Leads created.
    pub leads_created: u64,
}

impl EngineStats {
    /// Adds another shard's counters to these.
    pub fn merge(&mut self, other: &EngineStats) {
        self.events_applied += other.events_applied;
        self.late_events += other.late_events;
        self.duplicates += other.duplicates;
        self.replaced += other.replaced;
        self.events_rejected += other.events_rejected;
        self.transitions += other.transitions;
        self.retractions += other.retractions;
        self.leads_created += other.leads_created;
    }
}
