//! In-process presence: who is in which room, counted per user across their connections
//! (two tabs are one user; closing one keeps them present). A user whose last connection
//! leaves is not reported gone at once: the leave is held for a grace period, and a
//! reconnect within it cancels the leave, so a page reload does not flap them offline.
//!
//! This type only keeps the state of this node and says when a change is visible;
//! [`super::Presence`] tells the room (and the cluster) about it. Each room carries a
//! version that changes whenever what its roster shows changes (a user, or the device count
//! shown, which is at least 1 inside a grace period), for the cached rosters
//! ([`super::roster_cache`]).

use protocol::UserView;
use protocol::ids::{RoomId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Entry {
    /// Shared with the user's sessions and the user cache (`users.rs`).
    user: Arc<UserView>,
    devices: u32,
    /// Bumped on each change, so a delayed leave can tell whether it is still current.
    epoch: u64,
}

/// One room's users, and the version of what its roster shows.
#[derive(Default)]
struct Room {
    users: HashMap<UserId, Entry>,
    version: u64,
}

/// Every room, and the last version given out: versions are never reused, not even by a
/// room that empties and fills again.
#[derive(Default)]
struct Rooms {
    rooms: HashMap<RoomId, Room>,
    last_version: u64,
}

impl Rooms {
    /// What `room`'s roster shows changed.
    fn changed(&mut self, room: RoomId) {
        self.last_version += 1;
        if let Some(r) = self.rooms.get_mut(&room) {
            r.version = self.last_version;
        }
    }
}

/// Presence of every room with local subscribers.
#[derive(Default)]
pub struct LocalPresence {
    rooms: Mutex<Rooms>,
}

/// A leave that becomes visible after the grace period unless the user comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLeave {
    pub room: RoomId,
    pub user: UserId,
    epoch: u64,
}

impl LocalPresence {
    /// One more connection of `user` in `room`. True when the user was not present
    /// before (others should see them join).
    pub fn join(&self, room: RoomId, user: Arc<UserView>) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let entries = &mut rooms.rooms.entry(room).or_default().users;
        let (joined, shown_changed) = match entries.get_mut(&user.id) {
            Some(e) => {
                e.devices += 1;
                e.epoch += 1;
                // devices == 1 here means the user was inside a grace period: no one
                // was told they left, so no one is told they joined, and the roster
                // showed them with one device all along.
                (false, e.devices > 1)
            }
            None => {
                entries.insert(
                    user.id,
                    Entry {
                        user,
                        devices: 1,
                        epoch: 0,
                    },
                );
                (true, true)
            }
        };
        if shown_changed {
            rooms.changed(room);
        }
        joined
    }

    /// One connection of `user` left `room`. When it was their last, the leave is pending:
    /// call [`LocalPresence::finish_leave`] after the grace period.
    pub fn leave(&self, room: RoomId, user: UserId) -> Option<PendingLeave> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let e = rooms.rooms.get_mut(&room)?.users.get_mut(&user)?;
        // From 1 to 0 the roster still shows one device (the grace period).
        let shown_changed = e.devices > 1;
        e.devices = e.devices.saturating_sub(1);
        e.epoch += 1;
        let pending = (e.devices == 0).then_some(PendingLeave {
            room,
            user,
            epoch: e.epoch,
        });
        if shown_changed {
            rooms.changed(room);
        }
        pending
    }

    /// Completes a pending leave: true if the user is now gone (others should be told).
    pub fn finish_leave(&self, pending: PendingLeave) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let Some(entries) = rooms.rooms.get_mut(&pending.room).map(|r| &mut r.users) else {
            return false;
        };
        let gone = entries
            .get(&pending.user)
            .is_some_and(|e| e.devices == 0 && e.epoch == pending.epoch);
        if gone {
            entries.remove(&pending.user);
            if entries.is_empty() {
                rooms.rooms.remove(&pending.room);
            } else {
                rooms.changed(pending.room);
            }
        }
        gone
    }

    /// Takes `user` out of `room` at once, whatever their devices, a pending leave
    /// included (it finds them gone). True when they were there (others should be told).
    pub fn remove(&self, room: RoomId, user: UserId) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let Some(r) = rooms.rooms.get_mut(&room) else {
            return false;
        };
        if r.users.remove(&user).is_none() {
            return false;
        }
        if r.users.is_empty() {
            rooms.rooms.remove(&room);
        } else {
            rooms.changed(room);
        }
        true
    }

    /// Everyone present in `room` (including those inside a grace period), by handle,
    /// with their device counts.
    pub fn members(&self, room: RoomId) -> Vec<(UserView, u32)> {
        let rooms = self.rooms.lock().expect("presence lock");
        let mut list: Vec<(UserView, u32)> = rooms
            .rooms
            .get(&room)
            .into_iter()
            .flat_map(|r| r.users.values())
            .map(|e| (UserView::clone(&e.user), e.devices.max(1)))
            .collect();
        list.sort_by(|a, b| a.0.handle.cmp(&b.0.handle));
        list
    }

    /// How many users are present in `room`, and the first `max` of them by handle (only
    /// those are copied).
    pub fn first_members(&self, room: RoomId, max: usize) -> (usize, Vec<(UserView, u32)>) {
        let (_, total, listed) = self.versioned_first_members(room, max);
        (total, listed)
    }

    /// [`LocalPresence::first_members`] with the room's version they are the state of.
    pub fn versioned_first_members(
        &self,
        room: RoomId,
        max: usize,
    ) -> (u64, usize, Vec<(UserView, u32)>) {
        let rooms = self.rooms.lock().expect("presence lock");
        let Some(members) = rooms.rooms.get(&room) else {
            return (0, 0, Vec::new());
        };
        let version = members.version;
        let mut all: Vec<_> = members.users.values().collect();
        let total = all.len();
        if total > max {
            all.select_nth_unstable_by(max, |a, b| a.user.handle.cmp(&b.user.handle));
            all.truncate(max);
        }
        all.sort_by(|a, b| a.user.handle.cmp(&b.user.handle));
        let listed = all
            .into_iter()
            .map(|e| (UserView::clone(&e.user), e.devices.max(1)))
            .collect();
        (version, total, listed)
    }

    /// The version of what `room`'s roster shows (0 for a room nobody is in).
    pub fn version(&self, room: RoomId) -> u64 {
        let rooms = self.rooms.lock().expect("presence lock");
        rooms.rooms.get(&room).map_or(0, |r| r.version)
    }

    /// How many users are present in `room` (those inside a grace period included).
    pub fn count(&self, room: RoomId) -> usize {
        let rooms = self.rooms.lock().expect("presence lock");
        rooms.rooms.get(&room).map_or(0, |r| r.users.len())
    }

    /// This node was taken for dead, and every leave of its users announced elsewhere: the
    /// users inside a grace period are dropped at once (their leave is known; coming back
    /// is a join again), and every (room, user) still connected here is returned, to be
    /// recorded and announced again.
    pub fn rejoin(&self) -> Vec<(RoomId, UserView)> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        rooms.rooms.retain(|_, r| {
            r.users.retain(|_, e| e.devices > 0);
            !r.users.is_empty()
        });
        let all: Vec<RoomId> = rooms.rooms.keys().copied().collect();
        for room in all {
            rooms.changed(room);
        }
        rooms
            .rooms
            .iter()
            .flat_map(|(room, r)| r.users.values().map(|e| (*room, UserView::clone(&e.user))))
            .collect()
    }

    /// The rooms where `user` is present, with their device count there.
    pub fn rooms_of(&self, user: UserId) -> Vec<(RoomId, UserView, u32)> {
        let rooms = self.rooms.lock().expect("presence lock");
        rooms
            .rooms
            .iter()
            .filter_map(|(room, r)| {
                r.users
                    .get(&user)
                    .map(|e| (*room, UserView::clone(&e.user), e.devices.max(1)))
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
    fn two_devices_are_one_user_until_both_leave() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        assert!(p.join(room, user(1).into()));
        assert!(
            !p.join(room, user(1).into()),
            "a second tab is not a new join"
        );
        assert_eq!(p.members(room)[0].1, 2);
        assert_eq!(p.rooms_of(user(1).id).len(), 1);
        assert_eq!(
            p.leave(room, user(1).id),
            None,
            "one tab left, still present"
        );
        let pending = p.leave(room, user(1).id).expect("last tab left");
        assert!(p.finish_leave(pending));
        assert!(p.members(room).is_empty());
    }

    #[test]
    fn a_rejoin_keeps_the_connected_and_drops_those_in_their_grace_period() {
        let p = LocalPresence::default();
        let (a, b) = (RoomId(Uuid::from_u128(1)), RoomId(Uuid::from_u128(2)));
        p.join(a, user(1).into());
        p.join(a, user(2).into());
        p.join(b, user(2).into());
        let pending = p.leave(a, user(2).id).unwrap();
        let mut back = p.rejoin();
        back.sort_by_key(|(room, u)| (room.0, u.id.0));
        assert_eq!(back, vec![(a, user(1)), (b, user(2))]);
        // The leave held for the grace period is not announced again...
        assert!(!p.finish_leave(pending));
        // ...and coming back is a join to announce.
        assert!(p.join(a, user(2).into()));
    }

    #[test]
    fn a_removed_user_is_gone_at_once_and_their_pending_leave_finds_nothing() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        p.join(room, user(1).into());
        p.join(room, user(1).into());
        p.join(room, user(2).into());
        let pending = p.leave(room, user(2).id).unwrap();
        assert!(p.remove(room, user(1).id), "two devices, removed at once");
        assert!(
            p.remove(room, user(2).id),
            "in a grace period: still shown until now"
        );
        assert!(!p.remove(room, user(2).id), "already gone");
        assert!(!p.finish_leave(pending), "nothing left to announce");
        assert_eq!(p.count(room), 0);
        assert!(p.join(room, user(1).into()), "coming back is a join");
    }

    #[test]
    fn coming_back_within_the_grace_period_cancels_the_leave() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        p.join(room, user(1).into());
        let pending = p.leave(room, user(1).id).unwrap();
        assert!(
            !p.join(room, user(1).into()),
            "no join is announced: no leave was either"
        );
        assert!(!p.finish_leave(pending), "the old leave is stale");
        assert_eq!(p.members(room).len(), 1);
    }

    #[test]
    fn the_version_changes_with_what_the_roster_shows_and_only_then() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        assert_eq!(p.version(room), 0);
        p.join(room, user(1).into());
        let joined = p.version(room);
        assert_ne!(joined, 0, "a user joined");

        let pending = p.leave(room, user(1).id).unwrap();
        p.join(room, user(1).into());
        assert!(!p.finish_leave(pending));
        assert_eq!(
            p.version(room),
            joined,
            "a reconnect inside the grace period"
        );

        p.join(room, user(1).into());
        let two = p.version(room);
        assert_ne!(two, joined, "a second device is shown");
        assert_eq!(p.leave(room, user(1).id), None);
        let one = p.version(room);
        assert_ne!(one, two, "back to one device");

        p.join(room, user(2).into());
        let pending = p.leave(room, user(2).id).unwrap();
        assert_eq!(p.version(room), p.versioned_first_members(room, 10).0);
        let in_grace = p.version(room);
        assert!(p.finish_leave(pending));
        assert_ne!(p.version(room), in_grace, "a user left");

        let pending = p.leave(room, user(1).id).unwrap();
        assert!(p.finish_leave(pending));
        assert_eq!(p.version(room), 0, "nobody is in the room");
        p.join(room, user(1).into());
        assert!(
            p.version(room) > one,
            "a room that fills again never reuses a version"
        );
    }
}
