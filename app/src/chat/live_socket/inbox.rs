//! Incoming frames: queued as they arrive and applied together once per animation
//! frame, each handed to its family's handler. The answers to the page's own requests
//! (`welcome`, `pong`, `ack`, `error`) are handled here.

use leptos::prelude::*;
use protocol::ids::RoomId;
use protocol::{ErrorCode, ReqId, ServerFrame};
use std::rc::Rc;
use std::time::Duration;

use super::browser::is_visible;
use super::{Pending, SocketState, with_socket};
use crate::live::Connection;

impl SocketState {
    pub(super) fn schedule_flush(&self) {
        if self.flush_scheduled.replace(true) {
            return;
        }
        // An animation frame normally; a timeout too, because hidden tabs get no frames.
        let _ = request_animation_frame_with_handle(|| with_socket(|c| c.flush()));
        set_timeout(|| with_socket(|c| c.flush()), Duration::from_millis(200));
    }

    pub(super) fn flush(self: &Rc<Self>) {
        self.flush_scheduled.set(false);
        let frames = std::mem::take(&mut *self.inbox.borrow_mut());
        for frame in frames {
            self.handle(frame);
        }
    }

    /// Applies one server frame, by family.
    fn handle(self: &Rc<Self>, frame: ServerFrame) {
        match frame {
            ServerFrame::Welcome {
                conn_id,
                heartbeat_ms,
                user,
                ..
            } => self.welcome(conn_id, heartbeat_ms, user),
            ServerFrame::Pong { .. } => {}
            ServerFrame::Ack { req, info } => self.ack(req, info),
            ServerFrame::Error { req, code, message } => self.error(req, code, message),
            ServerFrame::Event {
                room,
                seq,
                kind,
                message,
            } => self.event(room, seq, kind, message),
            ServerFrame::History {
                req,
                room,
                messages,
                has_more,
            } => self.history(req, room, messages, has_more),
            ServerFrame::Snapshot {
                room,
                last_seq,
                messages,
                has_more,
                ..
            } => self.snapshot(room, last_seq, messages, has_more),
            ServerFrame::Presence {
                room, users, total, ..
            } => self.presence(room, users, total),
            ServerFrame::PresenceDiff {
                room,
                joined,
                left,
                updated,
                total,
            } => self.presence_diff(room, joined, left, updated, total),
            ServerFrame::Receipts { room, receipts } => self.receipts(room, receipts),
            ServerFrame::Typing {
                room,
                user,
                active,
                ttl_ms,
            } => self.typing(room, user, active, ttl_ms),
            ServerFrame::Personal { event } => self.personal(event),
        }
    }

    /// The server accepted the connection: resume every watched room, then the outbox.
    fn welcome(&self, conn_id: String, heartbeat_ms: u64, user: protocol::UserView) {
        let chat = self.chat;
        self.attempt.set(0);
        self.heartbeat_ms.set(heartbeat_ms as f64);
        chat.me.set(Some(user));
        chat.connection.set(Connection::Connected { conn_id });
        let rooms: Vec<RoomId> = {
            let mut w = self.watched.borrow_mut();
            chat.outbox
                .with_untracked(|o| w.extend(o.items().iter().map(|i| i.room)));
            w.iter().copied().collect()
        };
        for room in rooms {
            self.subscribe(room);
        }
        self.pump();
    }

    /// A request succeeded: settle what it was for.
    fn ack(&self, req: ReqId, info: protocol::AckInfo) {
        let chat = self.chat;
        // Taken out in its own statement: a callback may make new requests, which
        // borrow the pending map again.
        let pending = self.pending.borrow_mut().remove(&req);
        match pending {
            Some(Pending::Send) => self.sent(req, info),
            Some(Pending::Edit { room, id } | Pending::Delete { room, id }) => {
                chat.timelines.update(|t| {
                    if let Some(tl) = t.get_mut(&room) {
                        tl.settle(id);
                    }
                })
            }
            Some(Pending::Callback(done)) => done(Ok(info)),
            // The room on screen is read as far as the page goes (replayed events
            // after it mark themselves as they are applied).
            Some(Pending::Subscribe { room })
                if chat.open_room.get_untracked() == Some(room) && is_visible() =>
            {
                self.mark_read(room)
            }
            _ => {}
        }
    }

    /// A request (or, without `req`, the connection) failed: undo or report what it was for.
    fn error(&self, req: Option<ReqId>, code: ErrorCode, message: String) {
        let chat = self.chat;
        let Some(req) = req else {
            chat.notify(format!("The server said: {message}"));
            return;
        };
        let pending = self.pending.borrow_mut().remove(&req);
        match pending {
            Some(Pending::Send) => {
                if matches!(code, ErrorCode::Unavailable | ErrorCode::RateLimited) {
                    // Temporary: the next tick sends it again, with the same id.
                    chat.outbox.update(|o| o.requeue_in_flight());
                } else {
                    chat.outbox.update(|o| {
                        o.refused(req, &message);
                    });
                }
                self.save_outbox();
            }
            Some(Pending::Edit { room, id } | Pending::Delete { room, id }) => {
                chat.timelines.update(|t| {
                    if let Some(tl) = t.get_mut(&room) {
                        tl.roll_back(id);
                    }
                });
                chat.notify(format!("Your change was refused: {message}"));
            }
            Some(Pending::Subscribe { room }) => {
                self.watched.borrow_mut().remove(&room);
                self.live.borrow_mut().remove(&room);
                if matches!(code, ErrorCode::Forbidden | ErrorCode::NotFound) {
                    chat.outbox.update(|o| o.drop_room(room));
                    self.save_outbox();
                }
                chat.notify(format!("Could not open the room: {message}"));
            }
            Some(Pending::History { room }) => {
                chat.loading_older.update(|l| l.retain(|r| *r != room));
            }
            Some(Pending::Callback(done)) => done(Err(message)),
            Some(Pending::Quiet) | None => {}
        }
    }

    /// Our send `req` was acked: it leaves the outbox and shows as confirmed.
    fn sent(&self, req: ReqId, info: protocol::AckInfo) {
        let mut done = None;
        self.chat.outbox.update(|o| done = o.acked(req));
        self.save_outbox();
        let (Some(item), Some(me), Some(seq), Some(id)) = (
            done,
            self.chat.me.get_untracked(),
            info.seq,
            info.message_id,
        ) else {
            return;
        };
        let view = protocol::MessageView {
            id,
            seq,
            author: me,
            body: item.body,
            client_msg_id: item.client_msg_id,
            created_at: item.created_at,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            thread_root: None,
            thread: None,
        };
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&item.room) {
                tl.confirm_send(view);
            }
        });
    }
}
