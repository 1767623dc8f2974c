//! A file's name: cleaned when it is uploaded (no path, no control characters, bounded),
//! and written into `Content-Disposition` when it is served, encoded as RFC 6266 and
//! RFC 8187 say (`filename*=UTF-8''…`, with a plain ASCII `filename` beside it for old
//! clients), so a name can never break out of the header.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Most characters a file name keeps.
pub const NAME_MAX_CHARS: usize = 200;

/// Bytes RFC 8187's `attr-char` allows unencoded: letters, digits and `!#$&+-.^_`|~`.
const ATTR_CHAR_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The name to store for an upload named `raw`: its last path component, without control
/// characters, trimmed, at most [`NAME_MAX_CHARS`]; `"file"` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_MAX_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed.to_string()
    }
}

/// The `Content-Disposition` value serving `name` as an attachment (`inline: false`) or
/// inline.
pub fn content_disposition(name: &str, inline: bool) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(name, ATTR_CHAR_ENCODED);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_leading_dots() {
        assert_eq!(clean_name("report.pdf"), "report.pdf");
        assert_eq!(clean_name("C:\\Users\\ana\\shot 1.png"), "shot 1.png");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\r\nb\u{0}.txt"), "ab.txt");
        assert_eq!(clean_name("  .htaccess "), "htaccess");
        assert_eq!(clean_name("/"), "file");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(&"é".repeat(500)).chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn the_header_value_cannot_be_broken_out_of() {
        let v = content_disposition("évil\"; filename=x.html\r\n.txt", false);
        assert!(v.starts_with("attachment; filename=\""));
        assert!(!v.contains('\r') && !v.contains('\n'));
        assert_eq!(v.matches('"').count(), 2, "{v}");
        assert!(
            v.ends_with("filename*=UTF-8''%C3%A9vil%22%3B%20filename%3Dx.html%0D%0A.txt"),
            "{v}"
        );
        assert_eq!(
            content_disposition("cat.png", true),
            "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png"
        );
    }
}
