//! The default B2B model, built from the domain facts.

use super::decay::Decay;
use super::error::ModelError;
use super::model::ScoringModel;
use super::rule::{GradeBand, Group, LevelBand, Rule};
use super::spec::ScoringModelBuilder;
use crate::event::{AssetType, EventType, PageCategory};
use crate::id::{GroupId, ModelVersion, RuleId};
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;
use crate::scores::{EngagementLevel, Grade};
use crate::span::Span;

/// The version of [`ScoringModel::b2b_default`].
pub const B2B_DEFAULT_VERSION: &str = "b2b-default@1";

fn grade(letter: char, at_least: i64) -> Option<GradeBand> {
    Some(GradeBand {
        grade: Grade::new(letter).ok()?,
        at_least: Points::new(at_least),
    })
}

fn level(level: u8, at_least: i64) -> Option<LevelBand> {
    Some(LevelBand {
        level: EngagementLevel::new(level).ok()?,
        at_least: Points::new(at_least),
    })
}

impl ScoringModel {
    /// The default B2B model: a documented starting point to tune.
    ///
    /// **Fit** (group `fit`, from current attributes):
    ///
    /// | rule | when | points |
    /// |---|---|---|
    /// | `size_icp` | 200–4999 employees | +15 |
    /// | `size_mid` | 50–199 employees | +8 |
    /// | `industry_icp` | industry software, internet, financial services or manufacturing | +10 |
    /// | `decision_maker` | seniority director, vp, c_level or owner | +15 |
    /// | `manager` | seniority manager | +8 |
    /// | `buying_function` | function it, engineering, operations or executive | +5 |
    /// | `free_mail` | a free-mail address | −10 |
    /// | `student` | function education | −25 |
    /// | `competitor` | custom attribute `competitor` = true | −50 |
    ///
    /// **Engagement** (each rule once per lead unless said):
    ///
    /// | group (cap, half-life) | rule | when | points |
    /// |---|---|---|---|
    /// | intent (none, 90d) | `demo_request` | demo request | +40 |
    /// | | `contact_request` | contact request | +30 |
    /// | | `pricing_sheet` | pricing sheet download | +15 |
    /// | web (30, 30d) | `pricing_page` | pricing page view, once a day | +10 |
    /// | | `product_page` | product page view, once a day | +5 |
    /// | content (30, 45d) | `whitepaper` | whitepaper download, up to 3 | +5 |
    /// | | `case_study` | case study download, up to 2 | +8 |
    /// | | `webinar_register` | webinar registration | +5 |
    /// | | `webinar_attend` | webinar attendance, once per 30d | +15 |
    /// | email (15, 30d) | `email_open` | email open, once a day | +1 |
    /// | | `email_click` | email click, once a day | +3 |
    /// | product (40, 30d) | `trial_start` | trial start | +25 |
    /// | | `trial_activity` | trial use, once a day | +2 |
    /// | negative (none, none) | `careers_page` | careers page view | −10 |
    /// | | `unsubscribe` | email unsubscribe | −20 |
    /// | | `hard_bounce` | hard email bounce | −30 |
    ///
    /// Fit grades: A ≥ 35, B ≥ 20, C ≥ 10, else D. Engagement levels: 1 ≥ 60,
    /// 2 ≥ 35, 3 ≥ 15, else 4. Floor: zero. Version
    /// [`B2B_DEFAULT_VERSION`].
    ///
    /// # Errors
    ///
    /// None in practice (the preset is tested); the `Result` keeps the
    /// library free of panics.
    ///
    /// # Example
    ///
    /// ```
    /// use leadflow::ScoringModel;
    ///
    /// let model = ScoringModel::b2b_default()?;
    /// assert_eq!(model.version().as_str(), "b2b-default@1");
    /// assert!(model.rule("demo_request").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn b2b_default() -> Result<ScoringModel, ModelError> {
        let version =
            ModelVersion::new(B2B_DEFAULT_VERSION).map_err(|source| ModelError::InvalidVersion { source })?;
        b2b_default_builder(version).build()
    }
}

/// The definition behind [`ScoringModel::b2b_default`], to adapt.
pub fn b2b_default_builder(version: ModelVersion) -> ScoringModelBuilder {
    use EventType as T;
    let days = Span::days;
    let page = |c| EventMatcher::visit(c);
    let fit = [
        Rule::attribute(
            RuleId::known("size_icp"),
            "employees",
            Predicate::between(200.0, 5000.0),
            15,
        ),
        Rule::attribute(
            RuleId::known("size_mid"),
            "employees",
            Predicate::between(50.0, 200.0),
            8,
        ),
        Rule::attribute(
            RuleId::known("industry_icp"),
            "industry",
            Predicate::one_of(["software", "internet", "financial services", "manufacturing"]),
            10,
        ),
        Rule::attribute(
            RuleId::known("decision_maker"),
            "seniority",
            Predicate::one_of(["director", "vp", "c_level", "owner"]),
            15,
        ),
        Rule::attribute(
            RuleId::known("manager"),
            "seniority",
            Predicate::equals("manager"),
            8,
        ),
        Rule::attribute(
            RuleId::known("buying_function"),
            "function",
            Predicate::one_of(["it", "engineering", "operations", "executive"]),
            5,
        ),
        Rule::attribute(
            RuleId::known("free_mail"),
            "free_mail",
            Predicate::equals(true),
            -10,
        ),
        Rule::attribute(
            RuleId::known("student"),
            "function",
            Predicate::equals("education"),
            -25,
        ),
        Rule::attribute(
            RuleId::known("competitor"),
            "competitor",
            Predicate::equals(true),
            -50,
        ),
    ];
    let engagement = [
        Rule::event(RuleId::known("demo_request"), T::DemoRequest, 40).group(GroupId::known("intent")),
        Rule::event(RuleId::known("contact_request"), T::ContactRequest, 30).group(GroupId::known("intent")),
        Rule::event(
            RuleId::known("pricing_sheet"),
            EventMatcher::download(AssetType::PricingSheet),
            15,
        )
        .group(GroupId::known("intent")),
        Rule::event(RuleId::known("pricing_page"), page(PageCategory::Pricing), 10)
            .group(GroupId::known("web"))
            .once_per(days(1)),
        Rule::event(RuleId::known("product_page"), page(PageCategory::Product), 5)
            .group(GroupId::known("web"))
            .once_per(days(1)),
        Rule::event(
            RuleId::known("whitepaper"),
            EventMatcher::download(AssetType::Whitepaper),
            5,
        )
        .group(GroupId::known("content"))
        .times(3),
        Rule::event(
            RuleId::known("case_study"),
            EventMatcher::download(AssetType::CaseStudy),
            8,
        )
        .group(GroupId::known("content"))
        .times(2),
        Rule::event(RuleId::known("webinar_register"), T::WebinarRegister, 5)
            .group(GroupId::known("content")),
        Rule::event(RuleId::known("webinar_attend"), T::WebinarAttend, 15)
            .group(GroupId::known("content"))
            .once_per(days(30)),
        Rule::event(RuleId::known("email_open"), T::EmailOpen, 1)
            .group(GroupId::known("email"))
            .once_per(days(1)),
        Rule::event(RuleId::known("email_click"), T::EmailClick, 3)
            .group(GroupId::known("email"))
            .once_per(days(1)),
        Rule::event(RuleId::known("trial_start"), T::TrialStart, 25).group(GroupId::known("product")),
        Rule::event(RuleId::known("trial_activity"), T::TrialActivity, 2)
            .group(GroupId::known("product"))
            .once_per(days(1)),
        Rule::event(RuleId::known("careers_page"), page(PageCategory::Careers), -10)
            .group(GroupId::known("negative")),
        Rule::event(RuleId::known("unsubscribe"), T::EmailUnsubscribe, -20).group(GroupId::known("negative")),
        Rule::event(
            RuleId::known("hard_bounce"),
            EventMatcher::of(T::EmailBounce).with_property("hard", Predicate::equals(true)),
            -30,
        )
        .group(GroupId::known("negative")),
    ];
    let half = |d| Decay::half_life(days(d));
    let mut b = ScoringModel::builder(version)
        .describe("default B2B model: ICP fit by size, industry, seniority and function; intent, web, content, email and product engagement")
        .group(GroupId::known("intent"), Group::new().decay(half(90)))
        .group(GroupId::known("web"), Group::new().cap(30).decay(half(30)))
        .group(GroupId::known("content"), Group::new().cap(30).decay(half(45)))
        .group(GroupId::known("email"), Group::new().cap(15).decay(half(30)))
        .group(GroupId::known("product"), Group::new().cap(40).decay(half(30)))
        .fit_grades([grade('A', 35), grade('B', 20), grade('C', 10), grade('D', 0)].into_iter().flatten())
        .engagement_levels([level(1, 60), level(2, 35), level(3, 15), level(4, 0)].into_iter().flatten());
    for rule in fit.into_iter().chain(engagement) {
        b = b.rule(rule);
    }
    b
}
