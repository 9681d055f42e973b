//! A value tree: how a snapshot carries the library's JSON-shaped types
//! (leads, lifecycles) through binary formats.
//!
//! Binary serde formats (postcard, bincode) cannot read internally tagged
//! enums, untagged values or fields left out when empty: they need the
//! reader to know what comes next. A [`Tree`] is the value as a JSON
//! writer sees it (maps, sequences, strings, numbers), itself written as an
//! externally tagged enum that any format reads back; the type is then read
//! from the tree as from JSON. In human-readable formats the type is written
//! as itself.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize};
use serde::{Deserialize, Deserializer, Serializer, forward_to_deserialize_any};

/// A serialized value, as JSON shapes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub(crate) enum Tree {
    Unit,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Seq(Vec<Tree>),
    Map(Vec<(Tree, Tree)>),
}

/// An error writing or reading a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeError(String);

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TreeError {}

impl ser::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TreeError(msg.to_string())
    }
}

impl de::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TreeError(msg.to_string())
    }
}

/// `#[serde(with = "tree")]`: itself in human-readable formats, a tree in
/// binary ones.
pub(crate) fn serialize<T: Serialize, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        value.serialize(serializer)
    } else {
        value
            .serialize(TreeSerializer)
            .map_err(ser::Error::custom)?
            .serialize(serializer)
    }
}

/// See [`serialize`].
pub(crate) fn deserialize<'de, T: serde::de::DeserializeOwned, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    if deserializer.is_human_readable() {
        T::deserialize(deserializer)
    } else {
        let tree = Tree::deserialize(deserializer)?;
        T::deserialize(tree).map_err(de::Error::custom)
    }
}

/// Writes a value as a tree, as a JSON writer would.
struct TreeSerializer;

struct SeqBuilder(Vec<Tree>, Option<&'static str>);
struct MapBuilder(Vec<(Tree, Tree)>, Option<Tree>, Option<&'static str>);

fn variant(name: &'static str, value: Tree) -> Tree {
    Tree::Map(vec![(Tree::Str(name.to_owned()), value)])
}

impl Serializer for TreeSerializer {
    type Ok = Tree;
    type Error = TreeError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = MapBuilder;

    fn serialize_bool(self, v: bool) -> Result<Tree, TreeError> {
        Ok(Tree::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Tree, TreeError> {
        Ok(Tree::I64(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Tree, TreeError> {
        Ok(Tree::I64(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Tree, TreeError> {
        Ok(Tree::I64(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Tree, TreeError> {
        Ok(Tree::I64(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Tree, TreeError> {
        Ok(Tree::U64(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Tree, TreeError> {
        Ok(Tree::U64(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Tree, TreeError> {
        Ok(Tree::U64(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Tree, TreeError> {
        Ok(Tree::U64(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Tree, TreeError> {
        Ok(Tree::F64(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Tree, TreeError> {
        Ok(Tree::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Tree, TreeError> {
        Ok(Tree::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Tree, TreeError> {
        Ok(Tree::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Tree, TreeError> {
        Ok(Tree::Seq(v.iter().map(|b| Tree::U64((*b).into())).collect()))
    }
    fn serialize_none(self) -> Result<Tree, TreeError> {
        Ok(Tree::Unit)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Tree, TreeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Tree, TreeError> {
        Ok(Tree::Unit)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Tree, TreeError> {
        Ok(Tree::Unit)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, name: &'static str) -> Result<Tree, TreeError> {
        Ok(Tree::Str(name.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Tree, TreeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        value: &T,
    ) -> Result<Tree, TreeError> {
        Ok(variant(name, value.serialize(TreeSerializer)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, TreeError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0)), None))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, TreeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, TreeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, TreeError> {
        Ok(SeqBuilder(Vec::with_capacity(len), Some(name)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, TreeError> {
        Ok(MapBuilder(Vec::with_capacity(len.unwrap_or(0)), None, None))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapBuilder, TreeError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        len: usize,
    ) -> Result<MapBuilder, TreeError> {
        Ok(MapBuilder(Vec::with_capacity(len), None, Some(name)))
    }
}

impl SeqBuilder {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        self.0.push(value.serialize(TreeSerializer)?);
        Ok(())
    }

    fn done(self) -> Tree {
        match self.1 {
            Some(name) => variant(name, Tree::Seq(self.0)),
            None => Tree::Seq(self.0),
        }
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl MapBuilder {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), TreeError> {
        self.0
            .push((Tree::Str(key.to_owned()), value.serialize(TreeSerializer)?));
        Ok(())
    }

    fn done(self) -> Tree {
        match self.2 {
            Some(name) => variant(name, Tree::Map(self.0)),
            None => Tree::Map(self.0),
        }
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), TreeError> {
        self.1 = Some(key.serialize(TreeSerializer)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TreeError> {
        let key = self
            .1
            .take()
            .ok_or_else(|| TreeError("a map value without its key".into()))?;
        self.0.push((key, value.serialize(TreeSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TreeError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

impl ser::SerializeStructVariant for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TreeError> {
        self.field(key, value)
    }
    fn end(self) -> Result<Tree, TreeError> {
        Ok(self.done())
    }
}

/// Reads a value from a tree, as from JSON.
impl<'de> Deserializer<'de> for Tree {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self {
            Tree::Unit => visitor.visit_unit(),
            Tree::Bool(v) => visitor.visit_bool(v),
            Tree::I64(v) => visitor.visit_i64(v),
            Tree::U64(v) => visitor.visit_u64(v),
            Tree::F64(v) => visitor.visit_f64(v),
            Tree::Str(v) => visitor.visit_string(v),
            Tree::Seq(v) => visitor.visit_seq(SeqReader(v.into_iter())),
            Tree::Map(v) => visitor.visit_map(MapReader(v.into_iter(), None)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self {
            Tree::Unit => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match self {
            Tree::Str(name) => visitor.visit_enum(name.into_deserializer()),
            Tree::Map(mut entries) if entries.len() == 1 => match entries.pop() {
                Some((Tree::Str(name), value)) => visitor.visit_enum(EnumReader(name, value)),
                _ => Err(de::Error::custom("an enum variant needs a name")),
            },
            _ => Err(de::Error::custom("expected an enum variant")),
        }
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqReader(std::vec::IntoIter<Tree>);

impl<'de> SeqAccess<'de> for SeqReader {
    type Error = TreeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, TreeError> {
        self.0.next().map(|v| seed.deserialize(v)).transpose()
    }
}

struct MapReader(std::vec::IntoIter<(Tree, Tree)>, Option<Tree>);

impl<'de> MapAccess<'de> for MapReader {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, TreeError> {
        match self.0.next() {
            Some((k, v)) => {
                self.1 = Some(v);
                seed.deserialize(k).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let v = self
            .1
            .take()
            .ok_or_else(|| TreeError("a map key without its value".into()))?;
        seed.deserialize(v)
    }
}

struct EnumReader(String, Tree);

impl<'de> de::EnumAccess<'de> for EnumReader {
    type Error = TreeError;
    type Variant = Tree;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Tree), TreeError> {
        let name: de::value::StringDeserializer<TreeError> = self.0.into_deserializer();
        Ok((seed.deserialize(name)?, self.1))
    }
}

impl<'de> de::VariantAccess<'de> for Tree {
    type Error = TreeError;
    fn unit_variant(self) -> Result<(), TreeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, TreeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Transition;
    use crate::{Lead, LeadId};
    use chrono::TimeZone;

    #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        lead: Lead,
        #[serde(with = "super")]
        transitions: Vec<Transition>,
    }

    #[test]
    fn json_shaped_types_cross_a_binary_format() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut lead = Lead::new(LeadId::new("l1").unwrap(), t).with_source(crate::Source::sales(None));
        lead.company.employees = Some(40);
        lead.set_attribute("plan", "pro").unwrap();
        let h = Holder {
            lead,
            transitions: vec![
                serde_json::from_str(r#"{"type": "reject", "by": "rep", "reason": {"code": "no_budget"}}"#)
                    .unwrap(),
                serde_json::from_str(r#"{"type": "win"}"#).unwrap(),
            ],
        };
        let bytes = postcard::to_allocvec(&h).unwrap();
        assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), h);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), h);
    }
}
