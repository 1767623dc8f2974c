//! Small pure helpers for what the chat shows as text: the typing line, links inside a
//! message, and times. Message text is always rendered as text nodes; only `http(s)`
//! links become anchors, and their text is the link itself.

/// "ana is typing…", "ana and bo are typing…", "several people are typing…".
pub fn typing_line(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        _ => Some("several people are typing…".to_string()),
    }
}

/// A piece of a message: plain text, or a link to show as an anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Link(String),
}

/// Splits a message into text and `http://` / `https://` links. A link ends at
/// whitespace; trailing punctuation that usually closes a sentence is left out of it.
pub fn pieces(body: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = body;
    while let Some(start) = find_link_start(rest) {
        text.push_str(&rest[..start]);
        let tail = &rest[start..];
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
        let scheme_only = link.ends_with("://");
        if scheme_only {
            text.push_str(link);
        } else {
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(Piece::Link(link.to_string()));
        }
        rest = &tail[link.len()..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

fn find_link_start(s: &str) -> Option<usize> {
    let http = s.find("http://");
    let https = s.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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
    fn links_are_cut_out_of_text_without_trailing_punctuation() {
        assert_eq!(
            pieces("see https://example.com/a?b=1, ok"),
            vec![
                Piece::Text("see ".into()),
                Piece::Link("https://example.com/a?b=1".into()),
                Piece::Text(", ok".into()),
            ]
        );
        assert_eq!(pieces("plain"), vec![Piece::Text("plain".into())]);
        assert_eq!(pieces("http://"), vec![Piece::Text("http://".into())]);
        assert_eq!(
            pieces("(http://a.b) and http://c.d"),
            vec![
                Piece::Text("(".into()),
                Piece::Link("http://a.b".into()),
                Piece::Text(") and ".into()),
                Piece::Link("http://c.d".into()),
            ]
        );
    }

    #[test]
    fn other_schemes_stay_text() {
        assert_eq!(
            pieces("javascript:alert(1) <img src=x>"),
            vec![Piece::Text("javascript:alert(1) <img src=x>".into())]
        );
    }

    #[test]
    fn clock_applies_the_offset_and_wraps() {
        assert_eq!(clock(0, 0), "00:00");
        assert_eq!(clock(3_600_000 + 5 * 60_000, 60), "02:05");
        assert_eq!(clock(0, -30), "23:30");
    }
}
