//! In-process presence: who is in which room, counted per user across their connections
//! (two tabs are one user; closing one keeps them present). A user whose last connection
//! leaves is not reported gone at once: the leave is held for a grace period, and a
//! reconnect within it cancels the leave, so a page reload does not flap them offline.
//!
//! This type only keeps the state of this node and says when a change is visible;
//! [`super::Presence`] tells the room (and the cluster) about it.

use protocol::UserView;
use protocol::ids::{RoomId, UserId};
use std::collections::HashMap;
use std::sync::Mutex;

struct Entry {
    user: UserView,
    devices: u32,
    /// Bumped on each change, so a delayed leave can tell whether it is still current.
    epoch: u64,
}

/// Presence of every room with local subscribers.
#[derive(Default)]
pub struct LocalPresence {
    rooms: Mutex<HashMap<RoomId, HashMap<UserId, Entry>>>,
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
    pub fn join(&self, room: RoomId, user: UserView) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let entries = rooms.entry(room).or_default();
        match entries.get_mut(&user.id) {
            Some(e) => {
                e.devices += 1;
                e.epoch += 1;
                // devices == 1 here means the user was inside a grace period: no one
                // was told they left, so no one is told they joined.
                false
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
                true
            }
        }
    }

    /// One connection of `user` left `room`. When it was their last, the leave is pending:
    /// call [`LocalPresence::finish_leave`] after the grace period.
    pub fn leave(&self, room: RoomId, user: UserId) -> Option<PendingLeave> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let e = rooms.get_mut(&room)?.get_mut(&user)?;
        e.devices = e.devices.saturating_sub(1);
        e.epoch += 1;
        (e.devices == 0).then_some(PendingLeave {
            room,
            user,
            epoch: e.epoch,
        })
    }

    /// Completes a pending leave: true if the user is now gone (others should be told).
    pub fn finish_leave(&self, pending: PendingLeave) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let Some(entries) = rooms.get_mut(&pending.room) else {
            return false;
        };
        let gone = entries
            .get(&pending.user)
            .is_some_and(|e| e.devices == 0 && e.epoch == pending.epoch);
        if gone {
            entries.remove(&pending.user);
            if entries.is_empty() {
                rooms.remove(&pending.room);
            }
        }
        gone
    }

    /// Everyone present in `room` (including those inside a grace period), by handle,
    /// with their device counts.
    pub fn members(&self, room: RoomId) -> Vec<(UserView, u32)> {
        let rooms = self.rooms.lock().expect("presence lock");
        let mut list: Vec<(UserView, u32)> = rooms
            .get(&room)
            .into_iter()
            .flat_map(|m| m.values())
            .map(|e| (e.user.clone(), e.devices.max(1)))
            .collect();
        list.sort_by(|a, b| a.0.handle.cmp(&b.0.handle));
        list
    }

    /// How many users are present in `room`, and the first `max` of them by handle (only
    /// those are copied).
    pub fn first_members(&self, room: RoomId, max: usize) -> (usize, Vec<(UserView, u32)>) {
        let rooms = self.rooms.lock().expect("presence lock");
        let Some(members) = rooms.get(&room) else {
            return (0, Vec::new());
        };
        let mut all: Vec<_> = members.values().collect();
        let total = all.len();
        if total > max {
            all.select_nth_unstable_by(max, |a, b| a.user.handle.cmp(&b.user.handle));
            all.truncate(max);
        }
        all.sort_by(|a, b| a.user.handle.cmp(&b.user.handle));
        let listed = all
            .into_iter()
            .map(|e| (e.user.clone(), e.devices.max(1)))
            .collect();
        (total, listed)
    }

    /// How many users are present in `room` (those inside a grace period included).
    pub fn count(&self, room: RoomId) -> usize {
        let rooms = self.rooms.lock().expect("presence lock");
        rooms.get(&room).map_or(0, |m| m.len())
    }

    /// This node was taken for dead, and every leave of its users announced elsewhere: the
    /// users inside a grace period are dropped at once (their leave is known; coming back
    /// is a join again), and every (room, user) still connected here is returned, to be
    /// recorded and announced again.
    pub fn rejoin(&self) -> Vec<(RoomId, UserView)> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        rooms.retain(|_, m| {
            m.retain(|_, e| e.devices > 0);
            !m.is_empty()
        });
        rooms
            .iter()
            .flat_map(|(room, m)| m.values().map(|e| (*room, e.user.clone())))
            .collect()
    }

    /// The rooms where `user` is present, with their device count there.
    pub fn rooms_of(&self, user: UserId) -> Vec<(RoomId, UserView, u32)> {
        let rooms = self.rooms.lock().expect("presence lock");
        rooms
            .iter()
            .filter_map(|(room, m)| {
                m.get(&user)
                    .map(|e| (*room, e.user.clone(), e.devices.max(1)))
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
        }
    }

    #[test]
    fn two_devices_are_one_user_until_both_leave() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        assert!(p.join(room, user(1)));
        assert!(!p.join(room, user(1)), "a second tab is not a new join");
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
        p.join(a, user(1));
        p.join(a, user(2));
        p.join(b, user(2));
        let pending = p.leave(a, user(2).id).unwrap();
        let mut back = p.rejoin();
        back.sort_by_key(|(room, u)| (room.0, u.id.0));
        assert_eq!(back, vec![(a, user(1)), (b, user(2))]);
        // The leave held for the grace period is not announced again...
        assert!(!p.finish_leave(pending));
        // ...and coming back is a join to announce.
        assert!(p.join(a, user(2)));
    }

    #[test]
    fn coming_back_within_the_grace_period_cancels_the_leave() {
        let p = LocalPresence::default();
        let room = RoomId(Uuid::from_u128(1));
        p.join(room, user(1));
        let pending = p.leave(room, user(1).id).unwrap();
        assert!(
            !p.join(room, user(1)),
            "no join is announced: no leave was either"
        );
        assert!(!p.finish_leave(pending), "the old leave is stale");
        assert_eq!(p.members(room).len(), 1);
    }
}
