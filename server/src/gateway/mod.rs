//! The real-time gateway: the `/ws` endpoint, one reader and one sender task per
//! connection, and the in-process engines they share.
//!
//! # Layout
//! - [`upgrade`](upgrade()): the axum handler: authenticate, negotiate `confab.v1`, start
//!   the connection.
//! - `auth`: session cookie + Origin, or bearer API token; `addr_limit`: the cap on
//!   connections per peer address.
//! - `socket`: our own WebSocket transport: the handshake, frames, a reader that
//!   reassembles and bounds messages, a writer that sends shared bytes with vectored writes.
//! - `connection`: framing only — socket messages in, [`protocol`] frames out.
//! - `client`: the reader loop of one connection and its clean-up.
//! - `requests`: what each request does ([`protocol::ClientFrame`] → reply).
//! - `sender`: the writer task: per-room cursors, resume, snapshots, gap fill, catch-up;
//!   `sink`: what it writes to (a WebSocket or an SSE response).
//! - `sse`: the Server-Sent Events streams (a room's events, a user's personal events).
//! - `outbound`: the bounded queue and the slow-consumer policy.
//! - `hub`: local subscribers per room and connections per user; encode-once fan-out;
//!   `room_seqs`: the highest seq published here per room, which lets a resume skip the
//!   room lookup.
//! - `presence`, `statuses`, `typing`: ephemeral state (never stored); `presence_diffs`
//!   gathers presence changes into one frame per room per tick; `receipts`: read
//!   receipts in small rooms (the Store's read markers, sent on subscribe and as they move).
//! - `users`: the cache of user views events are labelled with; `members`: the cache of
//!   room memberships unread notices (and mentions in them) go by.
//! - `encode`: Store values → protocol frames.
//! - `broker`: the [`Broker`] seam between nodes and its engines ([`MemoryBroker`]).
//!
//! The path of a message: `requests::send` → [`store::Writer`] (group commit) → the
//! writer's commit hook encodes the event once and publishes it to the [`Broker`] → each
//! node's handler ([`Gateway::deliver`]) hands the bytes to its [`hub::Hub`] → each
//! subscriber's queue → its sender task writes it if it is the room's next seq. Typing,
//! presence diffs, personal events and membership changes take the same way.
//!
//! The [`Gateway`] handle also owns the shutdown token and tracks every connection task,
//! so a graceful stop closes each socket with 1012 and waits for them (axum's own graceful
//! shutdown does not cover upgraded connections).

mod addr_limit;
mod auth;
pub mod broker;
mod client;
mod connection;
pub(crate) mod encode;
mod hub;
mod members;
mod outbound;
mod presence;
pub mod presence_cluster;
mod presence_diffs;
mod receipts;
mod requests;
mod room_seqs;
mod sender;
mod sink;
mod socket;
mod sse;
mod statuses;
mod typing;
mod upgrade;
mod users;

pub use broker::{Broker, MemoryBroker};
pub use sse::{StreamError, personal_events, room_events};
pub use upgrade::upgrade;

use protocol::ids::{RoomId, UserId};
use protocol::{PersonalEvent, PresenceEntry, ServerFrame, UserView};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::{Store, Writer, writer::WriterConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use encode::text;

/// How often expired typing indicators are swept.
const TYPING_SWEEP: Duration = Duration::from_millis(250);
/// How often the Store is asked for newly deactivated users.
const DEACTIVATION_SWEEP: Duration = Duration::from_secs(2);
/// How far back each look for deactivations reaches (clocks of other nodes may lag).
const DEACTIVATION_MARGIN_MS: i64 = 60_000;
/// How often gathered presence changes are sent.
const PRESENCE_TICK: Duration = Duration::from_millis(100);

/// A change of this node's presence, for the cluster.
enum ClusterOp {
    Join(RoomId, UserView),
    Leave(RoomId, UserId),
}

/// A cheap handle on the gateway.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// The two unread notices of one message, and who gets the mention one. Each is shared by
/// every queue it is offered to.
struct UnreadNotices {
    /// `None` for a thread reply: only those it mentions are told.
    plain: Option<Arc<axum::extract::ws::Utf8Bytes>>,
    /// `None` when the message mentions no one.
    mention: Option<Arc<axum::extract::ws::Utf8Bytes>>,
    everyone: bool,
    mentions: Vec<String>,
}

struct Inner {
    settings: Arc<Settings>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    store: Arc<dyn Store>,
    writer: Writer,
    broker: Arc<dyn Broker>,
    /// Presence shared by the nodes of a cluster (none on a single node).
    cluster: Option<Arc<presence_cluster::ClusterPresence>>,
    /// This node's presence writes to the cluster, applied in order by one task.
    cluster_ops: Option<tokio::sync::mpsc::UnboundedSender<ClusterOp>>,
    hub: Arc<hub::Hub>,
    users: Arc<users::UserCache>,
    presence: presence::Presence,
    statuses: statuses::Statuses,
    diffs: presence_diffs::PresenceDiffs,
    typing: typing::Typing,
    members: members::Members,
    next_conn: AtomicU64,
    /// Times a connection was switched to catch-up from the Store.
    catch_ups: Arc<AtomicU64>,
    /// Open connections per peer address.
    addr_limit: Arc<addr_limit::AddrLimit>,
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
        cluster: Option<presence_cluster::ClusterPresence>,
    ) -> Gateway {
        let cluster = cluster.map(Arc::new);
        let (cluster_ops, ops) = match cluster {
            Some(_) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            // The writer's commit hook reaches the gateway through a weak reference, so the
            // gateway (and its background tasks) can end.
            let weak = weak.clone();
            let on_commit: store::writer::OnCommit = Arc::new(move |event: &store::Event| {
                if let Some(inner) = weak.upgrade() {
                    Gateway { inner }.on_commit(event);
                }
            });
            Inner {
                writer: Writer::with_on_commit(store.clone(), WriterConfig::default(), on_commit),
                settings,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                store,
                broker,
                cluster,
                cluster_ops,
                hub: Arc::new(hub::Hub::default()),
                users: Arc::new(users::UserCache::default()),
                presence: presence::Presence::default(),
                statuses: statuses::Statuses::default(),
                diffs: presence_diffs::PresenceDiffs::default(),
                typing: typing::Typing::default(),
                members: members::Members::default(),
                next_conn: AtomicU64::new(1),
                catch_ups: Arc::default(),
                addr_limit: Arc::default(),
            }
        });
        let gateway = Gateway { inner };
        let weak = Arc::downgrade(&gateway.inner);
        gateway
            .inner
            .broker
            .set_handler(Arc::new(move |delivery: broker::Delivery| {
                if let Some(inner) = weak.upgrade() {
                    Gateway { inner }.deliver(delivery);
                }
            }));
        gateway.spawn_typing_sweeper();
        gateway.spawn_idle_sweeper();
        gateway.spawn_deactivation_sweeper();
        gateway.spawn_presence_ticker();
        if let Some(ops) = ops {
            gateway.spawn_cluster_presence(ops);
        }
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

    /// Called by the writer for each committed event, in seq order per room: encode once
    /// and publish, so that every node fans it out (and tells members elsewhere about new
    /// messages).
    fn on_commit(&self, event: &store::Event) {
        self.publish_event(event);
        if event.kind == store::EventKind::Message {
            let mentions = protocol::mentions::scan(&event.message.body);
            // A thread reply is news in its thread, not in the room: only those it
            // mentions hear of it.
            let thread = event.message.thread_root.is_some();
            if thread && mentions.is_empty() {
                return;
            }
            self.publish(broker::Envelope::Unread {
                room: event.room_id,
                seq: event.seq,
                author: event.message.author_id,
                thread,
                everyone: mentions.everyone,
                // Only what could be someone's handle travels (`@x` names no one).
                mentions: mentions
                    .handles
                    .into_iter()
                    .filter(|h| protocol::names::Handle::parse(h).is_ok())
                    .collect(),
            });
        }
    }

    /// Encodes a stored event once and publishes it to every node's subscribers.
    fn publish_event(&self, event: &store::Event) {
        // The author of a live event is connected, hence cached.
        let author = self
            .users()
            .get(event.message.author_id)
            .unwrap_or_else(|| UserView {
                id: event.message.author_id,
                handle: String::new(),
                name: String::new(),
            });
        let frame = text(&encode::event_frame(event, author));
        self.publish(broker::Envelope::Event {
            room: event.room_id,
            seq: event.seq,
            frame,
        });
    }

    fn publish(&self, envelope: broker::Envelope) {
        ::metrics::counter!("confab_broker_published_total", "kind" => envelope.kind())
            .increment(1);
        self.inner.broker.publish(envelope);
    }

    /// The node's broker handler: applies one envelope to this node's connections.
    pub(crate) fn deliver(&self, delivery: broker::Delivery) {
        let envelope = delivery.envelope;
        let kind = envelope.kind();
        ::metrics::counter!("confab_broker_received_total", "kind" => kind).increment(1);
        let lag_ms = (broker::now_ms() - delivery.published_at_ms).max(0);
        ::metrics::histogram!("confab_broker_lag_seconds", "kind" => kind)
            .record(lag_ms as f64 / 1000.0);
        match envelope {
            broker::Envelope::Event { room, seq, frame } => {
                self.hub().publish_event(room, seq, &frame)
            }
            broker::Envelope::Unread {
                room,
                seq,
                author,
                thread,
                everyone,
                mentions,
            } => self.unread_notices(room, seq, author, thread, everyone, mentions),
            broker::Envelope::Missed { room } => self.hub().fill(room),
            broker::Envelope::Ephemeral { room, frame, skip } => {
                self.hub().publish_ephemeral(room, &frame, skip)
            }
            broker::Envelope::User { user, frame } => self.hub().to_user(user, &frame),
            broker::Envelope::Membership { room, user, joined } => {
                self.inner.members.changed(room, user, joined);
                // On a leave, their connections here stop receiving the room at once.
                if !joined && self.hub().unsubscribe_user(room, user) {
                    self.inner.broker.unsubscribe_room(room);
                }
                let frame = ServerFrame::Personal {
                    event: PersonalEvent::Membership { room, joined },
                };
                self.hub().to_user(user, &text(&frame));
            }
        }
    }

    /// Tells this node's connections of `room`'s members (except the author) that are not
    /// watching the room that a new message arrived (a mention, for those it calls out);
    /// of a thread reply, only those it mentions.
    fn unread_notices(
        &self,
        room: RoomId,
        seq: protocol::ids::Seq,
        author: UserId,
        thread: bool,
        everyone: bool,
        mentions: Vec<String>,
    ) {
        let notice = |mention| {
            text(&ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, mention },
            })
        };
        let notices = UnreadNotices {
            plain: (!thread).then(|| Arc::new(notice(false))),
            mention: (everyone || !mentions.is_empty()).then(|| Arc::new(notice(true))),
            everyone,
            mentions,
        };
        match self.inner.members.get(room) {
            Some(members) => self.send_unread_notices(room, &members, author, &notices),
            None => {
                let gateway = self.clone();
                tokio::spawn(async move {
                    match gateway.inner.members.load(&*gateway.store(), room).await {
                        Ok(members) => {
                            gateway.send_unread_notices(room, &members, author, &notices)
                        }
                        Err(err) => {
                            tracing::warn!(cause = %err, %room, "loading members for unread notices failed")
                        }
                    }
                });
            }
        }
    }

    fn send_unread_notices(
        &self,
        room: RoomId,
        members: &std::collections::HashSet<UserId>,
        author: UserId,
        notices: &UnreadNotices,
    ) {
        let users = self.users();
        self.hub()
            .to_members_not_watching(room, members, author, |user| {
                match &notices.mention {
                    // Connected users are in the cache: their handle says if they are named.
                    Some(mention)
                        if notices.everyone
                            || users
                                .get(user)
                                .is_some_and(|u| notices.mentions.contains(&u.handle)) =>
                    {
                        Some(mention)
                    }
                    _ => notices.plain.as_ref(),
                }
            })
    }

    /// Makes `conn` a local subscriber of `room` (the broker follows the room while it has
    /// any).
    fn subscribe_local(&self, room: RoomId, conn: &outbound::ConnHandle) {
        if self.hub().subscribe(room, conn) {
            self.inner.broker.subscribe_room(room);
        }
    }

    /// Ends connection `conn_id`'s subscription to `room` on this node.
    fn unsubscribe_local(&self, room: RoomId, conn_id: u64) {
        if self.hub().unsubscribe(room, conn_id) {
            self.inner.broker.unsubscribe_room(room);
        }
    }

    /// Sends `frame` to every connection of `user`, on every node.
    fn to_user(&self, user: UserId, frame: &ServerFrame) {
        self.publish(broker::Envelope::User {
            user,
            frame: text(frame),
        });
    }

    /// Whether `user` belongs to `room` (from the member cache, loaded once per room).
    async fn is_member(&self, room: RoomId, user: UserId) -> Result<bool, store::StoreError> {
        Ok(self
            .inner
            .members
            .load(&*self.store(), room)
            .await?
            .contains(&user))
    }

    /// Records a membership change and tells every node (member caches, `user`'s devices,
    /// and on a leave the end of their subscriptions).
    fn membership_changed(&self, room: RoomId, user: UserId, joined: bool) {
        self.publish(broker::Envelope::Membership { room, user, joined });
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

    /// Number of rooms with at least one local subscriber.
    pub fn rooms_with_subscribers(&self) -> usize {
        self.inner.hub.rooms()
    }

    /// Closes every connection (if not already asked to) and waits at most `grace` for
    /// their tasks to end. On a cluster the node first retires from shared presence, so
    /// its users leave elsewhere within a heartbeat.
    pub async fn wait_closed(&self, grace: Duration) {
        if let Some(cluster) = &self.inner.cluster {
            cluster.retire().await;
        }
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

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    fn hub(&self) -> &hub::Hub {
        &self.inner.hub
    }

    fn users(&self) -> &users::UserCache {
        &self.inner.users
    }

    fn presence(&self) -> &presence::Presence {
        &self.inner.presence
    }

    fn next_conn_id(&self) -> u64 {
        self.inner.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Announces a pending leave once the grace period has passed, unless the user came
    /// back meanwhile.
    fn leave_after_grace(&self, pending: presence::PendingLeave) {
        let gateway = self.clone();
        let grace = self.settings().presence_grace();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            if gateway.presence().finish_leave(pending) {
                match &gateway.inner.cluster_ops {
                    // Gone from this node; the cluster says whether they are gone.
                    Some(ops) => {
                        let _ = ops.send(ClusterOp::Leave(pending.room, pending.user));
                    }
                    None => gateway.inner.diffs.left(pending.room, pending.user),
                }
            }
        });
    }

    fn statuses(&self) -> &statuses::Statuses {
        &self.inner.statuses
    }

    /// A presence entry: the user, their devices in the room, their status.
    fn entry(&self, user: UserView, devices: u32) -> PresenceEntry {
        let (status, text) = self.statuses().current(user.id);
        PresenceEntry {
            user,
            devices,
            status,
            text,
        }
    }

    /// The `presence` frame for `room`: everyone present with their statuses, or the first
    /// `--presence-roster-max` of them (by handle) in a bigger room.
    async fn presence_frame(&self, room: RoomId) -> ServerFrame {
        let members = self.presence().members(room);
        let max = self.settings().presence_roster_max as usize;
        let (total, users): (usize, Vec<PresenceEntry>) = match &self.inner.cluster {
            // One node: only the listed users need their entries built.
            None => (
                members.len(),
                members
                    .into_iter()
                    .take(max)
                    .map(|(user, devices)| self.entry(user, devices))
                    .collect(),
            ),
            // Everyone present through any node; this node knows its own users best.
            Some(cluster) => {
                let mut all: Vec<PresenceEntry> = members
                    .into_iter()
                    .map(|(user, devices)| self.entry(user, devices))
                    .collect();
                let here: std::collections::HashSet<UserId> =
                    all.iter().map(|e| e.user.id).collect();
                all.extend(
                    cluster
                        .roster(room)
                        .await
                        .into_iter()
                        .filter(|e| !here.contains(&e.user.id)),
                );
                all.sort_by(|a, b| a.user.handle.cmp(&b.user.handle));
                let total = all.len();
                all.truncate(max);
                (total, all)
            }
        };
        let total = total as u32;
        ServerFrame::Presence {
            room,
            truncated: users.len() < total as usize,
            users,
            total,
        }
    }

    /// Someone became present in `room` (sent with the next tick).
    fn presence_joined(&self, room: RoomId, user: UserView) {
        if let Some(ops) = &self.inner.cluster_ops {
            let _ = ops.send(ClusterOp::Join(room, user.clone()));
        }
        self.inner.diffs.joined(room, user);
    }

    /// How many users are present in `room` (cluster-wide on a cluster).
    async fn presence_total(&self, room: RoomId) -> u32 {
        match &self.inner.cluster {
            Some(cluster) => {
                let mut users = cluster.present_users(room).await;
                users.extend(self.presence().members(room).into_iter().map(|(u, _)| u.id));
                users.len() as u32
            }
            None => self.presence().count(room) as u32,
        }
    }

    /// Applies this node's presence changes to the cluster in order, keeps the node's
    /// heartbeat, and announces the leaves of users whose node died.
    fn spawn_cluster_presence(&self, mut ops: tokio::sync::mpsc::UnboundedReceiver<ClusterOp>) {
        let Some(cluster) = self.inner.cluster.clone() else {
            return;
        };
        let weak = Arc::downgrade(&self.inner);
        let writer = cluster.clone();
        let writer_weak = weak.clone();
        tokio::spawn(async move {
            while let Some(op) = ops.recv().await {
                match op {
                    ClusterOp::Join(room, user) => {
                        let Some(inner) = writer_weak.upgrade() else {
                            return;
                        };
                        let entry = Gateway { inner }.entry(user, 1);
                        writer.join(room, &entry).await
                    }
                    ClusterOp::Leave(room, user) => {
                        if writer.leave(room, user).await {
                            let Some(inner) = writer_weak.upgrade() else {
                                return;
                            };
                            inner.diffs.left(room, user);
                        }
                    }
                }
            }
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(presence_cluster::HEARTBEAT);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let gateway = Gateway { inner };
                if cluster.heartbeat().await {
                    tracing::warn!("this node was taken for dead: recording its presence again");
                    if let Some(ops) = &gateway.inner.cluster_ops {
                        for (room, user) in gateway.presence().all() {
                            let _ = ops.send(ClusterOp::Join(room, user));
                        }
                    }
                }
                for (room, user) in cluster.reap().await {
                    gateway.inner.diffs.left(room, user);
                }
            }
        });
    }

    fn spawn_presence_ticker(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE_TICK);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let gateway = Gateway { inner };
                for diff in gateway.inner.diffs.drain() {
                    let total = gateway.presence_total(diff.room).await;
                    let frame = ServerFrame::PresenceDiff {
                        room: diff.room,
                        joined: diff.joined,
                        left: diff.left,
                        updated: diff.updated,
                        total,
                    };
                    gateway.publish(broker::Envelope::Ephemeral {
                        room: diff.room,
                        frame: text(&frame),
                        skip: None,
                    });
                }
            }
        });
    }

    /// Tells every room where `user` is present (their own connections included) about
    /// their status.
    fn announce_status(&self, user: UserId) {
        for (room, view, devices) in self.presence().rooms_of(user) {
            if let Some(ops) = &self.inner.cluster_ops {
                // Rewritten with the new status, for rosters read on other nodes.
                let _ = ops.send(ClusterOp::Join(room, view.clone()));
            }
            self.inner.diffs.updated(room, self.entry(view, devices));
        }
    }

    /// `user` made a request: an automatic away ends.
    fn activity(&self, user: UserId) {
        if self.statuses().activity(user, Instant::now()) {
            self.announce_status(user);
        }
    }

    fn spawn_idle_sweeper(&self) {
        let weak = Arc::downgrade(&self.inner);
        let idle_after = self.settings().idle_away();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(
                (idle_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(5)),
            );
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let gateway = Gateway { inner };
                for user in gateway.statuses().sweep(Instant::now(), idle_after) {
                    gateway.announce_status(user);
                }
            }
        });
    }

    /// Closes the live connections of users deactivated (by `confab user deactivate`, in
    /// any process) with 4001. The Store is asked every [`DEACTIVATION_SWEEP`] for
    /// deactivations since the last look, minus a margin for clocks of other machines.
    fn spawn_deactivation_sweeper(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut since = store::now_millis() - DEACTIVATION_MARGIN_MS;
            let mut tick = tokio::time::interval(DEACTIVATION_SWEEP);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let gateway = Gateway { inner };
                let now = store::now_millis();
                match gateway.store().deactivated_since(since).await {
                    Ok(users) => {
                        for user in users {
                            let closed = gateway
                                .hub()
                                .close_user(user, protocol::CloseCode::Unauthorized);
                            if closed > 0 {
                                tracing::info!(%user, closed, "deactivated user disconnected");
                            }
                        }
                        since = now - DEACTIVATION_MARGIN_MS;
                    }
                    Err(err) => tracing::debug!(cause = %err, "deactivation sweep failed"),
                }
            }
        });
    }

    fn start_typing(&self, room: RoomId, user: UserView) {
        let ttl = self.settings().typing_ttl();
        if self
            .inner
            .typing
            .touch(room, user.clone(), Instant::now(), ttl)
        {
            self.announce_typing(room, user, true);
        }
    }

    fn stop_typing(&self, room: RoomId, user: UserId) {
        if let Some(view) = self.inner.typing.stop(room, user) {
            self.announce_typing(room, view, false);
        }
    }

    fn announce_typing(&self, room: RoomId, user: UserView, active: bool) {
        let skip = user.id;
        let frame = ServerFrame::Typing { room, user, active };
        self.publish(broker::Envelope::Ephemeral {
            room,
            frame: text(&frame),
            skip: Some(skip),
        });
    }

    fn spawn_typing_sweeper(&self) {
        // Holds only a weak reference, so the sweeper ends with the gateway.
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TYPING_SWEEP);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let gateway = Gateway { inner };
                for (room, user) in gateway.inner.typing.expire(Instant::now()) {
                    gateway.announce_typing(room, user, false);
                }
            }
        });
    }
}
