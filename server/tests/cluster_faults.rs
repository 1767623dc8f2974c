//! Redis restarts in the middle of a stream of sends: the cluster runs on a Redis server
//! of the test's own, which is stopped and started again, twice, losing every
//! subscription and message in flight. No acked message may be lost to a subscriber on
//! another node, nor delivered twice or out of order. A binary of its own, so that it
//! runs apart from the other tests.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[path = "chaos/redis.rs"]
mod own_redis;
#[allow(dead_code)]
#[path = "api/wsclient.rs"]
mod wsclient;

use helpers::{WAIT, spawn_cluster_on};
use own_redis::OwnRedis;
use protocol::ServerFrame;
use wsclient::{Client, send, subscribe};

#[tokio::test]
async fn restarting_redis_mid_stream_loses_no_acked_message() {
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let Some(cluster) = spawn_cluster_on(2, redis.url()).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("fault-ana").await;
    let bo = b.user("fault-bo").await;
    let room = a.public_room(&ana, "cluster-fault").await;
    let mut reader = Client::new(b.connect_as(&bo).await);
    reader.ok(subscribe(room, None)).await;
    let mut writer = Client::new(a.connect_as(&ana).await);
    writer.ok(subscribe(room, None)).await;

    const TOTAL: u64 = 120;
    let mut last_acked = 0;
    for i in 0..TOTAL {
        if i == 40 || i == 80 {
            // Redis goes away for a moment, losing every subscription and message in it.
            redis.down();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            redis.up().await.expect("redis-server starts again");
        }
        match writer
            .request(send(room, &format!("f-{i}"), &format!("m {i}")))
            .await
        {
            ServerFrame::Ack {
                info: protocol::AckInfo { seq: Some(seq), .. },
                ..
            } => last_acked = seq,
            other => panic!("send {i} was not acked: {other:?}"),
        }
    }
    assert_eq!(last_acked, TOTAL);

    // Everything acked reaches the other node's subscriber once, in order — the tail too,
    // even if its envelopes were published while the link was down.
    let events = tokio::time::timeout(WAIT * 3, reader.events(room, TOTAL as usize))
        .await
        .expect("every acked message reaches the subscriber on the other node");
    let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=TOTAL).collect::<Vec<_>>());
    let bodies: Vec<String> = events.into_iter().map(|(_, b)| b).collect();
    assert_eq!(
        bodies,
        (0..TOTAL).map(|i| format!("m {i}")).collect::<Vec<_>>()
    );
    reader
        .none_within(std::time::Duration::from_millis(500), |f| {
            matches!(f, ServerFrame::Event { .. })
        })
        .await;

    // The nodes noticed and reconnected.
    let metrics = b.get_text("/metrics").await;
    assert!(
        metrics.contains("confab_broker_reconnects_total"),
        "no reconnect was counted:\n{metrics}"
    );
}
