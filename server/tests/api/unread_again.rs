//! The unread notice of a send whose commit was in doubt: the client retries with the same
//! `client_msg_id`, the retry is acked as a duplicate, and the notice goes out again —
//! the first may never have gone out, and a member who was not there for it hears of the
//! message now. A member who gets it twice counts it once (`app::chat::unread`, the
//! browser's rule; `protocol::unread`).
//!
//! The seam is real and deterministic: the first attempt commits while Bo is offline, so
//! its notice reaches no one of his; the retry comes once he is connected.

use app::chat::api::{RoomItem, RoomKind};
use app::chat::unread;
use protocol::ids::{RoomId, Seq};
use protocol::unread::NoticeSeqs;
use protocol::{AckInfo, PersonalEvent, ServerFrame};
use std::time::Duration;

use crate::helpers::{TestApp, TestUser};
use crate::wsclient::{Client, send, subscribe};

on_both_backends!(
    a_send_acked_as_a_duplicate_sends_its_unread_notice_again,
    the_event_stream_writes_a_notice_sent_again_once,
);

fn ack(frame: &ServerFrame) -> AckInfo {
    match frame {
        ServerFrame::Ack { info, .. } => info.clone(),
        other => panic!("expected an ack, got {other:?}"),
    }
}

fn unread_notice(f: &ServerFrame) -> bool {
    matches!(
        f,
        ServerFrame::Personal {
            event: PersonalEvent::Unread { .. }
        }
    )
}

/// The next unread notice `c` receives, as (room, seq).
async fn next_notice(c: &mut Client) -> (RoomId, Seq) {
    match c.push_where(unread_notice).await {
        ServerFrame::Personal {
            event: PersonalEvent::Unread { room, seq, .. },
        } => (room, seq),
        _ => unreachable!(),
    }
}

/// Bo's room list as the browser gets it: the server's count and the seq it covers.
async fn bo_rooms(app: &TestApp, bo: &TestUser) -> Vec<RoomItem> {
    app.store
        .rooms_of(bo.user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| RoomItem {
            id: s.room.id,
            kind: RoomKind::Public,
            title: String::new(),
            peers: Vec::new(),
            unread: s.unread,
            mentions: s.mentions,
            last_seq: s.room.last_seq,
        })
        .collect()
}

async fn a_send_acked_as_a_duplicate_sends_its_unread_notice_again(app: TestApp) {
    let ana = app.user("ua-ana").await;
    let bo = app.user("ua-bo").await;
    let room = app.public_room(&ana, "unread-again").await;
    app.store.join_public(room, bo.user.id).await.unwrap();
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;

    // The first attempt commits while Bo is offline: its notice reaches none of his.
    let first = ack(&a.ok(send(room, "in-doubt-1", "did this arrive?")).await);
    assert!(!first.duplicate);
    let seq = first.seq.expect("a send's ack names its seq");

    // Bo comes online, not watching the room; his list counts the message.
    let mut b = Client::new(app.connect_as(&bo).await);
    let mut rooms = bo_rooms(&app, &bo).await;
    let item = rooms.iter().find(|r| r.id == room).unwrap();
    assert_eq!((item.unread, item.last_seq), (1, seq));

    // The client, told nothing certain, retries with the same id: acked as the duplicate
    // it is, and Bo is told of the message.
    let retry = ack(&a.ok(send(room, "in-doubt-1", "did this arrive?")).await);
    assert!(retry.duplicate, "{retry:?}");
    assert_eq!((retry.seq, retry.message_id), (first.seq, first.message_id));
    assert_eq!(next_notice(&mut b).await, (room, seq));

    // A second retry sends it again; a new message follows.
    let again = ack(&a.ok(send(room, "in-doubt-1", "did this arrive?")).await);
    assert!(again.duplicate);
    assert_eq!(next_notice(&mut b).await, (room, seq));
    let next = ack(&a.ok(send(room, "fresh-2", "and this one?")).await);
    assert_eq!(next_notice(&mut b).await, (room, seq + 1));
    assert_eq!(next.seq, Some(seq + 1));
    b.none_within(Duration::from_millis(300), unread_notice)
        .await;

    // Counted as the browser counts them, from the list Bo read: the two notices for the
    // stored message change nothing, the new one adds one — the server's own count.
    let mut counted = NoticeSeqs::default();
    for s in [seq, seq, seq + 1] {
        unread::count(&mut rooms, &mut counted, room, s, false);
    }
    let counted_here = rooms.iter().find(|r| r.id == room).unwrap().unread;
    let on_server = bo_rooms(&app, &bo).await;
    let on_server = on_server.iter().find(|r| r.id == room).unwrap().unread;
    assert_eq!((counted_here, on_server), (2, 2));
}

/// The personal event stream (`GET /api/events`) is a consumer of notices too: it writes
/// each `(room, seq)` once, however often the notice comes.
async fn the_event_stream_writes_a_notice_sent_again_once(app: TestApp) {
    let ana = app.user("us-ana").await;
    let bo = app.user("us-bo").await;
    let room = app.public_room(&ana, "unread-stream").await;
    app.store.join_public(room, bo.user.id).await.unwrap();
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    let mut stream = crate::sse::open(&app, "/api/events", &[crate::sse::bearer(&bo)])
        .await
        .unwrap();

    let first = ack(&a.ok(send(room, "in-doubt-s", "once?")).await);
    for _ in 0..2 {
        let retry = ack(&a.ok(send(room, "in-doubt-s", "once?")).await);
        assert!(retry.duplicate);
    }
    let next = ack(&a.ok(send(room, "fresh-s", "and then")).await);
    let mut seqs = Vec::new();
    while seqs.len() < 2 {
        if let ServerFrame::Personal {
            event: PersonalEvent::Unread { room: r, seq, .. },
        } = stream.expect().await.frame()
        {
            assert_eq!(r, room);
            seqs.push(seq);
        }
    }
    assert_eq!(seqs, [first.seq.unwrap(), next.seq.unwrap()]);
}
