//! Reactions over real sockets, on SQLite and on Postgres: they are room events with a
//! seq (live to every subscriber, replayed on resume, in snapshots), they carry the
//! message's whole reaction summary, they are not unread messages, and bad requests get
//! clear codes.

use protocol::ids::{MessageId, RoomId};
use protocol::{ErrorCode, EventKind, MessageView, PersonalEvent, ServerFrame, SnapshotReason};
use std::time::Duration;
use store::{RoomKind, WriteCommand};

use crate::helpers::{Backend, TestApp, TestUser, spawn_app_on};
use crate::wsclient::{Client, assert_error, send, subscribe};

async fn subscribed(app: &TestApp, user: &TestUser, room: RoomId, since: Option<u64>) -> Client {
    let mut c = Client::new(app.connect_as(user).await);
    c.ok(subscribe(room, since)).await;
    c
}

fn reaction(add: bool, room: RoomId, message: MessageId, emoji: &str) -> serde_json::Value {
    let kind = if add {
        "add_reaction"
    } else {
        "remove_reaction"
    };
    serde_json::json!({"type": kind, "room": room, "message_id": message, "emoji": emoji})
}

fn ack_seq(ack: &ServerFrame) -> Option<u64> {
    match ack {
        ServerFrame::Ack { info, .. } => info.seq,
        other => panic!("expected ack, got {other:?}"),
    }
}

/// `(emoji, count, handles)` of a message's reactions.
fn summary(m: &MessageView) -> Vec<(String, u32, Vec<String>)> {
    m.reactions
        .iter()
        .map(|r| {
            let who = r.users.iter().map(|u| u.handle.clone()).collect();
            (r.emoji.clone(), r.count, who)
        })
        .collect()
}

fn entry(emoji: &str, count: u32, who: &[&str]) -> (String, u32, Vec<String>) {
    (
        emoji.into(),
        count,
        who.iter().map(|h| h.to_string()).collect(),
    )
}

/// The next reaction event of `room`: its seq and message.
async fn reaction_event(c: &mut Client, room: RoomId) -> (u64, MessageView) {
    match c
        .push_where(|f| matches!(f, ServerFrame::Event { room: r, kind: EventKind::Reaction, .. } if *r == room))
        .await
    {
        ServerFrame::Event { seq, message, .. } => (seq, message),
        _ => unreachable!(),
    }
}

async fn reactions_reach_every_subscriber_live_with_counts_and_who(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let dee = app.user("dee").await;
    let room = app.public_room(&ana, "general").await;
    app.store.join_public(room, bo.user.id).await.unwrap();
    // A message by someone who never connected to this server: nothing has loaded them
    // yet, and the reaction's event must still name its author.
    let cmid = protocol::names::ClientMsgId::parse("d1").unwrap();
    let body = protocol::names::Body::parse("an old message").unwrap();
    let out = app
        .store
        .write_batch(
            room,
            &[WriteCommand::Send {
                author: dee.user.id,
                client_msg_id: cmid,
                body,
                files: Vec::new(),
            }],
        )
        .await
        .unwrap();
    let old = out[0].as_ref().unwrap().event().unwrap().message.id;

    let mut a = subscribed(&app, &ana, room, Some(1)).await;
    let mut b = subscribed(&app, &bo, room, Some(1)).await;
    // Bo on a second device, not watching the room: told of new messages only.
    let mut b_elsewhere = Client::new(app.connect_as(&bo).await);

    let ack = b.ok(reaction(true, room, old, "👍")).await;
    assert_eq!(ack_seq(&ack), Some(2));
    for c in [&mut a, &mut b] {
        let (seq, message) = reaction_event(c, room).await;
        assert_eq!(seq, 2);
        assert_eq!(message.id, old);
        assert_eq!(message.author.handle, "dee");
        assert_eq!(message.body, "an old message");
        assert_eq!(summary(&message), [entry("👍", 1, &["bo"])]);
    }

    a.ok(reaction(true, room, old, "🎉")).await;
    a.ok(reaction(true, room, old, "👍")).await;
    let (seq, message) = reaction_event(&mut b, room).await;
    assert_eq!(seq, 3);
    assert_eq!(
        summary(&message),
        [entry("👍", 1, &["bo"]), entry("🎉", 1, &["ana"])]
    );
    let (seq, message) = reaction_event(&mut b, room).await;
    assert_eq!(seq, 4);
    let both = [entry("👍", 2, &["bo", "ana"]), entry("🎉", 1, &["ana"])];
    assert_eq!(summary(&message), both);

    for expected in [3, 4] {
        assert_eq!(reaction_event(&mut a, room).await.0, expected);
    }
    // Adding again or removing what is not there changes nothing: no seq, no event.
    let again = b.ok(reaction(true, room, old, "👍")).await;
    assert_eq!(ack_seq(&again), None);
    let absent = b.ok(reaction(false, room, old, "🎉")).await;
    assert_eq!(ack_seq(&absent), None);
    a.none_within(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Event { .. })
    })
    .await;

    let removed = a.ok(reaction(false, room, old, "🎉")).await;
    assert_eq!(ack_seq(&removed), Some(5));
    let (_, message) = reaction_event(&mut b, room).await;
    let now = [entry("👍", 2, &["bo", "ana"])];
    assert_eq!(summary(&message), now);

    // Reactions are not messages: no unread notice, and the unread count stays at one.
    b_elsewhere
        .none_within(Duration::from_millis(300), |f| {
            matches!(
                f,
                ServerFrame::Personal {
                    event: PersonalEvent::Unread { .. }
                }
            )
        })
        .await;
    let unread = app
        .store
        .rooms_of(bo.user.id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.room.id == room)
        .unwrap()
        .unread;
    assert_eq!(unread, 1);

    // A resume replays the reaction events in order, each with the summary as it is now;
    // a snapshot shows the message with its reactions.
    let mut resumed = subscribed(&app, &bo, room, Some(1)).await;
    for expected in 2..=5 {
        let (seq, message) = reaction_event(&mut resumed, room).await;
        assert_eq!(seq, expected);
        assert_eq!(summary(&message), now);
    }
    let mut fresh = subscribed(&app, &bo, room, None).await;
    match fresh
        .push_where(|f| matches!(f, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot {
            reason,
            last_seq,
            messages,
            ..
        } => {
            assert_eq!((reason, last_seq), (SnapshotReason::Initial, 5));
            assert_eq!(summary(&messages[0]), now);
        }
        _ => unreachable!(),
    }
    // And the next message continues the seq after the reactions.
    let ack = a.ok(send(room, "c2", "after the reactions")).await;
    assert_eq!(ack_seq(&ack), Some(6));
}

async fn reactions_are_refused_with_clear_codes(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let eve = app.user("eve").await;
    let room = app.public_room(&ana, "general").await;
    let other = app.public_room(&ana, "other").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    a.ok(subscribe(other, None)).await;
    a.ok(subscribe(secret, None)).await;
    let id = |ack: ServerFrame| match ack {
        ServerFrame::Ack { info, .. } => info.message_id.unwrap(),
        other => panic!("{other:?}"),
    };
    let m = id(a.ok(send(room, "c1", "hello")).await);
    let elsewhere = id(a.ok(send(other, "c1", "over there")).await);
    let private = id(a.ok(send(secret, "c1", "members only")).await);

    // No such message, or one of another room: not_found.
    let unknown = MessageId(uuid::Uuid::now_v7());
    for (target, message) in [(room, unknown), (room, elsewhere), (other, m)] {
        for add in [true, false] {
            let r = a.request(reaction(add, target, message, "👍")).await;
            assert_error(&r, ErrorCode::NotFound);
        }
    }
    // A room one cannot read: subscribing is refused, so reacting is too.
    let mut e = Client::new(app.connect_as(&eve).await);
    assert_error(
        &e.request(subscribe(secret, None)).await,
        ErrorCode::Forbidden,
    );
    let r = e.request(reaction(true, secret, private, "👍")).await;
    assert_error(&r, ErrorCode::NotSubscribed);
    // Not an emoji, or too long: invalid_field.
    for bad in ["lol", "", "<b>", &"👍".repeat(9)] {
        let r = a.request(reaction(true, room, m, bad)).await;
        assert_error(&r, ErrorCode::InvalidField);
    }
    // At most REACTIONS_PER_MESSAGE_MAX different emoji on one message.
    for i in 0..protocol::REACTIONS_PER_MESSAGE_MAX as u32 {
        let e = char::from_u32(0x1F600 + i).unwrap().to_string();
        a.ok(reaction(true, room, m, &e)).await;
    }
    let r = a.request(reaction(true, room, m, "🎉")).await;
    assert_error(&r, ErrorCode::Forbidden);
    // A deleted message takes no reactions (and keeps none).
    a.ok(serde_json::json!({"type": "delete", "room": room, "message_id": m}))
        .await;
    let r = a.request(reaction(true, room, m, "😀")).await;
    assert_error(&r, ErrorCode::Deleted);
    let stored = app.store.message(m).await.unwrap().unwrap();
    assert!(stored.reactions.is_empty());
    // The connection stays usable.
    a.ok(serde_json::json!({"type": "ping"})).await;
}

on_both_backends_with_settings!(
    reactions_reach_every_subscriber_live_with_counts_and_who,
    reactions_are_refused_with_clear_codes,
);
