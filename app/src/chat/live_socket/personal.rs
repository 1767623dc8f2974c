//! Events for the reader alone: unread counts and read markers from other devices,
//! joining and leaving rooms, new DMs and invites; and the browser notifications new
//! messages may bring.

use leptos::prelude::*;
use protocol::PersonalEvent;
use protocol::ids::{RoomId, Seq};

use super::SocketState;
use super::browser::is_visible;
use crate::chat::{notify, unread};

impl SocketState {
    /// An event for the reader alone.
    pub(super) fn personal(&self, event: PersonalEvent) {
        let chat = self.chat;
        match event {
            // A notice may come again for the same seq (a retried send acked as a
            // duplicate): it counts and alerts once.
            PersonalEvent::Unread { room, seq, mention } => {
                let news = if chat.open_room.get_untracked() != Some(room) {
                    self.count_unread(room, seq, mention)
                } else {
                    self.counted.borrow_mut().first_time(room, seq)
                };
                if news {
                    self.alert(room, mention, None, None);
                }
            }
            PersonalEvent::Read { room, seq } => {
                let newest = chat
                    .timelines
                    .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq));
                match newest {
                    Some(n) if seq >= n => chat.read_through(room, seq),
                    // Read part of the way (or of a room this page does not hold) on
                    // some device: the server's count is the exact one.
                    _ => chat.refresh_rooms(),
                }
            }
            PersonalEvent::Membership { room, joined } => {
                if !joined {
                    self.counted.borrow_mut().forget(room);
                    self.watched.borrow_mut().forget(room);
                    self.live.borrow_mut().remove(&room);
                    chat.timelines.update(|t| {
                        t.remove(&room);
                    });
                    chat.outbox.update(|o| o.drop_room(room));
                    self.save_outbox();
                    if chat.open_room.get_untracked() == Some(room) {
                        chat.lost_room.set(Some(room));
                    }
                }
                chat.refresh_rooms();
            }
            PersonalEvent::DmOpened { .. } | PersonalEvent::GroupOpened { .. } => {
                chat.refresh_rooms()
            }
            PersonalEvent::Invited { by, .. } => {
                chat.notify(format!("{} added you to a room.", by.name));
                chat.refresh_rooms();
            }
        }
    }

    /// One more unread message in `room` at `seq` (and one more mention, if it is one),
    /// unless it was counted already. True when it counted.
    pub(super) fn count_unread(&self, room: RoomId, seq: Seq, mention: bool) -> bool {
        let mut counted = false;
        self.chat.rooms.maybe_update(|rooms| {
            if let Some(rooms) = rooms {
                counted = unread::count(rooms, &mut self.counted.borrow_mut(), room, seq, mention);
            }
            counted
        });
        counted
    }

    /// Shows a browser notification for someone else's new message in `room` when one is
    /// due (a mention or a DM, the tab hidden).
    pub(super) fn alert(
        &self,
        room: RoomId,
        mention: bool,
        author: Option<&str>,
        body: Option<&str>,
    ) {
        let Some((title, dm)) = self.chat.rooms.with_untracked(|rooms| {
            rooms
                .iter()
                .flatten()
                .find(|r| r.id == room)
                .map(|r| (r.title.clone(), r.kind == crate::chat::api::RoomKind::Dm))
        }) else {
            return;
        };
        let arrival = notify::Arrival {
            room_title: &title,
            dm,
            mention,
            author,
            body,
        };
        if let Some(alert) = notify::alert_for(room, &arrival, !is_visible()) {
            notify::show(&alert, room);
        }
    }
}
