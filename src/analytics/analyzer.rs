//! The analyzer: lead histories in, funnel metrics for all leads and per
//! breakdown key out.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::breakdown::Breakdown;
use super::facts::LeadFacts;
use super::input::{AnalysisConfig, LeadHistory};
use super::metrics::FunnelMetrics;
use crate::lifecycle::LifecycleStateMachine;
use crate::stage::StageSet;

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
/// use leadflow::analytics::{AnalysisConfig, FunnelAnalyzer, LeadHistory};
/// use leadflow::criteria::LeadView;
/// use leadflow::lifecycle::{LifecycleDefinition, Transition, TransitionKind};
/// use leadflow::{Lead, LeadId, OwnerId, Stage};
///
/// let machine = LifecycleDefinition::new(Stage::Mql)
///     .command(Stage::Mql, TransitionKind::Accept)
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
    stages: StageSet,
}

impl<'m> FunnelAnalyzer<'m> {
    /// A funnel over `machine`'s lifecycles.
    pub fn new(machine: &'m LifecycleStateMachine, config: AnalysisConfig) -> FunnelAnalyzer<'m> {
        let names = config.breakdowns.iter().map(Breakdown::name).collect();
        FunnelAnalyzer {
            machine,
            config,
            names,
            stages: machine.definition().stages(),
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
        analysis.overall.add_lifecycle_stages(self.stages);
        for (b, name) in self.config.breakdowns.iter().zip(&self.names) {
            let key = b.key(lead.lead, lead.lifecycle, self.config.as_of);
            let table = match analysis.breakdowns.get_mut(name.as_str()) {
                Some(t) => t,
                None => analysis.breakdowns.entry(name.clone()).or_default(),
            };
            let m = match table.get_mut(key.as_ref()) {
                Some(m) => m,
                None => table.entry(key.into_owned()).or_default(),
            };
            m.add(facts);
            m.add_lifecycle_stages(self.stages);
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::analytics::{MoneySum, NONE_KEY, StageStats};
    use crate::id::{CampaignId, LeadId, OwnerId};
    use crate::lead::{Channel, Lead, Source};
    use crate::lifecycle::{LeadLifecycle, LifecycleDefinition, Transition, TransitionKind};
    use crate::stage::Stage;

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

    #[test]
    fn kpis_of_stages_the_lifecycle_lacks_are_absent_not_zero() {
        // MQL -> Customer only, like the Olist data: no SAL, no SQL, no CSQL.
        let t = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap();
        let machine = LifecycleDefinition::new(Stage::Mql)
            .command(Stage::Mql, TransitionKind::Win)
            .build()
            .unwrap();
        let lead = Lead::new(LeadId::new("l").unwrap(), t);
        let mut life = machine.start(&lead);
        let view = crate::criteria::LeadView::new(&lead);
        machine
            .apply(
                &mut life,
                Transition::Win {
                    by: None,
                    value: None,
                },
                &view,
                t,
            )
            .unwrap();
        let analyzer = FunnelAnalyzer::new(&machine, AnalysisConfig::new(t + chrono::Duration::days(1)));
        let m = analyzer.analyze([LeadHistory::new(&lead, &life)]).overall;
        assert_eq!(
            m.lifecycle_stages,
            Some([Stage::Mql, Stage::Customer].into_iter().collect())
        );
        let k = m.kpis();
        assert!(k.has(Stage::Mql) && k.has(Stage::Customer));
        assert!(!k.has(Stage::Sal) && !k.has(Stage::Sql) && !k.has(Stage::Csql));
        assert_eq!(k.across.mql_to_sql, None);
        assert_eq!(k.across.mql_to_csql, None);
        assert!(k.across.conversions.is_empty(), "{:?}", k.across.conversions);
        // The stages measured survive a merge with an empty shard and serde.
        let mut merged = FunnelMetrics::new();
        merged.merge(&m);
        assert_eq!(merged, m);
        let back: FunnelMetrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        // Metrics built by hand know no lifecycle: every stage counts.
        assert!(FunnelMetrics::new().kpis().has(Stage::Sal));
    }
}
