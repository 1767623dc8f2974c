//! Threads over real sockets, on SQLite and on Postgres: a reply is acked with its seq
//! and reaches every subscriber as an event naming its root; a resume replays it; it
//! sends no unread notice to the room's other members but those it mentions; bad replies
//! get clear codes.

use protocol::ids::{MessageId, RoomId};
use protocol::{ErrorCode, PersonalEvent, ServerFrame};
use std::time::Duration;

use crate::helpers::{Backend, spawn_app_on};
use crate::wsclient::{Client, assert_error, send, subscribe};

fn reply(room: RoomId, root: MessageId, cmid: &str, body: &str) -> serde_json::Value {
    serde_json::json!({"type": "reply", "room": room, "thread": root, "client_msg_id": cmid, "body": body})
}

fn acked(f: &ServerFrame) -> (u64, MessageId) {
    match f {
        ServerFrame::Ack { info, .. } => (info.seq.unwrap(), info.message_id.unwrap()),
        other => panic!("expected an ack, got {other:?}"),
    }
}

async fn replies_are_live_events_of_their_thread_and_resume(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let cy = app.user("cy").await;
    let room = app.public_room(&ana, "general").await;
    for u in [&bo, &cy] {
        app.store.join_public(room, u.user.id).await.unwrap();
    }
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;
    let mut c = Client::new(app.connect_as(&cy).await);
    let (_, root) = acked(&a.ok(send(room, "m1", "lunch?")).await);
    c.push_where(|f| {
        matches!(
            f,
            ServerFrame::Personal {
                event: PersonalEvent::Unread { .. }
            }
        )
    })
    .await;

    let ack = b.ok(reply(room, root, "r1", "yes, at noon")).await;
    let (seq, id) = acked(&ack);
    assert_eq!(seq, 2);
    match a
        .push_where(|f| matches!(f, ServerFrame::Event { seq: 2, .. }))
        .await
    {
        ServerFrame::Event { message, .. } => {
            assert_eq!((message.id, message.thread_root), (id, Some(root)));
            assert_eq!(message.body, "yes, at noon");
        }
        _ => unreachable!(),
    }
    // The same reply again is the original.
    match b.ok(reply(room, root, "r1", "yes, at noon")).await {
        ServerFrame::Ack { info, .. } => assert!(info.duplicate && info.message_id == Some(id)),
        _ => unreachable!(),
    }
    // Not news for the room: Cy, elsewhere, hears of no unread message.
    c.none_within(Duration::from_millis(300), |f| {
        matches!(
            f,
            ServerFrame::Personal {
                event: PersonalEvent::Unread { .. }
            }
        )
    })
    .await;

    // A reply that mentions Cy is news to her: a mention notice.
    let (mention_seq, _) = acked(&b.ok(reply(room, root, "r5", "@cy can you cover?")).await);
    match c
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Personal {
                    event: PersonalEvent::Unread { .. }
                }
            )
        })
        .await
    {
        ServerFrame::Personal {
            event: PersonalEvent::Unread { seq, mention, .. },
        } => assert_eq!((seq, mention), (mention_seq, true)),
        _ => unreachable!(),
    }
    let cy_room = app.store.rooms_of(cy.user.id).await.unwrap().remove(0);
    assert_eq!(
        (cy_room.unread, cy_room.mentions),
        (2, 1),
        "the root and the reply naming her"
    );

    // A resume from before the reply replays it, root named.
    let mut a2 = Client::new(app.connect_as(&ana).await);
    a2.ok(subscribe(room, Some(1))).await;
    match a2
        .push_where(|f| matches!(f, ServerFrame::Event { .. }))
        .await
    {
        ServerFrame::Event { seq, message, .. } => {
            assert_eq!((seq, message.thread_root), (2, Some(root)))
        }
        _ => unreachable!(),
    }
    // The snapshot of a fresh subscribe lists roots only, with their thread.
    let mut a3 = Client::new(app.connect_as(&ana).await);
    a3.ok(subscribe(room, None)).await;
    match a3
        .push_where(|f| matches!(f, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot {
            messages, last_seq, ..
        } => {
            assert_eq!(last_seq, 3);
            assert_eq!(messages.len(), 1);
            let t = messages[0].thread.expect("a summary");
            assert_eq!((t.replies, t.last_reply_seq), (2, 3));
        }
        _ => unreachable!(),
    }

    // Bad replies: a reply's reply, an unknown root, and not subscribed.
    assert_error(
        &b.request(reply(room, id, "r2", "nested")).await,
        ErrorCode::InvalidField,
    );
    let unknown = MessageId(uuid::Uuid::now_v7());
    assert_error(
        &b.request(reply(room, unknown, "r3", "to nothing")).await,
        ErrorCode::NotFound,
    );
    assert_error(
        &c.request(reply(room, root, "r4", "unsubscribed")).await,
        ErrorCode::NotSubscribed,
    );
}

on_both_backends_with_settings!(replies_are_live_events_of_their_thread_and_resume);
