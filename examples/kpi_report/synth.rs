//! A seeded, synthetic lead history through every stage of the standard B2B
//! lifecycle (Lead, MAL, MQL, SGL, SAL, SQL, Opportunity, Customer, CSQL,
//! Nurture, Disqualified, Lost), generated with the core
//! `LifecycleStateMachine`: automatic edges fire through `advance`, sales
//! decisions are commands through `apply`. Deterministic: a SplitMix64 PRNG
//! seeded by the caller, no `rand`.
//!
//! Shared by the `kpi_report` example, the analytics tests and bench.

use std::error::Error;

use chrono::{DateTime, Duration, Utc};
use leadflow::criteria::{Checklist, Condition, LeadView};
use leadflow::lifecycle::{
    ExpansionCriteria, LeadLifecycle, LifecycleDefinition, Money, Reason, ReasonCode, Transition,
};
use leadflow::{
    AccountId, AssetType, AttrValue, CampaignId, Channel, Dimension, Event, EventId, EventKind, Lead, LeadId,
    LifecycleStateMachine, OwnerId, Points, Scores, Seniority, Source,
};

/// The crate's deterministic generator with the few helpers this history
/// needs.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(leadflow::tuning::SplitMix64);

impl SplitMix64 {
    /// A generator from a seed.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(leadflow::tuning::SplitMix64::new(seed))
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    /// True with probability `percent / 100`.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    /// One of the items.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Leads with their lifecycles, events and scores, index-aligned.
#[derive(Debug, Default)]
pub(crate) struct Synthetic {
    /// The leads.
    pub(crate) leads: Vec<Lead>,
    /// Their lifecycles.
    pub(crate) lives: Vec<LeadLifecycle>,
    /// Their events.
    pub(crate) events: Vec<Vec<Event>>,
    /// Their scores.
    pub(crate) scores: Vec<Scores>,
}

impl Synthetic {
    /// The number of transition records.
    pub(crate) fn records(&self) -> usize {
        self.lives.iter().map(|l| l.history().len()).sum()
    }
}

/// The standard B2B lifecycle, MQL at a combined score of 60, with the
/// standard CSQL expansion criteria automatic on Customer.
pub(crate) fn machine() -> Result<LifecycleStateMachine, Box<dyn Error>> {
    let def = LifecycleDefinition::standard_b2b(Condition::score_at_least(Dimension::Combined, 60));
    Ok(ExpansionCriteria::standard().apply_to(def)?.build()?)
}

const REPS: [&str; 4] = ["rep-ana", "rep-bo", "rep-chen", "rep-dee"];
const CHANNELS: [Channel; 6] = [
    Channel::OrganicSearch,
    Channel::PaidSearch,
    Channel::Social,
    Channel::Email,
    Channel::Referral,
    Channel::Event,
];
const REASONS: [ReasonCode; 5] = [
    ReasonCode::NoBudget,
    ReasonCode::BadTiming,
    ReasonCode::NoNeed,
    ReasonCode::NotAFit,
    ReasonCode::Unresponsive,
];
const SENIORITIES: [Seniority; 6] = [
    Seniority::Entry,
    Seniority::Senior,
    Seniority::Manager,
    Seniority::Director,
    Seniority::Vp,
    Seniority::CLevel,
];

/// One lead being generated: the machine moves it; time only goes forward.
struct Step<'m> {
    machine: &'m LifecycleStateMachine,
    lead: Lead,
    life: LeadLifecycle,
    events: Vec<Event>,
    scores: Scores,
    now: DateTime<Utc>,
}

impl Step<'_> {
    fn wait_hours(&mut self, rng: &mut SplitMix64, lo: i64, hi: i64) {
        self.now += Duration::minutes(rng.between(lo * 60, hi * 60));
    }

    fn event(&mut self, kind: EventKind) -> Result<(), Box<dyn Error>> {
        let id = EventId::new(format!("{}-e{}", self.lead.id, self.events.len()))?;
        self.events
            .push(Event::new(id, self.lead.id.clone(), self.now, kind));
        Ok(())
    }

    fn advance(&mut self, scored: bool) -> usize {
        let view = LeadView::new(&self.lead).with_events(&self.events);
        let view = if scored {
            view.with_scores(&self.scores)
        } else {
            view
        };
        self.machine.advance(&mut self.life, &view, self.now).len()
    }

    fn apply(&mut self, t: Transition) -> Result<(), Box<dyn Error>> {
        let view = LeadView::new(&self.lead).with_events(&self.events);
        self.machine.apply(&mut self.life, t, &view, self.now)?;
        Ok(())
    }
}

fn rep(rng: &mut SplitMix64) -> Result<OwnerId, Box<dyn Error>> {
    Ok(OwnerId::new(rng.pick(&REPS))?)
}

fn reason(rng: &mut SplitMix64) -> Reason {
    Reason::new(*rng.pick(&REASONS))
}

fn bant() -> Checklist {
    Checklist::new()
        .met("budget", "approved")
        .met("authority", "signs")
        .met("need", "clear")
}

/// `n` leads created over 180 days from `start`, deterministic in `seed`.
pub(crate) fn generate(
    machine: &LifecycleStateMachine,
    seed: u64,
    n: usize,
    start: DateTime<Utc>,
) -> Result<Synthetic, Box<dyn Error>> {
    let mut rng = SplitMix64::new(seed);
    let mut out = Synthetic::default();
    let accounts = (n / 4).max(1) as u64;
    for i in 0..n {
        let created = start + Duration::minutes(rng.between(0, 180 * 24 * 60));
        let sales = rng.chance(15);
        let source = if sales {
            Source::sales(Some(rep(&mut rng)?))
        } else {
            Source::Marketing {
                channel: *rng.pick(&CHANNELS),
                campaign: if rng.chance(50) {
                    Some(CampaignId::new(*rng.pick(&[
                        "spring",
                        "summer",
                        "webinar-series",
                    ]))?)
                } else {
                    None
                },
            }
        };
        let mut lead = Lead::new(LeadId::new(format!("lead-{seed}-{i}"))?, created)
            .with_source(source)
            .with_account(AccountId::new(format!("acct-{}", rng.below(accounts)))?);
        lead.person.seniority = Some(*rng.pick(&SENIORITIES));
        if rng.chance(90) {
            lead.person.set_email("someone@acme.example");
        }
        let fit = rng.between(0, 60);
        let engagement = rng.between(0, 60);
        let scores = Scores {
            fit: Points::new(fit),
            engagement: Points::new(engagement),
            combined: Points::new(fit + engagement),
            ..Scores::default()
        };
        let life = machine.start(&lead);
        let mut s = Step {
            machine,
            lead,
            life,
            events: Vec::new(),
            scores,
            now: created,
        };
        if sales {
            sales_path(&mut s, &mut rng)?;
        } else {
            marketing_path(&mut s, &mut rng)?;
        }
        out.leads.push(s.lead);
        out.lives.push(s.life);
        out.events.push(s.events);
        out.scores.push(s.scores);
    }
    Ok(out)
}

fn marketing_path(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    s.wait_hours(rng, 0, 48);
    if rng.chance(85) {
        s.event(EventKind::FormSubmit {
            form: Some("contact".into()),
        })?;
    } else {
        s.event(EventKind::PageView {
            path: "/blog".into(),
            category: None,
        })?;
    }
    for _ in 0..rng.below(3) {
        s.wait_hours(rng, 0, 24);
        let asset = *rng.pick(&[
            AssetType::Whitepaper,
            AssetType::CaseStudy,
            AssetType::PricingSheet,
        ]);
        s.event(EventKind::ContentDownload {
            asset,
            asset_id: None,
        })?;
    }
    if rng.chance(30) {
        s.wait_hours(rng, 1, 72);
        s.event(EventKind::WebinarAttend {
            webinar: Some("demo-day".into()),
        })?;
    }
    // Lead → MAL when identified (scores not known yet).
    if s.advance(false) == 0 {
        return Ok(());
    }
    if rng.chance(5) {
        s.wait_hours(rng, 1, 24);
        return s.apply(Transition::Disqualify {
            by: None,
            reason: Reason::new(ReasonCode::Student),
        });
    }
    // MAL → MQL once scored, if the combined score reaches 60.
    s.wait_hours(rng, 1, 96);
    if s.advance(true) == 0 {
        return Ok(());
    }
    mql(s, rng)
}

fn mql(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    s.wait_hours(rng, 1, 40);
    let roll = rng.below(100);
    if roll < 70 {
        s.apply(Transition::Accept { owner: rep(rng)? })?;
        sal(s, rng)
    } else if roll < 90 {
        s.apply(Transition::Reject {
            by: rep(rng)?,
            reason: reason(rng),
        })?;
        nurture(s, rng)
    } else {
        Ok(()) // never decided: an open MQL SLA breach
    }
}

fn nurture(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    if rng.chance(30) {
        s.wait_hours(rng, 24 * 20, 24 * 60);
        s.event(EventKind::DemoRequest)?;
        s.scores.engagement += Points::new(20);
        s.scores.combined += Points::new(20);
        if s.advance(true) > 0 {
            return mql(s, rng);
        }
    }
    Ok(())
}

fn sal(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    let entered = s.now;
    if rng.chance(90) {
        let by = rep(rng)?;
        s.life
            .record_follow_up(entered + Duration::minutes(rng.between(10, 48 * 60)), Some(by));
    }
    s.wait_hours(rng, 48, 240);
    let roll = rng.below(100);
    if roll < 60 {
        s.apply(Transition::QualifyForSales {
            by: rep(rng)?,
            evidence: bant(),
        })?;
        sql(s, rng)
    } else if roll < 75 {
        s.apply(Transition::Recycle {
            by: Some(rep(rng)?),
            reason: reason(rng),
        })?;
        nurture(s, rng)
    } else if roll < 85 {
        s.apply(Transition::Disqualify {
            by: Some(rep(rng)?),
            reason: reason(rng),
        })
    } else {
        Ok(())
    }
}

fn sales_path(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    s.wait_hours(rng, 1, 72);
    let roll = rng.below(100);
    if roll < 50 {
        s.apply(Transition::Accept { owner: rep(rng)? })?;
        sal(s, rng)
    } else if roll < 80 {
        s.apply(Transition::QualifyForSales {
            by: rep(rng)?,
            evidence: bant(),
        })?;
        sql(s, rng)
    } else {
        s.apply(Transition::Disqualify {
            by: Some(rep(rng)?),
            reason: reason(rng),
        })
    }
}

fn deal_value(rng: &mut SplitMix64) -> Money {
    Money::new(rng.between(5_000, 50_000) * 100, "EUR")
}

fn sql(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    s.wait_hours(rng, 24, 24 * 14);
    let roll = rng.below(100);
    if roll < 50 {
        s.apply(Transition::Convert {
            by: Some(rep(rng)?),
            value: Some(deal_value(rng)),
        })?;
        s.wait_hours(rng, 24 * 7, 24 * 60);
        if rng.chance(45) {
            s.apply(Transition::Win {
                by: Some(rep(rng)?),
                value: Some(deal_value(rng)),
            })?;
            customer(s, rng)
        } else {
            lost(s, rng)
        }
    } else if roll < 70 {
        s.apply(Transition::Win {
            by: Some(rep(rng)?),
            value: Some(deal_value(rng)),
        })?;
        customer(s, rng)
    } else if roll < 90 {
        lost(s, rng)
    } else {
        s.apply(Transition::Recycle {
            by: Some(rep(rng)?),
            reason: reason(rng),
        })
    }
}

fn lost(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    let why = Reason::new(*rng.pick(&[
        ReasonCode::Price,
        ReasonCode::LostToCompetitor,
        ReasonCode::BadTiming,
    ]));
    s.apply(Transition::Lose {
        by: Some(rep(rng)?),
        reason: why,
    })?;
    if rng.chance(30) {
        s.wait_hours(rng, 24 * 30, 24 * 90);
        s.apply(Transition::Recycle {
            by: None,
            reason: Reason::new(ReasonCode::BadTiming),
        })?;
    }
    Ok(())
}

fn customer(s: &mut Step<'_>, rng: &mut SplitMix64) -> Result<(), Box<dyn Error>> {
    s.wait_hours(rng, 24 * 30, 24 * 90);
    let heavy = rng.chance(40);
    let seats = if heavy { 0.85 } else { 0.4 };
    s.event(EventKind::ProductUsage {
        feature: Some("seats".into()),
    })?;
    if let Some(e) = s.events.last_mut() {
        e.shape
            .properties
            .insert("seat_utilisation".into(), AttrValue::number(seats)?);
        e.shape
            .properties
            .insert("feature_adoption".into(), AttrValue::number(0.7)?);
    }
    s.event(EventKind::Feedback {
        score: if heavy { 9 } else { 6 },
    })?;
    s.wait_hours(rng, 1, 24);
    s.advance(true);
    Ok(())
}
