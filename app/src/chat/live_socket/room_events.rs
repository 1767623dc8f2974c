//! A room's messages as they arrive: live events (new messages, replies, edits,
//! deletes, reactions, pins, moderation notices) with their unread counts, read markers
//! and alerts; older pages; and snapshots that replace what a timeline held.

use leptos::prelude::*;
use protocol::ids::{RoomId, Seq};
use protocol::{EventKind, MessageView, ReqId};
use std::rc::Rc;

use super::SocketState;
use super::browser::{is_visible, now_ms};
use crate::chat::timeline::{Applied, KEEP_AT_BOTTOM};

impl SocketState {
    /// A live event in `room` at `seq`: applied to its timeline in order (a gap
    /// resubscribes); news for the reader counts as unread and may alert.
    pub(super) fn event(
        self: &Rc<Self>,
        room: RoomId,
        seq: Seq,
        kind: EventKind,
        message: MessageView,
    ) {
        let chat = self.chat;
        let author = message.author.id;
        // The author as they look now: names and avatars already shown follow.
        // (Someone heard of for the first time changes nothing already shown.)
        if chat.people.with_untracked(|p| p.is_news(&message.author)) {
            let mut changed = false;
            chat.people
                .update_untracked(|p| changed = p.saw(&message.author));
            if changed {
                chat.people.notify();
            }
        }
        // A thread reply is news for its thread only (the timeline counts it on its root);
        // a moderation notice is no one's news (the server counts it as no one's unread).
        let notice = message.notice.is_some();
        let is_new_message =
            kind == protocol::EventKind::Message && message.thread_root.is_none() && !notice;
        // A change of the room's settings shows in the room list too.
        let settings_changed = matches!(
            message.notice.as_deref(),
            Some(protocol::NoticeView::RoomUpdated { .. })
        );
        let is_reply = kind == protocol::EventKind::Message && message.thread_root.is_some();
        let mine = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id)) == Some(author);
        // Kept for the unread badge and a notification, as `message` moves on.
        let arrival = ((is_new_message || is_reply) && !mine).then(|| {
            let mention = chat.me.with_untracked(|m| {
                m.as_ref()
                    .is_some_and(|m| protocol::mentions::scan(&message.body).includes(&m.handle))
            });
            (mention, message.author.name.clone(), message.body.clone())
        });
        if (is_new_message || is_reply) && mine {
            // Stored: its pending copy (or queued reply) goes, even if the ack is still
            // on its way.
            let mut stored = None;
            chat.outbox
                .update(|o| stored = o.stored(room, &message.client_msg_id));
            if stored.is_some() {
                self.save_outbox();
            }
        }
        let mut outcome = Applied::Duplicate;
        chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&room) {
                outcome = tl.apply(seq, kind, message);
                if outcome == Applied::Applied && chat.open_room.get_untracked() == Some(room) {
                    // Keep a busy room light; scrolled-up readers keep what they have.
                    if tl.lines.len() > KEEP_AT_BOTTOM * 2 {
                        tl.trim_to(KEEP_AT_BOTTOM);
                    }
                }
            }
        });
        if outcome == Applied::Applied && settings_changed {
            chat.refresh_rooms();
        }
        match outcome {
            Applied::Gap { last_seq } => self.resubscribe(room, last_seq),
            Applied::Applied if is_new_message => {
                chat.typing.maybe_update(|t| t.stop(room, author));
                let reading = chat.open_room.get_untracked() == Some(room) && is_visible();
                if reading {
                    self.mark_read(room);
                }
                if let Some((mention, author, body)) = arrival {
                    if chat.open_room.get_untracked() == Some(room) {
                        let mut said = None;
                        chat.announcer
                            .update_value(|a| said = a.arrive(&author, &body, now_ms()));
                        if let Some(text) = said {
                            chat.announce(text);
                        }
                    }
                    if !reading {
                        self.count_unread(room, seq, mention);
                    }
                    self.alert(room, mention, Some(&author), Some(&body));
                }
            }
            // A reply that mentions the reader counts in the room (the server counts
            // it the same way) and may alert; other replies show on their root only.
            Applied::Applied if is_reply => {
                let reading = chat.open_room.get_untracked() == Some(room) && is_visible();
                if reading {
                    self.mark_read(room);
                }
                if let Some((true, author, body)) = arrival {
                    if !reading {
                        self.count_unread(room, seq, true);
                    }
                    self.alert(room, true, Some(&author), Some(&body));
                }
            }
            _ => {}
        }
    }

    /// An older page of `room`, asked for by `req`.
    pub(super) fn history(
        &self,
        req: ReqId,
        room: RoomId,
        messages: Vec<MessageView>,
        has_more: bool,
    ) {
        let chat = self.chat;
        self.pending.borrow_mut().remove(&req);
        chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&room) {
                tl.merge_older(messages, has_more);
            }
        });
        chat.loading_older.update(|l| l.retain(|r| *r != room));
    }

    /// The room's latest page, replacing what was held (a resume too far behind).
    pub(super) fn snapshot(
        &self,
        room: RoomId,
        last_seq: Seq,
        messages: Vec<MessageView>,
        has_more: bool,
    ) {
        let chat = self.chat;
        chat.timelines.update(|t| {
            t.entry(room)
                .or_default()
                .reset(messages, last_seq, has_more);
        });
    }
}
