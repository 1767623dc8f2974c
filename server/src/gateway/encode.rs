//! Turning Store values into protocol frames, and frames into socket text.

use axum::extract::ws::Utf8Bytes;
use protocol::{EventKind, MessageView, ServerFrame, UserView};
use store::{Event, Message};

/// The socket text of a frame.
pub fn text(frame: &ServerFrame) -> Utf8Bytes {
    frame.to_json().into()
}

/// The view of a stored message, with its author's view.
pub fn message_view(message: &Message, author: UserView) -> MessageView {
    MessageView {
        id: message.id,
        seq: message.seq,
        author,
        body: message.body.clone(),
        client_msg_id: message.client_msg_id.clone(),
        created_at: message.created_at,
        edited_at: message.edited_at,
        deleted: message.deleted,
    }
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
        },
        message: message_view(&event.message, author),
    }
}
