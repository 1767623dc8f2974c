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

use futures_util::future::join_all;
use protocol::ids::RoomId;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{PushInfo, PushKind, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::redis::{Shared, missed, receive};
use super::wire::encode;
use super::{Broker, BrokerError, Delivery, Envelope, Handler, now_ms};

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
        let published_at_ms = now_ms();
        let payload = encode(self.shared.node, published_at_ms, &envelope);
        let channel = self.shared.channel_of(&envelope);
        self.shared.deliver(Delivery {
            envelope,
            published_at_ms,
        });
        if self.outgoing.try_send((channel, payload)).is_err() {
            metrics::counter!("confab_broker_dropped_total").increment(1);
            self.shared.lost.store(true, Ordering::Relaxed);
        }
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
        Box::pin(async move {
            let pong = tokio::time::timeout(
                COMMAND_TIMEOUT,
                redis::cmd("PING").query_async::<Value>(&mut conn),
            )
            .await;
            match pong {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(BrokerError::Unreachable(e.to_string())),
                Err(_) => Err(BrokerError::Unreachable("PING timed out".into())),
            }
        })
    }
}

/// Sends `batch` as one pipeline per slot, all at once; returns how many envelopes were
/// dropped (those of the pipelines that failed).
async fn send_by_slot(conn: &ClusterConnection, batch: &[(String, Vec<u8>)]) -> usize {
    let mut slots: HashMap<Slot, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (i, (channel, _)) in batch.iter().enumerate() {
        let slot = Slot::for_key(channel.as_bytes());
        slots
            .entry(slot)
            .or_insert_with(|| {
                order.push(slot);
                Vec::new()
            })
            .push(i);
    }
    let sends = order.into_iter().map(|slot| {
        let members = slots.remove(&slot).unwrap_or_default();
        let mut conn = conn.clone();
        async move {
            let mut pipe = redis::pipe();
            for &i in &members {
                let (channel, payload) = &batch[i];
                pipe.cmd("SPUBLISH")
                    .arg(channel)
                    .arg(payload.as_slice())
                    .ignore();
            }
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => 0,
                Err(err) => {
                    tracing::warn!(cause = %err, dropped = members.len(), "publishing to Redis Cluster failed");
                    members.len()
                }
            }
        }
    });
    join_all(sends).await.into_iter().sum()
}

/// Sends queued envelopes, as many per round as have accumulated.
async fn publisher(
    shared: Arc<Shared>,
    conn: ClusterConnection,
    mut queue: mpsc::Receiver<(String, Vec<u8>)>,
    stop: CancellationToken,
) {
    let all = shared.all_channel();
    let mut batch = Vec::with_capacity(PIPELINE_MAX + 1);
    loop {
        let pending_loss = shared.lost.load(Ordering::Relaxed);
        let first = tokio::select! {
            item = queue.recv() => match item {
                Some(item) => Some(item),
                None => return,
            },
            // A loss is announced even when nothing else is published.
            () = tokio::time::sleep(RETRY_EVERY), if pending_loss => None,
            () = stop.cancelled() => return,
        };
        // Envelopes were lost before this batch: tell every node first.
        let announce = shared.lost.swap(false, Ordering::Relaxed);
        if announce {
            let missed = encode(shared.node, now_ms(), &Envelope::Missed { room: None });
            batch.push((all.clone(), missed));
        }
        if let Some(first) = first {
            batch.push(first);
            while batch.len() < PIPELINE_MAX {
                match queue.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(_) => break,
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let dropped = send_by_slot(&conn, &batch).await;
        if dropped == 0 {
            metrics::histogram!("confab_broker_publish_batch_size").record(batch.len() as f64);
        } else {
            metrics::counter!("confab_broker_dropped_total").increment(dropped as u64);
            shared.lost.store(true, Ordering::Relaxed);
            tokio::time::sleep(RETRY_EVERY).await;
        }
        batch.clear();
    }
}

/// What the subscriber knows of one wanted channel.
struct Wanted {
    /// `None` for the `all` channel.
    room: Option<RoomId>,
    /// A confirmation came since the last time the channel was (or may have been) dropped.
    confirmed: bool,
    /// An `SSUBSCRIBE` for it is on its way.
    asking: bool,
}

/// The outcome of one `SSUBSCRIBE`/`SUNSUBSCRIBE` sent by the subscriber.
struct Asked {
    channel: String,
    subscribe: bool,
    ok: bool,
}

/// Keeps the wanted channels subscribed on whichever shard owns them, and delivers what
/// other nodes publish (see the module doc for the rule).
async fn subscriber(
    shared: Arc<Shared>,
    conn: ClusterConnection,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    mut controls: mpsc::UnboundedReceiver<Control>,
    stop: CancellationToken,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let all = shared.all_channel();
    let mut wanted: HashMap<String, Wanted> = HashMap::new();
    wanted.insert(
        all.clone(),
        Wanted {
            room: None,
            confirmed: false,
            asking: false,
        },
    );
    let (asked_tx, mut asked) = mpsc::unbounded_channel::<Asked>();
    let ask = |channel: String, subscribe: bool| {
        let mut conn = conn.clone();
        let asked_tx = asked_tx.clone();
        tokio::spawn(async move {
            let result = if subscribe {
                conn.ssubscribe(&channel).await
            } else {
                conn.sunsubscribe(&channel).await
            };
            if let Err(err) = &result {
                tracing::debug!(cause = %err, channel, subscribe, "a Redis Cluster subscription change failed");
            }
            let _ = asked_tx.send(Asked {
                channel,
                subscribe,
                ok: result.is_ok(),
            });
        });
    };
    // Unconfirmed channels are asked for again at the next tick past `next_retry`.
    let mut backoff = RETRY_EVERY;
    let mut next_retry = tokio::time::Instant::now();
    let mut retry = tokio::time::interval(RETRY_EVERY);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            push = pushes.recv() => {
                let Some(push) = push else { return };
                match push.kind {
                    PushKind::SMessage | PushKind::Message => {
                        if let Some(payload) = push.data.get(1).and_then(bytes_of) {
                            receive(&shared, payload);
                        }
                    }
                    PushKind::SSubscribe => {
                        let Some(channel) = push.data.first().and_then(text_of) else { continue };
                        match wanted.get_mut(&channel) {
                            // A channel confirmed again without having been dropped (the
                            // crate re-subscribes everything when it reloads the slot map):
                            // nothing was missed.
                            Some(w) if w.confirmed => {}
                            Some(w) => {
                                w.confirmed = true;
                                backoff = RETRY_EVERY;
                                if w.room.is_none() && ready.is_some() {
                                    let _ = ready.take().map(|r| r.send(()));
                                } else {
                                    // Whatever was published before it is in the Store.
                                    shared.deliver(missed(w.room));
                                }
                            }
                            // Let go of meanwhile: let go of it again.
                            None => ask(channel, false),
                        }
                    }
                    PushKind::SUnsubscribe => {
                        let Some(channel) = push.data.first().and_then(text_of) else { continue };
                        if let Some(w) = wanted.get_mut(&channel)
                            && w.confirmed
                        {
                            // Its slot moved to another shard: subscribe there.
                            tracing::info!(channel, "a sharded channel moved; subscribing again");
                            metrics::counter!("confab_broker_reconnects_total").increment(1);
                            w.confirmed = false;
                            if !w.asking {
                                w.asking = true;
                                ask(channel, true);
                            }
                        }
                    }
                    PushKind::Disconnection => {
                        // Some shard's link dropped; which one is not said. Every channel is
                        // asked for again (an idempotent `SSUBSCRIBE` where it still holds).
                        tracing::warn!(channels = wanted.len(), "a Redis Cluster link dropped; subscribing again");
                        metrics::counter!("confab_broker_reconnects_total").increment(1);
                        for w in wanted.values_mut() {
                            w.confirmed = false;
                        }
                    }
                    _ => {}
                }
            }
            c = controls.recv() => {
                let Some(c) = c else { return };
                match c {
                    Control::Subscribe(room) => {
                        let channel = shared.room_channel(room);
                        let w = wanted.entry(channel.clone()).or_insert(Wanted {
                            room: Some(room),
                            confirmed: false,
                            asking: false,
                        });
                        if !w.confirmed && !w.asking {
                            w.asking = true;
                            ask(channel, true);
                        }
                    }
                    Control::Unsubscribe(room) => {
                        let channel = shared.room_channel(room);
                        if wanted.remove(&channel).is_some() {
                            ask(channel, false);
                        }
                    }
                }
            }
            done = asked.recv() => {
                let Some(done) = done else { continue };
                // A failed `SSUBSCRIBE` is asked again at the next tick; a failed
                // `SUNSUBSCRIBE` needs nothing (its link is gone, or a late confirmation
                // asks again).
                if done.subscribe && let Some(w) = wanted.get_mut(&done.channel) {
                    w.asking = false;
                    if !done.ok {
                        w.confirmed = false;
                        // Its shard is away: ask less often until one comes back.
                        backoff = (backoff * 2).min(RETRY_MAX);
                        next_retry = tokio::time::Instant::now() + backoff;
                    }
                }
            }
            _ = retry.tick() => {
                if tokio::time::Instant::now() < next_retry {
                    continue;
                }
                for (channel, w) in wanted.iter_mut() {
                    if !w.confirmed && !w.asking {
                        w.asking = true;
                        ask(channel.clone(), true);
                    }
                }
            }
            () = stop.cancelled() => return,
        }
    }
}

fn bytes_of(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<String> {
    bytes_of(value).and_then(|b| String::from_utf8(b.to_vec()).ok())
}
