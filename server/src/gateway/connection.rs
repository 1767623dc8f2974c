//! Framing: turns WebSocket messages into what the client task acts on, and frames into
//! messages. No state and no policy beyond the size limit.

use axum::extract::ws::Message;
use protocol::{ClientFrame, CloseCode, DecodeError, decode_client_frame};

/// One inbound message, classified.
#[derive(Debug)]
pub(super) enum Inbound {
    /// A well-formed request.
    Frame(ClientFrame),
    /// A text message that is not a valid frame; the connection stays usable.
    Invalid(DecodeError),
    /// Something the connection must be closed for.
    Fatal(CloseCode),
    /// The peer closed the connection.
    Closed,
    /// Transport-level traffic (ping/pong) with nothing to answer at our level.
    Ignored,
}

/// Classifies one message. `max_bytes` is the largest text a client may send.
pub(super) fn read_frame(message: Message, max_bytes: usize) -> Inbound {
    match message {
        Message::Text(text) if text.len() > max_bytes => Inbound::Fatal(CloseCode::TooBig),
        Message::Text(text) => match decode_client_frame(text.as_str()) {
            Ok(frame) => Inbound::Frame(frame),
            Err(err) => Inbound::Invalid(err),
        },
        Message::Binary(_) => Inbound::Fatal(CloseCode::PolicyViolation),
        Message::Close(_) => Inbound::Closed,
        Message::Ping(_) | Message::Pong(_) => Inbound::Ignored,
    }
}

/// The close code owed to the peer after a failed read, if any. A message over the size
/// limit fails inside the transport with a capacity error; the socket can still send a
/// close frame then. Other read errors mean the connection is gone.
pub(super) fn close_for_read_error(err: &axum::Error) -> Option<CloseCode> {
    use std::error::Error as _;
    match err.source()?.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(_) => Some(CloseCode::TooBig),
        tungstenite::Error::Utf8(_) => Some(CloseCode::InvalidPayload),
        tungstenite::Error::Protocol(_) => Some(CloseCode::ProtocolError),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_text_is_fatal_with_1009() {
        let msg = Message::Text("x".repeat(11).into());
        assert!(matches!(
            read_frame(msg, 10),
            Inbound::Fatal(CloseCode::TooBig)
        ));
    }

    #[test]
    fn binary_is_a_policy_violation() {
        let msg = Message::Binary(vec![1, 2, 3].into());
        assert!(matches!(
            read_frame(msg, 10),
            Inbound::Fatal(CloseCode::PolicyViolation)
        ));
    }

    #[test]
    fn bad_json_is_invalid_not_fatal() {
        let msg = Message::Text("{".into());
        assert!(matches!(read_frame(msg, 10), Inbound::Invalid(_)));
    }
}
