//! The rooms the page keeps subscribed: the ones it shows, plus a few recent ones kept
//! warm ([`WARM`]) so that going back to them is instant. A room that falls out is
//! unsubscribed (its timeline is kept, and a later visit resumes it from its last seq),
//! so a page that visits hundreds of rooms never holds hundreds of subscriptions (the
//! server allows 500 a connection) nor resubscribes them all on every reconnect. Rooms
//! the caller pins (the one on screen, rooms with changes waiting in the outbox) never
//! fall out. Pure logic.

use protocol::ids::RoomId;

/// Rooms kept subscribed besides the pinned ones.
pub const WARM: usize = 8;

/// The watched rooms, least recently shown first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watched {
    rooms: Vec<RoomId>,
}

impl Watched {
    /// `room` was shown (or needs its subscription): it becomes the most recent. Returns
    /// the rooms that fell out, oldest first; `pinned` rooms never do.
    pub fn show(&mut self, room: RoomId, pinned: impl Fn(RoomId) -> bool) -> Vec<RoomId> {
        self.rooms.retain(|r| *r != room);
        self.rooms.push(room);
        let mut out = Vec::new();
        let mut unpinned = self
            .rooms
            .iter()
            .filter(|r| **r != room && !pinned(**r))
            .count();
        // The newest room itself always stays, so the bound applies to the others.
        while unpinned > WARM.saturating_sub(1) {
            let Some(at) = self.rooms.iter().position(|r| *r != room && !pinned(*r)) else {
                break;
            };
            out.push(self.rooms.remove(at));
            unpinned -= 1;
        }
        out
    }

    /// Stops watching `room` (left it, or it could not be opened).
    pub fn forget(&mut self, room: RoomId) {
        self.rooms.retain(|r| *r != room);
    }

    pub fn contains(&self, room: RoomId) -> bool {
        self.rooms.contains(&room)
    }

    /// The watched rooms, most recently shown first (the order to resubscribe in).
    pub fn newest_first(&self) -> Vec<RoomId> {
        self.rooms.iter().rev().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(n))
    }

    #[test]
    fn visiting_many_rooms_keeps_only_the_recent_ones() {
        let mut w = Watched::default();
        let mut dropped = Vec::new();
        for n in 0..600 {
            dropped.extend(w.show(room(n), |_| false));
        }
        assert_eq!(w.len(), WARM);
        assert_eq!(dropped.len(), 600 - WARM);
        assert_eq!(dropped[0], room(0), "oldest first");
        assert_eq!(w.newest_first()[0], room(599));
        assert!(w.contains(room(592)) && !w.contains(room(591)));
    }

    #[test]
    fn going_back_to_a_warm_room_makes_it_recent_again() {
        let mut w = Watched::default();
        for n in 0..WARM as u128 {
            w.show(room(n), |_| false);
        }
        assert!(w.show(room(0), |_| false).is_empty());
        assert_eq!(
            w.show(room(100), |_| false),
            [room(1)],
            "room 0 was used since"
        );
    }

    #[test]
    fn pinned_rooms_never_fall_out() {
        let mut w = Watched::default();
        let busy = room(1);
        w.show(busy, |_| false);
        for n in 10..100 {
            let out = w.show(room(n), |r| r == busy);
            assert!(!out.contains(&busy));
        }
        assert!(w.contains(busy));
        assert_eq!(w.len(), WARM + 1);
        w.forget(busy);
        assert!(!w.contains(busy));
    }
}
