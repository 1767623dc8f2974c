//! Thousands of subscribe/unsubscribe cycles on one connection, over many rooms, against a
//! server process of its own: after a warm-up, more cycles must not grow its memory, its
//! tasks or its rooms with subscribers (each unsubscribe gives back what the subscribe
//! took: the hub entry, the presence entry, the sender's cursor).

use protocol::ServerFrame;
use protocol::names::RoomName;
use std::time::Duration;

use crate::child::ChildServer;
use crate::helpers::WAIT;
use crate::peer::Peer;
use crate::seed;

const ROOMS: usize = 40;
const WARM_UP_CYCLES: usize = 1_000;
const MEASURED_CYCLES: usize = 5_000;
/// Growth allowed after the warm-up: measured growth is about 0.1 MiB (allocator noise);
/// a leak of about 420 bytes per cycle or more passes this.
const RSS_SLACK_KIB: u64 = 2 * 1024;

async fn cycles(peer: &mut Peer, rooms: &[protocol::ids::RoomId], n: usize) {
    for i in 0..n {
        let room = rooms[i % rooms.len()];
        for kind in ["subscribe", "unsubscribe"] {
            let reply = peer
                .call(serde_json::json!({"type": kind, "room": room}), WAIT)
                .await
                .expect("the connection stays up");
            assert!(
                matches!(reply, ServerFrame::Ack { .. }),
                "{kind} {i}: {reply:?}"
            );
        }
        // Snapshots and presence frames of the cycle are only read, never kept.
        while let crate::peer::Incoming::Frame(_) = peer.next(Duration::ZERO).await {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_unsubscribe_cycles_leave_nothing_behind() {
    let data = tempfile::tempdir().unwrap();
    let store = seed::open_store(data.path()).await;
    let ana = seed::user(&*store, "churn-ana").await;
    let mut rooms = Vec::with_capacity(ROOMS);
    for i in 0..ROOMS {
        let name = RoomName::parse(&format!("churn-{i}")).unwrap();
        let room = store
            .create_room(ana.user.id, store::RoomKind::Public, &name, "")
            .await
            .unwrap();
        rooms.push(room.id);
    }
    drop(store);
    let server = ChildServer::start(
        data.path(),
        &[
            ("CONFAB_RATE_PER_SEC", "100000"),
            ("CONFAB_RATE_BURST", "100000"),
            // Presence leaves are held for a grace period; none here, so that each
            // unsubscribe's leave is final at once.
            ("CONFAB_PRESENCE_GRACE_MS", "0"),
        ],
    )
    .await;
    let mut peer = Peer::connect(server.addr, &ana.token).await.unwrap();

    cycles(&mut peer, &rooms, WARM_UP_CYCLES).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss_before, tasks_before) = (server.rss_kib(), server.alive_tasks().await);
    cycles(&mut peer, &rooms, MEASURED_CYCLES).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss_after, tasks_after) = (server.rss_kib(), server.alive_tasks().await);
    let with_subscribers = server
        .metric("confab_rooms_with_subscribers")
        .await
        .unwrap_or(0.0);
    println!(
        "churn: {MEASURED_CYCLES} subscribe/unsubscribe cycles over {ROOMS} rooms after \
         {WARM_UP_CYCLES} of warm-up: RSS {rss_before} → {rss_after} KiB, alive tasks \
         {tasks_before} → {tasks_after}, rooms with subscribers {with_subscribers}"
    );
    assert!(
        rss_after <= rss_before + RSS_SLACK_KIB,
        "memory grew from {rss_before} to {rss_after} KiB"
    );
    assert!(
        tasks_after <= tasks_before + 2.0,
        "tasks grew from {tasks_before} to {tasks_after}"
    );
    assert_eq!(with_subscribers, 0.0, "every room was left");
    peer.close_cleanly().await;
}
