//! Incoming frames: queued as they arrive and applied together once per animation
//! frame, each handed to its family's handler. The answers to the page's own requests
//! (`welcome`, `pong`, `ack`, `error`) are handled here.

use leptos::prelude::*;
use protocol::{ErrorCode, ReqId, ServerFrame};
use std::rc::Rc;
use std::time::Duration;

use super::browser::{is_visible, now_ms};
use super::{Pending, SocketState, with_socket};
use crate::chat::outbox::{Change, Outgoing, Refusal};
use crate::live::Connection;

impl SocketState {
    pub(super) fn schedule_flush(&self) {
        if self.flush_scheduled.replace(true) {
            return;
        }
        match self.pace.borrow().due(now_ms()) {
            // An animation frame normally; a timeout too, because hidden tabs get no frames.
            Ok(()) => {
                self.frame_asked_ms.set(now_ms());
                let _ = request_animation_frame_with_handle(|| with_socket(|c| c.on_frame()));
                set_timeout(|| with_socket(|c| c.flush()), Duration::from_millis(200));
            }
            // Under pressure: the batch grows until the pace allows the next one.
            Err(wait) => set_timeout(
                || with_socket(|c| c.flush()),
                Duration::from_millis(wait.ceil() as u64),
            ),
        }
    }

    /// The animation frame asked for: how late it came says how busy the page is.
    fn on_frame(self: &Rc<Self>) {
        let late = now_ms() - self.frame_asked_ms.get() - 17.0;
        self.apply(late.max(0.0));
    }

    /// Applies everything waiting now (a timeout, or a close).
    pub(super) fn flush(self: &Rc<Self>) {
        self.apply(0.0);
    }

    /// Applies the inbox's batch, then resubscribes the rooms that fell behind, and
    /// adjusts the pace by what it cost (`late`: how late the frame came, ms).
    fn apply(self: &Rc<Self>, late: f64) {
        self.flush_scheduled.set(false);
        let batch = self.inbox.borrow_mut().take();
        if batch.frames.is_empty() && batch.behind.is_empty() {
            return;
        }
        let started = now_ms();
        for frame in batch.frames {
            self.handle(frame);
        }
        for room in batch.behind {
            let last = self
                .chat
                .timelines
                .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq));
            if let Some(last) = last
                && self.live.borrow().contains(&room)
            {
                self.resubscribe(room, last);
            }
        }
        let now = now_ms();
        let catching_up = {
            let mut pace = self.pace.borrow_mut();
            pace.applied(now, (now - started).max(late));
            pace.catching_up()
        };
        if self.chat.catching_up.get_untracked() != catching_up {
            self.chat.catching_up.set(catching_up);
        }
        if !self.inbox.borrow().is_empty() {
            self.schedule_flush();
        } else if catching_up {
            // If nothing more comes for a whole interval, the pressure is over.
            let wait = self.pace.borrow().interval_ms();
            set_timeout(
                || {
                    with_socket(|c| {
                        if c.inbox.borrow().is_empty() && !c.flush_scheduled.get() {
                            c.pace.borrow_mut().idle();
                            c.chat.catching_up.set(false);
                        }
                    })
                },
                Duration::from_millis(wait as u64 + 1),
            );
        }
    }

    /// Applies one server frame, by family.
    fn handle(self: &Rc<Self>, frame: ServerFrame) {
        match frame {
            ServerFrame::Welcome {
                conn_id,
                heartbeat_ms,
                user,
                max_upload_bytes,
                ..
            } => {
                crate::chat::uploader::set_limit(max_upload_bytes);
                self.welcome(conn_id, heartbeat_ms, user)
            }
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

    /// The server accepted the connection: resume every watched room (the one on screen
    /// first), then the outbox; the pacer keeps it all within the rate limit.
    fn welcome(&self, conn_id: String, heartbeat_ms: u64, user: protocol::UserView) {
        let chat = self.chat;
        self.dialer.borrow_mut().welcomed();
        self.heartbeat_ms.set(heartbeat_ms as f64);
        chat.me.set(Some(user));
        chat.connection.set(Connection::Connected { conn_id });
        self.subscribe_watched();
        self.pump();
    }

    /// A request succeeded: settle what it was for.
    fn ack(&self, req: ReqId, info: protocol::AckInfo) {
        let chat = self.chat;
        // Taken out in its own statement: a callback may make new requests, which
        // borrow the pending map again.
        let pending = self.pending.borrow_mut().remove(&req);
        match pending {
            Some(Pending::Outbox) => self.sent(req, info),
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
            Some(Pending::Outbox) => {
                let change = chat
                    .outbox
                    .with_untracked(|o| o.in_flight(req).map(|i| i.change.clone()));
                match change.map(|c| c.refusal(code)) {
                    // Temporary: the next tick sends it again, with the same id.
                    Some(Refusal::Retry) => chat.outbox.update(|o| o.requeue_in_flight()),
                    Some(Refusal::Done) => self.sent(req, protocol::AckInfo::default()),
                    Some(Refusal::Final) => {
                        let mut refused = None;
                        chat.outbox.update(|o| refused = o.refused(req, &message));
                        if let Some(item) = refused {
                            self.undo(item, &message);
                        }
                    }
                    None => {}
                }
                self.save_outbox();
            }
            Some(Pending::Subscribe { room })
                if matches!(code, ErrorCode::Unavailable | ErrorCode::RateLimited) =>
            {
                // Temporary: the next tick subscribes again.
                self.live.borrow_mut().remove(&room);
            }
            Some(Pending::Subscribe { room }) => {
                self.watched.borrow_mut().forget(room);
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

    /// The server refused the outbox's `item`: a message shows as failed (it stays, for
    /// retry or discard); an edit or delete rolls back; each says why.
    fn undo(&self, item: Outgoing, reason: &str) {
        let chat = self.chat;
        let what = match item.change {
            Change::Message => return,
            Change::Edit { message } | Change::Delete { message } => {
                chat.timelines.update(|t| {
                    if let Some(tl) = t.get_mut(&item.room) {
                        tl.roll_back(message);
                    }
                });
                "Your change was refused"
            }
            Change::Reply { .. } => "Your reply was not sent",
            Change::React { .. } => "Your reaction was refused",
        };
        chat.notify(format!("{what}: {reason}"));
    }

    /// The outbox's `req` was acked: it leaves the outbox; a message shows as confirmed,
    /// an edit or delete as settled.
    fn sent(&self, req: ReqId, info: protocol::AckInfo) {
        let mut done = None;
        self.chat.outbox.update(|o| done = o.acked(req));
        self.save_outbox();
        if let Some(item) = &done
            && let Change::Edit { message } | Change::Delete { message } = item.change
        {
            self.chat.timelines.update(|t| {
                if let Some(tl) = t.get_mut(&item.room) {
                    tl.settle(message);
                }
            });
            return;
        }
        let done = done.filter(Outgoing::is_message);
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
            files: item.files,
            removed_by_admin: false,
            pinned: None,
            notice: None,
        };
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&item.room) {
                tl.confirm_send(view);
            }
        });
    }
}
