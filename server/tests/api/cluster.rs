//! Several gateways sharing one Postgres database and one Redis: what a client sees on
//! any node is what it would see on one. (The Redis link failure test has a binary of its
//! own, `tests/cluster_faults.rs`, because it cuts every pub/sub link of the Redis.)

use confab::config::Settings;
use confab::startup::Application;
use protocol::{PersonalEvent, ServerFrame};

use crate::helpers::{TestApp, TestUser, WAIT, spawn_cluster, spawn_cluster_with};
use crate::wsclient::{Client, send, subscribe};

async fn client(node: &TestApp, user: &TestUser) -> Client {
    Client::new(node.connect_as(user).await)
}

/// Messages sent one after the other (each acked before the next) on `node`.
const EACH: usize = 30;

async fn write_many(node: &TestApp, user: &TestUser, room: protocol::ids::RoomId, tag: &str) {
    let mut w = client(node, user).await;
    w.ok(subscribe(room, None)).await;
    for i in 0..EACH {
        w.ok(send(room, &format!("{tag}-{i}"), &format!("{tag} {i}")))
            .await;
    }
}

#[tokio::test]
async fn messages_sent_on_two_nodes_reach_clients_on_three_in_one_order() {
    let Some(cluster) = spawn_cluster(3).await else {
        return;
    };
    let [a, b, c] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("cl-ana").await;
    let bo = b.user("cl-bo").await;
    let cy = c.user("cl-cy").await;
    let room = a.public_room(&ana, "cluster-order").await;
    let mut readers = Vec::new();
    for (node, user) in [(a, &ana), (b, &bo), (c, &cy)] {
        let mut r = client(node, user).await;
        r.ok(subscribe(room, None)).await;
        readers.push(r);
    }

    // Two writers on two nodes, interleaving.
    tokio::join!(
        write_many(a, &ana, room, "ana"),
        write_many(b, &bo, room, "bo")
    );

    let mut seen = Vec::new();
    for r in &mut readers {
        let events = tokio::time::timeout(WAIT * 2, r.events(room, 2 * EACH))
            .await
            .expect("every event arrives on every node");
        let seqs: Vec<u64> = events.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            seqs,
            (1..=2 * EACH as u64).collect::<Vec<_>>(),
            "in order, once"
        );
        seen.push(events);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    // Each writer's own messages keep their order.
    for tag in ["ana", "bo"] {
        let own: Vec<&String> = seen[0]
            .iter()
            .map(|(_, b)| b)
            .filter(|b| b.starts_with(tag))
            .collect();
        let expected: Vec<String> = (0..EACH).map(|i| format!("{tag} {i}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn typing_dms_and_unread_notices_cross_nodes() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("cx-ana").await;
    let bo = b.user("cx-bo").await;
    let room = a.public_room(&ana, "cluster-typing").await;
    let mut on_a = client(a, &ana).await;
    let mut on_b = client(b, &bo).await;
    on_a.ok(subscribe(room, None)).await;
    on_b.ok(subscribe(room, None)).await;

    // Typing on A shows on B.
    on_a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    match on_b
        .push_where(|f| matches!(f, ServerFrame::Typing { .. }))
        .await
    {
        ServerFrame::Typing { user, active, .. } => {
            assert_eq!(user.id, ana.user.id);
            assert!(active);
        }
        other => panic!("{other:?}"),
    }

    // A direct message opened on A is announced to Bo's device on B.
    on_a.ok(serde_json::json!({"type": "open_dm", "user": bo.user.id}))
        .await;
    let dm = match on_b
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Personal {
                    event: PersonalEvent::DmOpened { .. }
                }
            )
        })
        .await
    {
        ServerFrame::Personal {
            event: PersonalEvent::DmOpened { room, with },
        } => {
            assert_eq!(with.id, ana.user.id);
            room
        }
        other => panic!("{other:?}"),
    };

    // A message in the DM, which Bo is not watching: an unread notice reaches B, marked
    // as a mention of him (the handles travel in the broker envelope).
    on_a.ok(subscribe(dm, None)).await;
    on_a.ok(send(dm, "dm-1", "psst @cx-bo")).await;
    let unread = on_b
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Personal {
                    event: PersonalEvent::Unread { .. }
                }
            )
        })
        .await;
    assert!(
        matches!(unread, ServerFrame::Personal { event: PersonalEvent::Unread { room, seq: 1, mention: true } } if room == dm),
        "{unread:?}"
    );

    // Readiness names the engines.
    let ready = b.get_json("/readyz").await;
    assert_eq!(ready["broker"], "redis");
    assert_eq!(ready["broker_ok"], true);
    assert_eq!(ready["store"], "postgres");
}

#[tokio::test]
async fn a_room_is_followed_through_redis_only_while_it_has_local_subscribers() {
    // The channel outlives its last subscriber by the grace period: none here.
    let Some(cluster) = spawn_cluster_with(2, |s| s.channel_grace_secs = 0).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("cs-ana").await;
    let bo = b.user("cs-bo").await;
    let room = a.public_room(&ana, "cluster-subs").await;
    let channel = format!("{}:room:{}", cluster.prefix, room.0);
    let redis = redis::Client::open(cluster.redis_url.as_str()).unwrap();
    let conn = redis.get_multiplexed_async_connection().await.unwrap();
    assert_eq!(subscribers(&conn, &channel).await, 0);

    let mut on_b = client(b, &bo).await;
    on_b.ok(subscribe(room, None)).await;
    let mut second = client(b, &bo).await;
    second.ok(subscribe(room, None)).await;
    wait_for_subscribers(&conn, &channel, 1).await;

    // A follows the room too once it has a subscriber; its message arrives on B.
    let mut on_a = client(a, &ana).await;
    on_a.ok(subscribe(room, None)).await;
    wait_for_subscribers(&conn, &channel, 2).await;
    on_a.ok(send(room, "s-1", "hello")).await;
    assert_eq!(on_b.events(room, 1).await[0].1, "hello");

    // B lets go only when its last subscriber leaves.
    on_b.ok(serde_json::json!({"type": "unsubscribe", "room": room}))
        .await;
    assert_eq!(
        subscribers(&conn, &channel).await,
        2,
        "B still has a subscriber"
    );
    drop(second);
    wait_for_subscribers(&conn, &channel, 1).await;
    drop(on_a);
    wait_for_subscribers(&conn, &channel, 0).await;
}

#[tokio::test]
async fn a_node_does_not_start_when_redis_is_unreachable() {
    let data = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults();
    settings.bind = Some("127.0.0.1:0".parse().unwrap());
    settings.data_dir = data.path().to_path_buf();
    settings.redis_url = Some("redis://127.0.0.1:1".into());
    let err = match Application::build(settings).await {
        Ok(_) => panic!("a node without its Redis must not start"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("Redis"), "{err}");
}

/// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
async fn subscribers(conn: &redis::aio::MultiplexedConnection, channel: &str) -> u64 {
    let counts: Vec<(String, u64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut conn.clone())
        .await
        .unwrap();
    counts[0].1
}

/// Waits until `channel` has `n` subscribers, failing after [`WAIT`].
async fn wait_for_subscribers(conn: &redis::aio::MultiplexedConnection, channel: &str, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = subscribers(conn, channel).await;
        if now == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel} has {now} subscribers, not {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn presence_users(frame: &ServerFrame) -> Vec<protocol::ids::UserId> {
    match frame {
        ServerFrame::Presence { users, .. } => users.iter().map(|e| e.user.id).collect(),
        other => panic!("expected presence, got {other:?}"),
    }
}

fn is_presence(f: &ServerFrame) -> bool {
    matches!(f, ServerFrame::Presence { .. })
}

/// The next presence diff that says something about `user`: (true, total) when they
/// joined, (false, total) when they left.
async fn diff_about(c: &mut Client, user: protocol::ids::UserId) -> (bool, u32) {
    loop {
        if let ServerFrame::PresenceDiff {
            joined,
            left,
            total,
            ..
        } = c.push().await
        {
            if joined.iter().any(|u| u.id == user) {
                return (true, total);
            }
            if left.contains(&user) {
                return (false, total);
            }
        }
    }
}

/// The presence contract, with Ana on node `a` and Bo on node `b` (the same node for the
/// in-process engine, two nodes for Redis): each sees the other, a second tab keeps Bo
/// present, and closing his last one makes him leave for Ana.
pub(crate) async fn presence_contract(a: &TestApp, b: &TestApp, tag: &str) {
    let ana = a.user(&format!("{tag}-ana")).await;
    let bo = a.user(&format!("{tag}-bo")).await;
    let room = a.public_room(&ana, &format!("{tag}-presence")).await;
    let mut on_a = client(a, &ana).await;
    on_a.ok(subscribe(room, None)).await;
    on_a.push_where(is_presence).await;

    // Bo arrives: his roster lists both, and Ana is told he joined (two present).
    let mut on_b = client(b, &bo).await;
    on_b.ok(subscribe(room, None)).await;
    let roster = on_b.push_where(is_presence).await;
    let users = presence_users(&roster);
    assert!(
        users.contains(&ana.user.id) && users.contains(&bo.user.id),
        "{roster:?}"
    );
    assert!(
        matches!(roster, ServerFrame::Presence { total: 2, .. }),
        "{roster:?}"
    );
    assert_eq!(
        diff_about(&mut on_a, bo.user.id).await,
        (true, 2),
        "Ana sees Bo join"
    );

    // Bo opens a second tab on Ana's node, then closes the first: still present.
    let mut bo_on_a = client(a, &bo).await;
    bo_on_a.ok(subscribe(room, None)).await;
    drop(on_b);
    on_a.none_within(
        std::time::Duration::from_secs(5),
        |f| matches!(f, ServerFrame::PresenceDiff { left, .. } if left.contains(&bo.user.id)),
    )
    .await;
    // Closing the last one: Bo leaves, for Ana too.
    drop(bo_on_a);
    let left = tokio::time::timeout(WAIT, diff_about(&mut on_a, bo.user.id))
        .await
        .expect("a leave within the grace period and a tick");
    assert_eq!(left, (false, 1));
}

#[tokio::test]
async fn the_in_process_presence_keeps_the_presence_contract() {
    let app = crate::helpers::spawn_app().await;
    presence_contract(&app, &app, "pm").await;
}

#[tokio::test]
async fn redis_presence_keeps_the_presence_contract_across_nodes() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    presence_contract(&cluster.nodes[0], &cluster.nodes[1], "pr").await;
}

#[tokio::test]
async fn a_node_killed_with_sigkill_loses_its_users_elsewhere_and_they_resume_on_another() {
    let Some(cluster) = spawn_cluster(1).await else {
        return;
    };
    let a = &cluster.nodes[0];
    let mut b = crate::child_node::ChildNode::start(&cluster).await;
    let ana = a.user("ck-ana").await;
    let bo = a.user("ck-bo").await;
    let room = a.public_room(&ana, "cluster-kill").await;

    let mut on_a = client(a, &ana).await;
    on_a.ok(subscribe(room, None)).await;
    let mut on_b = Client::new(crate::helpers::connect_user(b.addr, &bo).await);
    on_b.ok(subscribe(room, None)).await;
    assert!(
        diff_about(&mut on_a, bo.user.id).await.0,
        "Ana sees Bo (on B) join"
    );
    for i in 0..5 {
        on_a.ok(send(room, &format!("k-{i}"), &format!("before {i}")))
            .await;
    }
    let seen = on_b.events(room, 5).await;
    let last_seen = seen.last().unwrap().0;

    // B dies without a word; Ana goes on writing.
    let killed = std::time::Instant::now();
    b.kill();
    for i in 5..10 {
        on_a.ok(send(room, &format!("k-{i}"), &format!("after {i}")))
            .await;
    }
    let bound = confab::gateway::presence::NODE_TTL
        + confab::gateway::presence::HEARTBEAT * 2
        + std::time::Duration::from_secs(2);
    let left = tokio::time::timeout(bound, diff_about(&mut on_a, bo.user.id))
        .await
        .expect("Bo's leave is announced within the documented time");
    assert_eq!(left, (false, 1));
    let took = killed.elapsed();
    eprintln!("the leave of a SIGKILLed node's user was seen {took:?} after the kill");
    assert!(took <= bound);

    // Bo's client reconnects to A and resumes from its last seq: nothing lost or doubled.
    let mut again = client(a, &bo).await;
    again.ok(subscribe(room, Some(last_seen))).await;
    let resumed = again.events(room, 5).await;
    assert_eq!(
        resumed.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        ["after 5", "after 6", "after 7", "after 8", "after 9"]
    );
    assert_eq!(resumed[0].0, last_seen + 1);
}

#[tokio::test]
async fn with_postgres_away_sends_are_refused_never_acked_and_the_node_recovers() {
    let Some(cluster) = spawn_cluster(1).await else {
        return;
    };
    let a = &cluster.nodes[0];
    let ana = a.user("pg-ana").await;
    let room = a.public_room(&ana, "cluster-pg-outage").await;
    let mut c = client(a, &ana).await;
    c.ok(subscribe(room, None)).await;
    c.ok(send(room, "pg-1", "before")).await;

    cluster.db.set_reachable(false).await;
    for i in 0..3 {
        let reply = c.request(send(room, &format!("pg-x{i}"), "during")).await;
        crate::wsclient::assert_error(&reply, protocol::ErrorCode::Unavailable);
    }
    let ready = a.http.get(a.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without its store");

    // Back: the same connection's sends are acked again, and none of the refused ones
    // was written (the next seq follows "before").
    cluster.db.set_reachable(true).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let seq = loop {
        match c.request(send(room, "pg-2", "after")).await {
            ServerFrame::Ack { info, .. } => break info.seq.unwrap(),
            other => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no recovery: {other:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(seq, 2);
    let bodies: Vec<String> = c
        .events(room, 2)
        .await
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    assert_eq!(bodies, ["before", "after"]);
    assert_eq!(
        a.http.get(a.url("/readyz")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_status_set_on_one_node_is_in_the_roster_read_on_another() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("cst-ana").await;
    let bo = a.user("cst-bo").await;
    let room = a.public_room(&ana, "cluster-status").await;
    let mut on_a = client(a, &ana).await;
    on_a.ok(subscribe(room, None)).await;
    on_a.ok(serde_json::json!({"type": "set_status", "status": "dnd", "text": "in a meeting"}))
        .await;

    // Bo arrives on B afterwards: the roster says what Ana's node knows of her.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut on_b = client(b, &bo).await;
        on_b.ok(subscribe(room, None)).await;
        let ServerFrame::Presence { users, .. } = on_b.push_where(is_presence).await else {
            unreachable!()
        };
        let her = users.iter().find(|e| e.user.id == ana.user.id).cloned();
        if let Some(e) = &her
            && e.status == protocol::Status::Dnd
        {
            assert_eq!(e.text.as_deref(), Some("in a meeting"));
            break;
        }
        // The status write to Redis is asynchronous: allow it a moment.
        assert!(
            tokio::time::Instant::now() < deadline,
            "status never seen: {her:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
