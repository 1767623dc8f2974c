//! Which rooms this node follows on the broker, and since when it is known to receive
//! every one of a room's events: what lets a cluster node answer a resume from its ring of
//! recent events (`recent.rs`) instead of the Store.
//!
//! On one process every event passes through this node, so the ring's newest is the room's
//! last. On a cluster a node receives a room's envelopes only while it is subscribed to
//! the room's channel, and may lose some (a dropped link). The rule here: after the broker
//! confirms a subscription (`Missed { room }`) or announces a loss (`Missed`), the node
//! reads the room's last seq from the Store once: its *floor*. Every event above the floor
//! was committed after the read, so after the subscription took effect, and arrives here
//! unless the broker loses it (which it announces, clearing the floor). So a ring that is
//! gap-free up to a seq at or above the floor holds every event after a cursor it reaches
//! back to; the events after its newest are on their way and reach the subscriber live.
//! Events published before the subscription took effect may never arrive, and are all at
//! or below the floor, which the ring must reach before it is trusted.
//!
//! A room's channel is kept for a grace period (`--channel-grace-secs`) after its last local subscriber leaves, so that
//! a reconnect storm (every client gone and back within seconds) finds its rooms still
//! followed, floors and rings intact, and resumes from memory. Every change of a room's
//! channel and floor happens under its shard's lock, broker calls included (they only
//! queue), so a subscribe and a release racing each other reach the broker in the order
//! they were decided.

use protocol::ids::{RoomId, Seq};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::broker::Broker;

const SHARDS: usize = 32;

#[derive(Default)]
struct Feed {
    /// A fresh number at every confirmation or loss (from [`RoomFeeds::epochs`], so never
    /// one an earlier channel of the room had): a floor read before the last is stale.
    epoch: u64,
    /// The room's last seq in the Store, read after the channel was last confirmed.
    floor: Option<Seq>,
    /// Bumped by every new local subscriber after a grace period began.
    arrivals: u64,
    /// The grace period under way since the last local subscriber left, by `arrivals`.
    idle: Option<u64>,
}

/// Room → its channel on this node (present while the channel is held).
pub struct RoomFeeds {
    shards: Vec<Mutex<HashMap<RoomId, Feed>>>,
    hasher: std::collections::hash_map::RandomState,
    epochs: AtomicU64,
}

impl Default for RoomFeeds {
    fn default() -> Self {
        RoomFeeds {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            epochs: AtomicU64::new(1),
        }
    }
}

/// A floor to read: apply it with [`RoomFeeds::set_floor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorRead {
    pub room: RoomId,
    epoch: u64,
}

impl RoomFeeds {
    fn shard(&self, room: &RoomId) -> &Mutex<HashMap<RoomId, Feed>> {
        &self.shards[(self.hasher.hash_one(room) as usize) % SHARDS]
    }

    /// `room` has a first local subscriber: follow its channel, unless it is still held
    /// (a grace period ends).
    pub fn first_local(&self, room: RoomId, broker: &dyn Broker) {
        let mut shard = self.shard(&room).lock().expect("room feeds lock");
        match shard.get_mut(&room) {
            Some(feed) => {
                if feed.idle.take().is_some() {
                    feed.arrivals += 1;
                }
            }
            None => {
                shard.insert(room, Feed::default());
                broker.subscribe_room(room);
            }
        }
    }

    /// `room` has no local subscriber any more: its grace period begins. Returns the
    /// token to release it with once the grace period is over.
    pub fn last_local(&self, room: RoomId) -> Option<u64> {
        let mut shard = self.shard(&room).lock().expect("room feeds lock");
        let feed = shard.get_mut(&room)?;
        feed.idle = Some(feed.arrivals);
        Some(feed.arrivals)
    }

    /// Stops following `room` if its grace period begun at `arrivals` is still under
    /// way (no local subscriber came since) and `has_subscribers` says none is there.
    /// True when the channel was released.
    pub fn release_if_idle(
        &self,
        room: RoomId,
        arrivals: u64,
        has_subscribers: impl FnOnce() -> bool,
        broker: &dyn Broker,
    ) -> bool {
        let mut shard = self.shard(&room).lock().expect("room feeds lock");
        let idle = shard
            .get(&room)
            .is_some_and(|feed| feed.idle == Some(arrivals));
        if !idle || has_subscribers() {
            return false;
        }
        shard.remove(&room);
        broker.unsubscribe_room(room);
        true
    }

    /// The broker confirmed `room`'s subscription, or lost some of its envelopes: its
    /// floor must be read again. `None` when the channel is not held.
    pub fn confirmed(&self, room: RoomId) -> Option<FloorRead> {
        let mut shard = self.shard(&room).lock().expect("room feeds lock");
        let feed = shard.get_mut(&room)?;
        feed.epoch = self.epochs.fetch_add(1, Ordering::Relaxed);
        feed.floor = None;
        Some(FloorRead {
            room,
            epoch: feed.epoch,
        })
    }

    /// The broker may have lost envelopes of every room: every floor must be read again.
    pub fn lost_all(&self) -> Vec<FloorRead> {
        let mut reads = Vec::new();
        for shard in &self.shards {
            for (room, feed) in shard.lock().expect("room feeds lock").iter_mut() {
                feed.epoch = self.epochs.fetch_add(1, Ordering::Relaxed);
                feed.floor = None;
                reads.push(FloorRead {
                    room: *room,
                    epoch: feed.epoch,
                });
            }
        }
        reads
    }

    /// Records `room`'s floor, read after `read` was asked for, unless something has
    /// happened to the room's channel since.
    pub fn set_floor(&self, read: FloorRead, floor: Seq) {
        let mut shard = self.shard(&read.room).lock().expect("room feeds lock");
        if let Some(feed) = shard.get_mut(&read.room)
            && feed.epoch == read.epoch
        {
            feed.floor = Some(floor);
        }
    }

    /// The seq every event above which reaches this node (unless a loss is announced),
    /// if known.
    pub fn floor(&self, room: RoomId) -> Option<Seq> {
        let shard = self.shard(&room).lock().expect("room feeds lock");
        shard.get(&room)?.floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::broker::{BrokerError, Envelope, Handler};
    use uuid::Uuid;

    /// Records the channel changes asked of it.
    #[derive(Default)]
    struct Channels(Mutex<Vec<(&'static str, RoomId)>>);

    impl Broker for Channels {
        fn engine(&self) -> &'static str {
            "recording"
        }
        fn set_handler(&self, _: Handler) {}
        fn publish(&self, _: Envelope) {}
        fn sees_every_room(&self) -> bool {
            false
        }
        fn subscribe_room(&self, room: RoomId) {
            self.0.lock().unwrap().push(("subscribe", room));
        }
        fn unsubscribe_room(&self, room: RoomId) {
            self.0.lock().unwrap().push(("unsubscribe", room));
        }
        fn ping(&self) -> futures_util::future::BoxFuture<'_, Result<(), BrokerError>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(n))
    }

    #[test]
    fn a_channel_is_followed_once_and_kept_through_its_grace() {
        let (feeds, broker) = (RoomFeeds::default(), Channels::default());
        feeds.first_local(room(1), &broker);
        let token = feeds.last_local(room(1)).unwrap();
        // Everyone back within the grace: the channel was never left.
        feeds.first_local(room(1), &broker);
        assert!(!feeds.release_if_idle(room(1), token, || false, &broker));
        let token = feeds.last_local(room(1)).unwrap();
        assert!(
            !feeds.release_if_idle(room(1), token, || true, &broker),
            "a subscriber the hub still has keeps it"
        );
        assert!(feeds.release_if_idle(room(1), token, || false, &broker));
        assert!(!feeds.release_if_idle(room(1), token, || false, &broker));
        feeds.first_local(room(1), &broker);
        assert_eq!(
            *broker.0.lock().unwrap(),
            vec![
                ("subscribe", room(1)),
                ("unsubscribe", room(1)),
                ("subscribe", room(1))
            ]
        );
    }

    #[test]
    fn a_floor_counts_only_if_read_after_the_last_confirmation_or_loss() {
        let (feeds, broker) = (RoomFeeds::default(), Channels::default());
        assert_eq!(
            feeds.confirmed(room(1)),
            None,
            "not followed: nothing to read"
        );
        feeds.first_local(room(1), &broker);
        assert_eq!(feeds.floor(room(1)), None, "unconfirmed");
        let read = feeds.confirmed(room(1)).unwrap();
        feeds.set_floor(read, 7);
        assert_eq!(feeds.floor(room(1)), Some(7));

        // A loss while a read is under way: that read is stale, the next one counts.
        let stale = feeds.confirmed(room(1)).unwrap();
        assert_eq!(feeds.floor(room(1)), None);
        let reads = feeds.lost_all();
        feeds.set_floor(stale, 8);
        assert_eq!(feeds.floor(room(1)), None);
        assert_eq!(reads.len(), 1);
        feeds.set_floor(reads[0], 9);
        assert_eq!(feeds.floor(room(1)), Some(9));

        // A subscriber arriving in a grace period changes nothing of what arrives.
        let token = feeds.last_local(room(1)).unwrap();
        feeds.first_local(room(1), &broker);
        assert_eq!(feeds.floor(room(1)), Some(9));

        // A released channel forgets its floor; followed again, it needs a new one.
        let token2 = feeds.last_local(room(1)).unwrap();
        assert_ne!(token, token2);
        let late = feeds.confirmed(room(1)).unwrap();
        assert!(feeds.release_if_idle(room(1), token2, || false, &broker));
        feeds.set_floor(late, 10);
        feeds.first_local(room(1), &broker);
        assert_eq!(feeds.floor(room(1)), None);
    }
}
