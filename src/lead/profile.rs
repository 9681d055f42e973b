//! Who a lead is: the company's firmographics and the person's
//! demographics.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    pub(super) const LEVELS: &'static str = "1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+";
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

    pub(super) fn parse(s: &str) -> Option<SizeBand> {
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
