//! Conditions as data: `Serialize` and `Debug` through a borrowed view that
//! knows each node's depth, and a strict `Deserialize` that reads parts as
//! they come, one level deeper each time, and stops at
//! [`MAX_CONDITION_DEPTH`].
//!
//! The format is serde's internally tagged one (`{"type": "not", "of":
//! {...}}`); it is written by hand so that a part's depth is known when it
//! is reached (a derived tagged enum buffers a whole map, deep parts
//! included, before looking at its tag), and so that `at_least` and `of`,
//! whose types depend on the condition's type, can be read before it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Binding, Condition, MAX_CONDITION_DEPTH, default_session_gap};
use crate::criteria::Framework;
use crate::event::PageCategory;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::{Dimension, EngagementLevel, Grade};
use crate::span::Span;

/// What serde reports for a condition nested deeper than the limit.
fn too_deep<E: de::Error>() -> E {
    E::custom(format_args!(
        "condition nested deeper than {MAX_CONDITION_DEPTH} levels (MAX_CONDITION_DEPTH): flatten nested all, any and not"
    ))
}

/// One node of a condition as written: its variant and data, with its parts
/// behind [`At`] and [`Parts`], which know how deep they are. Its derived
/// `Debug` prints what a derived `Debug` of [`Condition`] would, and its
/// `PartialEq` compares the node and its number of parts only.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Node<'a> {
    ScoreAtLeast {
        dimension: Dimension,
        at_least: Points,
        #[serde(skip_serializing_if = "Option::is_none")]
        score: Option<&'a str>,
    },
    FitGradeAtLeast {
        grade: Grade,
    },
    EngagementLevelAtLeast {
        level: EngagementLevel,
    },
    DidAction {
        action: &'a EventMatcher,
        #[serde(skip_serializing_if = "Option::is_none")]
        within: Option<Span>,
    },
    ActionCount {
        action: &'a EventMatcher,
        at_least: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        within: Option<Span>,
    },
    RepeatVisits {
        page: PageCategory,
        at_least: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        within: Option<Span>,
        session_gap: Span,
    },
    Attribute {
        key: &'a str,
        predicate: &'a Predicate,
    },
    Checklist {
        #[serde(skip_serializing_if = "Option::is_none")]
        framework: Option<Framework>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        items: &'a [String],
        at_least: u32,
    },
    All {
        of: Parts<'a>,
    },
    Any {
        of: Parts<'a>,
    },
    Not {
        of: At<'a>,
    },
    Custom {
        name: &'a str,
        #[serde(skip)]
        bound: &'a Binding,
    },
}

impl Condition {
    /// The node of this condition at `depth` (the root is 1).
    pub(super) fn node(&self, depth: usize) -> Node<'_> {
        let parts = |of| Parts { of, depth: depth + 1 };
        match self {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            } => Node::ScoreAtLeast {
                dimension: *dimension,
                at_least: *at_least,
                score: score.as_deref(),
            },
            Condition::FitGradeAtLeast { grade } => Node::FitGradeAtLeast { grade: *grade },
            Condition::EngagementLevelAtLeast { level } => Node::EngagementLevelAtLeast { level: *level },
            Condition::DidAction { action, within } => Node::DidAction {
                action,
                within: *within,
            },
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => Node::ActionCount {
                action,
                at_least: *at_least,
                within: *within,
            },
            Condition::RepeatVisits {
                page,
                at_least,
                within,
                session_gap,
            } => Node::RepeatVisits {
                page: *page,
                at_least: *at_least,
                within: *within,
                session_gap: *session_gap,
            },
            Condition::Attribute { key, predicate } => Node::Attribute { key, predicate },
            Condition::Checklist {
                framework,
                items,
                at_least,
            } => Node::Checklist {
                framework: *framework,
                items,
                at_least: *at_least,
            },
            Condition::All { of } => Node::All {
                of: parts(of.as_slice()),
            },
            Condition::Any { of } => Node::Any {
                of: parts(of.as_slice()),
            },
            Condition::Not { of } => Node::Not {
                of: At {
                    condition: of,
                    depth: depth + 1,
                },
            },
            Condition::Custom { name, bound } => Node::Custom { name, bound },
        }
    }
}

/// A condition at a depth: written as its [`Node`], or refused (serde)
/// and printed as `..` (`Debug`) beyond [`MAX_CONDITION_DEPTH`].
pub(super) struct At<'a> {
    condition: &'a Condition,
    depth: usize,
}

impl Serialize for At<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(S::Error::custom(format_args!(
                "condition nested deeper than {MAX_CONDITION_DEPTH} levels (MAX_CONDITION_DEPTH) cannot be written: flatten nested all, any and not"
            )));
        }
        self.condition.node(self.depth).serialize(serializer)
    }
}

impl fmt::Debug for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth > MAX_CONDITION_DEPTH {
            return f.write_str("..");
        }
        fmt::Debug::fmt(&self.condition.node(self.depth), f)
    }
}

impl PartialEq for At<'_> {
    /// Always equal: parts are compared one by one by [`Condition::eq`].
    fn eq(&self, _: &At<'_>) -> bool {
        true
    }
}

/// The parts of an `all` or `any`, one level deeper than it.
pub(super) struct Parts<'a> {
    of: &'a [Condition],
    depth: usize,
}

impl Parts<'_> {
    fn each(&self) -> impl Iterator<Item = At<'_>> {
        self.of.iter().map(|condition| At {
            condition,
            depth: self.depth,
        })
    }
}

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.each())
    }
}

impl fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.each()).finish()
    }
}

impl PartialEq for Parts<'_> {
    /// Equal when there are as many: parts are compared one by one by
    /// [`Condition::eq`].
    fn eq(&self, other: &Parts<'_>) -> bool {
        self.of.len() == other.of.len()
    }
}

impl fmt::Debug for Condition {
    /// As a derived `Debug` would print it, with the parts nested deeper
    /// than [`MAX_CONDITION_DEPTH`] as `..`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(
            &At {
                condition: self,
                depth: 1,
            },
            f,
        )
    }
}

impl Serialize for Condition {
    /// Internally tagged by `"type"`, optional fields left out when empty.
    ///
    /// # Errors
    ///
    /// For a condition nested deeper than [`MAX_CONDITION_DEPTH`], which
    /// could not be read back.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        At {
            condition: self,
            depth: 1,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Condition {
    /// Reads a condition written by [`Serialize`], or by hand: fields in
    /// any order, optional ones left out.
    ///
    /// # Errors
    ///
    /// A missing `type` or required field; a field the type does not take
    /// (named, with the fields it takes); a field given twice; a value of
    /// the wrong type; a condition nested deeper than
    /// [`MAX_CONDITION_DEPTH`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        Level { depth: 1 }.deserialize(deserializer)
    }
}

/// Reads a condition at a depth (the root is 1).
#[derive(Clone, Copy)]
struct Level {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Condition;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Condition, D::Error> {
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(too_deep());
        }
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Level {
    type Value = Condition;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a condition: a map with a \"type\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Condition, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<String>()? {
            fields.read(key, &mut map, self.depth)?;
        }
        fields.build()
    }
}

/// The value of `of`, read before or after the `type` that says which it
/// must be: a list (`all`, `any`) or one condition (`not`).
enum Of {
    List(Vec<Condition>),
    One(Condition),
}

/// Reads `of` at the depth of its parts. The depth is checked part by
/// part, so that an empty list is read at any depth (as it is written).
struct OfAt {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for OfAt {
    type Value = Of;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Of, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OfAt {
    type Value = Of;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of conditions, or one condition")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Of, A::Error> {
        let mut list = Vec::new();
        while let Some(c) = seq.next_element_seed(Level { depth: self.depth })? {
            list.push(c);
        }
        Ok(Of::List(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Of, A::Error> {
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(too_deep());
        }
        Level { depth: self.depth }.visit_map(map).map(Of::One)
    }
}

/// The `type` of a condition.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    ScoreAtLeast,
    FitGradeAtLeast,
    EngagementLevelAtLeast,
    DidAction,
    ActionCount,
    RepeatVisits,
    Attribute,
    Checklist,
    All,
    Any,
    Not,
    Custom,
}

impl Kind {
    /// The fields a condition of this type takes besides `type`.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::ScoreAtLeast => &["dimension", "at_least", "score"],
            Kind::FitGradeAtLeast => &["grade"],
            Kind::EngagementLevelAtLeast => &["level"],
            Kind::DidAction => &["action", "within"],
            Kind::ActionCount => &["action", "at_least", "within"],
            Kind::RepeatVisits => &["page", "at_least", "within", "session_gap"],
            Kind::Attribute => &["key", "predicate"],
            Kind::Checklist => &["framework", "items", "at_least"],
            Kind::All | Kind::Any | Kind::Not => &["of"],
            Kind::Custom => &["name"],
        }
    }
}

/// The fields of one condition as read, before its `type` may be known.
/// `at_least` is read as points (a count must then be a whole number).
#[derive(Default)]
struct Fields {
    kind: Option<Kind>,
    /// Every key but `type`, in order: checked against the type's fields.
    keys: Vec<String>,
    dimension: Option<Dimension>,
    at_least: Option<Points>,
    score: Option<Option<String>>,
    grade: Option<Grade>,
    level: Option<EngagementLevel>,
    action: Option<EventMatcher>,
    within: Option<Option<Span>>,
    page: Option<PageCategory>,
    session_gap: Option<Span>,
    key: Option<String>,
    predicate: Option<Predicate>,
    framework: Option<Option<Framework>>,
    items: Option<Vec<String>>,
    of: Option<Of>,
    name: Option<String>,
}

/// Stores a field's value, refusing a second one.
fn put<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

/// A required field's value.
fn need<T, E: de::Error>(slot: Option<T>, field: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(field))
}

impl Fields {
    /// Reads the value of `key` from `map`, for a condition at `depth`.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        map: &mut A,
        depth: usize,
    ) -> Result<(), A::Error> {
        if key == "type" {
            return put(&mut self.kind, "type", map.next_value()?);
        }
        if let Some(kind) = self.kind {
            if !kind.fields().contains(&key.as_str()) {
                // Raised as the value is read, so that a path names the field.
                return map.next_value_seed(Refuse {
                    field: &key,
                    expected: kind.fields(),
                });
            }
        }
        match key.as_str() {
            "dimension" => put(&mut self.dimension, "dimension", map.next_value()?)?,
            "at_least" => put(&mut self.at_least, "at_least", map.next_value()?)?,
            "score" => put(&mut self.score, "score", map.next_value()?)?,
            "grade" => put(&mut self.grade, "grade", map.next_value()?)?,
            "level" => put(&mut self.level, "level", map.next_value()?)?,
            "action" => put(&mut self.action, "action", map.next_value()?)?,
            "within" => put(&mut self.within, "within", map.next_value()?)?,
            "page" => put(&mut self.page, "page", map.next_value()?)?,
            "session_gap" => put(&mut self.session_gap, "session_gap", map.next_value()?)?,
            "key" => put(&mut self.key, "key", map.next_value()?)?,
            "predicate" => put(&mut self.predicate, "predicate", map.next_value()?)?,
            "framework" => put(&mut self.framework, "framework", map.next_value()?)?,
            "items" => put(&mut self.items, "items", map.next_value()?)?,
            "of" => {
                let of = map.next_value_seed(OfAt { depth: depth + 1 })?;
                put(&mut self.of, "of", of)?;
            }
            "name" => put(&mut self.name, "name", map.next_value()?)?,
            // Refused by `build` once the type is known, with its fields.
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.keys.push(key);
        Ok(())
    }

    /// The condition, once every field is read.
    fn build<E: de::Error>(self) -> Result<Condition, E> {
        let kind = need(self.kind, "type")?;
        if let Some(key) = self.keys.iter().find(|k| !kind.fields().contains(&k.as_str())) {
            return Err(E::unknown_field(key, kind.fields()));
        }
        let count = |at_least: Option<Points>| need(at_least, "at_least").and_then(whole);
        Ok(match kind {
            Kind::ScoreAtLeast => Condition::ScoreAtLeast {
                dimension: need(self.dimension, "dimension")?,
                at_least: need(self.at_least, "at_least")?,
                score: self.score.flatten(),
            },
            Kind::FitGradeAtLeast => Condition::FitGradeAtLeast {
                grade: need(self.grade, "grade")?,
            },
            Kind::EngagementLevelAtLeast => Condition::EngagementLevelAtLeast {
                level: need(self.level, "level")?,
            },
            Kind::DidAction => Condition::DidAction {
                action: need(self.action, "action")?,
                within: self.within.flatten(),
            },
            Kind::ActionCount => Condition::ActionCount {
                action: need(self.action, "action")?,
                at_least: count(self.at_least)?,
                within: self.within.flatten(),
            },
            Kind::RepeatVisits => Condition::RepeatVisits {
                page: need(self.page, "page")?,
                at_least: count(self.at_least)?,
                within: self.within.flatten(),
                session_gap: self.session_gap.unwrap_or_else(default_session_gap),
            },
            Kind::Attribute => Condition::Attribute {
                key: need(self.key, "key")?,
                predicate: need(self.predicate, "predicate")?,
            },
            Kind::Checklist => Condition::Checklist {
                framework: self.framework.flatten(),
                items: self.items.unwrap_or_default(),
                at_least: count(self.at_least)?,
            },
            Kind::All => Condition::All {
                of: list(need(self.of, "of")?)?,
            },
            Kind::Any => Condition::Any {
                of: list(need(self.of, "of")?)?,
            },
            Kind::Not => Condition::Not {
                of: Box::new(one(need(self.of, "of")?)?),
            },
            Kind::Custom => Condition::custom(need::<String, E>(self.name, "name")?),
        })
    }
}

/// The value of a field the condition's type does not take: refused
/// without being read.
struct Refuse<'a> {
    field: &'a str,
    expected: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for Refuse<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::unknown_field(self.field, self.expected))
    }
}

/// A count given as points: a whole number from 0 to `u32::MAX`.
fn whole<E: de::Error>(points: Points) -> Result<u32, E> {
    let milli = points.as_milli();
    let expected = &"a whole number from 0 to 4294967295";
    if milli % 1_000 != 0 {
        return Err(E::invalid_value(Unexpected::Float(points.to_f64()), expected));
    }
    u32::try_from(milli / 1_000).map_err(|_| E::invalid_value(Unexpected::Signed(milli / 1_000), expected))
}

/// The parts of an `all` or `any`.
fn list<E: de::Error>(of: Of) -> Result<Vec<Condition>, E> {
    match of {
        Of::List(list) => Ok(list),
        Of::One(_) => Err(E::invalid_type(Unexpected::Map, &"a list of conditions")),
    }
}

/// The part of a `not`.
fn one<E: de::Error>(of: Of) -> Result<Condition, E> {
    match of {
        Of::One(c) => Ok(c),
        Of::List(_) => Err(E::invalid_type(Unexpected::Seq, &"one condition")),
    }
}
