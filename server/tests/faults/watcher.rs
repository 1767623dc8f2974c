//! A subscriber that records every event of one room over as many connections as it
//! takes, resuming each time with `since_seq` = the last seq it saw, and fails on the spot
//! if a delivery skips a seq, repeats one, or replaces the resume with a snapshot.

use protocol::ids::{RoomId, Seq};
use protocol::{ServerFrame, SnapshotReason};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::helpers::WAIT;
use crate::peer::{Incoming, Peer};
use crate::room_log::Entry;
use crate::wsclient::subscribe;

/// How often a watcher pings, so that a long quiet stretch is not a heartbeat timeout.
const PING_EVERY: Duration = Duration::from_secs(5);

/// "Not known yet" for a watcher's target seq.
pub const NO_TARGET: Seq = u64::MAX;

/// How a stretch of reading ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The watcher has seen the target seq.
    Reached,
    /// The connection ended first.
    Ended,
}

pub struct Watcher {
    token: String,
    room: RoomId,
    /// The room's last seq when first subscribed (from the initial snapshot).
    start: Option<Seq>,
    /// Every event seen, in delivery order.
    pub seen: Vec<Entry>,
    /// Connections that got as far as a subscription.
    pub connections: u32,
}

impl Watcher {
    pub fn new(token: &str, room: RoomId) -> Watcher {
        Watcher {
            token: token.to_string(),
            room,
            start: None,
            seen: Vec::new(),
            connections: 0,
        }
    }

    /// The last seq seen (the room's seq at the first subscription if none since).
    pub fn last(&self) -> Seq {
        self.seen.last().map(|e| e.seq).or(self.start).unwrap_or(0)
    }

    /// The seq the first subscription started after.
    pub fn start(&self) -> Seq {
        self.start.unwrap_or(0)
    }

    /// Connects and subscribes: the first time without `since_seq` (an initial snapshot),
    /// then resuming after the last seq seen. `Err` when the server is not there or
    /// refuses (the store is down): the caller may try again.
    pub async fn subscribe(&mut self, addr: SocketAddr) -> Result<Peer, String> {
        let mut peer = Peer::connect(addr, &self.token).await?;
        let since = self.start.map(|_| self.last());
        match peer.call(subscribe(self.room, since), WAIT * 3).await {
            Ok(ServerFrame::Ack { .. }) => {
                self.connections += 1;
                Ok(peer)
            }
            Ok(other) => Err(format!("subscribe refused: {other:?}")),
            Err(_) => Err("the connection ended while subscribing".into()),
        }
    }

    /// [`Watcher::subscribe`], retried every 100 ms until `within` has passed.
    pub async fn subscribe_retrying(&mut self, addr: SocketAddr, within: Duration) -> Peer {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.subscribe(addr).await {
                Ok(peer) => return peer,
                Err(why) => assert!(
                    tokio::time::Instant::now() < deadline,
                    "the watcher could not subscribe within {within:?}: {why}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reads events until the watcher has seen `target` (which may be set later, from
    /// [`NO_TARGET`]) or the connection ends.
    pub async fn read(&mut self, peer: &mut Peer, target: &AtomicU64) -> Outcome {
        let mut last_ping = tokio::time::Instant::now();
        loop {
            if self.start.is_some() && self.last() >= target.load(Ordering::SeqCst) {
                return Outcome::Reached;
            }
            if last_ping.elapsed() >= PING_EVERY {
                last_ping = tokio::time::Instant::now();
                if peer
                    .request(serde_json::json!({"type": "ping"}))
                    .await
                    .is_err()
                {
                    return Outcome::Ended;
                }
            }
            match peer.next(Duration::from_millis(200)).await {
                Incoming::Frame(frame) => self.take(frame),
                Incoming::Silent => continue,
                Incoming::Ended => return Outcome::Ended,
            }
        }
    }

    /// Reads on `peer` (already subscribed) until the watcher has seen `target`; every
    /// connection that ends is followed by a resume on a new one. Fails after `within`.
    pub async fn follow(
        &mut self,
        mut peer: Peer,
        addr: SocketAddr,
        target: &AtomicU64,
        within: Duration,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        while self.read(&mut peer, target).await == Outcome::Ended {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            peer = self.subscribe_retrying(addr, left).await;
        }
        peer.close_cleanly().await;
    }

    /// Asserts that no event of the room arrives for `quiet`: nothing after the last one.
    pub async fn expect_nothing_more(&mut self, peer: &mut Peer, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match peer.next(left).await {
                Incoming::Frame(ServerFrame::Event { room, seq, .. }) if room == self.room => {
                    panic!("an event after the last one: seq {seq}")
                }
                Incoming::Frame(_) => continue,
                Incoming::Silent => return,
                Incoming::Ended => panic!("the connection ended while expecting quiet"),
            }
        }
    }

    fn take(&mut self, frame: ServerFrame) {
        match frame {
            ServerFrame::Snapshot {
                room,
                reason,
                last_seq,
                ..
            } if room == self.room => {
                assert!(
                    reason == SnapshotReason::Initial && self.start.is_none(),
                    "a {reason:?} snapshot (last_seq {last_seq}) where a resume after {} \
                     was due",
                    self.last()
                );
                self.start = Some(last_seq);
            }
            ServerFrame::Event {
                room, seq, message, ..
            } if room == self.room => {
                assert!(
                    self.start.is_some(),
                    "event {seq} before the initial snapshot"
                );
                let last = self.last();
                assert!(
                    seq == last + 1,
                    "after seq {last} the watcher got seq {seq} ({})",
                    if seq <= last { "a duplicate" } else { "a gap" }
                );
                self.seen.push(Entry {
                    seq,
                    client_msg_id: message.client_msg_id,
                    body: message.body,
                });
            }
            _ => {}
        }
    }
}
