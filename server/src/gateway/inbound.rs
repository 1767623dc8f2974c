//! The inbound frame reader: turns a WebSocket message into what the connection loop
//! acts on (a request, a decoding error, a close, a ping). No state and no policy beyond
//! the size limit.

use bytes::Bytes;
use protocol::{ClientFrame, CloseCode, DecodeError, decode_client_frame};

use super::socket::Incoming as Message;

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
    /// A ping, to be answered with a pong carrying the same bytes.
    Ping(Bytes),
    /// A pong, with nothing to answer.
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
        Message::Binary => Inbound::Fatal(CloseCode::PolicyViolation),
        Message::Close(_) => Inbound::Closed,
        Message::Ping(payload) => Inbound::Ping(payload),
        Message::Pong => Inbound::Ignored,
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
        let msg = Message::Binary;
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

    #[test]
    fn a_ping_is_answered_with_its_own_bytes() {
        let msg = Message::Ping(Bytes::from_static(b"abc"));
        assert!(matches!(read_frame(msg, 10), Inbound::Ping(p) if &p[..] == b"abc"));
        assert!(matches!(read_frame(Message::Pong, 10), Inbound::Ignored));
    }
}
