//! New messages pipelined on one connection: a client may send many without waiting for
//! their acks. They commit in request order, their acks come back in request order, every
//! subscriber gets them in that order, and a request of another kind — or an error for a
//! malformed frame — is answered only after the messages sent before it.

use futures_util::{SinkExt, StreamExt};
use protocol::ids::RoomId;
use protocol::{ErrorCode, ServerFrame};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, next_frame, send_text};
use crate::wsclient::{Client, reply_req, send, subscribe};

/// Messages written back to back without reading.
const BURST: u64 = 40;

async fn pipelined_sends_commit_and_are_answered_in_request_order(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room: RoomId = app.public_room(&ana, "general").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;

    // Requests numbered from 1,000 so that they never meet the client's own numbering.
    for i in 1..=BURST {
        let mut frame = send(room, &format!("p{i}"), &format!("message {i}"));
        frame["req"] = (1_000 + i).into();
        send_text(&mut a.ws, &frame.to_string()).await;
    }
    let history = serde_json::json!({"type": "history", "room": room, "limit": 100, "req": 2_000});
    send_text(&mut a.ws, &history.to_string()).await;
    // An empty body does not decode: an `error` frame, after everything before it.
    let bad = serde_json::json!({"type": "send", "room": room, "client_msg_id": "bad", "body": "", "req": 2_001});
    send_text(&mut a.ws, &bad.to_string()).await;

    let mut replies = Vec::new();
    while replies.len() < BURST as usize + 2 {
        let frame = next_frame(&mut a.ws).await;
        if reply_req(&frame).is_some() {
            replies.push(frame);
        }
    }
    for (i, reply) in replies[..BURST as usize].iter().enumerate() {
        match reply {
            ServerFrame::Ack { req, info } => {
                assert_eq!(*req, 1_001 + i as u64, "acks come in request order");
                assert_eq!(info.seq, Some(1 + i as u64), "seqs follow request order");
            }
            other => panic!("send {} → {other:?}", i + 1),
        }
    }
    match &replies[BURST as usize] {
        ServerFrame::History { req, messages, .. } => {
            assert_eq!(*req, 2_000);
            assert_eq!(
                messages.len() as u64,
                BURST,
                "the history sees every message sent before it"
            );
        }
        other => panic!("history → {other:?}"),
    }
    match &replies[BURST as usize + 1] {
        ServerFrame::Error { req, code, .. } => {
            assert_eq!(*req, Some(2_001));
            assert_eq!(*code, ErrorCode::InvalidField);
        }
        other => panic!("a malformed send → {other:?}"),
    }

    let got = b.events(room, BURST as usize).await;
    assert_eq!(
        got,
        (1..=BURST)
            .map(|i| (i, format!("message {i}")))
            .collect::<Vec<_>>()
    );
}

/// A burst of sends followed at once by the client's close: every send is acked before
/// the server's close, and every one is in the room.
async fn sends_still_committing_at_a_close_are_acked_first(app: TestApp) {
    let ana = app.user("ana").await;
    let room: RoomId = app.public_room(&ana, "general").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    for i in 1..=BURST {
        let mut frame = send(room, &format!("q{i}"), &format!("last words {i}"));
        frame["req"] = (1_000 + i).into();
        send_text(&mut a.ws, &frame.to_string()).await;
    }
    a.ws.send(Message::Close(None)).await.expect("close");
    let mut acked = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), a.ws.next())
            .await
            .expect("the server answers the close in time");
        match next {
            Some(Ok(Message::Text(text))) => {
                let frame: ServerFrame = serde_json::from_str(text.as_str()).expect("a frame");
                if let ServerFrame::Ack { req, info } = frame {
                    acked.push((req, info.seq));
                }
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    assert_eq!(
        acked,
        (1..=BURST)
            .map(|i| (1_000 + i, Some(i)))
            .collect::<Vec<_>>()
    );
    let mut c = Client::new(app.connect_as(&ana).await);
    c.ok(subscribe(room, Some(0))).await;
    assert_eq!(c.events(room, BURST as usize).await.len() as u64, BURST);
}

on_both_backends!(
    pipelined_sends_commit_and_are_answered_in_request_order,
    sends_still_committing_at_a_close_are_acked_first,
);
