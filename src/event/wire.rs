//! How events and shapes are written and read: a flat, strict JSON form
//! (the kind's fields beside the common ones) for people and pipelines, a
//! positional form for binary formats, and the canonical bytes behind
//! [`EventShape::fingerprint`].

use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{AssetType, Event, EventKind, EventShape, EventType, PageCategory};
use crate::hash::StableHasher;
use crate::id::{CampaignId, EventId, LeadId, OwnerId};
use crate::lead::Channel;
use crate::value::AttrValue;

/// Every field of the JSON form, for "expected one of" messages.
const FIELDS: &[&str] = &[
    "id",
    "lead",
    "at",
    "type",
    "path",
    "category",
    "form",
    "asset",
    "asset_id",
    "campaign",
    "hard",
    "webinar",
    "feature",
    "score",
    "by",
    "key",
    "value",
    "name",
    "channel",
    "properties",
];

/// The kinds' own fields, each with the one type it has in every kind that
/// uses it: what a flat JSON object or a positional record holds before its
/// `type` says which apply.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Slots {
    path: Option<String>,
    category: Option<PageCategory>,
    form: Option<String>,
    asset: Option<AssetType>,
    asset_id: Option<String>,
    campaign: Option<CampaignId>,
    hard: Option<bool>,
    webinar: Option<String>,
    feature: Option<String>,
    score: Option<i64>,
    by: Option<OwnerId>,
    key: Option<String>,
    value: Option<AttrValue>,
    name: Option<String>,
}

/// Why slots do not make a kind.
enum SlotError {
    Missing(&'static str),
    NotApplicable(&'static str, EventType),
}

impl SlotError {
    fn into_de<E: de::Error>(self) -> E {
        match self {
            SlotError::Missing(field) => E::missing_field(field),
            SlotError::NotApplicable(field, t) => E::custom(format_args!(
                "field `{field}` does not apply to {t} events: remove it or change the type"
            )),
        }
    }
}

impl Slots {
    fn of(kind: &EventKind) -> Slots {
        let mut s = Slots::default();
        match kind.clone() {
            EventKind::PageView { path, category } => {
                s.path = Some(path);
                s.category = category;
            }
            EventKind::FormSubmit { form } => s.form = form,
            EventKind::ContentDownload { asset, asset_id } => {
                s.asset = Some(asset);
                s.asset_id = asset_id;
            }
            EventKind::EmailOpen { campaign }
            | EventKind::EmailClick { campaign }
            | EventKind::AdClick { campaign } => s.campaign = campaign,
            EventKind::EmailBounce { hard } => s.hard = Some(hard),
            EventKind::WebinarRegister { webinar } | EventKind::WebinarAttend { webinar } => {
                s.webinar = webinar;
            }
            EventKind::TrialActivity { feature } | EventKind::ProductUsage { feature } => {
                s.feature = feature;
            }
            EventKind::Feedback { score } => s.score = Some(score),
            EventKind::MeetingHeld { by } | EventKind::SalesTouch { by } => s.by = by,
            EventKind::AttributeChange { key, value } => {
                s.key = Some(key);
                s.value = Some(value);
            }
            EventKind::Custom { name } => s.name = Some(name),
            EventKind::EmailUnsubscribe
            | EventKind::DemoRequest
            | EventKind::ContactRequest
            | EventKind::TrialStart
            | EventKind::SocialEngagement
            | EventKind::CartAdd
            | EventKind::WishlistAdd => {}
        }
        s
    }

    /// The kind of type `t` from the slots: its required fields present and
    /// no field of another kind.
    fn into_kind(mut self, t: EventType) -> Result<EventKind, SlotError> {
        use EventType as T;
        fn need<V>(v: Option<V>, field: &'static str) -> Result<V, SlotError> {
            v.ok_or(SlotError::Missing(field))
        }
        let kind = match t {
            T::PageView => EventKind::PageView {
                path: need(self.path.take(), "path")?,
                category: self.category.take(),
            },
            T::FormSubmit => EventKind::FormSubmit {
                form: self.form.take(),
            },
            T::ContentDownload => EventKind::ContentDownload {
                asset: need(self.asset.take(), "asset")?,
                asset_id: self.asset_id.take(),
            },
            T::EmailOpen => EventKind::EmailOpen {
                campaign: self.campaign.take(),
            },
            T::EmailClick => EventKind::EmailClick {
                campaign: self.campaign.take(),
            },
            T::AdClick => EventKind::AdClick {
                campaign: self.campaign.take(),
            },
            T::EmailUnsubscribe => EventKind::EmailUnsubscribe,
            T::EmailBounce => EventKind::EmailBounce {
                hard: self.hard.take().unwrap_or(false),
            },
            T::WebinarRegister => EventKind::WebinarRegister {
                webinar: self.webinar.take(),
            },
            T::WebinarAttend => EventKind::WebinarAttend {
                webinar: self.webinar.take(),
            },
            T::DemoRequest => EventKind::DemoRequest,
            T::ContactRequest => EventKind::ContactRequest,
            T::TrialStart => EventKind::TrialStart,
            T::TrialActivity => EventKind::TrialActivity {
                feature: self.feature.take(),
            },
            T::ProductUsage => EventKind::ProductUsage {
                feature: self.feature.take(),
            },
            T::Feedback => EventKind::Feedback {
                score: need(self.score.take(), "score")?,
            },
            T::SocialEngagement => EventKind::SocialEngagement,
            T::CartAdd => EventKind::CartAdd,
            T::WishlistAdd => EventKind::WishlistAdd,
            T::MeetingHeld => EventKind::MeetingHeld { by: self.by.take() },
            T::SalesTouch => EventKind::SalesTouch { by: self.by.take() },
            T::AttributeChange => EventKind::AttributeChange {
                key: need(self.key.take(), "key")?,
                value: need(self.value.take(), "value")?,
            },
            T::Custom => EventKind::Custom {
                name: need(self.name.take(), "name")?,
            },
        };
        match self.first_present() {
            Some(field) => Err(SlotError::NotApplicable(field, t)),
            None => Ok(kind),
        }
    }

    fn first_present(&self) -> Option<&'static str> {
        [
            ("path", self.path.is_some()),
            ("category", self.category.is_some()),
            ("form", self.form.is_some()),
            ("asset", self.asset.is_some()),
            ("asset_id", self.asset_id.is_some()),
            ("campaign", self.campaign.is_some()),
            ("hard", self.hard.is_some()),
            ("webinar", self.webinar.is_some()),
            ("feature", self.feature.is_some()),
            ("score", self.score.is_some()),
            ("by", self.by.is_some()),
            ("key", self.key.is_some()),
            ("value", self.value.is_some()),
            ("name", self.name.is_some()),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field))
    }
}

/// Writes the kind's `type` and own fields into a JSON map, present ones
/// only (`hard` always, as it has a value either way).
fn kind_entries<M: SerializeMap>(kind: &EventKind, map: &mut M) -> Result<(), M::Error> {
    map.serialize_entry("type", &kind.event_type())?;
    fn opt<M: SerializeMap, V: Serialize>(map: &mut M, key: &str, v: &Option<V>) -> Result<(), M::Error> {
        match v {
            Some(v) => map.serialize_entry(key, v),
            None => Ok(()),
        }
    }
    match kind {
        EventKind::PageView { path, category } => {
            map.serialize_entry("path", path)?;
            opt(map, "category", category)
        }
        EventKind::FormSubmit { form } => opt(map, "form", form),
        EventKind::ContentDownload { asset, asset_id } => {
            map.serialize_entry("asset", asset)?;
            opt(map, "asset_id", asset_id)
        }
        EventKind::EmailOpen { campaign }
        | EventKind::EmailClick { campaign }
        | EventKind::AdClick { campaign } => opt(map, "campaign", campaign),
        EventKind::EmailBounce { hard } => map.serialize_entry("hard", hard),
        EventKind::WebinarRegister { webinar } | EventKind::WebinarAttend { webinar } => {
            opt(map, "webinar", webinar)
        }
        EventKind::TrialActivity { feature } | EventKind::ProductUsage { feature } => {
            opt(map, "feature", feature)
        }
        EventKind::Feedback { score } => map.serialize_entry("score", score),
        EventKind::MeetingHeld { by } | EventKind::SalesTouch { by } => opt(map, "by", by),
        EventKind::AttributeChange { key, value } => {
            map.serialize_entry("key", key)?;
            map.serialize_entry("value", value)
        }
        EventKind::Custom { name } => map.serialize_entry("name", name),
        EventKind::EmailUnsubscribe
        | EventKind::DemoRequest
        | EventKind::ContactRequest
        | EventKind::TrialStart
        | EventKind::SocialEngagement
        | EventKind::CartAdd
        | EventKind::WishlistAdd => Ok(()),
    }
}

/// Writes a shape's entries (kind, channel, properties) into a JSON map.
fn shape_entries<M: SerializeMap>(shape: &EventShape, map: &mut M) -> Result<(), M::Error> {
    kind_entries(&shape.kind, map)?;
    if let Some(c) = &shape.channel {
        map.serialize_entry("channel", c)?;
    }
    if !shape.properties.is_empty() {
        map.serialize_entry("properties", &shape.properties)?;
    }
    Ok(())
}

/// The positional form of a shape, for binary formats.
#[derive(Serialize, Deserialize)]
struct ShapeRecord {
    kind: EventType,
    slots: Slots,
    channel: Option<Channel>,
    properties: IndexMap<String, AttrValue>,
}

impl ShapeRecord {
    fn of(shape: &EventShape) -> ShapeRecord {
        ShapeRecord {
            kind: shape.event_type(),
            slots: Slots::of(&shape.kind),
            channel: shape.channel,
            properties: shape.properties.clone(),
        }
    }

    fn into_shape<E: de::Error>(self) -> Result<EventShape, E> {
        Ok(EventShape {
            kind: self.slots.into_kind(self.kind).map_err(SlotError::into_de)?,
            channel: self.channel,
            properties: self.properties,
        })
    }
}

/// The positional form of an event, for binary formats.
#[derive(Serialize, Deserialize)]
struct EventRecord {
    id: EventId,
    lead: LeadId,
    at: DateTime<Utc>,
    shape: EventShape,
}

impl Serialize for EventShape {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut map = serializer.serialize_map(None)?;
            shape_entries(self, &mut map)?;
            map.end()
        } else {
            ShapeRecord::of(self).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for EventShape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EventShape, D::Error> {
        if deserializer.is_human_readable() {
            let flat = deserializer.deserialize_map(FlatVisitor { header: false })?;
            Ok(flat.shape)
        } else {
            ShapeRecord::deserialize(deserializer)?.into_shape()
        }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("id", &self.id)?;
            map.serialize_entry("lead", &self.lead)?;
            map.serialize_entry("at", &self.at)?;
            shape_entries(&self.shape, &mut map)?;
            map.end()
        } else {
            EventRecord {
                id: self.id.clone(),
                lead: self.lead.clone(),
                at: self.at,
                shape: self.shape.clone(),
            }
            .serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        if deserializer.is_human_readable() {
            let flat = deserializer.deserialize_map(FlatVisitor { header: true })?;
            let (Some(id), Some(lead), Some(at)) = flat.header else {
                // The visitor checks the header is complete.
                return Err(de::Error::missing_field("id"));
            };
            Ok(Event {
                id,
                lead,
                at,
                shape: flat.shape,
            })
        } else {
            let r = EventRecord::deserialize(deserializer)?;
            Ok(Event {
                id: r.id,
                lead: r.lead,
                at: r.at,
                shape: r.shape,
            })
        }
    }
}

/// A flat JSON object read: the header (for events) and the shape.
struct Flat {
    header: (Option<EventId>, Option<LeadId>, Option<DateTime<Utc>>),
    shape: EventShape,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Id,
    Lead,
    At,
    Type,
    Path,
    Category,
    Form,
    Asset,
    AssetId,
    Campaign,
    Hard,
    Webinar,
    Feature,
    Score,
    By,
    Key,
    Value,
    Name,
    Channel,
    Properties,
}

/// Reads a flat object; `header` says whether `id`, `lead` and `at` belong
/// to it (an event) or are unknown fields (a shape).
struct FlatVisitor {
    header: bool,
}

/// Stores `value` in `slot`, refusing a second value.
fn put<'de, A: MapAccess<'de>, V: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<V>,
    field: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(field));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Visitor<'de> for FlatVisitor {
    type Value = Flat;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.header {
            "an event object with id, lead, at and type"
        } else {
            "an event shape object with a type"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Flat, A::Error> {
        let (mut id, mut lead, mut at) = (None, None, None);
        let (mut kind, mut channel, mut properties) = (None, None, None);
        let mut s = Slots::default();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Id | Field::Lead | Field::At if !self.header => {
                    let name = match field {
                        Field::Id => "id",
                        Field::Lead => "lead",
                        _ => "at",
                    };
                    return Err(de::Error::unknown_field(name, FIELDS.get(3..).unwrap_or(FIELDS)));
                }
                Field::Id => put(&mut map, &mut id, "id")?,
                Field::Lead => put(&mut map, &mut lead, "lead")?,
                Field::At => put(&mut map, &mut at, "at")?,
                Field::Type => put(&mut map, &mut kind, "type")?,
                Field::Path => put(&mut map, &mut s.path, "path")?,
                Field::Category => put(&mut map, &mut s.category, "category")?,
                Field::Form => put(&mut map, &mut s.form, "form")?,
                Field::Asset => put(&mut map, &mut s.asset, "asset")?,
                Field::AssetId => put(&mut map, &mut s.asset_id, "asset_id")?,
                Field::Campaign => put(&mut map, &mut s.campaign, "campaign")?,
                Field::Hard => put(&mut map, &mut s.hard, "hard")?,
                Field::Webinar => put(&mut map, &mut s.webinar, "webinar")?,
                Field::Feature => put(&mut map, &mut s.feature, "feature")?,
                Field::Score => put(&mut map, &mut s.score, "score")?,
                Field::By => put(&mut map, &mut s.by, "by")?,
                Field::Key => put(&mut map, &mut s.key, "key")?,
                Field::Value => put(&mut map, &mut s.value, "value")?,
                Field::Name => put(&mut map, &mut s.name, "name")?,
                Field::Channel => put(&mut map, &mut channel, "channel")?,
                Field::Properties => put(&mut map, &mut properties, "properties")?,
            }
        }
        if self.header {
            for (field, missing) in [
                ("id", id.is_none()),
                ("lead", lead.is_none()),
                ("at", at.is_none()),
            ] {
                if missing {
                    return Err(de::Error::missing_field(field));
                }
            }
        }
        let kind: EventType = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        Ok(Flat {
            header: (id, lead, at),
            shape: EventShape {
                kind: s.into_kind(kind).map_err(SlotError::into_de)?,
                channel,
                properties: properties.unwrap_or_default(),
            },
        })
    }
}

/// Feeds the canonical bytes of a shape to `h`: the type, each field of
/// the kind with a presence byte, the channel, then the properties sorted
/// by key (numbers by value, `-0.0` as `0.0`).
pub(super) fn hash_shape(shape: &EventShape, h: &mut StableHasher) {
    h.u8(shape.event_type() as u8);
    let s = Slots::of(&shape.kind);
    let text = |h: &mut StableHasher, v: Option<&str>| match v {
        Some(v) => {
            h.u8(1);
            h.text(v);
        }
        None => h.u8(0),
    };
    text(h, s.path.as_deref());
    text(h, s.category.map(PageCategory::as_str));
    text(h, s.form.as_deref());
    text(h, s.asset.map(AssetType::as_str));
    text(h, s.asset_id.as_deref());
    text(h, s.campaign.as_ref().map(CampaignId::as_str));
    text(h, s.hard.map(|b| if b { "true" } else { "false" }));
    text(h, s.webinar.as_deref());
    text(h, s.feature.as_deref());
    match s.score {
        Some(v) => {
            h.u8(1);
            h.u64(v as u64);
        }
        None => h.u8(0),
    }
    text(h, s.by.as_ref().map(OwnerId::as_str));
    text(h, s.key.as_deref());
    match &s.value {
        Some(v) => {
            h.u8(1);
            hash_value(v, h);
        }
        None => h.u8(0),
    }
    text(h, s.name.as_deref());
    text(h, shape.channel.map(Channel::as_str));
    let mut props: Vec<(&String, &AttrValue)> = shape.properties.iter().collect();
    props.sort_by(|a, b| a.0.cmp(b.0));
    h.u64(props.len() as u64);
    for (k, v) in props {
        h.text(k);
        hash_value(v, h);
    }
}

fn hash_value(v: &AttrValue, h: &mut StableHasher) {
    match v {
        AttrValue::Bool(b) => {
            h.u8(0);
            h.u8(u8::from(*b));
        }
        AttrValue::Int(i) => {
            h.u8(1);
            h.u64(*i as u64);
        }
        AttrValue::Number(n) => {
            h.u8(2);
            // -0.0 == 0.0: one value, one hash.
            h.u64(if *n == 0.0 { 0 } else { n.to_bits() });
        }
        AttrValue::Text(t) => {
            h.u8(3);
            h.text(t);
        }
    }
}
