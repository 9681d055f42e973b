//! Breakdowns: the dimensions funnel metrics are split by (source, channel,
//! campaign, owner, cohort, any attribute) and each lead's key in them.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::lead::{Lead, Source};
use crate::lifecycle::{LeadLifecycle, TransitionKind};
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

    /// The breakdown's name in [`FunnelAnalysis::breakdowns`](super::FunnelAnalysis::breakdowns): `source`,
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
    pub(super) fn key<'l>(
        &self,
        lead: &'l Lead,
        lifecycle: &'l LeadLifecycle,
        as_of: DateTime<Utc>,
    ) -> Cow<'l, str> {
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

pub(super) fn owner<'l>(lead: &'l Lead, lifecycle: &'l LeadLifecycle, as_of: DateTime<Utc>) -> &'l str {
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
