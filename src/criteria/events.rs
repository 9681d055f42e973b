//! The events a criterion sees: each with its time and shape.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::event::{Event, EventShape, PageCategory};
use crate::matcher::EventMatcher;
use crate::span::Span;

/// One event as a criterion sees it: when it happened and what it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRef<'a> {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub shape: &'a EventShape,
}

/// The events of one lead, as a criterion sees them (see
/// [`LeadView::events`](super::LeadView::events)).
///
/// Built from a slice of [`Event`]s, or by the [`Engine`](crate::Engine)
/// from what it keeps of a lead: its recent events and, for the built-in
/// conditions, running counts of older ones. A custom criterion iterating
/// the events through the engine sees the events within its
/// [`Criterion::event_horizon`](super::Criterion::event_horizon).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use leadflow::criteria::Events;
/// use leadflow::{Event, EventId, EventKind, EventType, LeadId};
///
/// let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let events = [Event::new(EventId::new("e1")?, LeadId::new("l1")?, at, EventKind::DemoRequest)];
/// let view = Events::from(&events[..]);
/// assert_eq!(view.len(), 1);
/// assert!(view.iter().all(|e| e.shape.event_type() == EventType::DemoRequest && e.at == at));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Events<'a>(Source<'a>);

#[derive(Clone, Copy)]
enum Source<'a> {
    Slice(&'a [Event]),
    Kept(&'a dyn KeptEvents),
}

/// What an engine keeps of a lead's events, as [`Events`] reads it.
pub(crate) trait KeptEvents: Sync {
    /// How many events it holds.
    fn len(&self) -> usize;
    /// The `i`-th, in no particular order.
    fn get(&self, i: usize) -> Option<EventRef<'_>>;
    /// How many events match `matcher` within `window`, counting at most
    /// `limit`; `None` when this source cannot say without iterating.
    fn count(&self, matcher: &EventMatcher, window: Window, limit: usize) -> Option<usize>;
}

/// The times a criterion looks at: up to `now`, and within `within` of it
/// (a window reaching past the calendar's start holds every earlier time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) now: DateTime<Utc>,
    pub(crate) start: Option<DateTime<Utc>>,
}

impl Window {
    /// Works out the window's start once, not per event.
    pub(crate) fn new(now: DateTime<Utc>, within: Option<Span>) -> Window {
        Window {
            now,
            start: within.and_then(|w| w.before(now)),
        }
    }

    pub(crate) fn holds(self, at: DateTime<Utc>) -> bool {
        at <= self.now && self.start.is_none_or(|start| at >= start)
    }
}

impl<'a> Events<'a> {
    /// No events.
    pub const EMPTY: Events<'static> = Events(Source::Slice(&[]));

    pub(crate) fn kept(source: &'a dyn KeptEvents) -> Events<'a> {
        Events(Source::Kept(source))
    }

    /// How many events.
    pub fn len(&self) -> usize {
        match self.0 {
            Source::Slice(s) => s.len(),
            Source::Kept(k) => k.len(),
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = EventRef<'a>> + 'a {
        let source = self.0;
        (0..self.len()).filter_map(move |i| match source {
            Source::Slice(s) => s.get(i).map(|e| EventRef {
                at: e.at,
                shape: &e.shape,
            }),
            Source::Kept(k) => k.get(i),
        })
    }

    /// How many events match `matcher` within `window`, up to `limit`.
    pub(crate) fn count(&self, matcher: &EventMatcher, window: Window, limit: usize) -> usize {
        if let Source::Kept(k) = self.0 {
            if let Some(n) = k.count(matcher, window, limit) {
                return n;
            }
        }
        self.iter()
            .filter(|e| window.holds(e.at) && matcher.matches(e.shape))
            .take(limit)
            .count()
    }

    /// The number of distinct visits to pages of `page` within `window`:
    /// page views less than `gap` after the previous one are one visit.
    pub(crate) fn visits(&self, page: PageCategory, window: Window, gap: Span) -> u32 {
        let mut times: Vec<DateTime<Utc>> = self
            .iter()
            .filter(|e| window.holds(e.at) && e.shape.kind.page_category() == Some(page))
            .map(|e| e.at)
            .collect();
        times.sort_unstable();
        let gap = gap.to_time_delta();
        let mut visits = 0u32;
        let mut last: Option<DateTime<Utc>> = None;
        for t in times {
            if last.is_none_or(|l| t - l >= gap) {
                visits = visits.saturating_add(1);
            }
            last = Some(t);
        }
        visits
    }
}

impl<'a> From<&'a [Event]> for Events<'a> {
    fn from(events: &'a [Event]) -> Events<'a> {
        Events(Source::Slice(events))
    }
}

impl Default for Events<'_> {
    fn default() -> Self {
        Events::EMPTY
    }
}

impl fmt::Debug for Events<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
