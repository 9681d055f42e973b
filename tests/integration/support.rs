//! Shared builders for the integration tests.

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::criteria::Condition;
use leadflow::lifecycle::LifecycleDefinition;
use leadflow::{
    AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId, LifecycleStateMachine,
    OwnerId, PageCategory,
};

/// 2026-03-01 00:00 UTC plus `hours`.
pub(crate) fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(hours)
}

pub(crate) fn mql_condition() -> Condition {
    Condition::any([
        Condition::score_at_least(Dimension::Combined, 60),
        Condition::did(EventMatcher::download(AssetType::PricingSheet)),
    ])
}

pub(crate) fn standard() -> LifecycleStateMachine {
    LifecycleDefinition::standard_b2b(mql_condition())
        .build()
        .unwrap()
}

pub(crate) fn identified_lead(id: &str) -> Lead {
    let mut lead = Lead::new(LeadId::new(id).unwrap(), at(0));
    lead.person.set_email("ada@acme.io");
    lead
}

pub(crate) fn event(lead: &Lead, id: &str, hours: i64, kind: EventKind) -> Event {
    Event::new(EventId::new(id).unwrap(), lead.id.clone(), at(hours), kind)
}

pub(crate) fn pricing_download(lead: &Lead, id: &str, hours: i64) -> Event {
    event(
        lead,
        id,
        hours,
        EventKind::ContentDownload {
            asset: AssetType::PricingSheet,
            asset_id: None,
        },
    )
}

/// How many kinds [`event_kind`] draws from.
pub(crate) const EVENT_KINDS: u64 = 15;

/// Event kind `k` (modulo [`EVENT_KINDS`]) of a vocabulary that reaches
/// every kind of rule: limits, windows, decay, penalties, the MQL signal,
/// follow-ups and attribute changes. `value` gives the changed attributes
/// their value: `employees` is `value`, `seniority` one of three by
/// `value`. The engine's properties and the fuzz harness draw from it.
pub(crate) fn event_kind(k: u64, value: u64) -> EventKind {
    match k % EVENT_KINDS {
        0 => EventKind::PageView {
            path: "/pricing".into(),
            category: None,
        },
        1 => EventKind::PageView {
            path: "/product/tour".into(),
            category: Some(PageCategory::Product),
        },
        2 => EventKind::ContentDownload {
            asset: AssetType::Whitepaper,
            asset_id: None,
        },
        3 => EventKind::ContentDownload {
            asset: AssetType::PricingSheet,
            asset_id: None,
        },
        4 => EventKind::FormSubmit { form: None },
        5 => EventKind::DemoRequest,
        6 => EventKind::EmailOpen { campaign: None },
        7 => EventKind::EmailUnsubscribe,
        8 => EventKind::SocialEngagement,
        9 => EventKind::AdClick { campaign: None },
        10 => EventKind::WebinarAttend { webinar: None },
        11 => EventKind::SalesTouch {
            by: Some(OwnerId::new("rep").unwrap()),
        },
        12 => EventKind::AttributeChange {
            key: "employees".into(),
            value: (value as i64).into(),
        },
        13 => EventKind::AttributeChange {
            key: "seniority".into(),
            value: ["director", "vp", "intern"][(value % 3) as usize].into(),
        },
        _ => EventKind::PageView {
            path: "/careers".into(),
            category: Some(PageCategory::Careers),
        },
    }
}
