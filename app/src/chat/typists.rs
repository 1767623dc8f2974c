//! Who is typing where, as the page shows it. An indicator lasts as long as the server
//! says (`ttl_ms` in its `typing` frame; the server repeats it while the person keeps
//! typing) and then expires here by itself, so it cannot outlive a node that died, a
//! lost `stopped` frame or a person who left. A message from the person, a `stopped`
//! frame or their leaving the room ends it at once.

use protocol::UserView;
use protocol::ids::{RoomId, UserId};
use std::collections::HashMap;

/// How long an indicator lasts when the server's frame names no time (an older server).
pub const DEFAULT_TTL_MS: f64 = 6_000.0;

#[derive(Debug, Clone, PartialEq)]
struct Typist {
    user: UserView,
    /// When the indicator ends unless renewed (browser clock, ms).
    until_ms: f64,
}

/// Typists by room, in the order they started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typists {
    rooms: HashMap<RoomId, Vec<Typist>>,
}

impl Typists {
    /// `user` is typing in `room` as of `now_ms`, for `ttl_ms` unless renewed.
    pub fn start(&mut self, room: RoomId, user: UserView, now_ms: f64, ttl_ms: Option<u64>) {
        let until_ms = now_ms + ttl_ms.map_or(DEFAULT_TTL_MS, |ms| ms as f64);
        let list = self.rooms.entry(room).or_default();
        match list.iter_mut().find(|t| t.user.id == user.id) {
            Some(t) => {
                t.user = user;
                t.until_ms = until_ms;
            }
            None => list.push(Typist { user, until_ms }),
        }
    }

    /// `user` stopped typing in `room` (said so, sent a message, or left). Whether they
    /// were shown.
    pub fn stop(&mut self, room: RoomId, user: UserId) -> bool {
        let Some(list) = self.rooms.get_mut(&room) else {
            return false;
        };
        let before = list.len();
        list.retain(|t| t.user.id != user);
        let changed = list.len() != before;
        if list.is_empty() {
            self.rooms.remove(&room);
        }
        changed
    }

    /// Everyone in `users` stopped typing in `room` (they left it). Whether any was shown.
    pub fn stop_all(&mut self, room: RoomId, users: &[UserId]) -> bool {
        let mut changed = false;
        for user in users {
            changed |= self.stop(room, *user);
        }
        changed
    }

    /// Forgets every indicator of `room` (the page no longer follows it). Whether any was shown.
    pub fn clear_room(&mut self, room: RoomId) -> bool {
        self.rooms.remove(&room).is_some()
    }

    /// Removes every indicator that ended by `now_ms`. Whether any did.
    pub fn expire(&mut self, now_ms: f64) -> bool {
        let mut changed = false;
        self.rooms.retain(|_, list| {
            let before = list.len();
            list.retain(|t| t.until_ms > now_ms);
            changed |= list.len() != before;
            !list.is_empty()
        });
        changed
    }

    /// Whether any indicator is shown.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// The names of those typing in `room`, in the order they started.
    pub fn names(&self, room: RoomId) -> Vec<String> {
        self.rooms
            .get(&room)
            .map(|list| list.iter().map(|t| t.user.name.clone()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user(n: u128, name: &str) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: name.to_lowercase(),
            name: name.into(),
            avatar: None,
        }
    }

    const ROOM: RoomId = RoomId(Uuid::from_u128(100));

    #[test]
    fn an_indicator_expires_by_itself_unless_renewed() {
        let mut t = Typists::default();
        t.start(ROOM, user(1, "Bo"), 0.0, Some(5_000));
        assert_eq!(t.names(ROOM), ["Bo"]);
        assert!(!t.expire(4_999.0));
        // Renewed at 3 s: it now lasts until 8 s.
        t.start(ROOM, user(1, "Bo"), 3_000.0, Some(5_000));
        assert!(!t.expire(7_000.0));
        assert_eq!(t.names(ROOM), ["Bo"]);
        assert!(t.expire(8_000.0), "nobody renewed it: it ends");
        assert!(t.names(ROOM).is_empty());
        assert!(t.is_empty());
    }

    #[test]
    fn a_frame_without_a_time_still_expires() {
        let mut t = Typists::default();
        t.start(ROOM, user(1, "Bo"), 0.0, None);
        assert!(!t.expire(DEFAULT_TTL_MS - 1.0));
        assert!(t.expire(DEFAULT_TTL_MS));
    }

    #[test]
    fn stopping_removes_only_that_person_and_says_whether_it_changed_anything() {
        let mut t = Typists::default();
        t.start(ROOM, user(1, "Bo"), 0.0, Some(5_000));
        t.start(ROOM, user(2, "Cy"), 10.0, Some(5_000));
        t.start(ROOM, user(1, "Bo"), 20.0, Some(5_000));
        assert_eq!(t.names(ROOM), ["Bo", "Cy"], "a renewal keeps the order");
        assert!(t.stop(ROOM, user(1, "Bo").id));
        assert!(!t.stop(ROOM, user(1, "Bo").id));
        assert_eq!(t.names(ROOM), ["Cy"]);
        assert!(!t.stop(RoomId(Uuid::from_u128(7)), user(2, "Cy").id));
    }

    #[test]
    fn those_who_leave_stop_typing_all_at_once() {
        let mut t = Typists::default();
        t.start(ROOM, user(1, "Bo"), 0.0, Some(5_000));
        t.start(ROOM, user(2, "Cy"), 0.0, Some(5_000));
        t.start(ROOM, user(3, "Di"), 0.0, Some(5_000));
        let left = [user(1, "Bo").id, user(9, "Zed").id, user(3, "Di").id];
        assert!(t.stop_all(ROOM, &left));
        assert_eq!(t.names(ROOM), ["Cy"]);
        assert!(!t.stop_all(ROOM, &left), "nothing more to stop");
    }

    #[test]
    fn a_room_no_longer_followed_forgets_its_typists() {
        let mut t = Typists::default();
        t.start(ROOM, user(1, "Bo"), 0.0, Some(5_000));
        assert!(t.clear_room(ROOM));
        assert!(t.names(ROOM).is_empty());
        assert!(!t.clear_room(ROOM));
    }
}
