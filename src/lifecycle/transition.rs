//! Typed transitions and their payloads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::criteria::{Checklist, Verdict};
use crate::id::OwnerId;
use crate::stage::Stage;

/// A move from one stage to another, carrying what justifies it.
///
/// Each kind of transition has a fixed target stage (see
/// [`TransitionKind::target`]); the
/// [`LifecycleDefinition`](crate::lifecycle::LifecycleDefinition) says from which stages
/// each kind is allowed. Serialized internally tagged by `"type"`.
///
/// # Example
///
/// ```
/// use leadflow::lifecycle::{Reason, ReasonCode, Transition, TransitionKind};
/// use leadflow::{OwnerId, Stage};
///
/// let accept = Transition::Accept { owner: OwnerId::new("rep-jane")? };
/// assert_eq!(accept.kind(), TransitionKind::Accept);
/// assert_eq!(accept.kind().target(), Stage::Sal);
///
/// let reject: Transition = serde_json::from_str(
///     r#"{"type": "reject", "by": "rep-jane", "reason": {"code": "no_budget"}}"#)?;
/// assert_eq!(reject.kind().target(), Stage::Nurture);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Transition {
    /// Lead → MAL: marketing accepts the lead (basic checks pass).
    MarketingAccept {
        /// The criterion that fired, or who accepted by hand.
        by: QualifiedBy,
    },
    /// → MQL: the lead meets the marketing qualification bar.
    Qualify {
        /// The criterion that fired, or who qualified by hand.
        by: QualifiedBy,
    },
    /// MQL or SGL → SAL: sales accepts the lead and commits to follow up.
    Accept {
        /// The rep who owns it now.
        owner: OwnerId,
    },
    /// MQL → Nurture: sales rejects the handoff.
    Reject {
        /// The rep who rejected it.
        by: OwnerId,
        /// Why.
        reason: Reason,
    },
    /// SAL → SQL: sales qualifies the lead, with evidence.
    QualifyForSales {
        /// The rep.
        by: OwnerId,
        /// The answers (BANT, CHAMP, MEDDICC...).
        evidence: Checklist,
    },
    /// SQL → Opportunity: a deal is opened.
    Convert {
        /// Who opened it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
        /// The expected deal value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Money>,
    },
    /// → Customer: the deal is won.
    Win {
        /// Who won it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
        /// The deal value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Money>,
    },
    /// → Lost: the deal is lost.
    Lose {
        /// Who recorded it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
        /// Why.
        reason: Reason,
    },
    /// Customer → CSQL: the customer shows expansion potential.
    FlagForExpansion {
        /// The criterion that fired, or who flagged it.
        by: QualifiedBy,
    },
    /// → Nurture: sent back for more nurturing.
    Recycle {
        /// Who recycled it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
        /// Why.
        reason: Reason,
    },
    /// → Disqualified: removed from the funnel.
    Disqualify {
        /// Who disqualified it (none when automatic).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
        /// Why.
        reason: Reason,
    },
}

/// The kind of a [`Transition`] without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[repr(u8)]
pub enum TransitionKind {
    /// See [`Transition::MarketingAccept`].
    MarketingAccept,
    /// See [`Transition::Qualify`].
    Qualify,
    /// See [`Transition::Accept`].
    Accept,
    /// See [`Transition::Reject`].
    Reject,
    /// See [`Transition::QualifyForSales`].
    QualifyForSales,
    /// See [`Transition::Convert`].
    Convert,
    /// See [`Transition::Win`].
    Win,
    /// See [`Transition::Lose`].
    Lose,
    /// See [`Transition::FlagForExpansion`].
    FlagForExpansion,
    /// See [`Transition::Recycle`].
    Recycle,
    /// See [`Transition::Disqualify`].
    Disqualify,
}

impl TransitionKind {
    /// Every kind, in declaration order: `ALL[k.index()] == k`.
    pub const ALL: [TransitionKind; 11] = [
        TransitionKind::MarketingAccept,
        TransitionKind::Qualify,
        TransitionKind::Accept,
        TransitionKind::Reject,
        TransitionKind::QualifyForSales,
        TransitionKind::Convert,
        TransitionKind::Win,
        TransitionKind::Lose,
        TransitionKind::FlagForExpansion,
        TransitionKind::Recycle,
        TransitionKind::Disqualify,
    ];

    /// A dense index in `0..11`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stage this kind of transition leads to.
    pub fn target(self) -> Stage {
        match self {
            TransitionKind::MarketingAccept => Stage::Mal,
            TransitionKind::Qualify => Stage::Mql,
            TransitionKind::Accept => Stage::Sal,
            TransitionKind::Reject | TransitionKind::Recycle => Stage::Nurture,
            TransitionKind::QualifyForSales => Stage::Sql,
            TransitionKind::Convert => Stage::Opportunity,
            TransitionKind::Win => Stage::Customer,
            TransitionKind::Lose => Stage::Lost,
            TransitionKind::FlagForExpansion => Stage::Csql,
            TransitionKind::Disqualify => Stage::Disqualified,
        }
    }

    /// True for the kinds the machine can fire by itself when a criterion
    /// holds: marketing accept, qualify, flag for expansion and disqualify.
    pub fn can_be_automatic(self) -> bool {
        matches!(
            self,
            TransitionKind::MarketingAccept
                | TransitionKind::Qualify
                | TransitionKind::FlagForExpansion
                | TransitionKind::Disqualify
        )
    }

    /// The verb, as used in messages: `qualify`, `accept`, `qualify_for_sales`...
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::MarketingAccept => "marketing_accept",
            TransitionKind::Qualify => "qualify",
            TransitionKind::Accept => "accept",
            TransitionKind::Reject => "reject",
            TransitionKind::QualifyForSales => "qualify_for_sales",
            TransitionKind::Convert => "convert",
            TransitionKind::Win => "win",
            TransitionKind::Lose => "lose",
            TransitionKind::FlagForExpansion => "flag_for_expansion",
            TransitionKind::Recycle => "recycle",
            TransitionKind::Disqualify => "disqualify",
        }
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Transition {
    /// The kind without the payload.
    pub fn kind(&self) -> TransitionKind {
        match self {
            Transition::MarketingAccept { .. } => TransitionKind::MarketingAccept,
            Transition::Qualify { .. } => TransitionKind::Qualify,
            Transition::Accept { .. } => TransitionKind::Accept,
            Transition::Reject { .. } => TransitionKind::Reject,
            Transition::QualifyForSales { .. } => TransitionKind::QualifyForSales,
            Transition::Convert { .. } => TransitionKind::Convert,
            Transition::Win { .. } => TransitionKind::Win,
            Transition::Lose { .. } => TransitionKind::Lose,
            Transition::FlagForExpansion { .. } => TransitionKind::FlagForExpansion,
            Transition::Recycle { .. } => TransitionKind::Recycle,
            Transition::Disqualify { .. } => TransitionKind::Disqualify,
        }
    }

    /// The checklist evidence carried, for qualify-for-sales.
    pub fn evidence(&self) -> Option<&Checklist> {
        match self {
            Transition::QualifyForSales { evidence, .. } => Some(evidence),
            _ => None,
        }
    }

    /// The reason carried, for reject, lose, recycle and disqualify.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Transition::Reject { reason, .. }
            | Transition::Lose { reason, .. }
            | Transition::Recycle { reason, .. }
            | Transition::Disqualify { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The person who made the transition, when a person did.
    pub fn actor(&self) -> Option<&OwnerId> {
        match self {
            Transition::Accept { owner } => Some(owner),
            Transition::Reject { by, .. } | Transition::QualifyForSales { by, .. } => Some(by),
            Transition::Convert { by, .. }
            | Transition::Win { by, .. }
            | Transition::Lose { by, .. }
            | Transition::Recycle { by, .. }
            | Transition::Disqualify { by, .. } => by.as_ref(),
            Transition::MarketingAccept { by }
            | Transition::Qualify { by }
            | Transition::FlagForExpansion { by } => match by {
                QualifiedBy::Manual { by, .. } => Some(by),
                QualifiedBy::Criterion { .. } => None,
            },
        }
    }

    /// The deal value carried, for convert and win.
    pub fn value(&self) -> Option<&Money> {
        match self {
            Transition::Convert { value, .. } | Transition::Win { value, .. } => value.as_ref(),
            _ => None,
        }
    }

    /// A one-line human explanation: `qualify: any of 2 → combined score 72 >= 60`.
    pub fn describe(&self) -> String {
        let kind = self.kind();
        match self {
            Transition::MarketingAccept { by }
            | Transition::Qualify { by }
            | Transition::FlagForExpansion { by } => match by {
                QualifiedBy::Criterion { name, verdict } => {
                    format!(
                        "{kind} by criterion {name:?}: {}",
                        verdict.met_reasons().join("; ")
                    )
                }
                QualifiedBy::Manual { by, note } => {
                    format!(
                        "{kind} by {by}{}",
                        note.as_ref().map_or(String::new(), |n| format!(": {n}"))
                    )
                }
            },
            Transition::Accept { owner } => format!("accepted by {owner}"),
            Transition::QualifyForSales { by, evidence } => {
                let met: Vec<&str> = evidence
                    .iter()
                    .filter(|(_, i)| i.status.is_met())
                    .map(|(k, _)| k)
                    .collect();
                format!("qualified for sales by {by} (met: {})", met.join(", "))
            }
            Transition::Convert { value, .. } | Transition::Win { value, .. } => match value {
                Some(v) => format!("{kind} ({v})"),
                None => kind.to_string(),
            },
            Transition::Reject { reason, .. }
            | Transition::Lose { reason, .. }
            | Transition::Recycle { reason, .. }
            | Transition::Disqualify { reason, .. } => format!("{kind}: {reason}"),
        }
    }
}

/// What justified a qualification: a criterion (automatic) or a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum QualifiedBy {
    /// An automatic edge's criterion held.
    Criterion {
        /// The edge's criterion name.
        name: String,
        /// Why it held.
        verdict: Verdict,
    },
    /// A person decided.
    Manual {
        /// Who.
        by: OwnerId,
        /// Why, in their words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

/// Why a lead was rejected, recycled, disqualified or lost.
///
/// ```
/// use leadflow::lifecycle::{Reason, ReasonCode};
/// let r = Reason::new(ReasonCode::NoBudget).with_note("frozen until Q4");
/// assert_eq!(r.to_string(), "no_budget (frozen until Q4)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The reason code, for reports.
    pub code: ReasonCode,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Reason {
    /// A reason without a note.
    pub fn new(code: ReasonCode) -> Reason {
        Reason { code, note: None }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Reason {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(n) = &self.note {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

macro_rules! reason_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal),+ $(,)?) => {
        /// A reason code for rejections, recycling, disqualification and lost
        /// deals.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ReasonCode {
            $($(#[$doc])* $variant),+
        }

        impl ReasonCode {
            /// Every code.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant),+];

            /// The code as written in data.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $text),+
                }
            }
        }
    };
}

reason_codes!(
    /// No budget.
    NoBudget = "no_budget",
    /// Not a decision maker and no access to one.
    NoAuthority = "no_authority",
    /// No real need.
    NoNeed = "no_need",
    /// Not now; maybe later.
    BadTiming = "bad_timing",
    /// Could not be reached.
    Unresponsive = "unresponsive",
    /// A student or researcher.
    Student = "student",
    /// A competitor.
    Competitor = "competitor",
    /// A job seeker.
    JobSeeker = "job_seeker",
    /// Invalid or fake contact data.
    BadData = "bad_data",
    /// A duplicate of another lead.
    Duplicate = "duplicate",
    /// Already a customer.
    ExistingCustomer = "existing_customer",
    /// Outside the ideal customer profile.
    NotAFit = "not_a_fit",
    /// Chose a competitor.
    LostToCompetitor = "lost_to_competitor",
    /// Price too high.
    Price = "price",
    /// Anything else (explain in the note).
    Other = "other",
);

/// An amount of money in minor units (cents), with an ISO currency code.
///
/// ```
/// use leadflow::lifecycle::Money;
/// let deal = Money::new(4_200_000, "EUR");
/// assert_eq!(deal.to_string(), "42000.00 EUR");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// The amount in minor units (e.g. cents).
    pub minor: i64,
    /// The currency code, e.g. `"EUR"`.
    pub currency: String,
}

impl Money {
    /// An amount in minor units.
    pub fn new(minor: i64, currency: impl Into<String>) -> Money {
        Money {
            minor,
            currency: currency.into(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_dense_and_targets_fixed() {
        for (i, k) in TransitionKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(TransitionKind::Disqualify.target(), Stage::Disqualified);
    }

    #[test]
    fn reason_codes_serialize_as_written() {
        for c in ReasonCode::ALL {
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn money_display() {
        assert_eq!(Money::new(-5, "USD").to_string(), "-0.05 USD");
    }
}
