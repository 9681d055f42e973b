//! Mergeable funnel metrics of one segment: per-stage counts, conversions,
//! durations, SLA breaches, reasons and won deals.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::facts::LeadFacts;
use super::{Durations, Mean};
use crate::lifecycle::{ReasonCode, TransitionKind};
use crate::stage::{Stage, StageSet};

/// What happened to the leads that entered one stage within the period.
///
/// A lead *enters* a stage when it is created in it (its initial stage) or a
/// transition leads to it. Counts of leads are distinct leads; `entries`
/// counts re-entries too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageStats {
    /// Distinct leads that entered the stage.
    pub leads: u64,
    /// Entries, counting re-entries.
    pub entries: u64,
    /// `reached[s.index()]`: of those leads, how many entered stage `s` after
    /// (first) entering this one. Serialized as a map from stage to count
    /// (non-zero counts only).
    #[serde(with = "by_stage")]
    pub reached: [u64; 12],
    /// Of those leads, how many later reached a deal (Opportunity or
    /// Customer).
    pub reached_deal: u64,
    /// `exits[k.index()]`: transitions of kind `k` leaving the stage.
    /// Serialized as a map from kind to count (non-zero counts only).
    #[serde(with = "by_kind")]
    pub exits: [u64; 11],
    /// Closed stays (entered and left within the window): their lengths.
    pub time_in_stage: Durations,
    /// Stays with a follow-up: time from entering to the first follow-up.
    pub follow_up: Durations,
    /// SLA breaches of stays starting in the window (past and open).
    pub sla_breaches: u64,
    /// Of those, the ones still open at `as_of`.
    pub sla_open: u64,
    /// The fit score of the leads entering, when scored.
    pub fit: Mean,
    /// The engagement score of the leads entering, when scored.
    pub engagement: Mean,
    /// Leads entering that submitted at least one form.
    pub with_form: u64,
    /// Content downloads by the leads entering.
    pub downloads: u64,
    /// Webinars attended by the leads entering.
    pub webinars: u64,
}

impl StageStats {
    /// Adds another stage's counts. Associative and commutative.
    pub fn merge(&mut self, other: &StageStats) {
        self.leads = self.leads.saturating_add(other.leads);
        self.entries = self.entries.saturating_add(other.entries);
        add_all(&mut self.reached, &other.reached);
        self.reached_deal = self.reached_deal.saturating_add(other.reached_deal);
        add_all(&mut self.exits, &other.exits);
        self.time_in_stage.merge(&other.time_in_stage);
        self.follow_up.merge(&other.follow_up);
        self.sla_breaches = self.sla_breaches.saturating_add(other.sla_breaches);
        self.sla_open = self.sla_open.saturating_add(other.sla_open);
        self.fit.merge(&other.fit);
        self.engagement.merge(&other.engagement);
        self.with_form = self.with_form.saturating_add(other.with_form);
        self.downloads = self.downloads.saturating_add(other.downloads);
        self.webinars = self.webinars.saturating_add(other.webinars);
    }

    /// How many of the leads later entered `stage`.
    pub fn reached(&self, stage: Stage) -> u64 {
        self.reached.get(stage.index()).copied().unwrap_or(0)
    }

    /// How many transitions of `kind` left the stage.
    pub fn exits(&self, kind: TransitionKind) -> u64 {
        self.exits.get(kind.index()).copied().unwrap_or(0)
    }

    fn sort(&mut self) {
        self.time_in_stage.sort();
        self.follow_up.sort();
    }
}

pub(super) fn add_all<const N: usize>(into: &mut [u64; N], from: &[u64; N]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = a.saturating_add(*b);
    }
}

/// A count and a total of money in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneySum {
    /// How many amounts.
    pub count: u64,
    /// Their total in minor units.
    pub total_minor: i128,
}

impl MoneySum {
    /// The average amount in minor units, rounded toward zero.
    pub fn average_minor(&self) -> Option<i64> {
        if self.count == 0 {
            return None;
        }
        let avg = self.total_minor / i128::from(self.count);
        i64::try_from(avg).ok()
    }
}

/// The funnel metrics of one segment (all leads, or one key of a
/// breakdown): mergeable counts, sums and exact duration samples.
///
/// Read it through [`kpis`](FunnelMetrics::kpis) for the named stage KPIs, or
/// the raw [`stage`](FunnelMetrics::stage) statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelMetrics {
    /// Leads created within the window: leads generated.
    pub created: u64,
    /// Per stage, indexed by [`Stage::index`]. Serialized as a map from
    /// stage to its statistics (stages with any data only).
    #[serde(with = "by_stage")]
    pub stages: [StageStats; 12],
    /// Transitions carrying a reason (reject, lose, recycle, disqualify), by
    /// kind and reason code, keys sorted.
    pub reasons: IndexMap<TransitionKind, IndexMap<ReasonCode, u64>>,
    /// Won deal values by currency, keys sorted.
    pub won_value: IndexMap<String, MoneySum>,
    /// Time from a lead's creation to each win.
    pub time_to_deal: Durations,
    /// The stages of the lifecycle the leads were measured under (the union
    /// over merged shards); `None` before any lead is added. A stage outside
    /// it is not in the data: its [`Kpis`](super::Kpis) are absent, not zero
    /// (see [`Kpis::has`](super::Kpis::has)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stages: Option<StageSet>,
}

impl FunnelMetrics {
    /// No leads.
    pub fn new() -> FunnelMetrics {
        FunnelMetrics::default()
    }

    /// The statistics of one stage.
    pub fn stage(&self, stage: Stage) -> &StageStats {
        self.stages.get(stage.index()).unwrap_or(&EMPTY_STAGE)
    }

    /// Of the leads entering `from`, the share that later entered `to`;
    /// `None` when no lead entered `from`.
    pub fn conversion(&self, from: Stage, to: Stage) -> Option<f64> {
        let s = self.stage(from);
        ratio(s.reached(to), s.leads)
    }

    /// How many transitions of `kind` carried reason `code`.
    pub fn reason_count(&self, kind: TransitionKind, code: ReasonCode) -> u64 {
        self.reasons
            .get(&kind)
            .and_then(|m| m.get(&code))
            .copied()
            .unwrap_or(0)
    }

    /// Adds another segment's metrics. Associative and commutative: metrics
    /// computed on shards of leads merge into the metrics of the whole.
    pub fn merge(&mut self, other: &FunnelMetrics) {
        self.created = self.created.saturating_add(other.created);
        if let Some(stages) = other.lifecycle_stages {
            self.add_lifecycle_stages(stages);
        }
        for (a, b) in self.stages.iter_mut().zip(&other.stages) {
            a.merge(b);
        }
        for (kind, codes) in &other.reasons {
            let mine = self.reasons.entry(*kind).or_default();
            for (code, n) in codes {
                let c = mine.entry(*code).or_default();
                *c = c.saturating_add(*n);
            }
            mine.sort_keys();
        }
        self.reasons.sort_keys();
        for (currency, sum) in &other.won_value {
            let mine = self.won_value.entry(currency.clone()).or_default();
            mine.count = mine.count.saturating_add(sum.count);
            mine.total_minor = mine.total_minor.saturating_add(sum.total_minor);
        }
        self.won_value.sort_keys();
        self.time_to_deal.merge(&other.time_to_deal);
    }

    pub(super) fn sort(&mut self) {
        for s in &mut self.stages {
            s.sort();
        }
        self.time_to_deal.sort();
        for m in self.reasons.values_mut() {
            m.sort_keys();
        }
        self.reasons.sort_keys();
        self.won_value.sort_keys();
    }

    /// Adds `stages` to the stages of the lifecycle measured.
    pub(super) fn add_lifecycle_stages(&mut self, stages: StageSet) {
        let mut all = self.lifecycle_stages.unwrap_or_default();
        for stage in stages.iter() {
            all.insert(stage);
        }
        self.lifecycle_stages = Some(all);
    }

    pub(super) fn add(&mut self, f: &LeadFacts) {
        if f.created {
            self.created = self.created.saturating_add(1);
        }
        for stage in f.entered.iter() {
            let i = stage.index();
            let Some(s) = self.stages.get_mut(i) else { continue };
            s.leads = s.leads.saturating_add(1);
            s.entries = s.entries.saturating_add(f.entries.get(i).copied().unwrap_or(0));
            if let Some(reach) = f.reach.get(i) {
                for b in reach.iter() {
                    if let Some(c) = s.reached.get_mut(b.index()) {
                        *c = c.saturating_add(1);
                    }
                }
                if reach.contains(Stage::Opportunity) || reach.contains(Stage::Customer) {
                    s.reached_deal = s.reached_deal.saturating_add(1);
                }
            }
            if let Some(fit) = f.fit {
                s.fit.add(fit);
            }
            if let Some(e) = f.engagement {
                s.engagement.add(e);
            }
            if f.forms > 0 {
                s.with_form = s.with_form.saturating_add(1);
            }
            s.downloads = s.downloads.saturating_add(f.downloads);
            s.webinars = s.webinars.saturating_add(f.webinars);
        }
        for (stage, kind) in &f.exits {
            if let Some(c) = self
                .stages
                .get_mut(stage.index())
                .and_then(|s| s.exits.get_mut(kind.index()))
            {
                *c = c.saturating_add(1);
            }
        }
        for (stage, secs) in &f.stays {
            if let Some(s) = self.stages.get_mut(stage.index()) {
                s.time_in_stage.push(*secs);
            }
        }
        for (stage, secs) in &f.follow_ups {
            if let Some(s) = self.stages.get_mut(stage.index()) {
                s.follow_up.push(*secs);
            }
        }
        for (stage, open) in &f.breaches {
            if let Some(s) = self.stages.get_mut(stage.index()) {
                s.sla_breaches = s.sla_breaches.saturating_add(1);
                if *open {
                    s.sla_open = s.sla_open.saturating_add(1);
                }
            }
        }
        for (kind, code) in &f.reasons {
            let c = self.reasons.entry(*kind).or_default().entry(*code).or_default();
            *c = c.saturating_add(1);
        }
        for money in &f.wins {
            let m = self.won_value.entry(money.currency.clone()).or_default();
            m.count = m.count.saturating_add(1);
            m.total_minor = m.total_minor.saturating_add(i128::from(money.minor));
        }
        for secs in &f.to_deal {
            self.time_to_deal.push(*secs);
        }
    }
}

static EMPTY_STAGE: StageStats = StageStats {
    leads: 0,
    entries: 0,
    reached: [0; 12],
    reached_deal: 0,
    exits: [0; 11],
    time_in_stage: Durations::EMPTY,
    follow_up: Durations::EMPTY,
    sla_breaches: 0,
    sla_open: 0,
    fit: Mean {
        count: 0,
        sum_milli: 0,
    },
    engagement: Mean {
        count: 0,
        sum_milli: 0,
    },
    with_form: 0,
    downloads: 0,
    webinars: 0,
};

/// Serde for dense arrays indexed by an enum: a map from the enum's names to
/// the non-default values, in declaration order.
mod dense {
    use indexmap::IndexMap;
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<K, T, S, const N: usize>(
        all: &[K],
        values: &[T; N],
        s: S,
    ) -> Result<S::Ok, S::Error>
    where
        K: Serialize,
        T: Serialize + Default + PartialEq,
        S: Serializer,
    {
        let empty = T::default();
        let present = || all.iter().zip(values).filter(|(_, v)| **v != empty);
        let mut map = s.serialize_map(Some(present().count()))?;
        for (k, v) in present() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, K, T, D, const N: usize>(
        index: impl Fn(K) -> usize,
        d: D,
    ) -> Result<[T; N], D::Error>
    where
        K: DeserializeOwned + std::hash::Hash + Eq,
        T: DeserializeOwned + Default,
        D: Deserializer<'de>,
        [T; N]: Default,
    {
        let map = IndexMap::<K, T>::deserialize(d)?;
        let mut out = <[T; N]>::default();
        for (k, v) in map {
            let i = index(k);
            *out.get_mut(i)
                .ok_or_else(|| D::Error::custom(format!("index {i} out of range")))? = v;
        }
        Ok(out)
    }
}

/// [`dense`] keyed by [`Stage`].
mod by_stage {
    use serde::de::DeserializeOwned;
    use serde::{Deserializer, Serialize, Serializer};

    use crate::stage::Stage;

    pub(super) fn serialize<T, S, const N: usize>(values: &[T; N], s: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize + Default + PartialEq,
        S: Serializer,
    {
        super::dense::serialize(&Stage::ALL, values, s)
    }

    pub(super) fn deserialize<'de, T, D, const N: usize>(d: D) -> Result<[T; N], D::Error>
    where
        T: DeserializeOwned + Default,
        D: Deserializer<'de>,
        [T; N]: Default,
    {
        super::dense::deserialize(Stage::index, d)
    }
}

/// [`dense`] keyed by [`TransitionKind`].
mod by_kind {
    use serde::de::DeserializeOwned;
    use serde::{Deserializer, Serialize, Serializer};

    use crate::lifecycle::TransitionKind;

    pub(super) fn serialize<T, S, const N: usize>(values: &[T; N], s: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize + Default + PartialEq,
        S: Serializer,
    {
        super::dense::serialize(&TransitionKind::ALL, values, s)
    }

    pub(super) fn deserialize<'de, T, D, const N: usize>(d: D) -> Result<[T; N], D::Error>
    where
        T: DeserializeOwned + Default,
        D: Deserializer<'de>,
        [T; N]: Default,
    {
        super::dense::deserialize(TransitionKind::index, d)
    }
}

pub(super) fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}
