//! The frames the page sends: messages (through the outbox), edits and deletes (applied
//! at once, settled or rolled back by the answer), typing, history pages, read markers,
//! subscriptions, and the dialogs' requests; each remembered as [`Pending`] until its
//! answer.

use leptos::prelude::*;
use protocol::ClientFrame;
use protocol::ReqId;
use protocol::ids::{MessageId, RoomId, Seq};
use protocol::names::{Body, ClientMsgId};
use web_sys::WebSocket;

use super::browser::{new_client_msg_id, now_ms, outbox_key, storage_set};
use super::{HISTORY_PAGE, Pending, SocketState, TYPING_EVERY_MS, with_socket};
use crate::chat::link::{Reply, RequestKind};
use crate::chat::outbox::{Outgoing, SendState};
use crate::chat::timeline::Timeline;
use crate::live::Connection;

/// Follows a room: subscribes now if connected, and after every reconnect.
pub(super) fn watch(room: RoomId) {
    with_socket(|c| {
        c.watched.borrow_mut().insert(room);
        if c.is_connected() && !c.live.borrow().contains(&room) {
            c.subscribe(room);
        }
        c.mark_read(room);
    });
}

/// Queues a message and sends it when possible.
pub(super) fn send(room: RoomId, body: String) {
    with_socket(|c| {
        let Some(_) = c.chat.me.get_untracked() else {
            return;
        };
        let item = Outgoing {
            room,
            client_msg_id: new_client_msg_id(),
            body,
            created_at: now_ms() as i64,
            state: SendState::Queued,
        };
        c.chat.outbox.update(|o| o.push(item));
        // A send ends one's typing on the server: the next keystroke announces anew.
        c.typing_sent.borrow_mut().remove(&room);
        c.watched.borrow_mut().insert(room);
        c.pump();
    });
}

/// Edits one's own message, showing the change at once.
pub(super) fn edit(room: RoomId, id: MessageId, body: String) {
    with_socket(|c| {
        let Ok(valid) = Body::parse(&body) else {
            c.chat
                .notify("A message needs some text, and at most 4000 characters.");
            return;
        };
        c.change(
            room,
            |tl| tl.begin_edit(id, valid.as_ref()),
            Pending::Edit { room, id },
            |req| ClientFrame::Edit {
                req,
                room,
                message_id: id,
                body: valid.clone(),
            },
        );
    });
}

/// Deletes one's own message, showing the tombstone at once.
pub(super) fn delete(room: RoomId, id: MessageId) {
    with_socket(|c| {
        c.change(
            room,
            |tl| tl.begin_delete(id),
            Pending::Delete { room, id },
            |req| ClientFrame::Delete {
                req,
                room,
                message_id: id,
            },
        );
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

/// Sends a dialog's request; `done` gets its answer (at once, a failure, when not connected).
pub(super) fn request(kind: RequestKind, done: Box<dyn FnOnce(Reply)>) {
    with_socket(move |c| {
        if !c.is_connected() {
            done(Err("Not connected; try again in a moment.".into()));
            return;
        }
        c.request(Pending::Callback(done), |req| match kind {
            RequestKind::CreateRoom { name, private } => {
                ClientFrame::CreateRoom { req, name, private }
            }
            RequestKind::OpenDm { user } => ClientFrame::OpenDm { req, user },
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
            } => ClientFrame::Reply {
                req,
                room,
                thread: root,
                client_msg_id,
                body,
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
            RequestKind::Leave { room } => {
                c.watched.borrow_mut().remove(&room);
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

    pub(super) fn transmit(&self, frame: &ClientFrame) {
        if let Some(ws) = self.ws.borrow().as_ref()
            && ws.ready_state() == WebSocket::OPEN
            && let Ok(text) = serde_json::to_string(frame)
        {
            let _ = ws.send_with_str(&text);
        }
    }

    /// Applies a change to one's own message at once (`begin` says whether it could
    /// start), then asks the server; the reply confirms or rolls it back.
    pub(super) fn change(
        &self,
        room: RoomId,
        begin: impl FnOnce(&mut Timeline) -> bool,
        pending: Pending,
        frame: impl FnOnce(ReqId) -> ClientFrame,
    ) {
        let mut started = false;
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&room) {
                started = begin(tl);
            }
        });
        if !started {
            return;
        }
        self.request(pending, frame);
    }

    pub(super) fn subscribe(&self, room: RoomId) {
        let since = self
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq));
        self.live.borrow_mut().insert(room);
        self.request(Pending::Subscribe { room }, |req| ClientFrame::Subscribe {
            req,
            room,
            since_seq: since,
        });
    }

    /// Repairs a gap: unsubscribe, then subscribe again from `last_seq`.
    pub(super) fn resubscribe(&self, room: RoomId, last_seq: Seq) {
        self.request(Pending::Quiet, |req| ClientFrame::Unsubscribe { req, room });
        self.request(Pending::Subscribe { room }, |req| ClientFrame::Subscribe {
            req,
            room,
            since_seq: Some(last_seq),
        });
    }

    /// Sends the queued messages, in order (subscribing to their rooms first).
    pub(super) fn pump(&self) {
        if !self.is_connected() {
            self.save_outbox();
            return;
        }
        let rooms: Vec<RoomId> = self.chat.outbox.with_untracked(|o| {
            o.items()
                .iter()
                .filter(|i| i.state == SendState::Queued)
                .map(|i| i.room)
                .collect()
        });
        for room in rooms {
            if !self.live.borrow().contains(&room) {
                self.watched.borrow_mut().insert(room);
                self.subscribe(room);
            }
        }
        let mut batch = Vec::new();
        self.chat
            .outbox
            .update(|o| batch = o.take_queued(now_ms(), || self.req()));
        for (req, item) in batch {
            let (Ok(cmid), Ok(body)) = (
                ClientMsgId::parse(&item.client_msg_id),
                Body::parse(&item.body),
            ) else {
                self.chat.outbox.update(|o| {
                    o.refused(req, "This message cannot be sent.");
                });
                continue;
            };
            self.pending.borrow_mut().insert(req, Pending::Send);
            self.transmit(&ClientFrame::Send {
                req,
                room: item.room,
                client_msg_id: cmid,
                body,
            });
        }
        self.save_outbox();
    }

    pub(super) fn save_outbox(&self) {
        let json = self.chat.outbox.with_untracked(|o| o.to_json());
        storage_set(&outbox_key(&self.chat), &json);
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
