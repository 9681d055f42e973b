//! Events: what a lead does.

use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::id::{CampaignId, EventId, LeadId, OwnerId};
use crate::lead::Channel;
use crate::value::AttrValue;

/// Something a lead did (or that happened to it), at a point in time.
///
/// Each event has an [`EventId`] for idempotency: the same id seen twice for
/// the same lead is one event. Events arrive as JSON with the kind's fields
/// flattened beside the common ones:
///
/// ```
/// use leadflow::{AssetType, Event, EventKind};
///
/// let event: Event = serde_json::from_str(r#"{
///     "id": "e-17", "lead": "lead-1", "at": "2026-03-02T10:00:00Z",
///     "type": "content_download", "asset": "pricing_sheet",
///     "channel": "email", "properties": {"utm_campaign": "spring"}
/// }"#)?;
/// assert_eq!(event.kind, EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id, unique per lead.
    pub id: EventId,
    /// The lead it belongs to.
    pub lead: LeadId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, with the kind's own fields.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The channel it came through, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Free-form properties (UTM tags, form fields, usage figures...).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub properties: IndexMap<String, AttrValue>,
}

impl Event {
    /// An event with no channel and no properties.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use leadflow::{Event, EventId, EventKind, EventType, LeadId};
    ///
    /// let at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
    /// let e = Event::new(EventId::new("e1")?, LeadId::new("l1")?, at, EventKind::DemoRequest)
    ///     .with_property("seats", 25);
    /// assert_eq!(e.event_type(), EventType::DemoRequest);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(id: EventId, lead: LeadId, at: DateTime<Utc>, kind: EventKind) -> Event {
        Event {
            id,
            lead,
            at,
            kind,
            channel: None,
            properties: IndexMap::new(),
        }
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: Channel) -> Event {
        self.channel = Some(channel);
        self
    }

    /// Adds a property.
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<AttrValue>) -> Event {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// The kind of event without its fields.
    pub fn event_type(&self) -> EventType {
        self.kind.event_type()
    }
}

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
        /// The kind of an [`Event`] without its fields: what scoring rules and
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn event_types_are_dense_and_named() {
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let kinds = vec![
            EventKind::PageView {
                path: "/pricing".into(),
                category: None,
            },
            EventKind::FormSubmit {
                form: Some("contact".into()),
            },
            EventKind::ContentDownload {
                asset: AssetType::Whitepaper,
                asset_id: Some("wp1".into()),
            },
            EventKind::EmailOpen { campaign: None },
            EventKind::EmailClick {
                campaign: Some(CampaignId::new("c").unwrap()),
            },
            EventKind::EmailUnsubscribe,
            EventKind::EmailBounce { hard: true },
            EventKind::WebinarRegister { webinar: None },
            EventKind::WebinarAttend {
                webinar: Some("w".into()),
            },
            EventKind::DemoRequest,
            EventKind::ContactRequest,
            EventKind::TrialStart,
            EventKind::TrialActivity {
                feature: Some("reports".into()),
            },
            EventKind::ProductUsage { feature: None },
            EventKind::Feedback { score: 9 },
            EventKind::AdClick { campaign: None },
            EventKind::SocialEngagement,
            EventKind::CartAdd,
            EventKind::WishlistAdd,
            EventKind::MeetingHeld { by: None },
            EventKind::SalesTouch {
                by: Some(OwnerId::new("rep").unwrap()),
            },
            EventKind::AttributeChange {
                key: "employees".into(),
                value: AttrValue::Int(40),
            },
            EventKind::Custom { name: "chat".into() },
        ];
        assert_eq!(kinds.len(), EventType::ALL.len(), "one sample per kind");
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event::new(
                EventId::new(format!("e{i}")).unwrap(),
                LeadId::new("l").unwrap(),
                at,
                kind,
            )
            .with_channel(Channel::Email)
            .with_property("k", 1);
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
        }
    }

    #[test]
    fn unknown_type_is_an_error() {
        let r = serde_json::from_str::<Event>(
            r#"{"id":"e","lead":"l","at":"2026-01-01T00:00:00Z","type":"teleport"}"#,
        );
        assert!(r.is_err());
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
