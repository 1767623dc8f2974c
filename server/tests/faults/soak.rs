//! A long run of clients that connect, resume, send, read and leave — by the close
//! handshake or by dropping the TCP connection — against a `confab` process. Afterwards,
//! with every client gone, the process holds no more tasks, descriptors or memory than
//! before (within a small margin), and a subscriber connected throughout saw every
//! message once, in order. `CONFAB_SOAK_SECS` sets the length (default 60 s).

use protocol::ids::{RoomId, Seq};
use protocol::{ReqId, ServerFrame, SnapshotReason};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::child::ChildServer;
use crate::helpers::{TestUser, WAIT};
use crate::peer::{Incoming, Peer};
use crate::room_log::{Entry, assert_saw_exactly, body_for, stored};
use crate::seed;
use crate::watcher::{NO_TARGET, Outcome, Watcher};
use crate::wsclient::{send, subscribe};

const CYCLERS: usize = 20;
const SENDS_PER_CYCLE: usize = 2;
/// Cycles every client makes before the baseline, and for at least [`WARM_UP_MIN`], so
/// that lazily created state (pool connections, caches, the writer's lane, allocator
/// arenas) exists in both measurements and memory has stopped growing by the second half
/// of the run.
const WARM_UP_CYCLES: u64 = 50;
/// How long the warm-up lasts at least. On a machine that cycles fast (≈670 cycles/s)
/// resident memory rises about 2.8 MiB over the first 60–75 s of traffic and is flat after
/// (a 150 s run: −24 KiB over its second half), with or without the changes of the day.
/// On a slower one the rise (about 1.8 MiB) came as one step, somewhere between 75 and
/// 120 s of traffic (150 s runs: −8 KiB over the second half), hence the trend check's
/// two thirds ([`THIRD_GROWTH_KIB`]).
const WARM_UP_MIN: Duration = Duration::from_secs(45);
/// How far above the baseline the end may be: tasks, descriptors, resident KiB.
const TASK_SLACK: f64 = 5.0;
const FD_SLACK: usize = 4;
const RSS_GROWTH_KIB: u64 = 16 * 1024;
/// How much resident memory may grow over each of the last two thirds of a run under
/// steady load. Memory that keeps growing with the traffic is a leak, whatever the total:
/// it grows in both. A one-off step (a new allocator arena, a table that doubles once)
/// shows in one third only, and is bounded by [`RSS_GROWTH_KIB`].
const THIRD_GROWTH_KIB: i64 = 512;
/// Runs shorter than this are not checked for growth in their last thirds (too little
/// traffic to tell a leak from noise).
const TREND_CHECKED_FROM: Duration = Duration::from_secs(20);

const ENV: [(&str, &str); 4] = [
    ("CONFAB_RATE_PER_SEC", "100000"),
    ("CONFAB_RATE_BURST", "100000"),
    // Clients resume with deltas however long they were away.
    ("CONFAB_RESUME_MAX_EVENTS", "1000000"),
    // Presence entries of departed clients go soon, so the counts settle quickly.
    ("CONFAB_PRESENCE_GRACE_MS", "500"),
];

/// One client that keeps coming back.
struct Cycler {
    token: String,
    room: RoomId,
    k: usize,
    /// The last seq this client has seen (kept across its connections).
    last: Option<Seq>,
    cycles: u64,
    clean_closes: u64,
    drops: u64,
    /// Everything it had acked: (seq, client_msg_id).
    acks: Vec<(Seq, String)>,
    /// Acks over all clients, for counting messages while they run.
    total_acks: Arc<AtomicU64>,
}

impl Cycler {
    fn new(user: &TestUser, room: RoomId, k: usize, total_acks: &Arc<AtomicU64>) -> Cycler {
        Cycler {
            token: user.token.clone(),
            room,
            k,
            last: None,
            cycles: 0,
            clean_closes: 0,
            drops: 0,
            acks: Vec::new(),
            total_acks: total_acks.clone(),
        }
    }

    /// Connects, subscribes after the last seq seen, sends, reads its own messages back
    /// (checking that every event follows the one before), and leaves: cleanly on even
    /// cycles, by dropping the connection on odd ones.
    async fn cycle(&mut self, addr: SocketAddr) {
        let mut peer = Peer::connect(addr, &self.token)
            .await
            .unwrap_or_else(|why| panic!("cycler {} cannot connect: {why}", self.k));
        match peer.call(subscribe(self.room, self.last), WAIT).await {
            Ok(ServerFrame::Ack { .. }) => {}
            other => panic!("cycler {} subscribe: {other:?}", self.k),
        }
        let mut unacked: HashMap<ReqId, String> = HashMap::new();
        let mut unseen: HashSet<String> = HashSet::new();
        for j in 0..SENDS_PER_CYCLE {
            let id = format!("c{}-{}-{j}", self.k, self.cycles);
            let req = peer
                .request(send(self.room, &id, &body_for(&id)))
                .await
                .expect("send");
            unacked.insert(req, id.clone());
            unseen.insert(id);
        }
        while !unacked.is_empty() || !unseen.is_empty() {
            match peer.next(WAIT).await {
                Incoming::Frame(ServerFrame::Ack { req, info }) => {
                    if let Some(id) = unacked.remove(&req) {
                        self.acks
                            .push((info.seq.expect("a send's ack has a seq"), id));
                        self.total_acks.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Incoming::Frame(ServerFrame::Snapshot {
                    reason, last_seq, ..
                }) => {
                    assert!(
                        reason == SnapshotReason::Initial && self.last.is_none(),
                        "cycler {} got a {reason:?} snapshot instead of a resume",
                        self.k
                    );
                    self.last = Some(last_seq);
                }
                Incoming::Frame(ServerFrame::Event { seq, message, .. }) => {
                    let last = self.last.expect("an event after the subscription's start");
                    assert_eq!(seq, last + 1, "cycler {}: event after {last}", self.k);
                    self.last = Some(seq);
                    unseen.remove(&message.client_msg_id);
                }
                Incoming::Frame(ServerFrame::Error { code, message, .. }) => {
                    panic!("cycler {}: {code}: {message}", self.k)
                }
                Incoming::Frame(_) => {}
                other => panic!("cycler {}: connection {other:?}", self.k),
            }
        }
        if self.cycles.is_multiple_of(2) {
            peer.close_cleanly().await;
            self.clean_closes += 1;
        } else {
            peer.drop_abruptly();
            self.drops += 1;
        }
        self.cycles += 1;
    }
}

/// What is measured of the process.
#[derive(Debug, Clone, Copy)]
struct Figures {
    tasks: f64,
    fds: usize,
    sockets: usize,
    rss_kib: u64,
}

async fn measure(child: &ChildServer) -> Figures {
    let tasks = child.alive_tasks().await;
    let (fds, sockets) = child.open_fds();
    Figures {
        tasks,
        fds,
        sockets,
        rss_kib: child.rss_kib(),
    }
}

/// The alive-task count once three samples 500 ms apart agree (bounded at 20 s).
async fn settled_tasks(child: &ChildServer) -> f64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut last = child.alive_tasks().await;
    let mut agreeing = 0;
    while agreeing < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = child.alive_tasks().await;
        if now == last {
            agreeing += 1;
        } else {
            (last, agreeing) = (now, 0);
        }
    }
    last
}

fn soak_duration() -> Duration {
    let secs = std::env::var("CONFAB_SOAK_SECS")
        .ok()
        .map(|v| v.parse().expect("CONFAB_SOAK_SECS is a number of seconds"))
        .unwrap_or(60);
    Duration::from_secs(secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_of_reconnecting_clients_leaks_no_tasks_memory_or_descriptors() {
    let soak = soak_duration();
    let bound = soak + Duration::from_secs(120);
    tokio::time::timeout(bound, long_run(soak))
        .await
        .unwrap_or_else(|_| panic!("the soak finishes within {bound:?}"));
}

async fn long_run(soak: Duration) {
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut handles: Vec<String> = (0..CYCLERS).map(|k| format!("soak-client{k}")).collect();
    handles.push("soak-steady".into());
    let (users, room) = seed::users_and_room(data.path(), &handles, "general").await;
    let child = ChildServer::start(data.path(), &ENV).await;

    // Warm-up: every client cycles WARM_UP_CYCLES times and for WARM_UP_MIN, all at once.
    let total_acks = Arc::new(AtomicU64::new(0));
    let warm_until = std::time::Instant::now() + WARM_UP_MIN;
    let mut cyclers: Vec<Cycler> = (0..CYCLERS)
        .map(|k| Cycler::new(&users[k], room, k, &total_acks))
        .collect();
    let mut tasks = Vec::new();
    for mut c in cyclers.drain(..) {
        let addr = child.addr;
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            while done < WARM_UP_CYCLES || std::time::Instant::now() < warm_until {
                c.cycle(addr).await;
                done += 1;
            }
            c
        }));
    }
    for t in tasks {
        cyclers.push(t.await.expect("warm-up cycler"));
    }
    assert!(
        child.wait_for_no_connections(WAIT).await,
        "connections close after the warm-up"
    );
    settled_tasks(&child).await;
    let baseline = measure(&child).await;

    // The steady subscriber stays connected through the whole run.
    let steady_user = &users[CYCLERS];
    let mut steady = Watcher::new(&steady_user.token, room);
    let mut steady_peer = steady
        .subscribe(child.addr)
        .await
        .expect("steady subscribes");
    let target = Arc::new(AtomicU64::new(NO_TARGET));
    let steady_task = {
        let target = target.clone();
        tokio::spawn(async move {
            let outcome = steady.read(&mut steady_peer, &target).await;
            assert_eq!(outcome, Outcome::Reached, "the steady connection stayed up");
            steady_peer.close_cleanly().await;
            steady
        })
    };

    let until = tokio::time::Instant::now() + soak;
    let mut tasks = Vec::new();
    for mut c in cyclers.drain(..) {
        let addr = child.addr;
        tasks.push(tokio::spawn(async move {
            // At least two cycles each (one of each way of leaving), however short the run.
            let before = c.cycles;
            while c.cycles < before + 2 || tokio::time::Instant::now() < until {
                c.cycle(addr).await;
            }
            c
        }));
    }
    // Resident memory after a third and two thirds of the load and at its end (read from
    // /proc: a scrape of /metrics could itself release memory).
    tokio::time::sleep_until(until - soak * 2 / 3).await;
    let (third_rss, third_acks) = (child.rss_kib(), total_acks.load(Ordering::SeqCst));
    tokio::time::sleep_until(until - soak / 3).await;
    let two_thirds_rss = child.rss_kib();
    for t in tasks {
        cyclers.push(t.await.expect("soak cycler"));
    }
    let (full_rss, full_acks) = (child.rss_kib(), total_acks.load(Ordering::SeqCst));
    let thirds_growth = [
        two_thirds_rss as i64 - third_rss as i64,
        full_rss as i64 - two_thirds_rss as i64,
    ];
    let cycles: u64 = cyclers.iter().map(|c| c.cycles).sum();
    let clean: u64 = cyclers.iter().map(|c| c.clean_closes).sum();
    let dropped: u64 = cyclers.iter().map(|c| c.drops).sum();

    // Every acked message, in seq order: the store's log, and the steady view of it.
    let mut acks: Vec<(Seq, String)> = cyclers.iter().flat_map(|c| c.acks.clone()).collect();
    acks.sort();
    let as_entries = |acks: &[(Seq, String)]| -> Vec<Entry> {
        acks.iter()
            .map(|(seq, id)| Entry {
                seq: *seq,
                client_msg_id: id.clone(),
                body: body_for(id),
            })
            .collect()
    };
    let store = seed::open_store(data.path()).await;
    let log = stored(&*store, room).await;
    assert_saw_exactly("the store", &log, &as_entries(&acks));
    target.store(log.last().map_or(0, |e| e.seq), Ordering::SeqCst);
    let steady = tokio::time::timeout(WAIT * 3, steady_task)
        .await
        .expect("the steady subscriber catches up")
        .expect("steady task");
    let since_start: Vec<(Seq, String)> = acks
        .iter()
        .filter(|(seq, _)| *seq > steady.start())
        .cloned()
        .collect();
    assert!(!since_start.is_empty(), "messages were sent during the run");
    assert_saw_exactly(
        "the steady subscriber",
        &steady.seen,
        &as_entries(&since_start),
    );

    // Every client is gone: the process is back where it was.
    assert!(
        child.wait_for_no_connections(WAIT).await,
        "connections close after the run"
    );
    // Connections just closed may take a moment to let go of their task and socket.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let end = loop {
        let end = measure(&child).await;
        let settled =
            end.tasks <= baseline.tasks + TASK_SLACK && end.fds <= baseline.fds + FD_SLACK;
        if settled || tokio::time::Instant::now() >= deadline {
            break end;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!(
        "soak: {:.0} s, {CYCLERS} clients, {cycles} cycles ({clean} closed cleanly, {dropped} \
         dropped), {} messages, {} seen by the steady subscriber; alive tasks {} → {}; \
         open fds {} → {} (sockets {} → {}); VmRSS {} KiB → {} KiB ({:+} KiB), over the \
         last two thirds of the run {:+} KiB and {:+} KiB ({} messages); {:.1} s in all",
        soak.as_secs_f64(),
        log.len(),
        steady.seen.len(),
        baseline.tasks,
        end.tasks,
        baseline.fds,
        end.fds,
        baseline.sockets,
        end.sockets,
        baseline.rss_kib,
        end.rss_kib,
        end.rss_kib as i64 - baseline.rss_kib as i64,
        thirds_growth[0],
        thirds_growth[1],
        full_acks - third_acks,
        started.elapsed().as_secs_f64()
    );
    assert!(
        end.tasks <= baseline.tasks + TASK_SLACK,
        "alive tasks grew from {} to {}",
        baseline.tasks,
        end.tasks
    );
    assert!(
        end.fds <= baseline.fds + FD_SLACK,
        "open descriptors grew from {} to {}",
        baseline.fds,
        end.fds
    );
    assert!(
        end.rss_kib <= baseline.rss_kib + RSS_GROWTH_KIB,
        "resident memory grew from {} KiB to {} KiB",
        baseline.rss_kib,
        end.rss_kib
    );
    if soak >= TREND_CHECKED_FROM {
        assert!(
            thirds_growth.iter().any(|&g| g <= THIRD_GROWTH_KIB),
            "resident memory kept growing under steady load: {:+} KiB and {:+} KiB over the \
             last two thirds of the run ({} messages)",
            thirds_growth[0],
            thirds_growth[1],
            full_acks - third_acks
        );
    } else {
        println!("soak: too short to check memory growth over its last thirds");
    }
}
