//! What a screen reader hears of the open room: new messages from others, said politely
//! and never as a flood.
//!
//! The message list is not itself a live region: it also changes when older pages load,
//! when a resume refills it, on edits, deletes and reactions, and a reader would hear all
//! of that. Instead the page keeps one polite status line, and this module decides what
//! it says:
//! - a message from someone else, arriving live in the open room, after a quiet moment:
//!   said at once ("Ada: the build is green");
//! - more messages within [`QUIET_MS`] of the last thing said: gathered, then said once
//!   when the room has been quiet for that long ("12 new messages, the latest from Ada: …");
//! - one's own messages, presence, typing, receipts, edits and history: never.
//!
//! What was said is cleared from the line after [`HOLD_MS`]: a screen reader has read it
//! by then, and a message deleted later should not linger in the page.
//!
//! Pure; the browser side calls [`Announcer::arrive`] as messages apply and
//! [`Announcer::due`] on its housekeeping tick, and writes what they return into the
//! status line.

/// How long the room must be quiet before gathered messages are said, and the least time
/// between two things said.
pub const QUIET_MS: f64 = 1_500.0;
/// How long what was said stays in the status line.
pub const HOLD_MS: f64 = 5_000.0;
/// The longest body said; longer ones are cut at a word with "…".
pub const MAX_SAID_CHARS: usize = 160;

#[derive(Debug, Default, Clone)]
pub struct Announcer {
    /// When something was last said, if ever.
    last_said_ms: Option<f64>,
    /// When the latest gathered message arrived.
    last_arrival_ms: f64,
    /// Messages gathered since the last thing said, and the latest of them.
    gathered: u32,
    latest: Option<(String, String)>,
    /// Whether the status line holds what was last said.
    showing: bool,
}

impl Announcer {
    /// A message from `author` arrived live in the open room at `now_ms`. Returns what to
    /// say now, if the room was quiet; otherwise the message is gathered for [`due`].
    ///
    /// [`due`]: Announcer::due
    pub fn arrive(&mut self, author: &str, body: &str, now_ms: f64) -> Option<String> {
        let quiet = self
            .last_said_ms
            .is_none_or(|said| now_ms - said >= QUIET_MS);
        if quiet && self.gathered == 0 {
            self.last_said_ms = Some(now_ms);
            self.showing = true;
            return Some(one(author, body));
        }
        self.gathered += 1;
        self.last_arrival_ms = now_ms;
        self.latest = Some((author.to_owned(), body.to_owned()));
        None
    }

    /// What to say at `now_ms` of what was gathered, once the room has been quiet for
    /// [`QUIET_MS`] since the last arrival and since the last thing said.
    pub fn due(&mut self, now_ms: f64) -> Option<String> {
        if self.gathered == 0
            || now_ms - self.last_arrival_ms < QUIET_MS
            || self.last_said_ms.is_some_and(|s| now_ms - s < QUIET_MS)
        {
            return None;
        }
        let (author, body) = self.latest.take()?;
        let n = std::mem::take(&mut self.gathered);
        self.last_said_ms = Some(now_ms);
        self.showing = true;
        Some(if n == 1 {
            one(&author, &body)
        } else {
            format!("{n} new messages, the latest from {}", one(&author, &body))
        })
    }

    /// Whether the status line should be emptied at `now_ms` (once, [`HOLD_MS`] after
    /// the last thing said).
    pub fn clear_due(&mut self, now_ms: f64) -> bool {
        let due = self.showing && self.last_said_ms.is_some_and(|s| now_ms - s >= HOLD_MS);
        if due {
            self.showing = false;
        }
        due
    }

    /// Forgets what was gathered (the reader switched rooms: old news of another room
    /// is not said in this one).
    pub fn clear(&mut self) {
        self.gathered = 0;
        self.latest = None;
    }
}

fn one(author: &str, body: &str) -> String {
    format!("{author}: {}", cut(body.trim()))
}

/// `body` on one line, at most [`MAX_SAID_CHARS`] characters, cut at a word.
fn cut(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_SAID_CHARS {
        return flat;
    }
    let head: String = flat.chars().take(MAX_SAID_CHARS).collect();
    let at_word = head.rfind(' ').filter(|&i| i > MAX_SAID_CHARS / 2);
    format!("{}…", &head[..at_word.unwrap_or(head.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_after_quiet_is_said_at_once() {
        let mut a = Announcer::default();
        assert_eq!(a.arrive("Ada", "hello", 0.0).as_deref(), Some("Ada: hello"));
        assert_eq!(a.due(10_000.0), None, "nothing left to say");
        assert_eq!(
            a.arrive("Bo", "later", 5_000.0).as_deref(),
            Some("Bo: later")
        );
    }

    #[test]
    fn a_burst_is_said_once_when_the_room_quiets() {
        let mut a = Announcer::default();
        assert!(a.arrive("Ada", "first", 0.0).is_some());
        for i in 0..2_000 {
            let t = 1.0 + f64::from(i) * 0.5;
            assert_eq!(a.arrive("Bo", &format!("m{i}"), t), None);
            assert_eq!(a.due(t), None, "still arriving");
        }
        let last = 1.0 + 1_999.0 * 0.5;
        assert_eq!(a.due(last + QUIET_MS - 1.0), None);
        assert_eq!(
            a.due(last + QUIET_MS).as_deref(),
            Some("2000 new messages, the latest from Bo: m1999")
        );
        assert_eq!(a.due(last + 10_000.0), None, "said once");
    }

    #[test]
    fn a_single_gathered_message_reads_like_one() {
        let mut a = Announcer::default();
        assert!(a.arrive("Ada", "one", 0.0).is_some());
        assert_eq!(a.arrive("Bo", "two", 100.0), None);
        assert_eq!(a.due(2_000.0).as_deref(), Some("Bo: two"));
    }

    #[test]
    fn nothing_is_said_closer_than_the_quiet_time() {
        let mut a = Announcer::default();
        assert!(a.arrive("Ada", "one", 0.0).is_some());
        // Arrived after the quiet time, but something is still gathered: it joins them.
        assert_eq!(a.arrive("Bo", "two", 100.0), None);
        assert_eq!(a.arrive("Cy", "three", 1_600.0), None);
        assert_eq!(a.due(1_700.0), None, "the room is not quiet yet");
        assert_eq!(
            a.due(3_100.0).as_deref(),
            Some("2 new messages, the latest from Cy: three")
        );
    }

    #[test]
    fn what_was_said_is_cleared_once_after_the_hold() {
        let mut a = Announcer::default();
        assert!(!a.clear_due(0.0), "nothing said yet");
        assert!(a.arrive("Ada", "one", 0.0).is_some());
        assert!(!a.clear_due(HOLD_MS - 1.0));
        assert!(a.clear_due(HOLD_MS));
        assert!(!a.clear_due(HOLD_MS + 2_000.0), "once");
        // A burst said later is held from when it was said.
        assert!(a.arrive("Bo", "two", 10_000.0).is_some());
        assert_eq!(a.arrive("Cy", "three", 10_100.0), None);
        assert!(a.due(12_000.0).is_some());
        assert!(!a.clear_due(12_000.0 + HOLD_MS - 1.0));
        assert!(a.clear_due(12_000.0 + HOLD_MS));
    }

    #[test]
    fn switching_rooms_forgets_the_gathered() {
        let mut a = Announcer::default();
        assert!(a.arrive("Ada", "one", 0.0).is_some());
        assert_eq!(a.arrive("Bo", "two", 100.0), None);
        a.clear();
        assert_eq!(a.due(5_000.0), None);
    }

    #[test]
    fn long_bodies_are_cut_at_a_word_and_flattened() {
        let long = "word ".repeat(100);
        let said = one("Ada", &long);
        assert!(said.ends_with('…'), "{said}");
        assert!(said.chars().count() <= "Ada: ".len() + MAX_SAID_CHARS + 1);
        assert!(!said.contains("  "));
        assert_eq!(one("Ada", "two\nlines"), "Ada: two lines");
        let unbroken = "x".repeat(400);
        assert_eq!(cut(&unbroken).chars().count(), MAX_SAID_CHARS + 1);
    }
}
