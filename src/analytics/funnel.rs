//! Funnel metrics: per-stage counts, conversions, durations, SLA breaches and
//! reasons, computed from lifecycle records and merged across shards.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Durations, Kpis, Mean, Period};
use crate::event::{Event, EventType};
use crate::lead::{Lead, Source};
use crate::lifecycle::{LeadLifecycle, LifecycleStateMachine, Money, ReasonCode, TransitionKind};
use crate::points::Points;
use crate::scores::Scores;
use crate::stage::{Stage, StageSet};
use crate::value::AttrRef;

/// The key used when a lead has no value for a breakdown (no campaign, no
/// owner, a sales-generated lead's channel...).
pub const NONE_KEY: &str = "(none)";

/// A dimension to break funnel metrics down by. Serialized internally tagged:
/// `{"type": "channel"}`, `{"type": "attribute", "key": "origin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Breakdown {
    /// Marketing or sales generated (`"marketing"`, `"sales"`).
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Source,
    /// The marketing channel ([`Lead::attribute`]`("channel")`).
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Channel,
    /// The marketing campaign.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Campaign,
    /// The owner: the rep of the lead's latest accept (up to `as_of`), else
    /// the rep who generated a sales-generated lead.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Owner,
    /// The cohort: the month the lead was created, `YYYY-MM`.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Cohort,
    /// Any lead attribute, by name (see [`Lead::attribute`]).
    Attribute {
        /// The attribute name.
        key: String,
    },
}

impl Breakdown {
    /// Source, channel, campaign, owner and cohort.
    pub fn standard() -> Vec<Breakdown> {
        vec![
            Breakdown::Source,
            Breakdown::Channel,
            Breakdown::Campaign,
            Breakdown::Owner,
            Breakdown::Cohort,
        ]
    }

    /// The breakdown's name in [`FunnelAnalysis::breakdowns`]: `source`,
    /// `channel`, `campaign`, `owner`, `cohort`, or `attribute:KEY`.
    pub fn name(&self) -> String {
        match self {
            Breakdown::Source => "source".to_owned(),
            Breakdown::Channel => "channel".to_owned(),
            Breakdown::Campaign => "campaign".to_owned(),
            Breakdown::Owner => "owner".to_owned(),
            Breakdown::Cohort => "cohort".to_owned(),
            Breakdown::Attribute { key } => format!("attribute:{key}"),
        }
    }

    /// The lead's key in this breakdown, [`NONE_KEY`] when it has none.
    pub fn key_of(&self, lead: &Lead, lifecycle: &LeadLifecycle, as_of: DateTime<Utc>) -> String {
        self.key(lead, lifecycle, as_of).into_owned()
    }

    /// The key, borrowed when possible (the hot path of [`FunnelAnalyzer::observe`]).
    fn key<'l>(&self, lead: &'l Lead, lifecycle: &'l LeadLifecycle, as_of: DateTime<Utc>) -> Cow<'l, str> {
        let attr = |k: &str| match lead.attribute(k) {
            None => Cow::Borrowed(NONE_KEY),
            Some(AttrRef::Text(s)) => Cow::Borrowed(s),
            Some(other) => Cow::Owned(other.to_string()),
        };
        match self {
            Breakdown::Source => attr(crate::lead::keys::SOURCE),
            Breakdown::Channel => attr(crate::lead::keys::CHANNEL),
            Breakdown::Campaign => attr(crate::lead::keys::CAMPAIGN),
            Breakdown::Owner => Cow::Borrowed(owner(lead, lifecycle, as_of)),
            Breakdown::Cohort => {
                let d = lead.created_at;
                Cow::Owned(format!("{:04}-{:02}", d.year(), d.month()))
            }
            Breakdown::Attribute { key } => attr(key),
        }
    }
}

fn owner<'l>(lead: &'l Lead, lifecycle: &'l LeadLifecycle, as_of: DateTime<Utc>) -> &'l str {
    let accepted = lifecycle
        .history()
        .iter()
        .rev()
        .filter(|r| r.at <= as_of && r.transition.kind() == TransitionKind::Accept)
        .find_map(|r| r.transition.actor());
    match (accepted, &lead.source) {
        (Some(o), _) | (None, Source::Sales { rep: Some(o) }) => o.as_str(),
        _ => NONE_KEY,
    }
}

/// What to measure: the time of the measurement, an optional period and the
/// breakdowns. Data.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::analytics::{Breakdown, AnalysisConfig, Period};
///
/// let as_of = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
/// let config = AnalysisConfig::new(as_of)
///     .with_period(Period::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), as_of)?)
///     .with_breakdowns([Breakdown::Channel, Breakdown::Cohort]);
/// let json = serde_json::to_string(&config)?;
/// assert_eq!(serde_json::from_str::<AnalysisConfig>(&json)?, config);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The time of the measurement: records, events and follow-ups after it
    /// are ignored, and open stays and SLAs are judged at it.
    pub as_of: DateTime<Utc>,
    /// Only transitions (and lead creations, events, stays and SLA breaches
    /// starting) within `[from, to)`; all time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// The breakdowns to compute besides the overall metrics.
    #[serde(default = "Breakdown::standard")]
    pub breakdowns: Vec<Breakdown>,
}

impl AnalysisConfig {
    /// All time up to `as_of`, with the [standard](Breakdown::standard)
    /// breakdowns.
    pub fn new(as_of: DateTime<Utc>) -> AnalysisConfig {
        AnalysisConfig {
            as_of,
            period: None,
            breakdowns: Breakdown::standard(),
        }
    }

    /// Restricts to a period.
    pub fn with_period(mut self, period: Period) -> AnalysisConfig {
        self.period = Some(period);
        self
    }

    /// Replaces the breakdowns.
    pub fn with_breakdowns(mut self, breakdowns: impl IntoIterator<Item = Breakdown>) -> AnalysisConfig {
        self.breakdowns = breakdowns.into_iter().collect();
        self
    }

    fn in_window(&self, at: DateTime<Utc>) -> bool {
        at <= self.as_of && self.period.is_none_or(|p| p.contains(at))
    }
}

/// One lead's data for the funnel: the lead, its lifecycle, and optionally its
/// events and current scores.
///
/// Scores are the host's (from any scoring model): the funnel averages the fit
/// and engagement of the leads entering each stage, using the scores given
/// here.
#[derive(Debug, Clone, Copy)]
pub struct LeadHistory<'a> {
    /// The lead.
    pub lead: &'a Lead,
    /// Its lifecycle.
    pub lifecycle: &'a LeadLifecycle,
    /// Its events (any order).
    pub events: &'a [Event],
    /// Its scores, if scored.
    pub scores: Option<&'a Scores>,
}

impl<'a> LeadHistory<'a> {
    /// A lead and its lifecycle, without events or scores.
    pub fn new(lead: &'a Lead, lifecycle: &'a LeadLifecycle) -> LeadHistory<'a> {
        LeadHistory {
            lead,
            lifecycle,
            events: &[],
            scores: None,
        }
    }

    /// Sets the events.
    pub fn with_events(mut self, events: &'a [Event]) -> LeadHistory<'a> {
        self.events = events;
        self
    }

    /// Sets the scores.
    pub fn with_scores(mut self, scores: &'a Scores) -> LeadHistory<'a> {
        self.scores = Some(scores);
        self
    }
}

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

fn add_all<const N: usize>(into: &mut [u64; N], from: &[u64; N]) {
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

    /// The named stage KPIs.
    pub fn kpis(&self) -> Kpis {
        Kpis::from_metrics(self)
    }

    /// Adds another segment's metrics. Associative and commutative: metrics
    /// computed on shards of leads merge into the metrics of the whole.
    pub fn merge(&mut self, other: &FunnelMetrics) {
        self.created = self.created.saturating_add(other.created);
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

    fn sort(&mut self) {
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

    fn add(&mut self, f: &LeadFacts) {
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

pub(crate) fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Funnel metrics for all leads and for each key of each breakdown.
/// Mergeable: compute on shards of leads (each lead in one shard), then
/// [`merge`](FunnelAnalysis::merge) in any order or grouping.
///
/// Breakdown keys are kept sorted, so output is stable whatever the order of
/// leads or merges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelAnalysis {
    /// All leads.
    pub overall: FunnelMetrics,
    /// By breakdown name ([`Breakdown::name`]), then by key (sorted).
    pub breakdowns: IndexMap<String, IndexMap<String, FunnelMetrics>>,
}

impl FunnelAnalysis {
    /// No leads.
    pub fn new() -> FunnelAnalysis {
        FunnelAnalysis::default()
    }

    /// The metrics by key of one breakdown, if it was computed.
    pub fn by(&self, breakdown: &Breakdown) -> Option<&IndexMap<String, FunnelMetrics>> {
        self.breakdowns.get(&breakdown.name())
    }

    /// Adds another analysis (of other leads, with the same configuration).
    /// Associative and commutative.
    pub fn merge(&mut self, other: &FunnelAnalysis) {
        self.overall.merge(&other.overall);
        for (name, table) in &other.breakdowns {
            let mine = self.breakdowns.entry(name.clone()).or_default();
            for (key, m) in table {
                mine.entry(key.clone()).or_default().merge(m);
            }
            mine.sort_keys();
        }
    }

    /// Sorts duration samples and keys, so quantile queries need no copy.
    /// [`FunnelAnalyzer::analyze`] and [`merge`](Self::merge) leave the analysis
    /// sorted; call this after [`FunnelAnalyzer::observe`].
    pub fn sort(&mut self) {
        self.overall.sort();
        for table in self.breakdowns.values_mut() {
            table.sort_keys();
            for m in table.values_mut() {
                m.sort();
            }
        }
    }
}

/// Computes funnel metrics from lead histories, under a [`AnalysisConfig`]
/// and with the state machine whose SLAs apply.
///
/// # What is counted
///
/// Only what happens within the window (the period, if any, and up to
/// `as_of`): lead creations, transitions, events, and stays starting in it.
/// A lead enters a stage when created in it or moved to it; conversion from
/// stage A to B is the share of leads entering A that entered B afterwards,
/// within the window.
///
/// # Example
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use leadflow::analytics::{FunnelAnalyzer, AnalysisConfig, LeadHistory};
/// use leadflow::criteria::LeadView;
/// use leadflow::{Lead, LeadId, LifecycleDefinition, OwnerId, Stage, Transition};
///
/// let machine = LifecycleDefinition::new(Stage::Mql)
///     .command(Stage::Mql, leadflow::TransitionKind::Accept)
///     .build()?;
/// let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let a = Lead::new(LeadId::new("a")?, t0);
/// let b = Lead::new(LeadId::new("b")?, t0);
/// let mut la = machine.start(&a);
/// let lb = machine.start(&b);
/// machine.apply(&mut la, Transition::Accept { owner: OwnerId::new("rep")? },
///               &LeadView::new(&a), t0 + Duration::hours(3))?;
///
/// let funnel = FunnelAnalyzer::new(&machine, AnalysisConfig::new(t0 + Duration::days(1)));
/// let analysis = funnel.analyze([LeadHistory::new(&a, &la), LeadHistory::new(&b, &lb)]);
/// assert_eq!(analysis.overall.stage(Stage::Mql).leads, 2);
/// assert_eq!(analysis.overall.conversion(Stage::Mql, Stage::Sal), Some(0.5));
/// assert_eq!(analysis.overall.stage(Stage::Mql).time_in_stage.median(), Some(3 * 3600));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FunnelAnalyzer<'m> {
    machine: &'m LifecycleStateMachine,
    config: AnalysisConfig,
    /// The breakdowns' names, computed once.
    names: Vec<String>,
}

impl<'m> FunnelAnalyzer<'m> {
    /// A funnel over `machine`'s lifecycles.
    pub fn new(machine: &'m LifecycleStateMachine, config: AnalysisConfig) -> FunnelAnalyzer<'m> {
        let names = config.breakdowns.iter().map(Breakdown::name).collect();
        FunnelAnalyzer {
            machine,
            config,
            names,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AnalysisConfig {
        &self.config
    }

    /// Adds one lead to an analysis (overall and each configured breakdown).
    /// Leads with nothing in the window add nothing. Call
    /// [`FunnelAnalysis::sort`] when done.
    pub fn observe(&self, analysis: &mut FunnelAnalysis, lead: &LeadHistory<'_>) {
        self.observe_with(analysis, lead, &mut LeadFacts::default());
    }

    fn observe_with(&self, analysis: &mut FunnelAnalysis, lead: &LeadHistory<'_>, facts: &mut LeadFacts) {
        facts.fill(self.machine, &self.config, lead);
        if facts.entered.is_empty() {
            return;
        }
        analysis.overall.add(facts);
        for (b, name) in self.config.breakdowns.iter().zip(&self.names) {
            let key = b.key(lead.lead, lead.lifecycle, self.config.as_of);
            let table = match analysis.breakdowns.get_mut(name.as_str()) {
                Some(t) => t,
                None => analysis.breakdowns.entry(name.clone()).or_default(),
            };
            match table.get_mut(key.as_ref()) {
                Some(m) => m.add(facts),
                None => table.entry(key.into_owned()).or_default().add(facts),
            }
        }
    }

    /// The analysis of many leads, sorted.
    pub fn analyze<'a>(&self, leads: impl IntoIterator<Item = LeadHistory<'a>>) -> FunnelAnalysis {
        let mut analysis = FunnelAnalysis::new();
        let mut facts = LeadFacts::default();
        for lead in leads {
            self.observe_with(&mut analysis, &lead, &mut facts);
        }
        analysis.sort();
        analysis
    }
}

/// One lead's contribution, computed once and added to every segment.
#[derive(Debug, Default)]
struct LeadFacts {
    created: bool,
    entered: StageSet,
    entries: [u64; 12],
    /// `reach[a]`: the stages entered after the first entry into `a`.
    reach: [StageSet; 12],
    exits: Vec<(Stage, TransitionKind)>,
    reasons: Vec<(TransitionKind, ReasonCode)>,
    stays: Vec<(Stage, i64)>,
    follow_ups: Vec<(Stage, i64)>,
    breaches: Vec<(Stage, bool)>,
    fit: Option<Points>,
    engagement: Option<Points>,
    forms: u64,
    downloads: u64,
    webinars: u64,
    wins: Vec<Money>,
    to_deal: Vec<i64>,
}

impl LeadFacts {
    /// Computes one lead's facts into `self`, reusing its buffers.
    fn fill(&mut self, machine: &LifecycleStateMachine, config: &AnalysisConfig, h: &LeadHistory<'_>) {
        let life = h.lifecycle;
        let f = self;
        f.clear();
        // The sequence of entries within the window: (stage, position).
        let mut first = [usize::MAX; 12];
        let mut last = [0usize; 12];
        let mut pos = 0usize;
        let mut enter = |f: &mut LeadFacts, stage: Stage| {
            let i = stage.index();
            f.entered.insert(stage);
            if let Some(e) = f.entries.get_mut(i) {
                *e = e.saturating_add(1);
            }
            if let Some(x) = first.get_mut(i) {
                *x = (*x).min(pos);
            }
            if let Some(x) = last.get_mut(i) {
                *x = pos;
            }
            pos += 1;
        };
        if config.in_window(life.created_at()) {
            f.created = true;
            enter(f, life.initial_stage());
        }
        for r in life.history().iter().filter(|r| config.in_window(r.at)) {
            enter(f, r.to);
            f.exits.push((r.from, r.transition.kind()));
            if let Some(reason) = r.transition.reason() {
                f.reasons.push((r.transition.kind(), reason.code));
            }
            if r.transition.kind() == TransitionKind::Win {
                if let Some(v) = r.transition.value() {
                    f.wins.push(v.clone());
                }
                f.to_deal.push((r.at - life.created_at()).num_seconds());
            }
        }
        for (a, reach) in f.reach.iter_mut().enumerate() {
            let Some(&fa) = first.get(a) else { continue };
            if fa == usize::MAX {
                continue;
            }
            *reach = Stage::ALL
                .into_iter()
                .filter(|b| first.get(b.index()).is_some_and(|x| *x != usize::MAX))
                .filter(|b| last.get(b.index()).is_some_and(|lb| *lb > fa))
                .collect();
        }
        for v in life.visits() {
            if !config.in_window(v.entered_at) {
                continue;
            }
            if let Some(x) = v.exited_at.filter(|x| *x <= config.as_of) {
                f.stays.push((v.stage, (x - v.entered_at).num_seconds()));
            }
            if let Some(d) = v.first_follow_up.filter(|t| *t <= config.as_of) {
                f.follow_ups.push((v.stage, (d - v.entered_at).num_seconds()));
            }
        }
        if !machine.definition().slas.is_empty() {
            for b in life.sla_breaches(machine, config.as_of) {
                if config.in_window(b.entered_at) {
                    f.breaches.push((b.sla.stage, b.is_open()));
                }
            }
        }
        if let Some(s) = h.scores {
            f.fit = Some(s.fit);
            f.engagement = Some(s.engagement);
        }
        for e in h.events.iter().filter(|e| config.in_window(e.at)) {
            match e.event_type() {
                EventType::FormSubmit => f.forms += 1,
                EventType::ContentDownload => f.downloads += 1,
                EventType::WebinarAttend => f.webinars += 1,
                _ => {}
            }
        }
    }

    fn clear(&mut self) {
        self.created = false;
        self.entered = StageSet::EMPTY;
        self.entries = [0; 12];
        self.reach = [StageSet::EMPTY; 12];
        self.exits.clear();
        self.reasons.clear();
        self.stays.clear();
        self.follow_ups.clear();
        self.breaches.clear();
        self.fit = None;
        self.engagement = None;
        self.forms = 0;
        self.downloads = 0;
        self.webinars = 0;
        self.wins.clear();
        self.to_deal.clear();
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::id::{CampaignId, LeadId, OwnerId};
    use crate::lead::Channel;
    use crate::lifecycle::{LifecycleDefinition, Transition};

    #[test]
    fn breakdown_names_and_serde() {
        let all = [
            Breakdown::Source,
            Breakdown::Channel,
            Breakdown::Campaign,
            Breakdown::Owner,
            Breakdown::Cohort,
            Breakdown::Attribute { key: "origin".into() },
        ];
        let names: Vec<String> = all.iter().map(Breakdown::name).collect();
        assert_eq!(
            names,
            [
                "source",
                "channel",
                "campaign",
                "owner",
                "cohort",
                "attribute:origin"
            ]
        );
        let json = serde_json::to_string(&all).unwrap();
        assert!(json.contains(r#"{"type":"attribute","key":"origin"}"#), "{json}");
        assert_eq!(serde_json::from_str::<Vec<Breakdown>>(&json).unwrap(), all);
        // Missing breakdowns in data mean the standard ones.
        let c: AnalysisConfig = serde_json::from_str(r#"{"as_of": "2026-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(c.breakdowns, Breakdown::standard());
    }

    #[test]
    fn keys_of_a_lead() {
        let t = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap();
        let machine = LifecycleDefinition::new(Stage::Mql)
            .command(Stage::Mql, TransitionKind::Accept)
            .build()
            .unwrap();
        let lead = Lead::new(LeadId::new("l").unwrap(), t).with_source(Source::Marketing {
            channel: Channel::Email,
            campaign: Some(CampaignId::new("spring").unwrap()),
        });
        let mut life = machine.start(&lead);
        let key = |b: &Breakdown, life: &LeadLifecycle| b.key_of(&lead, life, t + chrono::Duration::days(1));
        assert_eq!(key(&Breakdown::Owner, &life), NONE_KEY);
        machine
            .apply(
                &mut life,
                Transition::Accept {
                    owner: OwnerId::new("rep").unwrap(),
                },
                &crate::criteria::LeadView::new(&lead),
                t,
            )
            .unwrap();
        assert_eq!(key(&Breakdown::Source, &life), "marketing");
        assert_eq!(key(&Breakdown::Channel, &life), "email");
        assert_eq!(key(&Breakdown::Campaign, &life), "spring");
        assert_eq!(key(&Breakdown::Owner, &life), "rep");
        assert_eq!(key(&Breakdown::Cohort, &life), "2026-02");
        assert_eq!(
            key(
                &Breakdown::Attribute {
                    key: "industry".into()
                },
                &life
            ),
            NONE_KEY
        );
        // The accept after as_of does not count.
        assert_eq!(
            Breakdown::Owner.key_of(&lead, &life, t - chrono::Duration::hours(1)),
            NONE_KEY
        );
    }

    #[test]
    fn stages_serialize_as_maps_of_what_is_there() {
        let mut m = FunnelMetrics::new();
        m.stages[Stage::Sal.index()].leads = 2;
        m.stages[Stage::Sal.index()].reached[Stage::Sql.index()] = 1;
        m.stages[Stage::Sal.index()].exits[TransitionKind::Recycle.index()] = 1;
        let json = serde_json::to_value(&m).unwrap();
        let sal = &json["stages"]["sal"];
        assert_eq!(json["stages"].as_object().unwrap().len(), 1);
        assert_eq!(sal["reached"], serde_json::json!({"sql": 1}));
        assert_eq!(sal["exits"], serde_json::json!({"recycle": 1}));
        assert_eq!(serde_json::from_value::<FunnelMetrics>(json).unwrap(), m);
    }

    #[test]
    fn empty_metrics_have_no_rates() {
        let m = FunnelMetrics::new();
        assert_eq!(m.conversion(Stage::Mql, Stage::Sql), None);
        assert_eq!(m.stage(Stage::Csql), &StageStats::default());
        assert_eq!(MoneySum::default().average_minor(), None);
    }
}
