//! Events: what a lead does.
//!
//! An [`Event`] is one occurrence (an id, a lead, a time) of an
//! [`EventShape`]: what happened, with the kind's fields, the channel and
//! the properties. Scoring rules and qualification criteria look only at
//! shapes (and times); the engine interns each distinct shape once.

mod kind;
mod wire;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

pub use kind::{AssetType, EventKind, EventType, PageCategory};

use crate::hash::StableHasher;
use crate::id::{EventId, LeadId};
use crate::lead::Channel;
use crate::value::{AttrRef, AttrValue};

/// Something a lead did (or that happened to it), at a point in time.
///
/// Each event has an [`EventId`] for idempotency: the same id seen twice for
/// the same lead is one event. What happened is its [`EventShape`]. Events
/// arrive as JSON with the shape's fields beside the common ones; a field
/// that is not part of the format, or that does not apply to the event's
/// type, is refused:
///
/// ```
/// use leadflow::{AssetType, Event, EventKind};
///
/// let event: Event = serde_json::from_str(r#"{
///     "id": "e-17", "lead": "lead-1", "at": "2026-03-02T10:00:00Z",
///     "type": "content_download", "asset": "pricing_sheet",
///     "channel": "email", "properties": {"utm_campaign": "spring"}
/// }"#)?;
/// assert_eq!(event.shape.kind, EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
///
/// let typo = serde_json::from_str::<Event>(
///     r#"{"id": "e-18", "lead": "lead-1", "at": "2026-03-02T10:00:00Z", "type": "demo_request", "chanel": "email"}"#);
/// assert!(typo.unwrap_err().to_string().contains("unknown field `chanel`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Binary serde formats (postcard, bincode) get a compact positional form
/// instead of the JSON one.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's id, unique per lead.
    pub id: EventId,
    /// The lead it belongs to.
    pub lead: LeadId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub shape: EventShape,
}

/// What an event is, apart from which event it is, whose, and when: its
/// kind with the kind's own fields, the channel it came through and its
/// free-form properties.
///
/// Scoring rules and criteria match shapes; the engine keeps each distinct
/// shape once and refers to it by a number, so events repeat only their id,
/// lead and time. [`fingerprint`](Self::fingerprint) is a stable hash of the
/// shape.
///
/// Serialized like an [`Event`] without `id`, `lead` and `at`:
/// `{"type": "page_view", "path": "/pricing", "channel": "email"}`.
///
/// # Example
///
/// ```
/// use leadflow::{AttrRef, EventKind, EventShape, EventType};
///
/// let shape = EventShape::new(EventKind::Feedback { score: 9 }).with_property("seats", 25);
/// assert_eq!(shape.event_type(), EventType::Feedback);
/// assert_eq!(shape.property("score"), Some(AttrRef::Int(9)));
/// assert_eq!(shape.property("seats"), Some(AttrRef::Int(25)));
/// let same = EventShape::new(EventKind::Feedback { score: 9 }).with_property("seats", 25);
/// assert_eq!(shape.fingerprint(), same.fingerprint());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EventShape {
    /// What happened, with the kind's own fields.
    pub kind: EventKind,
    /// The channel it came through, if known.
    pub channel: Option<Channel>,
    /// Free-form properties (UTM tags, form fields, usage figures...).
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
        Event::of_shape(id, lead, at, EventShape::new(kind))
    }

    /// An event of a shape.
    pub fn of_shape(id: EventId, lead: LeadId, at: DateTime<Utc>, shape: EventShape) -> Event {
        Event { id, lead, at, shape }
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: Channel) -> Event {
        self.shape.channel = Some(channel);
        self
    }

    /// Adds a property.
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<AttrValue>) -> Event {
        self.shape.properties.insert(key.into(), value.into());
        self
    }

    /// The kind of event without its fields.
    pub fn event_type(&self) -> EventType {
        self.shape.event_type()
    }
}

impl EventShape {
    /// A shape with no channel and no properties.
    pub fn new(kind: EventKind) -> EventShape {
        EventShape {
            kind,
            channel: None,
            properties: IndexMap::new(),
        }
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: Channel) -> EventShape {
        self.channel = Some(channel);
        self
    }

    /// Adds a property.
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<AttrValue>) -> EventShape {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// The kind of event without its fields.
    pub fn event_type(&self) -> EventType {
        self.kind.event_type()
    }

    /// Reads a property by name: first the shape's own
    /// [`properties`](Self::properties), then the kind's fields under their
    /// names (`path`, `category`, `asset`, `score`, `hard`, `form`, `webinar`,
    /// `feature`, `name`, `campaign`, `key`, `value`) and `channel`.
    ///
    /// ```
    /// use leadflow::{AttrRef, EventKind, EventShape};
    ///
    /// let shape = EventShape::new(EventKind::Feedback { score: 9 });
    /// assert_eq!(shape.property("score"), Some(AttrRef::Int(9)));
    /// assert_eq!(shape.property("path"), None);
    /// ```
    pub fn property(&self, key: &str) -> Option<AttrRef<'_>> {
        if let Some(v) = self.properties.get(key) {
            return Some(v.as_ref());
        }
        let k = &self.kind;
        match key {
            "channel" => self.channel.map(|c| AttrRef::Text(c.as_str())),
            "category" => k.page_category().map(|c| AttrRef::Text(c.as_str())),
            "asset" => k.asset().map(|a| AttrRef::Text(a.as_str())),
            "score" => match k {
                EventKind::Feedback { score } => Some(AttrRef::Int(*score)),
                _ => None,
            },
            "hard" => match k {
                EventKind::EmailBounce { hard } => Some(AttrRef::Bool(*hard)),
                _ => None,
            },
            "value" => match k {
                EventKind::AttributeChange { value, .. } => Some(value.as_ref()),
                _ => None,
            },
            "path" => match k {
                EventKind::PageView { .. } => k.name().map(AttrRef::Text),
                _ => None,
            },
            "form" | "webinar" | "feature" | "name" | "campaign" | "key" => k.name().map(AttrRef::Text),
            _ => None,
        }
    }

    /// A stable 64-bit hash of the shape: the same on every platform and
    /// version, equal for equal shapes (properties in any order, `-0.0` and
    /// `0.0` alike). Events at the same time are put in order by it (see
    /// [`scoring`](crate::scoring)).
    pub fn fingerprint(&self) -> u64 {
        let mut h = StableHasher::default();
        wire::hash_shape(self, &mut h);
        h.finish()
    }
}

impl From<EventKind> for EventShape {
    fn from(kind: EventKind) -> EventShape {
        EventShape::new(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{CampaignId, OwnerId};
    use chrono::TimeZone;

    pub(crate) fn every_kind() -> Vec<EventKind> {
        vec![
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
        ]
    }

    fn events() -> Vec<Event> {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let kinds = every_kind();
        assert_eq!(kinds.len(), EventType::ALL.len(), "one sample per kind");
        kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| {
                Event::new(
                    EventId::new(format!("e{i}")).unwrap(),
                    LeadId::new("l").unwrap(),
                    at,
                    kind,
                )
                .with_channel(Channel::Email)
                .with_property("k", 1)
            })
            .collect()
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        for e in events() {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
            let shape = serde_json::to_string(&e.shape).unwrap();
            assert_eq!(
                serde_json::from_str::<EventShape>(&shape).unwrap(),
                e.shape,
                "{shape}"
            );
        }
    }

    #[test]
    fn json_is_flat_with_the_kind_fields_beside_the_common_ones() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let e = Event::new(
            EventId::new("e1").unwrap(),
            LeadId::new("l1").unwrap(),
            at,
            EventKind::PageView {
                path: "/pricing".into(),
                category: None,
            },
        )
        .with_channel(Channel::Email);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"id":"e1","lead":"l1","at":"2026-01-01T00:00:00Z","type":"page_view","path":"/pricing","channel":"email"}"#
        );
        let bounce = EventShape::new(EventKind::EmailBounce { hard: false });
        assert_eq!(
            serde_json::to_string(&bounce).unwrap(),
            r#"{"type":"email_bounce","hard":false}"#
        );
        // `hard` defaults to false.
        let soft: EventShape = serde_json::from_str(r#"{"type":"email_bounce"}"#).unwrap();
        assert_eq!(soft, bounce);
    }

    #[test]
    fn every_kind_round_trips_through_a_binary_format() {
        for e in events() {
            let bytes = postcard::to_allocvec(&e).unwrap();
            assert_eq!(postcard::from_bytes::<Event>(&bytes).unwrap(), e);
        }
    }

    #[test]
    fn malformed_events_are_refused_with_what_is_wrong() {
        let head = r#""id":"e","lead":"l","at":"2026-01-01T00:00:00Z""#;
        let err = |body: &str| {
            serde_json::from_str::<Event>(&format!("{{{head},{body}}}"))
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#""type":"teleport""#).contains("unknown variant `teleport`"));
        assert!(err(r#""type":"demo_request","chanel":"email""#).contains("unknown field `chanel`"));
        assert!(
            err(r#""type":"demo_request","path":"/x""#)
                .contains("field `path` does not apply to demo_request events")
        );
        assert!(err(r#""type":"page_view""#).contains("missing field `path`"));
        assert!(err(r#""type":"custom""#).contains("missing field `name`"));
        assert!(err(r#""path":"/x""#).contains("missing field `type`"));
        assert!(err(r#""type":"demo_request","type":"custom""#).contains("duplicate field `type`"));
        let no_id =
            serde_json::from_str::<Event>(r#"{"lead":"l","at":"2026-01-01T00:00:00Z","type":"cart_add"}"#);
        assert!(no_id.unwrap_err().to_string().contains("missing field `id`"));
        // A shape alone has no id, lead or time.
        let shape = serde_json::from_str::<EventShape>(r#"{"id":"e","type":"cart_add"}"#);
        assert!(shape.unwrap_err().to_string().contains("unknown field `id`"));
    }

    #[test]
    fn fingerprints_ignore_property_order_and_the_sign_of_zero() {
        let a = EventShape::new(EventKind::CartAdd)
            .with_property("x", 1)
            .with_property("y", AttrValue::number(0.0).unwrap());
        let b = EventShape::new(EventKind::CartAdd)
            .with_property("y", AttrValue::number(-0.0).unwrap())
            .with_property("x", 1);
        assert_eq!(a, b);
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = EventShape::new(EventKind::CartAdd).with_property("x", 2);
        assert_ne!(a.fingerprint(), c.fingerprint());
        // Every kind's shape has its own fingerprint.
        let mut seen = std::collections::HashSet::new();
        for k in every_kind() {
            assert!(seen.insert(EventShape::new(k).fingerprint()));
        }
        // Pinned: the canonical order of events depends on it.
        assert_eq!(
            EventShape::new(EventKind::DemoRequest).fingerprint(),
            0xf5cb_5d89_88e2_d574
        );
    }

    #[test]
    fn properties_from_kind_fields() {
        let s = EventShape::new(EventKind::ContentDownload {
            asset: AssetType::CaseStudy,
            asset_id: Some("cs-1".into()),
        })
        .with_channel(Channel::Social);
        assert_eq!(s.property("asset"), Some(AttrRef::Text("case_study")));
        assert_eq!(s.property("name"), Some(AttrRef::Text("cs-1")));
        assert_eq!(s.property("channel"), Some(AttrRef::Text("social")));
        assert_eq!(s.property("path"), None);
    }
}
