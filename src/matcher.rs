//! Matching events and values: the vocabulary shared by scoring rules and
//! qualification criteria.

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::event::{AssetType, EventKind, EventShape, EventType, PageCategory};
use crate::lead::Channel;
use crate::value::{AttrRef, AttrValue};

/// A test on one attribute or property value.
///
/// Serialized internally tagged: `{"type": "range", "min": 200}`,
/// `{"type": "one_of", "values": ["software", "fintech"]}`.
///
/// # Example
///
/// ```
/// use leadflow::{AttrRef, Predicate};
///
/// let big = Predicate::at_least(200.0);
/// assert!(big.test(AttrRef::Int(450)));
/// assert!(!big.test(AttrRef::Text("450")));
/// let saas = Predicate::one_of(["software", "saas"]);
/// assert!(saas.test(AttrRef::Text("SaaS")));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Predicate {
    /// The value is present (any value).
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Exists,
    /// The value is absent (unknown). The one predicate that holds for a
    /// missing value; see [`Predicate::matches`].
    #[serde(deserialize_with = "crate::strict::no_fields")]
    Missing,
    /// The value equals this one (numbers by value, text ignoring ASCII case).
    Equals {
        /// The value to compare with.
        value: AttrValue,
    },
    /// The value equals one of these.
    OneOf {
        /// The accepted values.
        values: Vec<AttrValue>,
    },
    /// A number within bounds: `min <= value < max`; a missing bound is open.
    Range {
        /// Inclusive lower bound.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::strict::finite_opt"
        )]
        min: Option<f64>,
        /// Exclusive upper bound.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::strict::finite_opt"
        )]
        max: Option<f64>,
    },
    /// Text containing this text, ignoring ASCII case.
    Contains {
        /// The text to look for.
        text: String,
    },
    /// Text starting with this text, ignoring ASCII case.
    StartsWith {
        /// The prefix.
        text: String,
    },
}

/// Why a [`Predicate`] or [`EventMatcher`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MatcherError {
    /// A range bound is NaN or infinite.
    #[error("range bound {value} is not finite: use a finite number or leave the bound out")]
    NonFiniteBound {
        /// The bound.
        value: f64,
    },
    /// A range is empty (`min >= max`).
    #[error("range min {min} is not below max {max}: nothing can match")]
    EmptyRange {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
    /// `one_of` with no values.
    #[error("one_of has no values: nothing can match")]
    EmptyOneOf,
    /// A field that only applies to another event type.
    #[error(
        "matcher for {event} sets {field}, which only applies to {applies_to}: remove it or change the event type"
    )]
    FieldNotApplicable {
        /// The matcher's event type.
        event: EventType,
        /// The field set.
        field: &'static str,
        /// The event type the field applies to.
        applies_to: EventType,
    },
}

impl Predicate {
    /// `min <= value`.
    pub fn at_least(min: f64) -> Predicate {
        Predicate::Range {
            min: Some(min),
            max: None,
        }
    }

    /// `min <= value < max`.
    pub fn between(min: f64, max: f64) -> Predicate {
        Predicate::Range {
            min: Some(min),
            max: Some(max),
        }
    }

    /// Equals `value`.
    pub fn equals(value: impl Into<AttrValue>) -> Predicate {
        Predicate::Equals { value: value.into() }
    }

    /// Equals one of `values`.
    pub fn one_of<V: Into<AttrValue>>(values: impl IntoIterator<Item = V>) -> Predicate {
        Predicate::OneOf {
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// Contains `text`, ignoring ASCII case.
    pub fn contains(text: impl Into<String>) -> Predicate {
        Predicate::Contains { text: text.into() }
    }

    /// Checks the predicate can match something and its numbers are finite.
    ///
    /// # Errors
    ///
    /// [`MatcherError`] naming the problem.
    pub fn validate(&self) -> Result<(), MatcherError> {
        match self {
            Predicate::Range { min, max } => {
                for v in [min, max].into_iter().flatten() {
                    if !v.is_finite() {
                        return Err(MatcherError::NonFiniteBound { value: *v });
                    }
                }
                if let (Some(min), Some(max)) = (min, max) {
                    if min >= max {
                        return Err(MatcherError::EmptyRange { min: *min, max: *max });
                    }
                }
                Ok(())
            }
            Predicate::OneOf { values } if values.is_empty() => Err(MatcherError::EmptyOneOf),
            _ => Ok(()),
        }
    }

    /// Tests a value that may be absent: [`Predicate::Missing`] holds only
    /// for an absent value, every other predicate only for a present value
    /// that passes [`test`](Self::test).
    ///
    /// ```
    /// use leadflow::{AttrRef, Predicate};
    /// assert!(Predicate::Missing.matches(None));
    /// assert!(!Predicate::Exists.matches(None));
    /// assert!(Predicate::at_least(1.0).matches(Some(AttrRef::Int(3))));
    /// ```
    pub fn matches(&self, value: Option<AttrRef<'_>>) -> bool {
        match value {
            None => matches!(self, Predicate::Missing),
            Some(v) => self.test(v),
        }
    }

    /// Tests a present value ([`Predicate::Missing`] never holds for one).
    pub fn test(&self, value: AttrRef<'_>) -> bool {
        match self {
            Predicate::Exists => true,
            Predicate::Missing => false,
            Predicate::Equals { value: v } => v.as_ref().loosely_equals(&value),
            Predicate::OneOf { values } => values.iter().any(|v| v.as_ref().loosely_equals(&value)),
            Predicate::Range { min, max } => value
                .as_f64()
                .is_some_and(|x| min.is_none_or(|m| x >= m) && max.is_none_or(|m| x < m)),
            Predicate::Contains { text } => value
                .as_str()
                .is_some_and(|s| s.to_ascii_lowercase().contains(&text.to_ascii_lowercase())),
            Predicate::StartsWith { text } => {
                value.as_str().is_some_and(|s| starts_with_ignore_case(s, text))
            }
        }
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.as_bytes()
            .iter()
            .zip(prefix.as_bytes())
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Exists => write!(f, "is known"),
            Predicate::Missing => write!(f, "is unknown"),
            Predicate::Equals { value } => write!(f, "= {value}"),
            Predicate::OneOf { values } => {
                write!(f, "in [")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Predicate::Range { min, max } => match (min, max) {
                (Some(a), Some(b)) => write!(f, "in [{a}, {b})"),
                (Some(a), None) => write!(f, ">= {a}"),
                (None, Some(b)) => write!(f, "< {b}"),
                (None, None) => write!(f, "is a number"),
            },
            Predicate::Contains { text } => write!(f, "contains {text:?}"),
            Predicate::StartsWith { text } => write!(f, "starts with {text:?}"),
        }
    }
}

/// Which events a rule or criterion looks at: an event type, optionally
/// narrowed by asset type, page category, path prefix, channel and property
/// predicates. Every field set must match.
///
/// Rules ([`Trigger::Event`](crate::scoring::Trigger::Event)) and conditions
/// ([`Condition::DidAction`](crate::criteria::Condition::DidAction),
/// [`Condition::ActionCount`](crate::criteria::Condition::ActionCount)) call
/// it their `action`: what the lead did. It is tested against an event's
/// [`EventShape`] (what happened, without the event's id, lead and time).
///
/// Serialized as `{"event": "page_view", "path_prefix": "/pricing"}`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::{AssetType, Event, EventId, EventKind, EventMatcher, LeadId};
///
/// let pricing = EventMatcher::download(AssetType::PricingSheet);
/// let at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
/// let e = Event::new(EventId::new("e1")?, LeadId::new("l1")?, at,
///     EventKind::ContentDownload { asset: AssetType::PricingSheet, asset_id: None });
/// assert!(pricing.matches(&e.shape));
/// assert!(!EventMatcher::download(AssetType::Whitepaper).matches(&e.shape));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMatcher {
    /// The event type.
    pub event: EventType,
    /// Only content downloads of this asset type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetType>,
    /// Only page views of this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageCategory>,
    /// Only page views whose path starts with this (ignoring ASCII case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Only events through this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Predicates on [`EventShape::property`] values; a missing property fails
    /// every predicate but [`Predicate::Missing`].
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::strict::unique_keys"
    )]
    pub properties: IndexMap<String, Predicate>,
}

impl EventMatcher {
    /// Every event of a type.
    pub fn of(event: EventType) -> EventMatcher {
        EventMatcher {
            event,
            asset: None,
            page: None,
            path_prefix: None,
            channel: None,
            properties: IndexMap::new(),
        }
    }

    /// Content downloads of an asset type.
    pub fn download(asset: AssetType) -> EventMatcher {
        EventMatcher::of(EventType::ContentDownload).with_asset(asset)
    }

    /// Page views of a category.
    pub fn visit(page: PageCategory) -> EventMatcher {
        EventMatcher::of(EventType::PageView).with_page(page)
    }

    /// Narrows to an asset type.
    pub fn with_asset(mut self, asset: AssetType) -> EventMatcher {
        self.asset = Some(asset);
        self
    }

    /// Narrows to a page category.
    pub fn with_page(mut self, page: PageCategory) -> EventMatcher {
        self.page = Some(page);
        self
    }

    /// Narrows to paths starting with `prefix`.
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> EventMatcher {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Narrows to a channel.
    pub fn with_channel(mut self, channel: Channel) -> EventMatcher {
        self.channel = Some(channel);
        self
    }

    /// Adds a property predicate.
    pub fn with_property(mut self, key: impl Into<String>, predicate: Predicate) -> EventMatcher {
        self.properties.insert(key.into(), predicate);
        self
    }

    /// Checks that every field applies to the event type and every predicate
    /// is valid.
    ///
    /// # Errors
    ///
    /// [`MatcherError`] naming the problem.
    pub fn validate(&self) -> Result<(), MatcherError> {
        let needs = |field: &'static str, applies_to: EventType| {
            if self.event == applies_to {
                Ok(())
            } else {
                Err(MatcherError::FieldNotApplicable {
                    event: self.event,
                    field,
                    applies_to,
                })
            }
        };
        if self.asset.is_some() {
            needs("asset", EventType::ContentDownload)?;
        }
        if self.page.is_some() {
            needs("page", EventType::PageView)?;
        }
        if self.path_prefix.is_some() {
            needs("path_prefix", EventType::PageView)?;
        }
        self.properties.values().try_for_each(Predicate::validate)
    }

    /// True when an event of this shape matches every field.
    pub fn matches(&self, shape: &EventShape) -> bool {
        if shape.event_type() != self.event {
            return false;
        }
        if let Some(asset) = self.asset {
            if shape.kind.asset() != Some(asset) {
                return false;
            }
        }
        if let Some(page) = self.page {
            if shape.kind.page_category() != Some(page) {
                return false;
            }
        }
        if let Some(prefix) = &self.path_prefix {
            match &shape.kind {
                EventKind::PageView { path, .. } if starts_with_ignore_case(path, prefix) => {}
                _ => return false,
            }
        }
        if let Some(channel) = self.channel {
            if shape.channel != Some(channel) {
                return false;
            }
        }
        self.properties
            .iter()
            .all(|(key, p)| p.matches(shape.property(key)))
    }
}

impl From<EventType> for EventMatcher {
    fn from(event: EventType) -> EventMatcher {
        EventMatcher::of(event)
    }
}

impl fmt::Display for EventMatcher {
    /// A short readable form: `content_download(pricing_sheet)`,
    /// `page_view(pricing, /pricing*)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.event)?;
        let mut parts: Vec<String> = Vec::new();
        if let Some(a) = self.asset {
            parts.push(a.as_str().to_owned());
        }
        if let Some(p) = self.page {
            parts.push(p.as_str().to_owned());
        }
        if let Some(p) = &self.path_prefix {
            parts.push(format!("{p}*"));
        }
        if let Some(c) = self.channel {
            parts.push(format!("via {c}"));
        }
        for (k, p) in &self.properties {
            parts.push(format!("{k} {p}"));
        }
        if !parts.is_empty() {
            write!(f, "({})", parts.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind) -> EventShape {
        EventShape::new(kind)
    }

    #[test]
    fn path_prefix_and_category() {
        let e = ev(EventKind::PageView {
            path: "/PRICING/team".into(),
            category: None,
        });
        assert!(EventMatcher::visit(PageCategory::Pricing).matches(&e));
        assert!(
            EventMatcher::of(EventType::PageView)
                .with_path_prefix("/pricing")
                .matches(&e)
        );
        assert!(
            !EventMatcher::of(EventType::PageView)
                .with_path_prefix("/pricing/x")
                .matches(&e)
        );
        assert!(!EventMatcher::visit(PageCategory::Product).matches(&e));
    }

    #[test]
    fn channel_and_properties() {
        let e = ev(EventKind::Feedback { score: 4 })
            .with_channel(Channel::Email)
            .with_property("seats", 30);
        let m = EventMatcher::of(EventType::Feedback)
            .with_channel(Channel::Email)
            .with_property("score", Predicate::between(0.0, 6.0))
            .with_property("seats", Predicate::at_least(25.0));
        assert!(m.matches(&e));
        assert!(!m.clone().with_property("missing", Predicate::Exists).matches(&e));
        assert!(!m.with_channel(Channel::Social).matches(&e));
    }

    #[test]
    fn validation() {
        assert!(
            EventMatcher::of(EventType::DemoRequest)
                .with_asset(AssetType::Ebook)
                .validate()
                .is_err()
        );
        assert!(EventMatcher::download(AssetType::Ebook).validate().is_ok());
        assert_eq!(
            Predicate::between(5.0, 5.0).validate(),
            Err(MatcherError::EmptyRange { min: 5.0, max: 5.0 })
        );
        assert!(Predicate::at_least(f64::NAN).validate().is_err());
        assert!(Predicate::OneOf { values: vec![] }.validate().is_err());
    }

    #[test]
    fn serde_and_display() {
        let m = EventMatcher::of(EventType::PageView).with_path_prefix("/pricing");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"event":"page_view","path_prefix":"/pricing"}"#);
        assert_eq!(serde_json::from_str::<EventMatcher>(&json).unwrap(), m);
        assert_eq!(m.to_string(), "page_view(/pricing*)");
        assert_eq!(Predicate::one_of(["a", "b"]).to_string(), "in [\"a\", \"b\"]");
    }
}
