//! Typed identifiers.
//!
//! Every id in leadflow is its own newtype, so a [`LeadId`] can never be passed
//! where an [`EventId`] is expected. All ids are made by one macro and share the
//! same rules: they are non-empty, at most [`MAX_ID_LEN`] bytes long and contain
//! no control characters. Cloning an id is cheap (a reference count).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Why a string was refused as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The string was empty.
    #[error("{kind} id is empty: give a non-empty identifier")]
    Empty {
        /// Which id type refused it.
        kind: &'static str,
    },
    /// The string was longer than [`MAX_ID_LEN`] bytes.
    #[error("{kind} id is {len} bytes long: the maximum is {max} bytes")]
    TooLong {
        /// Which id type refused it.
        kind: &'static str,
        /// The length of the refused string in bytes.
        len: usize,
        /// The maximum, [`MAX_ID_LEN`].
        max: usize,
    },
    /// The string contained a control character.
    #[error("{kind} id {id:?} contains a control character: remove it")]
    ControlCharacter {
        /// Which id type refused it.
        kind: &'static str,
        /// The refused string.
        id: String,
    },
}

fn validate(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            kind,
            len: s.len(),
            max: MAX_ID_LEN,
        });
    }
    if s.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter {
            kind,
            id: s.to_owned(),
        });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $example:literal) => {
        $(#[$doc])*
        ///
        /// # Example
        ///
        /// ```
        #[doc = concat!("use leadflow::", stringify!($name), ";")]
        ///
        #[doc = concat!("let id = ", stringify!($name), "::new(\"", $example, "\")?;")]
        #[doc = concat!("assert_eq!(id.as_str(), \"", $example, "\");")]
        #[doc = concat!("assert_eq!(id.to_string(), \"", $example, "\");")]
        #[doc = concat!("assert!(", stringify!($name), "::new(\"\").is_err());")]
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Makes an id from a string.
            ///
            /// # Errors
            ///
            /// [`IdError`] if the string is empty, longer than
            /// [`MAX_ID_LEN`] bytes or contains a control character.
            pub fn new(id: impl AsRef<str>) -> Result<Self, IdError> {
                let id = id.as_ref();
                validate($kind, id)?;
                Ok(Self(Arc::from(id)))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Self::new(&*s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// Identifies a lead (a person who has touched the business).
    LeadId, "lead", "lead-42"
);
id_type!(
    /// Identifies an account (the company a lead belongs to).
    AccountId, "account", "acme-corp"
);
id_type!(
    /// Identifies an event. Used for idempotency: an event id seen before for
    /// the same lead is a duplicate.
    EventId, "event", "evt-0001"
);
id_type!(
    /// Identifies a person acting on a lead: a sales rep who accepts or rejects
    /// it, a marketer who qualifies it by hand, an owner.
    OwnerId, "owner", "rep-jane"
);
id_type!(
    /// Identifies a marketing campaign.
    CampaignId, "campaign", "spring-webinar-2026"
);
id_type!(
    /// Names a version of a model (scoring model or lifecycle configuration).
    /// It is stamped on every score and transition the model causes.
    ModelVersion, "model version", "b2b-default@1"
);
id_type!(
    /// Identifies a scoring rule, unique within its model; explanations and
    /// errors name rules by it.
    RuleId, "rule", "pricing_visit"
);
id_type!(
    /// Names a group of scoring rules (which share a cap and a decay).
    GroupId, "group", "web"
);
id_type!(
    /// Names a score threshold of an engine; every crossing it reports
    /// carries the name.
    ThresholdId, "threshold", "hot"
);

macro_rules! name_impls {
    ($($name:ident),*) => {$(
        // Hash, Eq and Ord are the text's, so maps keyed by these ids can be
        // read with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }
    )*};
}
name_impls!(RuleId, GroupId, ThresholdId);

macro_rules! known {
    ($($name:ident),*) => {$(
        impl $name {
            /// An id from a literal the crate knows is valid (presets,
            /// defaults): no check, no error to handle.
            pub(crate) fn known(id: &'static str) -> Self {
                Self(Arc::from(id))
            }
        }
    )*};
}
known!(RuleId, GroupId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(LeadId::new(""), Err(IdError::Empty { kind: "lead" }));
        assert!(matches!(
            LeadId::new("a".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong { len: 257, .. })
        ));
        assert!(matches!(
            EventId::new("a\nb"),
            Err(IdError::ControlCharacter { .. })
        ));
        assert!(LeadId::new("a".repeat(MAX_ID_LEN)).is_ok());
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id = LeadId::new("lead-1").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"lead-1\"");
        let back: LeadId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<LeadId>("\"\"").is_err());
    }

    #[test]
    fn debug_names_the_type() {
        let id = OwnerId::new("rep").unwrap();
        assert_eq!(format!("{id:?}"), "OwnerId(\"rep\")");
    }
}
