//! A sender's room cursors: for every room it delivers, the last seq written.
//!
//! A sorted vector looked up by binary search, its capacity kept at its length: a
//! connection delivers a few rooms (one, mostly), and a hash map of one entry costs a
//! 128-byte table and a hasher's 16 bytes of keys in every connection, where this costs
//! 24 bytes a room. Looking up is on every delivery; adding and removing a room are rare
//! and may move the rooms after it.

use protocol::ids::{RoomId, Seq};

#[derive(Debug, Default)]
pub(super) struct Cursors {
    rooms: Vec<(RoomId, Seq)>,
}

impl Cursors {
    fn find(&self, room: &RoomId) -> Result<usize, usize> {
        self.rooms.binary_search_by(|(r, _)| r.cmp(room))
    }

    /// The last seq written of `room`, if it is delivered.
    pub(super) fn get(&self, room: &RoomId) -> Option<&Seq> {
        self.find(room).ok().map(|at| &self.rooms[at].1)
    }

    /// Sets `room`'s cursor, delivering it from now on if it was not.
    pub(super) fn insert(&mut self, room: RoomId, seq: Seq) {
        match self.find(&room) {
            Ok(at) => self.rooms[at].1 = seq,
            Err(at) => {
                self.rooms.reserve_exact(1);
                self.rooms.insert(at, (room, seq));
            }
        }
    }

    /// Stops delivering `room`.
    pub(super) fn remove(&mut self, room: &RoomId) {
        if let Ok(at) = self.find(room) {
            self.rooms.remove(at);
            self.rooms.shrink_to_fit();
        }
    }

    /// Whether no room is delivered.
    pub(super) fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(n: u128) -> RoomId {
        RoomId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn rooms_are_found_whatever_order_they_came_in() {
        let mut cursors = Cursors::default();
        assert!(cursors.is_empty());
        for (n, seq) in [(5, 50), (1, 10), (9, 90), (3, 30)] {
            cursors.insert(room(n), seq);
        }
        for (n, seq) in [(5, 50), (1, 10), (9, 90), (3, 30)] {
            assert_eq!(cursors.get(&room(n)), Some(&seq));
        }
        assert_eq!(cursors.get(&room(4)), None);
        cursors.insert(room(3), 31);
        assert_eq!(cursors.get(&room(3)), Some(&31));
        assert_eq!(cursors.rooms.len(), 4, "a moved cursor is not a new room");
    }

    #[test]
    fn removing_keeps_the_others_and_gives_memory_back() {
        let mut cursors = Cursors::default();
        for n in 1..=3 {
            cursors.insert(room(n), n as Seq);
        }
        assert_eq!(cursors.rooms.capacity(), 3, "capacity kept at the length");
        cursors.remove(&room(2));
        cursors.remove(&room(7));
        assert_eq!(cursors.get(&room(1)), Some(&1));
        assert_eq!(cursors.get(&room(2)), None);
        assert_eq!(cursors.get(&room(3)), Some(&3));
        assert_eq!(cursors.rooms.capacity(), 2);
        cursors.remove(&room(1));
        cursors.remove(&room(3));
        assert!(cursors.is_empty());
        assert_eq!(cursors.rooms.capacity(), 0);
    }
}
