//! The Redis link of a cluster fails in the middle of a stream of sends: every pub/sub and
//! command connection of the Redis is cut (as a Redis restart or a network blip would),
//! and no acked message may be lost to a subscriber on another node, nor delivered twice
//! or out of order. A binary of its own: cutting every connection of the Redis would
//! disturb the other cluster tests running beside it.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/wsclient.rs"]
mod wsclient;

use helpers::{WAIT, spawn_cluster};
use protocol::ServerFrame;
use wsclient::{Client, send, subscribe};

/// Cuts every pub/sub and ordinary client connection of the Redis but the caller's own.
async fn cut_redis_links(url: &str) -> u64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut killed = 0;
    for kind in ["pubsub", "normal"] {
        killed += redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg(kind)
            .arg("SKIPME")
            .arg("yes")
            .query_async::<u64>(&mut conn)
            .await
            .unwrap();
    }
    killed
}

#[tokio::test]
async fn cutting_the_redis_links_mid_stream_loses_no_acked_message() {
    let Some(cluster) = spawn_cluster(2).await else {
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
            assert!(
                cut_redis_links(&cluster.redis_url).await >= 2,
                "links were cut"
            );
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
    let metrics = b
        .http
        .get(b.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("confab_broker_reconnects_total"),
        "no reconnect was counted:\n{metrics}"
    );
}
