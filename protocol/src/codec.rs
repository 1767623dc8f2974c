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
    "open_dm",
    "set_status",
    "invite",
    "leave",
    "create_room",
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
            message: without_position(err),
        },
    }
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
    fn long_unknown_types_are_not_echoed_whole() {
        let kind = "x".repeat(10_000);
        let err = decode_client_frame(&format!(r#"{{"type":"{kind}"}}"#)).unwrap_err();
        assert!(err.message.len() < 200);
    }
}
