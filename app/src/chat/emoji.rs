//! The composer's emoji picker: the emoji it offers, each with a name (read out, and
//! what the picker's filter matches), and where a picked one goes in the text (at the
//! caret, replacing a selection). Pure logic, no I/O.

/// The emoji offered, with their names.
pub const EMOJI: &[(&str, &str)] = &[
    ("😀", "grinning"),
    ("😂", "tears of joy"),
    ("🙂", "smile"),
    ("😉", "wink"),
    ("😍", "heart eyes"),
    ("🤔", "thinking"),
    ("😅", "sweat smile"),
    ("😎", "cool"),
    ("😢", "crying"),
    ("😮", "surprised"),
    ("😴", "sleeping"),
    ("🙃", "upside down"),
    ("👍", "thumbs up"),
    ("👎", "thumbs down"),
    ("👏", "clap"),
    ("🙌", "raised hands"),
    ("🙏", "thanks"),
    ("👋", "wave"),
    ("💪", "strong"),
    ("👀", "eyes"),
    ("❤️", "heart"),
    ("🔥", "fire"),
    ("🎉", "party"),
    ("✨", "sparkles"),
    ("✅", "done"),
    ("❌", "no"),
    ("⚠️", "warning"),
    ("💡", "idea"),
    ("🚀", "rocket"),
    ("🐛", "bug"),
    ("📌", "pin"),
    ("📎", "paperclip"),
    ("☕", "coffee"),
    ("🍕", "pizza"),
    ("🎂", "cake"),
    ("⏰", "alarm clock"),
    ("📅", "calendar"),
    ("💯", "hundred"),
    ("➕", "plus"),
    ("❓", "question"),
];

/// The emoji whose name has a word starting with `query` (any case); all for an empty one.
pub fn matching(query: &str) -> Vec<(&'static str, &'static str)> {
    let q = query.trim().to_lowercase();
    EMOJI
        .iter()
        .copied()
        .filter(|(_, name)| q.is_empty() || name.split(' ').any(|w| w.starts_with(&q)))
        .collect()
}

/// `text` with `emoji` in place of bytes `start..end` (the caret, or a selection), and
/// the byte offset just after it (where the caret goes).
pub fn insert(text: &str, start: usize, end: usize, emoji: &str) -> (String, usize) {
    let start = floor_boundary(text, start.min(text.len()));
    let end = floor_boundary(text, end.clamp(start, text.len()));
    let mut out = String::with_capacity(text.len() + emoji.len());
    out.push_str(&text[..start]);
    out.push_str(emoji);
    out.push_str(&text[end..]);
    (out, start + emoji.len())
}

/// The largest char boundary of `text` at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_emoji_is_one_a_reaction_may_carry() {
        for (e, name) in EMOJI {
            assert!(protocol::names::Emoji::parse(e).is_ok(), "{e} ({name})");
            assert!(!name.is_empty());
        }
    }

    #[test]
    fn the_filter_matches_the_start_of_any_word_of_a_name() {
        assert_eq!(
            matching("thu"),
            vec![("👍", "thumbs up"), ("👎", "thumbs down")]
        );
        assert_eq!(
            matching("UP"),
            vec![("🙃", "upside down"), ("👍", "thumbs up")]
        );
        assert_eq!(matching("").len(), EMOJI.len());
        assert!(matching("zzz").is_empty());
    }

    #[test]
    fn a_picked_emoji_goes_at_the_caret_or_over_the_selection() {
        assert_eq!(
            insert("ab", 1, 1, "🎉"),
            ("a🎉b".to_string(), 1 + "🎉".len())
        );
        assert_eq!(
            insert("hello world", 6, 11, "🌍"),
            ("hello 🌍".to_string(), 6 + "🌍".len())
        );
        assert_eq!(insert("", 0, 0, "👍"), ("👍".to_string(), "👍".len()));
        // Offsets past the end or inside a character are brought back to a boundary.
        assert_eq!(insert("é", 1, 9, "x"), ("x".to_string(), 1));
        assert_eq!(insert("a", 5, 5, "x"), ("ax".to_string(), 2));
    }
}
