//! The sender's delivery rules, on their own: a recording transport stands in for the
//! socket, a fresh SQLite file is the Store, and events are committed through the real
//! group-commit writer. What is checked is what "nothing lost" rests on: per-room cursors
//! (no duplicate, no event of a room not delivered), gaps filled in order, a lagging
//! queue caught up, resumes served from the node's recent events and from the Store
//! before them, the resume bound turning into a snapshot, and closes. This file is the
//! harness; `delivery.rs` holds the cursor, gap, lag, resume, close and cork cases,
//! `recent.rs` those of resumes served from the node's recent events.

use protocol::ids::{RoomId, Seq, UserId};
use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};
use protocol::{CloseCode, ServerFrame, SnapshotReason};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::testing::TestDb;
use store::{RoomKind, WriteCommand, WriteOutcome};
use tokio::sync::Semaphore;

use super::run;
use crate::config::Settings;
use crate::gateway::Gateway;
use crate::gateway::ending::Ending;
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

/// A transport that records every call. A frame is recorded when it is queued if a permit
/// of `gate` is free; otherwise it asks for a flush, and the flush waits for a permit, so
/// a test can hold the sender mid-write while the queue fills.
#[derive(Clone)]
struct Recorder {
    written: Arc<Mutex<Vec<Written>>>,
    /// How many frames had been written at each flush.
    flushed_at: Arc<Mutex<Vec<usize>>>,
    gate: Arc<Semaphore>,
    /// Frames queued while the gate was held.
    held: Arc<Mutex<Vec<Written>>>,
}

impl Recorder {
    fn open() -> Recorder {
        Recorder {
            written: Arc::default(),
            flushed_at: Arc::default(),
            gate: Arc::new(Semaphore::new(GATE_PERMITS as usize)),
            held: Arc::default(),
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

    fn queue(&mut self, text: FrameText, seq: Option<Seq>) -> Result<bool, TransportClosed> {
        let frame =
            Box::new(serde_json::from_str(text.as_str()).expect("the sender writes JSON frames"));
        let frame = Written::Frame { frame, seq };
        let mut held = self.held.lock().unwrap();
        if held.is_empty() && self.gate.try_acquire().is_ok() {
            self.written.lock().unwrap().push(frame);
            return Ok(false);
        }
        held.push(frame);
        Ok(true)
    }

    async fn flush(&mut self) -> Result<(), TransportClosed> {
        if !self.held.lock().unwrap().is_empty() {
            let _permit = self.gate.acquire().await.map_err(|_| TransportClosed)?;
            let held = std::mem::take(&mut *self.held.lock().unwrap());
            self.written.lock().unwrap().extend(held);
        }
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
            files: Vec::new(),
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
        let text = crate::gateway::encode::text(&crate::gateway::encode::event_frame(
            &event,
            (*author).clone(),
        ));
        Arc::new(RoomEvent {
            room: self.room,
            seq: event.seq,
            text,
            committed: std::time::Instant::now(),
        })
    }

    /// A connection's handle and its sender task writing to `transport`.
    fn connect(&self, transport: Recorder) -> (ConnHandle, Ending) {
        self.connect_counting(transport, Arc::default())
    }

    /// [`Fixture::connect`], counting the connection's switches to catch-up in `catch_ups`.
    fn connect_counting(
        &self,
        transport: Recorder,
        catch_ups: Arc<AtomicU64>,
    ) -> (ConnHandle, Ending) {
        let (handle, queue) = ConnHandle::new(1, self.author, 64, catch_ups);
        let (done, sender_end) = Ending::pair(&handle);
        tokio::spawn(run(
            transport,
            queue,
            handle.shared.clone(),
            self.gateway.clone(),
            sender_end,
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

mod delivery;
mod direct;
mod recent;
