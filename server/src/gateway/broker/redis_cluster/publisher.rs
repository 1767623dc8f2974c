//! The publisher task of [`super::RedisClusterBroker`]: sends queued envelopes with
//! `SPUBLISH`, one pipeline per slot (Redis Cluster refuses a pipeline across slots), and
//! announces a loss on the `all` channel once a publish succeeds again.

use futures_util::future::join_all;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::super::redis::Shared;
use super::super::wire::encode;
use super::super::{Envelope, now_ms};
use super::{PIPELINE_MAX, RETRY_EVERY};

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
pub(super) async fn publisher(
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
