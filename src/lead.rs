//! Leads: who they are, where they came from.

use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, CampaignId, LeadId, OwnerId};
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

/// Firmographic attributes of a lead's company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Company {
    /// Company name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Industry, free text (lowercase recommended, e.g. `"software"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// Number of employees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees: Option<u32>,
    /// Size band when only the band is known; otherwise derived from
    /// [`Company::employees`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_band: Option<SizeBand>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Annual revenue, in the host's currency (finite: serialization
    /// refuses NaN and infinities).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::strict::finite_opt")]
    pub annual_revenue: Option<f64>,
    /// Advertising spend or budget, in the host's currency (finite).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::strict::finite_opt")]
    pub ad_spend: Option<f64>,
}

impl Company {
    /// The size band: the one set explicitly, else the one the employee count
    /// falls in.
    pub fn size_band(&self) -> Option<SizeBand> {
        self.size_band
            .or_else(|| self.employees.map(SizeBand::from_employees))
    }
}

/// A company size band by employee count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SizeBand {
    /// 1 to 10 employees.
    #[serde(rename = "1-10")]
    Micro,
    /// 11 to 50 employees.
    #[serde(rename = "11-50")]
    Small,
    /// 51 to 200 employees.
    #[serde(rename = "51-200")]
    Medium,
    /// 201 to 1000 employees.
    #[serde(rename = "201-1000")]
    Large,
    /// 1001 to 5000 employees.
    #[serde(rename = "1001-5000")]
    Enterprise,
    /// More than 5000 employees.
    #[serde(rename = "5001+")]
    Global,
}

impl SizeBand {
    const LEVELS: &'static str = "1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+";
    const ALL: [SizeBand; 6] = [
        SizeBand::Micro,
        SizeBand::Small,
        SizeBand::Medium,
        SizeBand::Large,
        SizeBand::Enterprise,
        SizeBand::Global,
    ];

    /// The band an employee count falls in (0 counts as 1–10).
    pub fn from_employees(employees: u32) -> SizeBand {
        match employees {
            0..=10 => SizeBand::Micro,
            11..=50 => SizeBand::Small,
            51..=200 => SizeBand::Medium,
            201..=1000 => SizeBand::Large,
            1001..=5000 => SizeBand::Enterprise,
            _ => SizeBand::Global,
        }
    }

    /// The band's name, e.g. `"51-200"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeBand::Micro => "1-10",
            SizeBand::Small => "11-50",
            SizeBand::Medium => "51-200",
            SizeBand::Large => "201-1000",
            SizeBand::Enterprise => "1001-5000",
            SizeBand::Global => "5001+",
        }
    }

    fn parse(s: &str) -> Option<SizeBand> {
        SizeBand::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }
}

/// Demographic attributes of the person behind a lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Person {
    /// Job title, free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Seniority level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seniority: Option<Seniority>,
    /// Job function or department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<JobFunction>,
    /// Email domain, lowercase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    /// Whether the email domain is a free-mail provider (a weak B2B signal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_mail: Option<bool>,
}

impl Person {
    /// Sets the email domain and the free-mail flag from an email address
    /// (or a bare domain). The address itself is not kept.
    ///
    /// ```
    /// let mut p = leadflow::Person::default();
    /// p.set_email("Bob@GMail.com");
    /// assert_eq!(p.email_domain.as_deref(), Some("gmail.com"));
    /// assert_eq!(p.free_mail, Some(true));
    /// ```
    pub fn set_email(&mut self, email: &str) {
        let domain = email
            .rsplit_once('@')
            .map_or(email, |(_, d)| d)
            .trim()
            .to_ascii_lowercase();
        self.free_mail = Some(is_free_mail_domain(&domain));
        self.email_domain = Some(domain);
    }
}

/// True when `domain` belongs to a common free-mail provider.
pub fn is_free_mail_domain(domain: &str) -> bool {
    const FREE: [&str; 24] = [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "proton.me",
        "protonmail.com",
        "qq.com",
    ];
    let d = domain.trim().trim_end_matches('.');
    FREE.iter().any(|f| d.eq_ignore_ascii_case(f))
}

macro_rules! level_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The accepted names, space-separated (for messages).
            pub const NAMES: &'static str = concat!($($text, " "),+);
            /// Every level, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The level's name as written in configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The level with this name (ignoring ASCII case and surrounding
            /// spaces), if any.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|l| l.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

level_enum!(
    /// How senior a person is, from intern to owner. Ordered: later levels are
    /// more senior.
    Seniority {
        /// Intern or student worker.
        Intern = "intern",
        /// Entry level or individual contributor.
        Entry = "entry",
        /// Senior individual contributor.
        Senior = "senior",
        /// Manager.
        Manager = "manager",
        /// Director or head of.
        Director = "director",
        /// Vice president.
        Vp = "vp",
        /// C-level executive.
        CLevel = "c_level",
        /// Owner or founder.
        Owner = "owner",
    }
);

level_enum!(
    /// A person's job function or department.
    JobFunction {
        /// Marketing.
        Marketing = "marketing",
        /// Sales and business development.
        Sales = "sales",
        /// Engineering and R&D.
        Engineering = "engineering",
        /// IT and operations of systems.
        It = "it",
        /// Finance and procurement.
        Finance = "finance",
        /// Operations.
        Operations = "operations",
        /// Human resources.
        HumanResources = "human_resources",
        /// Executive management.
        Executive = "executive",
        /// Product management.
        Product = "product",
        /// Customer support and success.
        Support = "support",
        /// Legal.
        Legal = "legal",
        /// Education or research (students, academics).
        Education = "education",
        /// Anything else.
        Other = "other",
    }
);

level_enum!(
    /// The channel through which a lead or an event arrived.
    Channel {
        /// Unpaid search.
        OrganicSearch = "organic_search",
        /// Paid search ads.
        PaidSearch = "paid_search",
        /// Social networks, organic or paid.
        Social = "social",
        /// Email campaigns.
        Email = "email",
        /// Referral by a partner, customer or another site.
        Referral = "referral",
        /// Events and trade shows (business card exchange).
        Event = "event",
        /// Direct traffic.
        Direct = "direct",
        /// Display advertising.
        Display = "display",
        /// Any other channel.
        Other = "other",
    }
);

/// Where a lead came from.
///
/// Serialized internally tagged:
/// `{"type": "marketing", "channel": "paid_search", "campaign": "spring"}` or
/// `{"type": "sales", "rep": "rep-jane"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Source {
    /// Generated by marketing (an inquiry, a form, a download...).
    Marketing {
        /// The channel it arrived through.
        channel: Channel,
        /// The campaign that brought it, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<CampaignId>,
    },
    /// Generated by sales (an SGL): outbound calls, referrals, visits.
    Sales {
        /// The rep who created it, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rep: Option<OwnerId>,
    },
}

impl Source {
    /// A marketing source with no campaign.
    pub fn marketing(channel: Channel) -> Source {
        Source::Marketing {
            channel,
            campaign: None,
        }
    }

    /// A sales-generated source.
    pub fn sales(rep: Option<OwnerId>) -> Source {
        Source::Sales { rep }
    }

    /// True for sales-generated leads.
    pub fn is_sales_generated(&self) -> bool {
        matches!(self, Source::Sales { .. })
    }
}

impl Default for Source {
    /// Marketing, channel [`Channel::Other`], no campaign.
    fn default() -> Source {
        Source::marketing(Channel::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
