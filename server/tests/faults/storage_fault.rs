//! The steps every storage-fault test shares (a full disk on SQLite or Postgres, a file
//! system turned read-only): sends until the store refuses one, refusals after it, the
//! readiness report, reads and presence during the fault, the refused sends retried once
//! the store writes again, and the readiness that comes back by itself.

use protocol::ids::{RoomId, Seq, UserId};
use protocol::{ErrorCode, ServerFrame};
use std::time::Duration;

use crate::helpers::WAIT;
use crate::room_log::api_history;
use crate::wsclient::{Client, send};

/// The child server's settings: no rate limit in the way of the test's sends.
pub const FAST: [(&str, &str); 2] = [
    ("CONFAB_RATE_PER_SEC", "100000"),
    ("CONFAB_RATE_BURST", "100000"),
];

/// Sends after the first refusal, each of which must be refused too.
pub const REFUSED_AFTER: usize = 3;

/// What each message says.
pub fn body(cmid: &str) -> String {
    format!("message {cmid}")
}

/// Sends one message; its seq, which an ack must name.
pub async fn expect_ack(client: &mut Client, room: RoomId, cmid: &str) -> Seq {
    match client.request(send(room, cmid, &body(cmid))).await {
        ServerFrame::Ack { info, .. } => info.seq.expect("a send's ack names its seq"),
        other => panic!("{cmid}: expected an ack, got {other:?}"),
    }
}

/// A writer on `ws`, subscribed to `room`, and the ten messages it had acked before the
/// fault.
pub async fn start_writing(ws: crate::helpers::Ws, room: RoomId) -> (Client, Vec<(String, Seq)>) {
    let mut writer = Client::new(ws);
    writer.ok(crate::wsclient::subscribe(room, None)).await;
    let acked = sends_before(&mut writer, room).await;
    (writer, acked)
}

/// [`send_until_refused`], then `/readyz` (through `readyz`) must say the store cannot
/// write but can read.
pub async fn refusals<F, R>(
    writer: &mut Client,
    room: RoomId,
    acked: &mut Vec<(String, Seq)>,
    most: usize,
    readyz: F,
    context: impl Fn() -> String,
) -> Vec<String>
where
    F: Fn() -> R,
    R: std::future::Future<Output = (u16, serde_json::Value)>,
{
    let refused = send_until_refused(writer, room, acked, most, context).await;
    let (status, ready) = readyz().await;
    assert_not_ready(status, &ready);
    refused
}

/// A child server ready before the fault, and a writer on it with its ten acked messages
/// ([`start_writing`]).
pub async fn ready_writer(
    server: &crate::child::ChildServer,
    user: &crate::helpers::TestUser,
    room: RoomId,
) -> (Client, Vec<(String, Seq)>) {
    let http = reqwest::Client::new();
    assert_eq!(
        crate::full_disk::readyz(&http, server).await.0,
        200,
        "ready before the fault"
    );
    start_writing(crate::helpers::connect_user(server.addr, user).await, room).await
}

/// Once the fault is over: the child server's readiness comes back by itself
/// ([`until_ready`]), then [`assert_retries_take_the_next_seqs`].
pub async fn recovers_and_retries(
    server: &crate::child::ChildServer,
    writer: &mut Client,
    reader: &mut Client,
    room: RoomId,
    acked: &mut Vec<(String, Seq)>,
    refused: &[String],
) {
    let http = reqwest::Client::new();
    until_ready(
        || crate::full_disk::readyz(&http, server),
        || server.log_text(),
    )
    .await;
    assert_retries_take_the_next_seqs(writer, reader, room, acked, refused).await;
}

/// [`refusals`] on a child server: its `/readyz`, and its log shown if no send is refused.
pub async fn child_refusals(
    server: &crate::child::ChildServer,
    writer: &mut Client,
    room: RoomId,
    acked: &mut Vec<(String, Seq)>,
    most: usize,
) -> Vec<String> {
    let http = reqwest::Client::new();
    refusals(
        writer,
        room,
        acked,
        most,
        || crate::full_disk::readyz(&http, server),
        || server.log_text(),
    )
    .await
}

/// Ten messages acked before the fault.
pub async fn sends_before(writer: &mut Client, room: RoomId) -> Vec<(String, Seq)> {
    let mut acked = Vec::new();
    for i in 0..10 {
        let cmid = format!("before-{i}");
        let seq = expect_ack(writer, room, &cmid).await;
        acked.push((cmid, seq));
    }
    acked
}

/// Sends until the store refuses one (at most `most`; acked ones join `acked`), then
/// [`REFUSED_AFTER`] more, every one of which must be refused `unavailable`. Returns the
/// refused ids. `context` is shown if no send is refused.
async fn send_until_refused(
    writer: &mut Client,
    room: RoomId,
    acked: &mut Vec<(String, Seq)>,
    most: usize,
    context: impl Fn() -> String,
) -> Vec<String> {
    let mut refused: Vec<String> = Vec::new();
    for i in 0..most {
        let cmid = format!("fault-{i}");
        match writer.request(send(room, &cmid, &body(&cmid))).await {
            ServerFrame::Ack { info, .. } => acked.push((cmid, info.seq.expect("a seq"))),
            ServerFrame::Error { code, .. } => {
                assert_eq!(
                    code,
                    ErrorCode::Unavailable,
                    "a storage fault is `unavailable`"
                );
                refused.push(cmid);
                break;
            }
            other => panic!("a send answered {other:?}"),
        }
    }
    assert_eq!(
        refused.len(),
        1,
        "no send refused in {most} after the fault:\n{}",
        context()
    );
    for i in 0..REFUSED_AFTER {
        let cmid = format!("refused-{i}");
        match writer.request(send(room, &cmid, &body(&cmid))).await {
            ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::Unavailable),
            other => panic!("a send during the fault answered {other:?}"),
        }
        refused.push(cmid);
    }
    refused
}

/// `/readyz` says the store cannot write but can read.
fn assert_not_ready(status: u16, ready: &serde_json::Value) {
    assert_eq!(status, 503, "not ready during the fault: {ready}");
    assert_eq!(ready["store_writable"], false, "{ready}");
    assert_eq!(ready["store_ok"], true, "reads still work: {ready}");
}

/// A connection made during the fault subscribes, sees `writer` present and reads the
/// whole history: every acked message, in order.
pub async fn assert_reads_go_on(
    reader: &mut Client,
    room: RoomId,
    writer: UserId,
    acked: &[(String, Seq)],
) {
    reader.ok(crate::wsclient::subscribe(room, None)).await;
    let presence = reader
        .push_where(|f| matches!(f, ServerFrame::Presence { .. }))
        .await;
    let ServerFrame::Presence { users: here, .. } = presence else {
        unreachable!()
    };
    assert!(
        here.iter().any(|p| p.user.id == writer),
        "the writer is present: {here:?}"
    );
    assert_eq!(
        api_history(reader, room).await,
        acked,
        "history during the fault is every acked message, in order"
    );
}

/// Polls `readyz` until it says 200, failing after a while with `context`.
pub async fn until_ready<F, R>(readyz: F, context: impl Fn() -> String)
where
    F: Fn() -> R,
    R: std::future::Future<Output = (u16, serde_json::Value)>,
{
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    loop {
        let (status, ready) = readyz().await;
        if status == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still {status} {ready} after the fault ended:\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The refused sends, retried with their ids, and a few new ones take the next seqs (none
/// of the refused was stored); then the history is every acked message once.
pub async fn assert_retries_take_the_next_seqs(
    writer: &mut Client,
    reader: &mut Client,
    room: RoomId,
    acked: &mut Vec<(String, Seq)>,
    refused: &[String],
) {
    let first = acked.last().expect("messages before the fault").1 + 1;
    let retried = refused
        .iter()
        .cloned()
        .chain((0..5).map(|i| format!("after-{i}")));
    for (next, cmid) in (first..).zip(retried) {
        let seq = expect_ack(writer, room, &cmid).await;
        assert_eq!(
            seq, next,
            "{cmid} takes the next seq: nothing refused was stored"
        );
        acked.push((cmid, seq));
    }
    assert_eq!(
        api_history(reader, room).await,
        *acked,
        "the room's history is every acked message once"
    );
}
