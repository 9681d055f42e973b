//! The words of verdicts: how windows, counts and texts are written.

use std::fmt;

use crate::span::Span;

/// ` within 7d`, or nothing without a window.
pub(super) struct Within(pub(super) Option<Span>);

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(w) => write!(f, " within {w}"),
            None => Ok(()),
        }
    }
}

/// How many times: `never`, `once`, `3 times`.
pub(super) struct Times(pub(super) usize);

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("never"),
            1 => f.write_str("once"),
            n => write!(f, "{n} times"),
        }
    }
}

/// A verdict's text, written into a buffer of `room` bytes to start with,
/// a power of two no larger than the text usually needs. `format!` starts
/// from twice the literal parts (from nothing when the text starts with an
/// argument) and doubles, so a text grew its buffer up to four times; from
/// `room` it grows at most once, to about the capacity it had before
/// (texts keep their slack in the transition records: `room` is not
/// larger, so that memory stays as it was).
pub(super) fn text(room: usize, args: fmt::Arguments<'_>) -> String {
    let mut s = String::with_capacity(room);
    // Writing fails only if a `Display` does; the text is then what was
    // written before.
    let _ = fmt::write(&mut s, args);
    s
}
