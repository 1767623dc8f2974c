//! Decoding client frames, with a failure a client can act on.
//!
//! The fast path parses straight into [`ClientFrame`]. Only when that fails is the text
//! parsed again as a loose JSON value, to classify the failure and to recover the `req`
//! id so that the `error` reply can name the request it answers.

use crate::errors::ErrorCode;
use crate::frames::{ClientFrame, ReqId};

/// Why a text frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The request id, when the frame carried a readable one.
    pub req: Option<ReqId>,
    /// The error code to report.
    pub code: ErrorCode,
    /// A human-readable explanation (never echoes the frame itself).
    pub message: String,
}

/// The frame `type`s this protocol version accepts.
const KNOWN_TYPES: &[&str] = &[
    "ping",
    "subscribe",
    "unsubscribe",
    "send",
    "edit",
    "delete",
    "typing",
    "history",
    "mark_read",
    "add_reaction",
    "remove_reaction",
    "open_dm",
    "open_group",
    "set_status",
    "invite",
    "leave",
    "create_room",
    "pin",
    "unpin",
    "remove_member",
    "unban",
    "set_role",
    "update_room",
];

/// Decodes one text frame sent by a client.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => Ok(frame),
        Err(err) => Err(classify(text, &err)),
    }
}

fn classify(text: &str, err: &serde_json::Error) -> DecodeError {
    let value = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            return DecodeError {
                req: None,
                code: ErrorCode::BadFrame,
                message: "a frame must be a JSON object".into(),
            };
        }
        Err(_) => {
            return DecodeError {
                req: None,
                code: ErrorCode::BadFrame,
                message: "a frame must be valid JSON".into(),
            };
        }
    };
    let req = value.get("req").and_then(serde_json::Value::as_u64);
    match value.get("type").and_then(serde_json::Value::as_str) {
        None => DecodeError {
            req,
            code: ErrorCode::InvalidField,
            message: "missing string field `type`".into(),
        },
        Some(kind) if !KNOWN_TYPES.contains(&kind) => DecodeError {
            req,
            code: ErrorCode::UnknownType,
            message: format!("unknown frame type `{}`", truncate(kind, 64)),
        },
        Some(_) => DecodeError {
            req,
            code: ErrorCode::InvalidField,
            message: bounded(&clip_quoted(&without_position(err))),
        },
    }
}

/// Longest error message, in bytes.
const MESSAGE_MAX_BYTES: usize = 240;

/// Cuts `message` to [`MESSAGE_MAX_BYTES`] (at a character boundary): the backstop for
/// quotes [`clip_quoted`] cannot tell apart (a quoted name that itself holds a quote).
fn bounded(message: &str) -> String {
    if message.len() <= MESSAGE_MAX_BYTES {
        return message.to_string();
    }
    let mut end = MESSAGE_MAX_BYTES - '…'.len_utf8();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// Longest piece of the client's own text (a field name, a value) an error quotes.
const QUOTE_MAX_CHARS: usize = 32;

/// serde's messages quote what they could not use (`` unknown field `…` ``,
/// `invalid type: string "…"`). Those quotes come from the client and may be huge: each
/// is cut to [`QUOTE_MAX_CHARS`], so an error never echoes the frame back.
fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(256));
    let mut open: Option<char> = None;
    let mut quoted = 0;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                open = None;
                out.push(c);
            }
            Some(_) => {
                quoted += 1;
                if quoted <= QUOTE_MAX_CHARS {
                    out.push(c);
                } else if quoted == QUOTE_MAX_CHARS + 1 {
                    out.push('…');
                }
            }
            None => {
                if c == '`' || c == '"' {
                    open = Some(c);
                    quoted = 0;
                }
                out.push(c);
            }
        }
    }
    out
}

/// serde_json's message without the " at line 1 column 17" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_ping_decodes() {
        assert_eq!(
            decode_client_frame(r#"{"type":"ping","req":3}"#),
            Ok(ClientFrame::Ping { req: 3 })
        );
    }

    #[test]
    fn garbage_is_a_bad_frame_without_req() {
        let err = decode_client_frame("{not json").unwrap_err();
        assert_eq!((err.req, err.code), (None, ErrorCode::BadFrame));
        let err = decode_client_frame("[1,2]").unwrap_err();
        assert_eq!(err.code, ErrorCode::BadFrame);
    }

    #[test]
    fn unknown_type_keeps_the_req() {
        let err = decode_client_frame(r#"{"type":"launch","req":9}"#).unwrap_err();
        assert_eq!((err.req, err.code), (Some(9), ErrorCode::UnknownType));
    }

    #[test]
    fn wrong_field_type_is_invalid_field() {
        let err = decode_client_frame(r#"{"type":"ping","req":"x"}"#).unwrap_err();
        assert_eq!((err.req, err.code), (None, ErrorCode::InvalidField));
        let err = decode_client_frame(r#"{"type":"ping","req":4,"extra":1}"#).unwrap_err();
        assert_eq!((err.req, err.code), (Some(4), ErrorCode::InvalidField));
        assert!(!err.message.contains("line"), "{}", err.message);
    }

    #[test]
    fn long_field_names_and_values_are_not_echoed_whole() {
        let name = "f".repeat(10_000);
        let err =
            decode_client_frame(&format!(r#"{{"type":"ping","req":1,"{name}":1}}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidField);
        assert!(err.message.len() < 200, "{}", err.message);
        assert!(
            err.message.contains("unknown field `ffff"),
            "{}",
            err.message
        );
        let value = "v".repeat(10_000);
        let err =
            decode_client_frame(&format!(r#"{{"type":"ping","req":"{value}"}}"#)).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
    }

    #[test]
    fn a_quote_inside_a_quoted_name_still_leaves_a_short_message() {
        let name = format!("a`{}", "é".repeat(5000));
        let frame = serde_json::json!({"type": "ping", "req": 1, name: 1}).to_string();
        let err = decode_client_frame(&frame).unwrap_err();
        assert!(err.message.len() <= MESSAGE_MAX_BYTES, "{}", err.message);
    }

    #[test]
    fn quotes_are_clipped_and_the_rest_kept() {
        assert_eq!(clip_quoted("unknown field `abc`"), "unknown field `abc`");
        let long = format!("x `{}` y", "a".repeat(40));
        assert_eq!(clip_quoted(&long), format!("x `{}…` y", "a".repeat(32)));
    }

    #[test]
    fn long_unknown_types_are_not_echoed_whole() {
        let kind = "x".repeat(10_000);
        let err = decode_client_frame(&format!(r#"{{"type":"{kind}"}}"#)).unwrap_err();
        assert!(err.message.len() < 200);
    }
}
