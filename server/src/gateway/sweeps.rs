//! Every periodic task of the gateway, in one place: silent connections (`heartbeat.rs`),
//! typing expiry, idle statuses, deactivated users, presence ticks, cached rosters, the
//! purge of removed files, the heap's trim after a burst (`heap_trim.rs`) and (on a
//! cluster) the presence heartbeat.
//!
//! Each runs on the gateway's task tracker, holds only a weak reference to the gateway,
//! and ends when the gateway is dropped or starts to shut down. One more task waits for
//! the shutdown and then asks every connection to close with 1012: one wait for the node,
//! not one in every connection.

use protocol::ServerFrame;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::encode::text;
use super::{Gateway, Inner, broker};

/// How often expired typing indicators are swept.
const TYPING_SWEEP: Duration = Duration::from_millis(250);
/// How often the Store is asked for newly deactivated users.
const DEACTIVATION_SWEEP: Duration = Duration::from_secs(2);
/// How far back each look for deactivations reaches (clocks of other nodes may lag).
const DEACTIVATION_MARGIN_MS: i64 = 60_000;
/// How often gathered presence changes are sent.
const PRESENCE_TICK: Duration = Duration::from_millis(100);
/// How often the files of deleted messages and stale uploads are purged.
const FILE_PURGE: Duration = Duration::from_secs(60);
/// How often cached rosters nobody asked for since the last time are dropped.
const ROSTER_SWEEP: Duration = Duration::from_secs(10);
/// How often the free heap is looked at (it is trimmed only after a burst).
const HEAP_LOOK: Duration = Duration::from_secs(2);

/// Starts every sweep of `gateway`.
pub(super) fn spawn_all(gateway: &Gateway) {
    let idle_timeout = gateway.settings().idle_timeout();
    every(
        gateway,
        super::heartbeat::sweep_every(idle_timeout),
        move |gateway| async move {
            super::heartbeat::close_silent(gateway.hub(), Instant::now(), idle_timeout);
        },
    );
    spawn_shutdown_walk(gateway);
    every(gateway, TYPING_SWEEP, expire_typing);
    let idle_after = gateway.settings().idle_away();
    let idle_every = (idle_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    every(gateway, idle_every, move |gateway| async move {
        gateway.presence().sweep_idle(idle_after);
    });
    spawn_deactivation_sweep(gateway);
    every(gateway, PRESENCE_TICK, send_presence_diffs);
    every(gateway, FILE_PURGE, purge_files);
    every(gateway, ROSTER_SWEEP, |gateway| async move {
        gateway.presence().sweep_rosters();
    });
    let trimmer = Arc::new(std::sync::Mutex::new(crate::heap_trim::Trimmer::default()));
    every(gateway, HEAP_LOOK, move |_gateway| {
        let trimmer = trimmer.clone();
        async move {
            // A trim blocks for milliseconds on a large heap: not on an async worker.
            let _ = tokio::task::spawn_blocking(move || {
                trimmer.lock().expect("heap trimmer lock").tick()
            })
            .await;
        }
    });
    if let Some(heartbeat) = gateway.presence().heartbeat_every() {
        every(gateway, heartbeat, |gateway| async move {
            gateway.presence().heartbeat().await
        });
    }
}

/// Runs `step` every `period` (the first time at once) while the gateway lives and is not
/// shutting down.
fn every<F, Fut>(gateway: &Gateway, period: Duration, step: F)
where
    F: Fn(Gateway) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let weak = Arc::downgrade(&gateway.inner);
    let shutdown = gateway.shutdown_token();
    gateway.inner.tasks.spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(gateway) = upgrade(&weak) else {
                return;
            };
            step(gateway).await;
        }
    });
}

/// Once the gateway starts to shut down, asks every connection to close with 1012. A
/// connection opened after the walk sees the shutdown itself (`connection.rs`).
fn spawn_shutdown_walk(gateway: &Gateway) {
    let weak = Arc::downgrade(&gateway.inner);
    let shutdown = gateway.shutdown_token();
    gateway.inner.tasks.spawn(async move {
        shutdown.cancelled().await;
        if let Some(gateway) = upgrade(&weak) {
            gateway.hub().each_connection(|conn| {
                conn.shared
                    .end
                    .ask_close(protocol::CloseCode::ServiceRestart)
            });
        }
    });
}

fn upgrade(weak: &Weak<Inner>) -> Option<Gateway> {
    weak.upgrade().map(|inner| Gateway { inner })
}

async fn expire_typing(gateway: Gateway) {
    for (room, user) in gateway.inner.typing.expire(Instant::now()) {
        gateway.announce_typing(room, user, false);
    }
}

/// Sends each room's gathered presence changes as one `presence_diff`, big rooms paced by
/// their size.
async fn send_presence_diffs(gateway: Gateway) {
    let roster_max = gateway.settings().presence_roster_max as usize;
    for diff in gateway.presence().drain() {
        let total = gateway.presence().total(diff.room).await;
        gateway
            .presence()
            .pace_diffs(diff.room, total, PRESENCE_TICK);
        let diff = diff.capped(total, roster_max);
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

/// Closes the live connections of users deactivated (by `confab user deactivate`, in
/// any process) with 4001. The Store is asked every [`DEACTIVATION_SWEEP`] for
/// deactivations since the last look, minus a margin for clocks of other machines.
fn spawn_deactivation_sweep(gateway: &Gateway) {
    let since = Arc::new(std::sync::atomic::AtomicI64::new(
        store::now_millis() - DEACTIVATION_MARGIN_MS,
    ));
    every(gateway, DEACTIVATION_SWEEP, move |gateway| {
        let since = since.clone();
        async move {
            let now = store::now_millis();
            let from = since.load(std::sync::atomic::Ordering::Relaxed);
            match gateway.store().deactivated_since(from).await {
                Ok(users) => {
                    for user in users {
                        let closed = gateway
                            .hub()
                            .close_user(user, protocol::CloseCode::Unauthorized);
                        if closed > 0 {
                            tracing::info!(%user, closed, "deactivated user disconnected");
                        }
                    }
                    since.store(
                        now - DEACTIVATION_MARGIN_MS,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
                Err(err) => tracing::debug!(cause = %err, "deactivation sweep failed"),
            }
        }
    });
}

/// Removes the bytes and records of deleted messages' files and of uploads no message
/// named within [`crate::files::UNATTACHED_TTL_MS`] (a few hundred a sweep).
async fn purge_files(gateway: Gateway) {
    let stale_before = store::now_millis() - crate::files::UNATTACHED_TTL_MS;
    match gateway.store().purge_files(stale_before).await {
        Ok(0) => {}
        Ok(n) => {
            metrics::counter!("confab_files_purged_total").increment(n);
            tracing::debug!(files = n, "purged removed files");
        }
        Err(err) => tracing::warn!(cause = %err, "purging files failed"),
    }
}
