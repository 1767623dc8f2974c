//! Postgres crashes (`pg_ctl stop -m immediate`) and comes back while four senders go on
//! sending to an in-process server: sends in the outage are refused with `unavailable`,
//! never falsely acked; afterwards every acked message is stored once at its seq, every
//! refused one re-sent with its id is stored once, and a subscriber that kept (or resumed)
//! its subscription saw the whole log in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::helpers::{WAIT, spawn_app_with};
use crate::own_postgres::OwnPostgres;
use crate::room_log::{assert_acks_stored, assert_saw_exactly, stored};
use crate::sender::{BurstSender, Tally, all_acked, settle_all};
use crate::watcher::{NO_TARGET, Watcher};

const SENDERS: usize = 4;
const WINDOW: usize = 4;
/// Acks before the crash, and again after the restart before the senders stop.
const ACKS_PER_PHASE: u64 = 200;
/// The shortest time Postgres stays down: longer than the store's pool acquire timeout
/// (5 s), so that sends waiting for a connection are refused too, not just delayed.
const MIN_OUTAGE: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_burst_refuses_sends_and_loses_none() {
    let Some(mut pg) = OwnPostgres::start().await else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(90), restarted_mid_burst(&mut pg))
        .await
        .expect("the test finishes within 90 s");
}

/// Waits until `count` reaches `at_least`, failing after `within`.
async fn wait_for(count: &AtomicU64, at_least: u64, within: Duration, what: &str) {
    let deadline = tokio::time::Instant::now() + within;
    while count.load(Ordering::SeqCst) < at_least {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {} of {at_least} within {within:?}",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn restarted_mid_burst(pg: &mut OwnPostgres) {
    let started = Instant::now();
    let url = pg.url();
    let app = spawn_app_with(|s| {
        s.database_url = Some(url);
        s.rate_per_sec = 100_000;
        s.rate_burst = 100_000;
        // A subscriber that loses its connection resumes with a delta, never a snapshot.
        s.resume_max_events = 1_000_000;
    })
    .await;
    let mut users = Vec::new();
    for k in 0..SENDERS {
        users.push(app.user(&format!("pg-sender{k}")).await);
    }
    let watcher_user = app.user("pg-watcher").await;
    let room = app.public_room(&users[0], "general").await;
    // Everyone is a member before connecting: joins racing the first sends are another
    // matter than this test's (a join can be lost to the gateway's member cache).
    for u in users[1..].iter().chain([&watcher_user]) {
        app.store.join_public(room, u.user.id).await.expect("join");
    }

    let target = Arc::new(AtomicU64::new(NO_TARGET));
    let mut watcher = Watcher::new(&watcher_user.token, room);
    let first_peer = watcher
        .subscribe(app.addr)
        .await
        .expect("watcher subscribes");
    let watcher_task = {
        let (addr, target) = (app.addr, target.clone());
        tokio::spawn(async move {
            watcher
                .follow(first_peer, addr, &target, Duration::from_secs(80))
                .await;
            watcher
        })
    };

    let tally = Arc::new(Tally::default());
    let mut sender_tasks = Vec::new();
    for (k, user) in users.iter().enumerate() {
        let mut sender = BurstSender::new(user, room, &format!("p{k}"));
        let (addr, tally) = (app.addr, tally.clone());
        sender_tasks.push(tokio::spawn(async move {
            sender
                .burst_through_faults(addr, WINDOW, &tally, Duration::from_secs(80))
                .await;
            sender
        }));
    }

    wait_for(
        &tally.acks,
        ACKS_PER_PHASE,
        WAIT * 3,
        "acks before the crash",
    )
    .await;
    let acks_before_crash = tally.acks.load(Ordering::SeqCst);

    // Postgres goes away, as in a crash, and stays away for a while and until sends have
    // been refused.
    let outage_started = Instant::now();
    pg.stop_immediately().await.expect("stop postgres");
    wait_for(&tally.refusals, 1, WAIT * 4, "sends refused in the outage").await;
    tokio::time::sleep(MIN_OUTAGE.saturating_sub(outage_started.elapsed())).await;
    pg.start_again().await.expect("start postgres again");
    let outage = outage_started.elapsed();
    let refused_in_outage = tally.refusals.load(Ordering::SeqCst);

    // Sends succeed again, on the same connections or on new ones.
    let acks_at_restart = tally.acks.load(Ordering::SeqCst);
    wait_for(
        &tally.acks,
        acks_at_restart + ACKS_PER_PHASE,
        WAIT * 4,
        "acks after the restart",
    )
    .await;
    tally.stop.store(true, Ordering::SeqCst);
    let mut senders = Vec::new();
    for task in sender_tasks {
        senders.push(task.await.expect("sender task"));
    }
    let refused: usize = senders.iter().map(|s| s.refused.len()).sum();
    let in_doubt: usize = senders.iter().map(|s| s.in_doubt.len()).sum();
    assert!(refused > 0, "at least one send was refused in the outage");

    // Nothing was falsely acked: every ack is in the store, once, at its seq.
    let before_settling = stored(&*app.store, room).await;
    let acked = all_acked(&senders);
    assert_acks_stored(&before_settling, &acked);

    // Every refused (or unanswered) send, re-sent with its id, is acked and stored once.
    let senders = settle_all(senders, app.addr, false).await;
    let log = stored(&*app.store, room).await;
    let acked = all_acked(&senders);
    let sent: u64 = senders.iter().map(|s| s.sent()).sum();
    assert_eq!(acked.len() as u64, sent, "every id sent is acked now");
    assert_eq!(log.len() as u64, sent, "and stored exactly once");
    assert_acks_stored(&log, &acked);

    // The subscriber saw every stored event in order, once, across any reconnects.
    target.store(log.last().map_or(0, |e| e.seq), Ordering::SeqCst);
    let watcher = tokio::time::timeout(WAIT * 3, watcher_task)
        .await
        .expect("the watcher catches up")
        .expect("watcher task");
    assert_saw_exactly("the subscriber", &watcher.seen, &log);

    // A send refused as `unavailable` ("nothing was written") that a re-send finds stored:
    // when it was refused, counted from the crash.
    let refused_but_stored: Vec<String> = senders
        .iter()
        .flat_map(|s| &s.refused_but_stored)
        .map(|when| {
            let after = when.saturating_duration_since(outage_started);
            format!("{:.2} s", after.as_secs_f64())
        })
        .collect();
    let settle_refusals: u64 = senders.iter().map(|s| s.settle_refusals).sum();
    let longest_silence = senders
        .iter()
        .map(|s| s.longest_silence)
        .max()
        .unwrap_or_default();
    println!(
        "postgres restart: {acks_before_crash} acks before the crash; outage (stop → started \
         again) {:.1} s; {refused_in_outage} sends refused `unavailable` during it, {refused} \
         refused in all ({} of them found stored on re-send, refused at {refused_but_stored:?} \
         after the crash); {in_doubt} unanswered when a connection dropped; {settle_refusals} \
         refusals while settling; longest a connection waited for an answer {:.1} s; \
         subscriber used {} connection(s); {} messages stored; {:.1} s",
        outage.as_secs_f64(),
        refused_but_stored.len(),
        longest_silence.as_secs_f64(),
        watcher.connections,
        log.len(),
        started.elapsed().as_secs_f64()
    );
}
