//! Seeded synthetic workloads: realistic leads and event streams for
//! examples, benchmarks, load tests and demos.
//!
//! Activity is spread over leads with a Zipf-like law (a few leads do a lot,
//! most do little), the event mix follows the domain (page views and email
//! dominate; demo and contact requests are rare), and attributes cover the
//! fit signals a B2B model scores. The same configuration always generates
//! the same workload, on every platform.
//!
//! # Example
//!
//! ```
//! use leadflow::synthetic::WorkloadConfig;
//!
//! let w = WorkloadConfig::new(1_000, 20_000).generate();
//! assert_eq!(w.leads.len(), 1_000);
//! assert_eq!(w.events.len(), 20_000);
//! // Deterministic: the same seed gives the same events.
//! let again = WorkloadConfig::new(1_000, 20_000).generate();
//! assert_eq!(w.events[123], again.events[123]);
//! ```

use chrono::{DateTime, TimeZone, Utc};

use crate::criteria::Condition;
use crate::event::{AssetType, Event, EventKind, EventType, PageCategory};
use crate::id::{AccountId, EventId, GroupId, LeadId, ModelVersion, RuleId};
use crate::lead::{Channel, JobFunction, Lead, Seniority, Source};
use crate::lifecycle::{DefinitionError, LifecycleDefinition, LifecycleStateMachine};
use crate::matcher::EventMatcher;
use crate::scores::Dimension;
use crate::scoring::{ModelError, Rule, ScoringModel, b2b_default_builder};
use crate::span::Span;

/// Moved to [`tuning::SplitMix64`](crate::tuning::SplitMix64) (the generator
/// no longer belongs to the test-data generator).
#[deprecated(since = "0.2.0", note = "use `leadflow::tuning::SplitMix64`")]
pub type SplitMix64 = crate::rng::SplitMix64;

/// What to generate: [`WorkloadConfig::new`] or [`Default`], then the
/// `with_` methods.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WorkloadConfig {
    /// Number of leads.
    pub leads: usize,
    /// Number of events.
    pub events: usize,
    /// The seed.
    pub seed: u64,
    /// The Zipf exponent of activity over leads (0 = uniform; 1 is typical).
    pub zipf_exponent: f64,
    /// When the history starts.
    pub start: DateTime<Utc>,
    /// How long the history lasts.
    pub span: Span,
    /// Share of leads created by sales (SGLs), from 0 to 1.
    pub sales_share: f64,
    /// Leads per account (companies with several contacts).
    pub leads_per_account: usize,
}

impl WorkloadConfig {
    /// `leads` leads and `events` events, the rest as [`Default`].
    pub fn new(leads: usize, events: usize) -> WorkloadConfig {
        WorkloadConfig {
            leads,
            events,
            ..WorkloadConfig::default()
        }
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> WorkloadConfig {
        self.seed = seed;
        self
    }

    /// Sets the Zipf exponent of activity over leads.
    pub fn with_zipf_exponent(mut self, exponent: f64) -> WorkloadConfig {
        self.zipf_exponent = exponent;
        self
    }

    /// Sets when the history starts.
    pub fn with_start(mut self, start: DateTime<Utc>) -> WorkloadConfig {
        self.start = start;
        self
    }

    /// Sets how long the history lasts.
    pub fn with_span(mut self, span: Span) -> WorkloadConfig {
        self.span = span;
        self
    }

    /// Sets the share of leads created by sales, from 0 to 1.
    pub fn with_sales_share(mut self, share: f64) -> WorkloadConfig {
        self.sales_share = share;
        self
    }

    /// Sets the leads per account.
    pub fn with_leads_per_account(mut self, leads: usize) -> WorkloadConfig {
        self.leads_per_account = leads;
        self
    }
}

impl Default for WorkloadConfig {
    /// 10 000 leads, 200 000 events over 180 days from 2026-01-01, seed 42,
    /// Zipf exponent 1.0, 5 % sales-generated, 4 leads per account.
    fn default() -> WorkloadConfig {
        WorkloadConfig {
            leads: 10_000,
            events: 200_000,
            seed: 42,
            zipf_exponent: 1.0,
            start: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            span: Span::days(180),
            sales_share: 0.05,
            leads_per_account: 4,
        }
    }
}

/// A generated workload: leads and their events, sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The leads, in id order.
    pub leads: Vec<Lead>,
    /// The events, sorted by time (ties by generation order).
    pub events: Vec<Event>,
}

const INDUSTRIES: [&str; 8] = [
    "software",
    "fintech",
    "manufacturing",
    "healthcare",
    "retail",
    "logistics",
    "education",
    "government",
];
const COUNTRIES: [&str; 6] = ["US", "DE", "GB", "FR", "IN", "BR"];
const CHANNELS: [Channel; 8] = [
    Channel::OrganicSearch,
    Channel::PaidSearch,
    Channel::Social,
    Channel::Email,
    Channel::Referral,
    Channel::Event,
    Channel::Direct,
    Channel::Display,
];

impl WorkloadConfig {
    /// Generates the workload.
    pub fn generate(&self) -> Workload {
        let mut rng = crate::rng::SplitMix64::new(self.seed);
        // A span past the calendar's end stops there.
        let end = self.span.after(self.start).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let span_secs = (end - self.start).num_seconds().max(1);
        let leads: Vec<Lead> = (0..self.leads)
            .map(|i| self.lead(i, &mut rng, span_secs))
            .collect();
        let cdf = zipf_cdf(self.leads, self.zipf_exponent);
        // Heavy leads are spread over the id space, not the first ids.
        let mut rank_to_lead: Vec<usize> = (0..self.leads).collect();
        rng.shuffle(&mut rank_to_lead);
        let mut events = Vec::with_capacity(self.events);
        for n in 0..self.events {
            let rank = cdf
                .partition_point(|c| *c < rng.next_f64())
                .min(self.leads.saturating_sub(1));
            let Some(lead) = rank_to_lead.get(rank).and_then(|i| leads.get(*i)) else {
                break;
            };
            let from = lead.created_at;
            let secs = (end - from).num_seconds().max(1) as u64;
            let at = later(from, rng.below(secs));
            let kind = random_kind(&mut rng);
            let Ok(id) = EventId::new(format!("e{n}")) else {
                break;
            };
            let mut e = Event::new(id, lead.id.clone(), at, kind);
            if rng.below(3) == 0 {
                e.shape.channel = CHANNELS.get(rng.below(CHANNELS.len() as u64) as usize).copied();
            }
            events.push(e);
        }
        events.sort_by_key(|e| e.at);
        Workload { leads, events }
    }

    fn lead(&self, i: usize, rng: &mut crate::rng::SplitMix64, span_secs: i64) -> Lead {
        let created = later(self.start, rng.below((span_secs as u64 * 4 / 5).max(1)));
        let id =
            LeadId::new(format!("lead-{i:07}")).unwrap_or_else(|_| unreachable!("generated ids are valid"));
        let mut lead = Lead::new(id, created);
        let source = if rng.next_f64() < self.sales_share {
            Source::sales(None)
        } else {
            Source::marketing(
                *CHANNELS
                    .get(rng.below(CHANNELS.len() as u64) as usize)
                    .unwrap_or(&Channel::Other),
            )
        };
        lead.source = source;
        let per_account = self.leads_per_account.max(1);
        lead.account = AccountId::new(format!("acct-{:06}", i / per_account)).ok();
        let pick = |rng: &mut crate::rng::SplitMix64, n: usize| rng.below(n as u64) as usize;
        lead.company.industry = INDUSTRIES
            .get(pick(rng, INDUSTRIES.len()))
            .map(|s| (*s).to_owned());
        lead.company.country = COUNTRIES.get(pick(rng, COUNTRIES.len())).map(|s| (*s).to_owned());
        // Log-uniform company size from 1 to ~20 000.
        lead.company.employees = Some((20_000f64.powf(rng.next_f64())) as u32);
        lead.person.seniority = Seniority::ALL.get(pick(rng, Seniority::ALL.len())).copied();
        lead.person.function = JobFunction::ALL.get(pick(rng, JobFunction::ALL.len())).copied();
        lead.person.set_email(if rng.below(5) == 0 {
            "x@gmail.com"
        } else {
            "x@company.example"
        });
        lead
    }
}

impl Workload {
    /// The events in a plausible arrival order: the time-sorted stream
    /// shuffled within consecutive windows of `window` of event time (from
    /// the first event), so each event arrives less than `window` late
    /// (choose it within the engine's allowed lateness). A zero window keeps
    /// the time order.
    ///
    /// ```
    /// use leadflow::Span;
    /// use leadflow::synthetic::WorkloadConfig;
    /// let w = WorkloadConfig::new(100, 1_000).generate();
    /// let shuffled = w.arrival_order(Span::days(1), 7);
    /// assert_eq!(shuffled.len(), w.events.len());
    /// assert_ne!(shuffled, w.events);
    /// ```
    pub fn arrival_order(&self, window: Span, seed: u64) -> Vec<Event> {
        let mut events = self.events.clone();
        let (Some(first), true) = (events.first().map(|e| e.at), window.as_seconds() > 0) else {
            return events;
        };
        let bucket = |e: &Event| (e.at - first).num_seconds() / window.as_seconds();
        let mut rng = crate::rng::SplitMix64::new(seed);
        for chunk in events.chunk_by_mut(|a, b| bucket(a) == bucket(b)) {
            rng.shuffle(chunk);
        }
        events
    }
}

/// The benchmark scoring model: the [default B2B
/// preset](crate::scoring::b2b_default_builder) plus five rules, 30 rules in
/// six groups (five of them capped), with decay, limits and a window.
///
/// # Errors
///
/// [`ModelError`] only if the preset stopped validating.
///
/// ```
/// let model = leadflow::synthetic::scoring_model()?;
/// assert_eq!(model.rules().len(), 30);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scoring_model() -> Result<ScoringModel, ModelError> {
    let version = ModelVersion::new("synthetic@1").map_err(|source| ModelError::InvalidVersion { source })?;
    let days = Span::days;
    let extra = [
        Rule::event(RuleId::known("ad_click"), EventType::AdClick, 2)
            .group(GroupId::known("web"))
            .once_per(days(1)),
        Rule::event(
            RuleId::known("docs"),
            EventMatcher::of(EventType::PageView).with_path_prefix("/docs"),
            2,
        )
        .group(GroupId::known("web"))
        .once_per(days(1)),
        Rule::event(
            RuleId::known("ebook"),
            EventMatcher::download(AssetType::Ebook),
            4,
        )
        .group(GroupId::known("content"))
        .times(3),
        Rule::event(RuleId::known("cart_add"), EventType::CartAdd, 5)
            .group(GroupId::known("product"))
            .once_per(days(7)),
        Rule::event(RuleId::known("social"), EventType::SocialEngagement, 1)
            .group(GroupId::known("web"))
            .unlimited()
            .within(days(30)),
    ];
    extra
        .into_iter()
        .fold(b2b_default_builder(version), |b, r| b.rule(r))
        .build()
}

/// The benchmark lifecycle: [`LifecycleDefinition::standard_b2b`] with the
/// MQL criterion "combined score at least 60, or downloaded the pricing
/// sheet".
///
/// # Errors
///
/// [`DefinitionError`] only if the standard definition stopped validating.
///
/// ```
/// let machine = leadflow::synthetic::lifecycle()?;
/// assert!(!machine.definition().edges.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lifecycle() -> Result<LifecycleStateMachine, DefinitionError> {
    LifecycleDefinition::standard_b2b(mql_criterion()).build()
}

/// The benchmark MQL criterion: combined score at least 60, or downloaded
/// the pricing sheet.
pub fn mql_criterion() -> Condition {
    Condition::any([
        Condition::score_at_least(Dimension::Combined, 60),
        Condition::did(EventMatcher::download(AssetType::PricingSheet)),
    ])
}

/// `secs` seconds after `t`; `t` itself past the calendar's end (the
/// callers' offsets stay within it).
fn later(t: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    Span::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .after(t)
        .unwrap_or(t)
}

/// Cumulative Zipf probabilities for ranks `0..n`.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(s);
            acc
        })
        .collect();
    if acc > 0.0 {
        for c in &mut cdf {
            *c /= acc;
        }
    }
    cdf
}

/// An event kind drawn from the domain's mix.
fn random_kind(rng: &mut crate::rng::SplitMix64) -> EventKind {
    // Weights per mille.
    const WEIGHTS: [u32; 17] = [450, 200, 70, 60, 20, 12, 50, 30, 30, 8, 8, 5, 30, 4, 3, 10, 10];
    match rng.weighted(&WEIGHTS) {
        0 => {
            const PAGES: [(&str, u32); 7] = [
                ("/blog/post", 300),
                ("/product/tour", 300),
                ("/pricing", 100),
                ("/docs/start", 100),
                ("/careers", 50),
                ("/customers/acme", 50),
                ("/", 100),
            ];
            let weights: Vec<u32> = PAGES.iter().map(|p| p.1).collect();
            let path = PAGES.get(rng.weighted(&weights)).map_or("/", |p| p.0);
            EventKind::PageView {
                path: path.to_owned(),
                category: Some(PageCategory::from_path(path)),
            }
        }
        1 => EventKind::EmailOpen { campaign: None },
        2 => EventKind::EmailClick { campaign: None },
        3 => {
            const ASSETS: [(AssetType, u32); 6] = [
                (AssetType::Whitepaper, 35),
                (AssetType::Ebook, 25),
                (AssetType::CaseStudy, 15),
                (AssetType::Datasheet, 10),
                (AssetType::Report, 10),
                (AssetType::PricingSheet, 5),
            ];
            let weights: Vec<u32> = ASSETS.iter().map(|a| a.1).collect();
            let asset = ASSETS
                .get(rng.weighted(&weights))
                .map_or(AssetType::Other, |a| a.0);
            EventKind::ContentDownload {
                asset,
                asset_id: None,
            }
        }
        4 => EventKind::WebinarRegister { webinar: None },
        5 => EventKind::WebinarAttend { webinar: None },
        6 => EventKind::AdClick { campaign: None },
        7 => EventKind::SocialEngagement,
        8 => EventKind::FormSubmit { form: None },
        9 => EventKind::DemoRequest,
        10 => EventKind::ContactRequest,
        11 => EventKind::TrialStart,
        12 => EventKind::TrialActivity { feature: None },
        13 => EventKind::EmailUnsubscribe,
        14 => EventKind::EmailBounce {
            hard: rng.below(2) == 0,
        },
        15 => EventKind::CartAdd,
        _ => EventKind::ProductUsage { feature: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;

    #[test]
    fn a_span_past_the_calendars_end_stops_there() {
        let w = WorkloadConfig {
            leads: 20,
            events: 200,
            span: "1000000000000w".parse().unwrap(),
            ..WorkloadConfig::default()
        }
        .generate();
        let start = WorkloadConfig::default().start;
        assert_eq!(w.events.len(), 200);
        assert!(w.leads.iter().all(|l| l.created_at >= start));
        assert!(w.events.iter().all(|e| e.at >= start));
    }

    #[test]
    fn activity_is_skewed_and_mix_is_realistic() {
        let w = WorkloadConfig {
            leads: 2_000,
            events: 50_000,
            ..WorkloadConfig::default()
        }
        .generate();
        let mut per_lead = std::collections::HashMap::new();
        for e in &w.events {
            *per_lead.entry(e.lead.clone()).or_insert(0usize) += 1;
            let lead = w.leads.iter().find(|l| l.id == e.lead).unwrap();
            assert!(e.at >= lead.created_at);
        }
        let mut counts: Vec<usize> = per_lead.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_1pct: usize = counts.iter().take(20).sum();
        assert!(
            top_1pct > 50_000 / 10,
            "top 1% of leads do >10% of events: {top_1pct}"
        );
        let views = w
            .events
            .iter()
            .filter(|e| e.event_type() == EventType::PageView)
            .count();
        let demos = w
            .events
            .iter()
            .filter(|e| e.event_type() == EventType::DemoRequest)
            .count();
        assert!(views > 20_000 && views < 25_000, "{views}");
        assert!(demos > 200 && demos < 600, "{demos}");
        assert!(w.events.windows(2).all(|p| p[0].at <= p[1].at));
    }
}
