//! What the reader was writing in each room and did not send: kept when they switch
//! rooms or reload, in the browser's `localStorage` under one key per user, and cleared
//! when the message goes. The newest [`DRAFT_ROOMS_MAX`] rooms are kept. The list and
//! its encoding are pure logic; [`load`] and [`save`] are the browser's storage.

use protocol::ids::{RoomId, UserId};
use serde::{Deserialize, Serialize};

/// Rooms whose draft is kept; writing in one more forgets the one written in longest ago.
pub const DRAFT_ROOMS_MAX: usize = 50;

/// Unsent text by room, the room written in most recently last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drafts {
    rooms: Vec<(RoomId, String)>,
}

impl Drafts {
    /// The draft of `room` ("" if none).
    pub fn get(&self, room: RoomId) -> &str {
        self.rooms
            .iter()
            .find(|(r, _)| *r == room)
            .map_or("", |(_, t)| t.as_str())
    }

    /// Keeps `text` as the draft of `room`; text of nothing but spaces clears it. Returns
    /// whether anything changed.
    pub fn set(&mut self, room: RoomId, text: &str) -> bool {
        let before = self.rooms.clone();
        self.rooms.retain(|(r, _)| *r != room);
        if !text.trim().is_empty() {
            self.rooms.push((room, text.to_string()));
            if self.rooms.len() > DRAFT_ROOMS_MAX {
                self.rooms.remove(0);
            }
        }
        self.rooms != before
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; anything unreadable is no drafts.
    pub fn decode(stored: &str) -> Drafts {
        serde_json::from_str(stored).unwrap_or_default()
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[cfg(feature = "hydrate")]
fn key(user: UserId) -> String {
    format!("confab.drafts.{user}")
}

/// The drafts stored in this browser for `user` (none on the server).
pub fn load(user: UserId) -> Drafts {
    #[cfg(feature = "hydrate")]
    {
        storage()
            .and_then(|s| s.get_item(&key(user)).ok().flatten())
            .map(|stored| Drafts::decode(&stored))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = user;
        Drafts::default()
    }
}

/// Stores `drafts` for `user` in this browser (nothing on the server).
pub fn save(user: UserId, drafts: &Drafts) {
    #[cfg(feature = "hydrate")]
    if let Some(s) = storage() {
        let _ = s.set_item(&key(user), &drafts.encode());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (user, drafts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(n))
    }

    #[test]
    fn a_draft_is_kept_per_room_and_cleared_by_blank_text() {
        let mut d = Drafts::default();
        assert!(d.set(room(1), "half a thought"));
        assert!(d.set(room(2), "another"));
        assert_eq!(d.get(room(1)), "half a thought");
        assert_eq!(d.get(room(3)), "");
        assert!(!d.set(room(2), "another"), "the same text changes nothing");
        assert!(d.set(room(1), "  \n "));
        assert_eq!(d.get(room(1)), "");
        assert!(
            !d.set(room(1), ""),
            "clearing what is not there changes nothing"
        );
    }

    #[test]
    fn the_room_written_in_longest_ago_is_forgotten_first() {
        let mut d = Drafts::default();
        for n in 0..DRAFT_ROOMS_MAX as u128 {
            d.set(room(n), "x");
        }
        // Writing in room 0 again makes it the newest; room 1 is now the oldest.
        d.set(room(0), "again");
        d.set(room(999), "one more");
        assert_eq!(d.get(room(0)), "again");
        assert_eq!(d.get(room(1)), "");
        assert_eq!(d.get(room(999)), "one more");
    }

    #[test]
    fn drafts_survive_their_stored_form_and_garbage_reads_as_none() {
        let mut d = Drafts::default();
        d.set(room(1), "line one\nline \"two\"");
        assert_eq!(Drafts::decode(&d.encode()), d);
        assert_eq!(Drafts::decode("{not json"), Drafts::default());
        assert_eq!(Drafts::decode(""), Drafts::default());
    }
}
