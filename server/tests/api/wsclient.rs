//! A small protocol-v1 client for tests: numbers requests, matches replies by `req`, and
//! keeps every push (events, presence, typing, …) in arrival order for the test to read.

use protocol::ServerFrame;
use protocol::ids::{RoomId, Seq};
use std::collections::VecDeque;
use std::time::Duration;

use crate::helpers::{Ws, next_frame, send_text};

pub struct Client {
    pub ws: Ws,
    next_req: u64,
    pushes: VecDeque<ServerFrame>,
}

/// The `req` a frame answers, if it is a reply.
pub fn reply_req(frame: &ServerFrame) -> Option<u64> {
    match frame {
        ServerFrame::Ack { req, .. }
        | ServerFrame::Pong { req }
        | ServerFrame::History { req, .. } => Some(*req),
        ServerFrame::Error { req, .. } => *req,
        _ => None,
    }
}

impl Client {
    pub fn new(ws: Ws) -> Client {
        Client {
            ws,
            next_req: 1,
            pushes: VecDeque::new(),
        }
    }

    /// Sends `frame` (a JSON object without `req`) and returns its reply.
    pub async fn request(&mut self, mut frame: serde_json::Value) -> ServerFrame {
        let req = self.next_req;
        self.next_req += 1;
        frame["req"] = req.into();
        send_text(&mut self.ws, &frame.to_string()).await;
        loop {
            let f = next_frame(&mut self.ws).await;
            if reply_req(&f) == Some(req) {
                return f;
            }
            self.pushes.push_back(f);
        }
    }

    /// Sends a request and asserts it was acked.
    pub async fn ok(&mut self, frame: serde_json::Value) -> ServerFrame {
        let reply = self.request(frame.clone()).await;
        assert!(
            matches!(
                reply,
                ServerFrame::Ack { .. } | ServerFrame::History { .. } | ServerFrame::Pong { .. }
            ),
            "{frame} → {reply:?}"
        );
        reply
    }

    /// The next push (buffered first, then from the socket).
    pub async fn push(&mut self) -> ServerFrame {
        match self.pushes.pop_front() {
            Some(f) => f,
            None => next_frame(&mut self.ws).await,
        }
    }

    /// The next push satisfying `pred`, skipping others.
    pub async fn push_where(&mut self, pred: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        loop {
            let f = self.push().await;
            if pred(&f) {
                return f;
            }
        }
    }

    /// The next `n` events of `room` as (seq, body), skipping other pushes.
    pub async fn events(&mut self, room: RoomId, n: usize) -> Vec<(Seq, String)> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if let ServerFrame::Event {
                room: r,
                seq,
                message,
                ..
            } = self.push().await
                && r == room
            {
                out.push((seq, message.body));
            }
        }
        out
    }

    /// Asserts that no push matching `pred` arrives within `wait`.
    pub async fn none_within(&mut self, wait: Duration, pred: impl Fn(&ServerFrame) -> bool) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(f) = self.pushes.pop_front() {
            assert!(!pred(&f), "unexpected {f:?}");
        }
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, next_frame(&mut self.ws)).await {
                Ok(f) => assert!(!pred(&f), "unexpected {f:?}"),
                Err(_) => return,
            }
        }
    }
}

/// `{"type":"subscribe","room":…}` with an optional `since_seq`.
pub fn subscribe(room: RoomId, since: Option<Seq>) -> serde_json::Value {
    let mut f = serde_json::json!({"type": "subscribe", "room": room});
    if let Some(s) = since {
        f["since_seq"] = s.into();
    }
    f
}

/// `{"type":"send",…}`.
pub fn send(room: RoomId, cmid: &str, body: &str) -> serde_json::Value {
    serde_json::json!({"type": "send", "room": room, "client_msg_id": cmid, "body": body})
}

/// Asserts that `frame` is an `error` with `code`.
#[track_caller]
pub fn assert_error(frame: &ServerFrame, code: protocol::ErrorCode) {
    match frame {
        ServerFrame::Error { code: got, .. } => assert_eq!(*got, code, "{frame:?}"),
        other => panic!("expected an error {code}, got {other:?}"),
    }
}
