//! A small map keyed by room, for what every connection keeps per room it is in: the
//! sender's cursors (the last seq written), the session's subscriptions.
//!
//! A sorted vector looked up by binary search, its capacity kept at its length: a
//! connection is in a few rooms (one, mostly), and a hash map of one entry costs a table
//! of four and a hasher's 16 bytes of keys in every connection, where this costs the entry
//! alone. Looking up is on every delivery; adding and removing a room are rare and may
//! move the rooms after it.

use protocol::ids::RoomId;

#[derive(Debug, Clone)]
pub struct RoomMap<V> {
    rooms: Vec<(RoomId, V)>,
}

impl<V> Default for RoomMap<V> {
    fn default() -> Self {
        RoomMap { rooms: Vec::new() }
    }
}

impl<V> RoomMap<V> {
    fn find(&self, room: &RoomId) -> Result<usize, usize> {
        self.rooms.binary_search_by(|(r, _)| r.cmp(room))
    }

    /// `room`'s value, if it is in the map.
    pub fn get(&self, room: &RoomId) -> Option<&V> {
        self.find(room).ok().map(|at| &self.rooms[at].1)
    }

    /// Whether `room` is in the map.
    pub fn contains(&self, room: &RoomId) -> bool {
        self.find(room).is_ok()
    }

    /// Sets `room`'s value, adding the room if it was not in the map.
    pub fn insert(&mut self, room: RoomId, value: V) {
        match self.find(&room) {
            Ok(at) => self.rooms[at].1 = value,
            Err(at) => {
                self.rooms.reserve_exact(1);
                self.rooms.insert(at, (room, value));
            }
        }
    }

    /// Takes `room` out of the map; whether it was in it.
    pub fn remove(&mut self, room: &RoomId) -> bool {
        let Ok(at) = self.find(room) else {
            return false;
        };
        self.rooms.remove(at);
        self.rooms.shrink_to_fit();
        true
    }

    /// How many rooms are in the map.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// Whether no room is in the map.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// The rooms in the map, in id order.
    pub fn rooms(&self) -> impl Iterator<Item = RoomId> + '_ {
        self.rooms.iter().map(|(room, _)| *room)
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
        let mut map = RoomMap::default();
        assert!(map.is_empty());
        for (n, seq) in [(5, 50), (1, 10), (9, 90), (3, 30)] {
            map.insert(room(n), seq);
        }
        for (n, seq) in [(5, 50), (1, 10), (9, 90), (3, 30)] {
            assert_eq!(map.get(&room(n)), Some(&seq));
            assert!(map.contains(&room(n)));
        }
        assert_eq!(map.get(&room(4)), None);
        assert!(!map.contains(&room(4)));
        map.insert(room(3), 31);
        assert_eq!(map.get(&room(3)), Some(&31));
        assert_eq!(map.len(), 4, "a new value is not a new room");
        let rooms: Vec<RoomId> = map.rooms().collect();
        assert_eq!(rooms, vec![room(1), room(3), room(5), room(9)]);
    }

    #[test]
    fn removing_keeps_the_others_and_gives_memory_back() {
        let mut map = RoomMap::default();
        for n in 1..=3 {
            map.insert(room(n), ());
        }
        assert_eq!(map.rooms.capacity(), 3, "capacity kept at the length");
        assert!(map.remove(&room(2)));
        assert!(!map.remove(&room(7)));
        assert!(map.contains(&room(1)) && !map.contains(&room(2)) && map.contains(&room(3)));
        assert_eq!(map.rooms.capacity(), 2);
        assert!(map.remove(&room(1)) && map.remove(&room(3)));
        assert!(map.is_empty());
        assert_eq!(map.rooms.capacity(), 0);
    }
}
