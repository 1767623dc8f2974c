//! A client's view of who is present in a room, kept as a browser keeps it: the `presence`
//! frame of a subscribe replaces it, each `presence_diff` changes it. For tests of
//! presence after faults: wait until the view is what it should be, then check it stays.

use protocol::ServerFrame;
use protocol::ids::{RoomId, UserId};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

use crate::wsclient::Client;

/// Who a client sees present in one room, and the total it was last told.
pub struct View {
    pub room: RoomId,
    pub present: BTreeSet<UserId>,
    pub total: u32,
    /// Every user a diff announced as joining, in order (for checking who reappeared).
    pub joins: Vec<UserId>,
}

impl View {
    pub fn new(room: RoomId) -> View {
        View {
            room,
            present: BTreeSet::new(),
            total: 0,
            joins: Vec::new(),
        }
    }

    /// Applies `frame` if it is this room's presence or presence diff.
    pub fn apply(&mut self, frame: &ServerFrame) {
        match frame {
            ServerFrame::Presence {
                room, users, total, ..
            } if *room == self.room => {
                self.present = users.iter().map(|e| e.user.id).collect();
                self.total = *total;
            }
            ServerFrame::PresenceDiff {
                room,
                joined,
                left,
                total,
                ..
            } if *room == self.room => {
                self.present.extend(joined.iter().map(|u| u.id));
                self.joins.extend(joined.iter().map(|u| u.id));
                for user in left {
                    self.present.remove(user);
                }
                self.total = *total;
            }
            _ => {}
        }
    }

    /// Whether the view is `expected`, the total agreeing.
    pub fn is(&self, expected: &[UserId]) -> bool {
        let expected: BTreeSet<UserId> = expected.iter().copied().collect();
        self.present == expected && self.total as usize == expected.len()
    }

    /// Pings, then applies what `client` receives until `deadline`, for at most a second.
    pub async fn poll(&mut self, client: &mut Client, deadline: Instant) {
        if let Some(frame) = next_push(client, deadline).await {
            self.apply(&frame);
            // Whatever else has arrived, without waiting.
            while let Ok(frame) = tokio::time::timeout(Duration::ZERO, client.push()).await {
                self.apply(&frame);
            }
        }
    }

    /// Reads `client`'s pushes until the view is `expected` (the total agreeing), or
    /// panics naming `what` after `within`.
    pub async fn until(
        &mut self,
        client: &mut Client,
        expected: &[UserId],
        within: Duration,
        what: &str,
    ) {
        let deadline = Instant::now() + within;
        while !self.is(expected) {
            assert!(
                Instant::now() < deadline,
                "{what}: after {within:?} the view is {:?} (total {}), not {expected:?}",
                self.present,
                self.total
            );
            self.poll(client, deadline).await;
        }
    }

    /// Reads `client`'s pushes for `wait` and asserts the view stays as it is.
    pub async fn stays(&mut self, client: &mut Client, wait: Duration, what: &str) {
        let (before, total) = (self.present.clone(), self.total);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            let Some(frame) = next_push(client, deadline).await else {
                continue;
            };
            self.apply(&frame);
            assert_eq!(
                (&self.present, self.total),
                (&before, total),
                "{what}: the view changed after {frame:?}"
            );
        }
    }
}

/// The next push, waiting at most until `deadline`, a second at a time: each second the
/// client pings (a WebSocket ping), so that it stays alive on a server with a short
/// heartbeat, and the client's own "no frame in time" never fires (quiet spells here are
/// expected).
async fn next_push(client: &mut Client, deadline: Instant) -> Option<ServerFrame> {
    keep_alive(client).await;
    let left = deadline.saturating_duration_since(Instant::now());
    let chunk = left.min(Duration::from_secs(1));
    tokio::time::timeout(chunk, client.push()).await.ok()
}

/// Sends a WebSocket ping (any frame resets the server's idle deadline).
pub async fn keep_alive(client: &mut Client) {
    use futures_util::SinkExt;
    client
        .ws
        .send(tokio_tungstenite::tungstenite::Message::Ping(
            Vec::new().into(),
        ))
        .await
        .expect("ping");
}
