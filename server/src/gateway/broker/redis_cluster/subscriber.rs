//! The subscriber task of [`super::RedisClusterBroker`]: keeps the wanted channels
//! subscribed (`SSUBSCRIBE`) on whichever shard owns them, re-subscribes after a dropped
//! link or a moved slot, turns each new confirmation into `Missed`, and delivers what other
//! nodes publish. The rule is in the parent module's doc.

use protocol::ids::RoomId;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::super::redis::{Shared, missed, receive};
use super::{Control, RETRY_EVERY, RETRY_MAX};

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
pub(super) async fn subscriber(
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
