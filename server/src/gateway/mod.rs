//! The real-time gateway: the `/ws` endpoint, one reader and one sender task per
//! connection, the event streams, and the in-process engines they share.
//!
//! # Layout
//! - [`upgrade`](upgrade()): the axum handler: authenticate, negotiate `confab.v1`, start
//!   the connection. `auth`: session cookie + Origin, or bearer API token;
//!   `addr_limit`: the cap on connections per peer address.
//! - `socket/`: the WebSocket handshake, and the connection halves it hands over. The
//!   transport after the handshake (frame headers, a reader that reassembles and bounds
//!   messages, a writer that sends shared bytes with vectored writes, `FrameText`) is the
//!   `confab-websocket` crate (`websocket/`), so that it can be fuzzed on its own.
//! - `connection`: one connection's loop (reads, requests, closes) and its clean-up;
//!   `ending`: how its two tasks tell each other it has ended, and how the rest of the
//!   gateway asks it to close; `heartbeat`: when it last heard from its client, and the
//!   one sweep that closes silent connections; `inbound`: a socket message → a
//!   [`protocol::ClientFrame`] or why not.
//! - `requests/`: what each request does, one file per family (subscribe and resume,
//!   messages, rooms and membership, statuses and typing); `Session` is one connection's
//!   request state.
//! - `sender`: the writer task: per-room cursors, resume, snapshots, gap fill, catch-up;
//!   `transport`: what it writes to (a WebSocket or an SSE response); `room_map`: the small
//!   per-room map a connection keeps its cursors and subscriptions in; `outbound`: what a
//!   connection's queue holds and the slow-consumer policy; `queue`: the bounded queue
//!   itself, which allocates nothing while it is empty; `direct`: the fan-out appending
//!   to a parked sender's socket itself, and the one flusher task that writes them.
//! - `sse/`: the Server-Sent Events streams (a room's events, a user's personal events).
//! - `fanout`: the commit hook, the broker handler, unread notices.
//! - `hub`: local subscribers per room and connections per user; `unwatched`: which of a
//!   room's members' connections get its unread notices, kept between the hub's changes;
//!   `room_seqs`: the highest
//!   seq published here per room, which lets a resume skip the room lookup; `recent`:
//!   each active room's newest events, which serve resumes and gap fills from memory;
//!   `room_feeds`: which rooms the broker follows here (kept for a grace period after
//!   their last subscriber), and since when completely, which lets a cluster node's ring
//!   serve resumes too.
//! - `presence/`: presence behind one seam (one node or a cluster), and statuses;
//!   `typing`: who is typing where, and how it is announced.
//! - `receipts`: read receipts in small rooms.
//! - `sweeps`: every periodic task (silent connections, typing expiry, idle statuses,
//!   deactivations, presence ticks, the cluster heartbeat), spawned on the gateway's task
//!   tracker, and the walk that asks every connection to close at shutdown.
//! - `users`: the cache of user views events are labelled with; `members`: the cache of
//!   room memberships (subscribe's access check and unread notices go by it);
//!   `recheck`: where that cache may be behind the Store (a refusal, a broker loss), the
//!   Store decides.
//! - `encode`: Store values → protocol frames.
//! - `broker/`: the [`Broker`] seam between nodes and its engines ([`MemoryBroker`]).
//!
//! The path of a message: `requests::messages` (`Session::send`) → [`store::GroupCommit`]
//! (group commit) → [`Gateway::on_commit`] encodes the event once and publishes it to the
//! [`Broker`] → each node's [`Gateway::deliver`] hands the bytes to its [`hub::Hub`] →
//! each subscriber's socket if its sender is parked and it is the room's next seq (on the
//! node that committed it), its queue otherwise → its sender task writes it if it is the
//! room's next seq.
//!
//! The [`Gateway`] handle also owns the shutdown token and tracks every connection task,
//! so a graceful stop closes each socket with 1012 and waits for them (axum's own graceful
//! shutdown does not cover upgraded connections).

mod addr_limit;
pub mod auth;
pub mod broker;
mod connection;
mod direct;
pub(crate) mod encode;
mod ending;
mod fanout;
mod heartbeat;
mod hub;
mod inbound;
mod members;
mod outbound;
pub mod presence;
mod queue;
mod receipts;
mod recent;
mod recheck;
mod requests;
mod room_feeds;
mod room_map;
mod room_seqs;
mod sender;
mod socket;
mod sse;
mod store_retry;
mod sweeps;
mod transport;
mod typing;
mod unwatched;
mod upgrade;
mod users;

pub use broker::{Broker, MemoryBroker};
pub use sse::{StreamError, personal_events, room_events};
pub use upgrade::upgrade;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use store::{GroupCommit, Store, group_commit::GroupCommitConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;

/// A cheap handle on the gateway.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<Settings>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    store: Arc<dyn Store>,
    group_commit: GroupCommit,
    broker: Arc<dyn Broker>,
    hub: Arc<hub::Hub>,
    /// Which rooms the broker follows here, and since when completely.
    feeds: room_feeds::RoomFeeds,
    users: Arc<users::UserCache>,
    presence: Arc<presence::Presence>,
    typing: typing::Typing,
    members: members::Members,
    next_conn: AtomicU64,
    /// Times a connection was switched to catch-up from the Store.
    catch_ups: Arc<AtomicU64>,
    /// Gap fills and resumes answered from memory, and from the Store.
    fills: [AtomicU64; 2],
    /// Sender tasks running: each holds its connection's queue and socket until it ends.
    senders: std::sync::atomic::AtomicUsize,
    /// Open connections per peer address.
    addr_limit: Arc<addr_limit::AddrLimit>,
    /// Writes the sockets the commit hook's corks reached (`direct.rs`).
    flusher: Arc<direct::Flusher>,
}

impl Gateway {
    /// A gateway of one process: no connections, writing to `store`, fanning out through
    /// an in-process broker.
    pub fn new(settings: Arc<Settings>, store: Arc<dyn Store>) -> Gateway {
        Gateway::with_broker(settings, store, Arc::new(MemoryBroker::default()))
    }

    /// A gateway writing to `store` and fanning out through `broker` (whose handler it
    /// registers), with presence of its own.
    pub fn with_broker(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
    ) -> Gateway {
        Gateway::with_engines(settings, store, broker, None)
    }

    /// A gateway on the given engines; with `cluster`, presence is shared with the other
    /// nodes of a cluster.
    pub fn with_engines(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        cluster: Option<presence::RedisPresence>,
    ) -> Gateway {
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            // The group commit's hook reaches the gateway through a weak reference, so the
            // gateway (and its background tasks) can end.
            let weak = weak.clone();
            let on_commit: store::group_commit::OnCommit =
                Arc::new(move |events: &[&store::Event]| {
                    if let Some(inner) = weak.upgrade() {
                        Gateway { inner }.on_commit(events);
                    }
                });
            Inner {
                group_commit: GroupCommit::with_on_commit(
                    store.clone(),
                    GroupCommitConfig::default(),
                    on_commit,
                ),
                settings,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                store,
                broker,
                hub: Arc::new(hub::Hub::default()),
                feeds: room_feeds::RoomFeeds::default(),
                users: Arc::new(users::UserCache::default()),
                presence: Arc::new(presence::Presence::new(cluster)),
                typing: typing::Typing::default(),
                members: members::Members::default(),
                next_conn: AtomicU64::new(1),
                catch_ups: Arc::default(),
                fills: Default::default(),
                senders: Default::default(),
                addr_limit: Arc::default(),
                flusher: direct::Flusher::start(),
            }
        });
        let gateway = Gateway { inner };
        let weak = Arc::downgrade(&gateway.inner);
        gateway
            .inner
            .broker
            .set_handler(Arc::new(move |delivery: broker::Delivery| {
                if let Some(inner) = weak.upgrade() {
                    Gateway { inner }.deliver_corked(delivery);
                }
            }));
        sweeps::spawn_all(&gateway);
        gateway
    }

    /// A place for one more connection from `addr`, unless it holds the most it may
    /// (`--max-conns-per-addr`).
    fn admit(&self, addr: std::net::IpAddr) -> Option<addr_limit::AddrSlot> {
        let slot = self
            .inner
            .addr_limit
            .acquire(addr, self.inner.settings.max_conns_per_addr);
        if slot.is_none() {
            metrics::counter!("confab_connections_refused_total", "reason" => "per_addr")
                .increment(1);
        }
        slot
    }

    /// The engine of the broker, for `/readyz`.
    pub fn broker_engine(&self) -> &'static str {
        self.inner.broker.engine()
    }

    /// Whether the broker answers.
    pub async fn broker_ping(&self) -> Result<(), broker::BrokerError> {
        self.inner.broker.ping().await
    }

    /// The token whose cancellation closes every connection with 1012.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Times a slow connection was switched to catch-up from the Store.
    pub fn catch_ups(&self) -> u64 {
        self.inner.catch_ups.load(Ordering::Relaxed)
    }

    /// Gap fills and resumes answered so far from this node's memory and from the Store.
    pub fn fills(&self) -> (u64, u64) {
        let [memory, store] = &self.inner.fills;
        (
            memory.load(Ordering::Relaxed),
            store.load(Ordering::Relaxed),
        )
    }

    /// The seq above which this node is known to receive every event of `room` (a
    /// cluster node following the room; `room_feeds.rs`).
    pub fn room_floor(&self, room: protocol::ids::RoomId) -> Option<protocol::ids::Seq> {
        self.inner.feeds.floor(room)
    }

    /// Sender tasks running, one per open connection or stream: a connection's queued
    /// frames and its socket are freed when its sender ends.
    pub fn senders_running(&self) -> usize {
        self.inner.senders.load(Ordering::Relaxed)
    }

    /// Number of rooms with at least one local subscriber.
    pub fn rooms_with_subscribers(&self) -> usize {
        self.inner.hub.rooms()
    }

    /// Bytes of frame text held as rooms' recent events (for resumes).
    pub fn recent_event_bytes(&self) -> usize {
        self.inner.hub.recent_bytes()
    }

    /// Closes every connection (if not already asked to) and waits at most `grace` for
    /// their tasks (and the periodic sweeps) to end. On a cluster the node first retires
    /// from shared presence, so its users leave elsewhere within a heartbeat.
    pub async fn wait_closed(&self, grace: Duration) {
        self.presence().retire().await;
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.inner.tasks.len(),
                "connections still open after the shutdown grace period"
            );
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    fn group_commit(&self) -> &GroupCommit {
        &self.inner.group_commit
    }

    fn hub(&self) -> &hub::Hub {
        &self.inner.hub
    }

    /// Counts a fill answered from memory (`true`) or from the Store.
    fn count_fill(&self, from_memory: bool) {
        let (counter, from) = if from_memory {
            (&self.inner.fills[0], "memory")
        } else {
            (&self.inner.fills[1], "store")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        ::metrics::counter!("confab_fills_total", "from" => from).increment(1);
    }

    /// Every event of `room` after `cursor` that will not reach this node's subscribers
    /// live, from memory: `None` when the Store must be asked. On one process the ring's
    /// newest is the room's last published event, and whatever is committed later
    /// reaches every subscriber live. On a cluster node that holds only while the room's
    /// channel is followed, and for a ring that reaches the room's floor
    /// (`room_feeds.rs`): every later event is on its way here.
    fn recent_after(
        &self,
        room: protocol::ids::RoomId,
        cursor: protocol::ids::Seq,
    ) -> Option<Vec<Arc<outbound::RoomEvent>>> {
        if self.inner.broker.sees_every_room() {
            return self.hub().recent_after(room, cursor);
        }
        let floor = self.inner.feeds.floor(room)?;
        let events = self.hub().recent_after(room, cursor)?;
        let newest = events.last().map_or(cursor, |e| e.seq);
        (newest >= floor).then_some(events)
    }

    fn users(&self) -> &users::UserCache {
        &self.inner.users
    }

    fn presence(&self) -> &Arc<presence::Presence> {
        &self.inner.presence
    }

    fn next_conn_id(&self) -> u64 {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
