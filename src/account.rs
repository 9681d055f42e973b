//! The account view: lead scores rolled up to accounts, buying-group
//! coverage and the marketing-qualified-account (MQA) decision.
//!
//! [`AccountModel`] is data (serde), checked by
//! [`validate`](AccountModel::validate); [`roll_up`](AccountModel::roll_up)
//! turns one account's leads and their scores into an [`AccountRollup`].
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use leadflow::account::AccountModel;
//! use leadflow::criteria::LeadView;
//! use leadflow::{AccountId, Lead, LeadId, Points, Scores, Seniority};
//!
//! let model = AccountModel::standard();
//! model.validate()?;
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let acme = AccountId::new("acme")?;
//! let mut vp = Lead::new(LeadId::new("vp")?, now).with_account(acme.clone());
//! vp.person.seniority = Some(Seniority::Vp);
//! let scores = Scores { combined: Points::new(70), ..Scores::default() };
//!
//! let rollup = model.roll_up(&acme, &[LeadView::new(&vp).with_scores(&scores)], now);
//! assert_eq!(rollup.scores.combined, Points::new(70));
//! assert!(rollup.coverage["decision_maker"].is_present());
//! assert!(!rollup.is_mqa()); // one lead of 70 points: short of the standard 150
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::criteria::{Condition, CriteriaError, Criterion, LeadView, Outcome, Verdict};
use crate::event::EventType;
use crate::id::{AccountId, LeadId};
use crate::lead::Lead;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::{Dimension, Scores};
use crate::span::Span;
use crate::value::AttrValue;

/// Why an [`AccountModel`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// A top-n roll-up of zero leads.
    #[error("rollup top_n with n = 0 sums nothing: use n >= 1, or max")]
    ZeroTopN,
    /// A buying role with an empty name.
    #[error("buying role {index} has an empty name: give it a name such as \"decision_maker\"")]
    EmptyRoleName {
        /// The role's index.
        index: usize,
    },
    /// Two buying roles with the same name.
    #[error("buying role {name:?} is defined twice: keep one")]
    DuplicateRole {
        /// The name.
        name: String,
    },
    /// An invalid condition in a role or the MQA criterion.
    #[error("{what}: {source}")]
    Condition {
        /// Which condition (e.g. `role "champion"`, `mqa`).
        what: String,
        /// The problem.
        source: CriteriaError,
    },
}

/// The attributes an account aggregate exposes to the MQA condition.
///
/// The MQA criterion is an ordinary [`Condition`] evaluated on a synthetic
/// lead standing for the account: its [`Scores`] are the rolled-up scores
/// (so `score_at_least` works on the account score), and these attributes
/// carry the buying-group figures (so `attribute` predicates work on them).
pub mod keys {
    /// The number of leads in the account (a whole number).
    pub const LEADS: &str = "leads";
    /// The number of engaged leads.
    pub const ENGAGED_LEADS: &str = "engaged_leads";
    /// The number of roles with at least one lead.
    pub const ROLES_PRESENT: &str = "roles_present";
    /// The number of roles with at least one engaged lead.
    pub const ROLES_ENGAGED: &str = "roles_engaged";
    /// Prefix of one boolean per role: `engaged:decision_maker` is true when
    /// an engaged lead covers the role.
    pub const ENGAGED_PREFIX: &str = "engaged:";
    /// Prefix of one boolean per role: `present:champion` is true when some
    /// lead covers the role, engaged or not.
    pub const PRESENT_PREFIX: &str = "present:";
}

/// How the scores of an account's leads combine into the account score,
/// for each dimension separately. Serialized internally tagged:
/// `{"type": "top_n", "n": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Rollup {
    /// The sum of every lead's score.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Sum,
    /// The best lead's score.
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Max,
    /// The sum of the `n` best leads' scores: breadth without letting a
    /// crowd of weak leads dominate.
    TopN {
        /// How many leads count.
        n: u32,
    },
}

impl Rollup {
    /// Combines scores (saturating). Zero for no scores.
    ///
    /// ```
    /// use leadflow::Points;
    /// use leadflow::account::Rollup;
    ///
    /// let scores = [Points::new(10), Points::new(40), Points::new(25)];
    /// assert_eq!(Rollup::Sum.combine(scores), Points::new(75));
    /// assert_eq!(Rollup::Max.combine(scores), Points::new(40));
    /// assert_eq!(Rollup::TopN { n: 2 }.combine(scores), Points::new(65));
    /// ```
    pub fn combine(self, scores: impl IntoIterator<Item = Points>) -> Points {
        let sum = |it: &mut dyn Iterator<Item = Points>| it.fold(Points::ZERO, Points::saturating_add);
        match self {
            Rollup::Sum => sum(&mut scores.into_iter()),
            Rollup::Max => scores.into_iter().max().unwrap_or(Points::ZERO),
            Rollup::TopN { n } => {
                let mut all: Vec<Points> = scores.into_iter().collect();
                all.sort_unstable_by(|a, b| b.cmp(a));
                sum(&mut all.into_iter().take(n as usize))
            }
        }
    }
}

impl fmt::Display for Rollup {
    /// What the roll-up adds up, for people: `sum of all leads`, `best
    /// lead`, `sum of the best 3 leads`.
    ///
    /// ```
    /// use leadflow::account::Rollup;
    /// assert_eq!(Rollup::TopN { n: 3 }.to_string(), "sum of the best 3 leads");
    /// assert_eq!(Rollup::Max.to_string(), "best lead");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rollup::Sum => f.write_str("sum of all leads"),
            Rollup::Max => f.write_str("best lead"),
            Rollup::TopN { n: 1 } => f.write_str("sum of the best lead"),
            Rollup::TopN { n } => write!(f, "sum of the best {n} leads"),
        }
    }
}

/// A role in the buying group (decision maker, champion, user...): which
/// leads play it, as a [`Condition`] on the lead (seniority, job function, a
/// custom `buying_role` attribute...). A lead may play several roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BuyingRole {
    /// The role's name, e.g. `decision_maker`.
    pub name: String,
    /// Which leads play the role.
    pub who: Condition,
}

impl BuyingRole {
    /// A role.
    pub fn new(name: impl Into<String>, who: Condition) -> BuyingRole {
        BuyingRole {
            name: name.into(),
            who,
        }
    }

    /// A role for leads whose custom `buying_role` attribute names it, or
    /// whose seniority is one of `seniorities`.
    pub fn by_seniority(name: &str, seniorities: &[&str]) -> BuyingRole {
        BuyingRole::new(
            name,
            Condition::any([
                Condition::attribute("buying_role", Predicate::equals(name)),
                Condition::attribute(
                    crate::lead::keys::SENIORITY,
                    Predicate::one_of(seniorities.iter().copied()),
                ),
            ]),
        )
    }
}

/// How leads roll up to accounts: the score roll-up, the buying roles, the
/// engagement test and the marketing-qualified-account criterion. Data
/// (serde); check it with [`validate`](Self::validate).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::account::AccountModel;
/// use leadflow::criteria::LeadView;
/// use leadflow::{AccountId, Lead, LeadId, Points, Scores, Seniority};
///
/// let model = AccountModel::standard();
/// model.validate()?;
/// let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
/// let acme = AccountId::new("acme")?;
/// let mut vp = Lead::new(LeadId::new("vp")?, now).with_account(acme.clone());
/// vp.person.seniority = Some(Seniority::Vp);
/// let mut mgr = Lead::new(LeadId::new("mgr")?, now).with_account(acme.clone());
/// mgr.person.seniority = Some(Seniority::Manager);
/// let hot = Scores { engagement: Points::new(40), combined: Points::new(90), ..Scores::default() };
///
/// let views = [LeadView::new(&vp).with_scores(&hot), LeadView::new(&mgr).with_scores(&hot)];
/// let accounts = model.roll_up_all(views, now);
/// let acme = &accounts[&acme];
/// assert_eq!(acme.scores.combined, Points::new(180)); // top 3 of 90 + 90
/// assert!(acme.coverage["decision_maker"].is_engaged());
/// assert!(acme.coverage["champion"].is_engaged());
/// assert!(!acme.coverage["user"].is_present());
/// assert!(acme.is_mqa(), "{}", acme.mqa);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountModel {
    /// How lead scores combine into the account score.
    pub rollup: Rollup,
    /// The buying roles, in report order.
    pub roles: Vec<BuyingRole>,
    /// When a lead counts as engaged.
    pub engaged: Condition,
    /// When the account is marketing qualified, on the account aggregate
    /// (see [`keys`]).
    pub mqa: Condition,
}

impl AccountModel {
    /// A documented starting point:
    ///
    /// - roll-up: the sum of the 3 best leads;
    /// - roles: `decision_maker` (director, VP, C-level or owner),
    ///   `champion` (manager), `user` (entry or senior individual
    ///   contributor); a custom attribute `buying_role` naming the role also
    ///   counts;
    /// - engaged: engagement score at least 20, or a webinar attended, a demo
    ///   or contact request or a meeting within 90 days;
    /// - MQA: account combined score at least 150, at least 2 roles engaged,
    ///   one of them the decision maker.
    pub fn standard() -> AccountModel {
        let recent = |t: EventType| Condition::did_within(EventMatcher::of(t), Span::days(90));
        AccountModel {
            rollup: Rollup::TopN { n: 3 },
            roles: vec![
                BuyingRole::by_seniority("decision_maker", &["director", "vp", "c_level", "owner"]),
                BuyingRole::by_seniority("champion", &["manager"]),
                BuyingRole::by_seniority("user", &["entry", "senior"]),
            ],
            engaged: Condition::any([
                Condition::score_at_least(Dimension::Engagement, 20),
                recent(EventType::WebinarAttend),
                recent(EventType::DemoRequest),
                recent(EventType::ContactRequest),
                recent(EventType::MeetingHeld),
            ]),
            mqa: Condition::all([
                Condition::score_at_least(Dimension::Combined, 150),
                Condition::attribute(keys::ROLES_ENGAGED, Predicate::at_least(2.0)),
                Condition::attribute("engaged:decision_maker", Predicate::equals(true)),
            ]),
        }
    }

    /// Checks the roll-up, role names and every condition.
    ///
    /// # Errors
    ///
    /// [`AccountError`]: top-n of 0, an empty or duplicate role name, or an
    /// invalid condition (named).
    pub fn validate(&self) -> Result<(), AccountError> {
        if self.rollup == (Rollup::TopN { n: 0 }) {
            return Err(AccountError::ZeroTopN);
        }
        let check = |what: String, c: &Condition| {
            c.validate()
                .map_err(|source| AccountError::Condition { what, source })
        };
        for (index, role) in self.roles.iter().enumerate() {
            if role.name.is_empty() {
                return Err(AccountError::EmptyRoleName { index });
            }
            if self.roles.iter().take(index).any(|r| r.name == role.name) {
                return Err(AccountError::DuplicateRole {
                    name: role.name.clone(),
                });
            }
            check(format!("role {:?}", role.name), &role.who)?;
        }
        check("engaged".to_owned(), &self.engaged)?;
        check("mqa".to_owned(), &self.mqa)
    }

    /// Rolls one account's leads up at `now`. Leads without scores add no
    /// score but still count for coverage.
    pub fn roll_up(
        &self,
        account: &AccountId,
        members: &[LeadView<'_>],
        now: DateTime<Utc>,
    ) -> AccountRollup {
        let mut coverage: IndexMap<String, RoleCoverage> = self
            .roles
            .iter()
            .map(|r| (r.name.clone(), RoleCoverage::default()))
            .collect();
        let mut engaged_leads = 0u64;
        for view in members {
            let engaged = self.engaged.outcome(view, now) == Outcome::Met;
            if engaged {
                engaged_leads += 1;
            }
            for (role, cov) in self.roles.iter().zip(coverage.values_mut()) {
                if role.who.outcome(view, now) == Outcome::Met {
                    cov.leads.push(view.lead.id.clone());
                    if engaged {
                        cov.engaged.push(view.lead.id.clone());
                    }
                }
            }
        }
        let dim = |d: Dimension| {
            self.rollup
                .combine(members.iter().filter_map(|v| v.scores.map(|s| s.get(d))))
        };
        let scores = Scores {
            fit: dim(Dimension::Fit),
            engagement: dim(Dimension::Engagement),
            combined: dim(Dimension::Combined),
            ..Scores::default()
        };
        let mut rollup = AccountRollup {
            account: account.clone(),
            leads: members.len() as u64,
            engaged_leads,
            roles_present: coverage.values().filter(|c| c.is_present()).count() as u64,
            roles_engaged: coverage.values().filter(|c| c.is_engaged()).count() as u64,
            scores,
            coverage,
            mqa: Verdict::leaf(Outcome::Unknown, "not evaluated"),
        };
        rollup.mqa = match rollup.as_lead(members, now) {
            Some(lead) => self
                .mqa
                .evaluate(&LeadView::new(&lead).with_scores(&rollup.scores), now),
            None => Verdict::leaf(
                Outcome::Unknown,
                format!("account id {account} cannot stand for a lead"),
            ),
        };
        rollup
    }

    /// Groups leads by [`Lead::account`] and rolls each account up; leads
    /// without an account are skipped. Accounts are sorted by id.
    pub fn roll_up_all<'a>(
        &self,
        leads: impl IntoIterator<Item = LeadView<'a>>,
        now: DateTime<Utc>,
    ) -> IndexMap<AccountId, AccountRollup> {
        let mut groups: IndexMap<AccountId, Vec<LeadView<'a>>> = IndexMap::new();
        for view in leads {
            if let Some(a) = &view.lead.account {
                groups.entry(a.clone()).or_default().push(view);
            }
        }
        groups.sort_keys();
        groups
            .iter()
            .map(|(a, members)| (a.clone(), self.roll_up(a, members, now)))
            .collect()
    }
}

/// Which leads of an account play a role, and which of them are engaged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleCoverage {
    /// Leads playing the role.
    pub leads: Vec<LeadId>,
    /// Of those, the engaged ones.
    pub engaged: Vec<LeadId>,
}

impl RoleCoverage {
    /// True when some lead plays the role.
    pub fn is_present(&self) -> bool {
        !self.leads.is_empty()
    }

    /// True when an engaged lead plays the role.
    pub fn is_engaged(&self) -> bool {
        !self.engaged.is_empty()
    }
}

/// One account's roll-up: its score, buying-group coverage and MQA verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRollup {
    /// The account.
    pub account: AccountId,
    /// How many leads.
    pub leads: u64,
    /// How many engaged leads.
    pub engaged_leads: u64,
    /// Roles with at least one lead.
    pub roles_present: u64,
    /// Roles with at least one engaged lead.
    pub roles_engaged: u64,
    /// The rolled-up scores (fit, engagement, combined).
    pub scores: Scores,
    /// Per role, in the model's order.
    #[serde(deserialize_with = "crate::strict::unique_keys")]
    pub coverage: IndexMap<String, RoleCoverage>,
    /// The MQA criterion's verdict, with its reasons.
    pub mqa: Verdict,
}

impl AccountRollup {
    /// True when the account is marketing qualified.
    pub fn is_mqa(&self) -> bool {
        self.mqa.outcome.is_met()
    }

    /// The roles no engaged lead covers: whom to reach next.
    pub fn missing_roles(&self) -> Vec<&str> {
        self.coverage
            .iter()
            .filter(|(_, c)| !c.is_engaged())
            .map(|(r, _)| r.as_str())
            .collect()
    }

    /// The synthetic lead standing for the account (see [`keys`]).
    fn as_lead(&self, members: &[LeadView<'_>], now: DateTime<Utc>) -> Option<Lead> {
        let created = members.iter().map(|v| v.lead.created_at).min().unwrap_or(now);
        let mut lead =
            Lead::new(LeadId::new(self.account.as_str()).ok()?, created).with_account(self.account.clone());
        let int = |n: u64| AttrValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let custom = &mut lead.custom;
        custom.insert(keys::LEADS.to_owned(), int(self.leads));
        custom.insert(keys::ENGAGED_LEADS.to_owned(), int(self.engaged_leads));
        custom.insert(keys::ROLES_PRESENT.to_owned(), int(self.roles_present));
        custom.insert(keys::ROLES_ENGAGED.to_owned(), int(self.roles_engaged));
        for (role, c) in &self.coverage {
            custom.insert(
                format!("{}{role}", keys::ENGAGED_PREFIX),
                AttrValue::Bool(c.is_engaged()),
            );
            custom.insert(
                format!("{}{role}", keys::PRESENT_PREFIX),
                AttrValue::Bool(c.is_present()),
            );
        }
        Some(lead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollups_of_nothing_are_zero() {
        for r in [Rollup::Sum, Rollup::Max, Rollup::TopN { n: 2 }] {
            assert_eq!(r.combine([]), Points::ZERO);
        }
        assert_eq!(Rollup::Sum.combine([Points::MAX, Points::new(1)]), Points::MAX);
        assert_eq!(
            Rollup::TopN { n: 5 }.combine([Points::new(1), Points::new(2)]),
            Points::new(3)
        );
    }

    #[test]
    fn rollups_display_for_people() {
        let shown = [
            Rollup::Sum,
            Rollup::Max,
            Rollup::TopN { n: 1 },
            Rollup::TopN { n: 3 },
        ]
        .map(|r| r.to_string());
        assert_eq!(
            shown,
            [
                "sum of all leads",
                "best lead",
                "sum of the best lead",
                "sum of the best 3 leads"
            ]
        );
    }

    #[test]
    fn rollup_serde_is_tagged() {
        let json = serde_json::to_string(&Rollup::TopN { n: 3 }).unwrap();
        assert_eq!(json, r#"{"type":"top_n","n":3}"#);
        assert_eq!(
            serde_json::from_str::<Rollup>(r#"{"type":"max"}"#).unwrap(),
            Rollup::Max
        );
    }

    #[test]
    fn standard_model_is_valid_and_round_trips() {
        let m = AccountModel::standard();
        assert_eq!(m.validate(), Ok(()));
        let back: AccountModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
