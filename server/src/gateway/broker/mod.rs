//! The Broker: how the gateway's fan-out reaches every node that has subscribers.
//!
//! Everything a node would otherwise hand straight to its [`Hub`](super::hub::Hub) goes
//! through the broker as an [`Envelope`], and every node (the publishing one included)
//! applies it in its one registered handler. So a single process and a cluster share one
//! code path: with [`MemoryBroker`] (the embedded default) `publish` calls the handler at
//! once, in the caller's thread; a networked broker calls it when the message comes back.
//!
//! Guarantees the gateway relies on, and the ones it does not:
//! - **At most once, best effort.** A broker may lose an envelope (a dropped link). Room
//!   events stay correct anyway: they are in the Store, every event carries its seq, and a
//!   subscriber's sender fills any gap from the Store before delivering the next one.
//!   Ephemeral envelopes (typing, presence diffs, personal notices) may simply be lost.
//! - **Order per publisher.** Envelopes published by one node arrive in publish order;
//!   across nodes nothing is promised (the seq restores room order).
//! - `publish` never blocks and never fails the caller: it enqueues or drops, and counts.
//! - **Local first.** The publishing node's handler is called inside `publish`, so a
//!   node's own clients never wait on the network.
//! - **Losses are announced.** When a networked broker may have lost envelopes (its link
//!   dropped, a publish failed, a room subscription just started), it delivers
//!   [`Envelope::Missed`], and the node fills those rooms' subscribers from the Store.
//!
//! Room envelopes reach only nodes subscribed to the room ([`Broker::subscribe_room`],
//! called for a room's first local subscriber; [`Broker::unsubscribe_room`] after its
//! last); the others (personal events, memberships, unread notices, losses) reach every
//! node.

mod memory;
mod redis;
mod redis_cluster;
pub mod wire;

pub use memory::MemoryBroker;
pub use redis::RedisBroker;
pub use redis_cluster::{RedisClusterBroker, cluster_connection};

use confab_websocket::FrameText;
use protocol::ids::{RoomId, Seq, UserId};
use std::sync::Arc;

/// One message between gateways. Frames travel pre-encoded (JSON text), so a node that
/// receives an event encodes nothing and its hub offers the same bytes to everyone.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// A committed room event.
    Event {
        room: RoomId,
        seq: Seq,
        frame: FrameText,
        /// The event changes an earlier message (an edit, a delete, a reaction, a reply
        /// moving its root's thread summary): the earlier events a node holds for resumes
        /// no longer show the room as it is.
        amends: bool,
    },
    /// A new message by `author` in `room`: members who are connected but not watching
    /// the room get an unread notice (each node looks up its own connections), marked as
    /// a mention for those the message calls out: everyone, or the users with `mentions`
    /// as handles (each node knows the handles of its own connected users).
    Unread {
        room: RoomId,
        seq: Seq,
        author: UserId,
        /// A thread reply: only those it mentions get a notice.
        thread: bool,
        everyone: bool,
        mentions: Vec<String>,
    },
    /// A typing indicator or presence diff for a room's subscribers, except `skip`'s
    /// connections.
    Ephemeral {
        room: RoomId,
        frame: FrameText,
        skip: Option<UserId>,
    },
    /// A frame for every connection of `user` (personal events).
    User { user: UserId, frame: FrameText },
    /// `user` joined or left `room`: member caches change, and on a leave their
    /// connections stop receiving the room.
    Membership {
        room: RoomId,
        user: UserId,
        joined: bool,
    },
    /// Envelopes may have been lost (for one room, or for all): subscribers must check the
    /// Store for events they have not seen.
    Missed { room: Option<RoomId> },
    /// How `user` looks to others (their name, their avatar) changed: nodes read them
    /// again, so the events they send next carry it.
    Person { user: UserId },
}

/// Every envelope kind's metrics label, in the order of [`Envelope::kind_index`].
pub const KINDS: [&str; 7] = [
    "event",
    "ephemeral",
    "user",
    "membership",
    "unread",
    "missed",
    "person",
];

impl Envelope {
    /// The kind's place in [`KINDS`]: its metrics label, and where its metrics' handles
    /// are kept (`crate::metrics::broker`).
    pub fn kind_index(&self) -> usize {
        match self {
            Envelope::Event { .. } => 0,
            Envelope::Ephemeral { .. } => 1,
            Envelope::User { .. } => 2,
            Envelope::Membership { .. } => 3,
            Envelope::Unread { .. } => 4,
            Envelope::Missed { .. } => 5,
            Envelope::Person { .. } => 6,
        }
    }

    /// The room whose subscribers alone need it (room channels), or `None` for envelopes
    /// every node gets.
    pub fn room_scope(&self) -> Option<RoomId> {
        match self {
            Envelope::Event { room, .. } | Envelope::Ephemeral { room, .. } => Some(*room),
            _ => None,
        }
    }
}

/// An envelope as a node receives it, with the publisher's wall clock (Unix ms) at
/// publish time, for the publish → receive lag.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: Envelope,
    pub published_at_ms: i64,
}

/// The node's one handler for everything the broker delivers. It must not block: it runs
/// in the publisher's thread (memory) or the broker's reader task (networked).
pub type Handler = Arc<dyn Fn(Delivery) + Send + Sync>;

/// Why the broker is not usable.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("the broker is unreachable: {0}")]
    Unreachable(String),
}

/// A pub/sub engine between gateway nodes.
pub trait Broker: Send + Sync {
    /// The engine's name, for logs and `/readyz`.
    fn engine(&self) -> &'static str;

    /// Registers the node's handler. Called once, before the first `publish`; envelopes
    /// arriving without a handler are dropped.
    fn set_handler(&self, handler: Handler);

    /// Sends `envelope` to every node's handler (this one's included, at once). Never
    /// blocks.
    fn publish(&self, envelope: Envelope);

    /// Whether every envelope of every room reaches this node's handler, subscribed or
    /// not (one process: every commit is made here). Then the highest seq this node has
    /// seen of a room is the room's last, and its recent events are all there is.
    fn sees_every_room(&self) -> bool;

    /// This node has a first local subscriber to `room`: receive its envelopes from other
    /// nodes. Once the subscription is in place the handler gets `Missed { room }`, which
    /// covers whatever was published before it.
    fn subscribe_room(&self, room: RoomId);

    /// This node has no local subscriber to `room` any more.
    fn unsubscribe_room(&self, room: RoomId);

    /// Whether the broker answers now (readiness).
    fn ping(&self) -> futures_util::future::BoxFuture<'_, Result<(), BrokerError>>;
}

/// The wall clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every engine can stand behind the gateway's `Arc<dyn Broker>`.
    #[test]
    fn engines_are_brokers() {
        let engines: Vec<Arc<dyn Broker>> = vec![Arc::new(MemoryBroker::default())];
        assert_eq!(engines[0].engine(), "memory");
    }
}
