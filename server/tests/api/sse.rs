//! Server-Sent Events streams, read with a real HTTP client: a room's events with seq ids
//! and `Last-Event-ID` resume, the personal stream and its resume, refusals, and how
//! streams end.

use protocol::ServerFrame;
use protocol::ids::RoomId;
use std::time::Duration;
use store::RoomKind;

use crate::helpers::{TestApp, TestUser, WAIT, spawn_app, spawn_app_with};
use crate::wsclient::{Client, send, subscribe};

/// One event as the stream framed it.
#[derive(Debug)]
pub(crate) struct SseEvent {
    id: Option<String>,
    data: String,
    retry: Option<u64>,
}

impl SseEvent {
    pub(crate) fn frame(&self) -> ServerFrame {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// A minimal `text/event-stream` reader over a streaming response.
pub(crate) struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

impl EventStream {
    /// The next event, skipping comments (keep-alives); `None` when the stream ends.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    data: String::new(),
                    retry: None,
                };
                let mut any = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "" => continue, // a comment
                        "id" => event.id = Some(value.to_string()),
                        "data" => {
                            if any {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            any = true;
                        }
                        "retry" => event.retry = value.parse().ok(),
                        _ => {}
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.resp.chunk())
                .await
                .expect("an event within the wait")
                .expect("stream read");
            match chunk {
                Some(bytes) => self.buf.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => return None,
            }
        }
    }

    /// The next event that is not presence (the room's roster and its diffs are
    /// coalesced per tick, so one can come at any point after a join); fails the test
    /// when the stream ends.
    pub(crate) async fn expect(&mut self) -> SseEvent {
        loop {
            let event = self.next().await.expect("the stream ended early");
            let presence = serde_json::from_str::<serde_json::Value>(&event.data)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_owned))
                .is_some_and(|t| t == "presence" || t == "presence_diff");
            if !presence {
                return event;
            }
        }
    }
}

pub(crate) async fn open(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
) -> Result<EventStream, (u16, serde_json::Value)> {
    let client = reqwest::Client::new();
    let mut req = client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("request");
    if resp.status() != 200 {
        let status = resp.status().as_u16();
        return Err((status, resp.json().await.unwrap_or_default()));
    }
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    // Never compressed: a compressing layer would hold events back.
    assert!(resp.headers().get("content-encoding").is_none());
    Ok(EventStream {
        resp,
        buf: String::new(),
    })
}

pub(crate) fn bearer(user: &TestUser) -> (&'static str, String) {
    ("authorization", format!("Bearer {}", user.token))
}

fn room_path(room: RoomId) -> String {
    format!("/api/rooms/{room}/events")
}

/// Connects `user`, subscribes to `room` and returns the client.
async fn writer(app: &TestApp, user: &TestUser, room: RoomId) -> Client {
    let mut c = Client::new(app.connect_as(user).await);
    c.ok(subscribe(room, None)).await;
    c
}

async fn post(c: &mut Client, room: RoomId, bodies: &[&str]) {
    for b in bodies {
        c.ok(send(room, &format!("c-{}", b.replace(' ', "-")), b))
            .await;
    }
}

#[tokio::test]
async fn a_room_stream_sends_a_snapshot_then_live_events_with_seq_ids() {
    let app = spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "lobby").await;
    let mut a = writer(&app, &ana, room).await;
    post(&mut a, room, &["one", "two", "three"]).await;

    // Bo is not a member: a public room can be read anyway, and reading does not join.
    let mut s = open(
        &app,
        &room_path(room),
        &[bearer(&bo), ("accept-encoding", "gzip".into())],
    )
    .await
    .unwrap();
    let first = s.expect().await;
    assert_eq!(first.id.as_deref(), Some("3"));
    match first.frame() {
        ServerFrame::Snapshot {
            last_seq, messages, ..
        } => {
            assert_eq!(last_seq, 3);
            let bodies: Vec<_> = messages.iter().map(|m| m.body.as_str()).collect();
            assert_eq!(bodies, ["one", "two", "three"]);
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    post(&mut a, room, &["four"]).await;
    let live = s.expect().await;
    assert_eq!(live.id.as_deref(), Some("4"));
    match live.frame() {
        ServerFrame::Event { seq, message, .. } => {
            assert_eq!(seq, 4);
            assert_eq!(message.body, "four");
        }
        other => panic!("expected an event, got {other:?}"),
    }
    assert!(
        app.store
            .membership(room, bo.user.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn last_event_id_resumes_with_the_missed_events_or_a_snapshot() {
    let app = spawn_app_with(|s| s.resume_max_events = 5).await;
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "lobby").await;
    let mut a = writer(&app, &ana, room).await;
    post(&mut a, room, &["m1", "m2", "m3"]).await;

    // Seen up to seq 1: seqs 2 and 3 follow, each with its id, then live ones.
    let mut s = open(
        &app,
        &room_path(room),
        &[bearer(&ana), ("last-event-id", "1".into())],
    )
    .await
    .unwrap();
    for (id, body) in [("2", "m2"), ("3", "m3")] {
        let e = s.expect().await;
        assert_eq!(e.id.as_deref(), Some(id));
        assert!(matches!(e.frame(), ServerFrame::Event { message, .. } if message.body == body));
    }
    drop(s);

    // Ten more while away: more than the resume bound, so a snapshot instead.
    let bodies: Vec<String> = (4..=13).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    post(&mut a, room, &refs).await;
    let mut s = open(
        &app,
        &room_path(room),
        &[bearer(&ana), ("last-event-id", "3".into())],
    )
    .await
    .unwrap();
    let e = s.expect().await;
    assert_eq!(e.id.as_deref(), Some("13"));
    assert!(matches!(
        e.frame(),
        ServerFrame::Snapshot {
            last_seq: 13,
            reason: protocol::SnapshotReason::GapTooLarge,
            ..
        }
    ));
}

#[tokio::test]
async fn refusals_are_http_statuses_with_a_code() {
    let app = spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let public = app.public_room(&ana, "lobby").await;
    let private = app.room(&ana, RoomKind::Private, "secret").await;

    // (path, headers, expected status, expected code)
    type Case<'a> = (String, Vec<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (room_path(public), vec![], 401, "unauthorized"),
        (
            room_path(public),
            vec![("authorization", "Bearer nope".into())],
            401,
            "unauthorized",
        ),
        (room_path(private), vec![bearer(&bo)], 403, "forbidden"),
        (
            room_path(RoomId(uuid::Uuid::now_v7())),
            vec![bearer(&bo)],
            404,
            "not_found",
        ),
        (
            "/api/rooms/not-a-room/events".into(),
            vec![bearer(&bo)],
            404,
            "not_found",
        ),
        (
            room_path(public),
            vec![bearer(&bo), ("last-event-id", "abc".into())],
            400,
            "invalid_field",
        ),
        ("/api/events".into(), vec![], 401, "unauthorized"),
        (
            "/api/events".into(),
            vec![bearer(&bo), ("last-event-id", "-1".into())],
            400,
            "invalid_field",
        ),
    ];
    for (path, headers, status, code) in cases {
        match open(&app, &path, &headers).await {
            Ok(_) => panic!("{path} {headers:?} was accepted"),
            Err((got, body)) => {
                assert_eq!(got, status, "{path} {headers:?}: {body}");
                assert_eq!(body["code"], code, "{path}: {body}");
                assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
        }
    }
    // Ana, a member, may read her private room.
    assert!(
        open(&app, &room_path(private), &[bearer(&ana)])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_session_cookie_works_from_our_pages_only() {
    let app = spawn_app().await;
    assert!(
        app.sign_up("carla", "correct horse battery")
            .await
            .status()
            .is_success()
    );
    let carla = app
        .store
        .user_by_handle(&protocol::names::Handle::parse("carla").unwrap())
        .await
        .unwrap()
        .unwrap();
    let room = app
        .store
        .create_room(
            carla.id,
            RoomKind::Private,
            &protocol::names::RoomName::parse("mine").unwrap(),
            "",
        )
        .await
        .unwrap()
        .id;
    let get = |origin: Option<String>| {
        let mut req = app.http.get(app.url(&room_path(room)));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // Same-origin EventSource sends no Origin; our own page's Origin is fine too.
    for origin in [None, Some(format!("http://{}", app.addr))] {
        let resp = get(origin.clone()).await.unwrap();
        assert_eq!(resp.status(), 200, "origin {origin:?}");
    }
    let resp = get(Some("https://evil.example".into())).await.unwrap();
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "forbidden_origin");
}

#[tokio::test]
async fn the_personal_stream_carries_invitations_and_unread_notices_and_resumes() {
    let app = spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.room(&ana, RoomKind::Private, "plans").await;
    let mut a = writer(&app, &ana, room).await;

    let mut s = open(&app, "/api/events", &[bearer(&bo)]).await.unwrap();
    a.ok(serde_json::json!({"type": "invite", "room": room, "user": bo.user.id}))
        .await;
    post(&mut a, room, &["welcome bo"]).await;
    let mut got = Vec::new();
    let mut last_id = String::new();
    while got.len() < 3 {
        let e = s.expect().await;
        last_id = e.id.clone().expect("personal events carry an id");
        match e.frame() {
            ServerFrame::Personal { event } => got.push(event),
            other => panic!("expected a personal event, got {other:?}"),
        }
    }
    use protocol::PersonalEvent as P;
    assert!(
        got.contains(&P::Membership { room, joined: true }),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|e| matches!(e, P::Invited { room: r, by } if *r == room && by.id == ana.user.id))
    );
    assert!(
        got.contains(&P::Unread {
            room,
            seq: 1,
            mention: false
        }),
        "{got:?}"
    );
    drop(s);

    // Two messages while Bo's stream is away, one naming him; his own message is not
    // news to him.
    post(&mut a, room, &["are you there", "hello @bo?"]).await;
    let mut b = writer(&app, &bo, room).await;
    post(&mut b, room, &["mine"]).await;
    drop(b);
    let mut s = open(
        &app,
        "/api/events",
        &[bearer(&bo), ("last-event-id", last_id.clone())],
    )
    .await
    .unwrap();
    let mut unread = Vec::new();
    loop {
        let e = s.expect().await;
        let id: i64 = e.id.as_deref().unwrap().parse().unwrap();
        assert!(id >= last_id.parse::<i64>().unwrap());
        if let ServerFrame::Personal {
            event:
                P::Unread {
                    room: r,
                    seq,
                    mention,
                },
        } = e.frame()
        {
            assert_eq!(r, room);
            unread.push((seq, mention));
            if seq == 3 {
                break;
            }
        }
    }
    assert!(
        unread.ends_with(&[(2, false), (3, true)]),
        "the resume marks the mention: {unread:?}"
    );
    assert!(!unread.iter().any(|(seq, _)| *seq == 4), "{unread:?}");

    // After the resume, live notices continue, each once.
    post(&mut a, room, &["live again"]).await;
    loop {
        let e = s.expect().await;
        if let ServerFrame::Personal {
            event: P::Unread { seq, .. },
        } = e.frame()
        {
            assert_eq!(seq, 5);
            break;
        }
    }
}

#[tokio::test]
async fn a_room_stream_ends_with_1000_on_leave_and_1012_with_a_wait_on_shutdown() {
    let app = spawn_app_with(|s| s.restart_spread_secs = 30).await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.room(&ana, RoomKind::Private, "plans").await;
    let mut a = writer(&app, &ana, room).await;
    a.ok(serde_json::json!({"type": "invite", "room": room, "user": bo.user.id}))
        .await;

    let mut s = open(&app, &room_path(room), &[bearer(&bo)]).await.unwrap();
    assert!(matches!(
        s.expect().await.frame(),
        ServerFrame::Snapshot { .. }
    ));
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(serde_json::json!({"type": "leave", "room": room}))
        .await;
    let close = s.expect().await.json();
    assert_eq!(close["type"], "close");
    assert_eq!(close["code"], 1000);
    assert!(s.next().await.is_none(), "the stream ends after its close");

    let mut s = open(&app, &room_path(room), &[bearer(&ana)]).await.unwrap();
    let mut p = open(&app, "/api/events", &[bearer(&ana)]).await.unwrap();
    assert!(matches!(
        s.expect().await.frame(),
        ServerFrame::Snapshot { .. }
    ));
    let stopping = tokio::spawn(app.stop());
    for stream in [&mut s, &mut p] {
        let last = loop {
            let e = stream.expect().await;
            if e.json()["type"] == "close" {
                break e;
            }
        };
        assert_eq!(last.json()["code"], 1012);
        let reason = last.json()["reason"].as_str().unwrap().to_string();
        let wait = protocol::close::retry_after_ms(&reason).expect("a wait in the reason");
        assert!(wait <= 30_000, "{reason}");
        assert_eq!(
            last.retry,
            Some(wait),
            "EventSource's own retry is the wait"
        );
        assert!(stream.next().await.is_none());
    }
    tokio::time::timeout(WAIT + Duration::from_secs(1), stopping)
        .await
        .expect("shutdown finished in time")
        .unwrap();
}
