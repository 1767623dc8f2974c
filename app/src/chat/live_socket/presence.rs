//! Who is in a room and what they are doing: presence (whole lists and changes),
//! who is typing, and read receipts.

use leptos::prelude::*;
use protocol::ids::{RoomId, UserId};
use protocol::{PresenceEntry, ReadReceipt, UserView};

use super::SocketState;
use super::browser::now_ms;
use crate::chat::state::RoomPresence;
use crate::chat::typists::DEFAULT_TTL_MS;

impl SocketState {
    /// Everyone present in `room` now.
    pub(super) fn presence(&self, room: RoomId, users: Vec<PresenceEntry>, total: u32) {
        let chat = self.chat;
        chat.presence.update(|p| {
            p.insert(
                room,
                RoomPresence {
                    users: users.into_iter().map(|e| (e.user.id, e)).collect(),
                    total,
                    stale: false,
                },
            );
        });
    }

    /// A change to who is present in `room`.
    pub(super) fn presence_diff(
        &self,
        room: RoomId,
        joined: Vec<UserView>,
        left: Vec<UserId>,
        updated: Vec<PresenceEntry>,
        total: u32,
    ) {
        let chat = self.chat;
        // Whoever left stops typing there too.
        if !left.is_empty() {
            chat.typing.maybe_update(|t| t.stop_all(room, &left));
        }
        chat.presence.update(|p| {
            let entry = p.entry(room).or_default();
            for u in left {
                entry.users.remove(&u);
            }
            for user in joined {
                entry
                    .users
                    .entry(user.id)
                    .or_insert(protocol::PresenceEntry {
                        user,
                        devices: 1,
                        status: protocol::Status::Active,
                        text: None,
                    });
            }
            for e in updated {
                entry.users.insert(e.user.id, e);
            }
            entry.total = total;
        });
    }

    /// Other members' read markers in a small room or DM.
    pub(super) fn receipts(&self, room: RoomId, receipts: Vec<ReadReceipt>) {
        let chat = self.chat;
        chat.receipts.update(|held| {
            let held = held.entry(room).or_default();
            for r in receipts {
                crate::chat::receipts::merge(held, r);
            }
        });
    }

    /// Someone started (or is still) typing in `room`, for `ttl_ms`, or stopped. An
    /// indicator nobody renews ends by itself: a check runs just after it would end.
    pub(super) fn typing(&self, room: RoomId, user: UserView, active: bool, ttl_ms: Option<u64>) {
        let chat = self.chat;
        if !active {
            chat.typing.maybe_update(|t| t.stop(room, user.id));
            return;
        }
        chat.typing
            .update(|t| t.start(room, user, now_ms(), ttl_ms));
        let wait = ttl_ms.map_or(DEFAULT_TTL_MS, |ms| ms as f64) + 50.0;
        set_timeout(
            move || {
                chat.typing.maybe_update(|t| t.expire(now_ms()));
            },
            std::time::Duration::from_millis(wait as u64),
        );
    }
}
