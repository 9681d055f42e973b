//! Typed attribute and property values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An attribute or event property value.
///
/// Serialized untagged in human-readable formats, so JSON reads naturally:
/// `true`, `40`, `12.5`, `"pro"`; binary formats (postcard, bincode) get a
/// variant tag instead. Numbers are always finite: [`AttrValue::number`] and deserialization refuse
/// NaN and infinities.
///
/// # Example
///
/// ```
/// use leadflow::AttrValue;
///
/// let v: AttrValue = serde_json::from_str("250")?;
/// assert_eq!(v, AttrValue::Int(250));
/// assert_eq!(v.as_f64(), Some(250.0));
/// assert!(AttrValue::number(f64::NAN).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// A yes/no value.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A finite decimal number (serialization refuses NaN and infinities,
    /// which JSON would write as `null`).
    Number(f64),
    /// Text.
    Text(String),
}

/// A non-finite number was given where a finite one is required.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("attribute values must be finite numbers, got {value}")]
pub struct NonFiniteError {
    /// The refused value.
    pub value: f64,
}

impl AttrValue {
    /// A decimal number value.
    ///
    /// # Errors
    ///
    /// [`NonFiniteError`] for NaN or infinities.
    pub fn number(value: f64) -> Result<AttrValue, NonFiniteError> {
        if value.is_finite() {
            Ok(AttrValue::Number(value))
        } else {
            Err(NonFiniteError { value })
        }
    }

    /// A text value.
    pub fn text(value: impl Into<String>) -> AttrValue {
        AttrValue::Text(value.into())
    }

    /// A borrowed view of the value.
    pub fn as_ref(&self) -> AttrRef<'_> {
        match self {
            AttrValue::Bool(b) => AttrRef::Bool(*b),
            AttrValue::Int(i) => AttrRef::Int(*i),
            AttrValue::Number(n) => AttrRef::Number(*n),
            AttrValue::Text(s) => AttrRef::Text(s),
        }
    }

    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_ref().as_f64()
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// The tagged form binary formats use (they cannot read an untagged one).
#[derive(Serialize, Deserialize)]
enum Tagged<T> {
    Bool(bool),
    Int(i64),
    Number(f64),
    Text(T),
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self, serializer.is_human_readable()) {
            (AttrValue::Bool(b), true) => serializer.serialize_bool(*b),
            (AttrValue::Int(i), true) => serializer.serialize_i64(*i),
            (AttrValue::Number(n), true) => crate::strict::finite::serialize(n, serializer),
            (AttrValue::Text(t), true) => serializer.serialize_str(t),
            (AttrValue::Bool(b), false) => Tagged::<&str>::Bool(*b).serialize(serializer),
            (AttrValue::Int(i), false) => Tagged::<&str>::Int(*i).serialize(serializer),
            (AttrValue::Number(n), false) => {
                let n = crate::strict::check_finite(*n, <S::Error as serde::ser::Error>::custom)?;
                Tagged::<&str>::Number(n).serialize(serializer)
            }
            (AttrValue::Text(t), false) => Tagged::Text(t.as_str()).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Int(i64),
            Number(f64),
            Text(String),
        }
        let tagged = if deserializer.is_human_readable() {
            match Raw::deserialize(deserializer)? {
                Raw::Bool(b) => Tagged::Bool(b),
                Raw::Int(i) => Tagged::Int(i),
                Raw::Number(n) => Tagged::Number(n),
                Raw::Text(s) => Tagged::Text(s),
            }
        } else {
            Tagged::<String>::deserialize(deserializer)?
        };
        Ok(match tagged {
            Tagged::Bool(b) => AttrValue::Bool(b),
            Tagged::Int(i) => AttrValue::Int(i),
            Tagged::Number(n) => AttrValue::number(n).map_err(serde::de::Error::custom)?,
            Tagged::Text(s) => AttrValue::Text(s),
        })
    }
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}
impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        AttrValue::Int(v)
    }
}
impl From<i32> for AttrValue {
    fn from(v: i32) -> Self {
        AttrValue::Int(i64::from(v))
    }
}
impl From<u32> for AttrValue {
    fn from(v: u32) -> Self {
        AttrValue::Int(i64::from(v))
    }
}
impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::Text(v.to_owned())
    }
}
impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::Text(v)
    }
}

/// A borrowed attribute value, as returned by [`Lead::attribute`](crate::Lead::attribute).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AttrRef<'a> {
    /// A yes/no value.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A finite decimal number.
    Number(f64),
    /// Text.
    Text(&'a str),
}

impl AttrRef<'_> {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            AttrRef::Int(i) => Some(i as f64),
            AttrRef::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrRef::Text(s) => Some(s),
            _ => None,
        }
    }

    /// True when both values are equal, comparing numbers by value
    /// (`Int(3)` equals `Number(3.0)`) and text case-insensitively.
    pub fn loosely_equals(&self, other: &AttrRef<'_>) -> bool {
        match (self, other) {
            (AttrRef::Text(a), AttrRef::Text(b)) => a.eq_ignore_ascii_case(b),
            (AttrRef::Bool(a), AttrRef::Bool(b)) => a == b,
            _ => match (self.as_f64(), other.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl fmt::Display for AttrRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrRef::Bool(b) => write!(f, "{b}"),
            AttrRef::Int(i) => write!(f, "{i}"),
            AttrRef::Number(n) => write!(f, "{n}"),
            // Quoted as `{:?}` quotes it; printable ASCII other than the
            // quote and the backslash needs no escaping.
            AttrRef::Text(s)
                if s.bytes()
                    .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') =>
            {
                write!(f, "\"{s}\"")
            }
            AttrRef::Text(s) => write!(f, "{s:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_serde() {
        for (json, v) in [
            ("true", AttrValue::Bool(true)),
            ("-4", AttrValue::Int(-4)),
            ("2.5", AttrValue::Number(2.5)),
            ("\"pro\"", AttrValue::text("pro")),
        ] {
            assert_eq!(serde_json::from_str::<AttrValue>(json).unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
    }

    #[test]
    fn binary_formats_get_a_tag() {
        for v in [
            AttrValue::Bool(true),
            AttrValue::Int(-4),
            AttrValue::Number(2.5),
            AttrValue::text("pro"),
        ] {
            let bytes = postcard::to_allocvec(&v).unwrap();
            assert_eq!(postcard::from_bytes::<AttrValue>(&bytes).unwrap(), v);
        }
        let nan = postcard::to_allocvec(&Tagged::<&str>::Number(f64::NAN)).unwrap();
        assert!(postcard::from_bytes::<AttrValue>(&nan).is_err());
    }

    proptest::proptest! {
        #[test]
        fn text_displays_as_debug_quotes_it(s in "\\PC*|[ -~]*|.*") {
            proptest::prop_assert_eq!(AttrRef::Text(&s).to_string(), format!("{s:?}"));
        }
    }

    #[test]
    fn text_quoting_escapes_what_debug_escapes() {
        for s in [
            "pro",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "caf\u{e9}",
            "",
            "\u{301}e",
        ] {
            assert_eq!(AttrRef::Text(s).to_string(), format!("{s:?}"));
        }
    }

    #[test]
    fn loose_equality() {
        assert!(AttrRef::Int(3).loosely_equals(&AttrRef::Number(3.0)));
        assert!(AttrRef::Text("SaaS").loosely_equals(&AttrRef::Text("saas")));
        assert!(!AttrRef::Text("3").loosely_equals(&AttrRef::Int(3)));
    }
}
