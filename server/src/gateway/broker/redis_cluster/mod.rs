//! `RedisClusterBroker`: sharded pub/sub on a Redis Cluster (Redis 7 or later), for
//! clusters of gateways past what one Redis carries.
//!
//! In Redis Cluster a plain `PUBLISH` is broadcast to every shard, so shards add no pub/sub
//! capacity; `SPUBLISH` goes to the one shard that owns the channel's slot, and only that
//! shard's subscribers (`SSUBSCRIBE`) hear it. So:
//!
//! - **Channels.** `<prefix>:room:{<room id>}` carries a room's events and ephemeral frames;
//!   the hash tag puts it in the same slot as the room's presence key
//!   (`<prefix>:presence:{<room id>}`), so one shard serves everything about a room. A node
//!   subscribes to it only while it has local subscribers, as with one Redis.
//!   `<prefix>:all` is one sharded channel that every node subscribes to (personal events,
//!   memberships, unread notices, losses): it lives on one shard, which costs that shard
//!   one delivery per node per envelope, instead of the whole cluster's bus that a plain
//!   `PUBLISH` would cost. (docs/scaling.md says when that one channel becomes the limit.)
//! - **Publishing.** As [`super::RedisBroker`]: local delivery inside `publish`, then a
//!   publisher task sends what has accumulated. Redis Cluster refuses a pipeline whose
//!   commands hash to different slots, so a batch is split by slot (in order within each
//!   slot, hence within each channel) and the slots' pipelines are sent together. A failed
//!   pipeline drops its envelopes (counted) and `Missed { room: None }` is announced on
//!   `all` as soon as a publish succeeds again, retried on its own while nothing else is
//!   sent.
//! - **Receiving.** The redis crate's cluster connection (1.8, feature `cluster-async`)
//!   speaks RESP3: every shard's messages and subscription changes come back as push
//!   messages on one channel, it routes `SSUBSCRIBE` by slot, follows `MOVED` by reloading
//!   the slot map, and reconnects to a node that dropped. On top of it this task keeps its
//!   own account of which channels are confirmed, because the crate alone can lose a
//!   subscription silently: when a slot moves, the old owner ends its channels' subscribers
//!   with `SUNSUBSCRIBE`, which the crate takes as "no longer wanted"; and its re-subscribe
//!   after a reconnect is fire and forget. The rule here is simple:
//!   - every confirmation (`ssubscribe` push) of a wanted room that was not confirmed
//!     delivers `Missed { room }` (of `all`: `Missed { room: None }`), because whatever
//!     was published before it may not have arrived: a first subscription, a
//!     re-subscription after a failover, and one after a slot migration are all the same
//!     case (a confirmation of a channel still confirmed, which the crate sends when it
//!     re-subscribes everything after reloading the slot map, changes nothing);
//!   - an `sunsubscribe` push of a wanted channel (its slot moved) or a dropped link to any
//!     shard (the crate's `Disconnection` push does not say which) makes the channel(s)
//!     unconfirmed; unconfirmed wanted channels are subscribed again every
//!     [`RETRY_EVERY`] until a confirmation comes (backing off to [`RETRY_MAX`] while
//!     attempts fail);
//!   - a confirmation of a channel no longer wanted is answered with `SUNSUBSCRIBE`.
//!
//!   So a room is never left unsubscribed while it has local subscribers, and whatever
//!   was published while it was not is filled from the Store.

use protocol::ids::RoomId;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::redis::{Shared, ping};
use super::{Broker, BrokerError, Envelope, Handler};

mod publisher;
mod subscriber;

use publisher::publisher;
use subscriber::subscriber;

/// Envelopes waiting for the publisher task; past this, `publish` drops (and counts).
const PUBLISH_QUEUE: usize = 65_536;
/// Most envelopes sent in one round of pipelines.
const PIPELINE_MAX: usize = 512;
/// How long one Redis command (or a connection attempt) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often unconfirmed wanted channels are subscribed again, and a pending loss
/// announcement is retried.
const RETRY_EVERY: Duration = Duration::from_millis(250);
/// The longest wait between subscription attempts while a shard stays away.
const RETRY_MAX: Duration = Duration::from_secs(4);

/// What the gateway asks the subscriber task to change.
enum Control {
    Subscribe(RoomId),
    Unsubscribe(RoomId),
}

/// The broker of one node, on a Redis Cluster.
pub struct RedisClusterBroker {
    shared: Arc<Shared>,
    outgoing: mpsc::Sender<(String, Vec<u8>)>,
    control: mpsc::UnboundedSender<Control>,
    commands: ClusterConnection,
    stop: CancellationToken,
}

/// A cluster connection to the seed nodes `seeds`; with `pushes`, over RESP3 with every
/// push message sent there.
pub async fn cluster_connection(
    seeds: &[String],
    pushes: Option<mpsc::UnboundedSender<PushInfo>>,
) -> Result<ClusterConnection, BrokerError> {
    let unreachable = |e: redis::RedisError| BrokerError::Unreachable(e.to_string());
    let mut builder = ClusterClientBuilder::new(seeds.to_vec())
        .connection_timeout(COMMAND_TIMEOUT)
        .response_timeout(COMMAND_TIMEOUT)
        // A shard that is down fails its commands within a few seconds instead of holding
        // up the publisher (the loss is announced and filled from the Store).
        .retries(3)
        .min_retry_wait(50)
        .max_retry_wait(500);
    if let Some(pushes) = pushes {
        builder = builder
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(pushes);
    }
    let client = builder.build().map_err(unreachable)?;
    tokio::time::timeout(COMMAND_TIMEOUT * 2, client.get_async_connection())
        .await
        .map_err(|_| BrokerError::Unreachable("connecting timed out".into()))?
        .map_err(unreachable)
}

impl RedisClusterBroker {
    /// Connects to the Redis Cluster through `seeds` and starts the publisher and
    /// subscriber tasks; fails when the cluster does not answer now, or the `all` channel
    /// cannot be subscribed.
    pub async fn connect(
        seeds: &[String],
        prefix: &str,
    ) -> Result<RedisClusterBroker, BrokerError> {
        let commands = cluster_connection(seeds, None).await?;
        let (push_tx, pushes) = mpsc::unbounded_channel();
        let subscriptions = cluster_connection(seeds, Some(push_tx)).await?;
        let shared = Arc::new(Shared::new(prefix, true));
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
            subscriptions,
            pushes,
            controls,
            stop.clone(),
            ready,
        ));
        match tokio::time::timeout(COMMAND_TIMEOUT * 2, subscribed).await {
            Ok(Ok(())) => {}
            _ => {
                stop.cancel();
                return Err(BrokerError::Unreachable(
                    "subscribing to the cluster channel failed".into(),
                ));
            }
        }
        Ok(RedisClusterBroker {
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

    /// The sharded channel of `room` (for tests and tools).
    pub fn room_channel(&self, room: RoomId) -> String {
        self.shared.room_channel(room)
    }
}

impl Drop for RedisClusterBroker {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Broker for RedisClusterBroker {
    fn engine(&self) -> &'static str {
        "redis-cluster"
    }

    fn set_handler(&self, handler: Handler) {
        *self.shared.handler.write().expect("broker lock") = Some(handler);
    }

    fn publish(&self, envelope: Envelope) {
        self.shared.publish(envelope, &self.outgoing);
    }

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
        Box::pin(async move { ping::<Value>(&mut conn).await })
    }
}
