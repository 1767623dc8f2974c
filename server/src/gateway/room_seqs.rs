//! The highest seq this node has seen published, per room: a lower bound of the room's
//! last seq in the Store (every event is committed before it is published), kept so that
//! a resume point can be checked without asking the Store. A reconnect storm resumes
//! thousands of connections at once, and each Store query it saves is one less wait on
//! the read pool.
//!
//! Only a bound: on a cluster the broker may have lost the newest envelopes, and a room
//! this node has not heard of since it started is simply unknown. Bounded in size: a
//! shard that fills up is emptied (the rooms in it are asked of the Store again).

use protocol::ids::{RoomId, Seq};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

const SHARDS: usize = 32;
/// Rooms remembered per shard (about 130,000 in all, a few MB at most).
const PER_SHARD: usize = 4096;

/// Room → highest seq seen here.
pub struct RoomSeqs {
    shards: Vec<Mutex<HashMap<RoomId, Seq>>>,
    hasher: std::collections::hash_map::RandomState,
    per_shard: usize,
}

impl Default for RoomSeqs {
    fn default() -> Self {
        RoomSeqs::with_capacity(PER_SHARD)
    }
}

impl RoomSeqs {
    fn with_capacity(per_shard: usize) -> RoomSeqs {
        RoomSeqs {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            per_shard,
        }
    }

    fn shard(&self, room: &RoomId) -> &Mutex<HashMap<RoomId, Seq>> {
        &self.shards[(self.hasher.hash_one(room) as usize) % SHARDS]
    }

    /// Records that `room` has reached `seq`.
    pub fn saw(&self, room: RoomId, seq: Seq) {
        let mut shard = self.shard(&room).lock().expect("room seqs lock");
        if shard.len() >= self.per_shard && !shard.contains_key(&room) {
            shard.clear();
        }
        let known = shard.entry(room).or_insert(seq);
        *known = (*known).max(seq);
    }

    /// The highest seq of `room` seen here, if any.
    pub fn get(&self, room: RoomId) -> Option<Seq> {
        self.shard(&room)
            .lock()
            .expect("room seqs lock")
            .get(&room)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn keeps_the_highest_seq_of_each_room() {
        let seqs = RoomSeqs::default();
        let (a, b) = (RoomId(Uuid::from_u128(1)), RoomId(Uuid::from_u128(2)));
        assert_eq!(seqs.get(a), None);
        seqs.saw(a, 5);
        seqs.saw(a, 3); // an envelope that arrived late
        seqs.saw(b, 1);
        assert_eq!(seqs.get(a), Some(5));
        assert_eq!(seqs.get(b), Some(1));
    }

    #[test]
    fn a_full_shard_forgets_instead_of_growing() {
        let seqs = RoomSeqs::with_capacity(2);
        for n in 0..10_000u128 {
            seqs.saw(RoomId(Uuid::from_u128(n)), 1);
        }
        let held: usize = seqs.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 2 * SHARDS, "held {held}");
        // The newest room is always remembered.
        assert_eq!(seqs.get(RoomId(Uuid::from_u128(9_999))), Some(1));
    }
}
