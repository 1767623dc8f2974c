//! The sender's delivery rules, on their own: a recording transport stands in for the
//! socket, a fresh SQLite file is the Store, and events are committed through the real
//! group-commit writer. What is checked is what "nothing lost" rests on: per-room cursors
//! (no duplicate, no event of a room not delivered), gaps filled in order, a lagging
//! queue caught up, resumes served from the node's recent events and from the Store
//! before them, the resume bound turning into a snapshot, and closes.

use protocol::ids::{RoomId, Seq, UserId};
use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};
use protocol::{CloseCode, ServerFrame, SnapshotReason};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::testing::TestDb;
use store::{RoomKind, WriteCommand, WriteOutcome};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::run;
use crate::config::Settings;
use crate::gateway::Gateway;
use crate::gateway::outbound::{ConnHandle, Outbound, RoomEvent};
use crate::gateway::transport::{Transport, TransportClosed};
use confab_websocket::FrameText;

/// Permits of a recorder's gate: taking them all holds every write.
const GATE_PERMITS: u32 = 1_000_000;

/// What the transport was asked to do, in order.
#[derive(Debug, Clone, PartialEq)]
enum Written {
    Frame {
        frame: Box<ServerFrame>,
        seq: Option<Seq>,
    },
    Close(u16),
}

/// A transport that records every call. Writes wait for a permit of `gate`, so a test can
/// hold the sender mid-write while the queue fills.
#[derive(Clone)]
struct Recorder {
    written: Arc<Mutex<Vec<Written>>>,
    /// How many frames had been written at each flush.
    flushed_at: Arc<Mutex<Vec<usize>>>,
    gate: Arc<Semaphore>,
}

impl Recorder {
    fn open() -> Recorder {
        Recorder {
            written: Arc::default(),
            flushed_at: Arc::default(),
            gate: Arc::new(Semaphore::new(GATE_PERMITS as usize)),
        }
    }

    fn written(&self) -> Vec<Written> {
        self.written.lock().unwrap().clone()
    }

    fn flushed_at(&self) -> Vec<usize> {
        self.flushed_at.lock().unwrap().clone()
    }

    /// Seqs of the room events written (not snapshots).
    fn event_seqs(&self) -> Vec<Seq> {
        self.written()
            .into_iter()
            .filter_map(|w| match w {
                Written::Frame { frame, .. } => match *frame {
                    ServerFrame::Event { seq, .. } => Some(seq),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// Waits until `done` holds for what was written (at most 10 s).
    async fn until(&self, what: &str, done: impl Fn(&[Written]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if done(&self.written()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; written: {:?}",
                self.written()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Transport for Recorder {
    const ENDS_WITHOUT_ROOMS: bool = false;
    const BUFFERS_WRITES: bool = true;

    async fn write(&mut self, text: FrameText, seq: Option<Seq>) -> Result<(), TransportClosed> {
        let _permit = self.gate.acquire().await.map_err(|_| TransportClosed)?;
        let frame =
            Box::new(serde_json::from_str(text.as_str()).expect("the sender writes JSON frames"));
        self.written
            .lock()
            .unwrap()
            .push(Written::Frame { frame, seq });
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportClosed> {
        let written = self.written.lock().unwrap().len();
        self.flushed_at.lock().unwrap().push(written);
        Ok(())
    }

    async fn close(&mut self, code: CloseCode, _reason: String) {
        self.written
            .lock()
            .unwrap()
            .push(Written::Close(code.code()));
    }

    async fn pong(&mut self, _payload: bytes::Bytes) -> Result<(), TransportClosed> {
        Ok(())
    }
}

/// A gateway on a fresh SQLite file, a user, and a public room of theirs.
struct Fixture {
    _db: TestDb,
    gateway: Gateway,
    author: UserId,
    room: RoomId,
    sent: u32,
}

impl Fixture {
    async fn new(resume_max_events: u64) -> Fixture {
        let db = store::testing::sqlite().await;
        let mut settings = Settings::defaults();
        settings.resume_max_events = resume_max_events;
        let gateway = Gateway::new(Arc::new(settings), db.store.clone());
        let user = db
            .store
            .create_user(
                &Handle::parse("ana").unwrap(),
                &DisplayName::parse("Ana").unwrap(),
                "not a real hash",
            )
            .await
            .unwrap();
        gateway.users().insert(&user);
        let room = db
            .store
            .create_room(
                user.id,
                RoomKind::Public,
                &RoomName::parse("general").unwrap(),
                "",
            )
            .await
            .unwrap();
        Fixture {
            _db: db,
            gateway,
            author: user.id,
            room: room.id,
            sent: 0,
        }
    }

    /// Commits one message through the group-commit writer; returns its seq and its
    /// encoded event, as the fan-out would offer it.
    async fn commit(&mut self) -> Arc<RoomEvent> {
        self.sent += 1;
        let command = WriteCommand::Send {
            author: self.author,
            client_msg_id: ClientMsgId::parse(&format!("m{}", self.sent)).unwrap(),
            body: Body::parse(&format!("message {}", self.sent)).unwrap(),
        };
        let event = match self
            .gateway
            .group_commit()
            .write(self.room, command)
            .await
            .unwrap()
        {
            WriteOutcome::Applied(event) => event,
            other => panic!("a new send is applied, got {other:?}"),
        };
        let author = self.gateway.users().get(self.author).unwrap();
        let text =
            crate::gateway::encode::text(&crate::gateway::encode::event_frame(&event, author));
        Arc::new(RoomEvent {
            room: self.room,
            seq: event.seq,
            text,
            committed: std::time::Instant::now(),
        })
    }

    /// A connection's handle and its sender task writing to `transport`.
    fn connect(&self, transport: Recorder) -> (ConnHandle, CancellationToken) {
        self.connect_counting(transport, Arc::default())
    }

    /// [`Fixture::connect`], counting the connection's switches to catch-up in `catch_ups`.
    fn connect_counting(
        &self,
        transport: Recorder,
        catch_ups: Arc<AtomicU64>,
    ) -> (ConnHandle, CancellationToken) {
        let (handle, queue) = ConnHandle::new(1, self.author, 64, catch_ups);
        let done = CancellationToken::new();
        tokio::spawn(run(
            transport,
            queue,
            handle.clone(),
            self.gateway.clone(),
            done.clone(),
        ));
        (handle, done)
    }
}

fn snapshot_of(written: &[Written]) -> Option<(SnapshotReason, Seq, usize)> {
    written.iter().find_map(|w| match w {
        Written::Frame { frame, .. } => match &**frame {
            ServerFrame::Snapshot {
                reason,
                last_seq,
                messages,
                ..
            } => Some((*reason, *last_seq, messages.len())),
            _ => None,
        },
        _ => None,
    })
}

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
async fn a_resume_within_the_recent_events_is_served_from_memory() {
    let mut f = Fixture::new(1_000).await;
    let mut third = None;
    for _ in 0..3 {
        third = Some(f.commit().await);
    }
    // Seq 4 exists only in this node's recent events: the Store has no such event, so
    // a resume that delivers it read memory, not the Store.
    let third = third.unwrap();
    let fourth: FrameText = third
        .text
        .as_str()
        .replace("\"seq\":3", "\"seq\":4")
        .replace("message 3", "only in memory")
        .into();
    f.gateway.hub().publish_event(f.room, 4, &fourth);
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(1))).unwrap();
    rec.until("events 2 to 4", |w| w.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![2, 3, 4]);
    assert!(matches!(
        &rec.written()[2],
        Written::Frame { frame, .. } if matches!(&**frame, ServerFrame::Event { message, .. } if message.body == "only in memory")
    ));
}

#[tokio::test]
async fn a_resume_older_than_the_recent_events_reads_the_store_then_memory() {
    let mut f = Fixture::new(1_000).await;
    let total = crate::gateway::recent::RING_EVENTS as Seq + 20;
    for _ in 0..total {
        f.commit().await;
    }
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(3))).unwrap();
    rec.until("every event after 3", |w| w.len() as Seq >= total - 3)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), (4..=total).collect::<Vec<Seq>>());
}

#[tokio::test]
async fn a_replay_after_an_edit_shows_the_message_as_it_is_now() {
    let mut f = Fixture::new(1_000).await;
    let first = f.commit().await;
    f.commit().await;
    let ServerFrame::Event { message, .. } = serde_json::from_str(first.text.as_str()).unwrap()
    else {
        panic!("an event frame")
    };
    let edit = WriteCommand::Edit {
        author: f.author,
        message: message.id,
        body: Body::parse("edited").unwrap(),
    };
    f.gateway.group_commit().write(f.room, edit).await.unwrap();
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(0))).unwrap();
    rec.until("events 1 to 3", |w| w.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![1, 2, 3]);
    // Event 1 was published with its first body; replayed, it carries the edited one.
    assert!(matches!(
        &rec.written()[0],
        Written::Frame { frame, .. } if matches!(&**frame, ServerFrame::Event { message, .. } if message.body == "edited")
    ));
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
    tokio::time::timeout(Duration::from_secs(5), done.cancelled())
        .await
        .expect("the sender stops after a close");
    assert_eq!(rec.written(), vec![Written::Close(4101)]);
}

#[tokio::test]
async fn cancelling_the_connection_stops_the_sender() {
    let f = Fixture::new(1_000).await;
    let (handle, queue) = ConnHandle::new(1, f.author, 64, Arc::default());
    let done = CancellationToken::new();
    let task = tokio::spawn(run(
        Recorder::open(),
        queue,
        handle.clone(),
        f.gateway.clone(),
        done.clone(),
    ));
    done.cancel();
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
