//! Byte-level mutation of a valid input: the shapes of error real inputs
//! have (a flipped bit, a cut, a repeated or misplaced piece, a typo'd
//! field, a number at an edge).

use leadflow::tuning::SplitMix64;

/// Tokens worth inserting: syntax, edge numbers and times, near-miss names.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\\",
    "\n",
    "null",
    "true",
    "-",
    "0",
    "-1",
    "1e999",
    "-0.0",
    "9223372036854775807",
    "18446744073709551616",
    "1.7976931348623157e308",
    "\"\"",
    "[]",
    "{}",
    "\"262142-01-01T00:00:00Z\"",
    "\"1677-01-01T00:00:00Z\"",
    "\"9999y\"",
    "\"0s\"",
    "\"limt\"",
    "\"capp\"",
    "\"type\"",
    "\"id\"",
    "\"at\"",
    "\"not\"",
    "\"all\"",
    "\"of\"",
    "\u{ff}",
    "\u{0}",
];

/// Applies 1 to 4 mutations to `input`.
pub(crate) fn mutate(rng: &mut SplitMix64, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len() as u64;
        let at = if len == 0 { 0 } else { rng.below(len) as usize };
        match rng.below(7) {
            0 if len > 0 => input[at] ^= 1 << rng.below(8),
            1 if len > 0 => input[at] = TOKENS[rng.below(TOKENS.len() as u64) as usize].as_bytes()[0],
            2 if len > 0 => {
                let n = (1 + rng.below(8) as usize).min(input.len() - at);
                input.drain(at..at + n);
            }
            3 if len > 0 => {
                let n = (1 + rng.below(16) as usize).min(input.len() - at);
                let piece: Vec<u8> = input[at..at + n].to_vec();
                let to = rng.below(len + 1) as usize;
                input.splice(to..to, piece);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                input.splice(at..at, token.bytes());
            }
            5 if len > 0 => {
                // Replace a digit run's first digit: numbers at other scales.
                if let Some(d) = input[at..].iter().position(u8::is_ascii_digit) {
                    input[at + d] = b'0' + rng.below(10) as u8;
                    if rng.below(2) == 0 {
                        input.splice(at + d..at + d, *b"99999");
                    }
                }
            }
            _ if len > 0 => {
                // Cut the tail.
                input.truncate(at);
            }
            _ => input.extend(TOKENS[rng.below(TOKENS.len() as u64) as usize].bytes()),
        }
    }
}
