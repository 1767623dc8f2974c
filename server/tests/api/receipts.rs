//! Read receipts over real sockets, on SQLite and on Postgres: in a small room a
//! subscriber gets everyone else's read marker on subscribe (and again on a resumed
//! subscribe), and each marker move live; the reader's own connections are not told of
//! their own receipt; a room bigger than `RECEIPTS_MEMBERS_MAX` shares none.

use protocol::ids::{RoomId, UserId};
use protocol::{RECEIPTS_MEMBERS_MAX, ServerFrame};
use std::time::Duration;
use store::RoomKind;

use crate::helpers::{Backend, spawn_app_on};
use crate::wsclient::{Client, send, subscribe};

fn is_receipts(f: &ServerFrame) -> bool {
    matches!(f, ServerFrame::Receipts { .. })
}

/// The `(user, seq)` pairs of the next `receipts` frame of `room`.
async fn receipts(c: &mut Client, room: RoomId) -> Vec<(UserId, u64)> {
    match c
        .push_where(|f| matches!(f, ServerFrame::Receipts { room: r, .. } if *r == room))
        .await
    {
        ServerFrame::Receipts { receipts, .. } => {
            let mut got: Vec<_> = receipts.iter().map(|r| (r.user.id, r.seq)).collect();
            got.sort();
            got
        }
        _ => unreachable!(),
    }
}

fn mark_read(room: RoomId, seq: u64) -> serde_json::Value {
    serde_json::json!({"type": "mark_read", "room": room, "seq": seq})
}

async fn small_rooms_share_read_receipts_live_and_on_resume(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let cy = app.user("cy").await;
    let room = app.room(&ana, RoomKind::Private, "plans").await;
    for u in [&bo, &cy] {
        app.store
            .invite(room, ana.user.id, u.user.id)
            .await
            .unwrap();
    }
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    let mut others = vec![(bo.user.id, 0), (cy.user.id, 0)];
    others.sort();
    assert_eq!(receipts(&mut a, room).await, others, "everyone but oneself");
    a.ok(send(room, "m1", "one")).await;
    a.ok(send(room, "m2", "two")).await;

    // Bo reads on one device: Ana hears it at once; Bo's other device gets its own
    // personal `read`, not a receipt.
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;
    let mut b_phone = Client::new(app.connect_as(&bo).await);
    b_phone.ok(subscribe(room, None)).await;
    receipts(&mut b_phone, room).await;
    b.ok(mark_read(room, 1)).await;
    assert_eq!(receipts(&mut a, room).await, vec![(bo.user.id, 1)]);
    b.ok(mark_read(room, 2)).await;
    assert_eq!(receipts(&mut a, room).await, vec![(bo.user.id, 2)]);
    b_phone
        .none_within(Duration::from_millis(300), |f| {
            matches!(f, ServerFrame::Receipts { receipts, .. } if receipts.iter().any(|r| r.user.id == bo.user.id))
        })
        .await;

    // Ana reconnects and resumes: the receipts come again, as they stand.
    drop(a);
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, Some(2))).await;
    let mut now = vec![(bo.user.id, 2), (cy.user.id, 0)];
    now.sort();
    assert_eq!(receipts(&mut a, room).await, now);
    // Bo sees Ana's marker too (she has read nothing yet).
    let got = receipts(&mut b, room).await;
    assert!(got.contains(&(ana.user.id, 0)), "{got:?}");
}

async fn big_rooms_share_no_receipts(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "crowd").await;
    for n in 0..RECEIPTS_MEMBERS_MAX {
        let u = app.user(&format!("member{n}")).await;
        app.store.join_public(room, u.user.id).await.unwrap();
    }
    let bo = app.user("bo").await;
    app.store.join_public(room, bo.user.id).await.unwrap();
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(room, None)).await;
    a.ok(send(room, "m1", "hello crowd")).await;
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;
    b.ok(mark_read(room, 1)).await;
    a.none_within(Duration::from_millis(400), is_receipts).await;
    b.none_within(Duration::from_millis(100), is_receipts).await;
}

on_both_backends_with_settings!(
    small_rooms_share_read_receipts_live_and_on_resume,
    big_rooms_share_no_receipts,
);
