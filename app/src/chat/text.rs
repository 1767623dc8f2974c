//! Small pure helpers for what the chat shows as text: the typing line, where a bare
//! link inside a message ends, and times. (Message formatting is in
//! [`crate::chat::format`]; only `http(s)` links ever become anchors.)

/// "ana is typing…", "ana and bo are typing…", "several people are typing…".
pub fn typing_line(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        _ => Some("several people are typing…".to_string()),
    }
}

/// The length of the `http://` or `https://` link at the start of `tail`, if one starts
/// there. A link ends at whitespace; trailing punctuation that usually closes a sentence
/// is left out of it; a scheme with nothing after it is no link.
pub fn link_len(tail: &str) -> Option<usize> {
    if !(tail.starts_with("http://") || tail.starts_with("https://")) {
        return None;
    }
    let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
    let mut link = &tail[..end];
    while let Some(last) = link.chars().last() {
        if matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '"' | '\''
        ) {
            link = &link[..link.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    (!link.ends_with("://")).then_some(link.len())
}

/// "14:05" from Unix milliseconds and the browser's offset from UTC in minutes.
pub fn clock(unix_ms: i64, utc_offset_min: i64) -> String {
    let minutes = (unix_ms / 60_000 + utc_offset_min).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_line_names_one_or_two_then_summarises() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_line(&n(&[])), None);
        assert_eq!(typing_line(&n(&["ana"])).unwrap(), "ana is typing…");
        assert_eq!(
            typing_line(&n(&["ana", "bo"])).unwrap(),
            "ana and bo are typing…"
        );
        assert_eq!(
            typing_line(&n(&["ana", "bo", "cy"])).unwrap(),
            "several people are typing…"
        );
    }

    #[test]
    fn links_end_at_white_space_without_trailing_punctuation() {
        assert_eq!(link_len("https://example.com/a?b=1, ok"), Some(25));
        assert_eq!(link_len("http://a.b) and"), Some(10));
        assert_eq!(link_len("http://a.b/c.\nnext"), Some(12));
        assert_eq!(link_len("http://"), None);
        assert_eq!(link_len("https://."), None);
        assert_eq!(link_len("plain"), None);
        assert_eq!(link_len(" https://a.b"), None);
    }

    #[test]
    fn other_schemes_are_no_links() {
        assert_eq!(link_len("javascript:alert(1)"), None);
        assert_eq!(link_len("ftp://a.b"), None);
        assert_eq!(link_len("HTTP://a.b"), None);
    }

    #[test]
    fn clock_applies_the_offset_and_wraps() {
        assert_eq!(clock(0, 0), "00:00");
        assert_eq!(clock(3_600_000 + 5 * 60_000, 60), "02:05");
        assert_eq!(clock(0, -30), "23:30");
    }
}
