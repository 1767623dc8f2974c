//! Mention autocomplete in the composer: finding the `@prefix` being typed at the caret,
//! the members it could name, and the text after one is picked. Pure logic; the composer
//! shows the list and handles the keys.

use protocol::UserView;
use protocol::mentions::{self, EVERYONE};

/// Most suggestions shown at once.
pub const SUGGESTIONS_MAX: usize = 8;

/// The mention being typed: where its `@` is (a byte offset) and what follows it up to
/// the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub at: usize,
    pub prefix: String,
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What goes after the `@`.
    pub handle: String,
    /// What the list shows beside it.
    pub label: String,
}

/// The mention being typed when the caret is at byte `caret` of `text`, if any: an `@`
/// that could start a mention, followed only by handle characters up to the caret.
pub fn typed(text: &str, caret: usize) -> Option<Typed> {
    let before = text.get(..caret)?;
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .filter(|&i| before[i..].starts_with('@'))?;
    let prefix = &before[start + 1..];
    // An `@` alone is the start of one; otherwise it must read as a mention already.
    let starts = prefix.is_empty() || mentions::at(text, start).is_some();
    let preceded_ok = before[..start]
        .chars()
        .next_back()
        .is_none_or(|c| mentions::at(&format!("{c}@x"), c.len_utf8()).is_some());
    (starts && preceded_ok).then(|| Typed {
        at: start,
        prefix: prefix.to_ascii_lowercase(),
    })
}

/// The members `prefix` could name: those whose handle starts with it, then those with a
/// word of their name that does, by handle; `@room` when it fits. Never `me`.
pub fn suggestions(prefix: &str, members: &[UserView], me: Option<&str>) -> Vec<Suggestion> {
    let prefix = prefix.to_lowercase();
    let name_fits = |u: &UserView| {
        u.name
            .split_whitespace()
            .any(|w| w.to_lowercase().starts_with(&prefix))
    };
    let mut by_handle: Vec<&UserView> = Vec::new();
    let mut by_name: Vec<&UserView> = Vec::new();
    for u in members {
        if Some(u.handle.as_str()) == me || by_handle.iter().chain(&by_name).any(|k| k.id == u.id) {
            continue;
        }
        if u.handle.starts_with(&prefix) {
            by_handle.push(u);
        } else if name_fits(u) {
            by_name.push(u);
        }
    }
    by_handle.sort_by(|a, b| a.handle.cmp(&b.handle));
    by_name.sort_by(|a, b| a.handle.cmp(&b.handle));
    let mut out: Vec<Suggestion> = by_handle
        .into_iter()
        .chain(by_name)
        .map(|u| Suggestion {
            handle: u.handle.clone(),
            label: u.name.clone(),
        })
        .collect();
    if EVERYONE.starts_with(&prefix) {
        let everyone = Suggestion {
            handle: EVERYONE.to_string(),
            label: "Everyone in the room".to_string(),
        };
        // Exactly `@room` typed: it goes first; otherwise after the people.
        let at = if prefix == EVERYONE { 0 } else { out.len() };
        out.insert(at.min(out.len()), everyone);
    }
    out.truncate(SUGGESTIONS_MAX);
    out
}

/// `text` with the mention being typed replaced by `@handle ` (a space after, unless one
/// is already there), and the caret just after it.
pub fn complete(text: &str, typed: &Typed, caret: usize, handle: &str) -> (String, usize) {
    let rest = &text[caret..];
    // The rest of a word the caret was inside of goes too.
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(rest.len());
    let rest = &rest[word_end..];
    let space = if rest.starts_with(' ') { "" } else { " " };
    let inserted = format!("@{handle}{space}");
    let caret = typed.at + inserted.len() + usize::from(space.is_empty());
    (format!("{}{inserted}{rest}", &text[..typed.at]), caret)
}

/// The byte offset in `text` of the UTF-16 offset `units` (what a browser's selection
/// gives), clamped to the text.
pub fn byte_offset(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    text.len()
}

/// The UTF-16 offset of byte offset `bytes` of `text` (to place the browser's caret).
pub fn utf16_offset(text: &str, bytes: usize) -> usize {
    text[..bytes.min(text.len())].encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::UserId;
    use uuid::Uuid;

    fn user(n: u128, handle: &str, name: &str) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: handle.into(),
            name: name.into(),
            avatar: None,
        }
    }

    fn handles(list: &[Suggestion]) -> Vec<&str> {
        list.iter().map(|s| s.handle.as_str()).collect()
    }

    #[test]
    fn finds_the_mention_being_typed() {
        assert_eq!(
            typed("hi @bo", 6),
            Some(Typed {
                at: 3,
                prefix: "bo".into()
            })
        );
        assert_eq!(
            typed("@", 1),
            Some(Typed {
                at: 0,
                prefix: String::new()
            })
        );
        assert_eq!(
            typed("(@An", 4),
            Some(Typed {
                at: 1,
                prefix: "an".into()
            })
        );
        // The caret decides: here it is before the `@`.
        assert_eq!(typed("hi @bo", 2), None);
        assert_eq!(typed("mail bob@exa", 12), None);
        assert_eq!(typed("hi @bo there", 12), None);
        assert_eq!(typed("hi @_x", 6), None);
        assert_eq!(typed("née @é", "née @é".len()), None);
    }

    #[test]
    fn suggests_members_by_handle_then_name_never_oneself() {
        let members = [
            user(1, "bob", "Bob Stone"),
            user(2, "ann", "Ann Bobbins"),
            user(3, "bobby", "Robert"),
            user(4, "me", "Me Bob"),
        ];
        assert_eq!(
            handles(&suggestions("bo", &members, Some("me"))),
            ["bob", "bobby", "ann"]
        );
        assert_eq!(
            handles(&suggestions("", &members, Some("me"))),
            ["ann", "bob", "bobby", "room"]
        );
        assert_eq!(
            handles(&suggestions("ro", &members, None)),
            ["bobby", "room"]
        );
        assert_eq!(handles(&suggestions("room", &members, None))[0], "room");
        assert!(suggestions("zz", &members, None).is_empty());
    }

    #[test]
    fn a_long_list_is_cut() {
        let members: Vec<UserView> = (0..20).map(|n| user(n, &format!("u{n:02}"), "U")).collect();
        assert_eq!(suggestions("u", &members, None).len(), SUGGESTIONS_MAX);
    }

    #[test]
    fn caret_offsets_convert_between_utf16_and_bytes() {
        let s = "né 😀 @bo";
        let caret16 = s.encode_utf16().count();
        assert_eq!(byte_offset(s, caret16), s.len());
        assert_eq!(byte_offset(s, 2), "né".len());
        assert_eq!(utf16_offset(s, s.len()), caret16);
        assert_eq!(typed(s, byte_offset(s, caret16)).unwrap().prefix, "bo");
    }

    #[test]
    fn picking_replaces_the_typed_prefix() {
        let t = typed("hi @bo", 6).unwrap();
        assert_eq!(
            complete("hi @bo", &t, 6, "bobby"),
            ("hi @bobby ".into(), 10)
        );
        let t = typed("hi @bo how", 5).unwrap();
        assert_eq!(
            complete("hi @bo how", &t, 5, "bob"),
            ("hi @bob how".into(), 8)
        );
    }
}
