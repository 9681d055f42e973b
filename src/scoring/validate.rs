//! Validation of a model definition: every check that needs no compiling.

use indexmap::IndexMap;

use super::decay::Decay;
use super::error::ModelError;
use super::rule::{Limit, Rule, Trigger};
use super::spec::ScoringModelBuilder;
use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

/// The most rules a model can have.
pub const MAX_RULES: usize = u16::MAX as usize;

/// Checks the rules (ids unique, each rule's own settings),
/// caps, group decays and bands of a definition.
pub(super) fn validate(spec: &ScoringModelBuilder) -> Result<(), ModelError> {
    if spec.rules.len() > MAX_RULES {
        return Err(ModelError::TooManyRules {
            count: spec.rules.len(),
            max: MAX_RULES,
        });
    }
    let mut ids: IndexMap<&str, usize> = IndexMap::new();
    for (index, rule) in spec.rules.iter().enumerate() {
        if let Some(&first) = ids.get(rule.id.as_str()) {
            return Err(ModelError::DuplicateRule {
                rule: rule.id.clone(),
                first,
                second: index,
            });
        }
        ids.insert(rule.id.as_str(), index);
        check_rule(rule)?;
    }
    check_cap(|| "fit_cap".to_owned(), spec.fit_cap)?;
    check_cap(|| "engagement_cap".to_owned(), spec.engagement_cap)?;
    for (name, group) in &spec.groups {
        check_cap(|| format!("groups.{name}.cap"), group.cap)?;
        check_decay(|| format!("groups.{name}.decay"), group.decay)?;
    }
    check_bands(
        "fit_grades",
        spec.fit_grades.iter().map(|b| (b.at_least, b.grade.rank())),
    )?;
    check_bands(
        "engagement_levels",
        spec.engagement_levels
            .iter()
            .map(|b| (b.at_least, usize::from(b.level.get()))),
    )?;
    Ok(())
}

pub(super) fn check_cap(path: impl FnOnce() -> String, cap: Option<Points>) -> Result<(), ModelError> {
    match cap {
        Some(cap) if cap.is_negative() => Err(ModelError::NegativeCap { path: path(), cap }),
        _ => Ok(()),
    }
}

fn check_decay(path: impl FnOnce() -> String, decay: Option<Decay>) -> Result<(), ModelError> {
    match decay.and_then(|d| d.problem()) {
        Some(problem) => Err(ModelError::InvalidDecay {
            path: path(),
            problem,
        }),
        None => Ok(()),
    }
}

fn check_bands(path: &'static str, mins: impl Iterator<Item = (Points, usize)>) -> Result<(), ModelError> {
    let mut last: Option<(Points, usize)> = None;
    for (index, (min, rank)) in mins.enumerate() {
        if let Some((prev_min, prev_rank)) = last {
            if min >= prev_min || rank <= prev_rank {
                return Err(ModelError::BandsOutOfOrder { path, index });
            }
        }
        last = Some((min, rank));
    }
    Ok(())
}

fn check_rule(rule: &Rule) -> Result<(), ModelError> {
    let path = |field: &str| format!("rules[{}].{field}", rule.id);
    if matches!(&rule.when, Trigger::AllAttributes { all } if all.is_empty()) {
        return Err(ModelError::NoTests {
            rule: rule.id.clone(),
        });
    }
    match &rule.when {
        Trigger::Event { action } => action.validate(),
        Trigger::Attribute { predicate, .. } => predicate.validate(),
        Trigger::AllAttributes { all } => all.iter().try_for_each(|t| t.predicate.validate()),
    }
    .map_err(|source| ModelError::InvalidMatcher {
        rule: rule.id.clone(),
        source,
    })?;
    if rule.dimension() == Dimension::Fit {
        let field = if rule.limit != Limit::Once {
            Some("limit")
        } else if rule.within.is_some() {
            Some("within")
        } else if rule.decay.is_some() {
            Some("decay")
        } else {
            None
        };
        if let Some(field) = field {
            return Err(ModelError::NotForAttributes {
                rule: rule.id.clone(),
                field,
            });
        }
    }
    if rule.within.is_some_and(Span::is_zero) {
        return Err(ModelError::ZeroWindow { path: path("within") });
    }
    let bad_limit = match rule.limit {
        Limit::Times { n: 0 } => Some("times n must be at least 1: remove the rule to turn it off"),
        Limit::OncePer { period } if period.is_zero() => {
            Some("once_per period must be longer than 0s: use unlimited to count every event")
        }
        _ => None,
    };
    if let Some(problem) = bad_limit {
        return Err(ModelError::InvalidLimit {
            path: path("limit"),
            problem,
        });
    }
    check_decay(|| path("decay"), rule.decay)
}
