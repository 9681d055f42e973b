//! How deep a condition may nest, and the operations that stay safe on a
//! condition built deeper in code: `Clone`, `PartialEq` and `Drop` walk the
//! tree with a list of their own instead of recursing, so no depth can
//! exhaust the stack.

use std::mem;

use super::Condition;

/// The deepest a [`Condition`] may nest: a condition without parts has depth
/// 1, and each `all`, `any` or `not` adds a level.
///
/// The same limit holds for conditions built in code
/// ([`Condition::validate`], and
/// [`LifecycleDefinition::build`](crate::lifecycle::LifecycleDefinition::build) through
/// it) and for conditions read as data (deserializing a deeper one is an
/// error naming the limit, raised when the reader gets there). Real
/// criteria nest a handful of levels; 32 leaves room for generated ones
/// while every recursive walk of a valid condition (evaluation, validation,
/// `Debug`, serde) stays far below the stack of a 2 MiB thread, and a
/// condition at the limit still reads back from JSON inside a lifecycle
/// definition (an `all` level takes two of serde_json's 128 levels).
///
/// # Example
///
/// ```
/// use leadflow::criteria::{Condition, MAX_CONDITION_DEPTH};
/// use leadflow::{Dimension, Predicate};
///
/// let mut c = Condition::score_at_least(Dimension::Fit, 10);
/// for _ in 1..MAX_CONDITION_DEPTH {
///     c = Condition::all([c, Condition::attribute("industry", Predicate::Exists)]);
/// }
/// assert_eq!(c.depth(), MAX_CONDITION_DEPTH);
/// c.validate()?;
/// let json = serde_json::to_string(&c)?;
/// assert_eq!(serde_json::from_str::<Condition>(&json)?, c);
///
/// let deeper = Condition::negate(c);
/// assert!(deeper.validate().is_err());
/// assert!(serde_json::to_string(&deeper).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAX_CONDITION_DEPTH: usize = 32;

impl Condition {
    /// How deep the condition nests: 1 for a condition without parts, one
    /// more for each level of `all`, `any` and `not`. Works at any depth
    /// (without recursion).
    ///
    /// ```
    /// use leadflow::criteria::Condition;
    /// use leadflow::{Dimension, Predicate};
    ///
    /// let leaf = Condition::score_at_least(Dimension::Fit, 10);
    /// assert_eq!(leaf.depth(), 1);
    /// let c = Condition::any([leaf.clone(), Condition::negate(leaf)]);
    /// assert_eq!(c.depth(), 3);
    /// ```
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut todo = vec![(self, 1_usize)];
        while let Some((c, depth)) = todo.pop() {
            deepest = deepest.max(depth);
            todo.extend(c.parts().iter().map(|p| (p, depth + 1)));
        }
        deepest
    }

    /// The direct parts: those of `all` and `any`, the one of `not`, none
    /// for the other conditions.
    pub(super) fn parts(&self) -> &[Condition] {
        match self {
            Condition::All { of } | Condition::Any { of } => of,
            Condition::Not { of } => std::slice::from_ref(&**of),
            _ => &[],
        }
    }

    /// A copy of the condition without its parts (a `not` holds a
    /// placeholder): [`set_parts`](Self::set_parts) gives them back.
    fn head(&self) -> Condition {
        match self {
            Condition::ScoreAtLeast {
                dimension,
                at_least,
                score,
            } => Condition::ScoreAtLeast {
                dimension: *dimension,
                at_least: *at_least,
                score: score.clone(),
            },
            Condition::FitGradeAtLeast { grade } => Condition::FitGradeAtLeast { grade: *grade },
            Condition::EngagementLevelAtLeast { level } => {
                Condition::EngagementLevelAtLeast { level: *level }
            }
            Condition::DidAction { action, within } => Condition::DidAction {
                action: action.clone(),
                within: *within,
            },
            Condition::ActionCount {
                action,
                at_least,
                within,
            } => Condition::ActionCount {
                action: action.clone(),
                at_least: *at_least,
                within: *within,
            },
            Condition::RepeatVisits {
                page,
                at_least,
                within,
                session_gap,
            } => Condition::RepeatVisits {
                page: *page,
                at_least: *at_least,
                within: *within,
                session_gap: *session_gap,
            },
            Condition::Attribute { key, predicate } => Condition::Attribute {
                key: key.clone(),
                predicate: predicate.clone(),
            },
            Condition::Checklist {
                framework,
                items,
                at_least,
            } => Condition::Checklist {
                framework: *framework,
                items: items.clone(),
                at_least: *at_least,
            },
            Condition::All { .. } => Condition::All { of: Vec::new() },
            Condition::Any { .. } => Condition::Any { of: Vec::new() },
            Condition::Not { .. } => Condition::Not {
                of: Box::new(placeholder()),
            },
            Condition::Custom { name, bound } => Condition::Custom {
                name: name.clone(),
                bound: bound.clone(),
            },
        }
    }

    /// Gives a [`head`](Self::head) its parts (nothing for a condition
    /// without parts).
    fn set_parts(&mut self, mut parts: Vec<Condition>) {
        match self {
            Condition::All { of } | Condition::Any { of } => *of = parts,
            Condition::Not { of } => {
                if let Some(part) = parts.pop() {
                    **of = part;
                }
            }
            _ => {}
        }
    }
}

/// A condition without parts or data, standing in for a part taken out.
fn placeholder() -> Condition {
    Condition::All { of: Vec::new() }
}

impl Clone for Condition {
    /// Copies the tree bottom up, parts before the condition holding them,
    /// from a list instead of recursing.
    fn clone(&self) -> Condition {
        // (condition, its parts are copied already): parts are copied in
        // order onto `copies`, then taken back by the condition holding them.
        let mut todo = vec![(self, false)];
        let mut copies: Vec<Condition> = Vec::new();
        while let Some((c, parts_copied)) = todo.pop() {
            let parts = c.parts();
            if parts_copied || parts.is_empty() {
                let mut copy = c.head();
                copy.set_parts(copies.split_off(copies.len().saturating_sub(parts.len())));
                copies.push(copy);
            } else {
                todo.push((c, true));
                todo.extend(parts.iter().rev().map(|p| (p, false)));
            }
        }
        copies.pop().unwrap_or_else(placeholder)
    }
}

impl PartialEq for Condition {
    /// Compares node by node, from a list of pairs instead of recursing.
    /// Custom criteria compare by name, bound or not.
    fn eq(&self, other: &Condition) -> bool {
        let mut todo = vec![(self, other)];
        while let Some((a, b)) = todo.pop() {
            // The variant, the data and how many parts.
            if a.node(1) != b.node(1) {
                return false;
            }
            todo.extend(a.parts().iter().zip(b.parts()));
        }
        true
    }
}

impl Drop for Condition {
    /// Takes the parts out onto a list and drops them from there, so that
    /// dropping a part never drops a deep tree by recursion.
    fn drop(&mut self) {
        fn take_parts(c: &mut Condition, into: &mut Vec<Condition>) {
            match c {
                Condition::All { of } | Condition::Any { of } => into.append(of),
                Condition::Not { of } => into.push(mem::replace(&mut **of, placeholder())),
                _ => {}
            }
        }
        if self.parts().iter().all(|p| p.parts().is_empty()) {
            return; // the parts' own drops take nothing out: no recursion
        }
        let mut todo = Vec::new();
        take_parts(self, &mut todo);
        while let Some(mut part) = todo.pop() {
            take_parts(&mut part, &mut todo);
        }
    }
}
