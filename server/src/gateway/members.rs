//! Who belongs to which room, cached for the rooms this process has seen written to, so
//! that a new message can be announced as unread to members who are connected but not
//! watching the room — without a Store query per message. Loaded from the Store on first
//! use; kept current by this process's joins, invitations and leaves.
//!
//! On a cluster, changes made on another node arrive as `membership` envelopes through the
//! broker (`fanout.rs`), so this node sees them a little later; a leave made here is
//! recorded before it is acked. When the broker says envelopes may have been lost (a
//! dropped Redis link), every entry is forgotten and read again (`recheck.rs`).

use protocol::ids::{RoomId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use store::{Store, StoreResult};

/// Room → members, for rooms loaded so far.
#[derive(Default)]
pub struct Members {
    rooms: RwLock<HashMap<RoomId, Arc<HashSet<UserId>>>>,
    /// Counts every change, cached room or not: a load that saw it move while reading the
    /// Store may have read the members before a join or leave and must read again.
    changes: AtomicU64,
}

/// Loads tried before a room's members are returned uncached (changes kept coming).
const LOAD_TRIES: usize = 5;

impl Members {
    /// The cached members of `room`, if loaded.
    pub fn get(&self, room: RoomId) -> Option<Arc<HashSet<UserId>>> {
        self.rooms.read().expect("members lock").get(&room).cloned()
    }

    /// The members of `room`, loading them if needed.
    pub async fn load(&self, store: &dyn Store, room: RoomId) -> StoreResult<Arc<HashSet<UserId>>> {
        if let Some(m) = self.get(room) {
            return Ok(m);
        }
        let mut tries = 0;
        loop {
            tries += 1;
            let before = self.changes.load(Ordering::SeqCst);
            let set: HashSet<UserId> = store
                .members(room)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect();
            let set = Arc::new(set);
            let mut rooms = self.rooms.write().expect("members lock");
            if let Some(cached) = rooms.get(&room) {
                return Ok(cached.clone());
            }
            // A change recorded while the Store was read may be missing from `set`.
            if self.changes.load(Ordering::SeqCst) == before {
                rooms.insert(room, set.clone());
                return Ok(set);
            }
            if tries == LOAD_TRIES {
                return Ok(set);
            }
        }
    }

    /// Forgets every cached room (changes may have been missed): each is read from the
    /// Store again on its next use.
    pub fn forget_all(&self) {
        let mut rooms = self.rooms.write().expect("members lock");
        self.changes.fetch_add(1, Ordering::SeqCst);
        rooms.clear();
    }

    /// Records that `user` joined (`true`) or left `room`, if the room is cached.
    pub fn changed(&self, room: RoomId, user: UserId, joined: bool) {
        let mut rooms = self.rooms.write().expect("members lock");
        self.changes.fetch_add(1, Ordering::SeqCst);
        if let Some(set) = rooms.get_mut(&room) {
            let set = Arc::make_mut(set);
            if joined {
                set.insert(user);
            } else {
                set.remove(&user);
            }
        }
    }
}
