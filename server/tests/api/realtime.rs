//! The gateway's promises over real sockets: order, acks, resume, snapshots, idempotent
//! retries, edits and deletes, membership, presence, typing, slow consumers, and clear
//! errors for bad requests. The message-path cases run on SQLite and on Postgres.

use protocol::ids::RoomId;
use protocol::{ErrorCode, PersonalEvent, ServerFrame, SnapshotReason, Status};
use std::time::Duration;
use store::RoomKind;

use crate::helpers::{Backend, TestApp, expect_close, expect_end, spawn_app_with};
use crate::wsclient::{Client, assert_error, send, subscribe};

async fn subscribed(
    app: &TestApp,
    user: &crate::helpers::TestUser,
    room: RoomId,
    since: Option<u64>,
) -> Client {
    let mut c = Client::new(app.connect_as(user).await);
    c.ok(subscribe(room, since)).await;
    c
}

fn seq_of(ack: &ServerFrame) -> u64 {
    match ack {
        ServerFrame::Ack { info, .. } => info.seq.expect("ack with seq"),
        other => panic!("expected ack, got {other:?}"),
    }
}

// --- cases run on both backends ------------------------------------------------------------

async fn messages_reach_every_subscriber_in_order_with_acks(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    assert!(matches!(
        b.push_where(|f| matches!(f, ServerFrame::Snapshot { .. }))
            .await,
        ServerFrame::Snapshot {
            reason: SnapshotReason::Initial,
            last_seq: 0,
            ..
        }
    ));
    for i in 1..=5 {
        let ack = a
            .ok(send(room, &format!("c{i}"), &format!("hello {i}")))
            .await;
        assert_eq!(seq_of(&ack), i);
    }
    let got = b.events(room, 5).await;
    assert_eq!(
        got,
        (1..=5)
            .map(|i| (i, format!("hello {i}")))
            .collect::<Vec<_>>()
    );
    // The sender sees its own messages too (one event each), with the author named.
    match a
        .push_where(|f| matches!(f, ServerFrame::Event { .. }))
        .await
    {
        ServerFrame::Event {
            seq: 1, message, ..
        } => assert_eq!(message.author.handle, "ana"),
        other => panic!("{other:?}"),
    }
}

async fn concurrent_senders_produce_one_gap_free_order(app: TestApp) {
    let owner = app.user("owner").await;
    let room = app.public_room(&owner, "busy").await;
    let mut watcher = subscribed(&app, &owner, room, None).await;
    let mut senders = Vec::new();
    for s in 0..4 {
        let user = app.user(&format!("sender{s}")).await;
        let mut c = subscribed(&app, &user, room, None).await;
        senders.push(tokio::spawn(async move {
            for i in 0..25 {
                c.ok(send(room, &format!("s{s}-{i}"), &format!("{s}:{i}")))
                    .await;
            }
        }));
    }
    for t in senders {
        t.await.unwrap();
    }
    let got = watcher.events(room, 100).await;
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=100).collect::<Vec<_>>(),
        "every event once, in seq order"
    );
    for s in 0..4 {
        let mine: Vec<&String> = got
            .iter()
            .map(|(_, b)| b)
            .filter(|b| b.starts_with(&format!("{s}:")))
            .collect();
        let expected: Vec<String> = (0..25).map(|i| format!("{s}:{i}")).collect();
        assert_eq!(
            mine,
            expected.iter().collect::<Vec<_>>(),
            "one sender's messages keep their order"
        );
    }
}

async fn resume_after_a_dropped_connection_loses_and_doubles_nothing(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    for i in 1..=3 {
        a.ok(send(room, &format!("c{i}"), &format!("m{i}"))).await;
    }
    let seen = b.events(room, 3).await;
    let last_seen = seen.last().unwrap().0;
    drop(b); // the network drops: no close frame
    for i in 4..=10 {
        a.ok(send(room, &format!("c{i}"), &format!("m{i}"))).await;
    }
    let mut b = subscribed(&app, &bo, room, Some(last_seen)).await;
    a.ok(send(room, "c11", "m11")).await;
    let got = b.events(room, 8).await;
    assert_eq!(
        got,
        (4..=11).map(|i| (i, format!("m{i}"))).collect::<Vec<_>>()
    );
    b.none_within(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Event { .. })
    })
    .await;
}

async fn a_retried_send_is_acked_with_the_original_and_delivered_once(app: TestApp) {
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let first = a.ok(send(room, "same-id", "once")).await;
    let again = a.ok(send(room, "same-id", "once")).await;
    match (&first, &again) {
        (ServerFrame::Ack { info: i1, .. }, ServerFrame::Ack { info: i2, .. }) => {
            assert_eq!((i1.seq, i1.message_id), (i2.seq, i2.message_id));
            assert!(!i1.duplicate && i2.duplicate);
        }
        other => panic!("{other:?}"),
    }
    a.ok(send(room, "next", "after")).await;
    assert_eq!(
        a.events(room, 2).await,
        vec![(1, "once".into()), (2, "after".into())]
    );
}

async fn edits_and_deletes_propagate_and_only_the_author_may_make_them(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    let ack = a.ok(send(room, "c1", "helo")).await;
    let ServerFrame::Ack { info, .. } = ack else {
        unreachable!()
    };
    let id = info.message_id.unwrap();
    let refused = b
        .request(
            serde_json::json!({"type": "edit", "room": room, "message_id": id, "body": "mine now"}),
        )
        .await;
    assert_error(&refused, ErrorCode::NotAuthor);
    a.ok(serde_json::json!({"type": "edit", "room": room, "message_id": id, "body": "hello"}))
        .await;
    a.ok(serde_json::json!({"type": "delete", "room": room, "message_id": id}))
        .await;
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        if let ServerFrame::Event {
            seq, kind, message, ..
        } = b.push().await
        {
            kinds.push((seq, kind, message.body, message.deleted));
        }
    }
    use protocol::EventKind::*;
    assert_eq!(
        kinds,
        vec![
            (1, Message, "helo".into(), false),
            (2, Edited, "hello".into(), false),
            (3, Deleted, String::new(), true)
        ]
    );
}

on_both_backends!(
    messages_reach_every_subscriber_in_order_with_acks,
    concurrent_senders_produce_one_gap_free_order,
    resume_after_a_dropped_connection_loses_and_doubles_nothing,
    a_retried_send_is_acked_with_the_original_and_delivered_once,
    edits_and_deletes_propagate_and_only_the_author_may_make_them,
);

// --- gateway behaviour (SQLite) --------------------------------------------------------------

/// Sends `per_sender` messages of `body` from each of `senders` new users at once, so that
/// several megabytes reach the room quickly (loopback send buffers grow to 4 MiB; a client
/// that does not read only blocks the server past that). Returns the total sent.
async fn flood(app: &TestApp, room: RoomId, senders: usize, per_sender: usize, body: &str) -> u64 {
    let mut tasks = Vec::new();
    for s in 0..senders {
        let user = app.user(&format!("flooder{s}")).await;
        let mut c = subscribed(app, &user, room, None).await;
        let body = body.to_string();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_sender {
                c.ok(send(room, &format!("f{s}-{i}"), &body)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (senders * per_sender) as u64
}

async fn a_gap_larger_than_the_resume_bound_gets_a_snapshot(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on_with(backend, |s| s.resume_max_events = 5).await
    else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    for i in 1..=12 {
        a.ok(send(room, &format!("c{i}"), &format!("m{i}"))).await;
    }
    let mut late = subscribed(&app, &ana, room, Some(2)).await;
    match late
        .push_where(|f| matches!(f, ServerFrame::Snapshot { .. }))
        .await
    {
        ServerFrame::Snapshot {
            reason,
            last_seq,
            messages,
            ..
        } => {
            assert_eq!((reason, last_seq), (SnapshotReason::GapTooLarge, 12));
            assert_eq!(messages.last().unwrap().body, "m12");
        }
        _ => unreachable!(),
    }
    a.ok(send(room, "c13", "m13")).await;
    assert_eq!(
        late.events(room, 1).await,
        vec![(13, "m13".into())],
        "live after the snapshot, no gap"
    );
}

async fn private_rooms_and_dms_are_closed_to_outsiders(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let eve = app.user("eve").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let mut a = subscribed(&app, &ana, secret, None).await;
    a.ok(send(secret, "c1", "for members only")).await;
    let mut e = Client::new(app.connect_as(&eve).await);
    let r = e.request(subscribe(secret, Some(0))).await;
    assert_error(&r, ErrorCode::Forbidden);
    let r = e.request(send(secret, "x", "let me in")).await;
    assert_error(&r, ErrorCode::NotSubscribed);
    let r = e
        .request(serde_json::json!({"type": "history", "room": secret}))
        .await;
    assert_error(&r, ErrorCode::NotSubscribed);
    let r = e
        .request(subscribe(RoomId(uuid::Uuid::now_v7()), None))
        .await;
    assert_error(&r, ErrorCode::NotFound);

    // A DM between ana and bo: both are told, eve cannot read it.
    let dm = match a
        .ok(serde_json::json!({"type": "open_dm", "user": bo.user.id}))
        .await
    {
        ServerFrame::Ack { info, .. } => info.room.unwrap(),
        _ => unreachable!(),
    };
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(dm, None)).await;
    a.ok(subscribe(dm, None)).await;
    a.ok(send(dm, "d1", "just us")).await;
    assert_eq!(b.events(dm, 1).await, vec![(1, "just us".into())]);
    let r = e.request(subscribe(dm, None)).await;
    assert_error(&r, ErrorCode::Forbidden);
    e.none_within(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Event { .. } | ServerFrame::Snapshot { .. })
    })
    .await;
}

async fn open_dm_and_read_markers_reach_all_of_a_users_devices(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let mut a1 = Client::new(app.connect_as(&ana).await);
    let mut a2 = Client::new(app.connect_as(&ana).await);
    let mut b = Client::new(app.connect_as(&bo).await);
    let dm = match a1
        .ok(serde_json::json!({"type": "open_dm", "user": bo.user.id}))
        .await
    {
        ServerFrame::Ack { info, .. } => info.room.unwrap(),
        _ => unreachable!(),
    };
    for c in [&mut a2, &mut b] {
        match c
            .push_where(|f| matches!(f, ServerFrame::Personal { .. }))
            .await
        {
            ServerFrame::Personal {
                event: PersonalEvent::DmOpened { room, .. },
            } => assert_eq!(room, dm),
            other => panic!("{other:?}"),
        }
    }
    b.ok(subscribe(dm, None)).await;
    b.ok(send(dm, "b1", "hi ana")).await;
    let ack = a1
        .ok(serde_json::json!({"type": "mark_read", "room": dm, "seq": 1}))
        .await;
    assert_eq!(seq_of(&ack), 1);
    match a2
        .push_where(|f| {
            matches!(
                f,
                ServerFrame::Personal {
                    event: PersonalEvent::Read { .. }
                }
            )
        })
        .await
    {
        ServerFrame::Personal {
            event: PersonalEvent::Read { room, seq },
        } => assert_eq!((room, seq), (dm, 1)),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn presence_counts_devices_and_holds_leaves_for_a_grace_period() {
    let app = spawn_app_with(|s| s.presence_grace_ms = 300).await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut b = subscribed(&app, &bo, room, None).await;
    let joined = |f: &ServerFrame| matches!(f, ServerFrame::PresenceDiff { joined, .. } if joined.iter().any(|u| u.handle == "ana"));
    let left =
        |f: &ServerFrame| matches!(f, ServerFrame::PresenceDiff { left, .. } if !left.is_empty());
    let tab1 = subscribed(&app, &ana, room, None).await;
    let mut tab2 = subscribed(&app, &ana, room, None).await;
    match b.push_where(joined).await {
        ServerFrame::PresenceDiff { joined, .. } => {
            assert_eq!(
                joined.iter().filter(|u| u.handle == "ana").count(),
                1,
                "two tabs, one join"
            )
        }
        _ => unreachable!(),
    }
    match tab2
        .push_where(|f| matches!(f, ServerFrame::Presence { .. }))
        .await
    {
        ServerFrame::Presence { users, .. } => {
            let ana_entry = users.iter().find(|e| e.user.handle == "ana").unwrap();
            assert_eq!(ana_entry.devices, 2, "two tabs, one user");
        }
        _ => unreachable!(),
    }
    drop(tab1);
    b.none_within(Duration::from_millis(600), |f| joined(f) || left(f))
        .await;
    drop(tab2);
    match b.push_where(left).await {
        ServerFrame::PresenceDiff { left, .. } => assert_eq!(left, vec![ana.user.id]),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn typing_reaches_others_only_and_expires_by_itself() {
    let app = spawn_app_with(|s| s.typing_ttl_ms = 300).await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    let is_typing = |f: &ServerFrame| matches!(f, ServerFrame::Typing { .. });
    match b.push_where(is_typing).await {
        ServerFrame::Typing { user, active, .. } => {
            assert_eq!((user.handle.as_str(), active), ("ana", true))
        }
        _ => unreachable!(),
    }
    match b.push_where(is_typing).await {
        ServerFrame::Typing { active, .. } => {
            assert!(!active, "the repeat was throttled; then it expired")
        }
        _ => unreachable!(),
    }
    a.none_within(Duration::from_millis(500), is_typing).await;
}

#[tokio::test]
async fn typing_says_how_long_to_show_it_and_is_renewed_while_it_goes_on() {
    let app = spawn_app_with(|s| s.typing_ttl_ms = 400).await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    let is_typing = |f: &ServerFrame| matches!(f, ServerFrame::Typing { .. });
    a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    match b.push_where(is_typing).await {
        ServerFrame::Typing { active, ttl_ms, .. } => {
            assert!(active);
            assert_eq!(ttl_ms, Some(400), "a start says how long it lasts");
        }
        _ => unreachable!(),
    }
    // Still typing past half the time to live: the room hears it again, before any stop.
    tokio::time::sleep(Duration::from_millis(250)).await;
    a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    match b.push_where(is_typing).await {
        ServerFrame::Typing { active, ttl_ms, .. } => {
            assert!(active, "renewed, not stopped");
            assert_eq!(ttl_ms, Some(400));
        }
        _ => unreachable!(),
    }
    // Then silence: the stop carries no time.
    match b.push_where(is_typing).await {
        ServerFrame::Typing { active, ttl_ms, .. } => {
            assert!(!active);
            assert_eq!(ttl_ms, None);
        }
        _ => unreachable!(),
    }
}

async fn a_slow_reader_catches_up_from_the_store_without_gaps(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on_with(backend, |s| {
        s.queue_frames = 128;
        s.stuck_secs = 60;
        s.rate_per_sec = 10_000;
        s.rate_burst = 10_000;
    })
    .await
    else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut slow = Client::new(app.connect_slow(&bo).await);
    slow.ok(subscribe(room, None)).await;
    // bo stops reading while others send far more than his queue and socket buffers hold.
    let n = flood(&app, room, 4, 450, &"x".repeat(3500)).await;
    assert!(
        app.gateway.catch_ups() > 0,
        "the slow reader was switched to catch-up"
    );
    let got = slow.events(room, n as usize).await;
    let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=n).collect::<Vec<_>>(),
        "all of them, in order, none twice"
    );
    let _ = ana;
}

#[tokio::test]
async fn a_reader_stuck_past_the_bound_is_closed_with_4101() {
    let app = spawn_app_with(|s| {
        s.queue_frames = 128;
        s.stuck_secs = 1;
        s.rate_per_sec = 10_000;
        s.rate_burst = 10_000;
    })
    .await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut stuck = Client::new(app.connect_slow(&bo).await);
    stuck.ok(subscribe(room, None)).await;
    let sent = flood(&app, room, 4, 450, &"y".repeat(3500)).await;
    // Stay away long enough for the server's write to stay blocked past the bound.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The server closes: with 4101 if its close frame still fits, else by ending the
    // connection. Either way it does not keep a stuck client forever.
    if let Some(close) = expect_end(&mut stuck.ws).await {
        assert_eq!(
            u16::from(close.code),
            protocol::CloseCode::SlowConsumer.code()
        );
    }
    // Everyone else carries on: a reading client is served as usual.
    let mut a = subscribed(&app, &ana, room, Some(sent)).await;
    a.ok(send(room, "after", "still fast")).await;
    assert_eq!(
        a.events(room, 1).await,
        vec![(sent + 1, "still fast".into())]
    );
}

async fn bad_requests_get_clear_errors_and_the_connection_stays_usable(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on_with(backend, |s| {
        s.max_rooms = 2;
        s.rate_per_sec = 1;
        s.rate_burst = 12;
    })
    .await
    else {
        return;
    };
    let ana = app.user("ana").await;
    let r1 = app.public_room(&ana, "one").await;
    let r2 = app.public_room(&ana, "two").await;
    let r3 = app.public_room(&ana, "three").await;
    let mut a = subscribed(&app, &ana, r1, None).await;
    a.ok(subscribe(r2, None)).await;
    let r = a.request(subscribe(r3, None)).await;
    assert_error(&r, ErrorCode::TooManyRooms);
    let r = a.request(send(r3, "c", "not subscribed")).await;
    assert_error(&r, ErrorCode::NotSubscribed);
    let r = a.request(send(r1, "c", "   ")).await;
    assert!(
        matches!(&r, ServerFrame::Error { code: ErrorCode::InvalidField, message, .. } if message.contains("empty")),
        "{r:?}"
    );
    let r = a.request(send(r1, "c", &"z".repeat(4001))).await;
    assert!(
        matches!(&r, ServerFrame::Error { code: ErrorCode::InvalidField, message, .. } if message.contains("4000")),
        "{r:?}"
    );
    let r = a.request(serde_json::json!({"type": "edit", "room": r1, "message_id": uuid::Uuid::now_v7(), "body": "x"})).await;
    assert_error(&r, ErrorCode::NotFound);
    // Flood: past the burst, requests are refused with rate_limited, pings still answered.
    let mut limited = false;
    for i in 0..20 {
        if let ServerFrame::Error {
            code: ErrorCode::RateLimited,
            ..
        } = a.request(send(r1, &format!("f{i}"), "flood")).await
        {
            limited = true;
            break;
        }
    }
    assert!(limited, "the flood was limited");
    a.ok(serde_json::json!({"type": "ping"})).await;
}

async fn history_pages_back_through_a_room(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on_with(backend, |s| {
        s.rate_per_sec = 10_000;
        s.rate_burst = 10_000;
    })
    .await
    else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    for i in 1..=30 {
        a.ok(send(room, &format!("c{i}"), &format!("m{i}"))).await;
    }
    let page = a
        .ok(serde_json::json!({"type": "history", "room": room, "before_seq": 21, "limit": 10}))
        .await;
    match page {
        ServerFrame::History {
            messages, has_more, ..
        } => {
            assert_eq!(
                messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
                (11..=20).collect::<Vec<_>>()
            );
            assert!(has_more);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn sockets_authenticate_by_token_or_by_cookie_from_our_own_origin() {
    let app = crate::helpers::spawn_app().await;
    // No credentials, a wrong token: 4001.
    for headers in [vec![], vec![("authorization", "Bearer cfb_wrong")]] {
        let mut ws = app
            .connect_headers(Some(protocol::SUBPROTOCOL), &headers)
            .await;
        let close = expect_close(&mut ws).await;
        assert_eq!(u16::from(close.code), 4001);
    }
    // A browser session: the cookie works from our own page only.
    let resp = app.sign_up("carol", "correct horse battery").await;
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().ok().filter(|c| c.starts_with("confab_session=")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let ours = format!("http://{}", app.addr);
    let (_ws, first) = app
        .connect_with(&[("cookie", &cookie), ("origin", &ours)])
        .await;
    assert!(
        matches!(first, ServerFrame::Welcome { ref user, .. } if user.handle == "carol"),
        "{first:?}"
    );
    let mut ws = app
        .connect_headers(
            Some(protocol::SUBPROTOCOL),
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 4003);
    let mut ws = app
        .connect_headers(Some(protocol::SUBPROTOCOL), &[("cookie", &cookie)])
        .await;
    assert_eq!(
        u16::from(expect_close(&mut ws).await.code),
        4003,
        "no Origin, no cookie auth"
    );
}

#[tokio::test]
async fn statuses_are_shared_live_and_idle_users_turn_away_by_themselves() {
    let app = spawn_app_with(|s| s.idle_away_secs = 1).await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let mut b = subscribed(&app, &bo, room, None).await;
    let updated = |handle: &'static str| move |f: &ServerFrame| matches!(f, ServerFrame::PresenceDiff { updated, .. } if updated.iter().any(|e| e.user.handle == handle));
    let status_of = |f: ServerFrame| match f {
        ServerFrame::PresenceDiff { updated, .. } => (updated[0].status, updated[0].text.clone()),
        _ => unreachable!(),
    };

    // Idle for a second: ana turns away by herself; her next request brings her back.
    assert_eq!(
        status_of(b.push_where(updated("ana")).await),
        (Status::Away, None)
    );
    a.ok(serde_json::json!({"type": "typing", "room": room}))
        .await;
    assert_eq!(
        status_of(b.push_where(updated("ana")).await),
        (Status::Active, None)
    );

    // A chosen status with a line reaches others live and is listed for newcomers.
    a.ok(serde_json::json!({"type": "set_status", "status": "dnd", "text": "  deep work  "}))
        .await;
    assert_eq!(
        status_of(b.push_where(updated("ana")).await),
        (Status::Dnd, Some("deep work".into()))
    );
    let cy = app.user("cy").await;
    let mut c = Client::new(app.connect_as(&cy).await);
    c.ok(subscribe(room, None)).await;
    match c
        .push_where(|f| matches!(f, ServerFrame::Presence { .. }))
        .await
    {
        ServerFrame::Presence { users, .. } => {
            let entry = users.iter().find(|e| e.user.handle == "ana").unwrap();
            assert_eq!(
                (entry.status, entry.text.as_deref()),
                (Status::Dnd, Some("deep work"))
            );
        }
        _ => unreachable!(),
    }
    let bad = a
        .request(
            serde_json::json!({"type": "set_status", "status": "dnd", "text": "x".repeat(101)}),
        )
        .await;
    assert_error(&bad, ErrorCode::InvalidField);
}

#[tokio::test]
async fn big_rooms_get_a_bounded_roster_and_bursts_of_joins_come_as_one_diff() {
    let app = spawn_app_with(|s| s.presence_roster_max = 3).await;
    let owner = app.user("owner").await;
    let room = app.public_room(&owner, "town-hall").await;
    let mut watcher = subscribed(&app, &owner, room, None).await;
    let mut crowd = Vec::new();
    for i in 0..6 {
        let u = app.user(&format!("guest{i}")).await;
        crowd.push(subscribed(&app, &u, room, None).await);
    }
    // The six joins arrive within a tick or two, not as six frames.
    let mut joined = 0;
    let mut frames = 0;
    while joined < 6 {
        if let ServerFrame::PresenceDiff {
            joined: j, total, ..
        } = watcher.push().await
        {
            frames += 1;
            joined += j.iter().filter(|u| u.handle.starts_with("guest")).count();
            assert!(
                total as usize > joined,
                "the watcher and every guest so far are counted"
            );
        }
    }
    assert!(frames < 6, "{frames} diff frames for 6 joins");
    let late = app.user("late").await;
    let mut l = Client::new(app.connect_as(&late).await);
    l.ok(subscribe(room, None)).await;
    match l
        .push_where(|f| matches!(f, ServerFrame::Presence { .. }))
        .await
    {
        ServerFrame::Presence {
            users,
            total,
            truncated,
            ..
        } => {
            assert_eq!((users.len(), total, truncated), (3, 8, true));
        }
        _ => unreachable!(),
    }
}

async fn invitations_membership_and_unread_notices_reach_every_device(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let mut a = subscribed(&app, &ana, secret, None).await;
    let mut b_phone = Client::new(app.connect_as(&bo).await);
    let mut b_laptop = Client::new(app.connect_as(&bo).await);
    let personal = |f: &ServerFrame| matches!(f, ServerFrame::Personal { .. });

    a.ok(serde_json::json!({"type": "invite", "room": secret, "user": bo.user.id}))
        .await;
    for device in [&mut b_phone, &mut b_laptop] {
        let mut got = Vec::new();
        while got.len() < 2 {
            if let ServerFrame::Personal { event } = device.push_where(personal).await {
                got.push(event);
            }
        }
        assert!(
            got.contains(&PersonalEvent::Membership {
                room: secret,
                joined: true
            }),
            "{got:?}"
        );
        assert!(got.iter().any(|e| matches!(e, PersonalEvent::Invited { room, by } if *room == secret && by.handle == "ana")), "{got:?}");
    }

    // bo reads the room on his laptop only: the phone hears of new messages as unread.
    b_laptop.ok(subscribe(secret, None)).await;
    a.ok(send(secret, "c1", "welcome, bo")).await;
    assert_eq!(
        b_laptop.events(secret, 1).await,
        vec![(1, "welcome, bo".into())]
    );
    match b_phone.push_where(personal).await {
        ServerFrame::Personal { event } => assert_eq!(
            event,
            PersonalEvent::Unread {
                room: secret,
                seq: 1,
                mention: false,
            }
        ),
        _ => unreachable!(),
    }
    a.none_within(Duration::from_millis(200), personal).await;

    // bo leaves on his phone: the laptop stops receiving the room and cannot write to it.
    b_phone
        .ok(serde_json::json!({"type": "leave", "room": secret}))
        .await;
    match b_laptop.push_where(personal).await {
        ServerFrame::Personal { event } => assert_eq!(
            event,
            PersonalEvent::Membership {
                room: secret,
                joined: false
            }
        ),
        _ => unreachable!(),
    }
    a.ok(send(secret, "c2", "after bo left")).await;
    b_laptop
        .none_within(Duration::from_millis(300), |f| {
            matches!(f, ServerFrame::Event { .. })
        })
        .await;
    let r = b_laptop
        .request(serde_json::json!({"type": "typing", "room": secret}))
        .await;
    assert_error(&r, ErrorCode::Forbidden);
    let r = b_laptop.request(send(secret, "b1", "still here?")).await;
    assert_error(&r, ErrorCode::Forbidden);
}

async fn rooms_created_over_the_socket_belong_to_their_creator_on_every_device(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    let mut a_phone = Client::new(app.connect_as(&ana).await);
    let mut b = Client::new(app.connect_as(&bo).await);

    let room = match a
        .ok(serde_json::json!({"type": "create_room", "name": "Plans", "private": true}))
        .await
    {
        ServerFrame::Ack { info, .. } => info.room.expect("the ack names the room"),
        other => panic!("{other:?}"),
    };
    match a_phone
        .push_where(|f| matches!(f, ServerFrame::Personal { .. }))
        .await
    {
        ServerFrame::Personal { event } => {
            assert_eq!(event, PersonalEvent::Membership { room, joined: true })
        }
        _ => unreachable!(),
    }
    // The creator may use it at once; an outsider may not see a private room.
    a.ok(subscribe(room, None)).await;
    a.ok(send(room, "c1", "first")).await;
    assert_error(
        &b.request(subscribe(room, None)).await,
        ErrorCode::Forbidden,
    );

    // Names are unique: a second room by the same name is refused, clearly.
    let r = b
        .request(serde_json::json!({"type": "create_room", "name": "plans"}))
        .await;
    assert_error(&r, ErrorCode::InvalidField);
    let r = b
        .request(serde_json::json!({"type": "create_room", "name": "x"}))
        .await;
    assert_error(&r, ErrorCode::InvalidField);

    // A topic given at creation is stored (trimmed); a bad one is refused and nothing is
    // created.
    let topical = match b
        .ok(serde_json::json!({"type": "create_room", "name": "roadmap", "topic": "  What ships when "}))
        .await
    {
        ServerFrame::Ack { info, .. } => info.room.expect("the ack names the room"),
        other => panic!("{other:?}"),
    };
    let stored = app.store.room(topical).await.unwrap().expect("stored");
    assert_eq!(stored.topic, "What ships when");
    for bad in [
        serde_json::json!("two\nlines"),
        serde_json::json!("t".repeat(251)),
        serde_json::json!(""),
    ] {
        let r = b
            .request(
                serde_json::json!({"type": "create_room", "name": "no-topic-room", "topic": bad}),
            )
            .await;
        assert_error(&r, ErrorCode::InvalidField);
    }
    assert!(
        app.store
            .public_rooms()
            .await
            .unwrap()
            .iter()
            .all(|r| r.name.as_ref().map(|n| n.as_str()) != Some("no-topic-room")),
        "a refused create stores nothing"
    );
}

#[tokio::test]
async fn edits_are_refused_once_the_edit_window_has_passed() {
    let app = spawn_app_with(|s| s.edit_window_secs = 1).await;
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "lobby").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    let fresh = a.ok(send(room, "c1", "typo")).await;
    let id = match &fresh {
        ServerFrame::Ack { info, .. } => info.message_id.expect("message id"),
        other => panic!("{other:?}"),
    };
    a.ok(serde_json::json!({"type": "edit", "room": room, "message_id": id, "body": "fixed"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = a
        .request(
            serde_json::json!({"type": "edit", "room": room, "message_id": id, "body": "too late"}),
        )
        .await;
    assert_error(&late, ErrorCode::Forbidden);
    // Deleting stays allowed: the window is about rewriting history, not removing it.
    a.ok(serde_json::json!({"type": "delete", "room": room, "message_id": id}))
        .await;
}

on_both_backends_with_settings!(
    a_gap_larger_than_the_resume_bound_gets_a_snapshot,
    private_rooms_and_dms_are_closed_to_outsiders,
    open_dm_and_read_markers_reach_all_of_a_users_devices,
    a_slow_reader_catches_up_from_the_store_without_gaps,
    bad_requests_get_clear_errors_and_the_connection_stays_usable,
    history_pages_back_through_a_room,
    invitations_membership_and_unread_notices_reach_every_device,
    rooms_created_over_the_socket_belong_to_their_creator_on_every_device,
);

#[tokio::test]
async fn every_message_acked_before_a_graceful_shutdown_is_in_the_store() {
    let app = spawn_app_with(|s| {
        s.rate_per_sec = 100_000;
        s.rate_burst = 100_000;
    })
    .await;
    let store = app.store.clone();
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let mut a = subscribed(&app, &ana, room, None).await;
    // Pipeline a burst of sends without waiting for acks, then stop the server mid-burst,
    // once the first is acked: a stop that began before the server read anything would
    // test nothing.
    for i in 0..300 {
        let mut frame = send(room, &format!("c{i}"), &format!("m{i}"));
        frame["req"] = (10_000 + i).into();
        crate::helpers::send_text(&mut a.ws, &frame.to_string()).await;
    }
    let mut acked = Vec::new();
    let mut stopping = None;
    let mut app = Some(app);
    let close = loop {
        if !acked.is_empty()
            && let Some(app) = app.take()
        {
            stopping = Some(tokio::spawn(app.stop()));
        }
        match tokio::time::timeout(
            crate::helpers::WAIT,
            futures_util::StreamExt::next(&mut a.ws),
        )
        .await
        .expect("the server closes in time")
        {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                if let Ok(ServerFrame::Ack { info, .. }) = serde_json::from_str(t.as_str())
                    && let Some(id) = info.message_id
                {
                    acked.push(id);
                }
            }
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("the connection ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(
        close.map(|c| u16::from(c.code)),
        Some(protocol::CloseCode::ServiceRestart.code())
    );
    assert!(app.is_none(), "the server closed before the stop");
    let _leftovers = stopping.expect("stopped").await.unwrap();
    for id in &acked {
        assert!(
            store.message(*id).await.unwrap().is_some(),
            "acked message {id} is stored"
        );
    }
    let stored = store.events_after(room, 0, 1000).await.unwrap().len();
    assert!(
        stored >= acked.len(),
        "{stored} stored, {} acked",
        acked.len()
    );
}
