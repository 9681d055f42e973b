//! Strict inputs: what serde's derives let through and leadflow refuses.
//!
//! Every type leadflow reads refuses unknown fields
//! (`#[serde(deny_unknown_fields)]`), so a typo such as `"limt"` is an error
//! naming the field instead of a default silently taking its place. These
//! helpers close the gaps that attribute leaves, and keep floats finite both
//! ways.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serializer};

/// Reads the unit variant of an internally tagged enum: a map holding
/// nothing but the tag.
///
/// serde's derive ignores any other field of a unit variant, even with
/// `deny_unknown_fields` (`{"type": "once", "n": 3}` would read as `once`);
/// put `#[serde(deserialize_with = "crate::strict::no_fields")]` on the
/// variant.
pub(crate) fn no_fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoFields {}
    NoFields::deserialize(deserializer).map(|NoFields {}| ())
}

/// Refuses a non-finite float: JSON writes NaN and infinities as `null`,
/// which reads back as something else (or not at all).
pub(crate) fn check_finite<E: fmt::Display>(value: f64, error: impl FnOnce(String) -> E) -> Result<f64, E> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(error(format!(
            "{value} is not a finite number: only finite numbers can be written and read back"
        )))
    }
}

/// `#[serde(with = "crate::strict::finite")]`: an `f64` that must be finite,
/// when written and when read.
pub(crate) mod finite {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(check_finite(*value, <S::Error as ser::Error>::custom)?)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        check_finite(f64::deserialize(deserializer)?, <D::Error as de::Error>::custom)
    }
}

/// `#[serde(with = "crate::strict::finite_opt")]`: an `Option<f64>` whose
/// value, when present, must be finite.
pub(crate) mod finite_opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.serialize_some(&check_finite(*v, <S::Error as ser::Error>::custom)?),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
        Option::<f64>::deserialize(deserializer)?
            .map(|v| check_finite(v, <D::Error as de::Error>::custom))
            .transpose()
    }
}

/// `#[serde(deserialize_with = "crate::strict::unique_keys")]`: a map that
/// refuses a key given twice, where serde's map impls keep the last value
/// silently (`{"web": {...}, "web": {...}}`).
pub(crate) fn unique_keys<'de, D, K, V>(deserializer: D) -> Result<indexmap::IndexMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + std::hash::Hash + Eq + fmt::Display,
    V: Deserialize<'de>,
{
    struct Unique<K, V>(std::marker::PhantomData<(K, V)>);

    impl<'de, K, V> Visitor<'de> for Unique<K, V>
    where
        K: Deserialize<'de> + std::hash::Hash + Eq + fmt::Display,
        V: Deserialize<'de>,
    {
        type Value = indexmap::IndexMap<K, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map with unique keys")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = indexmap::IndexMap::new();
            while let Some((key, value)) = map.next_entry::<K, V>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format_args!(
                        "duplicate key `{key}`: give each key once"
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}
