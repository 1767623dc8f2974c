//! `RedisBroker`: Redis pub/sub between the nodes of a cluster.
//!
//! - **Channels.** `<prefix>:room:<room id>` carries a room's events and ephemeral frames;
//!   a node subscribes to it only while it has local subscribers. `<prefix>:all` carries
//!   what every node needs (personal events, memberships, unread notices, losses).
//! - **Publishing.** `publish` delivers to this node's handler at once, then queues the
//!   encoded envelope for a publisher task that sends whatever has accumulated as one
//!   pipeline on a reconnecting connection. A full queue or a failed pipeline drops
//!   envelopes (counted); the next successful publish then announces `Missed` to every
//!   node, so their subscribers check the Store.
//! - **Receiving.** One subscriber task owns the pub/sub connection. It skips this node's
//!   own envelopes (already delivered), and when the link drops it reconnects with capped,
//!   jittered backoff, subscribes again to every wanted channel, and delivers
//!   `Missed { room: None }`: whatever was published meanwhile is read from the Store.
//!   A new room subscription delivers `Missed { room }` once Redis confirms it.
//! - Plain `PUBLISH`/`SUBSCRIBE` on one Redis (with a replica for failover). Past one
//!   Redis, [`super::RedisClusterBroker`] uses Redis Cluster's sharded
//!   `SPUBLISH`/`SSUBSCRIBE` with the same envelopes and the same loss rule.

use futures_util::StreamExt;
use protocol::ids::RoomId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::wire::{decode, encode};
use super::{Broker, BrokerError, Delivery, Envelope, Handler, now_ms};

/// Envelopes waiting for the publisher task; past this, `publish` drops (and counts).
const PUBLISH_QUEUE: usize = 65_536;
/// Most envelopes sent in one pipeline.
const PIPELINE_MAX: usize = 512;
/// How long a Redis command (or a connection attempt) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Backoff between reconnection attempts of the subscriber.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What the gateway asks the subscriber task to change.
enum Control {
    Subscribe(RoomId),
    Unsubscribe(RoomId),
}

/// The broker of one node of a cluster.
pub struct RedisBroker {
    shared: Arc<Shared>,
    /// (channel, payload) pairs for the publisher task.
    outgoing: mpsc::Sender<(String, Vec<u8>)>,
    control: mpsc::UnboundedSender<Control>,
    commands: ConnectionManager,
    stop: CancellationToken,
}

/// What a Redis broker's tasks share (the Redis Cluster engine too).
pub(super) struct Shared {
    /// This node's id in envelopes (random per process).
    pub(super) node: u64,
    pub(super) prefix: String,
    pub(super) handler: RwLock<Option<Handler>>,
    /// Envelopes were dropped since the last successful publish.
    pub(super) lost: AtomicBool,
    /// Room channels carry the room in a hash tag (`{…}`), so that a room's channel and
    /// its presence key hash to one Redis Cluster slot.
    pub(super) tagged: bool,
}

impl Shared {
    pub(super) fn new(prefix: &str, tagged: bool) -> Shared {
        Shared {
            node: rand::random(),
            prefix: prefix.to_string(),
            handler: RwLock::new(None),
            lost: AtomicBool::new(false),
            tagged,
        }
    }

    pub(super) fn deliver(&self, delivery: Delivery) {
        let handler = self.handler.read().expect("broker lock").clone();
        if let Some(handler) = handler {
            handler(delivery);
        }
    }

    pub(super) fn all_channel(&self) -> String {
        format!("{}:all", self.prefix)
    }

    pub(super) fn room_channel(&self, room: RoomId) -> String {
        if self.tagged {
            format!("{}:room:{{{}}}", self.prefix, room.0)
        } else {
            format!("{}:room:{}", self.prefix, room.0)
        }
    }

    pub(super) fn channel_of(&self, envelope: &Envelope) -> String {
        match envelope.room_scope() {
            Some(room) => self.room_channel(room),
            None => self.all_channel(),
        }
    }

    /// `Broker::publish` of both Redis engines: delivers `envelope` on this node at once,
    /// then queues it for the publisher task (a full queue drops it, counted, and marks a
    /// loss to announce).
    pub(super) fn publish(&self, envelope: Envelope, outgoing: &mpsc::Sender<(String, Vec<u8>)>) {
        let published_at_ms = now_ms();
        let payload = encode(self.node, published_at_ms, &envelope);
        let channel = self.channel_of(&envelope);
        self.deliver(Delivery {
            envelope,
            published_at_ms,
        });
        if outgoing.try_send((channel, payload)).is_err() {
            metrics::counter!("confab_broker_dropped_total").increment(1);
            self.lost.store(true, Ordering::Relaxed);
        }
    }
}

/// `Broker::ping` of both Redis engines: a `PING` answered within [`COMMAND_TIMEOUT`].
pub(super) async fn ping<T: redis::FromRedisValue>(
    conn: &mut impl redis::aio::ConnectionLike,
) -> Result<(), BrokerError> {
    let pong =
        tokio::time::timeout(COMMAND_TIMEOUT, redis::cmd("PING").query_async::<T>(conn)).await;
    match pong {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(BrokerError::Unreachable(e.to_string())),
        Err(_) => Err(BrokerError::Unreachable("PING timed out".into())),
    }
}

impl RedisBroker {
    /// Connects to the Redis at `url` and starts the publisher and subscriber tasks; fails
    /// when Redis does not answer now.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisBroker, BrokerError> {
        let unreachable = |e: redis::RedisError| BrokerError::Unreachable(e.to_string());
        let client = redis::Client::open(url).map_err(unreachable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_max_delay(BACKOFF_MAX);
        let commands = tokio::time::timeout(
            COMMAND_TIMEOUT * 2,
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| BrokerError::Unreachable("connecting timed out".into()))?
        .map_err(unreachable)?;
        let shared = Arc::new(Shared::new(prefix, false));
        let stop = CancellationToken::new();
        let (outgoing, queue) = mpsc::channel(PUBLISH_QUEUE);
        let (control, controls) = mpsc::unbounded_channel();
        tokio::spawn(publisher(
            shared.clone(),
            commands.clone(),
            queue,
            stop.clone(),
        ));
        let (ready, subscribed) = tokio::sync::oneshot::channel();
        tokio::spawn(subscriber(
            shared.clone(),
            client,
            controls,
            stop.clone(),
            ready,
        ));
        // Start only once the cluster-wide channel is subscribed, so nothing sent to
        // every node after start-up is missed.
        match tokio::time::timeout(COMMAND_TIMEOUT * 2, subscribed).await {
            Ok(Ok(())) => {}
            _ => {
                stop.cancel();
                return Err(BrokerError::Unreachable(
                    "subscribing to the cluster channel failed".into(),
                ));
            }
        }
        Ok(RedisBroker {
            shared,
            outgoing,
            control,
            commands,
            stop,
        })
    }

    /// This node's id in envelopes.
    pub fn node_id(&self) -> u64 {
        self.shared.node
    }
}

impl Drop for RedisBroker {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Broker for RedisBroker {
    fn engine(&self) -> &'static str {
        "redis"
    }

    fn set_handler(&self, handler: Handler) {
        *self.shared.handler.write().expect("broker lock") = Some(handler);
    }

    fn publish(&self, envelope: Envelope) {
        self.shared.publish(envelope, &self.outgoing);
    }

    /// Room envelopes arrive only while subscribed, and may be lost.
    fn sees_every_room(&self) -> bool {
        false
    }

    fn subscribe_room(&self, room: RoomId) {
        let _ = self.control.send(Control::Subscribe(room));
    }

    fn unsubscribe_room(&self, room: RoomId) {
        let _ = self.control.send(Control::Unsubscribe(room));
    }

    fn ping(&self) -> futures_util::future::BoxFuture<'_, Result<(), BrokerError>> {
        let mut conn = self.commands.clone();
        Box::pin(async move { ping::<String>(&mut conn).await })
    }
}

/// Sends queued envelopes, as many per pipeline as have accumulated.
async fn publisher(
    shared: Arc<Shared>,
    mut conn: ConnectionManager,
    mut queue: mpsc::Receiver<(String, Vec<u8>)>,
    stop: CancellationToken,
) {
    let all = shared.all_channel();
    let mut batch = Vec::with_capacity(PIPELINE_MAX);
    loop {
        let first = tokio::select! {
            item = queue.recv() => item,
            () = stop.cancelled() => return,
        };
        let Some(first) = first else { return };
        batch.push(first);
        while batch.len() < PIPELINE_MAX {
            match queue.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut pipe = redis::pipe();
        // Envelopes were lost before this batch: tell every node first.
        let announce = shared.lost.swap(false, Ordering::Relaxed);
        if announce {
            pipe.publish(
                &all,
                encode(shared.node, now_ms(), &Envelope::Missed { room: None }),
            )
            .ignore();
        }
        for (channel, payload) in &batch {
            pipe.publish(channel, payload.as_slice()).ignore();
        }
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                metrics::histogram!("confab_broker_publish_batch_size").record(batch.len() as f64);
            }
            Err(err) => {
                metrics::counter!("confab_broker_dropped_total").increment(batch.len() as u64);
                shared.lost.store(true, Ordering::Relaxed);
                tracing::warn!(cause = %err, dropped = batch.len(), "publishing to Redis failed");
                // Give the connection a moment to come back instead of spinning.
                tokio::time::sleep(BACKOFF_MIN).await;
            }
        }
        batch.clear();
    }
}

/// Owns the pub/sub connection: keeps the wanted channels subscribed across reconnects
/// and delivers what other nodes publish.
async fn subscriber(
    shared: Arc<Shared>,
    client: redis::Client,
    mut controls: mpsc::UnboundedReceiver<Control>,
    stop: CancellationToken,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut rooms: HashSet<RoomId> = HashSet::new();
    let mut backoff = BACKOFF_MIN;
    loop {
        let connected = tokio::select! {
            c = tokio::time::timeout(COMMAND_TIMEOUT, client.get_async_pubsub()) => c,
            () = stop.cancelled() => return,
        };
        match connected {
            Ok(Ok(pubsub)) => {
                let (mut sink, mut stream) = pubsub.split();
                // Apply the changes asked for while disconnected, then subscribe to all.
                while let Ok(c) = controls.try_recv() {
                    match c {
                        Control::Subscribe(room) => rooms.insert(room),
                        Control::Unsubscribe(room) => rooms.remove(&room),
                    };
                }
                let mut channels = vec![shared.all_channel()];
                channels.extend(rooms.iter().map(|r| shared.room_channel(*r)));
                let mut ok = true;
                for chunk in channels.chunks(256) {
                    if let Err(err) = sink.subscribe(chunk).await {
                        tracing::warn!(cause = %err, "subscribing to Redis channels failed");
                        ok = false;
                        break;
                    }
                }
                if ok {
                    backoff = BACKOFF_MIN;
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(());
                        }
                        None => {
                            tracing::info!(rooms = rooms.len(), "Redis pub/sub is back");
                            metrics::counter!("confab_broker_reconnects_total").increment(1);
                            // Whatever was published while away is in the Store.
                            shared.deliver(missed(None));
                        }
                    }
                    loop {
                        tokio::select! {
                            msg = stream.next() => {
                                let Some(msg) = msg else { break };
                                receive(&shared, msg.get_payload_bytes());
                            }
                            c = controls.recv() => {
                                let Some(c) = c else { return };
                                let result = match c {
                                    Control::Subscribe(room) => {
                                        let fresh = rooms.insert(room);
                                        let r = sink.subscribe(shared.room_channel(room)).await;
                                        if fresh && r.is_ok() {
                                            shared.deliver(missed(Some(room)));
                                        }
                                        r
                                    }
                                    Control::Unsubscribe(room) => {
                                        rooms.remove(&room);
                                        sink.unsubscribe(shared.room_channel(room)).await
                                    }
                                };
                                if let Err(err) = result {
                                    tracing::warn!(cause = %err, "Redis subscription change failed");
                                    break;
                                }
                            }
                            () = stop.cancelled() => return,
                        }
                    }
                    tracing::warn!("the Redis pub/sub connection was lost; reconnecting");
                }
            }
            Ok(Err(err)) => tracing::warn!(cause = %err, "connecting to Redis pub/sub failed"),
            Err(_) => tracing::warn!("connecting to Redis pub/sub timed out"),
        }
        if ready.is_some() {
            return; // the first connection failed: `connect` reports it
        }
        let jitter =
            Duration::from_millis(rand::random::<u64>() % (backoff.as_millis() as u64 + 1));
        tokio::select! {
            () = tokio::time::sleep(backoff / 2 + jitter / 2) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

pub(super) fn missed(room: Option<RoomId>) -> Delivery {
    Delivery {
        envelope: Envelope::Missed { room },
        published_at_ms: now_ms(),
    }
}

/// Delivers one payload from another node (this node's own were delivered at publish).
pub(super) fn receive(shared: &Shared, payload: &[u8]) {
    match decode(payload) {
        Ok(received) if received.origin == shared.node => {}
        Ok(received) => shared.deliver(received.delivery),
        Err(err) => {
            metrics::counter!("confab_broker_malformed_total").increment(1);
            tracing::warn!(cause = %err, "ignoring a malformed broker message");
        }
    }
}
