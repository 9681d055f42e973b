//! The compiled dispatch table of the incremental path.

use crate::event::{AssetType, EventKind, EventShape, EventType, PageCategory};
use crate::lead::Channel;
use crate::matcher::{EventMatcher, Predicate};
use crate::points::Points;

/// An [`EventMatcher`] with its type already dispatched on: checks the
/// remaining fields without allocating; the page category is computed once
/// per event by the caller.
#[derive(Debug, Clone)]
struct Compiled {
    rule: usize,
    points: Points,
    asset: Option<AssetType>,
    page: Option<PageCategory>,
    path_prefix: Option<Box<str>>,
    channel: Option<Channel>,
    properties: Box<[(String, Predicate)]>,
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

impl Compiled {
    fn matches(&self, shape: &EventShape, category: Option<PageCategory>) -> bool {
        if self.asset.is_some() && shape.kind.asset() != self.asset {
            return false;
        }
        if self.page.is_some() && category != self.page {
            return false;
        }
        if let Some(prefix) = &self.path_prefix {
            match &shape.kind {
                EventKind::PageView { path, .. } if starts_with_ignore_case(path, prefix) => {}
                _ => return false,
            }
        }
        if self.channel.is_some() && shape.channel != self.channel {
            return false;
        }
        self.properties
            .iter()
            .all(|(key, p)| p.matches(shape.property(key)))
    }
}

/// Event rules by [`EventType::index`], in rule order.
#[derive(Debug, Clone, Default)]
pub(crate) struct DispatchTable {
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    needs_category: bool,
    rules: Vec<Compiled>,
}

impl DispatchTable {
    pub(crate) fn new() -> DispatchTable {
        DispatchTable {
            slots: vec![Slot::default(); EventType::ALL.len()],
        }
    }

    /// Adds rule `rule` (rules must be added in order).
    pub(crate) fn add(&mut self, rule: usize, points: Points, m: &EventMatcher) {
        if let Some(slot) = self.slots.get_mut(m.event.index()) {
            slot.needs_category |= m.page.is_some();
            slot.rules.push(Compiled {
                rule,
                points,
                asset: m.asset,
                page: m.page,
                path_prefix: m.path_prefix.as_deref().map(Box::from),
                channel: m.channel,
                properties: m.properties.iter().map(|(k, p)| (k.clone(), p.clone())).collect(),
            });
        }
    }

    /// The `(rule index, points)` of the event rules matching `shape`.
    pub(crate) fn matches<'a>(&'a self, shape: &'a EventShape) -> impl Iterator<Item = (usize, Points)> + 'a {
        let slot = self.slots.get(shape.event_type().index());
        let category = match slot {
            Some(s) if s.needs_category => shape.kind.page_category(),
            _ => None,
        };
        slot.map_or(&[][..], |s| s.rules.as_slice())
            .iter()
            .filter(move |c| c.matches(shape, category))
            .map(|c| (c.rule, c.points))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::id::{EventId, LeadId};
    use chrono::{TimeZone, Utc};

    fn ev(kind: EventKind) -> Event {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Event::new(EventId::new("e").unwrap(), LeadId::new("l").unwrap(), at, kind)
    }

    #[test]
    fn agrees_with_event_matcher() {
        let matchers = [
            EventMatcher::visit(PageCategory::Pricing),
            EventMatcher::of(EventType::PageView).with_path_prefix("/PRICING/t"),
            EventMatcher::of(EventType::PageView).with_channel(Channel::Email),
            EventMatcher::download(AssetType::Whitepaper),
            EventMatcher::of(EventType::Feedback).with_property("score", Predicate::at_least(9.0)),
        ];
        let mut table = DispatchTable::new();
        for (i, m) in matchers.iter().enumerate() {
            table.add(i, Points::new(1), m);
        }
        let page = |p: &str| EventKind::PageView {
            path: p.into(),
            category: None,
        };
        let events = [
            ev(page("/pricing/team")),
            ev(page("/pricing")).with_channel(Channel::Email),
            ev(page("/p")),
            ev(EventKind::ContentDownload {
                asset: AssetType::Whitepaper,
                asset_id: None,
            }),
            ev(EventKind::Feedback { score: 10 }),
            ev(EventKind::Feedback { score: 3 }),
        ];
        for e in &events {
            let fast: Vec<usize> = table.matches(&e.shape).map(|(i, _)| i).collect();
            let slow: Vec<usize> = (0..matchers.len())
                .filter(|&i| matchers[i].matches(&e.shape))
                .collect();
            assert_eq!(fast, slow, "{e:?}");
        }
        assert!(starts_with_ignore_case("/Pricing", "/pRICING"));
        assert!(!starts_with_ignore_case("/pr", "/pricing"));
    }
}
