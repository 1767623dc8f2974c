//! Each room's `presence` frame, encoded once and handed to every subscriber until what it
//! shows changes. A reconnect storm subscribes every member of a room within a second or
//! two; without this each of them copies, sorts and encodes the same list of up to
//! `--presence-roster-max` users.
//!
//! An entry is valid for one [`Stamp`]: the room's presence version (bumped by
//! [`super::local::LocalPresence`] whenever a user, or the device count it shows, changes;
//! not by a reconnect inside the grace period, which others cannot see), the statuses'
//! epoch (bumped by [`super::Statuses`] whenever a status anyone sees changes) and the size
//! of the list. A stamp is read no later than the state it describes, so an entry is
//! never older than its stamp says. Entries nobody asked for since the last sweep are
//! dropped, so idle rooms hold no copy.
//!
//! Only a single process caches: on a cluster the roster comes from Redis, where other
//! nodes' changes do not pass through this node's versions (reads are shared there
//! instead, [`super::roster_flights`]).

use confab_websocket::FrameText;
use protocol::ids::RoomId;
use std::collections::HashMap;
use std::sync::Mutex;

/// What a cached roster is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The room's presence version.
    pub room: u64,
    /// The statuses' epoch.
    pub statuses: u64,
    /// The most users listed.
    pub max: usize,
}

struct Cached {
    stamp: Stamp,
    text: FrameText,
    /// Asked for since the last sweep.
    used: bool,
}

/// Rosters of the rooms asked for recently.
#[derive(Default)]
pub struct RosterCache {
    rooms: Mutex<HashMap<RoomId, Cached>>,
}

impl RosterCache {
    /// The cached roster of `room`, if it is valid for `stamp`.
    pub fn get(&self, room: RoomId, stamp: Stamp) -> Option<FrameText> {
        let mut rooms = self.rooms.lock().expect("roster cache lock");
        let cached = rooms.get_mut(&room).filter(|c| c.stamp == stamp)?;
        cached.used = true;
        Some(cached.text.clone())
    }

    /// Keeps `text` as `room`'s roster for `stamp`, unless a newer one is already there.
    pub fn put(&self, room: RoomId, stamp: Stamp, text: FrameText) {
        let mut rooms = self.rooms.lock().expect("roster cache lock");
        let newer = rooms.get(&room).is_some_and(|c| {
            c.stamp.room > stamp.room
                || (c.stamp.room == stamp.room && c.stamp.statuses > stamp.statuses)
        });
        if !newer {
            rooms.insert(
                room,
                Cached {
                    stamp,
                    text,
                    used: true,
                },
            );
        }
    }

    /// Drops the rosters nobody asked for since the last sweep.
    pub fn sweep(&self) {
        let mut rooms = self.rooms.lock().expect("roster cache lock");
        rooms.retain(|_, c| std::mem::take(&mut c.used));
    }

    /// How many rooms have a roster cached.
    #[cfg(test)]
    fn cached_rooms(&self) -> usize {
        self.rooms.lock().expect("roster cache lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn stamp(room: u64, statuses: u64) -> Stamp {
        Stamp {
            room,
            statuses,
            max: 100,
        }
    }

    fn text(s: &str) -> FrameText {
        FrameText::from(s.to_owned())
    }

    #[test]
    fn a_roster_is_served_only_for_its_own_stamp() {
        let cache = RosterCache::default();
        let room = RoomId(Uuid::from_u128(1));
        assert!(cache.get(room, stamp(1, 1)).is_none());
        cache.put(room, stamp(1, 1), text("a"));
        assert_eq!(cache.get(room, stamp(1, 1)).unwrap().as_str(), "a");
        assert!(cache.get(room, stamp(2, 1)).is_none(), "the room changed");
        assert!(cache.get(room, stamp(1, 2)).is_none(), "a status changed");
        let other_max = Stamp {
            max: 5,
            ..stamp(1, 1)
        };
        assert!(cache.get(room, other_max).is_none(), "a shorter list");
    }

    #[test]
    fn an_older_roster_does_not_replace_a_newer_one() {
        let cache = RosterCache::default();
        let room = RoomId(Uuid::from_u128(1));
        cache.put(room, stamp(3, 1), text("new"));
        cache.put(room, stamp(2, 1), text("old"));
        assert_eq!(cache.get(room, stamp(3, 1)).unwrap().as_str(), "new");
        cache.put(room, stamp(3, 0), text("older status"));
        assert_eq!(cache.get(room, stamp(3, 1)).unwrap().as_str(), "new");
    }

    #[test]
    fn rosters_nobody_asked_for_are_swept() {
        let cache = RosterCache::default();
        let (a, b) = (RoomId(Uuid::from_u128(1)), RoomId(Uuid::from_u128(2)));
        cache.put(a, stamp(1, 1), text("a"));
        cache.put(b, stamp(1, 1), text("b"));
        cache.sweep();
        assert_eq!(
            cache.cached_rooms(),
            2,
            "both were used since they were made"
        );
        assert!(cache.get(a, stamp(1, 1)).is_some());
        cache.sweep();
        assert_eq!(
            cache.cached_rooms(),
            1,
            "b was not asked for since the last sweep"
        );
        cache.sweep();
        assert_eq!(cache.cached_rooms(), 0, "nor a since the one before");
    }
}
