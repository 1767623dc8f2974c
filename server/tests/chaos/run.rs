//! The chaos run's flow: seed users and rooms, start the cluster and the clients, take
//! each node's baseline, start the leavers, inject faults until the time is up, then drain the sends, let
//! every client catch up, and check: every acked message stored once at its seq, every
//! client's view of every room the Store's log, every client connected, presence exact
//! on every node within 12 s of the last fault, no node leaking. Prints a summary.

use protocol::ids::RoomId;
use protocol::names::RoomName;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::checks::{RoomFollowers, no_leak, presence_converges};
use crate::client::{ChatClient, Phase, Shared};
use crate::nodes::Cluster;
use crate::own_postgres::OwnPostgres;
use crate::redis::OwnRedis;
use crate::rng::Rng;
use crate::room_log::{assert_acks_stored, assert_saw_exactly, stored};

const NODES: usize = 3;
const CLIENTS: usize = 120;
const ROOMS: usize = 6;
/// Presence must be exact on every node this long after the last fault.
const PRESENCE_WITHIN: Duration = Duration::from_secs(12);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    })
}

/// Polls `count` until it reaches `want`, failing after `within`.
async fn wait_count(count: &AtomicUsize, want: usize, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while count.load(Ordering::SeqCst) < want {
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {want} within {within:?}",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_run_loses_nothing_and_strands_no_one() {
    let secs = env_u64("CONFAB_CHAOS_SECS").unwrap_or(60);
    let seed = env_u64("CONFAB_CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!("chaos: seed {seed} (CONFAB_CHAOS_SEED={seed} runs it again), {secs} s");
    let started = Instant::now();
    let Some(mut redis) = OwnRedis::start().await else {
        return;
    };
    let Some(mut pg) = OwnPostgres::start().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let store = store::open(&store::StoreConfig {
        database_url: Some(pg.url()),
        data_dir: data.path().to_path_buf(),
    })
    .await
    .expect("open the test's Postgres");

    // Users and rooms: client i follows room i % ROOMS and one other.
    let owner = crate::seed::user(&*store, "chaos-owner").await;
    let mut rooms = Vec::new();
    for r in 0..ROOMS {
        let name = RoomName::parse(&format!("chaos-{r}")).unwrap();
        rooms.push(
            store
                .create_room(owner.user.id, store::RoomKind::Public, &name, "")
                .await
                .expect("create room")
                .id,
        );
    }
    let mut users = Vec::new();
    let mut follows: Vec<Vec<RoomId>> = Vec::new();
    for i in 0..CLIENTS {
        let user = crate::seed::user(&*store, &format!("chaos-{i}")).await;
        let first = i % ROOMS;
        let second = (first + 1 + (i / ROOMS) % (ROOMS - 1)) % ROOMS;
        let mine = vec![rooms[first], rooms[second]];
        for &room in &mine {
            store.join_public(room, user.user.id).await.expect("join");
        }
        users.push(user);
        follows.push(mine);
    }

    let mut cluster = Cluster::start(NODES, pg.url(), redis.url()).await;
    let (phase_tx, phase_rx) = watch::channel(Phase::Connect);
    let shared = Shared {
        phase: phase_rx,
        addrs: cluster.addrs.clone(),
        targets: Arc::new(Mutex::new(HashMap::new())),
        ready: Arc::default(),
        drained: Arc::default(),
        caught_up: Arc::default(),
    };
    let mut tasks = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let client = ChatClient::new(
            crate::helpers::TestUser {
                user: user.user.clone(),
                token: user.token.clone(),
            },
            follows[i].clone(),
            i % NODES,
            seed ^ (i as u64 + 1),
            shared.clone(),
        );
        tasks.push(tokio::spawn(client.run()));
    }
    wait_count(
        &shared.ready,
        CLIENTS,
        Duration::from_secs(60),
        "clients subscribed",
    )
    .await;
    let mut baseline = Vec::new();
    for node in &cluster.nodes {
        baseline.push(node.usage().await);
    }
    eprintln!(
        "chaos: {CLIENTS} clients connected in {:.1} s; baseline {baseline:?}",
        started.elapsed().as_secs_f64()
    );

    // Chaos.
    phase_tx.send(Phase::Chat).unwrap();
    let mut rng = Rng::new(seed);
    // Leavers: one a room, each leaving for good at a random moment of the chaos.
    let mut leavers = Vec::new();
    for (r, &room) in rooms.iter().enumerate() {
        let user = crate::seed::user(&*store, &format!("chaos-leaver-{r}")).await;
        store.join_public(room, user.user.id).await.expect("join");
        let leave_at = Instant::now() + Duration::from_millis(rng.range(1000, secs * 1000));
        let addrs = cluster.addrs.clone();
        leavers.push(tokio::spawn(crate::leaver::run(
            user,
            room,
            r % NODES,
            addrs,
            leave_at,
            r % 2 == 0,
        )));
    }
    let chaos_started = Instant::now();
    let faults = crate::faults::run(
        &mut cluster,
        &mut redis,
        &mut pg,
        &mut rng,
        chaos_started + Duration::from_secs(secs),
    )
    .await;
    for leaver in leavers {
        leaver.await.expect("a leaver");
    }
    let last_fault = faults.last_end.unwrap_or_else(Instant::now);
    let chaos_took = chaos_started.elapsed();

    // Presence, from now on; sends drain meanwhile.
    phase_tx.send(Phase::Drain).unwrap();
    let followers: Vec<RoomFollowers> = rooms
        .iter()
        .map(|&room| {
            let members: Vec<usize> = (0..CLIENTS)
                .filter(|&i| follows[i].contains(&room))
                .collect();
            RoomFollowers {
                room,
                users: members.iter().map(|&i| users[i].user.id).collect(),
                probe: &users[members[0]],
            }
        })
        .collect();
    let converged =
        presence_converges(&cluster.addrs, &followers, last_fault + PRESENCE_WITHIN).await;
    wait_count(
        &shared.drained,
        CLIENTS,
        Duration::from_secs(90),
        "clients with every send acked",
    )
    .await;
    let converged = converged.unwrap_or_else(|why| {
        panic!("presence did not converge within {PRESENCE_WITHIN:?} of the last fault: {why}")
    });

    // Catch up to every room's final seq.
    let mut targets = HashMap::new();
    for &room in &rooms {
        targets.insert(
            room,
            store
                .room(room)
                .await
                .expect("read room")
                .expect("room")
                .last_seq,
        );
    }
    *shared.targets.lock().unwrap() = targets;
    phase_tx.send(Phase::CatchUp).unwrap();
    wait_count(
        &shared.caught_up,
        CLIENTS,
        Duration::from_secs(60),
        "clients caught up",
    )
    .await;
    phase_tx.send(Phase::Hold).unwrap();
    presence_converges(&cluster.addrs, &followers, Instant::now() + PRESENCE_WITHIN)
        .await
        .unwrap_or_else(|why| panic!("presence not exact at the end: {why}"));

    // Leaks, on nodes never restarted.
    let mut leaks = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        if cluster.restarted[i] {
            leaks.push(Ok(format!("node {i}: restarted, no baseline")));
        } else {
            // The presence probes' connections wind down for a few seconds (the close's
            // linger), and rooms its clients left while it was paused are followed for the
            // channel grace, a task each: poll until the node is back near its baseline,
            // for up to that grace and 8 s more, then judge with some slack.
            let deadline = Instant::now() + crate::nodes::CHANNEL_GRACE + Duration::from_secs(8);
            let verdict = loop {
                let usage = node.usage().await;
                if let Ok(line) = no_leak(i, baseline[i], usage, 3.0) {
                    break Ok(line);
                }
                if Instant::now() >= deadline {
                    break no_leak(i, baseline[i], usage, 10.0);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            };
            leaks.push(verdict);
        }
    }

    phase_tx.send(Phase::Done).unwrap();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(task.await.expect("a client task"));
    }

    // The Store against acks and views.
    let mut logs = HashMap::new();
    for &room in &rooms {
        let log = stored(&*store, room).await;
        let acked: HashMap<String, u64> = reports
            .iter()
            .flat_map(|r| &r.acked)
            .filter(|a| a.0 == room)
            .map(|a| (a.1.clone(), a.2))
            .collect();
        assert_acks_stored(&log, &acked);
        logs.insert(room, log);
    }
    for r in &reports {
        assert!(r.violations.is_empty(), "{}: {:?}", r.handle, r.violations);
        assert!(
            r.connected_at_end,
            "{} is stranded: not connected at the end",
            r.handle
        );
        for (room, view) in &r.views {
            assert_saw_exactly(&format!("{} in room {room}", r.handle), view, &logs[room]);
        }
    }

    // Summary.
    let sum = |f: &dyn Fn(&crate::client::Report) -> u64| reports.iter().map(f).sum::<u64>();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for r in &reports {
        for (code, n) in &r.errors {
            *errors.entry(code.clone()).or_default() += n;
        }
    }
    let stored_total: usize = logs.values().map(Vec::len).sum();
    let delivered: usize = reports
        .iter()
        .flat_map(|r| r.views.values())
        .map(Vec::len)
        .sum();
    eprintln!(
        "chaos: seed {seed}; {:.1} s of faults, whole run {:.1} s",
        chaos_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("chaos: faults {:?}", faults.counts);
    eprintln!(
        "chaos: {} acked ({} stored), {} resends ({} acked as duplicates), errors {errors:?}, {} resumes, {} redeliveries skipped, {delivered} events delivered and checked",
        sum(&|r| r.acked.len() as u64),
        stored_total,
        sum(&|r| r.resends),
        sum(&|r| r.duplicate_acks),
        sum(&|r| r.resumes),
        sum(&|r| r.redelivered)
    );
    eprintln!(
        "chaos: presence exact on every node {:.1} s after the last fault",
        (converged - last_fault).as_secs_f64()
    );
    let mut leaked = Vec::new();
    for l in &leaks {
        match l {
            Ok(line) => eprintln!("chaos: {line}"),
            Err(line) => leaked.push(line.clone()),
        }
    }
    assert!(leaked.is_empty(), "a node leaks: {leaked:?}");
}
