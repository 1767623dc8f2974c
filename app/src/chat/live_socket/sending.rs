//! The outbox on the wire: changes to one's messages applied at once and queued, the
//! queue sent in order once connected (each item as its frame, a message or reply with
//! the ids of its files, the same on every resend), and the outbox saved in
//! `localStorage` after every change.

use leptos::prelude::*;
use protocol::ReqId;
use protocol::ids::RoomId;
use protocol::names::{Body, ClientMsgId, Emoji};
use protocol::{ClientFrame, FileView};

use super::browser::{now_ms, outbox_key, storage_set};
use super::{Pending, SocketState};
use crate::chat::outbox::{Change, Outgoing, SendState};
use crate::chat::timeline::Timeline;

impl SocketState {
    /// Applies a change to one's own message at once; whether it could start.
    pub(super) fn change(&self, room: RoomId, begin: impl FnOnce(&mut Timeline) -> bool) -> bool {
        let mut started = false;
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&room) {
                started = begin(tl);
            }
        });
        started
    }

    /// Puts a change in the outbox and sends what may go; a message or reply names
    /// `files` (uploaded already), the other changes none.
    pub(super) fn queue(
        &self,
        room: RoomId,
        client_msg_id: String,
        body: String,
        change: Change,
        files: Vec<FileView>,
    ) {
        if self.chat.me.get_untracked().is_none() {
            return;
        }
        let item = Outgoing {
            room,
            client_msg_id,
            body,
            created_at: now_ms() as i64,
            state: SendState::Queued,
            change,
            files,
        };
        self.chat.outbox.update(|o| o.push(item));
        self.keep_watching(room);
        self.pump();
    }

    /// Sends the outbox's queued changes, in order (subscribing to their rooms first).
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
                self.keep_watching(room);
                self.subscribe(room);
            }
        }
        let mut batch = Vec::new();
        self.chat
            .outbox
            .update(|o| batch = o.take_queued(now_ms(), || self.req()));
        for (req, item) in batch {
            let Some(frame) = outbox_frame(req, &item) else {
                let mut refused = None;
                self.chat
                    .outbox
                    .update(|o| refused = o.refused(req, "This change cannot be sent."));
                if refused.is_some_and(|i| !i.is_message()) {
                    self.chat
                        .notify("A change could not be sent and was dropped.");
                }
                continue;
            };
            self.pending.borrow_mut().insert(req, Pending::Outbox);
            self.transmit(&frame);
        }
        self.save_outbox();
    }

    pub(super) fn save_outbox(&self) {
        let json = self.chat.outbox.with_untracked(|o| o.to_json());
        storage_set(&outbox_key(&self.chat), &json);
    }
}

/// The frame that carries the outbox's `item` as request `req`; `None` if a saved item
/// no longer parses.
fn outbox_frame(req: ReqId, item: &Outgoing) -> Option<ClientFrame> {
    let room = item.room;
    let body = || Body::parse(&item.body).ok();
    let cmid = || ClientMsgId::parse(&item.client_msg_id).ok();
    Some(match &item.change {
        Change::Message => ClientFrame::Send {
            req,
            room,
            client_msg_id: cmid()?,
            body: body()?,
            files: item.file_ids(),
        },
        Change::Reply { root } => ClientFrame::Reply {
            req,
            room,
            thread: *root,
            client_msg_id: cmid()?,
            body: body()?,
            files: item.file_ids(),
        },
        Change::Edit { message } => ClientFrame::Edit {
            req,
            room,
            message_id: *message,
            body: body()?,
        },
        Change::Delete { message } => ClientFrame::Delete {
            req,
            room,
            message_id: *message,
        },
        Change::React {
            message,
            emoji,
            add,
        } => {
            let emoji = Emoji::parse(emoji).ok()?;
            if *add {
                ClientFrame::AddReaction {
                    req,
                    room,
                    message_id: *message,
                    emoji,
                }
            } else {
                ClientFrame::RemoveReaction {
                    req,
                    room,
                    message_id: *message,
                    emoji,
                }
            }
        }
    })
}
