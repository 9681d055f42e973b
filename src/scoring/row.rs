//! A lead's engagement state as a row of machine words: what the pure
//! scoring path folds a lead's hits into, and what the engine keeps per
//! lead.
//!
//! A [`Layout`] is compiled from a model and a *reach* (how far before the
//! latest hit a hit may still be added or taken back: the engine's allowed
//! lateness, zero for the pure path). The row holds, per group, the sum of
//! its flat contributions (penalties and points that do not decay), per
//! group and decay an [era accumulator](super::era) of decaying points, and
//! per limited rule its limit state: a count for `once` and `times n`, a
//! bitmap of the calendar buckets it counted in for `once_per`. Windowed
//! rules keep nothing here: their hits are read one by one at `now`.
//!
//! Hits must be applied in the canonical order (time, shape fingerprint,
//! event id fingerprint, rule); a hit may be taken back (the engine does so
//! for the hits after a late event, before applying them again after it).
//! The row's value at a time is a pure function of the hits applied, so the
//! pure path and the engine agree bit for bit.

use chrono::{DateTime, Utc};

use super::compiled::CRule;
use super::decay::Decay;
use super::era::Era;
use super::rule::Limit;
use crate::points::Points;
use crate::scores::Dimension;
use crate::span::Span;

/// A bit field of a row: `bits` bits of word `word` from bit `shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    word: u32,
    shift: u8,
    bits: u8,
}

/// A run of bits of any length: whole words from `word` when longer than a
/// word, else one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bits {
    Field(Field),
    Words { word: u32, len: u32 },
}

/// Where a rule's counted points go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// A fit rule: not in the row.
    Fit,
    /// Into its group's flat sum (penalties, points without decay).
    Flat { group: u32 },
    /// Into a decaying accumulator.
    Decaying { slot: u32 },
    /// Nowhere: read one by one at `now` (a window, or a step that loses
    /// everything).
    Windowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitCells {
    Unlimited,
    Count { field: Field, n: u32 },
    Buckets { bits: Bits, len: u32, period: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct RuleCells {
    sink: Sink,
    limit: LimitCells,
    milli: i64,
}

/// How a group's flat positive points are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Positive {
    /// Its flat rules all give positive points: the sum.
    Sum,
    /// They all give penalties: none.
    None,
    /// Both: a word of its own.
    Word(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupCells {
    sum: Option<u32>,
    positive: Positive,
    slots: Vec<u32>,
}

/// A decaying accumulator: its two words (low, high), its eras, and the
/// remainders of its last carries (`rems[0]` the one into the anchor's
/// era).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    acc: u32,
    era: Era,
    rems: Vec<Field>,
}

/// The most bits a row may hold beyond those of a row for hits in order
/// (era remainders and calendar buckets further back): 8 KiB.
pub(crate) const MAX_REACH_BITS: u64 = 64 * 1024;

/// Why a row cannot be laid out: reaching that far back would take more
/// than [`MAX_REACH_BITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooFarBack;

/// Why a hit could not be added or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfReach;

/// The cells of a model's row; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Layout {
    words: usize,
    groups: Vec<GroupCells>,
    slots: Vec<Slot>,
    rules: Vec<RuleCells>,
    offset: i64,
    /// Every era length and bucket period, once each.
    periods: Vec<i64>,
}

/// Word 0: the anchor, the latest time (seconds) a hit was applied at;
/// `i64::MIN` before the first. Word 1: the first time after the anchor at
/// which an era or a bucket changes (until then, moving the anchor changes
/// nothing else).
const ANCHOR: usize = 0;
const NEXT: usize = 1;
const NO_ANCHOR: u64 = i64::MIN as u64;

/// Hands out words and bit fields.
struct Alloc {
    words: u32,
    /// The word being filled with fields, and its next free bit.
    open: Option<(u32, u8)>,
}

impl Alloc {
    fn word(&mut self) -> u32 {
        self.words += 1;
        self.words - 1
    }

    fn field(&mut self, bits: u8) -> Field {
        let bits = bits.clamp(1, 64);
        match self.open {
            Some((word, used)) if u32::from(used) + u32::from(bits) <= 64 => {
                self.open = Some((word, used + bits));
                Field {
                    word,
                    shift: used,
                    bits,
                }
            }
            _ => {
                let word = self.word();
                self.open = (bits < 64).then_some((word, bits));
                Field { word, shift: 0, bits }
            }
        }
    }

    fn bits(&mut self, len: u32) -> Bits {
        if len <= 64 {
            Bits::Field(self.field(len as u8))
        } else {
            let word = self.words;
            let n = len.div_ceil(64);
            self.words += n;
            Bits::Words { word, len: n }
        }
    }
}

/// The number of bits that hold `0..=n`.
fn bits_for(n: u32) -> u8 {
    (32 - n.leading_zeros()).max(1) as u8
}

impl Layout {
    /// The row of `model` for hits up to `reach` before the latest one.
    ///
    /// # Errors
    ///
    /// [`TooFarBack`] when the cells for hits that late would take more
    /// than [`MAX_REACH_BITS`] (never for a `reach` of zero).
    pub(crate) fn new(
        compiled: &[CRule],
        n_groups: usize,
        calendar_offset: Span,
        reach: Span,
    ) -> Result<Layout, TooFarBack> {
        // Bits beyond a row for hits in order, checked before they are
        // handed out.
        let mut further = 0u64;
        let mut reach_further = |bits: u64| {
            further = further.saturating_add(bits);
            if further > MAX_REACH_BITS {
                Err(TooFarBack)
            } else {
                Ok(())
            }
        };
        let offset = calendar_offset.as_seconds();
        let mut alloc = Alloc { words: 2, open: None };
        // Which groups have flat rules, and of which signs.
        let mut flat = vec![(false, false); n_groups];
        let mut sinks = Vec::with_capacity(compiled.len());
        let mut eras: Vec<(usize, Era)> = Vec::new();
        for c in compiled {
            let dimension = c.dimension;
            let milli = c.points.as_milli();
            let sink = if dimension == Dimension::Fit || milli == 0 {
                None
            } else if c.within.is_some() {
                Some(Err(()))
            } else if milli < 0 || c.decay == Decay::None {
                if let Some(f) = flat.get_mut(c.group) {
                    if milli > 0 {
                        f.0 = true;
                    } else {
                        f.1 = true;
                    }
                }
                Some(Ok(None))
            } else {
                match Era::of(c.decay, calendar_offset) {
                    Some(era) => {
                        let slot = eras
                            .iter()
                            .position(|(g, e)| *g == c.group && *e == era)
                            .unwrap_or_else(|| {
                                eras.push((c.group, era));
                                eras.len() - 1
                            });
                        Some(Ok(Some(slot)))
                    }
                    None => Some(Err(())),
                }
            };
            sinks.push(sink);
        }
        let mut groups: Vec<GroupCells> = flat
            .iter()
            .map(|&(pos, neg)| GroupCells {
                sum: (pos || neg).then(|| alloc.word()),
                positive: match (pos, neg) {
                    (true, true) => Positive::Word(alloc.word()),
                    (true, false) => Positive::Sum,
                    _ => Positive::None,
                },
                slots: Vec::new(),
            })
            .collect();
        let mut slots = Vec::with_capacity(eras.len());
        for (i, (group, era)) in eras.into_iter().enumerate() {
            let acc = alloc.word();
            alloc.word();
            let n = era.reach(reach);
            reach_further((n as u64).saturating_sub(1).saturating_mul(8))?;
            let rems = (0..n).map(|_| alloc.field(8)).collect();
            slots.push(Slot { acc, era, rems });
            if let Some(g) = groups.get_mut(group) {
                g.slots.push(i as u32);
            }
        }
        let mut rules = Vec::with_capacity(compiled.len());
        for (c, sink) in compiled.iter().zip(sinks) {
            let sink = match sink {
                None => Sink::Fit,
                Some(Err(())) => Sink::Windowed,
                Some(Ok(None)) => Sink::Flat {
                    group: c.group as u32,
                },
                Some(Ok(Some(slot))) => Sink::Decaying { slot: slot as u32 },
            };
            let limit = match (sink, c.limit) {
                (Sink::Fit, _) | (_, Limit::Unlimited) => LimitCells::Unlimited,
                (_, Limit::Once) => LimitCells::Count {
                    field: alloc.field(1),
                    n: 1,
                },
                (_, Limit::Times { n }) => LimitCells::Count {
                    field: alloc.field(bits_for(n)),
                    n,
                },
                (_, Limit::OncePer { period }) => {
                    let period = period.as_seconds().max(1);
                    let len = u32::try_from(reach.as_seconds() / period + 2).unwrap_or(u32::MAX);
                    reach_further(u64::from(len).saturating_sub(2))?;
                    LimitCells::Buckets {
                        bits: alloc.bits(len),
                        len,
                        period,
                    }
                }
            };
            rules.push(RuleCells {
                sink,
                limit,
                milli: c.points.as_milli(),
            });
        }
        let mut periods: Vec<i64> = slots.iter().map(|s| s.era.len()).collect();
        periods.extend(rules.iter().filter_map(|r| match r.limit {
            LimitCells::Buckets { period, .. } => Some(period),
            _ => None,
        }));
        periods.sort_unstable();
        periods.dedup();
        Ok(Layout {
            words: alloc.words as usize,
            groups,
            slots,
            rules,
            offset,
            periods,
        })
    }

    /// The row's length in words.
    pub(crate) fn width(&self) -> usize {
        self.words
    }

    /// An empty row.
    pub(crate) fn empty(&self) -> Vec<u64> {
        let mut row = vec![0; self.words];
        if let Some(a) = row.get_mut(ANCHOR) {
            *a = NO_ANCHOR;
        }
        row
    }

    /// True when some rule's hits are read one by one at `now`.
    pub(crate) fn has_windowed(&self) -> bool {
        self.rules.iter().any(|r| r.sink == Sink::Windowed)
    }

    /// True when `rule`'s hits are read one by one at `now`.
    pub(crate) fn is_windowed(&self, rule: usize) -> bool {
        self.rules.get(rule).is_some_and(|r| r.sink == Sink::Windowed)
    }

    /// The latest time a hit was applied at, if any.
    pub(crate) fn anchor(row: &[u64]) -> Option<i64> {
        row.get(ANCHOR)
            .copied()
            .filter(|a| *a != NO_ANCHOR)
            .map(|a| a as i64)
    }

    /// The calendar bucket of `t` for a `once_per` limit of `period`.
    fn bucket(&self, t: i64, period: i64) -> i64 {
        match t.checked_sub(self.offset) {
            Some(x) => x.div_euclid(period),
            None => (i128::from(t) - i128::from(self.offset)).div_euclid(i128::from(period)) as i64,
        }
    }

    /// Moves the row's anchor forward to `t` (a later hit): carries the
    /// accumulators into `t`'s eras and shifts the bucket bitmaps.
    fn advance(&self, row: &mut [u64], t: i64) {
        let Some(from) = Layout::anchor(row) else {
            set(row, ANCHOR, t as u64);
            set(row, NEXT, self.next_boundary(t) as u64);
            return;
        };
        if t <= from {
            return;
        }
        if t < get(row, NEXT as u32) as i64 {
            set(row, ANCHOR, t as u64);
            return;
        }
        for slot in &self.slots {
            let steps = slot.era.index(t).saturating_sub(slot.era.index(from));
            let mut acc = get_wide(row, slot.acc);
            // Past the remainders kept and an empty accumulator, more
            // carries change nothing.
            let limit = (slot.rems.len() as i64).saturating_add(64);
            for _ in 0..steps.min(limit) {
                let (next, rem) = slot.era.fold(acc);
                for k in (1..slot.rems.len()).rev() {
                    if let (Some(&to), Some(&from)) = (slot.rems.get(k), slot.rems.get(k - 1)) {
                        put(row, to, read(row, from));
                    }
                }
                if let Some(&first) = slot.rems.first() {
                    put(row, first, u64::from(rem));
                }
                acc = next;
            }
            if steps > limit {
                acc = slot.era.fold_n(acc, (steps - limit) as u64);
            }
            set_wide(row, slot.acc, acc);
        }
        for rule in &self.rules {
            if let LimitCells::Buckets { bits, period, .. } = rule.limit {
                let shift = self.bucket(t, period).saturating_sub(self.bucket(from, period));
                shift_bits(row, bits, u64::try_from(shift).unwrap_or(u64::MAX));
            }
        }
        set(row, ANCHOR, t as u64);
        set(row, NEXT, self.next_boundary(t) as u64);
    }

    /// The first time after `t` at which an era or a bucket starts.
    fn next_boundary(&self, t: i64) -> i64 {
        self.periods
            .iter()
            .map(|&p| {
                let start = i128::from(self.offset) + (i128::from(self.bucket(t, p)) + 1) * i128::from(p);
                i64::try_from(start).unwrap_or(i64::MAX)
            })
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Decides whether a hit of `rule` at `t` counts under its limit, and
    /// records it when it does.
    fn count(&self, row: &mut [u64], rule: usize, t: i64) -> Result<bool, OutOfReach> {
        let Some(r) = self.rules.get(rule) else {
            return Ok(false);
        };
        match r.limit {
            LimitCells::Unlimited => Ok(true),
            LimitCells::Count { field, n } => {
                let c = read(row, field);
                if c >= u64::from(n) {
                    return Ok(false);
                }
                put(row, field, c + 1);
                Ok(true)
            }
            LimitCells::Buckets { bits, len, period } => {
                let i = self.bucket_index(row, t, len, period)?;
                if test_bit(row, bits, i) {
                    return Ok(false);
                }
                flip_bit(row, bits, i);
                Ok(true)
            }
        }
    }

    /// Takes back a counted hit's place under its limit.
    fn uncount(&self, row: &mut [u64], rule: usize, t: i64) -> Result<(), OutOfReach> {
        let Some(r) = self.rules.get(rule) else {
            return Ok(());
        };
        match r.limit {
            LimitCells::Unlimited => {}
            LimitCells::Count { field, .. } => put(row, field, read(row, field).saturating_sub(1)),
            LimitCells::Buckets { bits, len, period } => {
                let i = self.bucket_index(row, t, len, period)?;
                if test_bit(row, bits, i) {
                    flip_bit(row, bits, i);
                }
            }
        }
        Ok(())
    }

    fn bucket_index(&self, row: &[u64], t: i64, len: u32, period: i64) -> Result<u32, OutOfReach> {
        let anchor = Layout::anchor(row).unwrap_or(t);
        let back = self.bucket(anchor, period) - self.bucket(t, period);
        u32::try_from(back).ok().filter(|i| *i < len).ok_or(OutOfReach)
    }

    /// Adds (`sign` 1) or takes back (`sign` −1) a counted hit's points.
    fn add(&self, row: &mut [u64], rule: usize, t: i64, sign: i64) -> Result<(), OutOfReach> {
        let Some(r) = self.rules.get(rule) else {
            return Ok(());
        };
        match r.sink {
            Sink::Fit | Sink::Windowed => {}
            Sink::Flat { group } => {
                let Some(g) = self.groups.get(group as usize) else {
                    return Ok(());
                };
                let delta = r.milli.saturating_mul(sign);
                if let Some(w) = g.sum {
                    set(row, w, (get(row, w) as i64).saturating_add(delta) as u64);
                }
                if let (Positive::Word(w), true) = (g.positive, r.milli > 0) {
                    set(row, w, (get(row, w) as i64).saturating_add(delta) as u64);
                }
            }
            Sink::Decaying { slot } => {
                let Some(s) = self.slots.get(slot as usize) else {
                    return Ok(());
                };
                let anchor = Layout::anchor(row).unwrap_or(t);
                let back = s.era.index(anchor) - s.era.index(t);
                let back = usize::try_from(back).map_err(|_| OutOfReach)?;
                let mut delta = i128::from(r.milli) * i128::from(s.era.weight(t)) * i128::from(sign);
                if back > s.rems.len() {
                    return Err(OutOfReach);
                }
                for k in (0..back).rev() {
                    if let Some(&f) = s.rems.get(k) {
                        let mut rem = read(row, f) as u8;
                        delta = s.era.carry(delta, &mut rem);
                        put(row, f, u64::from(rem));
                    }
                }
                let acc = get_wide(row, s.acc).saturating_add_signed(delta);
                set_wide(row, s.acc, acc);
            }
        }
        Ok(())
    }

    /// Applies a hit of `rule` at `at`: moves the anchor up to it, checks
    /// its limit and adds its points if it counts. Returns whether it
    /// counted.
    ///
    /// # Errors
    ///
    /// [`OutOfReach`] for a hit earlier than the layout's reach before the
    /// anchor; nothing changed.
    pub(crate) fn apply(&self, row: &mut [u64], rule: usize, at: DateTime<Utc>) -> Result<bool, OutOfReach> {
        let t = at.timestamp();
        self.advance(row, t);
        if !self.count(row, rule, t)? {
            return Ok(false);
        }
        if let Err(e) = self.add(row, rule, t, 1) {
            self.uncount(row, rule, t)?;
            return Err(e);
        }
        Ok(true)
    }

    /// Takes back a hit that [`apply`](Self::apply) counted.
    pub(crate) fn take_back(
        &self,
        row: &mut [u64],
        rule: usize,
        at: DateTime<Utc>,
    ) -> Result<(), OutOfReach> {
        let t = at.timestamp();
        self.add(row, rule, t, -1)?;
        self.uncount(row, rule, t)
    }

    /// Each group's engagement at `now` from the row (flat sums and
    /// decaying accumulators; windowed hits are the caller's), as `(group,
    /// sum, positive part)`. The row must hold no hit after `now`.
    pub(crate) fn parts(&self, row: &[u64], now: DateTime<Utc>, mut add: impl FnMut(usize, i128, i128)) {
        let now = now.timestamp();
        let anchor = Layout::anchor(row);
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(w) = g.sum {
                let sum = get(row, w) as i64;
                let positive = match g.positive {
                    Positive::Sum => sum,
                    Positive::None => 0,
                    Positive::Word(p) => get(row, p) as i64,
                };
                add(i, i128::from(sum), i128::from(positive));
            }
            if let Some(anchor) = anchor {
                for s in g.slots.iter().filter_map(|s| self.slots.get(*s as usize)) {
                    let v = i128::from(self.slot_value(row, s, anchor, now));
                    add(i, v, v);
                }
            }
        }
    }

    /// The decaying accumulator `rule`'s points go to, if any.
    pub(crate) fn slot_of(&self, rule: usize) -> Option<usize> {
        match self.rules.get(rule)?.sink {
            Sink::Decaying { slot } => Some(slot as usize),
            _ => None,
        }
    }

    /// Each decaying accumulator's value at `now`, in milli-points (the
    /// row holding no hit after `now`).
    pub(crate) fn slot_values(&self, row: &[u64], now: DateTime<Utc>) -> Vec<i64> {
        let now = now.timestamp();
        self.slots
            .iter()
            .map(|s| Layout::anchor(row).map_or(0, |a| self.slot_value(row, s, a, now)))
            .collect()
    }

    fn slot_value(&self, row: &[u64], s: &Slot, anchor: i64, now: i64) -> i64 {
        let (ea, en) = (s.era.index(anchor), s.era.index(now));
        let mut acc = get_wide(row, s.acc);
        if en >= ea {
            acc = s.era.fold_n(acc, (en - ea) as u64);
        } else {
            // Back before the anchor's era, which holds nothing after `now`.
            for k in 0..usize::try_from(ea - en).unwrap_or(usize::MAX) {
                let Some(&f) = s.rems.get(k) else { break };
                acc = s.era.unfold(acc, read(row, f) as u8);
            }
        }
        s.era.read(acc, en, now)
    }

    /// What a windowed hit of rule `c` at `at` is worth at `now`, in
    /// milli-points: nothing outside the rule's window or after `now`.
    pub(crate) fn windowed(&self, c: &CRule, at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        if at > now || c.within.is_some_and(|w| now.signed_duration_since(at) > w) {
            return 0;
        }
        self.decayed(c.decay, c.points, at, now).as_milli()
    }

    /// One contribution's points at `now`: `decay` applied to `points` got
    /// at `at`, steps counted at the model's calendar boundaries.
    pub(crate) fn decayed(
        &self,
        decay: Decay,
        points: Points,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Points {
        match decay {
            Decay::Step { every, percent } if every.as_seconds() > 0 => {
                let (a, n) = (
                    self.bucket(at.timestamp(), every.as_seconds()),
                    self.bucket(now.timestamp(), every.as_seconds()),
                );
                Decay::step(Span::seconds(1), percent).apply(points, Span::seconds(n.saturating_sub(a)))
            }
            _ => decay.apply(
                points,
                Span::seconds(now.timestamp().saturating_sub(at.timestamp())),
            ),
        }
    }
}

fn get(row: &[u64], word: u32) -> u64 {
    row.get(word as usize).copied().unwrap_or(0)
}

/// The 128-bit number in words `word` (low) and `word + 1` (high).
fn get_wide(row: &[u64], word: u32) -> u128 {
    u128::from(get(row, word)) | (u128::from(get(row, word + 1)) << 64)
}

fn set_wide(row: &mut [u64], word: u32, v: u128) {
    set(row, word, v as u64);
    set(row, word + 1, (v >> 64) as u64);
}

fn set(row: &mut [u64], word: impl TryInto<usize>, v: u64) {
    if let Some(w) = word.try_into().ok().and_then(|w| row.get_mut(w)) {
        *w = v;
    }
}

fn mask(bits: u8) -> u64 {
    if bits >= 64 { u64::MAX } else { (1 << bits) - 1 }
}

fn read(row: &[u64], f: Field) -> u64 {
    (get(row, f.word) >> f.shift) & mask(f.bits)
}

fn put(row: &mut [u64], f: Field, v: u64) {
    let m = mask(f.bits) << f.shift;
    let w = get(row, f.word);
    set(row, f.word, (w & !m) | ((v << f.shift) & m));
}

fn test_bit(row: &[u64], bits: Bits, i: u32) -> bool {
    match bits {
        Bits::Field(f) => u32::from(f.bits) > i && read(row, f) >> i & 1 == 1,
        Bits::Words { word, len } => i / 64 < len && get(row, word + i / 64) >> (i % 64) & 1 == 1,
    }
}

fn flip_bit(row: &mut [u64], bits: Bits, i: u32) {
    match bits {
        Bits::Field(f) if u32::from(f.bits) > i => put(row, f, read(row, f) ^ (1 << i)),
        Bits::Words { word, len } if i / 64 < len => {
            let w = word + i / 64;
            set(row, w, get(row, w) ^ (1 << (i % 64)));
        }
        _ => {}
    }
}

/// Shifts a bitmap up by `by` (bit `i` becomes bit `i + by`; bits past its
/// length drop).
fn shift_bits(row: &mut [u64], bits: Bits, by: u64) {
    if by == 0 {
        return;
    }
    match bits {
        Bits::Field(f) => {
            let v = read(row, f)
                .checked_shl(u32::try_from(by).unwrap_or(u32::MAX))
                .unwrap_or(0);
            put(row, f, v);
        }
        Bits::Words { word, len } => {
            let (words, bits) = (by / 64, (by % 64) as u32);
            for i in (0..len).rev() {
                let src = u64::from(i).checked_sub(words);
                let hi = src.map_or(0, |s| get(row, word + s as u32));
                let lo = src
                    .and_then(|s| s.checked_sub(1))
                    .map_or(0, |s| get(row, word + s as u32));
                let v = if bits == 0 {
                    hi
                } else {
                    (hi << bits) | (lo >> (64 - bits))
                };
                set(row, word + i, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;
    use crate::id::ModelVersion;
    use crate::scoring::{Group, Rule, ScoringModel};
    use chrono::{Duration, TimeZone};

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hours)
    }

    fn model() -> ScoringModel {
        ScoringModel::builder(ModelVersion::new("t@1").unwrap())
            .rule(
                Rule::event("demo".parse().unwrap(), EventType::DemoRequest, 40)
                    .group("intent".parse().unwrap()),
            )
            .rule(
                Rule::event("page".parse().unwrap(), EventType::PageView, 5)
                    .group("web".parse().unwrap())
                    .once_per(Span::hours(1)),
            )
            .rule(
                Rule::event("ebook".parse().unwrap(), EventType::FormSubmit, 3)
                    .group("web".parse().unwrap())
                    .times(2),
            )
            .rule(
                Rule::event("unsub".parse().unwrap(), EventType::EmailUnsubscribe, -20)
                    .group("web".parse().unwrap())
                    .unlimited(),
            )
            .rule(
                Rule::event("trial".parse().unwrap(), EventType::TrialActivity, 7)
                    .group("intent".parse().unwrap())
                    .unlimited(),
            )
            .group(
                "intent".parse().unwrap(),
                Group::new().decay(Decay::half_life(Span::days(2))),
            )
            .build()
            .unwrap()
    }

    fn total(layout: &Layout, row: &[u64], now: DateTime<Utc>) -> (i128, i128) {
        let mut total = (0, 0);
        layout.parts(row, now, |_, sum, positive| {
            total.0 += sum;
            total.1 += positive;
        });
        total
    }

    #[test]
    fn a_late_hit_inserted_equals_the_in_order_row() {
        let m = model();
        let layout = m.layout_for(Span::days(20)).unwrap();
        // (rule, hour) in canonical order.
        let hits = [
            (0, 1),
            (1, 2),
            (1, 2),
            (2, 3),
            (1, 4),
            (3, 5),
            (2, 30),
            (2, 40),
            (1, 300),
        ];
        let mut in_order = layout.empty();
        let counted: Vec<bool> = hits
            .iter()
            .map(|&(r, h)| layout.apply(&mut in_order, r, at(h)).unwrap())
            .collect();
        assert_eq!(counted, [true, true, false, true, true, true, true, false, true]);
        // The same, with the hit at hour 3 arriving last: take back the
        // later ones, apply it, apply them again.
        let mut late = layout.empty();
        let (early, rest): (Vec<_>, Vec<_>) = hits.iter().enumerate().partition(|(i, _)| *i != 3);
        let mut applied = Vec::new();
        for &(_, &(r, h)) in &early {
            applied.push((r, h, layout.apply(&mut late, r, at(h)).unwrap()));
        }
        let (_, &(r3, h3)) = rest[0];
        for &(r, h, c) in applied.iter().rev().filter(|(_, h, _)| *h > h3) {
            if c {
                layout.take_back(&mut late, r, at(h)).unwrap();
            }
        }
        assert!(layout.apply(&mut late, r3, at(h3)).unwrap());
        for &(r, h, _) in applied.iter().filter(|(_, h, _)| *h > h3) {
            layout.apply(&mut late, r, at(h)).unwrap();
        }
        assert_eq!(late, in_order);
        for now in [at(300), at(400), at(10_000)] {
            assert_eq!(total(&layout, &late, now), total(&layout, &in_order, now));
        }
    }

    #[test]
    fn reading_before_the_anchor_unfolds_exactly() {
        let m = model();
        let layout = m.layout_for(Span::days(30)).unwrap();
        let mut row = layout.empty();
        layout.apply(&mut row, 0, at(1)).unwrap();
        layout.apply(&mut row, 4, at(2)).unwrap();
        let before = total(&layout, &row, at(200));
        // A later hit in a later era, taken back: reading at 200h is
        // reading before the anchor's era.
        assert!(layout.apply(&mut row, 4, at(30 * 24)).unwrap());
        layout.take_back(&mut row, 4, at(30 * 24)).unwrap();
        assert_eq!(total(&layout, &row, at(200)), before);
    }

    #[test]
    fn hits_beyond_the_reach_are_refused() {
        let m = model();
        let layout = m.layout_for(Span::hours(3)).unwrap();
        let mut row = layout.empty();
        layout.apply(&mut row, 1, at(100)).unwrap();
        assert_eq!(layout.apply(&mut row, 1, at(10)), Err(OutOfReach));
        assert!(layout.apply(&mut row, 1, at(98)).unwrap());
    }

    #[test]
    fn long_bitmaps_shift_across_words() {
        let mut row = vec![0u64; 3];
        let bits = Bits::Words { word: 0, len: 3 };
        flip_bit(&mut row, bits, 0);
        flip_bit(&mut row, bits, 63);
        shift_bits(&mut row, bits, 65);
        assert!(test_bit(&row, bits, 65) && test_bit(&row, bits, 128));
        assert_eq!(row.iter().map(|w| w.count_ones()).sum::<u32>(), 2);
        shift_bits(&mut row, bits, 200);
        assert_eq!(row, [0, 0, 0]);
    }
}
