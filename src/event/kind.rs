//! What happened: the kinds of events, their types and the vocabularies
//! they use (asset types, page categories).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::{CampaignId, OwnerId};
use crate::value::AttrValue;

/// What happened, with the fields specific to each kind.
///
/// Serialized internally tagged by `"type"` (snake case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A web page was viewed.
    PageView {
        /// The page path, e.g. `/pricing/enterprise`.
        path: String,
        /// The page's category; inferred from the path when absent (see
        /// [`PageCategory::from_path`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<PageCategory>,
    },
    /// A form was submitted.
    FormSubmit {
        /// The form's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form: Option<String>,
    },
    /// A piece of content was downloaded.
    ContentDownload {
        /// What kind of asset.
        asset: AssetType,
        /// Which asset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        asset_id: Option<String>,
    },
    /// A marketing email was opened.
    EmailOpen {
        /// The email campaign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<CampaignId>,
    },
    /// A link in a marketing email was clicked.
    EmailClick {
        /// The email campaign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<CampaignId>,
    },
    /// The lead unsubscribed from email.
    EmailUnsubscribe,
    /// An email to the lead bounced.
    EmailBounce {
        /// A hard (permanent) bounce.
        #[serde(default)]
        hard: bool,
    },
    /// The lead registered for a webinar.
    WebinarRegister {
        /// Which webinar.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        webinar: Option<String>,
    },
    /// The lead attended a webinar.
    WebinarAttend {
        /// Which webinar.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        webinar: Option<String>,
    },
    /// The lead requested a demo.
    DemoRequest,
    /// The lead asked to be contacted.
    ContactRequest,
    /// The lead started a trial.
    TrialStart,
    /// The lead used the product during a trial.
    TrialActivity {
        /// The feature used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature: Option<String>,
    },
    /// A customer used the product (for expansion, CSQL).
    ProductUsage {
        /// The feature used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature: Option<String>,
    },
    /// A customer gave feedback, e.g. a satisfaction or NPS score.
    Feedback {
        /// The score given (scale chosen by the host, e.g. 0–10).
        score: i64,
    },
    /// The lead clicked an ad.
    AdClick {
        /// The ad campaign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<CampaignId>,
    },
    /// The lead engaged on social media (like, share, comment, follow).
    SocialEngagement,
    /// The lead added something to a cart.
    CartAdd,
    /// The lead added something to a wishlist.
    WishlistAdd,
    /// A meeting with the lead took place.
    MeetingHeld {
        /// Who held it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
    },
    /// Sales contacted the lead (call, email, message): a follow-up.
    SalesTouch {
        /// Who followed up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<OwnerId>,
    },
    /// An attribute of the lead changed (see
    /// [`Lead::set_attribute`](crate::Lead::set_attribute)).
    AttributeChange {
        /// The attribute name.
        key: String,
        /// Its new value.
        value: AttrValue,
    },
    /// Anything else, named by the host.
    Custom {
        /// The host's name for the event.
        name: String,
    },
}

macro_rules! event_types {
    ($($variant:ident = $text:literal),+ $(,)?) => {
        /// The kind of an [`Event`](crate::Event) without its fields: what scoring rules and
        /// criteria dispatch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum EventType {
            $(#[doc = concat!("See [`EventKind::", stringify!($variant), "`].")] $variant),+
        }

        impl EventType {
            /// Every event type, in declaration order: `ALL[t.index()] == t`.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            /// The type's name as written in configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $text),+
                }
            }
        }

        impl EventKind {
            /// The kind without its fields.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(EventKind::$variant { .. } => EventType::$variant),+
                }
            }
        }
    };
}

event_types!(
    PageView = "page_view",
    FormSubmit = "form_submit",
    ContentDownload = "content_download",
    EmailOpen = "email_open",
    EmailClick = "email_click",
    EmailUnsubscribe = "email_unsubscribe",
    EmailBounce = "email_bounce",
    WebinarRegister = "webinar_register",
    WebinarAttend = "webinar_attend",
    DemoRequest = "demo_request",
    ContactRequest = "contact_request",
    TrialStart = "trial_start",
    TrialActivity = "trial_activity",
    ProductUsage = "product_usage",
    Feedback = "feedback",
    AdClick = "ad_click",
    SocialEngagement = "social_engagement",
    CartAdd = "cart_add",
    WishlistAdd = "wishlist_add",
    MeetingHeld = "meeting_held",
    SalesTouch = "sales_touch",
    AttributeChange = "attribute_change",
    Custom = "custom",
);

impl EventType {
    /// A dense index in `0..EventType::ALL.len()`, for dispatch tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventKind {
    /// The page category of a page view (explicit, or inferred from the
    /// path); `None` for other kinds.
    pub fn page_category(&self) -> Option<PageCategory> {
        match self {
            EventKind::PageView { path, category } => {
                Some(category.unwrap_or_else(|| PageCategory::from_path(path)))
            }
            _ => None,
        }
    }

    /// The asset type of a content download; `None` for other kinds.
    pub fn asset(&self) -> Option<AssetType> {
        match self {
            EventKind::ContentDownload { asset, .. } => Some(*asset),
            _ => None,
        }
    }

    /// The kind's own name field, if it has one: the page path, form, asset
    /// id, webinar, feature, custom name or attribute key.
    pub fn name(&self) -> Option<&str> {
        match self {
            EventKind::PageView { path, .. } => Some(path),
            EventKind::FormSubmit { form: n }
            | EventKind::ContentDownload { asset_id: n, .. }
            | EventKind::WebinarRegister { webinar: n }
            | EventKind::WebinarAttend { webinar: n }
            | EventKind::TrialActivity { feature: n }
            | EventKind::ProductUsage { feature: n } => n.as_deref(),
            EventKind::EmailOpen { campaign }
            | EventKind::EmailClick { campaign }
            | EventKind::AdClick { campaign } => campaign.as_ref().map(CampaignId::as_str),
            EventKind::Custom { name } => Some(name),
            EventKind::AttributeChange { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// What kind of content asset was downloaded. Early-funnel assets (a
/// whitepaper) signal less intent than late-funnel ones (a pricing sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AssetType {
    /// A whitepaper (early funnel).
    Whitepaper,
    /// An ebook or guide (early funnel).
    Ebook,
    /// A blog-style checklist, template or infographic (early funnel).
    Template,
    /// An analyst or research report (early to middle).
    Report,
    /// A recorded webinar (middle).
    WebinarRecording,
    /// A customer case study (middle).
    CaseStudy,
    /// A product datasheet (middle to late).
    Datasheet,
    /// A recorded product demo or tour (late).
    ProductDemo,
    /// A pricing sheet (late funnel: high intent).
    PricingSheet,
    /// Anything else.
    Other,
}

impl AssetType {
    /// The asset type's name as written in configuration (`"pricing_sheet"`).
    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Whitepaper => "whitepaper",
            AssetType::Ebook => "ebook",
            AssetType::Template => "template",
            AssetType::Report => "report",
            AssetType::WebinarRecording => "webinar_recording",
            AssetType::CaseStudy => "case_study",
            AssetType::Datasheet => "datasheet",
            AssetType::ProductDemo => "product_demo",
            AssetType::PricingSheet => "pricing_sheet",
            AssetType::Other => "other",
        }
    }
}

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category of web page, for rules such as "three visits to product pages".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PageCategory {
    /// The home page.
    Home,
    /// Pricing pages.
    Pricing,
    /// Product, feature, platform and solution pages.
    Product,
    /// Customer stories and case studies.
    CaseStudies,
    /// Documentation and help.
    Docs,
    /// Blog and news.
    Blog,
    /// Contact and demo pages.
    Contact,
    /// Careers and jobs (a negative signal: a job seeker, not a buyer).
    Careers,
    /// Anything else.
    Other,
}

impl PageCategory {
    /// The category's name as written in configuration (`"case_studies"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PageCategory::Home => "home",
            PageCategory::Pricing => "pricing",
            PageCategory::Product => "product",
            PageCategory::CaseStudies => "case_studies",
            PageCategory::Docs => "docs",
            PageCategory::Blog => "blog",
            PageCategory::Contact => "contact",
            PageCategory::Careers => "careers",
            PageCategory::Other => "other",
        }
    }

    /// Infers a category from a URL path by its first segment:
    /// `/pricing` → Pricing; `/product`, `/products`, `/features`, `/platform`,
    /// `/solutions`, `/integrations` → Product; `/customers`, `/case-studies` →
    /// CaseStudies; `/docs`, `/documentation`, `/help` → Docs; `/blog`, `/news`
    /// → Blog; `/contact`, `/demo` → Contact; `/careers`, `/jobs` → Careers;
    /// `/` → Home; anything else → Other. Case-insensitive; a query string or
    /// fragment is ignored.
    ///
    /// ```
    /// use leadflow::PageCategory;
    /// assert_eq!(PageCategory::from_path("/Pricing/enterprise?x=1"), PageCategory::Pricing);
    /// assert_eq!(PageCategory::from_path("/jobs/rust-engineer"), PageCategory::Careers);
    /// assert_eq!(PageCategory::from_path("/"), PageCategory::Home);
    /// ```
    pub fn from_path(path: &str) -> PageCategory {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        // Lowercase into a stack buffer: no allocation on the scoring hot path.
        // Every known segment is shorter than the buffer; longer ones are Other.
        let mut buf = [0u8; 16];
        let Some(slot) = buf.get_mut(..first.len()) else {
            return PageCategory::Other;
        };
        slot.copy_from_slice(first.as_bytes());
        slot.make_ascii_lowercase();
        match std::str::from_utf8(slot).unwrap_or("") {
            "" => PageCategory::Home,
            "pricing" | "plans" => PageCategory::Pricing,
            "product" | "products" | "features" | "platform" | "solutions" | "integrations" => {
                PageCategory::Product
            }
            "customers" | "case-studies" | "case_studies" | "stories" => PageCategory::CaseStudies,
            "docs" | "documentation" | "help" => PageCategory::Docs,
            "blog" | "news" => PageCategory::Blog,
            "contact" | "demo" | "contact-us" => PageCategory::Contact,
            "careers" | "jobs" => PageCategory::Careers,
            _ => PageCategory::Other,
        }
    }
}

impl fmt::Display for PageCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_dense_and_named() {
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }

    #[test]
    fn names_are_the_serde_names() {
        for a in [
            AssetType::PricingSheet,
            AssetType::WebinarRecording,
            AssetType::Other,
        ] {
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        for c in [
            PageCategory::CaseStudies,
            PageCategory::Home,
            PageCategory::Careers,
        ] {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
    }

    #[test]
    fn categories_from_paths() {
        assert_eq!(PageCategory::from_path("/features/x"), PageCategory::Product);
        assert_eq!(PageCategory::from_path("blog/post"), PageCategory::Blog);
        assert_eq!(PageCategory::from_path("/unknown"), PageCategory::Other);
        let k = EventKind::PageView {
            path: "/x".into(),
            category: Some(PageCategory::Pricing),
        };
        assert_eq!(k.page_category(), Some(PageCategory::Pricing));
    }
}
