//! Message formatting: a small, safe subset of markdown, parsed into a token tree that
//! the message list turns into view nodes. No HTML ever comes out of this module, so
//! nothing a user types can become markup: `<script>` is just text.
//!
//! # The subset
//! - ```` ``` ```` … ```` ``` ````: a code block (its content verbatim; one newline right
//!   after the opening fence and one right before the closing fence are dropped).
//! - `` `code` ``: a code span on one line, its content verbatim.
//! - `**bold**`, `*italic*`, `_italic_`: may nest (`**bold _and italic_**`). A marker
//!   opens only before a non-space character and closes only after one, and never inside
//!   a word (`snake_case_name`, `2*3*4` stay as typed).
//! - `[text](https://…)`: a link with its own text (which may be formatted, but holds no
//!   other link); only `http://` and `https://` targets. And bare `http(s)://` links, as
//!   [`crate::chat::text::link_len`] finds them.
//! - `@handle` and `@room`: a mention, as [`protocol::mentions`] reads one (never inside
//!   code or a bare link), so what is highlighted is what the server counts.
//!
//! Anything that does not match (an unclosed marker, a `javascript:` target) stays
//! literal text. Nesting deeper than [`MAX_DEPTH`] is not formatted.

use crate::chat::text::link_len;

/// How deep formatting may nest before markers are taken literally.
pub const MAX_DEPTH: usize = 8;

/// One node of a formatted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Plain text (newlines kept).
    Text(String),
    /// An inline code span: shown verbatim.
    Code(String),
    /// A fenced code block: shown verbatim.
    CodeBlock(String),
    Strong(Vec<Node>),
    Em(Vec<Node>),
    /// A mention, as typed (`@Bob`); [`Node::mentioned`] gives the handle.
    Mention(String),
    /// A link to an `http(s)` address, with its text.
    Link {
        href: String,
        children: Vec<Node>,
    },
}

impl Node {
    /// The handle a [`Node::Mention`] names, lower case (`room` for everyone).
    pub fn mentioned(&self) -> Option<String> {
        match self {
            Node::Mention(text) => Some(text.trim_start_matches('@').to_ascii_lowercase()),
            _ => None,
        }
    }
}

/// Parses a message body into its formatted nodes.
pub fn parse(body: &str) -> Vec<Node> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let Some(close) = after.find("```") else {
            break;
        };
        inline_into(&mut out, &rest[..open], 0, true);
        let code = &after[..close];
        let code = code.strip_prefix('\n').unwrap_or(code);
        let code = code.strip_suffix('\n').unwrap_or(code);
        out.push(Node::CodeBlock(code.to_string()));
        rest = &after[close + 3..];
        // The line break after a closing fence belongs to the block.
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    inline_into(&mut out, rest, 0, true);
    out
}

/// Appends the inline nodes of `s` to `out`, merging adjacent text.
fn inline_into(out: &mut Vec<Node>, s: &str, depth: usize, links: bool) {
    let mut i = 0;
    let mut text_from = 0;
    while i < s.len() {
        let rest = &s[i..];
        let found = if rest.starts_with('`') {
            code_span(s, i)
        } else if rest.starts_with("**") {
            emphasis(s, i, "**", depth, links)
        } else if rest.starts_with('*') || rest.starts_with('_') {
            emphasis(s, i, &rest[..1], depth, links)
        } else if rest.starts_with('@') {
            protocol::mentions::at(s, i).map(|(end, _)| (Node::Mention(s[i..end].to_string()), end))
        } else if links && rest.starts_with('[') {
            labelled_link(s, i, depth)
        } else if links {
            link_len(rest).map(|n| {
                let url = rest[..n].to_string();
                let node = Node::Link {
                    href: url.clone(),
                    children: vec![Node::Text(url)],
                };
                (node, i + n)
            })
        } else {
            None
        };
        match found {
            Some((node, end)) => {
                push_text(out, &s[text_from..i]);
                out.push(node);
                i = end;
                text_from = end;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    push_text(out, &s[text_from..]);
}

fn push_text(out: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Node::Text(text.to_string()));
    }
}

/// A code span opening at `at`: up to the next backtick on the same line, not empty.
fn code_span(s: &str, at: usize) -> Option<(Node, usize)> {
    let inner_start = at + 1;
    let close = inner_start + s[inner_start..].find(['`', '\n'])?;
    if !s[close..].starts_with('`') || close == inner_start {
        return None;
    }
    Some((Node::Code(s[inner_start..close].to_string()), close + 1))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// Bold or italics opening at `at` with `marker`, if a closing marker follows.
fn emphasis(s: &str, at: usize, marker: &str, depth: usize, links: bool) -> Option<(Node, usize)> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let inner_start = at + marker.len();
    let next = s[inner_start..].chars().next()?;
    let before = s[..at].chars().next_back();
    if next.is_whitespace() || before.is_some_and(is_word) {
        return None;
    }
    let close = closing(s, inner_start, marker)?;
    let mut children = Vec::new();
    inline_into(&mut children, &s[inner_start..close], depth + 1, links);
    let node = if marker == "**" {
        Node::Strong(children)
    } else {
        Node::Em(children)
    };
    Some((node, close + marker.len()))
}

/// Where `marker` closes, searching from `from`: after a non-space character, not before
/// a word character, and never inside a code span or a bare link (those are atoms).
fn closing(s: &str, from: usize, marker: &str) -> Option<usize> {
    let mut i = from;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('`')
            && let Some((_, end)) = code_span(s, i)
        {
            i = end;
            continue;
        }
        if let Some(n) = link_len(rest) {
            i += n;
            continue;
        }
        if rest.starts_with(marker) && i > from {
            let mut at = i;
            // In a run like `***`, the closer is the run's last markers, so that the
            // inner text keeps its own (`***x***` is bold around italics).
            while marker.len() == 2 && s[at + 2..].starts_with('*') {
                at += 1;
            }
            let single_star_in_double = marker == "*" && rest.starts_with("**");
            let before = s[..at].chars().next_back();
            let after = s[at + marker.len()..].chars().next();
            if !single_star_in_double
                && before.is_some_and(|c| !c.is_whitespace())
                && !after.is_some_and(is_word)
            {
                return Some(at);
            }
            if single_star_in_double {
                // `**` inside italics belongs to a bold span: step over both.
                i += 2;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// `[text](http(s)://…)` opening at `at`. The text is on one line and not empty; the
/// target has no white space.
fn labelled_link(s: &str, at: usize, depth: usize) -> Option<(Node, usize)> {
    let text_start = at + 1;
    let text_end = text_start + s[text_start..].find([']', '\n'])?;
    if !s[text_end..].starts_with("](") || text_end == text_start {
        return None;
    }
    let href_start = text_end + 2;
    let href_end = href_start + s[href_start..].find([')', ' ', '\t', '\n'])?;
    if !s[href_end..].starts_with(')') {
        return None;
    }
    let href = &s[href_start..href_end];
    if !is_web_address(href) {
        return None;
    }
    let mut children = Vec::new();
    inline_into(&mut children, &s[text_start..text_end], depth + 1, false);
    Some((
        Node::Link {
            href: href.to_string(),
            children,
        },
        href_end + 1,
    ))
}

/// An `http://` or `https://` address with something after the scheme.
fn is_web_address(href: &str) -> bool {
    ["http://", "https://"]
        .iter()
        .any(|scheme| href.len() > scheme.len() && href.starts_with(scheme))
}

/// The text of nodes as it reads, without any formatting (for tests and summaries).
pub fn plain(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Text(t) | Node::Code(t) | Node::CodeBlock(t) | Node::Mention(t) => {
                out.push_str(t)
            }
            Node::Strong(c) | Node::Em(c) | Node::Link { children: c, .. } => {
                out.push_str(&plain(c))
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
