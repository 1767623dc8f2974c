//! Reading frames on the hot path without parsing them: an `event`'s seq, whether it is
//! a new message and the send time written in its body, and a frame's type.

use protocol::ids::Seq;

/// What the generator needs of an `event` frame.
#[derive(Debug, PartialEq, Eq)]
pub struct ScannedEvent {
    pub seq: Seq,
    /// A new message (not an edit or a delete).
    pub message: bool,
    /// The send time a generator wrote into the body (`lg <unix nanos>`).
    pub sent_nanos: Option<u64>,
}

/// Reads an `event` frame by scanning for its fields instead of parsing it: the server
/// writes `type` first and the event's own `seq` before the message's, and a body the
/// generator wrote is `lg <digits>`, so nothing in user text can be mistaken for them.
/// Anything else (or any surprise) is `None`, and the caller parses properly.
pub fn scan_event(text: &str) -> Option<ScannedEvent> {
    let rest = text.strip_prefix("{\"type\":\"event\"")?;
    let seq = digits_after(rest, "\"seq\":")?;
    let message = rest.contains("\"kind\":\"message\"");
    let sent_nanos = digits_after(rest, "\"body\":\"lg ");
    Some(ScannedEvent {
        seq,
        message,
        sent_nanos,
    })
}

/// Whether an encoded frame is of type `t` (the server writes `type` first).
pub(super) fn has_type(text: &str, t: &str) -> bool {
    text.strip_prefix("{\"type\":\"")
        .and_then(|rest| rest.strip_prefix(t))
        .is_some_and(|rest| rest.starts_with('"'))
}

fn digits_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}
