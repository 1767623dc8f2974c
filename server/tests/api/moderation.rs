//! Moderation over real sockets (docs/moderation.md): pins and a moderator's delete reach
//! every subscriber as events; a member removed (and banned) gets nothing more of the room
//! on any node and cannot come back; a site admin made with the real CLI moderates a room
//! they are not in; members who moderate nothing are refused.

use protocol::{ErrorCode, EventKind, NoticeView, PersonalEvent, ServerFrame};
use std::time::Duration;
use store::RoomKind;

use crate::helpers::{Backend, connect_user, spawn_app_on_with, spawn_cluster};
use crate::wsclient::{Client, assert_error, send, subscribe};

fn event_of(frame: &ServerFrame, room: protocol::ids::RoomId) -> bool {
    matches!(frame, ServerFrame::Event { room: r, .. } if *r == room)
}

async fn pins_and_a_moderator_s_delete_reach_every_subscriber(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    ana_ws.ok(subscribe(room, None)).await;
    bo_ws.ok(subscribe(room, None)).await;
    let ServerFrame::Ack { info, .. } = bo_ws.ok(send(room, "b1", "agenda: ship it")).await else {
        unreachable!()
    };
    let message = info.message_id.unwrap();

    let refused = bo_ws
        .request(serde_json::json!({"type": "pin", "room": room, "message_id": message}))
        .await;
    assert_error(&refused, ErrorCode::Forbidden);
    ana_ws
        .ok(serde_json::json!({"type": "pin", "room": room, "message_id": message}))
        .await;
    let pinned = bo_ws
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Event {
                    kind: EventKind::Pinned,
                    ..
                }
            )
        })
        .await;
    let ServerFrame::Event { message: m, .. } = pinned else {
        unreachable!()
    };
    assert_eq!(m.pinned.map(|p| p.by), Some(ana.user.id));
    assert_eq!(app.store.pins(room).await.unwrap().len(), 1);

    ana_ws
        .ok(serde_json::json!({"type": "delete", "room": room, "message_id": message}))
        .await;
    let deleted = bo_ws
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Event {
                    kind: EventKind::Deleted,
                    ..
                }
            )
        })
        .await;
    let ServerFrame::Event { message: m, .. } = deleted else {
        unreachable!()
    };
    assert!(m.deleted && m.removed_by_admin, "{m:?}");
    assert!(m.pinned.is_none(), "a deleted message is unpinned");
    assert!(app.store.pins(room).await.unwrap().is_empty());
}

async fn a_banned_member_is_cut_off_at_once_and_cannot_come_back(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let cy = app.user("cy").await;
    let room = app.public_room(&ana, "general").await;
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut cy_ws = Client::new(app.connect_as(&cy).await);
    ana_ws.ok(subscribe(room, None)).await;
    cy_ws.ok(subscribe(room, None)).await;

    let refused = cy_ws
        .request(serde_json::json!({"type": "remove_member", "room": room, "user": ana.user.id}))
        .await;
    assert_error(&refused, ErrorCode::Forbidden);
    ana_ws
        .ok(serde_json::json!({"type": "remove_member", "room": room, "user": cy.user.id, "ban": true}))
        .await;
    let notice = ana_ws.push_where(|f| event_of(f, room)).await;
    let ServerFrame::Event { message, .. } = notice else {
        unreachable!()
    };
    assert_eq!(
        message.notice.as_deref(),
        Some(&NoticeView::MemberBanned { user: cy.user.id })
    );
    assert_eq!(message.body, "");
    cy_ws
        .push_where(|f| {
            matches!(f, ServerFrame::Personal { event: PersonalEvent::Membership { room: r, joined: false } } if *r == room)
        })
        .await;
    ana_ws.ok(send(room, "a1", "after the ban")).await;
    cy_ws
        .none_within(Duration::from_millis(500), |f| event_of(f, room))
        .await;
    let resubscribe = cy_ws.request(subscribe(room, None)).await;
    assert_error(&resubscribe, ErrorCode::Forbidden);

    ana_ws
        .ok(serde_json::json!({"type": "unban", "room": room, "user": cy.user.id}))
        .await;
    cy_ws.ok(subscribe(room, None)).await;
    cy_ws.ok(send(room, "c1", "back")).await;
}

async fn roles_change_as_the_rules_say(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.room(&ana, RoomKind::Private, "staff").await;
    app.store
        .invite(room, ana.user.id, bo.user.id)
        .await
        .unwrap();
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    bo_ws.ok(subscribe(room, None)).await;
    let set_role = |user: protocol::ids::UserId, role: &str| serde_json::json!({"type": "set_role", "room": room, "user": user, "role": role});
    let refused = bo_ws.request(set_role(ana.user.id, "member")).await;
    assert_error(&refused, ErrorCode::Forbidden);
    assert_error(
        &ana_ws.request(set_role(bo.user.id, "owner")).await,
        ErrorCode::InvalidField,
    );
    ana_ws.ok(set_role(bo.user.id, "admin")).await;
    // The change is an event in the room's order: the member hears of it at once.
    let ServerFrame::Event { seq, message, .. } = bo_ws.push_where(|f| event_of(f, room)).await
    else {
        unreachable!()
    };
    assert_eq!(seq, 1);
    assert_eq!(message.author.id, ana.user.id);
    assert_eq!(
        message.notice.as_deref(),
        Some(&NoticeView::RoleChanged {
            user: bo.user.id,
            role: protocol::RoleName::Admin
        })
    );
    // Already so: acked, no event, no seq.
    match ana_ws.ok(set_role(bo.user.id, "admin")).await {
        ServerFrame::Ack { info, .. } => assert_eq!(info.seq, None),
        other => panic!("{other:?}"),
    }
    bo_ws
        .none_within(Duration::from_millis(300), |f| event_of(f, room))
        .await;
    // A resume from before replays it.
    let mut late = Client::new(app.connect_as(&ana).await);
    late.ok(subscribe(room, Some(0))).await;
    let ServerFrame::Event { message, .. } = late.push_where(|f| event_of(f, room)).await else {
        unreachable!()
    };
    assert!(matches!(
        message.notice.as_deref(),
        Some(NoticeView::RoleChanged { .. })
    ));
    assert_eq!(
        app.store
            .membership(room, bo.user.id)
            .await
            .unwrap()
            .unwrap()
            .role,
        store::Role::Admin
    );
}

async fn a_room_s_settings_change_in_its_order_and_an_archive_is_read_only(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    ana_ws.ok(subscribe(room, None)).await;
    bo_ws.ok(subscribe(room, None)).await;

    let rename = serde_json::json!({"type": "update_room", "room": room, "name": "Design", "topic": "pixels"});
    assert_error(&bo_ws.request(rename.clone()).await, ErrorCode::Forbidden);
    ana_ws.ok(rename).await;
    let notice = bo_ws.push_where(|f| event_of(f, room)).await;
    let ServerFrame::Event { message, .. } = notice else {
        unreachable!()
    };
    let Some(NoticeView::RoomUpdated { changes }) = message.notice.as_deref().cloned() else {
        panic!("a notice: {message:?}");
    };
    assert_eq!(changes.name.as_deref(), Some("design"));
    assert_eq!(changes.topic.as_deref(), Some("pixels"));
    let stored = app.store.room(room).await.unwrap().unwrap();
    assert_eq!(stored.name.unwrap().as_str(), "design");

    let bad =
        serde_json::json!({"type": "update_room", "room": room, "description": "x".repeat(1001)});
    assert_error(&ana_ws.request(bad).await, ErrorCode::InvalidField);

    ana_ws
        .ok(serde_json::json!({"type": "update_room", "room": room, "archived": true}))
        .await;
    bo_ws.push_where(|f| event_of(f, room)).await;
    assert_error(
        &bo_ws.request(send(room, "b1", "anyone?")).await,
        ErrorCode::Forbidden,
    );
    ana_ws
        .ok(serde_json::json!({"type": "update_room", "room": room, "archived": false}))
        .await;
    bo_ws.ok(send(room, "b2", "back again")).await;
}

on_both_backends_with_settings!(
    a_room_s_settings_change_in_its_order_and_an_archive_is_read_only,
    pins_and_a_moderator_s_delete_reach_every_subscriber,
    a_banned_member_is_cut_off_at_once_and_cannot_come_back,
    roles_change_as_the_rules_say,
);

/// A member removed through one node loses the room on the other at once: nothing sent
/// after the removal reaches them there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_gets_nothing_more_of_the_room_on_any_node() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let (one, two) = (&cluster.nodes[0], &cluster.nodes[1]);
    let ana = one.user("ana").await;
    let cy = one.user("cy").await;
    let room = one.room(&ana, RoomKind::Private, "secret").await;
    one.store
        .invite(room, ana.user.id, cy.user.id)
        .await
        .unwrap();
    let mut cy_ws = Client::new(connect_user(two.addr, &cy).await);
    cy_ws.ok(subscribe(room, None)).await;
    let mut ana_ws = Client::new(connect_user(one.addr, &ana).await);
    ana_ws.ok(subscribe(room, None)).await;
    ana_ws.ok(send(room, "a1", "before")).await;
    cy_ws.events(room, 1).await;

    ana_ws
        .ok(serde_json::json!({"type": "remove_member", "room": room, "user": cy.user.id}))
        .await;
    cy_ws
        .push_where(|f| {
            matches!(f, ServerFrame::Personal { event: PersonalEvent::Membership { room: r, joined: false } } if *r == room)
        })
        .await;
    ana_ws.ok(send(room, "a2", "after: not for cy")).await;
    cy_ws
        .none_within(Duration::from_millis(700), |f| {
            matches!(f, ServerFrame::Event { room: r, message, .. } if *r == room && message.body.contains("not for cy"))
        })
        .await;
    assert_error(
        &cy_ws.request(send(room, "c1", "hello?")).await,
        ErrorCode::Forbidden,
    );
    assert_error(
        &cy_ws.request(subscribe(room, None)).await,
        ErrorCode::Forbidden,
    );
}

/// A site admin, made with the real CLI, deletes in a private room they are not in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_admin_made_with_the_cli_moderates_rooms_they_are_not_in() {
    let app = crate::helpers::spawn_app().await;
    let ana = app.user("ana").await;
    let root = app.user("root").await;
    let room = app.room(&ana, RoomKind::Private, "secret").await;
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    ana_ws.ok(subscribe(room, None)).await;
    let ServerFrame::Ack { info, .. } = ana_ws.ok(send(room, "a1", "spam")).await else {
        unreachable!()
    };
    let delete = serde_json::json!({"type": "delete", "room": room, "message_id": info.message_id});
    let mut root_ws = Client::new(app.connect_as(&root).await);
    assert_error(
        &root_ws.request(delete.clone()).await,
        ErrorCode::NotSubscribed,
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(["user", "admin", "root"])
        .env("CONFAB_DATA_DIR", app.data_dir())
        .env_remove("DATABASE_URL")
        .env("CONFAB_LOG", "warn")
        .output()
        .expect("run confab user admin");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("@root is now a site admin"));

    root_ws.ok(delete).await;
    let deleted = ana_ws
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Event {
                    kind: EventKind::Deleted,
                    ..
                }
            )
        })
        .await;
    let ServerFrame::Event { message, .. } = deleted else {
        unreachable!()
    };
    assert!(message.removed_by_admin);
}

/// An invite link made over HTTP takes a signed-in person into a private room; a
/// non-member cannot make one, and a signed-out visitor is asked to sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_link_takes_a_signed_in_person_into_a_private_room() {
    let app = crate::helpers::spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.room(&ana, RoomKind::Private, "secret").await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let refused = no_redirects
        .post(app.url("/invites"))
        .query(&[("room", room.to_string())])
        .bearer_auth(&bo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "only members make links");
    let made = no_redirects
        .post(app.url("/invites"))
        .query(&[("room", room.to_string()), ("hours", "24".to_string())])
        .bearer_auth(&ana.token)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let body: serde_json::Value = made.json().await.unwrap();
    let url = body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/join/"), "{url}");
    let expires = body["expires_at"].as_i64().unwrap();
    let day = 24 * 3_600_000;
    assert!(
        (expires - store::now_millis() - day).abs() < 60_000,
        "a day from now"
    );

    let signed_out = no_redirects.get(app.url(&url)).send().await.unwrap();
    assert_eq!(signed_out.status(), 401);
    assert!(signed_out.text().await.unwrap().contains("Sign in to join"));
    assert!(
        app.store
            .membership(room, bo.user.id)
            .await
            .unwrap()
            .is_none()
    );

    let joined = no_redirects
        .get(app.url(&url))
        .bearer_auth(&bo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 303);
    assert_eq!(joined.headers()["location"], format!("/r/{room}").as_str());
    assert!(
        app.store
            .membership(room, bo.user.id)
            .await
            .unwrap()
            .is_some()
    );
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    bo_ws.ok(subscribe(room, None)).await;
    let bogus = no_redirects
        .get(app.url("/join/cfb_not-a-link"))
        .bearer_auth(&bo.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), 404);
}
