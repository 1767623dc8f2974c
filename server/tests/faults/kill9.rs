//! SIGKILL in the middle of a burst: a `confab` process on SQLite is killed while four
//! senders have sends outstanding, and a new process is started on the same data. Every
//! acked message must be there once, at the seq its ack named; the unacked ones are
//! re-sent with their ids and stored once; a reader that resumes sees the whole log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::child::ChildServer;
use crate::helpers::WAIT;
use crate::room_log::{assert_acks_stored, assert_saw_exactly, stored};
use crate::seed;
use crate::sender::{BurstEnd, BurstSender, Tally, all_acked, settle_all};
use crate::watcher::{NO_TARGET, Outcome, Watcher};

const SENDERS: usize = 4;
/// Sends each sender keeps unanswered.
const WINDOW: usize = 8;
/// Acks (over all senders) after which the process is killed.
const KILL_AFTER_ACKS: u64 = 400;

const FAST: [(&str, &str); 2] = [
    ("CONFAB_RATE_PER_SEC", "100000"),
    ("CONFAB_RATE_BURST", "100000"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_burst_keeps_every_acked_message_once_and_clients_resume() {
    tokio::time::timeout(Duration::from_secs(120), killed_mid_burst())
        .await
        .expect("the test finishes within 120 s");
}

async fn killed_mid_burst() {
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut handles: Vec<String> = (0..SENDERS).map(|k| format!("kill-sender{k}")).collect();
    handles.push("kill-reader".into());
    let (users, room) = seed::users_and_room(data.path(), &handles, "general").await;
    let mut first = ChildServer::start(data.path(), &FAST).await;

    // The reader is subscribed before anything is sent, and records every event.
    let reader_user = &users[SENDERS];
    let mut reader = Watcher::new(&reader_user.token, room);
    let mut reader_peer = reader
        .subscribe(first.addr)
        .await
        .expect("reader subscribes");
    let reader_task = tokio::spawn(async move {
        let never = AtomicU64::new(NO_TARGET);
        let outcome = reader.read(&mut reader_peer, &never).await;
        assert_eq!(
            outcome,
            Outcome::Ended,
            "the reader's connection ends at the kill"
        );
        reader
    });

    let tally = Arc::new(Tally::default());
    let mut sender_tasks = Vec::new();
    for (k, user) in users.iter().take(SENDERS).enumerate() {
        let mut sender = BurstSender::new(user, room, &format!("s{k}"));
        let (addr, tally) = (first.addr, tally.clone());
        sender_tasks.push(tokio::spawn(async move {
            let mut peer = sender.join(addr, WAIT).await;
            let end = sender.burst(&mut peer, WINDOW, &tally).await;
            assert_eq!(end, BurstEnd::Lost, "a sender's burst ends with the kill");
            sender
        }));
    }

    // Kill when enough acks are in: counted, not timed.
    let deadline = tokio::time::Instant::now() + WAIT * 6;
    while tally.acks.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert_eq!(
            tally.refusals.load(Ordering::SeqCst),
            0,
            "sends refused before the kill"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} acks before the deadline",
            tally.acks.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();

    let mut senders = Vec::new();
    for task in sender_tasks {
        senders.push(task.await.expect("sender task"));
    }
    let mut reader = reader_task.await.expect("reader task");
    // Counted after the senders have read every frame that arrived before the kill.
    let acks_before_kill = tally.acks.load(Ordering::SeqCst);
    let in_doubt: usize = senders.iter().map(|s| s.in_doubt.len()).sum();
    assert!(
        in_doubt > 0,
        "sends were outstanding at the kill (else it was not mid-burst)"
    );
    for s in &senders {
        assert!(s.refused.is_empty(), "nothing is refused before the kill");
    }

    // A new process on the same data folder recovers the database.
    let second = ChildServer::start(data.path(), &FAST).await;
    let store = seed::open_store(data.path()).await;

    // (a) every acked message is stored once, at its ack's seq; (b) seqs are gap-free.
    let after_restart = stored(&*store, room).await;
    let acked = all_acked(&senders);
    assert_eq!(acked.len() as u64, acks_before_kill);
    assert_acks_stored(&after_restart, &acked);
    let committed_unacked = after_restart.len() - acked.len();
    assert!(
        committed_unacked <= in_doubt,
        "the store holds {committed_unacked} unacked messages; only {in_doubt} were in doubt"
    );

    // (c) every sender re-sends everything it sent, with the same ids: the in-doubt ones
    // are acked once (new, or as duplicates if they were committed before the kill), the
    // acked ones come back as duplicates with their original seqs.
    let senders = settle_all(senders, second.addr, true).await;
    let final_log = stored(&*store, room).await;
    let acked = all_acked(&senders);
    let sent: u64 = senders.iter().map(|s| s.sent()).sum();
    assert_eq!(acked.len() as u64, sent, "every id sent is acked now");
    assert_eq!(final_log.len() as u64, sent, "and stored exactly once");
    assert_acks_stored(&final_log, &acked);
    assert_eq!(
        final_log[..after_restart.len()],
        after_restart[..],
        "re-sending changed nothing already stored"
    );
    let resent_duplicates: u64 = senders.iter().map(|s| s.resent_duplicates).sum();
    let resent_new: u64 = senders.iter().map(|s| s.resent_new).sum();
    let resent_acked: u64 = senders.iter().map(|s| s.resent_acked).sum();
    assert_eq!(
        resent_acked, acks_before_kill,
        "every acked id came back a duplicate"
    );
    assert_eq!(resent_duplicates, committed_unacked as u64);
    assert_eq!(resent_new + resent_duplicates, in_doubt as u64);

    // (d) the reader resumes after the last seq it saw and gets exactly the rest.
    let seen_before_kill = reader.seen.len();
    let target = AtomicU64::new(final_log.last().map_or(0, |e| e.seq));
    let mut peer = reader.subscribe(second.addr).await.expect("reader resumes");
    assert_eq!(reader.read(&mut peer, &target).await, Outcome::Reached);
    reader
        .expect_nothing_more(&mut peer, Duration::from_millis(300))
        .await;
    assert_saw_exactly("the reader", &reader.seen, &final_log);

    println!(
        "kill9: {acks_before_kill} acks before SIGKILL; {in_doubt} sends in doubt at the kill, \
         {committed_unacked} of them committed (acked as duplicates on re-send), {resent_new} \
         stored on re-send; reader saw {seen_before_kill} events before the kill and {} after \
         resuming; {} messages in the end; {:.1} s",
        reader.seen.len() - seen_before_kill,
        final_log.len(),
        started.elapsed().as_secs_f64()
    );
}
