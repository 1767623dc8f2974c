//! The sender's delivery cases: cursors, gaps, a lagging queue, resumes from the Store
//! and their bound, closes, cancellation and corked writes.

use super::*;

#[tokio::test]
async fn the_cursor_writes_each_event_once_and_only_its_successor() {
    let mut f = Fixture::new(1_000).await;
    let first = f.commit().await;
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(first.seq)))
        .unwrap();
    let second = f.commit().await;
    conn.offer_event(&second);
    conn.offer_event(&second); // offered twice (two brokers, a re-publish): written once
    conn.offer_event(&first); // older than the cursor
    let third = f.commit().await;
    conn.offer_event(&third);
    rec.until("events 2 and 3", |w| w.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![second.seq, third.seq]);
    // Each event is written with its seq (the SSE id).
    assert!(rec.written().iter().all(|w| match w {
        Written::Frame { frame, seq: at } => {
            matches!(**frame, ServerFrame::Event { seq, .. } if Some(seq) == *at)
        }
        Written::Close(_) => false,
    }));
}

#[tokio::test]
async fn a_gap_is_filled_before_the_event_that_revealed_it() {
    let mut f = Fixture::new(1_000).await;
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(0))).unwrap();
    // Events 1 to 4 never reach this queue (lost between nodes); 5 does.
    let mut last = None;
    for _ in 0..5 {
        last = Some(f.commit().await);
    }
    conn.offer_event(last.as_ref().unwrap());
    rec.until("events 1 to 5", |w| w.len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn events_of_a_room_not_delivered_are_not_written() {
    let mut f = Fixture::new(1_000).await;
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    let event = f.commit().await;
    conn.offer_event(&event); // no resume: this connection does not deliver the room
    conn.push(Outbound::resume(f.room, Some(event.seq)))
        .unwrap();
    let next = f.commit().await;
    conn.offer_event(&next);
    rec.until("event 2", |w| !w.is_empty()).await;
    conn.push(Outbound::forget(f.room)).unwrap();
    let after_forget = f.commit().await;
    conn.offer_event(&after_forget);
    conn.push(Outbound::frame("{\"type\":\"pong\",\"req\":1}".into()))
        .unwrap();
    rec.until("the marker frame", |w| w.len() >= 2).await;
    assert_eq!(rec.event_seqs(), vec![next.seq]);
}

#[tokio::test]
async fn a_lagging_queue_catches_up_from_the_store_in_order() {
    let mut f = Fixture::new(1_000).await;
    let rec = Recorder::open();
    let catch_ups = Arc::new(AtomicU64::new(0));
    let (conn, _done) = f.connect_counting(rec.clone(), catch_ups.clone());
    conn.push(Outbound::resume(f.room, Some(0))).unwrap();
    conn.push(Outbound::frame("{\"type\":\"pong\",\"req\":1}".into()))
        .unwrap();
    rec.until("the resume", |w| w.len() == 1).await;
    // Hold the socket: the queue fills, and what does not fit is only marked lagging.
    let held = rec.gate.acquire_many(GATE_PERMITS).await.unwrap();
    for _ in 0..100 {
        let event = f.commit().await;
        conn.offer_event(&event);
    }
    drop(held);
    rec.until("100 events", |w| w.len() > 100).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        catch_ups.load(Ordering::Relaxed),
        1,
        "the queue overflowed once and was caught up from the Store"
    );
    assert_eq!(rec.event_seqs(), (1..=100).collect::<Vec<Seq>>());
}

#[tokio::test]
async fn a_resume_past_the_bound_is_a_snapshot_and_live_events_follow() {
    let mut f = Fixture::new(5).await;
    for _ in 0..10 {
        f.commit().await;
    }
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(2))).unwrap();
    rec.until("the snapshot", |w| snapshot_of(w).is_some())
        .await;
    assert_eq!(
        snapshot_of(&rec.written()),
        Some((SnapshotReason::GapTooLarge, 10, 10))
    );
    let live = f.commit().await;
    conn.offer_event(&live);
    rec.until("event 11", |w| w.len() >= 2).await;
    assert_eq!(rec.event_seqs(), vec![11]);
}

#[tokio::test]
async fn a_resume_within_the_bound_replays_exactly_what_was_missed() {
    let mut f = Fixture::new(5).await;
    for _ in 0..10 {
        f.commit().await;
    }
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(6))).unwrap();
    rec.until("events 7 to 10", |w| w.len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![7, 8, 9, 10]);
    assert_eq!(snapshot_of(&rec.written()), None);
}

#[tokio::test]
async fn no_seq_means_an_initial_snapshot() {
    let mut f = Fixture::new(1_000).await;
    for _ in 0..3 {
        f.commit().await;
    }
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, None)).unwrap();
    rec.until("the snapshot", |w| snapshot_of(w).is_some())
        .await;
    assert_eq!(
        snapshot_of(&rec.written()),
        Some((SnapshotReason::Initial, 3, 3))
    );
    assert!(matches!(
        rec.written()[0],
        Written::Frame { seq: Some(3), .. }
    ));
}

#[tokio::test]
async fn a_close_is_written_last_and_ends_the_sender() {
    let f = Fixture::new(1_000).await;
    let rec = Recorder::open();
    let (conn, done) = f.connect(rec.clone());
    conn.push(Outbound::Close(CloseCode::SlowConsumer)).unwrap();
    tokio::time::timeout(Duration::from_secs(5), done.ended())
        .await
        .expect("the sender stops after a close");
    assert_eq!(rec.written(), vec![Written::Close(4101)]);
}

#[tokio::test]
async fn cancelling_the_connection_stops_the_sender() {
    let f = Fixture::new(1_000).await;
    let (handle, queue) = ConnHandle::new(1, f.author, 64, Arc::default());
    let (done, sender_end) = Ending::pair(&handle);
    let task = tokio::spawn(run(
        Recorder::open(),
        queue,
        handle.shared.clone(),
        f.gateway.clone(),
        sender_end,
    ));
    done.end();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the sender ends")
        .unwrap();
    assert!(
        handle.push(Outbound::frame("{}".into())).is_err(),
        "its queue is gone with it"
    );
}

#[tokio::test]
async fn what_the_same_turn_queues_shares_one_flush_and_a_lone_event_waits_for_nothing() {
    let mut f = Fixture::new(1_000).await;
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, None)).unwrap();
    rec.until("the initial snapshot", |w| w.len() == 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rec.flushed_at().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the snapshot is flushed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (second, third, fourth) = (f.commit().await, f.commit().await, f.commit().await);

    conn.offer_event(&second);
    // The sender runs now: it writes `second`, then yields before flushing…
    tokio::task::yield_now().await;
    // …so an event queued later in the same turn of the runtime joins the same write.
    conn.offer_event(&third);
    rec.until("two events", |w| w.len() == 3).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(rec.flushed_at(), vec![1, 3], "one flush for both events");

    // Alone, an event is flushed as soon as the runtime has nothing else to run.
    conn.offer_event(&fourth);
    rec.until("the lone event", |w| w.len() == 4).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(rec.flushed_at(), vec![1, 3, 4]);
    assert_eq!(rec.event_seqs(), vec![second.seq, third.seq, fourth.seq]);
}
