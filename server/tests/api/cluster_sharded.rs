//! Gateways on a Redis Cluster (sharded pub/sub), each test on a cluster of its own that
//! it starts and stops: rooms whose channels live on different shards followed across
//! nodes, the presence contract, a shard killed and restarted mid-stream, a slot migrated
//! mid-stream. Whatever was acked reaches every subscriber once, in seq order.

use protocol::ids::RoomId;
use std::time::Duration;

use crate::helpers::{Cluster, TestApp, TestUser, WAIT, spawn_cluster_on, spawn_cluster_on_with};
use crate::redis_cluster::RedisCluster;
use crate::wsclient::{Client, send, subscribe};

async fn client(node: &TestApp, user: &TestUser) -> Client {
    Client::new(node.connect_as(user).await)
}

/// A Redis Cluster and `n` gateways on it; `None` when either cannot be had (and CI is
/// not set).
async fn gateways(n: usize) -> Option<(RedisCluster, Cluster)> {
    let redis = RedisCluster::start().await?;
    let cluster = spawn_cluster_on(n, redis.url()).await?;
    Some((redis, cluster))
}

fn channel(cluster: &Cluster, room: RoomId) -> String {
    format!("{}:room:{{{}}}", cluster.prefix, room.0)
}

/// Waits until sharded `channel` has `n` subscribers on shard `shard`.
async fn wait_for_shard_subscribers(redis: &RedisCluster, shard: usize, channel: &str, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = redis.shard_subscribers(shard, channel).await;
        if now == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel} has {now} subscribers on shard {shard}, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `n` events of `room` and checks they are seqs 1..=n with `bodies`. A reader
/// still waiting after `3 × WAIT` fails with the seqs it had by then.
async fn assert_all_in_order(reader: &mut Client, room: RoomId, bodies: &[String]) {
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    let mut events = Vec::with_capacity(bodies.len());
    while events.len() < bodies.len() {
        let Ok(mut next) = tokio::time::timeout_at(deadline, reader.events(room, 1)).await else {
            let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
            panic!(
                "{} of {} acked events arrived in {:?}; seqs: {seqs:?}",
                events.len(),
                bodies.len(),
                WAIT * 3
            );
        };
        events.append(&mut next);
    }
    let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=bodies.len() as u64).collect::<Vec<_>>(),
        "in order, once"
    );
    let got: Vec<&String> = events.iter().map(|(_, b)| b).collect();
    assert_eq!(got, bodies.iter().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_on_three_shards_are_followed_across_three_nodes() {
    let Some((redis, cluster)) = gateways(3).await else {
        return;
    };
    let nodes = &cluster.nodes;
    let ready = nodes[1].get_json("/readyz").await;
    assert_eq!(ready["broker"], "redis-cluster");
    assert_eq!(ready["broker_ok"], true);

    let users = [
        nodes[0].user("sh-ana").await,
        nodes[0].user("sh-bo").await,
        nodes[0].user("sh-cy").await,
    ];
    // Rooms until one lives on each shard.
    let mut rooms: [Option<RoomId>; 3] = [None; 3];
    for i in 0..64 {
        if rooms.iter().all(Option::is_some) {
            break;
        }
        let room = nodes[0]
            .public_room(&users[0], &format!("sharded-{i}"))
            .await;
        let shard = redis.owner_of(&channel(&cluster, room)).await;
        rooms[shard].get_or_insert(room);
    }
    let rooms: Vec<RoomId> = rooms
        .into_iter()
        .map(|r| r.expect("a room per shard"))
        .collect();

    // Room k is written on node k and read on the two others.
    const EACH: usize = 20;
    let mut readers = Vec::new();
    for (k, room) in rooms.iter().enumerate() {
        for d in 1..3 {
            let n = (k + d) % 3;
            let mut r = client(&nodes[n], &users[n]).await;
            r.ok(subscribe(*room, None)).await;
            readers.push((*room, r));
        }
    }
    let mut writers = Vec::new();
    for (k, room) in rooms.iter().enumerate() {
        let mut w = client(&nodes[k], &users[k]).await;
        w.ok(subscribe(*room, None)).await;
        writers.push(w);
    }
    // Each room's channel is subscribed by its three nodes, on the shard that owns it.
    for (shard, room) in rooms.iter().enumerate() {
        wait_for_shard_subscribers(&redis, shard, &channel(&cluster, *room), 3).await;
    }
    let bodies: Vec<String> = (0..EACH).map(|i| format!("m {i}")).collect();
    for (i, body) in bodies.iter().enumerate() {
        for (k, w) in writers.iter_mut().enumerate() {
            w.ok(send(rooms[k], &format!("sh-{k}-{i}"), body)).await;
        }
    }
    for (room, r) in &mut readers {
        assert_all_in_order(r, *room, &bodies).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_presence_keeps_the_presence_contract_across_nodes() {
    // One seed and `--redis-cluster` this time (the others name every node).
    let Some(redis) = RedisCluster::start().await else {
        return;
    };
    let Some(cluster) = spawn_cluster_on_with(2, redis.seeds()[1].clone(), |s| {
        s.redis_cluster = true;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        cluster.nodes[0].get_json("/readyz").await["broker"],
        "redis-cluster"
    );
    crate::cluster::presence_contract(&cluster.nodes[0], &cluster.nodes[1], "prc").await;
}

/// A writer on node A sends messages one after the other, each acked; halfway, `fault`
/// disturbs the shard that owns the room's channel (given the room and that shard). A
/// reader on node B gets them all, once each, in order.
async fn acked_survive(
    redis: &mut RedisCluster,
    cluster: &Cluster,
    tag: &str,
    fault: impl AsyncFnOnce(&mut RedisCluster, RoomId, usize),
) {
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user(&format!("{tag}-ana")).await;
    let bo = a.user(&format!("{tag}-bo")).await;
    let room = a.public_room(&ana, &format!("{tag}-room")).await;
    let ch = channel(cluster, room);
    let shard = redis.owner_of(&ch).await;
    let mut reader = client(b, &bo).await;
    reader.ok(subscribe(room, None)).await;
    let mut writer = client(a, &ana).await;
    writer.ok(subscribe(room, None)).await;
    wait_for_shard_subscribers(redis, shard, &ch, 2).await;

    // A third before the fault, a third while it happens (the writer goes on while the
    // shard is away or the slot moves), a third after it.
    const N: usize = 45;
    let bodies: Vec<String> = (0..N).map(|i| format!("{tag} {i}")).collect();
    let send_some = async |writer: &mut Client, range: std::ops::Range<usize>, pace: u64| {
        for i in range {
            writer
                .ok(send(room, &format!("{tag}-{i}"), &bodies[i]))
                .await;
            tokio::time::sleep(Duration::from_millis(pace)).await;
        }
    };
    send_some(&mut writer, 0..N / 3, 20).await;
    tokio::join!(
        fault(redis, room, shard),
        send_some(&mut writer, N / 3..2 * N / 3, 100)
    );
    send_some(&mut writer, 2 * N / 3..N, 20).await;
    assert_all_in_order(&mut reader, room, &bodies).await;
    // The writer saw them all too (its own node, in order).
    assert_all_in_order(&mut writer, room, &bodies).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_killed_and_restarted_mid_stream_loses_nothing_acked() {
    let Some((mut redis, cluster)) = gateways(2).await else {
        return;
    };
    acked_survive(&mut redis, &cluster, "kill", async |redis, _room, shard| {
        redis.kill(shard);
        // Sends go on (acked by Postgres) while the room's shard is away.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.restart(shard).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_migrated_mid_stream_loses_nothing_acked() {
    let Some((mut redis, cluster)) = gateways(2).await else {
        return;
    };
    let prefix = cluster.prefix.clone();
    acked_survive(&mut redis, &cluster, "move", async |redis, room, shard| {
        let ch = format!("{prefix}:room:{{{}}}", room.0);
        let slot = redis.slot_of(&ch).await;
        let to = (shard + 1) % 3;
        redis.migrate_slot(slot, shard, to).await;
        // Both nodes follow the room on its new shard.
        wait_for_shard_subscribers(redis, to, &ch, 2).await;
        assert_eq!(redis.shard_subscribers(shard, &ch).await, 0);
        // The room's presence key moved with it (the same slot).
        let key = format!("{prefix}:presence:{{{}}}", room.0);
        let mut conn = redis.node(to).await;
        let fields: u64 = redis::cmd("HLEN")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(fields, 2, "both users' presence moved with the slot");
    })
    .await;
}
