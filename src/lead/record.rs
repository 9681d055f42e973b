//! The lead record: what is known about a lead and its attributes by name.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Company, JobFunction, Person, Seniority, SizeBand, Source, is_free_mail_domain};
use crate::id::{AccountId, LeadId};
use crate::value::{AttrRef, AttrValue};

/// A lead: a person, usually at a company, who has touched the business.
///
/// A lead carries what is known about it (its [`Company`] and [`Person`]
/// attributes plus free-form custom attributes), where it came from
/// ([`Source`]) and when it was created. What it *does* arrives separately as
/// [`Event`](crate::Event)s.
///
/// Every attribute can also be read by name with [`Lead::attribute`], which is
/// how scoring rules and criteria refer to them; see [`keys`] for the
/// well-known names.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::{AttrRef, Channel, Lead, LeadId, Seniority, Source};
///
/// let created = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let mut lead = Lead::new(LeadId::new("lead-1")?, created)
///     .with_source(Source::marketing(Channel::PaidSearch));
/// lead.company.industry = Some("software".into());
/// lead.company.employees = Some(450);
/// lead.person.seniority = Some(Seniority::Director);
/// lead.person.set_email("ada@example.com");
/// lead.set_attribute("plan_interest", "enterprise")?;
///
/// assert_eq!(lead.attribute("employees"), Some(AttrRef::Int(450)));
/// assert_eq!(lead.attribute("size_band"), Some(AttrRef::Text("201-1000")));
/// assert_eq!(lead.attribute("free_mail"), Some(AttrRef::Bool(false)));
/// assert_eq!(lead.attribute("plan_interest"), Some(AttrRef::Text("enterprise")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lead {
    /// The lead's id.
    pub id: LeadId,
    /// The account (company) the lead belongs to, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// When the lead was first known.
    pub created_at: DateTime<Utc>,
    /// Where the lead came from.
    #[serde(default)]
    pub source: Source,
    /// Firmographic attributes.
    #[serde(default)]
    pub company: Company,
    /// Demographic attributes.
    #[serde(default)]
    pub person: Person,
    /// Any other attributes, by name. Names must not be one of the
    /// well-known [`keys`].
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    pub custom: IndexMap<String, AttrValue>,
}

/// Why an attribute could not be set.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// The value has the wrong type for a well-known attribute.
    #[error("attribute {key:?} expects {expected}, got {value}")]
    WrongType {
        /// The attribute name.
        key: String,
        /// What the attribute accepts.
        expected: &'static str,
        /// The refused value.
        value: AttrValue,
    },
    /// The value is not one of the attribute's levels.
    #[error("attribute {key:?} has no level {value:?}: use one of {allowed}")]
    UnknownLevel {
        /// The attribute name.
        key: String,
        /// The refused text.
        value: String,
        /// The accepted levels.
        allowed: &'static str,
    },
    /// The key is derived and cannot be set directly.
    #[error("attribute {key:?} is derived from other attributes and cannot be set: {hint}")]
    Derived {
        /// The attribute name.
        key: String,
        /// What to set instead.
        hint: &'static str,
    },
    /// The key is empty.
    #[error("attribute names must not be empty")]
    EmptyKey,
}

/// The well-known attribute names understood by [`Lead::attribute`] and
/// [`Lead::set_attribute`]. Any other name is a custom attribute.
pub mod keys {
    /// Company name (text).
    pub const COMPANY: &str = "company";
    /// Industry (text).
    pub const INDUSTRY: &str = "industry";
    /// Number of employees (whole number).
    pub const EMPLOYEES: &str = "employees";
    /// Company size band (text such as `"51-200"`), from the employee count
    /// or set directly.
    pub const SIZE_BAND: &str = "size_band";
    /// Country (text, ISO code recommended).
    pub const COUNTRY: &str = "country";
    /// Region (text, e.g. `"emea"`).
    pub const REGION: &str = "region";
    /// Annual revenue (number).
    pub const ANNUAL_REVENUE: &str = "annual_revenue";
    /// Advertising spend or budget (number).
    pub const AD_SPEND: &str = "ad_spend";
    /// Job title (text).
    pub const JOB_TITLE: &str = "job_title";
    /// Seniority level (text, a [`Seniority`](crate::Seniority) level).
    pub const SENIORITY: &str = "seniority";
    /// Job function or department (text, a [`JobFunction`](crate::JobFunction)).
    pub const FUNCTION: &str = "function";
    /// Email domain (text).
    pub const EMAIL_DOMAIN: &str = "email_domain";
    /// Whether the email domain is a free-mail provider (yes/no).
    pub const FREE_MAIL: &str = "free_mail";
    /// Source kind: `"marketing"` or `"sales"` (derived from the source).
    pub const SOURCE: &str = "source";
    /// Source channel (derived from the source).
    pub const CHANNEL: &str = "channel";
    /// Source campaign (derived from the source).
    pub const CAMPAIGN: &str = "campaign";
    /// Every well-known name.
    pub const ALL: [&str; 16] = [
        COMPANY,
        INDUSTRY,
        EMPLOYEES,
        SIZE_BAND,
        COUNTRY,
        REGION,
        ANNUAL_REVENUE,
        AD_SPEND,
        JOB_TITLE,
        SENIORITY,
        FUNCTION,
        EMAIL_DOMAIN,
        FREE_MAIL,
        SOURCE,
        CHANNEL,
        CAMPAIGN,
    ];
}

impl Lead {
    /// A lead with only an id and a creation time; everything else unknown.
    pub fn new(id: LeadId, created_at: DateTime<Utc>) -> Lead {
        Lead {
            id,
            account: None,
            created_at,
            source: Source::default(),
            company: Company::default(),
            person: Person::default(),
            custom: IndexMap::new(),
        }
    }

    /// Sets the source.
    pub fn with_source(mut self, source: Source) -> Lead {
        self.source = source;
        self
    }

    /// Sets the account.
    pub fn with_account(mut self, account: AccountId) -> Lead {
        self.account = Some(account);
        self
    }

    /// Reads an attribute by name: a well-known one from [`keys`] or a custom
    /// one. `None` when unknown.
    pub fn attribute(&self, key: &str) -> Option<AttrRef<'_>> {
        let c = &self.company;
        let p = &self.person;
        fn text(s: &Option<String>) -> Option<AttrRef<'_>> {
            s.as_deref().map(AttrRef::Text)
        }
        match key {
            keys::COMPANY => text(&c.name),
            keys::INDUSTRY => text(&c.industry),
            keys::EMPLOYEES => c.employees.map(|e| AttrRef::Int(i64::from(e))),
            keys::SIZE_BAND => c.size_band().map(|b| AttrRef::Text(b.as_str())),
            keys::COUNTRY => text(&c.country),
            keys::REGION => text(&c.region),
            keys::ANNUAL_REVENUE => c.annual_revenue.map(AttrRef::Number),
            keys::AD_SPEND => c.ad_spend.map(AttrRef::Number),
            keys::JOB_TITLE => text(&p.job_title),
            keys::SENIORITY => p.seniority.map(|s| AttrRef::Text(s.as_str())),
            keys::FUNCTION => p.function.map(|f| AttrRef::Text(f.as_str())),
            keys::EMAIL_DOMAIN => text(&p.email_domain),
            keys::FREE_MAIL => p.free_mail.map(AttrRef::Bool),
            keys::SOURCE => Some(AttrRef::Text(match self.source {
                Source::Marketing { .. } => "marketing",
                Source::Sales { .. } => "sales",
            })),
            keys::CHANNEL => match &self.source {
                Source::Marketing { channel, .. } => Some(AttrRef::Text(channel.as_str())),
                Source::Sales { .. } => None,
            },
            keys::CAMPAIGN => match &self.source {
                Source::Marketing {
                    campaign: Some(c), ..
                } => Some(AttrRef::Text(c.as_str())),
                _ => None,
            },
            other => self.custom.get(other).map(AttrValue::as_ref),
        }
    }

    /// Sets an attribute by name. Well-known names are parsed into their typed
    /// fields (so `"seniority"` must be a [`Seniority`] level); any other name
    /// is stored as a custom attribute.
    ///
    /// # Errors
    ///
    /// [`AttributeError`] when the value has the wrong type or level for a
    /// well-known attribute, the name is empty, or names a derived attribute
    /// (`source`, `channel`, `campaign`: set [`Lead::source`] instead).
    pub fn set_attribute(&mut self, key: &str, value: impl Into<AttrValue>) -> Result<(), AttributeError> {
        let value = value.into();
        let wrong = |expected: &'static str, value: &AttrValue| AttributeError::WrongType {
            key: key.to_owned(),
            expected,
            value: value.clone(),
        };
        let text = |value: &AttrValue| match value {
            AttrValue::Text(s) => Ok(s.clone()),
            other => Err(wrong("text", other)),
        };
        let number = |value: &AttrValue| value.as_f64().ok_or_else(|| wrong("a number", value));
        match key {
            "" => return Err(AttributeError::EmptyKey),
            keys::COMPANY => self.company.name = Some(text(&value)?),
            keys::INDUSTRY => self.company.industry = Some(text(&value)?),
            keys::EMPLOYEES => {
                let n = match value {
                    AttrValue::Int(i) => u32::try_from(i).ok(),
                    _ => None,
                };
                self.company.employees =
                    Some(n.ok_or_else(|| wrong("a whole number from 0 to 4294967295", &value))?);
            }
            keys::SIZE_BAND => {
                let s = text(&value)?;
                self.company.size_band =
                    Some(SizeBand::parse(&s).ok_or_else(|| AttributeError::UnknownLevel {
                        key: key.to_owned(),
                        value: s.clone(),
                        allowed: SizeBand::LEVELS,
                    })?);
            }
            keys::COUNTRY => self.company.country = Some(text(&value)?),
            keys::REGION => self.company.region = Some(text(&value)?),
            keys::ANNUAL_REVENUE => self.company.annual_revenue = Some(number(&value)?),
            keys::AD_SPEND => self.company.ad_spend = Some(number(&value)?),
            keys::JOB_TITLE => self.person.job_title = Some(text(&value)?),
            keys::SENIORITY => {
                let s = text(&value)?;
                self.person.seniority =
                    Some(Seniority::parse(&s).ok_or_else(|| AttributeError::UnknownLevel {
                        key: key.to_owned(),
                        value: s.clone(),
                        allowed: Seniority::NAMES,
                    })?);
            }
            keys::FUNCTION => {
                let s = text(&value)?;
                self.person.function =
                    Some(
                        JobFunction::parse(&s).ok_or_else(|| AttributeError::UnknownLevel {
                            key: key.to_owned(),
                            value: s.clone(),
                            allowed: JobFunction::NAMES,
                        })?,
                    );
            }
            keys::EMAIL_DOMAIN => {
                let domain = text(&value)?.to_ascii_lowercase();
                self.person.free_mail = Some(is_free_mail_domain(&domain));
                self.person.email_domain = Some(domain);
            }
            keys::FREE_MAIL => match value {
                AttrValue::Bool(b) => self.person.free_mail = Some(b),
                other => return Err(wrong("yes/no (a boolean)", &other)),
            },
            keys::SOURCE | keys::CHANNEL | keys::CAMPAIGN => {
                return Err(AttributeError::Derived {
                    key: key.to_owned(),
                    hint: "set Lead::source instead",
                });
            }
            other => {
                self.custom.insert(other.to_owned(), value);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::id::CampaignId;
    use crate::lead::Channel;

    fn lead() -> Lead {
        Lead::new(
            LeadId::new("l").unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        )
    }

    #[test]
    fn set_and_read_every_well_known_key() {
        let mut l = lead();
        l.set_attribute("company", "Acme").unwrap();
        l.set_attribute("industry", "software").unwrap();
        l.set_attribute("employees", 60).unwrap();
        l.set_attribute("country", "DE").unwrap();
        l.set_attribute("region", "emea").unwrap();
        l.set_attribute("annual_revenue", 1_000_000).unwrap();
        l.set_attribute("ad_spend", AttrValue::number(2.5e4).unwrap())
            .unwrap();
        l.set_attribute("job_title", "Head of IT").unwrap();
        l.set_attribute("seniority", "Director").unwrap();
        l.set_attribute("function", "it").unwrap();
        l.set_attribute("email_domain", "Acme.io").unwrap();
        assert_eq!(l.attribute("size_band"), Some(AttrRef::Text("51-200")));
        assert_eq!(l.attribute("seniority"), Some(AttrRef::Text("director")));
        assert_eq!(l.attribute("annual_revenue"), Some(AttrRef::Number(1e6)));
        assert_eq!(l.attribute("email_domain"), Some(AttrRef::Text("acme.io")));
        assert_eq!(l.attribute("free_mail"), Some(AttrRef::Bool(false)));
        assert_eq!(l.attribute("source"), Some(AttrRef::Text("marketing")));
        assert_eq!(l.attribute("channel"), Some(AttrRef::Text("other")));
        assert_eq!(l.attribute("campaign"), None);
        for key in keys::ALL {
            if !matches!(key, "campaign") {
                assert!(l.attribute(key).is_some(), "{key}");
            }
        }
    }

    #[test]
    fn set_attribute_rejects_wrong_types() {
        let mut l = lead();
        assert!(matches!(
            l.set_attribute("employees", -3),
            Err(AttributeError::WrongType { .. })
        ));
        assert!(matches!(
            l.set_attribute("seniority", "wizard"),
            Err(AttributeError::UnknownLevel { .. })
        ));
        assert!(matches!(
            l.set_attribute("channel", "email"),
            Err(AttributeError::Derived { .. })
        ));
        assert_eq!(l.set_attribute("", 1), Err(AttributeError::EmptyKey));
        assert_eq!(l, lead(), "failed sets change nothing");
    }

    #[test]
    fn free_mail_detection() {
        let mut p = Person::default();
        p.set_email("x@yahoo.com");
        assert_eq!(p.free_mail, Some(true));
        p.set_email("x@corp.example");
        assert_eq!(p.free_mail, Some(false));
    }

    #[test]
    fn serde_round_trip() {
        let mut l = lead().with_source(Source::Marketing {
            channel: Channel::Event,
            campaign: Some(CampaignId::new("expo").unwrap()),
        });
        l.set_attribute("employees", 20).unwrap();
        l.set_attribute("seats", 12).unwrap();
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Lead>(&json).unwrap(), l);
    }
}
