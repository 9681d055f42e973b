//! The interned event shapes, with what each matches under the engine's
//! model and lifecycle.

use std::collections::HashMap;

use super::keys::ShapeKey;
use super::plan::Signals;
use crate::event::{EventKind, EventShape};
use crate::hash::FxBuild;
use crate::id::OwnerId;
use crate::scoring::ScoringModel;

/// The most rules one shape may match (the width of an entry's mask of
/// counted rules).
pub(crate) const MAX_RULES_PER_SHAPE: usize = 64;

/// One interned shape.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) shape: EventShape,
    /// [`EventShape::fingerprint`]: the canonical order of events at one
    /// time.
    pub(crate) fingerprint: u64,
    /// The event rules it matches, in rule order (a range of
    /// [`Shapes::rules`]).
    start: u32,
    len: u8,
    /// The lifecycle signals it carries (bit `i`: signal `i`).
    pub(crate) signals: u64,
}

/// Why a shape could not be interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShapeError {
    TooManyRules(usize),
    Full,
}

/// Every shape the engine has seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shapes {
    list: Vec<Shape>,
    rules: Vec<u16>,
    /// By fingerprint; the rare shapes whose fingerprints collide with an
    /// earlier one's are looked up in `collided`.
    index: HashMap<u64, u32, FxBuild>,
    collided: Vec<u32>,
}

impl Shape {
    /// A sales follow-up this shape records, if it is one.
    pub(crate) fn follow_up(&self) -> Option<Option<OwnerId>> {
        match &self.shape.kind {
            EventKind::SalesTouch { by } | EventKind::MeetingHeld { by } => Some(by.clone()),
            _ => None,
        }
    }
}

impl Shapes {
    /// The key of `shape`, interning it on first sight.
    pub(crate) fn intern(
        &mut self,
        shape: &EventShape,
        model: &ScoringModel,
        signals: &Signals,
    ) -> Result<ShapeKey, ShapeError> {
        let fingerprint = shape.fingerprint();
        if let Some(&i) = self.index.get(&fingerprint) {
            if self.list.get(i as usize).is_some_and(|s| s.shape == *shape) {
                return Ok(ShapeKey(i));
            }
            if let Some(&j) = self
                .collided
                .iter()
                .find(|&&j| self.list.get(j as usize).is_some_and(|s| s.shape == *shape))
            {
                return Ok(ShapeKey(j));
            }
        }
        let i = u32::try_from(self.list.len()).map_err(|_| ShapeError::Full)?;
        let s = self.compile(shape.clone(), fingerprint, model, signals)?;
        self.list.push(s);
        match self.index.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(_) => self.collided.push(i),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
        }
        Ok(ShapeKey(i))
    }

    fn compile(
        &mut self,
        shape: EventShape,
        fingerprint: u64,
        model: &ScoringModel,
        signals: &Signals,
    ) -> Result<Shape, ShapeError> {
        let start = u32::try_from(self.rules.len()).map_err(|_| ShapeError::Full)?;
        let mut len = 0usize;
        for (rule, _) in model.matches(&shape) {
            len += 1;
            if len > MAX_RULES_PER_SHAPE {
                self.rules.truncate(start as usize);
                let total = model.matches(&shape).count();
                return Err(ShapeError::TooManyRules(total));
            }
            self.rules.push(rule as u16);
        }
        Ok(Shape {
            signals: signals.of(&shape),
            shape,
            fingerprint,
            start,
            len: len as u8,
        })
    }

    /// A shape by key.
    pub(crate) fn get(&self, key: ShapeKey) -> Option<&Shape> {
        self.list.get(key.index())
    }

    /// The rules a shape matches, in rule order.
    pub(crate) fn rules(&self, shape: &Shape) -> &[u16] {
        let start = shape.start as usize;
        self.rules
            .get(start..start + usize::from(shape.len))
            .unwrap_or(&[])
    }

    /// How many shapes.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Every shape, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Shape> {
        self.list.iter()
    }

    /// The same shapes with their rules and signals worked out again under
    /// another model (keys unchanged).
    pub(crate) fn recompiled(&self, model: &ScoringModel, signals: &Signals) -> Result<Shapes, ShapeError> {
        let mut out = Shapes {
            list: Vec::with_capacity(self.list.len()),
            rules: Vec::with_capacity(self.rules.len()),
            index: self.index.clone(),
            collided: self.collided.clone(),
        };
        for s in &self.list {
            let c = out.compile(s.shape.clone(), s.fingerprint, model, signals)?;
            out.list.push(c);
        }
        Ok(out)
    }
}
