//! The WebSocket gateway over a real socket: welcome, requests, bad input, close codes.

use futures_util::SinkExt;
use protocol::{CloseCode, ErrorCode, ServerFrame};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{WAIT, expect_close, next_frame, send_text, spawn_app, spawn_app_with};

#[tokio::test]
async fn welcome_comes_first_and_names_the_protocol() {
    let app = spawn_app().await;
    let (_ws, welcome) = app.connect().await;
    let ServerFrame::Welcome {
        protocol,
        conn_id,
        heartbeat_ms,
        server,
        user,
        max_upload_bytes,
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(protocol, "confab.v1");
    assert!(!conn_id.is_empty());
    assert_eq!(heartbeat_ms, 25_000);
    assert!(server.starts_with("confab/"));
    assert!(user.handle.starts_with("anon"));
    assert_eq!(
        max_upload_bytes,
        Some(25 * 1024 * 1024),
        "the upload limit, so a client refuses a bigger file before sending it"
    );
}

#[tokio::test]
async fn ping_is_answered_with_pong_carrying_the_same_req() {
    let app = spawn_app().await;
    let (mut ws, _) = app.connect().await;
    send_text(&mut ws, r#"{"type":"ping","req":41}"#).await;
    assert_eq!(next_frame(&mut ws).await, ServerFrame::Pong { req: 41 });
}

#[tokio::test]
async fn malformed_frames_get_errors_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let (mut ws, _) = app.connect().await;
    let cases = [
        ("{oops", None, ErrorCode::BadFrame),
        ("42", None, ErrorCode::BadFrame),
        (r#"{"req":5}"#, Some(5), ErrorCode::InvalidField),
        (r#"{"type":"fly","req":6}"#, Some(6), ErrorCode::UnknownType),
        (
            r#"{"type":"ping","req":"seven"}"#,
            None,
            ErrorCode::InvalidField,
        ),
        (r#"{"type":"ping"}"#, None, ErrorCode::InvalidField),
    ];
    for (text, req, code) in cases {
        send_text(&mut ws, text).await;
        match next_frame(&mut ws).await {
            ServerFrame::Error {
                req: got_req,
                code: got_code,
                message,
            } => {
                assert_eq!((got_req, got_code), (req, code), "for {text}");
                assert!(!message.is_empty());
            }
            other => panic!("expected an error for {text}, got {other:?}"),
        }
    }
    send_text(&mut ws, r#"{"type":"ping","req":8}"#).await;
    assert_eq!(next_frame(&mut ws).await, ServerFrame::Pong { req: 8 });
}

#[tokio::test]
async fn a_client_without_the_subprotocol_is_closed_with_1008() {
    let app = spawn_app().await;
    let mut ws = app.connect_raw(None).await;
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.contains("confab.v1"));
}

#[tokio::test]
async fn binary_frames_close_with_1008() {
    let app = spawn_app().await;
    let (mut ws, _) = app.connect().await;
    ws.send(Message::binary(vec![0u8, 1, 2])).await.unwrap();
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), CloseCode::PolicyViolation.code());
}

#[tokio::test]
async fn oversized_frames_close_with_1009() {
    let app = spawn_app_with(|s| s.max_frame_bytes = 1024).await;
    let (mut ws, _) = app.connect().await;
    let body = "x".repeat(2048);
    send_text(
        &mut ws,
        &format!(r#"{{"type":"ping","req":1,"pad":"{body}"}}"#),
    )
    .await;
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), 1009);
}

#[tokio::test]
async fn a_silent_connection_is_closed_with_4100() {
    let app = spawn_app_with(|s| s.heartbeat_secs = 1).await;
    let (mut ws, _) = app.connect().await;
    let started = std::time::Instant::now();
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), CloseCode::HeartbeatTimeout.code());
    assert!(started.elapsed() < WAIT);
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_1012_and_spreads_their_return() {
    let app = spawn_app_with(|s| s.restart_spread_secs = 60).await;
    let mut sockets = Vec::new();
    for _ in 0..6 {
        sockets.push(app.connect().await.0);
    }
    let stopping = tokio::spawn(app.stop());
    let mut waits = Vec::new();
    for ws in &mut sockets {
        let close = expect_close(ws).await;
        assert_eq!(u16::from(close.code), CloseCode::ServiceRestart.code());
        let wait = protocol::close::retry_after_ms(close.reason.as_str())
            .unwrap_or_else(|| panic!("no wait in {:?}", close.reason));
        assert!(wait <= 60_000, "{wait}");
        waits.push(wait);
    }
    // Six uniform draws over a minute are all equal with negligible probability.
    waits.dedup();
    assert!(
        waits.len() > 1,
        "every client was told the same wait: {waits:?}"
    );
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("shutdown finished in time")
        .unwrap();
}
