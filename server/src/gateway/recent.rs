//! Each active room's most recent events, kept in memory on this node: the same
//! encoded events the fan-out offers to subscribers, so a resume or a gap fill that
//! reaches back only a little needs no Store query.
//!
//! A reconnect storm resumes thousands of connections at once, nearly all of them a few
//! events behind; each used to read its replay from the Store (and wait its turn on the
//! read pool). Now the replay comes from here, and the Store is read only for what is
//! older than a room's ring.
//!
//! A ring holds a gap-free run of seqs, `first..=last`: an event that does not follow
//! `last` starts the ring over (an event lost between nodes, or the first event after an
//! eviction), and an event at or below `last` (a re-offer) is ignored. Memory is bounded
//! twice: [`RING_EVENTS`] events per room, and [`SHARD_BYTES`] of frame text per shard;
//! a shard over its budget drops the rings of the rooms published longest ago (down to
//! three quarters of the budget, so the sort is paid rarely).
//!
//! A replay shows each message as it is now, and an event holds its message as it was
//! when published: so an event that changes an earlier message (an edit, a delete, a
//! reaction, a reply moving its root's thread summary) drops the room's ring and starts a
//! new one (`Gateway::publish_event`). A ring thus never holds a message that changed
//! after it was published; rooms where messages change often replay from the Store.
//!
//! The ring says what the room's events after a cursor are, not whether more exist: that
//! is the caller's question (see `Gateway::recent_after`), answered differently on one
//! node and on a cluster.

use protocol::ids::{RoomId, Seq};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::outbound::RoomEvent;

const SHARDS: usize = 32;
/// Events kept per room.
pub const RING_EVENTS: usize = 256;
/// Frame text kept per shard (32 shards: 32 MiB in all at most).
pub const SHARD_BYTES: usize = 1 << 20;

struct Ring {
    events: VecDeque<Arc<RoomEvent>>,
    bytes: usize,
    touched: Instant,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            events: VecDeque::new(),
            bytes: 0,
            touched: Instant::now(),
        }
    }

    fn last(&self) -> Option<Seq> {
        self.events.back().map(|e| e.seq)
    }

    /// Appends `event` if it follows `last`; starts over if it does not. Returns the
    /// change in bytes held.
    fn push(&mut self, event: &Arc<RoomEvent>) -> isize {
        let before = self.bytes as isize;
        match self.last() {
            Some(last) if event.seq <= last => return 0,
            Some(last) if event.seq != last + 1 => {
                self.events.clear();
                self.bytes = 0;
            }
            _ => {}
        }
        self.bytes += event.text.len();
        self.events.push_back(event.clone());
        while self.events.len() > RING_EVENTS {
            let old = self.events.pop_front().expect("over the bound, not empty");
            self.bytes -= old.text.len();
        }
        self.touched = Instant::now();
        self.bytes as isize - before
    }

    /// Every held event after `cursor`, if the ring reaches back to `cursor + 1` (or
    /// `cursor` is its last).
    fn after(&self, cursor: Seq) -> Option<Vec<Arc<RoomEvent>>> {
        let first = self.events.front()?.seq;
        let last = self.last()?;
        if cursor + 1 < first || cursor > last {
            return None;
        }
        let skip = (cursor + 1 - first) as usize;
        Some(self.events.iter().skip(skip).cloned().collect())
    }
}

#[derive(Default)]
struct Shard {
    rings: HashMap<RoomId, Ring>,
    bytes: usize,
}

impl Shard {
    /// Drops the rings published longest ago, never `keep`'s, until the shard holds at
    /// most three quarters of its budget (so one trim pays for many pushes).
    fn trim(&mut self, keep: RoomId) {
        let mut by_age: Vec<(Instant, RoomId)> = self
            .rings
            .iter()
            .filter(|(room, _)| **room != keep)
            .map(|(room, ring)| (ring.touched, *room))
            .collect();
        by_age.sort_unstable();
        for (_, room) in by_age {
            if self.bytes <= SHARD_BYTES / 4 * 3 {
                return;
            }
            if let Some(ring) = self.rings.remove(&room) {
                self.bytes -= ring.bytes;
            }
        }
    }
}

/// Room → its most recent events on this node.
pub struct RecentEvents {
    shards: Vec<Mutex<Shard>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for RecentEvents {
    fn default() -> Self {
        RecentEvents {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
        }
    }
}

impl RecentEvents {
    fn shard(&self, room: &RoomId) -> &Mutex<Shard> {
        &self.shards[(self.hasher.hash_one(room) as usize) % SHARDS]
    }

    /// Keeps `event` as its room's newest.
    pub fn push(&self, event: &Arc<RoomEvent>) {
        let mut shard = self.shard(&event.room).lock().expect("recent events lock");
        let grew = shard
            .rings
            .entry(event.room)
            .or_insert_with(Ring::new)
            .push(event);
        shard.bytes = (shard.bytes as isize + grew) as usize;
        if shard.bytes > SHARD_BYTES {
            shard.trim(event.room);
        }
    }

    /// The events of `room` after `cursor`, in seq order, if this node holds every one
    /// of them from `cursor + 1` to its newest; `None` if it does not hold `cursor + 1`.
    pub fn after(&self, room: RoomId, cursor: Seq) -> Option<Vec<Arc<RoomEvent>>> {
        let shard = self.shard(&room).lock().expect("recent events lock");
        shard.rings.get(&room)?.after(cursor)
    }

    /// Drops `room`'s ring: its next event starts a new one.
    pub fn forget(&self, room: RoomId) {
        let mut shard = self.shard(&room).lock().expect("recent events lock");
        if let Some(ring) = shard.rings.remove(&room) {
            shard.bytes -= ring.bytes;
        }
    }

    /// Frame text held in all rings, in bytes.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("recent events lock").bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(room: RoomId, seq: Seq, len: usize) -> Arc<RoomEvent> {
        Arc::new(RoomEvent {
            room,
            seq,
            text: "x".repeat(len).into(),
            committed: Instant::now(),
        })
    }

    fn seqs(events: Option<Vec<Arc<RoomEvent>>>) -> Option<Vec<Seq>> {
        events.map(|e| e.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn serves_what_follows_a_cursor_it_reaches_back_to() {
        let recent = RecentEvents::default();
        let room = RoomId(Uuid::from_u128(1));
        assert_eq!(seqs(recent.after(room, 0)), None, "nothing held");
        for seq in 5..=9 {
            recent.push(&event(room, seq, 10));
        }
        assert_eq!(seqs(recent.after(room, 4)), Some(vec![5, 6, 7, 8, 9]));
        assert_eq!(seqs(recent.after(room, 7)), Some(vec![8, 9]));
        assert_eq!(seqs(recent.after(room, 9)), Some(vec![]), "up to date");
        assert_eq!(seqs(recent.after(room, 3)), None, "older than the ring");
        assert_eq!(seqs(recent.after(room, 10)), None, "past what it holds");
    }

    #[test]
    fn a_re_offer_is_ignored_and_a_gap_starts_over() {
        let recent = RecentEvents::default();
        let room = RoomId(Uuid::from_u128(1));
        for seq in 1..=3 {
            recent.push(&event(room, seq, 10));
        }
        recent.push(&event(room, 2, 10));
        assert_eq!(seqs(recent.after(room, 0)), Some(vec![1, 2, 3]));
        recent.push(&event(room, 6, 10)); // 4 and 5 never reached this node
        assert_eq!(seqs(recent.after(room, 0)), None);
        assert_eq!(seqs(recent.after(room, 3)), None, "4 is not held");
        assert_eq!(seqs(recent.after(room, 5)), Some(vec![6]));
        assert_eq!(recent.bytes(), 10);
    }

    #[test]
    fn a_forgotten_ring_starts_over_with_the_next_event() {
        let recent = RecentEvents::default();
        let room = RoomId(Uuid::from_u128(1));
        for seq in 1..=3 {
            recent.push(&event(room, seq, 10));
        }
        recent.forget(room);
        assert_eq!(recent.bytes(), 0);
        recent.push(&event(room, 4, 10));
        assert_eq!(seqs(recent.after(room, 2)), None, "3 is gone");
        assert_eq!(seqs(recent.after(room, 3)), Some(vec![4]));
    }

    #[test]
    fn a_ring_keeps_its_newest_events() {
        let recent = RecentEvents::default();
        let room = RoomId(Uuid::from_u128(1));
        let total = RING_EVENTS as Seq + 10;
        for seq in 1..=total {
            recent.push(&event(room, seq, 10));
        }
        let first = total - RING_EVENTS as Seq + 1;
        assert_eq!(seqs(recent.after(room, first - 2)), None);
        assert_eq!(
            recent.after(room, first - 1).map(|e| e.len()),
            Some(RING_EVENTS)
        );
        assert_eq!(recent.bytes(), RING_EVENTS * 10);
    }

    #[test]
    fn memory_stays_within_the_budget_dropping_the_quietest_rooms() {
        let recent = RecentEvents::default();
        let len = 16 * 1024;
        // Far more than all shards hold: 4,000 rooms of 16 KiB events.
        for n in 0..4_000u128 {
            recent.push(&event(RoomId(Uuid::from_u128(n)), 1, len));
        }
        assert!(recent.bytes() <= SHARDS * SHARD_BYTES, "{}", recent.bytes());
        let newest = RoomId(Uuid::from_u128(3_999));
        assert_eq!(
            seqs(recent.after(newest, 0)),
            Some(vec![1]),
            "the newest stays"
        );
        let oldest = RoomId(Uuid::from_u128(0));
        assert_eq!(
            seqs(recent.after(oldest, 0)),
            None,
            "the quietest went first"
        );
    }
}
