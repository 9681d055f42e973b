//! Shared builders for the integration tests.

use chrono::{DateTime, Duration, TimeZone, Utc};
use leadflow::criteria::Condition;
use leadflow::lifecycle::LifecycleDefinition;
use leadflow::{
    AssetType, Dimension, Event, EventId, EventKind, EventMatcher, Lead, LeadId, LifecycleStateMachine,
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
