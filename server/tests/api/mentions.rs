//! Mentions over real sockets, on SQLite and on Postgres: a member who is connected but
//! not watching the room gets an unread notice marked as a mention when the message
//! names them (`@handle`) or everyone (`@room`), and a plain one otherwise; the room list
//! counts the mentions still unread; the personal event stream (SSE) replays them marked.

use protocol::{PersonalEvent, ServerFrame};
use std::time::Duration;

use crate::helpers::{Backend, spawn_app_on};
use crate::wsclient::{Client, send, subscribe};

fn unread(f: &ServerFrame) -> Option<(u64, bool)> {
    match f {
        ServerFrame::Personal {
            event: PersonalEvent::Unread { seq, mention, .. },
        } => Some((*seq, *mention)),
        _ => None,
    }
}

async fn unread_notice(c: &mut Client) -> (u64, bool) {
    let f = c.push_where(|f| unread(f).is_some()).await;
    unread(&f).expect("an unread notice")
}

async fn unread_notices_say_who_is_mentioned(backend: Backend) {
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
    // Both are connected elsewhere in the app, not watching the room.
    let mut b = Client::new(app.connect_as(&bo).await);
    let mut c = Client::new(app.connect_as(&cy).await);

    a.ok(send(room, "m1", "hi @Bo, see `@cy`")).await;
    assert_eq!(unread_notice(&mut b).await, (1, true), "@Bo names bo");
    assert_eq!(unread_notice(&mut c).await, (1, false), "code names no one");
    a.ok(send(room, "m2", "standup in 5, @room")).await;
    assert_eq!(unread_notice(&mut b).await, (2, true));
    assert_eq!(unread_notice(&mut c).await, (2, true));
    a.ok(send(room, "m3", "@cy: yours, and mail bo@example.com"))
        .await;
    assert_eq!(
        unread_notice(&mut b).await,
        (3, false),
        "an address is not a mention"
    );
    assert_eq!(unread_notice(&mut c).await, (3, true));

    // A subscriber gets the event itself (and counts the mention from its body).
    b.ok(subscribe(room, Some(3))).await;
    a.ok(send(room, "m4", "@bo again")).await;
    b.none_within(Duration::from_millis(300), |f| unread(f).is_some())
        .await;

    // The room list counts what is still unread; reading clears it.
    let summary = |rooms: Vec<store::RoomSummary>| {
        let s = rooms.into_iter().find(|s| s.room.id == room).unwrap();
        (s.unread, s.mentions)
    };
    assert_eq!(
        summary(app.store.rooms_of(bo.user.id).await.unwrap()),
        (4, 3)
    );
    assert_eq!(
        summary(app.store.rooms_of(cy.user.id).await.unwrap()),
        (4, 2)
    );
    b.ok(serde_json::json!({"type": "mark_read", "room": room, "seq": 4}))
        .await;
    assert_eq!(
        summary(app.store.rooms_of(bo.user.id).await.unwrap()),
        (0, 0)
    );
}

on_both_backends_with_settings!(unread_notices_say_who_is_mentioned);
