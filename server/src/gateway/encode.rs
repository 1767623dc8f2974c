//! Turning Store values into protocol frames, and frames into socket text.

use confab_websocket::FrameText;
use protocol::{EventKind, MessageView, ServerFrame, UserView};
use store::{Event, Message};

/// The socket text of a frame.
pub fn text(frame: &ServerFrame) -> FrameText {
    frame.to_json().into()
}

/// The view of a stored message, with its author's view.
pub fn message_view(message: &Message, author: UserView) -> MessageView {
    message.view(author)
}

/// The `event` frame of a stored event.
pub fn event_frame(event: &Event, author: UserView) -> ServerFrame {
    ServerFrame::Event {
        room: event.room_id,
        seq: event.seq,
        kind: match event.kind {
            store::EventKind::Message => EventKind::Message,
            store::EventKind::Edited => EventKind::Edited,
            store::EventKind::Deleted => EventKind::Deleted,
            store::EventKind::Reaction => EventKind::Reaction,
            store::EventKind::Pinned => EventKind::Pinned,
        },
        message: message_view(&event.message, author),
    }
}

/// The `type`s of server frames, as the frames-out metric labels them; anything else is
/// counted as the last, `other`.
pub const FRAME_TYPES: [&str; 13] = [
    "welcome",
    "pong",
    "ack",
    "error",
    "event",
    "snapshot",
    "history",
    "presence_diff",
    "presence",
    "typing",
    "receipts",
    "personal",
    "other",
];

/// The place in [`FRAME_TYPES`] of an encoded server frame's `type`. Frames are encoded
/// with their tag first, so this reads a prefix instead of parsing.
pub fn frame_type_index(text: &[u8]) -> usize {
    let other = FRAME_TYPES.len() - 1;
    let Some(rest) = text.strip_prefix(b"{\"type\":\"") else {
        return other;
    };
    let name = rest.split(|b| *b == b'"').next().unwrap_or(b"");
    FRAME_TYPES[..other]
        .iter()
        .position(|t| t.as_bytes() == name)
        .unwrap_or(other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::RoomId;

    fn frame_type(text: &str) -> &'static str {
        FRAME_TYPES[frame_type_index(text.as_bytes())]
    }

    #[test]
    fn the_frame_type_is_read_from_the_encoded_text() {
        let frame = ServerFrame::Pong { req: 3 };
        assert_eq!(frame_type(&frame.to_json()), "pong");
        let diff = ServerFrame::PresenceDiff {
            room: RoomId(uuid::Uuid::nil()),
            joined: vec![],
            left: vec![],
            updated: vec![],
            total: 0,
        };
        assert_eq!(frame_type(&diff.to_json()), "presence_diff");
        assert_eq!(frame_type("{\"type\":\"close\"}"), "other");
        assert_eq!(frame_type("nonsense"), "other");
    }
}
