//! Subscriptions: which rooms the connection follows. Rooms that fall out of the
//! watched set ([`crate::chat::watched`]) are unsubscribed; after a connect every
//! watched room is subscribed again from its last seq, the one on screen first; a gap
//! resubscribes a room.

use leptos::prelude::*;
use protocol::ClientFrame;
use protocol::ids::{RoomId, Seq};
use std::collections::HashSet;

use super::{Pending, SocketState};

impl SocketState {
    /// Marks `room` as recently needed, and unsubscribes the rooms that fall out of the
    /// watched set (never the one on screen, nor one with changes in the outbox).
    pub(super) fn keep_watching(&self, room: RoomId) {
        let open = self.chat.open_room.get_untracked();
        let busy: HashSet<RoomId> = self
            .chat
            .outbox
            .with_untracked(|o| o.items().iter().map(|i| i.room).collect());
        let out = self
            .watched
            .borrow_mut()
            .show(room, |r| Some(r) == open || busy.contains(&r));
        for gone in out {
            if self.live.borrow_mut().remove(&gone) {
                self.request(Pending::Quiet, |req| ClientFrame::Unsubscribe {
                    req,
                    room: gone,
                });
            }
            self.chat.presence.update(|p| {
                p.remove(&gone);
            });
            self.chat.typing.maybe_update(|t| t.clear_room(gone));
        }
    }

    /// Subscribes every watched room not subscribed yet (on screen first).
    pub(super) fn subscribe_watched(&self) {
        if !self.is_connected() {
            return;
        }
        let rooms = self.watched.borrow().newest_first();
        for room in rooms {
            if !self.live.borrow().contains(&room) {
                self.subscribe(room);
            }
        }
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
}
