//! A user who leaves during the chaos and does not come back: connected to one node and
//! subscribed to one room, reconnecting if a fault ends its connection, until a random
//! moment of the run, when it closes its socket (cleanly or by just dropping it). At the
//! end no node may list it present: it is the ghost the presence check looks for.

use protocol::ids::RoomId;
use std::time::Duration;
use tokio::time::Instant;

use crate::helpers::TestUser;
use crate::nodes::Addrs;
use crate::peer::{Incoming, Peer};
use crate::wsclient::subscribe;

/// Holds a subscription to `room` on node `node` until `leave_at`, then leaves.
pub async fn run(
    user: TestUser,
    room: RoomId,
    node: usize,
    addrs: Addrs,
    leave_at: Instant,
    cleanly: bool,
) {
    let mut conn: Option<Peer> = None;
    let mut last_ping = Instant::now();
    while Instant::now() < leave_at {
        let Some(peer) = conn.as_mut() else {
            let addr = addrs.lock().unwrap()[node];
            if let Ok(Ok(mut peer)) =
                tokio::time::timeout(Duration::from_secs(3), Peer::connect(addr, &user.token)).await
                && peer.request(subscribe(room, None)).await.is_ok()
            {
                conn = Some(peer);
                last_ping = Instant::now();
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            continue;
        };
        if last_ping.elapsed() >= Duration::from_secs(5) {
            last_ping = Instant::now();
            if peer
                .request(serde_json::json!({"type": "ping"}))
                .await
                .is_err()
            {
                conn = None;
                continue;
            }
        }
        if let Incoming::Ended = peer.next(Duration::from_millis(200)).await {
            conn = None;
        }
    }
    match conn {
        Some(peer) if cleanly => peer.close_cleanly().await,
        Some(peer) => peer.drop_abruptly(),
        None => {}
    }
}
