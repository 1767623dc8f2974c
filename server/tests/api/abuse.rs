//! Abuse: what a hostile or broken client may try against the real server, and the
//! answer each gets. Floods, broken framing, connection floods from one address, request
//! heads sent too slowly, oversized and hostile field values, borrowed or forged
//! credentials, deactivated accounts, former members, and pages of other sites. Every
//! case checks both the refusal and that nobody else is affected.

use futures_util::{SinkExt, StreamExt};
use protocol::ids::RoomId;
use protocol::names::Handle;
use protocol::{ErrorCode, ServerFrame};
use std::time::Duration;
use store::RoomKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::helpers::{
    Backend, TestApp, WAIT, expect_close, next_frame, send_text, spawn_app, spawn_app_on,
    spawn_app_with,
};
use crate::wsclient::{Client, assert_error, send, subscribe};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The first message the server sends on `ws`, whatever it is.
async fn first_message(ws: &mut crate::helpers::Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a message in time")
        .expect("the stream is open")
        .expect("a readable message")
}

/// Sends one raw data frame: a whole message, or a fragment of one.
async fn send_data_frame(ws: &mut crate::helpers::Ws, payload: &[u8], data: Data, fin: bool) {
    let frame = Frame::message(payload.to_vec(), OpCode::Data(data), fin);
    ws.send(Message::Frame(frame)).await.unwrap();
}

// --- floods ------------------------------------------------------------------------------

#[tokio::test]
async fn a_flood_is_refused_then_closed_while_others_carry_on() {
    let app = spawn_app_with(|s| {
        s.rate_per_sec = 5;
        s.rate_burst = 10;
    })
    .await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;

    // Ana's client sends 300 requests without waiting for any answer.
    let mut flood = app.connect_as(&ana).await;
    let mut frame = subscribe(room, None);
    frame["req"] = 1.into();
    send_text(&mut flood, &frame.to_string()).await;
    for i in 0..300u64 {
        let mut frame = send(room, &format!("f{i}"), "flood");
        frame["req"] = (i + 2).into();
        // The server may close while these are still being written.
        if flood.send(Message::text(frame.to_string())).await.is_err() {
            break;
        }
    }
    let (mut acked, mut limited) = (Vec::new(), 0);
    let close = loop {
        match tokio::time::timeout(WAIT, flood.next())
            .await
            .expect("read")
        {
            Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()).unwrap() {
                ServerFrame::Ack { info, .. } => acked.extend(info.seq),
                ServerFrame::Error {
                    code: ErrorCode::RateLimited,
                    ..
                } => limited += 1,
                _ => {}
            },
            Some(Ok(Message::Close(Some(frame)))) => break frame,
            other => panic!("expected frames then a close, got {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 4102, "{close:?}");
    assert_eq!(
        protocol::close::retry_after_ms(&close.reason),
        Some(5000),
        "the close says how long to stay away: {close:?}"
    );
    assert!(limited >= 10, "a burst of refusals came first: {limited}");
    assert!(!acked.is_empty() && acked.len() < 300, "{}", acked.len());

    // What was acked reached Bo, in order; Bo's own connection never noticed the flood.
    let seen: Vec<u64> = b
        .events(room, acked.len())
        .await
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    assert_eq!(seen, acked);
    b.ok(send(room, "b1", "still here")).await;
}

// --- framing -----------------------------------------------------------------------------

#[tokio::test]
async fn fragmented_messages_are_reassembled_and_broken_text_closes_with_1007() {
    let app = spawn_app_with(|s| s.max_frame_bytes = 1024).await;
    let (mut ws, _) = app.connect().await;
    let text = br#"{"type":"ping","req":7}"#;
    let parts = [
        (&text[..5], true),
        (&text[5..12], false),
        (&text[12..], false),
    ];
    for (i, (part, first)) in parts.into_iter().enumerate() {
        let opcode = if first {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let last = i == parts.len() - 1;
        ws.send(Message::Frame(Frame::message(part.to_vec(), opcode, last)))
            .await
            .unwrap();
    }
    assert_eq!(next_frame(&mut ws).await, ServerFrame::Pong { req: 7 });

    // Fragments that add up to more than the largest message: 1009.
    for (i, opcode) in [Data::Text, Data::Continue, Data::Continue]
        .into_iter()
        .enumerate()
    {
        let _ = ws
            .send(Message::Frame(Frame::message(
                vec![b' '; 512],
                OpCode::Data(opcode),
                i == 2,
            )))
            .await;
    }
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1009);

    // A text message that is not UTF-8: 1007.
    let (mut ws, _) = app.connect().await;
    send_data_frame(&mut ws, &[b'{', 0xff, 0xfe, b'}'], Data::Text, true).await;
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1007);
}

#[tokio::test]
async fn pings_get_their_own_bytes_back_even_between_fragments() {
    let app = spawn_app().await;
    let (mut ws, _) = app.connect().await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    match first_message(&mut ws).await {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // A ping between the fragments of a request: its pong, then the request's reply.
    let text = br#"{"type":"ping","req":3}"#;
    send_data_frame(&mut ws, &text[..9], Data::Text, false).await;
    ws.send(Message::Ping(b"between".to_vec().into()))
        .await
        .unwrap();
    send_data_frame(&mut ws, &text[9..], Data::Continue, true).await;
    match first_message(&mut ws).await {
        Message::Pong(payload) => assert_eq!(&payload[..], b"between"),
        other => panic!("expected a pong, got {other:?}"),
    }
    assert_eq!(next_frame(&mut ws).await, ServerFrame::Pong { req: 3 });
}

#[tokio::test]
async fn a_client_close_is_answered_with_1000_and_the_stream_ends() {
    let app = spawn_app().await;
    let (mut ws, _) = app.connect().await;
    ws.send(Message::Close(Some(
        tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        },
    )))
    .await
    .unwrap();
    match first_message(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected the close echoed, got {other:?}"),
    }
    let end = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("the end in time");
    assert!(end.is_none(), "nothing after the close: {end:?}");
}

#[tokio::test]
async fn frames_rfc_6455_forbids_close_with_1002() {
    let app = spawn_app().await;
    // A reserved bit set with no extension negotiated.
    let (mut ws, _) = app.connect().await;
    let mut frame = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true;
    ws.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1002);
    // A continuation that continues nothing.
    let (mut ws, _) = app.connect().await;
    send_data_frame(&mut ws, b"orphan", Data::Continue, true).await;
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1002);
}

#[tokio::test]
async fn a_plain_request_to_the_socket_is_an_http_error_not_an_upgrade() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{}/ws", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("upgrade"));
    let response = client
        .post(format!("http://{}/ws", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

// --- connection floods and slow clients ----------------------------------------------------

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let app = spawn_app_with(|s| s.max_conns_per_addr = 3).await;
    let ana = app.user("ana").await;
    let auth = bearer(&ana.token);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.connect_as(&ana).await);
    }
    let mut extra = app
        .connect_headers(
            Some(protocol::SUBPROTOCOL),
            &[("authorization", auth.as_str())],
        )
        .await;
    let close = expect_close(&mut extra).await;
    assert_eq!(u16::from(close.code), 4103, "{close:?}");
    // An event stream takes a place too; refused as an HTTP status.
    let resp = app
        .http
        .get(app.url("/api/events"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "too_many_connections", "{body}");

    // Closing one gives its place back.
    held.pop().unwrap().close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut ws = app
            .connect_headers(
                Some(protocol::SUBPROTOCOL),
                &[("authorization", auth.as_str())],
            )
            .await;
        match first_message(&mut ws).await {
            Message::Text(text) if text.as_str().contains(r#""type":"welcome""#) => break,
            Message::Close(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("no place came free: {other:?}"),
        }
    }
}

/// Reads from `tcp` until the server ends the connection; true if it did within `WAIT`.
/// Meanwhile `trickle` (if any) is written a line at a time, every 200 ms.
async fn server_hangs_up(tcp: &mut tokio::net::TcpStream, trickle: &[&str]) -> bool {
    let mut lines = trickle.iter().cycle();
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        if !trickle.is_empty()
            && tcp
                .write_all(lines.next().unwrap().as_bytes())
                .await
                .is_err()
        {
            return true;
        }
        match tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
}

#[tokio::test]
async fn a_request_head_sent_too_slowly_is_cut_off() {
    let app = spawn_app_with(|s| s.header_timeout_secs = 1).await;
    // Slowloris: an upgrade request whose head never ends, one header line at a time.
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: confab\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    assert!(
        server_hangs_up(&mut tcp, &["X-Slow: 1\r\n"]).await,
        "a never-ending head"
    );
    // A connection that sends nothing at all.
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    assert!(server_hangs_up(&mut idle, &[]).await, "a silent connection");
    // Everyone else is served.
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
}

// --- hostile values ----------------------------------------------------------------------

async fn hostile_values_are_refused_or_kept_verbatim(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_on_with(backend, |s| {
        s.rate_per_sec = 1000;
        s.rate_burst = 1000;
    })
    .await
    else {
        return;
    };
    let ana = app.user("ana").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    // Too long: refused, naming the limit; nothing created.
    let r = a
        .request(serde_json::json!({"type": "create_room", "name": "n".repeat(10_000)}))
        .await;
    assert!(
        matches!(&r, ServerFrame::Error { code: ErrorCode::InvalidField, message, .. } if message.contains("48")),
        "{r:?}"
    );
    let r = a
        .request(
            serde_json::json!({"type": "set_status", "status": "dnd", "text": "t".repeat(5000)}),
        )
        .await;
    assert_error(&r, ErrorCode::InvalidField);
    let long_handle = "h".repeat(5000);
    let resp = app.sign_up(&long_handle, "correct horse battery").await;
    assert_eq!(resp.status(), 422, "a handle of 5,000 characters");

    // SQL in every free-text field is data: stored and shown exactly as typed.
    let hostile = [
        "'; drop table messages; --",
        "\" or 1=1 --",
        "x'); delete from users where ('a'='a",
        "%_\\ $1 ?",
    ];
    // Room names are a plain alphabet: such a name is refused, not interpreted.
    let r = a
        .request(serde_json::json!({"type": "create_room", "name": "x'); drop table rooms;--"}))
        .await;
    assert_error(&r, ErrorCode::InvalidField);
    let ack = a
        .ok(serde_json::json!({"type": "create_room", "name": "little-bobby"}))
        .await;
    let room: RoomId = match ack {
        ServerFrame::Ack { info, .. } => info.room.expect("the new room"),
        _ => unreachable!(),
    };
    a.ok(subscribe(room, None)).await;
    for (i, body) in hostile.iter().enumerate() {
        a.ok(send(room, &format!("c{i}'--"), body)).await;
    }
    a.ok(serde_json::json!({"type": "set_status", "status": "away", "text": hostile[0]}))
        .await;
    let page = a
        .ok(serde_json::json!({"type": "history", "room": room}))
        .await;
    let ServerFrame::History { messages, .. } = page else {
        unreachable!()
    };
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, hostile);
    assert_eq!(messages[0].client_msg_id, "c0'--");
    assert_eq!(app.store.public_rooms().await.unwrap().len(), 1);
    // A display name is free text too.
    let display = "Robert'); DROP TABLE users;--";
    let resp = sign_up_as(
        &app,
        &app.new_client(),
        "bobby",
        display,
        "correct horse battery",
    )
    .await;
    assert_eq!(resp.status(), 200);
    let handle = Handle::parse("bobby").unwrap();
    let bobby = app.store.user_by_handle(&handle).await.unwrap();
    let bobby = bobby.expect("bobby exists");
    assert_eq!(bobby.display_name.as_str(), display);
    // People search treats its wildcards as plain characters.
    assert!(app.store.search_users("%", 10).await.unwrap().is_empty());
    assert!(app.store.search_users("_", 10).await.unwrap().is_empty());
    assert_eq!(
        app.store.search_users("an", 10).await.unwrap().len(),
        1,
        "ana"
    );
}

// --- credentials -------------------------------------------------------------------------

/// The `confab_session=…` pair from a response's cookies.
fn session_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("confab_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Signs up through the server function with `http` (a browser of its own).
async fn sign_up_as(
    app: &TestApp,
    http: &reqwest::Client,
    handle: &str,
    display_name: &str,
    password: &str,
) -> reqwest::Response {
    http.post(app.url("/api/auth/signup"))
        .header("accept", "application/json")
        .form(&[
            ("handle", handle),
            ("display_name", display_name),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// Who `/api/auth/me` says a request with `cookie` is (JSON `null`: nobody).
async fn me_with_cookie(app: &TestApp, cookie: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(app.url("/api/auth/me"))
        .header("accept", "application/json")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The close code a socket opened with `headers` gets, or 0 for a welcome.
async fn socket_answer(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let mut ws = app
        .connect_headers(Some(protocol::SUBPROTOCOL), headers)
        .await;
    match first_message(&mut ws).await {
        Message::Text(text) if text.as_str().contains(r#""type":"welcome""#) => 0,
        Message::Close(Some(frame)) => u16::from(frame.code),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn credentials_act_only_as_their_owner_and_forgeries_get_nowhere() {
    let app = spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let dm = app.store.open_dm(ana.user.id, bo.user.id).await.unwrap().id;
    let eve = app.user("eve").await;

    // A token is its owner: Eve's token cannot read Ana's private room or DM.
    let mut e = Client::new(app.connect_as(&eve).await);
    for room in [secret, dm] {
        assert_error(
            &e.request(subscribe(room, None)).await,
            ErrorCode::Forbidden,
        );
        // History is read through a subscription, which was refused.
        let history = serde_json::json!({"type": "history", "room": room});
        assert_error(&e.request(history).await, ErrorCode::NotSubscribed);
    }
    // A token with one character changed, a truncated one, another scheme: refused.
    let mut flipped = ana.token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    for auth in [
        bearer(&flipped),
        bearer(&ana.token[..ana.token.len() - 4]),
        format!("Basic {}", ana.token),
        bearer(""),
    ] {
        assert_eq!(socket_answer(&app, &[("authorization", &auth)]).await, 4001);
    }
    // A revoked token stops at once.
    let tokens = app.store.api_tokens(ana.user.id).await.unwrap();
    app.store
        .revoke_api_token(ana.user.id, tokens[0].id)
        .await
        .unwrap();
    assert_eq!(
        socket_answer(&app, &[("authorization", &bearer(&ana.token))]).await,
        4001
    );

    // Cookies: a forged session id is no one; a logged-out session id is no one.
    let carol = app.new_client();
    let resp = sign_up_as(&app, &carol, "carol", "Carol", "correct horse battery").await;
    assert_eq!(resp.status(), 200);
    let cookie = session_cookie(&resp);
    assert_eq!(me_with_cookie(&app, &cookie).await["handle"], "carol");
    let forged = format!("{}x", &cookie[..cookie.len() - 1]);
    assert!(me_with_cookie(&app, &forged).await.is_null());
    let origin = format!("http://{}", app.addr);
    assert_eq!(
        socket_answer(&app, &[("cookie", &forged), ("origin", &origin)]).await,
        4001
    );
    let out = carol
        .post(app.url("/api/auth/logout"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    assert!(
        me_with_cookie(&app, &cookie).await.is_null(),
        "a replayed session"
    );
    assert_eq!(
        socket_answer(&app, &[("cookie", &cookie), ("origin", &origin)]).await,
        4001
    );
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_everywhere_and_their_messages_stay() {
    let app = spawn_app().await;
    let bo = app.user("bo").await;
    let room = app.public_room(&bo, "general").await;
    let dan_http = app.new_client();
    let resp = sign_up_as(&app, &dan_http, "dan", "Dan", "correct horse battery").await;
    assert_eq!(resp.status(), 200);
    let cookie = session_cookie(&resp);
    let dan = app
        .store
        .user_by_handle(&Handle::parse("dan").unwrap())
        .await;
    let dan = dan.unwrap().expect("dan exists");
    let token = app::ssr::tokens::generate();
    app.store
        .create_api_token(
            dan.id,
            "bot",
            &app::ssr::tokens::lookup_hash(&token).unwrap(),
        )
        .await
        .unwrap();
    let origin = format!("http://{}", app.addr);
    let (by_cookie, first) = app
        .connect_with(&[("cookie", &cookie), ("origin", &origin)])
        .await;
    assert!(matches!(first, ServerFrame::Welcome { .. }), "{first:?}");
    let mut by_token = Client::new(
        app.connect_headers(
            Some(protocol::SUBPROTOCOL),
            &[("authorization", &bearer(&token))],
        )
        .await,
    );
    assert!(matches!(by_token.push().await, ServerFrame::Welcome { .. }));
    by_token.ok(subscribe(room, None)).await;
    by_token.ok(send(room, "d1", "before I go")).await;

    // The real CLI, as an operator runs it, against the server's own data folder.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(["user", "deactivate", "dan"])
        .env("CONFAB_DATA_DIR", app.data_dir())
        .env_remove("DATABASE_URL")
        .env("CONFAB_LOG", "warn")
        .output()
        .expect("run confab user deactivate");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deactivated @dan"));

    // Both live sockets are closed with 4001, within the sweep.
    for mut ws in [by_cookie, by_token.ws] {
        assert_eq!(u16::from(expect_close(&mut ws).await.code), 4001);
    }
    // Nothing they held works any more, and they cannot log in again.
    assert!(me_with_cookie(&app, &cookie).await.is_null());
    assert_eq!(
        socket_answer(&app, &[("authorization", &bearer(&token))]).await,
        4001
    );
    let login = app
        .call(
            "/api/auth/login",
            &[("handle", "dan"), ("password", "correct horse battery")],
        )
        .await;
    assert_eq!(login.status(), 401, "a deactivated account cannot log in");
    assert!(app.store.search_users("da", 10).await.unwrap().is_empty());
    // What they wrote stays, under their name.
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(room, None)).await;
    let page = b
        .ok(serde_json::json!({"type": "history", "room": room}))
        .await;
    let ServerFrame::History { messages, .. } = page else {
        unreachable!()
    };
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (
            messages[0].body.as_str(),
            messages[0].author.handle.as_str()
        ),
        ("before I go", "dan")
    );
}

async fn a_member_who_left_a_private_room_reads_nothing_more(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    a.ok(subscribe(secret, None)).await;
    a.ok(serde_json::json!({"type": "invite", "room": secret, "user": bo.user.id}))
        .await;
    let mut b = Client::new(app.connect_as(&bo).await);
    b.ok(subscribe(secret, None)).await;
    a.ok(send(secret, "a1", "while bo is here")).await;
    assert_eq!(b.events(secret, 1).await[0].1, "while bo is here");

    b.ok(serde_json::json!({"type": "leave", "room": secret}))
        .await;
    a.ok(send(secret, "a2", "after bo left")).await;
    b.none_within(
        Duration::from_millis(500),
        |f| matches!(f, ServerFrame::Event { room, .. } if *room == secret),
    )
    .await;
    assert_error(
        &b.request(subscribe(secret, None)).await,
        ErrorCode::Forbidden,
    );
    let history = serde_json::json!({"type": "history", "room": secret});
    assert_error(&b.request(history).await, ErrorCode::NotSubscribed);
    let resp = app
        .http
        .get(app.url(&format!("/api/rooms/{secret}/events")))
        .header("authorization", bearer(&bo.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

on_both_backends_with_settings!(
    hostile_values_are_refused_or_kept_verbatim,
    a_member_who_left_a_private_room_reads_nothing_more,
);

// --- other sites -------------------------------------------------------------------------

#[tokio::test]
async fn pages_of_other_sites_can_neither_change_anything_nor_open_a_socket() {
    let app = spawn_app().await;
    let resp = app.sign_up("fay", "correct horse battery").await;
    assert_eq!(resp.status(), 200);
    let cookie = session_cookie(&resp);
    let ours = format!("http://{}", app.addr);
    let logout = |headers: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/auth/logout"))
            .header("accept", "application/json")
            .header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    // A form on another site posting to us with the user's cookie: refused, and the
    // session is untouched.
    let forged = logout(vec![("origin", "https://evil.example".into())])
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged = logout(vec![("sec-fetch-site", "cross-site".into())])
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let signup = reqwest::Client::new()
        .post(app.url("/api/auth/signup"))
        .header("origin", "https://evil.example")
        .form(&[
            ("handle", "mallory"),
            ("display_name", "M"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 403);
    assert!(
        app.store
            .user_by_handle(&Handle::parse("mallory").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(me_with_cookie(&app, &cookie).await["handle"], "fay");
    // Nor may such a page open a socket with the cookie.
    assert_eq!(
        socket_answer(
            &app,
            &[("cookie", &cookie), ("origin", "https://evil.example")]
        )
        .await,
        4003
    );
    // Our own page may do both.
    assert_eq!(
        socket_answer(&app, &[("cookie", &cookie), ("origin", &ours)]).await,
        0
    );
    let ok = logout(vec![
        ("origin", ours.clone()),
        ("sec-fetch-site", "same-origin".into()),
    ])
    .await
    .unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert!(me_with_cookie(&app, &cookie).await.is_null());
}

// --- secrets at rest ---------------------------------------------------------------------

/// Whether `needle` occurs in any file of the server's data folder (the SQLite database,
/// its write-ahead log, anything else).
fn data_folder_contains(app: &TestApp, needle: &str) -> bool {
    let mut found = false;
    for entry in std::fs::read_dir(app.data_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        found |= bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes());
    }
    found
}

#[tokio::test]
async fn passwords_and_tokens_are_stored_only_as_salted_hashes() {
    let app = spawn_app_with(|s| s.secure_cookies = true).await;
    let password = "correct horse battery staple";
    let mut hashes = Vec::new();
    for handle in ["gil", "hal"] {
        let resp = sign_up_as(&app, &app.new_client(), handle, handle, password).await;
        assert_eq!(resp.status(), 200);
        // The session cookie: not readable by scripts, not sent cross-site, only over
        // HTTPS when so configured.
        let set_cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("confab_session="))
            .unwrap()
            .to_string();
        for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(set_cookie.contains(flag), "{flag} missing: {set_cookie}");
        }
        let credentials = app
            .store
            .credentials(&Handle::parse(handle).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            credentials.password_hash.starts_with("$argon2id$"),
            "{}",
            credentials.password_hash
        );
        assert!(!credentials.password_hash.contains(password));
        hashes.push(credentials.password_hash);
    }
    assert_ne!(hashes[0], hashes[1], "each hash has its own salt");

    let ivy = app.user("ivy").await;
    // The token works, and is found by its hash alone.
    let hash = app::ssr::tokens::lookup_hash(&ivy.token).unwrap();
    let owner = app.store.user_by_token_hash(&hash).await.unwrap();
    assert_eq!(owner.map(|u| u.id), Some(ivy.user.id));
    // Neither secret is anywhere in the server's files.
    assert!(!data_folder_contains(&app, password));
    assert!(!data_folder_contains(&app, &ivy.token));
    assert!(
        data_folder_contains(&app, "gil"),
        "the search itself works on these files"
    );
}
