//! Who gets a room's unread notices: the local connections of the room's members that are
//! not subscribed to it, remembered per room between the hub's changes.
//!
//! Every new message runs the unread pass, and without a memo the pass is one lookup per
//! member of the room (5,000 for a room of 5,000) to find, most of the time, the same
//! connections as for the message before. The hub counts its changes (a connection
//! registered or forgotten, a subscription made or dropped: [`Unwatched::changed`]); a
//! room's answer is kept with the count it was computed at and the member set it was
//! computed from, and used again while neither has moved. A change clears every room's
//! answer at the next pass, so no closed connection is kept for long.
//!
//! The count is read before the answer is computed and bumped after each change is made
//! (still under the hub's lock): a change during a computation leaves that answer tagged
//! with an older count, so it is computed again next time. (What a pass that overlaps a change decides is as racy as
//! without the memo: a notice may reach a connection that is subscribing at that moment.)

use protocol::ids::{RoomId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::outbound::ConnHandle;

/// The memo of the unread pass (one per hub).
#[derive(Default)]
pub struct Unwatched {
    /// Changes made to the hub so far.
    changes: AtomicU64,
    memo: Mutex<Memo>,
}

#[derive(Default)]
struct Memo {
    /// The count of changes every answer here was computed at.
    changes: u64,
    rooms: HashMap<RoomId, Answer, foldhash::fast::RandomState>,
}

struct Answer {
    /// The member set it was computed from (held, so that its address is not reused).
    members: Arc<HashSet<UserId>>,
    conns: Arc<[ConnHandle]>,
}

impl Unwatched {
    /// The hub changed (call after the change is made).
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// The local connections of `members` that do not watch `room`: remembered, or made by
    /// `compute` (which reads the hub) and remembered.
    pub fn get(
        &self,
        room: RoomId,
        members: &Arc<HashSet<UserId>>,
        compute: impl FnOnce() -> Vec<ConnHandle>,
    ) -> Arc<[ConnHandle]> {
        let changes = self.changes.load(Ordering::Acquire);
        {
            let mut memo = self.lock();
            if memo.changes != changes {
                memo.rooms.clear();
                memo.changes = changes;
            }
            if let Some(answer) = memo.rooms.get(&room)
                && Arc::ptr_eq(&answer.members, members)
            {
                return answer.conns.clone();
            }
        }
        let conns: Arc<[ConnHandle]> = compute().into();
        let mut memo = self.lock();
        // Kept only if nothing changed meanwhile (then `memo.changes` is still this count).
        if memo.changes == changes && self.changes.load(Ordering::Acquire) == changes {
            memo.rooms.insert(
                room,
                Answer {
                    members: members.clone(),
                    conns: conns.clone(),
                },
            );
        }
        conns
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memo> {
        // A panic leaves nothing half-made: at worst an answer is missing.
        self.memo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn conn(id: u64) -> ConnHandle {
        ConnHandle::new(id, UserId(Uuid::from_u128(id as u128)), 4, Arc::default()).0
    }

    fn ids(conns: &[ConnHandle]) -> Vec<u64> {
        conns.iter().map(|c| c.id).collect()
    }

    #[test]
    fn an_answer_is_kept_until_the_hub_or_the_members_change() {
        let memo = Unwatched::default();
        let room = RoomId(Uuid::from_u128(1));
        let members = Arc::new(HashSet::from([UserId(Uuid::from_u128(7))]));
        let computed = std::cell::Cell::new(0);
        let compute = |id| {
            computed.set(computed.get() + 1);
            vec![conn(id)]
        };
        assert_eq!(ids(&memo.get(room, &members, || compute(7))), [7]);
        assert_eq!(ids(&memo.get(room, &members, || compute(8))), [7]);
        assert_eq!(computed.get(), 1, "the second pass used the first answer");
        // The hub changed: computed again.
        memo.changed();
        assert_eq!(ids(&memo.get(room, &members, || compute(8))), [8]);
        assert_eq!(computed.get(), 2);
        // Another member set (a join or a leave made a new one): computed again.
        let others = Arc::new(HashSet::from([UserId(Uuid::from_u128(9))]));
        assert_eq!(ids(&memo.get(room, &others, || compute(9))), [9]);
        assert_eq!(computed.get(), 3);
        // Another room has its own answer.
        let elsewhere = RoomId(Uuid::from_u128(2));
        assert_eq!(ids(&memo.get(elsewhere, &others, || compute(10))), [10]);
        assert_eq!(ids(&memo.get(room, &others, || compute(11))), [9]);
    }

    #[test]
    fn an_answer_computed_across_a_change_is_not_kept() {
        let memo = Unwatched::default();
        let room = RoomId(Uuid::from_u128(1));
        let members = Arc::new(HashSet::new());
        // The hub changes while the answer is being computed.
        let first = memo.get(room, &members, || {
            memo.changed();
            vec![conn(1)]
        });
        assert_eq!(ids(&first), [1], "this pass uses what it computed");
        assert_eq!(ids(&memo.get(room, &members, || vec![conn(2)])), [2]);
    }
}
