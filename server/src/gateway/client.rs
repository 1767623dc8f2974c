//! One connection's life, as a single `select!` loop over: the next inbound message, the
//! idle (heartbeat) timer, and the gateway's shutdown.
//!
//! Every request gets exactly one reply. A malformed frame gets an `error` frame and the
//! connection stays open; a binary or oversized message, a silent peer, or a shutdown
//! closes it with the documented code.

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, CloseCode, ServerFrame};
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

use super::Gateway;
use super::connection::{Inbound, close_for_read_error, close_message, read_frame, write_frame};

/// How long to wait for the peer to acknowledge our close before dropping the socket.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Runs one connection until it closes.
/// The caller runs it inside a span that names `conn_id`.
pub(super) async fn run(socket: WebSocket, gateway: Gateway, conn_id: String, negotiated: bool) {
    let settings = gateway.settings();
    let max_bytes = settings.max_frame_bytes as usize;
    let idle_timeout = settings.idle_timeout();
    let shutdown = gateway.shutdown_token();
    let (mut tx, mut rx) = socket.split();

    if !negotiated {
        tracing::debug!("client did not offer {}", protocol::SUBPROTOCOL);
        let _ = tx
            .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                code: CloseCode::PolicyViolation.code(),
                reason: "subprotocol confab.v1 required".into(),
            })))
            .await;
        return;
    }

    let welcome = ServerFrame::Welcome {
        protocol: protocol::SUBPROTOCOL.to_string(),
        conn_id: conn_id.clone(),
        heartbeat_ms: settings.heartbeat().as_millis() as u64,
        server: format!("confab/{}", env!("CARGO_PKG_VERSION")),
    };
    if tx.send(write_frame(&welcome)).await.is_err() {
        return;
    }
    tracing::debug!("connection open");

    let mut deadline = Instant::now() + idle_timeout;
    let close_code = loop {
        let inbound = tokio::select! {
            () = shutdown.cancelled() => break Some(CloseCode::ServiceRestart),
            () = sleep_until(deadline) => break Some(CloseCode::HeartbeatTimeout),
            next = rx.next() => match next {
                None => break None,
                Some(Err(err)) => {
                    tracing::debug!(cause = %err, "read failed");
                    break close_for_read_error(&err);
                }
                Some(Ok(message)) => read_frame(message, max_bytes),
            },
        };
        deadline = Instant::now() + idle_timeout;
        let reply = match inbound {
            Inbound::Frame(frame) => handle(frame),
            Inbound::Invalid(err) => ServerFrame::Error {
                req: err.req,
                code: err.code,
                message: err.message,
            },
            Inbound::Fatal(code) => break Some(code),
            Inbound::Closed => break None,
            Inbound::Ignored => continue,
        };
        if tx.send(write_frame(&reply)).await.is_err() {
            break None;
        }
    };

    if let Some(code) = close_code {
        tracing::debug!(code = code.code(), "closing");
        // Send our close and give the peer a moment to answer; never hang on it.
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            tx.send(close_message(code)).await?;
            while let Some(Ok(msg)) = rx.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
            Ok::<_, axum::Error>(())
        })
        .await;
    }
    tracing::debug!("connection closed");
}

/// Answers one well-formed request.
fn handle(frame: ClientFrame) -> ServerFrame {
    match frame {
        ClientFrame::Ping { req } => ServerFrame::Pong { req },
    }
}
