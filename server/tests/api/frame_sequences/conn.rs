//! One client's socket and what it has seen of each room, and the check of every frame
//! the server pushes to it against the model.

use futures_util::StreamExt;
use proptest::test_runner::TestCaseError;
use protocol::ids::Seq;
use protocol::{PersonalEvent, ServerFrame};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use tokio_tungstenite::tungstenite::Message;

use super::Counts;
use super::model::Model;
use crate::helpers::{TestApp, TestUser, WAIT, Ws, send_text};
use crate::wsclient::reply_req;

/// Fails the case (so that proptest can shrink it) unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}
pub(super) use ensure;

pub struct Conn {
    pub ws: Ws,
    next_req: u64,
    /// The last seq seen per room (events only go forward).
    pub last: HashMap<usize, Seq>,
    /// Within the current subscription, the seq the next event must have minus one.
    pub run: HashMap<usize, Option<Seq>>,
    /// The room's last seq when this connection's current subscription began: history up
    /// to there is the room's past, which a member (or anyone, in a public room) may read.
    pub replay_upto: HashMap<usize, Seq>,
}

impl Conn {
    pub async fn open(node: &TestApp, user: &TestUser) -> Conn {
        let mut ws = node
            .connect_headers(
                Some(protocol::SUBPROTOCOL),
                &[("authorization", &format!("Bearer {}", user.token))],
            )
            .await;
        let welcome = read(&mut ws).await.expect("welcome");
        assert!(matches!(welcome, ServerFrame::Welcome { .. }));
        Conn {
            ws,
            next_req: 1_000_000,
            last: HashMap::new(),
            run: HashMap::new(),
            replay_upto: HashMap::new(),
        }
    }

    /// Sends `frame` with a fresh `req`; returns its reply and the pushes before it.
    pub async fn exchange(
        &mut self,
        mut frame: serde_json::Value,
    ) -> Result<(ServerFrame, Vec<ServerFrame>), TestCaseError> {
        let req = self.next_req;
        self.next_req += 1;
        frame["req"] = req.into();
        send_text(&mut self.ws, &frame.to_string()).await;
        self.until_reply(req).await
    }

    async fn until_reply(
        &mut self,
        req: u64,
    ) -> Result<(ServerFrame, Vec<ServerFrame>), TestCaseError> {
        let mut pushes = Vec::new();
        loop {
            let frame = read(&mut self.ws)
                .await
                .map_err(|e| TestCaseError::fail(format!("waiting for reply {req}: {e}")))?;
            if reply_req(&frame) == Some(req) {
                return Ok((frame, pushes));
            }
            pushes.push(frame);
        }
    }
}

/// The next frame from the server, or why there is none.
async fn read(ws: &mut Ws) -> Result<ServerFrame, String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err("no frame in time (the server hangs?)".into()),
            Ok(None) => return Err("the connection ended".into()),
            Ok(Some(Err(e))) => return Err(format!("read failed: {e}")),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("undecodable frame {text}: {e}"));
            }
            Ok(Some(Ok(Message::Close(frame)))) => return Err(format!("closed: {frame:?}")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Checks the pushes `client` received against the model.
pub fn check_pushes(
    model: &Model,
    conn: &mut Conn,
    client: usize,
    pushes: Vec<ServerFrame>,
    counts: &Counts,
) -> Result<(), TestCaseError> {
    for push in pushes {
        match &push {
            ServerFrame::Event { room, seq, .. } => {
                let r = model.room_index(*room);
                ensure!(r.is_some(), "an event of a room nobody made: {push:?}");
                let r = r.unwrap();
                ensure!(
                    model.subscribed.contains(&(client, r)),
                    "client {client} got event {seq} of room {r}, which it is not subscribed to"
                );
                // Live, it needs membership when it was acked; replayed on subscribing, it
                // is the room's past, open to whoever may subscribe.
                let past = conn.replay_upto.get(&r).is_some_and(|upto| seq <= upto);
                ensure!(
                    past || model.may_receive_event(client, r, *seq),
                    "client {client} got event {seq} of room {r}; members then: {:?}",
                    model.members_at.get(&(r, *seq))
                );
                if let Some(last) = conn.last.get(&r) {
                    ensure!(seq > last, "room {r}: event {seq} after {last}");
                }
                if let Some(Some(run)) = conn.run.get(&r) {
                    ensure!(*seq == run + 1, "room {r}: gap, {seq} after {run}");
                }
                conn.last.insert(r, *seq);
                conn.run.insert(r, Some(*seq));
                counts.events.fetch_add(1, Ordering::Relaxed);
            }
            ServerFrame::Snapshot {
                room,
                last_seq,
                messages,
                ..
            } => {
                let r = model.room_index(*room);
                ensure!(
                    r.is_some_and(|r| model.ever_subscribed.contains(&(client, r))),
                    "client {client} got a snapshot of a room it never subscribed: {push:?}"
                );
                let r = r.unwrap();
                ensure!(
                    messages.windows(2).all(|w| w[0].seq < w[1].seq)
                        && messages.iter().all(|m| m.seq <= *last_seq),
                    "snapshot out of order: {push:?}"
                );
                if let Some(last) = conn.last.get(&r) {
                    ensure!(
                        last_seq >= last,
                        "room {r}: snapshot at {last_seq} after {last}"
                    );
                }
                conn.last.insert(r, *last_seq);
                conn.run.insert(r, Some(*last_seq));
            }
            ServerFrame::Typing { room, .. }
            | ServerFrame::Presence { room, .. }
            | ServerFrame::PresenceDiff { room, .. }
            | ServerFrame::Receipts { room, .. } => {
                let r = model.room_index(*room);
                ensure!(
                    r.is_some_and(|r| model.ever_subscribed.contains(&(client, r))),
                    "client {client} got {push:?} of a room it never subscribed"
                );
            }
            ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, .. },
            } => {
                let r = model.room_index(*room);
                ensure!(
                    r.is_some_and(|r| model.may_be_told_unread(client, r, *seq)),
                    "client {client} was told of unread {seq} in {room} (rule {:?}); members then: {:?}",
                    model.rule,
                    r.and_then(|r| model.members_at.get(&(r, *seq)))
                );
                counts.notices.fetch_add(1, Ordering::Relaxed);
                if r.is_some_and(|r| !model.may_receive_event(client, r, *seq)) {
                    counts.joined_since.fetch_add(1, Ordering::Relaxed);
                }
            }
            ServerFrame::Personal { .. } => {}
            ServerFrame::Error { req: None, .. } => {
                return Err(TestCaseError::fail(format!(
                    "an error nobody asked for: {push:?}"
                )));
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "client {client}: unexpected push {other:?} (a second reply?)"
                )));
            }
        }
    }
    Ok(())
}
