//! Why a scoring model was refused.

use crate::id::{GroupId, IdError, RuleId};
use crate::matcher::MatcherError;
use crate::points::Points;

/// Why a scoring model was refused. Each variant names the offending rule id
/// or the path of the offending setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Two rules share an id.
    #[error("rule id \"{rule}\" is used by rules #{first} and #{second}: rule ids must be unique")]
    DuplicateRule {
        /// The id.
        rule: RuleId,
        /// The first rule's position.
        first: usize,
        /// The second rule's position.
        second: usize,
    },
    /// A cap is below zero.
    #[error("{path}: cap {cap} is below zero: use a cap of 0 or more")]
    NegativeCap {
        /// Where: `groups.web.cap`, `fit_cap`, `named.x.cap`.
        path: String,
        /// The cap.
        cap: Points,
    },
    /// A window of zero.
    #[error("{path}: a window of 0s never counts anything: use a longer window or leave it out")]
    ZeroWindow {
        /// Where: `rules[id].within`.
        path: String,
    },
    /// A frequency limit that can never count.
    #[error("{path}: {problem}")]
    InvalidLimit {
        /// Where: `rules[id].limit`.
        path: String,
        /// What is wrong and what to do.
        problem: &'static str,
    },
    /// Bad decay parameters.
    #[error("{path}: {problem}")]
    InvalidDecay {
        /// Where: `rules[id].decay` or `groups.web.decay`.
        path: String,
        /// What is wrong and what to do.
        problem: &'static str,
    },
    /// An event matcher or predicate is invalid.
    #[error("rules[{rule}].when: {source}")]
    InvalidMatcher {
        /// The rule id.
        rule: RuleId,
        /// The problem.
        source: MatcherError,
    },
    /// A group is declared or referenced but has no rules.
    #[error(
        "{path} refers to group \"{group}\", which has no rules: add a rule to it or remove the reference"
    )]
    EmptyGroup {
        /// Where: `groups.x` or `named.y.groups`.
        path: String,
        /// The group.
        group: GroupId,
    },
    /// A group mixes attribute (fit) and event (engagement) rules.
    #[error(
        "group \"{group}\" mixes fit (attribute) and engagement (event) rules, first at rule \"{rule}\": put them in separate groups"
    )]
    MixedGroup {
        /// The group.
        group: GroupId,
        /// The first rule of the other dimension.
        rule: RuleId,
    },
    /// A time setting on an attribute rule, which has no time.
    #[error("rules[{rule}].{field}: attribute rules have no time, so {field} does not apply: remove it")]
    NotForAttributes {
        /// The rule id.
        rule: RuleId,
        /// The setting: `limit`, `within` or `decay`.
        field: &'static str,
    },
    /// Grade or level bands out of order.
    #[error("{path}: bands must go from best to worst with strictly decreasing at_least: fix band #{index}")]
    BandsOutOfOrder {
        /// `fit_grades` or `engagement_levels`.
        path: &'static str,
        /// The first band out of order.
        index: usize,
    },
    /// The model version is not a valid id.
    #[error("version: {source}")]
    InvalidVersion {
        /// The problem.
        source: IdError,
    },
    /// An `all_attributes` rule without tests.
    #[error(
        "rules[{rule}].when: all_attributes has no tests, so it would match every lead: add a test or use an attribute rule"
    )]
    NoTests {
        /// The rule id.
        rule: RuleId,
    },
    /// More rules than [`MAX_RULES`](super::MAX_RULES).
    #[error("the model has {count} rules: the maximum is {max}")]
    TooManyRules {
        /// The number of rules.
        count: usize,
        /// [`MAX_RULES`](super::MAX_RULES).
        max: usize,
    },
}
