//! One chatting client of the chaos run: a user following a few rooms over one connection
//! at a time. It sends one message at a time with a `client_msg_id`, re-sending the same
//! id after any error, silence or lost connection until it is acked; when its connection
//! ends (or stays silent) it connects again — to its node, or the next one — and resumes
//! every room from the last seq it holds. It keeps every event it was delivered, as a
//! browser does (a redelivered seq is skipped, a gap is recorded as a violation), and
//! moves through the run's phases: chat, drain (no new sends), catch up (read until the
//! rooms' final seqs), hold (stay connected for the presence and leak checks), done.

use protocol::ids::{RoomId, Seq};
use protocol::{ServerFrame, SnapshotReason};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::helpers::TestUser;
use crate::nodes::Addrs;
use crate::peer::{Incoming, Peer};
use crate::rng::Rng;
use crate::room_log::{Entry, body_for};
use crate::wsclient::{reply_req, send, subscribe};

/// How long a client waits for a reply before it gives the connection up.
const REPLY_WAIT: Duration = Duration::from_secs(8);
const PING_EVERY: Duration = Duration::from_secs(5);
/// How long a client waits for a connection's `welcome`.
const CONNECT_WAIT: Duration = Duration::from_secs(3);
/// Attempts on a client's own node before it tries the others.
const HOME_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Connect and subscribe; nothing sent yet (every room's log starts empty).
    Connect,
    Chat,
    Drain,
    CatchUp,
    Hold,
    Done,
}

/// What every client shares with the test.
#[derive(Clone)]
pub struct Shared {
    pub phase: watch::Receiver<Phase>,
    pub addrs: Addrs,
    /// Each room's final seq, set before the catch-up phase.
    pub targets: Arc<Mutex<HashMap<RoomId, Seq>>>,
    /// Clients subscribed to all their rooms once (ready to chat).
    pub ready: Arc<AtomicUsize>,
    /// Clients with nothing left to send (in the drain phase).
    pub drained: Arc<AtomicUsize>,
    /// Clients whose views reached the targets.
    pub caught_up: Arc<AtomicUsize>,
}

/// What a client did and saw, handed back at the end.
#[derive(Default)]
pub struct Report {
    pub handle: String,
    /// Per room: every event kept, in delivery order.
    pub views: HashMap<RoomId, Vec<Entry>>,
    /// (room, client_msg_id, seq the ack named).
    pub acked: Vec<(RoomId, String, Seq)>,
    pub resends: u64,
    /// Acks of a re-sent id that was stored already (its first ack was lost).
    pub duplicate_acks: u64,
    pub resumes: u64,
    pub redelivered: u64,
    pub errors: HashMap<String, u64>,
    pub violations: Vec<String>,
    pub connected_at_end: bool,
}

pub struct ChatClient {
    user: TestUser,
    rooms: Vec<RoomId>,
    node: usize,
    rng: Rng,
    shared: Shared,
    r: Report,
    ever_connected: bool,
    /// Rooms whose initial snapshot has not come yet.
    initial_due: std::collections::HashSet<RoomId>,
}

enum Failed {
    /// The request was refused: try again on the same connection.
    Refused,
    /// The connection ended or went silent.
    Dropped,
}

impl ChatClient {
    pub fn new(user: TestUser, rooms: Vec<RoomId>, node: usize, seed: u64, shared: Shared) -> Self {
        let r = Report {
            handle: user.user.handle.to_string(),
            views: rooms.iter().map(|&room| (room, Vec::new())).collect(),
            ..Report::default()
        };
        ChatClient {
            user,
            rooms: rooms.clone(),
            node,
            rng: Rng::new(seed),
            shared,
            r,
            ever_connected: false,
            initial_due: rooms.iter().copied().collect(),
        }
    }

    fn phase(&self) -> Phase {
        *self.shared.phase.borrow()
    }

    pub async fn run(mut self) -> Report {
        let mut conn: Option<Peer> = None;
        let mut pending: Option<(RoomId, String, u32)> = None;
        let mut sent = 0u64;
        let mut next_send = Instant::now() + Duration::from_millis(self.rng.range(0, 2000));
        let (mut drained, mut caught) = (false, false);
        let mut last_ping = Instant::now();
        loop {
            let phase = self.phase();
            if phase == Phase::Done {
                break;
            }
            let Some(peer) = conn.as_mut() else {
                conn = self.connect().await;
                last_ping = Instant::now();
                continue;
            };
            if pending.is_none() && phase == Phase::Chat && Instant::now() >= next_send {
                let room = self.rooms[self.rng.range(0, self.rooms.len() as u64) as usize];
                sent += 1;
                pending = Some((room, format!("{}-{sent}", self.r.handle), 0));
            }
            if let Some((room, id, attempts)) = pending.as_mut() {
                if *attempts > 0 {
                    self.r.resends += 1;
                }
                *attempts += 1;
                let (room, id) = (*room, id.clone());
                match self.send(peer, room, &id).await {
                    Ok(seq) => {
                        self.r.acked.push((room, id, seq));
                        pending = None;
                        next_send =
                            Instant::now() + Duration::from_millis(self.rng.range(1000, 3000));
                    }
                    Err(Failed::Refused) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(Failed::Dropped) => conn = None,
                }
                continue;
            }
            if phase >= Phase::Drain && !drained {
                drained = true;
                self.shared.drained.fetch_add(1, Ordering::SeqCst);
            }
            if phase >= Phase::CatchUp && !caught && self.reached() {
                caught = true;
                self.shared.caught_up.fetch_add(1, Ordering::SeqCst);
            }
            if last_ping.elapsed() >= PING_EVERY {
                last_ping = Instant::now();
                if peer
                    .request(serde_json::json!({"type": "ping"}))
                    .await
                    .is_err()
                {
                    conn = None;
                    continue;
                }
            }
            match peer.next(Duration::from_millis(200)).await {
                Incoming::Frame(frame) => self.take(frame),
                Incoming::Silent => {}
                Incoming::Ended => conn = None,
            }
        }
        self.r.connected_at_end = conn.is_some();
        if let Some(peer) = conn {
            peer.close_cleanly().await;
        }
        self.r
    }

    /// Whether every room's view has reached its target seq.
    fn reached(&self) -> bool {
        let targets = self.shared.targets.lock().unwrap();
        self.rooms.iter().all(|room| {
            let last = self.r.views[room].last().map_or(0, |e| e.seq);
            targets.get(room).is_some_and(|&t| last >= t)
        })
    }

    /// Connects (trying the next node after a failure) and subscribes to every room,
    /// resuming after the last seq held; `None` once the run is done.
    async fn connect(&mut self) -> Option<Peer> {
        let mut attempt = 0;
        loop {
            if self.phase() == Phase::Done {
                return None;
            }
            // Its own node first (a killed one is back within a second), then the others.
            let node = if attempt < HOME_ATTEMPTS {
                self.node
            } else {
                self.node + attempt
            };
            attempt += 1;
            let addr = {
                let addrs = self.shared.addrs.lock().unwrap();
                addrs[node % addrs.len()]
            };
            let connected =
                tokio::time::timeout(CONNECT_WAIT, Peer::connect(addr, &self.user.token)).await;
            if let Ok(Ok(mut peer)) = connected {
                let mut all = true;
                for room in self.rooms.clone() {
                    let since = self.ever_connected.then(|| self.last(room));
                    match self.call(&mut peer, subscribe(room, since)).await {
                        Ok(ServerFrame::Ack { .. }) => {}
                        _ => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    if self.ever_connected {
                        self.r.resumes += 1;
                    } else {
                        self.ever_connected = true;
                        self.shared.ready.fetch_add(1, Ordering::SeqCst);
                    }
                    return Some(peer);
                }
            }
            tokio::time::sleep(Duration::from_millis(100 + self.rng.range(0, 200))).await;
        }
    }

    fn last(&self, room: RoomId) -> Seq {
        self.r.views[&room].last().map_or(0, |e| e.seq)
    }

    /// Sends `id` to `room`; the seq its ack names.
    async fn send(&mut self, peer: &mut Peer, room: RoomId, id: &str) -> Result<Seq, Failed> {
        match self.call(peer, send(room, id, &body_for(id))).await? {
            ServerFrame::Ack { info, .. } => {
                if info.duplicate {
                    self.r.duplicate_acks += 1;
                }
                match info.seq {
                    Some(seq) => Ok(seq),
                    None => {
                        self.r.violations.push(format!("ack of {id} without a seq"));
                        Err(Failed::Refused)
                    }
                }
            }
            ServerFrame::Error { code, .. } => {
                *self.r.errors.entry(format!("{code:?}")).or_default() += 1;
                Err(Failed::Refused)
            }
            other => unreachable!("a reply that is not an ack or error: {other:?}"),
        }
    }

    /// Writes `frame` and reads until its reply, keeping every other frame.
    async fn call(
        &mut self,
        peer: &mut Peer,
        frame: serde_json::Value,
    ) -> Result<ServerFrame, Failed> {
        let req = peer.request(frame).await.map_err(|_| Failed::Dropped)?;
        let deadline = Instant::now() + REPLY_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match peer.next(left).await {
                Incoming::Frame(f) if reply_req(&f) == Some(req) => return Ok(f),
                Incoming::Frame(f) => self.take(f),
                Incoming::Ended | Incoming::Silent => return Err(Failed::Dropped),
            }
        }
    }

    /// Keeps an event as a browser does: the next seq is appended, a seq already held is
    /// skipped (it must be the same message), a gap is a violation.
    fn take(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Event {
                room, seq, message, ..
            } => {
                let Some(view) = self.r.views.get_mut(&room) else {
                    return;
                };
                let last = view.last().map_or(0, |e| e.seq);
                if seq <= last {
                    self.r.redelivered += 1;
                    let held = view.iter().find(|e| e.seq == seq);
                    if held.is_none_or(|e| e.client_msg_id != message.client_msg_id) {
                        self.r.violations.push(format!(
                            "room {room} seq {seq} delivered again as {}, held as {:?}",
                            message.client_msg_id, held
                        ));
                    }
                    return;
                }
                if seq != last + 1 {
                    self.r
                        .violations
                        .push(format!("room {room}: after seq {last} came {seq}"));
                }
                view.push(Entry {
                    seq,
                    client_msg_id: message.client_msg_id,
                    body: message.body,
                });
            }
            ServerFrame::Snapshot {
                room,
                reason,
                last_seq,
                ..
            } if self.r.views.contains_key(&room) => {
                let initial = reason == SnapshotReason::Initial && self.initial_due.remove(&room);
                if !initial || last_seq != 0 {
                    self.r.violations.push(format!(
                        "room {room}: a {reason:?} snapshot (last_seq {last_seq}) where a resume after {} was due",
                        self.last(room)
                    ));
                }
            }
            _ => {}
        }
    }
}
