//! Tests of `leadflow::analytics`: every stage KPI on a small
//! hand-checked history, period filtering, breakdowns, merging shard metrics
//! (proptest), the account roll-up with buying-group coverage and MQA, the
//! CSQL criteria, and the Olist figures (from the shared data, which must be
//! present: the test fails, naming what is missing, when it is not).

#[allow(dead_code)]
#[path = "../../examples/kpi_report/synth.rs"]
mod synth;

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::account::{AccountError, AccountModel, BuyingRole, Rollup};
use leadflow::analytics::{
    AnalysisConfig, Breakdown, FunnelAnalysis, FunnelAnalyzer, LeadHistory, NONE_KEY, Period,
};
use leadflow::criteria::{Checklist, Condition, LeadView};
use leadflow::lifecycle::{
    ExpansionCriteria, ExpansionError, LeadLifecycle, LifecycleDefinition, Money, QualifiedBy, Reason,
    ReasonCode, Transition, TransitionKind, csql_evidence,
};
use leadflow::{
    AccountId, AssetType, AttrValue, CampaignId, Channel, Dimension, Event, EventId, EventKind, Lead, LeadId,
    LifecycleStateMachine, OwnerId, Points, Predicate, Scores, Seniority, Source, Stage,
};
use proptest::prelude::*;

const H: i64 = 3600;
const D: i64 = 24 * H;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn hours(h: i64) -> DateTime<Utc> {
    t0() + Duration::hours(h)
}

fn days(d: i64) -> DateTime<Utc> {
    t0() + Duration::days(d)
}

fn owner(s: &str) -> OwnerId {
    OwnerId::new(s).unwrap()
}

fn eur(units: i64) -> Money {
    Money::new(units * 100, "EUR")
}

fn scores(fit: i64, engagement: i64) -> Scores {
    Scores {
        fit: Points::new(fit),
        engagement: Points::new(engagement),
        combined: Points::new(fit + engagement),
        ..Scores::default()
    }
}

fn manual() -> QualifiedBy {
    QualifiedBy::Manual {
        by: owner("marketing"),
        note: None,
    }
}

fn bant() -> Checklist {
    Checklist::new()
        .met("budget", "ok")
        .met("authority", "ok")
        .met("need", "ok")
}

/// One lead of the hand-checked history.
struct Row {
    lead: Lead,
    life: LeadLifecycle,
    events: Vec<Event>,
    scores: Option<Scores>,
}

impl Row {
    fn history(&self) -> LeadHistory<'_> {
        let h = LeadHistory::new(&self.lead, &self.life).with_events(&self.events);
        match &self.scores {
            Some(s) => h.with_scores(s),
            None => h,
        }
    }
}

struct Builder<'m> {
    machine: &'m LifecycleStateMachine,
    row: Row,
}

impl<'m> Builder<'m> {
    fn new(machine: &'m LifecycleStateMachine, id: &str, source: Source) -> Builder<'m> {
        let lead = Lead::new(LeadId::new(id).unwrap(), t0()).with_source(source);
        let life = machine.start(&lead);
        Builder {
            machine,
            row: Row {
                lead,
                life,
                events: Vec::new(),
                scores: None,
            },
        }
    }

    fn at(mut self, at: DateTime<Utc>, t: Transition) -> Self {
        let view = LeadView::new(&self.row.lead);
        self.machine.apply(&mut self.row.life, t, &view, at).unwrap();
        self
    }

    fn follow_up(mut self, at: DateTime<Utc>) -> Self {
        self.row.life.record_follow_up(at, None);
        self
    }

    fn event(mut self, kind: EventKind) -> Self {
        let id = EventId::new(format!("{}-{}", self.row.lead.id, self.row.events.len())).unwrap();
        self.row
            .events
            .push(Event::new(id, self.row.lead.id.clone(), hours(1), kind));
        self
    }

    fn scores(mut self, fit: i64, engagement: i64) -> Self {
        self.row.scores = Some(scores(fit, engagement));
        self
    }
}

fn machine() -> LifecycleStateMachine {
    LifecycleDefinition::standard_b2b(Condition::score_at_least(Dimension::Combined, 60))
        .build()
        .unwrap()
}

fn marketing(channel: Channel) -> Source {
    Source::marketing(channel)
}

/// The hand-checked history (all leads created at t0):
///
/// | lead | source | path |
/// |---|---|---|
/// | A | paid_search/spring | Lead →1h MAL →2h MQL →4h SAL (jane, follow-up +2h) →1d SQL →2d Opp →10d Customer (12000 EUR) →30d CSQL |
/// | B | paid_search | Lead →1h MAL →3h MQL →5h rejected (no_budget) |
/// | C | email | Lead →0 MAL →1h MQL →30h SAL (bob, follow-up +10h) →3d SQL →5d lost (price) →6d recycled (bad_timing) |
/// | D | email | Lead →0 MAL →2h disqualified (student) |
/// | E | sales (jane) | SGL →1h SAL (jane, no follow-up) |
/// | F | sales (bob) | SGL →1d SQL →20d Customer (5000 EUR) |
/// | G | organic_search | stays a Lead |
fn history(m: &LifecycleStateMachine) -> Vec<Row> {
    use Transition as T;
    let spring = Source::Marketing {
        channel: Channel::PaidSearch,
        campaign: Some(CampaignId::new("spring").unwrap()),
    };
    let dl = |asset| EventKind::ContentDownload {
        asset,
        asset_id: None,
    };
    let form = EventKind::FormSubmit { form: None };
    vec![
        Builder::new(m, "A", spring)
            .scores(40, 30)
            .event(form.clone())
            .event(dl(AssetType::Whitepaper))
            .event(dl(AssetType::PricingSheet))
            .event(EventKind::WebinarAttend { webinar: None })
            .at(hours(1), T::MarketingAccept { by: manual() })
            .at(hours(2), T::Qualify { by: manual() })
            .at(
                hours(4),
                T::Accept {
                    owner: owner("rep-jane"),
                },
            )
            .follow_up(hours(6))
            .at(
                days(1),
                T::QualifyForSales {
                    by: owner("rep-jane"),
                    evidence: bant(),
                },
            )
            .at(
                days(2),
                T::Convert {
                    by: None,
                    value: Some(eur(10_000)),
                },
            )
            .at(
                days(10),
                T::Win {
                    by: None,
                    value: Some(eur(12_000)),
                },
            )
            .at(days(30), T::FlagForExpansion { by: manual() })
            .row,
        Builder::new(m, "B", marketing(Channel::PaidSearch))
            .scores(20, 10)
            .event(form)
            .event(dl(AssetType::Ebook))
            .at(hours(1), T::MarketingAccept { by: manual() })
            .at(hours(3), T::Qualify { by: manual() })
            .at(
                hours(5),
                T::Reject {
                    by: owner("rep-jane"),
                    reason: Reason::new(ReasonCode::NoBudget),
                },
            )
            .row,
        Builder::new(m, "C", marketing(Channel::Email))
            .scores(30, 50)
            .at(t0(), T::MarketingAccept { by: manual() })
            .at(hours(1), T::Qualify { by: manual() })
            .at(
                hours(30),
                T::Accept {
                    owner: owner("rep-bob"),
                },
            )
            .follow_up(hours(40))
            .at(
                days(3),
                T::QualifyForSales {
                    by: owner("rep-bob"),
                    evidence: bant(),
                },
            )
            .at(
                days(5),
                T::Lose {
                    by: None,
                    reason: Reason::new(ReasonCode::Price),
                },
            )
            .at(
                days(6),
                T::Recycle {
                    by: None,
                    reason: Reason::new(ReasonCode::BadTiming),
                },
            )
            .row,
        Builder::new(m, "D", marketing(Channel::Email))
            .at(t0(), T::MarketingAccept { by: manual() })
            .at(
                hours(2),
                T::Disqualify {
                    by: None,
                    reason: Reason::new(ReasonCode::Student),
                },
            )
            .row,
        Builder::new(m, "E", Source::sales(Some(owner("rep-jane"))))
            .scores(50, 0)
            .at(
                hours(1),
                T::Accept {
                    owner: owner("rep-jane"),
                },
            )
            .row,
        Builder::new(m, "F", Source::sales(Some(owner("rep-bob"))))
            .scores(10, 0)
            .at(
                days(1),
                T::QualifyForSales {
                    by: owner("rep-bob"),
                    evidence: bant(),
                },
            )
            .at(
                days(20),
                T::Win {
                    by: None,
                    value: Some(eur(5_000)),
                },
            )
            .row,
        Builder::new(m, "G", marketing(Channel::OrganicSearch)).row,
    ]
}

fn analyze(m: &LifecycleStateMachine, rows: &[Row], config: AnalysisConfig) -> FunnelAnalysis {
    FunnelAnalyzer::new(m, config).analyze(rows.iter().map(Row::history))
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn every_kpi_on_the_hand_checked_history() {
    let m = machine();
    let rows = history(&m);
    let a = analyze(&m, &rows, AnalysisConfig::new(days(60)));
    let o = &a.overall;
    let k = o.kpis();

    // MAL
    assert_eq!(k.mal.leads_generated, 7);
    assert_eq!(k.mal.mals, 4);
    assert_eq!(k.mal.avg_fit, Some(Points::new(30))); // (40 + 20 + 30) / 3, D unscored
    assert!(close(k.mal.form_completion_rate, 0.5)); // A, B of A, B, C, D
    // MQL
    assert_eq!(k.mql.mqls, 3);
    assert!(close(k.mql.promotion_rate, 0.75));
    assert_eq!(k.mql.avg_engagement, Some(Points::new(30))); // (30 + 10 + 50) / 3
    assert_eq!((k.mql.downloads, k.mql.webinars), (3, 1));
    assert!(close(k.mql.content_per_mql, 4.0 / 3.0));
    // SGL
    assert_eq!(k.sgl.sgls, 2);
    assert_eq!(k.sgl.avg_fit, Some(Points::new(30)));
    assert!(close(k.sgl.deal_rate, 0.5));
    // SAL
    assert_eq!(k.sal.sals, 3);
    assert_eq!((k.sal.accepted, k.sal.rejected), (2, 1));
    assert!(close(k.sal.acceptance_rate, 2.0 / 3.0));
    assert_eq!(k.sal.follow_up_median_secs, Some(2 * H));
    assert_eq!(k.sal.follow_up_p90_secs, Some(10 * H));
    assert!(close(k.sal.to_sql_rate, 2.0 / 3.0));
    assert_eq!((k.sal.sla_breaches, k.sal.sla_open), (1, 1)); // E never followed up
    // SQL
    assert_eq!(k.sql.sqls, 3);
    assert_eq!((k.sql.won, k.sql.lost), (2, 1));
    assert!(close(k.sql.win_rate, 2.0 / 3.0));
    assert!(close(k.sql.to_customer_rate, 2.0 / 3.0));
    assert_eq!(k.sql.avg_deal_value["EUR"], eur(8_500));
    // Across
    assert!(close(k.across.mql_to_sql, 2.0 / 3.0));
    assert!(close(k.across.sql_to_csql, 1.0 / 3.0));
    assert!(close(k.across.mql_to_csql, 1.0 / 3.0));
    assert_eq!(k.across.time_to_deal_median_secs, Some(10 * D));
    assert_eq!(k.across.time_to_deal_p90_secs, Some(20 * D));
    assert_eq!(
        (
            k.across.recycled,
            k.across.disqualified,
            k.across.rejected,
            k.across.lost
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(o.reason_count(TransitionKind::Recycle, ReasonCode::BadTiming), 1);
    assert_eq!(o.reason_count(TransitionKind::Disqualify, ReasonCode::Student), 1);
    assert_eq!(o.reason_count(TransitionKind::Reject, ReasonCode::NoBudget), 1);
    assert_eq!(o.reason_count(TransitionKind::Lose, ReasonCode::Price), 1);
    assert_eq!(
        k.across
            .sla_breaches
            .iter()
            .map(|(s, n)| (*s, *n))
            .collect::<Vec<_>>(),
        [
            (Stage::Mql, 1), // C waited 29 h for sales
            (Stage::Sal, 1)
        ]
    );
    assert_eq!(o.stage(Stage::Mql).sla_open, 0);
    let conv: Vec<(Stage, Stage, u64, u64)> = k
        .across
        .conversions
        .iter()
        .map(|c| (c.from, c.to, c.leads, c.converted))
        .collect();
    assert_eq!(
        conv,
        [
            (Stage::Lead, Stage::Mal, 5, 4),
            (Stage::Mal, Stage::Mql, 4, 3),
            (Stage::Mql, Stage::Sal, 3, 2),
            (Stage::Sgl, Stage::Sal, 2, 1),
            (Stage::Sal, Stage::Sql, 3, 2),
            (Stage::Sql, Stage::Opportunity, 3, 1),
            (Stage::Opportunity, Stage::Customer, 1, 1),
            (Stage::Sql, Stage::Customer, 3, 2),
            (Stage::Customer, Stage::Csql, 2, 1),
            (Stage::Nurture, Stage::Mql, 2, 0),
        ]
    );
    // Time in stage: Lead stays of A 1h, B 1h, C 0, D 0 (G still open).
    let lead_time = k
        .across
        .time_in_stage
        .iter()
        .find(|t| t.stage == Stage::Lead)
        .unwrap();
    assert_eq!(
        (lead_time.stays, lead_time.median_secs, lead_time.p90_secs),
        (4, 0, H)
    );
    // MQL stays: A 2h, B 2h, C 29h.
    let mql_time = k
        .across
        .time_in_stage
        .iter()
        .find(|t| t.stage == Stage::Mql)
        .unwrap();
    assert_eq!(
        (mql_time.stays, mql_time.median_secs, mql_time.p90_secs),
        (3, 2 * H, 29 * H)
    );
    // Stage counts and exits.
    assert_eq!(o.stage(Stage::Customer).leads, 2);
    assert_eq!(o.stage(Stage::Nurture).entries, 2);
    assert_eq!(o.stage(Stage::Mql).exits(TransitionKind::Accept), 2);
    assert_eq!(o.won_value["EUR"].count, 2);
}

#[test]
fn breakdowns_by_source_channel_campaign_owner_cohort() {
    let m = machine();
    let rows = history(&m);
    let a = analyze(&m, &rows, AnalysisConfig::new(days(60)));
    let keys = |b: &Breakdown| a.by(b).unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&Breakdown::Source), ["marketing", "sales"]);
    assert_eq!(
        keys(&Breakdown::Channel),
        [NONE_KEY, "email", "organic_search", "paid_search"]
    );
    assert_eq!(keys(&Breakdown::Campaign), [NONE_KEY, "spring"]);
    assert_eq!(keys(&Breakdown::Owner), [NONE_KEY, "rep-bob", "rep-jane"]);
    assert_eq!(keys(&Breakdown::Cohort), ["2026-03"]);

    let ch = a.by(&Breakdown::Channel).unwrap();
    assert_eq!(ch["paid_search"].kpis().mql.mqls, 2);
    assert_eq!(ch["paid_search"].conversion(Stage::Mql, Stage::Sal), Some(0.5));
    assert_eq!(ch["email"].kpis().across.disqualified, 1);
    let owners = a.by(&Breakdown::Owner).unwrap();
    assert_eq!(owners["rep-jane"].stage(Stage::Sal).leads, 2); // A and E
    assert_eq!(owners["rep-bob"].kpis().sql.won, 1); // F
    // The cohort holds everyone: equal to the overall metrics.
    assert_eq!(a.by(&Breakdown::Cohort).unwrap()["2026-03"], a.overall);
    // Any attribute can be a breakdown.
    let by_id = analyze(
        &m,
        &rows,
        AnalysisConfig::new(days(60)).with_breakdowns([Breakdown::Attribute { key: "source".into() }]),
    );
    assert_eq!(by_id.breakdowns.keys().collect::<Vec<_>>(), ["attribute:source"]);
    assert_eq!(
        by_id.by(&Breakdown::Attribute { key: "source".into() }).unwrap()["sales"]
            .kpis()
            .sgl
            .sgls,
        2
    );
}

#[test]
fn period_keeps_only_what_happens_within_it() {
    let m = machine();
    let rows = history(&m);
    let period = Period::new(days(1), days(60)).unwrap();
    let a = analyze(&m, &rows, AnalysisConfig::new(days(60)).with_period(period));
    let o = &a.overall;
    assert_eq!(o.created, 0);
    assert_eq!(o.stage(Stage::Mql).leads, 0);
    // SQL entries at 1d (A, F) and 3d (C).
    assert_eq!(o.stage(Stage::Sql).leads, 3);
    assert_eq!(o.conversion(Stage::Sql, Stage::Customer), Some(2.0 / 3.0));
    // C's MQL breach and E's SAL breach began before the period.
    assert!(o.kpis().across.sla_breaches.is_empty());
    // The B and D lifecycles ended before the period: they are not counted.
    assert_eq!(o.reason_count(TransitionKind::Disqualify, ReasonCode::Student), 0);
    assert_eq!(o.reason_count(TransitionKind::Recycle, ReasonCode::BadTiming), 1);

    // `as_of` ignores what happens later.
    let early = analyze(&m, &rows, AnalysisConfig::new(hours(3)));
    assert_eq!(early.overall.stage(Stage::Mql).leads, 3); // C at 1h, A at 2h, B at 3h (inclusive)
    assert_eq!(early.overall.stage(Stage::Sal).leads, 1); // E at 1h; A at 4h is later
}

#[test]
fn serde_round_trip_of_an_analysis() {
    let m = machine();
    let rows = history(&m);
    let a = analyze(&m, &rows, AnalysisConfig::new(days(60)));
    let json = serde_json::to_string(&a).unwrap();
    let back: FunnelAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

fn synthetic_histories(seed: u64, n: usize) -> (LifecycleStateMachine, synth::Synthetic) {
    let m = synth::machine().unwrap();
    let s = synth::generate(&m, seed, n, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()).unwrap();
    (m, s)
}

fn shard_analysis(
    m: &LifecycleStateMachine,
    s: &synth::Synthetic,
    config: &AnalysisConfig,
    pick: &[usize],
) -> FunnelAnalysis {
    let funnel = FunnelAnalyzer::new(m, config.clone());
    funnel.analyze(pick.iter().map(|&i| {
        LeadHistory::new(&s.leads[i], &s.lives[i])
            .with_events(&s.events[i])
            .with_scores(&s.scores[i])
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Split leads into random shards, compute each, merge in a random order
    /// and grouping: equal to the metrics of the whole.
    #[test]
    fn merged_shards_equal_the_whole(
        seed in 0u64..1_000,
        n in 1usize..60,
        shards in 1usize..5,
        assignment in proptest::collection::vec(0usize..5, 60),
        order in proptest::collection::vec(0usize..100, 5),
        with_period in any::<bool>(),
    ) {
        let (m, s) = synthetic_histories(seed, n);
        let mut config = AnalysisConfig::new(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap());
        if with_period {
            config = config.with_period(Period::new(
                Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap(),
            ).unwrap());
        }
        let all: Vec<usize> = (0..n).collect();
        let whole = shard_analysis(&m, &s, &config, &all);
        let mut parts: Vec<FunnelAnalysis> = (0..shards)
            .map(|k| {
                let pick: Vec<usize> = all.iter().copied().filter(|i| assignment[*i] % shards == k).collect();
                shard_analysis(&m, &s, &config, &pick)
            })
            .collect();
        // Random order, random grouping: repeatedly merge two parts.
        let mut o = order.into_iter().cycle();
        while parts.len() > 1 {
            let i = o.next().unwrap() % parts.len();
            let a = parts.swap_remove(i);
            let j = o.next().unwrap() % parts.len();
            parts[j].merge(&a);
        }
        let merged = parts.pop().unwrap();
        prop_assert_eq!(&merged, &whole);
        // Deterministic output: the same JSON, key order included.
        prop_assert_eq!(serde_json::to_string(&merged).unwrap(), serde_json::to_string(&whole).unwrap());
    }

    /// Merge is associative and commutative on arbitrary shard metrics.
    #[test]
    fn merge_is_associative_and_commutative(seed in 0u64..1_000, n in 3usize..30) {
        let (m, s) = synthetic_histories(seed, n);
        let config = AnalysisConfig::new(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap());
        let third = n / 3;
        let idx: Vec<usize> = (0..n).collect();
        let a = shard_analysis(&m, &s, &config, &idx[..third]);
        let b = shard_analysis(&m, &s, &config, &idx[third..2 * third]);
        let c = shard_analysis(&m, &s, &config, &idx[2 * third..]);
        let mut ab_c = a.clone();
        ab_c.merge(&b);
        ab_c.merge(&c);
        let mut bc = b.clone();
        bc.merge(&c);
        let mut a_bc = a.clone();
        a_bc.merge(&bc);
        prop_assert_eq!(&ab_c, &a_bc);
        let mut ba = b.clone();
        ba.merge(&a);
        let mut ab = a.clone();
        ab.merge(&b);
        prop_assert_eq!(ba, ab);
    }
}

#[test]
fn synthetic_history_goes_through_every_stage() {
    let (m, s) = synthetic_histories(7, 400);
    let a = FunnelAnalyzer::new(
        &m,
        AnalysisConfig::new(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
    )
    .analyze((0..s.leads.len()).map(|i| LeadHistory::new(&s.leads[i], &s.lives[i])));
    for stage in Stage::ALL {
        assert!(a.overall.stage(stage).leads > 0, "no lead entered {stage}");
    }
}

// ---- account view ----

fn member(id: &str, account: &str, seniority: Seniority) -> Lead {
    let mut l = Lead::new(LeadId::new(id).unwrap(), t0()).with_account(AccountId::new(account).unwrap());
    l.person.seniority = Some(seniority);
    l
}

#[test]
fn account_rollup_and_buying_group_coverage() {
    let vp = member("vp", "acme", Seniority::Vp);
    let mgr = member("mgr", "acme", Seniority::Manager);
    let mut dev = member("dev", "acme", Seniority::Entry);
    dev.set_attribute("buying_role", "champion").unwrap(); // a custom role assignment
    let other = member("x", "globex", Seniority::Director);
    let orphan = Lead::new(LeadId::new("orphan").unwrap(), t0());
    let (s_vp, s_mgr, s_dev) = (scores(30, 40), scores(20, 5), scores(10, 25));
    let demo = [Event::new(
        EventId::new("d").unwrap(),
        mgr.id.clone(),
        hours(1),
        EventKind::DemoRequest,
    )];
    let views = [
        LeadView::new(&vp).with_scores(&s_vp),
        LeadView::new(&mgr).with_scores(&s_mgr).with_events(&demo),
        LeadView::new(&dev).with_scores(&s_dev),
        LeadView::new(&other),
        LeadView::new(&orphan),
    ];
    let now = days(1);
    for (rollup, combined) in [
        (Rollup::Sum, 70 + 25 + 35),
        (Rollup::Max, 70),
        (Rollup::TopN { n: 2 }, 70 + 35),
    ] {
        let mut model = AccountModel::standard();
        model.rollup = rollup;
        let accounts = model.roll_up_all(views, now);
        assert_eq!(
            accounts.keys().map(AccountId::as_str).collect::<Vec<_>>(),
            ["acme", "globex"]
        );
        assert_eq!(
            accounts[&AccountId::new("acme").unwrap()].scores.combined,
            Points::new(combined),
            "{rollup:?}"
        );
    }
    let model = AccountModel::standard();
    let accounts = model.roll_up_all(views, now);
    let acme = &accounts[&AccountId::new("acme").unwrap()];
    assert_eq!((acme.leads, acme.engaged_leads), (3, 3)); // vp (40), mgr (demo), dev (25)
    let ids = |v: &[LeadId]| v.iter().map(LeadId::as_str).collect::<Vec<_>>().join(",");
    assert_eq!(ids(&acme.coverage["decision_maker"].engaged), "vp");
    assert_eq!(ids(&acme.coverage["champion"].engaged), "mgr,dev");
    assert_eq!(ids(&acme.coverage["user"].leads), "dev");
    assert_eq!((acme.roles_present, acme.roles_engaged), (3, 3));
    assert!(acme.missing_roles().is_empty());
    // Sum of top 3 = 130 < 150: not yet an MQA, and the verdict says why.
    assert!(!acme.is_mqa());
    assert!(
        acme.mqa.to_string().contains("combined score 130 < 150"),
        "{}",
        acme.mqa
    );
    let globex = &accounts[&AccountId::new("globex").unwrap()];
    assert_eq!(globex.engaged_leads, 0);
    assert!(globex.coverage["decision_maker"].is_present());
    assert_eq!(globex.missing_roles(), ["decision_maker", "champion", "user"]);

    // A lower bar makes acme an MQA; the model is data.
    let mut lower = AccountModel::standard();
    lower.mqa = Condition::all([
        Condition::score_at_least(Dimension::Combined, 120),
        Condition::attribute("engaged:decision_maker", Predicate::equals(true)),
        Condition::attribute("leads", Predicate::at_least(3.0)),
    ]);
    let json = serde_json::to_string(&lower).unwrap();
    let lower: AccountModel = serde_json::from_str(&json).unwrap();
    assert!(lower.roll_up_all(views, now)[&AccountId::new("acme").unwrap()].is_mqa());
}

#[test]
fn account_model_validation() {
    let mut m = AccountModel::standard();
    m.rollup = Rollup::TopN { n: 0 };
    assert_eq!(m.validate(), Err(AccountError::ZeroTopN));
    let mut m = AccountModel::standard();
    m.roles.push(BuyingRole::by_seniority("user", &["intern"]));
    assert!(matches!(m.validate(), Err(AccountError::DuplicateRole { name }) if name == "user"));
    let mut m = AccountModel::standard();
    m.roles.push(BuyingRole::new("", Condition::all([])));
    assert_eq!(m.validate(), Err(AccountError::EmptyRoleName { index: 3 }));
    let mut m = AccountModel::standard();
    m.mqa = Condition::any([]);
    let err = m.validate().unwrap_err();
    assert!(err.to_string().starts_with("mqa: any at $ has no parts"), "{err}");
}

// ---- CSQL ----

fn customer_events(
    id: &LeadId,
    at: DateTime<Utc>,
    seats: f64,
    adoption: f64,
    feedback: &[i64],
) -> Vec<Event> {
    let mut out = vec![
        Event::new(
            EventId::new("u1").unwrap(),
            id.clone(),
            at,
            EventKind::ProductUsage { feature: None },
        )
        .with_property("seat_utilisation", AttrValue::number(seats).unwrap()),
        Event::new(
            EventId::new("u2").unwrap(),
            id.clone(),
            at,
            EventKind::ProductUsage { feature: None },
        )
        .with_property("feature_adoption", AttrValue::number(adoption).unwrap()),
    ];
    for (i, score) in feedback.iter().enumerate() {
        out.push(Event::new(
            EventId::new(format!("f{i}")).unwrap(),
            id.clone(),
            at,
            EventKind::Feedback { score: *score },
        ));
    }
    out
}

#[test]
fn csql_criteria_flag_expansion_candidates_with_evidence() {
    let m = ExpansionCriteria::standard()
        .apply_to(LifecycleDefinition::standard_b2b(Condition::score_at_least(
            Dimension::Combined,
            60,
        )))
        .unwrap()
        .build()
        .unwrap();
    let lead = Lead::new(LeadId::new("cust").unwrap(), t0()).with_source(Source::sales(None));
    let start = |m: &LifecycleStateMachine| {
        let mut life = m.start(&lead);
        let v = LeadView::new(&lead);
        m.apply(
            &mut life,
            Transition::QualifyForSales {
                by: owner("r"),
                evidence: bant(),
            },
            &v,
            hours(1),
        )
        .unwrap();
        m.apply(
            &mut life,
            Transition::Win {
                by: None,
                value: None,
            },
            &v,
            days(1),
        )
        .unwrap();
        life
    };
    let now = days(60);
    let cases: [(f64, f64, &[i64], bool); 5] = [
        (0.9, 0.7, &[9], true),
        (0.5, 0.7, &[9], false),     // seats under-used
        (0.9, 0.3, &[10], false),    // features not adopted
        (0.9, 0.7, &[8], false),     // not satisfied enough
        (0.9, 0.7, &[10, 4], false), // a detractor
    ];
    for (seats, adoption, feedback, flagged) in cases {
        let mut life = start(&m);
        let events = customer_events(&lead.id, days(55), seats, adoption, feedback);
        let fired = m
            .advance(&mut life, &LeadView::new(&lead).with_events(&events), now)
            .len();
        assert_eq!(fired == 1, flagged, "{seats} {adoption} {feedback:?}");
        assert_eq!(life.stage() == Stage::Csql, flagged);
        if flagged {
            let record = life.history().last().unwrap();
            assert_eq!((record.from, record.to), (Stage::Customer, Stage::Csql));
            let evidence = csql_evidence(record).unwrap();
            assert!(evidence.outcome.is_met());
            let reasons = evidence.met_reasons().join("; ");
            assert!(reasons.contains("seat_utilisation"), "{reasons}");
        }
    }
    // Usage older than the 30-day window does not count.
    let mut life = start(&m);
    let events = customer_events(&lead.id, days(20), 0.9, 0.7, &[9]);
    assert!(
        m.advance(&mut life, &LeadView::new(&lead).with_events(&events), now)
            .is_empty()
    );
    // A manual flag carries no criterion evidence.
    let mut life = start(&m);
    m.apply(
        &mut life,
        Transition::FlagForExpansion { by: manual() },
        &LeadView::new(&lead),
        now,
    )
    .unwrap();
    assert!(csql_evidence(life.history().last().unwrap()).is_none());
}

#[test]
fn csql_criteria_validation() {
    let mut c = ExpansionCriteria::standard();
    c.seat_utilisation_at_least = f64::NAN;
    assert!(matches!(
        c.to_condition(),
        Err(ExpansionError::NonFinite {
            field: "seat_utilisation_at_least",
            ..
        })
    ));
    let mut c = ExpansionCriteria::standard();
    c.usage_window = leadflow::Span::ZERO;
    assert!(matches!(c.to_condition(), Err(ExpansionError::Condition { .. })));
    let json = serde_json::to_string(&ExpansionCriteria::standard()).unwrap();
    assert_eq!(
        serde_json::from_str::<ExpansionCriteria>(&json).unwrap(),
        ExpansionCriteria::standard()
    );
}

// ---- Olist (the shared data must be present) ----

#[allow(dead_code)]
#[path = "../../examples/kpi_report/olist.rs"]
mod olist;

#[test]
fn olist_figures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/olist-marketing-funnel");
    for file in [olist::MQL_FILE, olist::DEALS_FILE] {
        assert!(
            dir.join(file).is_file(),
            "the Olist data is missing: {} should hold {file} (the shared data lives in ../shared/data beside the crate; see its PROVENANCE.md)",
            dir.display()
        );
    }
    let data = olist::load(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let s = olist::summary(&olist::analyze(&data));
    assert_eq!((s.mqls, s.won), (8_000, 842));
    assert!((s.mql_to_won_rate - 842.0 / 8_000.0).abs() < 1e-12);
    // Calendar days first contact → won (nearest rank); one deal is at -2 days.
    assert_eq!((s.median_days_to_won, s.p90_days_to_won), (Some(14), Some(162)));
    assert_eq!(s.by_origin.values().map(|g| g.mqls).sum::<u64>(), 8_000);
    assert_eq!(s.by_origin.values().map(|g| g.won).sum::<u64>(), 842);
    assert_eq!(s.by_origin["organic_search"].mqls, 2_296);
    assert_eq!(s.by_origin["(none)"].mqls, 60);
    // The README quotes this run: keep it true.
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_else(|e| panic!("reading README.md: {e}"));
    let quoted = format!("({},{:03} MQLs, {} won)", s.mqls / 1000, s.mqls % 1000, s.won);
    assert!(
        readme.contains(&quoted),
        "README.md should quote the Olist run as {quoted}"
    );
}

#[test]
fn analytics_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FunnelAnalysis>();
    check::<FunnelAnalyzer<'static>>();
    check::<AccountModel>();
    check::<leadflow::account::AccountRollup>();
    check::<ExpansionCriteria>();
}
