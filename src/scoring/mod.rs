//! Scoring: fit and engagement points from rules, with limits, windows,
//! decay, caps, a floor, grades and a full explanation.
//!
//! A [`ScoringModel`] (at the crate root, `leadflow::ScoringModel`) turns a
//! lead's attributes ([`Lead`](crate::Lead)) and events
//! ([`Event`](crate::Event)) into [`Scores`](crate::Scores), the seam the
//! score-based [criteria](crate::criteria) read. Models are data (serde,
//! JSON or TOML), validated once by [`ScoringModelBuilder::build`] and
//! versioned: every score carries the model's [`ModelVersion`](crate::ModelVersion).
//!
//! # Two dimensions
//!
//! - **Fit** comes from [`Trigger::Attribute`] (and
//!   [`Trigger::AllAttributes`]) rules over the lead's *current*
//!   attributes: a changed title replaces the old points, never adds to them.
//! - **Engagement** comes from [`Trigger::Event`] rules over events.
//!
//! The combined score is fit + engagement. The fit grade and engagement level
//! come from the model's bands, and [`Scores::cell`](crate::Scores::cell)
//! gives the matrix cell sales teams read:
//!
//! | | level 1 (most engaged) | 2 | 3 | 4 |
//! |---|---|---|---|---|
//! | **A** (best fit) | A1: call now | A2 | A3 | A4: nurture |
//! | **B** | B1 | B2 | B3 | B4 |
//! | **C** | C1 | C2 | C3 | C4 |
//! | **D** | D1: engaged, poor fit | D2 | D3 | D4: ignore |
//!
//! With the [preset](ScoringModel::b2b_default) bands (A ≥ 35 fit, level 1 ≥
//! 60 engagement), a director at a 450-person software company (fit 40) who
//! requested a demo yesterday (engagement ≈ 40, level 2) is **A2**.
//!
//! # The cap order
//!
//! Every engagement contribution goes through these steps, in this order:
//!
//! 1. **Rule limit** ([`Limit`]): over the lead's events up to `now`, in the
//!    canonical order (time, then the [shape's
//!    fingerprint](crate::EventShape::fingerprint), then the id's), a `once`
//!    rule keeps the first matching event, `times n` the first n, `once_per
//!    p` the first in each calendar bucket of length `p` (buckets start at
//!    the Unix epoch plus the model's
//!    [calendar offset](ScoringModelBuilder::calendar_offset): "once per
//!    day" is once per UTC day by default). Events after `now` do not exist
//!    yet; an event is its id and time, and counts once (of copies with
//!    other payloads, the one with the lowest shape fingerprint).
//! 2. **Window** (`within`): a kept event older than the window at `now`
//!    gives nothing. The limit is taken first, so a `once` rule whose first
//!    event has left the window gives nothing even if the lead repeated the
//!    action since; use `once_per` with the window's length to count recent
//!    repeats.
//! 3. **Decay** ([`Decay`]): positive points fade with the event's age.
//! 4. **Group cap** ([`Group::cap`]): when a group's contributions add up
//!    to more than its cap, the excess is taken off the *latest* positive
//!    contributions first (the cap fills up in time order).
//! 5. **Dimension cap** (`fit_cap`, `engagement_cap`): the same, over the
//!    dimension.
//! 6. **Floor** ([`Floor`]): a score below the floor is raised to it
//!    (default zero).
//!
//! Fit contributions skip steps 1–3 and are ordered by rule.
//!
//! Example: group `web` has a cap of 30 and no decay; the lead viewed pricing
//! pages (+10 each, once a day) on days 1, 2, 3 and 4. The contributions are
//! 10, 10, 10 and 10, the sum 40 exceeds the cap by 10, so the day-4 view is
//! clipped to 0 and the explanation says `clipped_by: group web cap`. A
//! `careers_page` penalty of −10 in a `negative` group then takes engagement
//! to 20; with a floor of zero, more penalties would stop at 0 and the
//! explanation's `engagement_floor` would show what the floor added.
//!
//! # Decay
//!
//! Decay is computed from each event's time and `now`, never by timers, in
//! integer arithmetic, so a score at a given `now` is the same on every
//! platform, in every order and batching of the events. A group's decaying
//! points are one running sum per lead, rounded once when read: half-life
//! `Σ points × 2^(−age/h)`, or stepwise, losing `p` % at each calendar step
//! of length `e` (steps start at the calendar offset, like `once_per`
//! buckets). 40 points with a 30-day half-life are 20 after 30 days and 10
//! after 60; 20 points losing 25 % every 30 days are 15 after one step
//! boundary and 11.25 after two. The sum is exact to within a rounding of
//! the total (see [`Decay`]). Penalties do not decay; a rule with a window
//! decays contribution by contribution ([`Decay::apply`]).
//!
//! An [`Explanation`] shows each contribution's own decayed points,
//! adjusted by a thousandth of a point where needed so that a group's
//! contributions add up to its rounded sum exactly.
//!
//! # One computation, every path
//!
//! [`ScoringModel::score`] and [`ScoringModel::explain`] are pure functions
//! of a lead, its events and `now`. The incremental [`ScoreState`] (with
//! [`ScoringModel::scores_with`]) and the engine keep a lead's hits or
//! running sums instead of its events, and fold them with the same code in
//! the same canonical order: every path gives the same scores, bit for bit
//! (property tests check it).
//!
//! # Example
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use leadflow::{Event, EventId, EventKind, Lead, LeadId, ScoringModel, Seniority};
//!
//! let model = ScoringModel::b2b_default()?;
//! let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
//! let mut lead = Lead::new(LeadId::new("lead-1")?, t0);
//! lead.company.industry = Some("software".into());
//! lead.company.employees = Some(450);
//! lead.person.seniority = Some(Seniority::Director);
//! let events = [Event::new(EventId::new("e1")?, lead.id.clone(), t0, EventKind::DemoRequest)];
//!
//! let scores = model.score(&lead, &events, t0);
//! assert_eq!(scores.fit.to_string(), "40");
//! assert_eq!(scores.engagement.to_string(), "40");
//! assert_eq!(scores.cell().map(|c| c.to_string()).as_deref(), Some("A2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compiled;
mod decay;
mod dispatch;
mod era;
mod error;
pub(crate) mod explain;
pub(crate) mod fold;
pub(crate) mod model;
mod preset;
pub(crate) mod row;
mod rule;
mod spec;
mod state;
pub(crate) mod tally;
mod validate;

pub use decay::Decay;
pub use error::ModelError;
pub use explain::{Cap, Contribution, Explanation, NamedExplanation};
pub(crate) use model::ScoringModel;
pub use preset::{B2B_DEFAULT_VERSION, b2b_default_builder};
pub use rule::{AttributeTest, Floor, GradeBand, Group, LevelBand, Limit, NamedScore, Rule, Trigger};
pub use spec::ScoringModelBuilder;
pub use state::{Hit, ScoreState};
pub use validate::MAX_RULES;
