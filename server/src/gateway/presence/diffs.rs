//! Coalescing of presence changes: joins, leaves and status updates are gathered per
//! room and sent as one `presence_diff` per room per tick. A burst of 500 people joining a
//! big room within a tick costs each subscriber one frame, not 500; a join and a leave of
//! the same user within one tick cancel out. In a room with more people present than a
//! roster lists, a diff names at most [`BIG_ROOM_JOINS_PER_TICK`] of the joins
//! ([`Diff::capped`]): otherwise a room of n filling up sends every member every join, O(n²)
//! bytes in all.
//!
//! A diff goes to every member, so a room's diffs are also paced by its size
//! ([`pace`]): after a diff to n people the room's next one waits n / [`DIFFS_PER_SEC`]
//! seconds, gathering meanwhile. Up to 1,000 present that is within a tick, so nothing
//! changes there; a room of 5,000 filling up gets a diff every half second instead of ten a
//! second, and its presence costs the same deliveries per second as a room of 1,000.

use protocol::ids::{RoomId, UserId};
use protocol::{PresenceEntry, UserView};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Presence diffs a room sends per second at most, counting one per member it goes to.
pub const DIFFS_PER_SEC: u32 = 10_000;

/// How long a room's next diff waits after one sent to `present` people.
pub fn pace(present: u32) -> Duration {
    Duration::from_secs(1) * present / DIFFS_PER_SEC
}

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

#[derive(Default)]
struct Rooms {
    pending: HashMap<RoomId, Pending>,
    /// Rooms whose next diff waits until then ([`pace`]).
    held: HashMap<RoomId, Instant>,
}

/// Changes waiting for the next tick.
#[derive(Default)]
pub struct PresenceDiffs {
    rooms: Mutex<Rooms>,
}

impl PresenceDiffs {
    pub fn joined(&self, room: RoomId, user: UserView) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        let p = rooms.pending.entry(room).or_default();
        if let Some(i) = p.left.iter().position(|id| *id == user.id) {
            p.left.swap_remove(i); // left and came back within the tick: no news
        } else if !p.joined.iter().any(|u| u.id == user.id) {
            p.joined.push(user);
        }
    }

    pub fn left(&self, room: RoomId, user: UserId) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        let p = rooms.pending.entry(room).or_default();
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
            .pending
            .entry(room)
            .or_default()
            .updated
            .insert(entry.user.id, entry);
    }

    /// Takes the pending changes of every room whose next diff is due at `now`; a held
    /// room keeps gathering.
    pub fn drain(&self, now: Instant) -> Vec<Diff> {
        let mut rooms = self.rooms.lock().expect("diff lock");
        let Rooms { pending, held } = &mut *rooms;
        held.retain(|_, until| *until > now);
        pending
            .extract_if(|room, _| !held.contains_key(room))
            .filter(|(_, p)| !(p.joined.is_empty() && p.left.is_empty() && p.updated.is_empty()))
            .map(|(room, p)| Diff {
                room,
                joined: p.joined,
                left: p.left,
                updated: p.updated.into_values().collect(),
            })
            .collect()
    }

    /// `room`'s next diff waits until `until`.
    pub fn hold(&self, room: RoomId, until: Instant) {
        let mut rooms = self.rooms.lock().expect("diff lock");
        rooms.held.insert(room, until);
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
        let diffs = d.drain(Instant::now());
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
        assert!(d.drain(Instant::now()).is_empty());
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
        let diff = d.drain(Instant::now()).pop().unwrap();
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

    #[test]
    fn a_room_s_diffs_are_paced_by_how_many_they_go_to() {
        assert!(
            pace(100) <= Duration::from_millis(10),
            "small rooms: within a tick"
        );
        assert!(pace(1_000) <= Duration::from_millis(100));
        assert_eq!(pace(5_000), Duration::from_millis(500));

        let d = PresenceDiffs::default();
        let (big, small) = (RoomId(Uuid::from_u128(1)), RoomId(Uuid::from_u128(2)));
        let t0 = Instant::now();
        d.joined(big, user(1));
        assert_eq!(d.drain(t0).len(), 1);
        d.hold(big, t0 + pace(5_000));
        for n in 2..40 {
            d.joined(big, user(n));
        }
        d.left(big, user(1).id);
        d.joined(small, user(100));
        let early = d.drain(t0 + Duration::from_millis(100));
        assert_eq!(early.len(), 1, "the held room waits; the other goes");
        assert_eq!(early[0].room, small);
        assert!(d.drain(t0 + Duration::from_millis(400)).is_empty());
        let due = d.drain(t0 + Duration::from_millis(500));
        assert_eq!(
            due.len(),
            1,
            "the held room's changes, gathered into one diff"
        );
        assert_eq!((due[0].room, due[0].joined.len()), (big, 38));
        assert_eq!(due[0].left, vec![user(1).id], "nothing gathered is lost");
        d.joined(big, user(50));
        assert_eq!(
            d.drain(t0 + Duration::from_millis(600)).len(),
            1,
            "once due, the hold is gone"
        );
    }
}
