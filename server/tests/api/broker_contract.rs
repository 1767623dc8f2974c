//! The Broker contract, run against every engine (the in-process one, Redis, and Redis
//! Cluster with sharded pub/sub): what the gateway relies on, checked on the engine alone.

use confab::gateway::Broker;
use confab::gateway::broker::{Delivery, Envelope, MemoryBroker, RedisBroker, RedisClusterBroker};
use protocol::ids::{RoomId, UserId};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

use crate::helpers::{WAIT, test_redis_url};
use crate::redis_cluster::RedisCluster;

/// A broker with a handler that records what it is given.
struct Recorded {
    broker: Arc<dyn Broker>,
    seen: Arc<Mutex<Vec<Envelope>>>,
}

fn record(broker: Arc<dyn Broker>) -> Recorded {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    broker.set_handler(Arc::new(move |d: Delivery| {
        sink.lock().unwrap().push(d.envelope)
    }));
    Recorded { broker, seen }
}

impl Recorded {
    fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    /// Waits until the recorded envelopes satisfy `done`, then returns them all.
    async fn wait_for(&self, done: impl Fn(&[Envelope]) -> bool) -> Vec<Envelope> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            {
                let seen = self.seen.lock().unwrap();
                if done(&seen) {
                    return seen.clone();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not delivered in time: {:?}",
                self.seen.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn event(room: RoomId, seq: u64) -> Envelope {
    Envelope::Event {
        room,
        seq,
        frame: format!("{{\"seq\":{seq}}}").into(),
        // Every other one changes an earlier message: the mark travels with the event.
        amends: seq.is_multiple_of(2),
    }
}

fn new_room() -> RoomId {
    RoomId(Uuid::now_v7())
}

/// The contract every engine keeps on one node.
async fn local_delivery_is_immediate_ordered_and_once(broker: Arc<dyn Broker>) {
    let node = record(broker);
    let room = new_room();
    node.broker.subscribe_room(room);
    for seq in 1..=50 {
        node.broker.publish(event(room, seq));
    }
    node.broker.publish(Envelope::User {
        user: UserId(Uuid::now_v7()),
        frame: "{}".into(),
    });
    // Local delivery happens inside `publish`: nothing to wait for.
    let got: Vec<Envelope> = node
        .take()
        .into_iter()
        .filter(|e| !matches!(e, Envelope::Missed { .. }))
        .collect();
    assert_eq!(got.len(), 51);
    for (i, e) in got.iter().take(50).enumerate() {
        assert_eq!(*e, event(room, i as u64 + 1));
    }
    node.broker.unsubscribe_room(room);
    node.broker.publish(event(room, 51));
    assert!(
        node.take().contains(&event(room, 51)),
        "a node always gets its own envelopes"
    );
    assert!(node.broker.ping().await.is_ok());
}

#[tokio::test]
async fn the_memory_broker_keeps_the_contract() {
    local_delivery_is_immediate_ordered_and_once(Arc::new(MemoryBroker::default())).await;
}

#[tokio::test]
async fn the_redis_broker_keeps_the_contract() {
    let Some(url) = test_redis_url().await else {
        return;
    };
    let prefix = format!("contract-{}", Uuid::now_v7().simple());
    let broker = RedisBroker::connect(&url, &prefix).await.unwrap();
    local_delivery_is_immediate_ordered_and_once(Arc::new(broker)).await;
}

#[tokio::test]
async fn the_redis_cluster_broker_keeps_the_contract() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let prefix = format!("contract-{}", Uuid::now_v7().simple());
    let broker = RedisClusterBroker::connect(&cluster.seeds(), &prefix)
        .await
        .unwrap();
    assert_eq!(broker.engine(), "redis-cluster");
    local_delivery_is_immediate_ordered_and_once(Arc::new(broker)).await;
}

#[tokio::test]
async fn redis_carries_room_envelopes_to_subscribed_nodes_and_the_rest_to_all() {
    let Some(url) = test_redis_url().await else {
        return;
    };
    let prefix = format!("contract-{}", Uuid::now_v7().simple());
    let a = record(Arc::new(RedisBroker::connect(&url, &prefix).await.unwrap()));
    let b = record(Arc::new(RedisBroker::connect(&url, &prefix).await.unwrap()));
    room_envelopes_reach_subscribed_nodes_and_the_rest_all(&a, &b, Order::Total).await;
}

#[tokio::test]
async fn redis_cluster_carries_room_envelopes_to_subscribed_nodes_and_the_rest_to_all() {
    let Some(cluster) = RedisCluster::start().await else {
        return;
    };
    let prefix = format!("contract-{}", Uuid::now_v7().simple());
    let seeds = cluster.seeds();
    let a = record(Arc::new(
        RedisClusterBroker::connect(&seeds, &prefix).await.unwrap(),
    ));
    let b = record(Arc::new(
        RedisClusterBroker::connect(&seeds, &prefix).await.unwrap(),
    ));
    room_envelopes_reach_subscribed_nodes_and_the_rest_all(&a, &b, Order::PerChannel).await;

    // Another cluster's prefix on the same Redis Cluster is never heard.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.take();
    let theirs = RedisClusterBroker::connect(&seeds, &format!("{prefix}-other"))
        .await
        .unwrap();
    theirs.publish(Envelope::Missed { room: None });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.take().is_empty());
}

/// What order a networked engine keeps between what one node publishes.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// Everything, as published (one Redis: one connection carries every channel).
    Total,
    /// Within each channel (a room's, and `all`); a room's envelopes and `all`'s may
    /// pass each other (Redis Cluster: the channels live on different shards). The
    /// gateway needs no more: a membership is checked against the Store where it matters.
    PerChannel,
}

/// The contract of a networked engine between two nodes: room envelopes reach the nodes
/// subscribed to the room, in publish order (per `order`), once; the others reach every
/// node.
async fn room_envelopes_reach_subscribed_nodes_and_the_rest_all(
    a: &Recorded,
    b: &Recorded,
    order: Order,
) {
    let room = new_room();

    // B follows the room: once Redis confirms, B is told to check the Store for it.
    b.broker.subscribe_room(room);
    b.wait_for(|s| s.contains(&Envelope::Missed { room: Some(room) }))
        .await;
    b.take();
    for seq in 1..=20 {
        a.broker.publish(event(room, seq));
    }
    let user = UserId(Uuid::now_v7());
    a.broker.publish(Envelope::Membership {
        room,
        user,
        joined: true,
    });
    let got = b.wait_for(|s| s.len() >= 21).await;
    let membership = Envelope::Membership {
        room,
        user,
        joined: true,
    };
    let expected: Vec<Envelope> = (1..=20)
        .map(|seq| event(room, seq))
        .chain([membership.clone()])
        .collect();
    match order {
        Order::Total => assert_eq!(got, expected, "in publish order, once each"),
        Order::PerChannel => {
            let room_channel: Vec<Envelope> =
                got.iter().filter(|e| **e != membership).cloned().collect();
            assert_eq!(
                room_channel,
                expected[..20],
                "the room's in publish order, once each"
            );
            assert_eq!(got.len(), 21, "the membership once");
        }
    }
    assert_eq!(a.take().len(), 21, "A got its own at once, and not again");

    // B lets go of the room: room envelopes stop, cluster-wide ones still come.
    b.broker.unsubscribe_room(room);
    tokio::time::sleep(Duration::from_millis(200)).await;
    b.take();
    a.broker.publish(event(room, 21));
    a.broker.publish(Envelope::Unread {
        room,
        seq: 21,
        author: user,
        thread: false,
        everyone: false,
        mentions: vec!["ana".into(), "bo".into()],
    });
    let got = b.wait_for(|s| !s.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        got,
        vec![Envelope::Unread {
            room,
            seq: 21,
            author: user,
            thread: false,
            everyone: false,
            mentions: vec!["ana".into(), "bo".into()],
        }]
    );
    assert_eq!(b.take().len(), 1, "nothing else arrived");
}

#[tokio::test]
async fn another_clusters_prefix_is_never_heard() {
    let Some(url) = test_redis_url().await else {
        return;
    };
    let ours = record(Arc::new(
        RedisBroker::connect(&url, &format!("contract-{}", Uuid::now_v7().simple()))
            .await
            .unwrap(),
    ));
    let theirs = record(Arc::new(
        RedisBroker::connect(&url, &format!("contract-{}", Uuid::now_v7().simple()))
            .await
            .unwrap(),
    ));
    theirs.broker.publish(Envelope::Missed { room: None });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ours.take().is_empty());
}
