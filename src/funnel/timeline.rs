//! The canonical schedule both engines re-evaluate a lead's timeline with.
//!
//! A lead's automatic transitions are evaluated at each of its event and
//! upsert times, in order, with the state at that time; commands on record
//! are re-applied at their times, after the evaluation of events at the same
//! time. A late event, an upsert or a command in the past re-runs the
//! timeline from its time. [`Funnel`](super::Funnel) and
//! [`CompiledFunnel`](super::CompiledFunnel) store leads differently and
//! implement [`Timeline`] over their storage; [`rerun`] is the schedule.

use chrono::{DateTime, Utc};

use crate::lifecycle::{LeadLifecycle, StageSet, Transition, TransitionError, TransitionRecord, TriggerKind};

/// A command that could not be re-applied when re-evaluating a timeline.
#[derive(Debug)]
pub(crate) struct Conflict {
    pub(crate) transition: Transition,
    pub(crate) at: DateTime<Utc>,
    pub(crate) error: TransitionError,
}

/// What a re-evaluation changed in the lifecycle history.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    pub(crate) retracted: Vec<TransitionRecord>,
    pub(crate) added: Vec<TransitionRecord>,
}

/// One lead's timeline, as [`rerun`] walks it.
pub(crate) trait Timeline {
    fn life(&mut self) -> &mut LeadLifecycle;
    /// The stages with an automatic edge (elsewhere evaluating is a no-op).
    fn automatic(&self) -> StageSet;
    /// How many events, and the time of the `i`-th (ascending).
    fn events(&self) -> usize;
    fn event_at(&self, i: usize) -> Option<DateTime<Utc>>;
    /// How many upserts, and the time of the `i`-th (ascending).
    fn versions(&self) -> usize;
    fn version_at(&self, i: usize) -> Option<DateTime<Utc>>;
    /// Evaluates the automatic edges at `t`.
    fn advance_at(&mut self, t: DateTime<Utc>);
    /// Applies a command at its time.
    fn apply_command(&mut self, command: (Transition, DateTime<Utc>)) -> Result<(), Box<Conflict>>;
}

/// Re-evaluates the timeline from `from`: the lifecycle is rewound to just
/// before `from`, then every evaluation time is replayed in order, and the
/// commands on record at or after `from` (plus `new_command`, if any) are
/// re-applied at their times.
///
/// On a conflict the lifecycle is left half-replayed: callers restore their
/// backup.
pub(crate) fn rerun(
    timeline: &mut impl Timeline,
    from: DateTime<Utc>,
    new_command: Option<(Transition, DateTime<Utc>)>,
) -> Result<Diff, Box<Conflict>> {
    let removed = timeline.life().rewind(from);
    let keep = timeline.life().history().len();
    let mut commands: Vec<(Transition, DateTime<Utc>)> = removed
        .iter()
        .filter(|r| r.trigger == TriggerKind::Command)
        .map(|r| (r.transition.clone(), r.at))
        .collect();
    commands.extend(new_command);
    commands.sort_by_key(|c| c.1);
    let mut pending = commands.into_iter().peekable();
    // Every event and upsert time from `from` on, ascending. Where the
    // stage has no automatic edge, evaluating does nothing: skip to the
    // next command, or stop when none is left.
    let n = timeline.events();
    let mut e = first_from_end_by(n, |i| timeline.event_at(i).is_some_and(|t| t < from));
    let mut v = first_from_end_by(timeline.versions(), |i| {
        timeline.version_at(i).is_some_and(|t| t < from)
    });
    loop {
        let t = match (timeline.event_at(e), timeline.version_at(v)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        while let Some(c) = pending.next_if(|c| c.1 < t) {
            timeline.apply_command(c)?;
        }
        if timeline.automatic().contains(timeline.life().stage()) {
            timeline.advance_at(t);
            // Usually one or two entries are at `t`: step over them.
            while timeline.event_at(e).is_some_and(|x| x <= t) {
                e += 1;
            }
            while timeline.version_at(v).is_some_and(|x| x <= t) {
                v += 1;
            }
        } else {
            // Nothing fires before the next command: times up to its time
            // are evaluated before it, as no-ops.
            let Some(past) = pending.peek().map(|c| c.1.max(t)) else {
                break;
            };
            e = partition(e, n, |i| timeline.event_at(i).is_some_and(|x| x <= past));
            v = partition(v, timeline.versions(), |i| {
                timeline.version_at(i).is_some_and(|x| x <= past)
            });
        }
    }
    for c in pending {
        timeline.apply_command(c)?;
    }
    let added = timeline.life().history().get(keep..).unwrap_or(&[]).to_vec();
    Ok(diff(removed, added))
}

/// The first index in `lo..hi` where `before` turns false (it must be true
/// then false over the range).
fn partition(mut lo: usize, mut hi: usize, before: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The first index of `0..len` where `before` turns false, searched from
/// the end: re-evaluations start at recent events, so this touches the
/// recently written tail and a few cache lines instead of a binary search's
/// cold probes.
pub(crate) fn first_from_end_by(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let mut hi = len;
    let mut step = 1;
    while hi > 0 {
        let probe = hi.saturating_sub(step);
        if before(probe) {
            return partition(probe + 1, hi, before);
        }
        hi = probe;
        step *= 2;
    }
    0
}

/// [`first_from_end_by`] over a slice.
pub(crate) fn first_from_end<T>(items: &[T], before: impl Fn(&T) -> bool) -> usize {
    first_from_end_by(items.len(), |i| items.get(i).is_some_and(&before))
}

/// Pairs equal records off; what remains of `removed` is retracted, what
/// remains of `added` is new.
pub(crate) fn diff(mut removed: Vec<TransitionRecord>, added: Vec<TransitionRecord>) -> Diff {
    let mut out = Diff::default();
    for r in added {
        match removed.iter().position(|x| *x == r) {
            Some(i) => {
                removed.remove(i);
            }
            None => out.added.push(r),
        }
    }
    out.retracted = removed;
    out
}

#[cfg(test)]
mod tests {
    use super::first_from_end;

    #[test]
    fn searching_from_the_end_agrees_with_partition_point() {
        let items: Vec<u32> = (0..100).map(|i| i / 3).collect();
        for x in 0..40 {
            assert_eq!(
                first_from_end(&items, |v| *v < x),
                items.partition_point(|v| *v < x),
                "{x}"
            );
        }
        assert_eq!(first_from_end(&[] as &[u32], |v| *v < 1), 0);
    }
}
