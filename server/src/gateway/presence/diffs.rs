//! Coalescing of presence changes: joins, leaves and status updates are gathered per
//! room and sent as one `presence_diff` per room per tick. A burst of 500 people joining a
//! big room within a tick costs each subscriber one frame, not 500; a join and a leave of
//! the same user within one tick cancel out. In a room with more people present than a
//! roster lists, a diff names at most [`BIG_ROOM_JOINS_PER_TICK`] of the joins
//! ([`Diff::capped`]): otherwise a room of n filling up sends every member every join, O(n²)
//! bytes in all.

use protocol::ids::{RoomId, UserId};
use protocol::{PresenceEntry, UserView};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct Pending {
    joined: Vec<UserView>,
    left: Vec<UserId>,
    updated: HashMap<UserId, PresenceEntry>,
}

/// One room's changes, ready to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Diff {
    pub room: RoomId,
    pub joined: Vec<UserView>,
    pub left: Vec<UserId>,
    pub updated: Vec<PresenceEntry>,
}

/// Joins a diff names in a room with more people present than a roster lists.
pub const BIG_ROOM_JOINS_PER_TICK: usize = 20;

impl Diff {
    /// The diff as sent to a room where `total` are present and a roster lists at most
    /// `roster_max`: in such a big room every member's list is partial anyway, so only the
    /// first [`BIG_ROOM_JOINS_PER_TICK`] joins are named (`total` counts them all). Leaves
    /// and status changes are all kept, so nobody a member lists stays there after leaving.
    pub fn capped(mut self, total: u32, roster_max: usize) -> Diff {
        if total as usize > roster_max {
            self.joined.truncate(BIG_ROOM_JOINS_PER_TICK);
        }
        self
    }
}

/// Changes waiting for the next tick.
#[derive(Default)]
pub struct PresenceDiffs {
    rooms: Mutex<HashMap<RoomId, Pending>>,
}

impl PresenceDiffs {
    pub fn joined(&self, room: RoomId, user: UserView) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        let p = rooms.entry(room).or_default();
        if let Some(i) = p.left.iter().position(|id| *id == user.id) {
            p.left.swap_remove(i); // left and came back within the tick: no news
        } else if !p.joined.iter().any(|u| u.id == user.id) {
            p.joined.push(user);
        }
    }

    pub fn left(&self, room: RoomId, user: UserId) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        let p = rooms.entry(room).or_default();
        p.updated.remove(&user);
        if let Some(i) = p.joined.iter().position(|u| u.id == user) {
            p.joined.swap_remove(i); // joined and left within the tick: no news
        } else if !p.left.contains(&user) {
            p.left.push(user);
        }
    }

    pub fn updated(&self, room: RoomId, entry: PresenceEntry) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        rooms
            .entry(room)
            .or_default()
            .updated
            .insert(entry.user.id, entry);
    }

    /// Takes every room's pending changes.
    pub fn drain(&self) -> Vec<Diff> {
        let mut rooms = self.rooms.lock().expect("diff lock");
        rooms
            .drain()
            .filter(|(_, p)| !(p.joined.is_empty() && p.left.is_empty() && p.updated.is_empty()))
            .map(|(room, p)| Diff {
                room,
                joined: p.joined,
                left: p.left,
                updated: p.updated.into_values().collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user(n: u128) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: format!("u{n}"),
            name: format!("U{n}"),
            avatar: None,
        }
    }

    #[test]
    fn a_burst_becomes_one_diff_per_room_and_round_trips_cancel() {
        let d = PresenceDiffs::default();
        let room = RoomId(Uuid::from_u128(1));
        for n in 0..100 {
            d.joined(room, user(n));
        }
        d.left(room, user(5).id);
        d.left(room, user(500).id);
        d.joined(room, user(500));
        let diffs = d.drain();
        assert_eq!(diffs.len(), 1);
        assert_eq!(
            diffs[0].joined.len(),
            99,
            "u5 joined and left within the tick"
        );
        assert!(
            diffs[0].left.is_empty(),
            "u500 left and came back within the tick"
        );
        assert!(d.drain().is_empty());
    }

    #[test]
    fn a_diff_names_a_bounded_number_of_joins_only_in_a_big_room() {
        let d = PresenceDiffs::default();
        let room = RoomId(Uuid::from_u128(1));
        for n in 0..50 {
            d.joined(room, user(n));
        }
        for n in 100..130 {
            d.left(room, user(n).id);
        }
        let diff = d.drain().pop().unwrap();
        let small = Diff {
            room,
            joined: diff.joined.clone(),
            left: diff.left.clone(),
            updated: Vec::new(),
        }
        .capped(50, 200);
        assert_eq!(small.joined.len(), 50, "a room whose roster lists everyone");
        let big = diff.capped(5_000, 200);
        assert_eq!(big.joined.len(), BIG_ROOM_JOINS_PER_TICK);
        assert_eq!(big.left.len(), 30, "every leave is named");
    }
}
