//! Mentions: who a message body calls out. `@handle` names one user and `@room` everyone
//! in the room. The server counts mentions for unread badges and notices from
//! [`scan`], and the browser highlights the same spans with [`at`], so both read a body
//! one way.
//!
//! # The rule
//! - `@` followed by a handle's characters (`a-z 0-9 _ . -`, any case, starting with a
//!   letter or digit); trailing `.`, `-` and `_` end the mention (`thanks @bob.` names
//!   `bob`). Longer than a handle can be, it names no one.
//! - The `@` starts the text, or follows white space or one of `( [ { " ' * _ ~ < , ;`,
//!   so an e-mail address (`bob@example.com`) or a path (`/@bob`) is not a mention.
//! - Nothing inside code (a fenced block or a code span) or a bare `http(s)://` link is
//!   a mention.

pub use crate::handles::EVERYONE;
use crate::handles::HANDLE_CHARS;

/// Most different handles one message mentions; later ones are not counted.
pub const MENTIONS_MAX: usize = 50;

/// Who a body mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// `@room` appears.
    pub everyone: bool,
    /// The handles named, lower case, in order of first mention, without repeats (and
    /// without `room`).
    pub handles: Vec<String>,
}

impl Mentions {
    /// Whether the body calls out the user with `handle` (directly or by `@room`).
    pub fn includes(&self, handle: &str) -> bool {
        self.everyone || self.handles.iter().any(|h| h.eq_ignore_ascii_case(handle))
    }

    /// Whether the body mentions anyone.
    pub fn is_empty(&self) -> bool {
        !self.everyone && self.handles.is_empty()
    }
}

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn may_precede(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | '[' | '{' | '"' | '\'' | '*' | '_' | '~' | '<' | ',' | ';'
        )
}

/// A mention starting at byte `i` of `s`: its end (exclusive) and the handle it names,
/// lower case. `s[..i]` is what precedes it in the same piece of text.
pub fn at(s: &str, i: usize) -> Option<(usize, String)> {
    let rest = s.get(i..)?;
    let name = rest.strip_prefix('@')?;
    if s[..i].chars().next_back().is_some_and(|c| !may_precede(c)) {
        return None;
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let run = name
        .find(|c: char| !is_handle_char(c))
        .unwrap_or(name.len());
    let handle = name[..run].trim_end_matches(['.', '-', '_']);
    if handle.len() > HANDLE_CHARS.1 {
        return None;
    }
    Some((i + 1 + handle.len(), handle.to_ascii_lowercase()))
}

/// Everyone `body` mentions, skipping code and bare links as the formatter does.
pub fn scan(body: &str) -> Mentions {
    let mut found = Mentions::default();
    let mut rest = body;
    // Fenced blocks first, as the formatter splits on them before anything else.
    loop {
        let (text, next) = match rest.find("```") {
            Some(open) => match rest[open + 3..].find("```") {
                Some(close) => {
                    let after = &rest[open + 3 + close + 3..];
                    (
                        &rest[..open],
                        Some(after.strip_prefix('\n').unwrap_or(after)),
                    )
                }
                None => (rest, None),
            },
            None => (rest, None),
        };
        scan_inline(text, &mut found);
        match next {
            Some(after) => rest = after,
            None => break,
        }
    }
    found
}

/// The mentions of one piece of text between code blocks.
fn scan_inline(s: &str, found: &mut Mentions) {
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('`')
            && let Some(end) = code_span_end(s, i)
        {
            i = end;
            continue;
        }
        if rest.starts_with("http://") || rest.starts_with("https://") {
            i += rest.find(char::is_whitespace).unwrap_or(rest.len());
            continue;
        }
        if let Some((end, handle)) = at(s, i) {
            if handle == EVERYONE {
                found.everyone = true;
            } else if !found.handles.contains(&handle) && found.handles.len() < MENTIONS_MAX {
                found.handles.push(handle);
            }
            i = end;
            continue;
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
}

/// The end of a code span opening at `at` (up to the next backtick on the same line, not
/// empty), as the formatter reads one.
fn code_span_end(s: &str, at: usize) -> Option<usize> {
    let inner = at + 1;
    let close = inner + s[inner..].find(['`', '\n'])?;
    (s[close..].starts_with('`') && close > inner).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handles(body: &str) -> Vec<String> {
        scan(body).handles
    }

    #[test]
    fn names_handles_in_order_without_repeats() {
        assert_eq!(handles("@bob and @Alice, then @bob"), ["bob", "alice"]);
        assert_eq!(handles("(@ann) [@b.c-d] \"@e_f\""), ["ann", "b.c-d", "e_f"]);
    }

    #[test]
    fn trailing_punctuation_ends_a_mention() {
        assert_eq!(handles("thanks @bob. Also @carol-!"), ["bob", "carol"]);
    }

    #[test]
    fn addresses_paths_and_lone_signs_are_not_mentions() {
        assert!(scan("mail bob@example.com or x/@bob or @ or @@bob or @_x").is_empty());
        let long = format!("@{}", "a".repeat(HANDLE_CHARS.1 + 1));
        assert!(scan(&long).is_empty());
    }

    #[test]
    fn room_means_everyone() {
        let m = scan("heads up @room");
        assert!(m.everyone && m.handles.is_empty());
        assert!(m.includes("anyone"));
        assert!(!scan("@roomy").everyone);
        assert_eq!(handles("@roomy"), ["roomy"]);
    }

    #[test]
    fn code_and_links_hide_mentions() {
        assert!(scan("`@bob` and ```\n@carol\n``` and https://x.org/@dan").is_empty());
        assert_eq!(handles("```\ncode\n```\n@bob"), ["bob"]);
        // An unclosed backtick or fence is literal, as the formatter reads it.
        assert_eq!(handles("` @bob"), ["bob"]);
        assert_eq!(handles("``` @bob"), ["bob"]);
    }

    #[test]
    fn includes_ignores_case_and_counts_a_bounded_list() {
        assert!(scan("hi @Bob").includes("bob"));
        assert!(!scan("hi @bobby").includes("bob"));
        let many: String = (0..MENTIONS_MAX + 5).map(|n| format!("@u{n} ")).collect();
        assert_eq!(handles(&many).len(), MENTIONS_MAX);
    }
}
