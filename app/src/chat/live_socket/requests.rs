//! The frames the page sends: messages, edits and deletes (queued in the outbox, see
//! `sending.rs`; edits and deletes applied at once, settled or rolled back by the
//! answer), typing, history pages, read markers, and the dialogs' requests (replies and
//! reactions through the outbox while disconnected); each remembered as [`Pending`]
//! until its answer, and each (but pings) let out by the pacer.

use leptos::prelude::*;
use protocol::ReqId;
use protocol::ids::{MessageId, RoomId};
use protocol::names::Body;
use protocol::{ClientFrame, FileView};
use web_sys::WebSocket;

use super::browser::{new_client_msg_id, now_ms};
use super::{HISTORY_PAGE, Pending, SocketState, TYPING_EVERY_MS, with_socket};
use crate::chat::link::{Reply, RequestKind};
use crate::chat::outbox::{Change, SendState};
use crate::live::Connection;

/// Follows a room: subscribes now if connected, and after every reconnect. Rooms that
/// fall out of the watched set are unsubscribed.
pub(super) fn watch(room: RoomId) {
    with_socket(|c| {
        c.keep_watching(room);
        if c.is_connected() && !c.live.borrow().contains(&room) {
            c.subscribe(room);
        }
        c.mark_read(room);
    });
}

/// Queues a message (naming `files`, uploaded already) and sends it when possible.
pub(super) fn send(room: RoomId, body: String, files: Vec<FileView>) {
    with_socket(|c| {
        c.queue(room, new_client_msg_id(), body, Change::Message, files);
        // A send ends one's typing on the server: the next keystroke announces anew.
        c.typing_sent.borrow_mut().remove(&room);
    });
}

/// Edits one's own message, showing the change at once; sent through the outbox.
pub(super) fn edit(room: RoomId, id: MessageId, body: String) {
    with_socket(|c| {
        let Ok(valid) = Body::parse(&body) else {
            c.chat
                .notify("A message needs some text, and at most 4000 characters.");
            return;
        };
        if c.change(room, |tl| tl.begin_edit(id, valid.as_ref())) {
            c.queue(
                room,
                new_client_msg_id(),
                valid.as_ref().to_string(),
                Change::Edit { message: id },
                Vec::new(),
            );
        }
    });
}

/// Deletes a message (one's own, or as a moderator anyone's), showing the tombstone at
/// once; sent through the outbox.
pub(super) fn delete(room: RoomId, id: MessageId) {
    with_socket(|c| {
        if c.change(room, |tl| tl.begin_delete(id)) {
            c.queue(
                room,
                new_client_msg_id(),
                String::new(),
                Change::Delete { message: id },
                Vec::new(),
            );
        }
    });
}

/// Tells the room one is typing, at most every [`TYPING_EVERY_MS`].
pub(super) fn typing(room: RoomId) {
    with_socket(|c| {
        let now = now_ms();
        let last = c.typing_sent.borrow().get(&room).copied().unwrap_or(0.0);
        if now - last < TYPING_EVERY_MS || !c.live.borrow().contains(&room) {
            return;
        }
        c.typing_sent.borrow_mut().insert(room, now);
        c.request(Pending::Quiet, |req| ClientFrame::Typing { req, room });
    });
}

/// Asks for the page before the oldest message held, unless one is on its way.
pub(super) fn load_older(room: RoomId) {
    with_socket(|c| {
        if !c.live.borrow().contains(&room)
            || c.chat.loading_older.with_untracked(|l| l.contains(&room))
        {
            return;
        }
        let Some((before, more)) = c
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| (tl.oldest_seq(), tl.has_more)))
        else {
            return;
        };
        if !more {
            return;
        }
        c.chat.loading_older.update(|l| l.push(room));
        c.request(Pending::History { room }, |req| ClientFrame::History {
            req,
            room,
            before_seq: before,
            limit: Some(HISTORY_PAGE),
        });
    });
}

/// Sends a dialog's request; `done` gets its answer. When not connected (or while the
/// outbox still holds changes, which go first) a reply, a reaction or the delete of a
/// reply waits in the outbox and `done` hears `Ok` at once; anything else fails at once.
pub(super) fn request(kind: RequestKind, done: Box<dyn FnOnce(Reply)>) {
    with_socket(move |c| {
        let behind = c
            .chat
            .outbox
            .with_untracked(|o| o.items().iter().any(|i| i.state == SendState::Queued));
        if !c.is_connected() || behind {
            let queued = match &kind {
                RequestKind::Reply {
                    room,
                    root,
                    client_msg_id,
                    body,
                    files,
                } => Some((
                    *room,
                    client_msg_id.as_ref().to_string(),
                    body.as_ref().to_string(),
                    Change::Reply { root: *root },
                    files.clone(),
                )),
                RequestKind::React {
                    room,
                    message,
                    emoji,
                    add,
                } => Some((
                    *room,
                    new_client_msg_id(),
                    String::new(),
                    Change::React {
                        message: *message,
                        emoji: emoji.as_ref().to_string(),
                        add: *add,
                    },
                    Vec::new(),
                )),
                RequestKind::DeleteReply { room, message } => Some((
                    *room,
                    new_client_msg_id(),
                    String::new(),
                    Change::Delete { message: *message },
                    Vec::new(),
                )),
                _ => None,
            };
            if let Some((room, id, body, change, files)) = queued {
                if !c.is_connected() {
                    c.chat
                        .notify("Saved: it will be sent when the connection is back.");
                }
                c.queue(room, id, body, change, files);
                done(Ok(protocol::AckInfo::default()));
                return;
            }
            if !c.is_connected() {
                done(Err("Not connected; try again in a moment.".into()));
                return;
            }
        }
        c.request(Pending::Callback(done), |req| match kind {
            RequestKind::CreateRoom {
                name,
                private,
                topic,
            } => ClientFrame::CreateRoom {
                req,
                name,
                private,
                topic,
            },
            RequestKind::OpenDm { user } => ClientFrame::OpenDm { req, user },
            RequestKind::OpenGroup { users } => ClientFrame::OpenGroup { req, users },
            RequestKind::DeleteReply { room, message } => ClientFrame::Delete {
                req,
                room,
                message_id: message,
            },
            RequestKind::Reply {
                room,
                root,
                client_msg_id,
                body,
                files,
            } => ClientFrame::Reply {
                req,
                room,
                thread: root,
                client_msg_id,
                body,
                files: files.iter().map(|f| f.id).collect(),
            },
            RequestKind::Invite { room, user } => ClientFrame::Invite { req, room, user },
            RequestKind::SetStatus { status, text } => ClientFrame::SetStatus { req, status, text },
            RequestKind::React {
                room,
                message,
                emoji,
                add: true,
            } => ClientFrame::AddReaction {
                req,
                room,
                message_id: message,
                emoji,
            },
            RequestKind::React {
                room,
                message,
                emoji,
                add: false,
            } => ClientFrame::RemoveReaction {
                req,
                room,
                message_id: message,
                emoji,
            },
            RequestKind::Pin {
                room,
                message,
                pin: true,
            } => ClientFrame::Pin {
                req,
                room,
                message_id: message,
            },
            RequestKind::Pin {
                room,
                message,
                pin: false,
            } => ClientFrame::Unpin {
                req,
                room,
                message_id: message,
            },
            RequestKind::RemoveMember { room, user, ban } => ClientFrame::RemoveMember {
                req,
                room,
                user,
                ban,
            },
            RequestKind::Unban { room, user } => ClientFrame::Unban { req, room, user },
            RequestKind::SetRole { room, user, role } => ClientFrame::SetRole {
                req,
                room,
                user,
                role,
            },
            RequestKind::UpdateRoom {
                room,
                name,
                topic,
                description,
                private,
                archived,
            } => ClientFrame::UpdateRoom {
                req,
                room,
                name,
                topic,
                description,
                private,
                archived,
            },
            RequestKind::Leave { room } => {
                c.watched.borrow_mut().forget(room);
                c.live.borrow_mut().remove(&room);
                ClientFrame::Leave { req, room }
            }
        });
    });
}

impl SocketState {
    pub(super) fn req(&self) -> ReqId {
        let r = self.next_req.get();
        self.next_req.set(r + 1);
        r
    }

    /// Sends the frame `frame` builds around a fresh request id, remembering what its
    /// answer is for.
    pub(super) fn request(&self, pending: Pending, frame: impl FnOnce(ReqId) -> ClientFrame) {
        let req = self.req();
        self.pending.borrow_mut().insert(req, pending);
        self.transmit(&frame(req));
    }

    pub(super) fn is_connected(&self) -> bool {
        matches!(
            self.chat.connection.get_untracked(),
            Connection::Connected { .. }
        )
    }

    /// Sends `frame`: a ping at once, anything else through the pacer, in order.
    pub(super) fn transmit(&self, frame: &ClientFrame) {
        let Ok(text) = serde_json::to_string(frame) else {
            return;
        };
        if matches!(frame, ClientFrame::Ping { .. }) {
            self.write(&text);
            return;
        }
        let ready = self.pacer.borrow_mut().push(text, now_ms());
        self.let_out(ready);
    }

    /// Writes what the pacer let out, and sets a timer for what still waits.
    fn let_out(&self, ready: Vec<String>) {
        for text in ready {
            self.write(&text);
        }
        let Some(wait) = self.pacer.borrow().wait_ms() else {
            return;
        };
        if self.pace_scheduled.replace(true) {
            return;
        }
        set_timeout(
            || {
                with_socket(|c| {
                    c.pace_scheduled.set(false);
                    let ready = c.pacer.borrow_mut().ready(now_ms());
                    c.let_out(ready);
                })
            },
            std::time::Duration::from_millis(wait as u64),
        );
    }

    fn write(&self, text: &str) {
        if let Some(ws) = self.ws.borrow().as_ref()
            && ws.ready_state() == WebSocket::OPEN
        {
            let _ = ws.send_with_str(text);
        }
    }

    pub(super) fn mark_read(&self, room: RoomId) {
        if !self.live.borrow().contains(&room) {
            return;
        }
        let Some(seq) = self
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq))
        else {
            return;
        };
        self.chat.read_through(room, seq);
        let before = self.read_sent.borrow().get(&room).copied().unwrap_or(0);
        if seq <= before || seq == 0 {
            return;
        }
        self.read_sent.borrow_mut().insert(room, seq);
        self.request(Pending::Quiet, |req| ClientFrame::MarkRead {
            req,
            room,
            seq,
        });
    }
}
