//! The `/ws` handler: authenticates, negotiates the subprotocol, sizes the socket, and
//! starts the connection under the gateway's task tracker.

use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use protocol::CloseCode;
use std::net::SocketAddr;
use tower_sessions::Session;
use tracing::Instrument;

use super::{Gateway, auth, client};

/// Bytes read from the socket at a time. tungstenite allocates (and zero-fills) it for
/// every connection and keeps it; a client frame is a few hundred bytes (a `send` with a
/// short body is about 150), and a larger one grows the buffer to its length as it
/// arrives, so a small buffer costs a busy client at most an extra read.
const READ_BUFFER: usize = 512;

/// Bytes of outgoing frames gathered before they are written to the socket.
const WRITE_BUFFER: usize = 16 * 1024;

/// Upgrades an HTTP request to a gateway connection.
///
/// Refusals happen after the upgrade, as close frames, so that every WebSocket client sees
/// a code it can act on rather than an opaque HTTP failure: no `confab.v1` offered → 1008;
/// no valid credentials → 4001; a cookie from another site's page → 4003; an address
/// with `--max-conns-per-addr` connections already → 4103 (before any credentials are
/// looked at).
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
) -> Response {
    let max = gateway.settings().max_frame_bytes as usize;
    let ws = ws
        .protocols([protocol::SUBPROTOCOL])
        // Small buffers keep idle connections cheap. Frames of a burst gather in the write
        // buffer (written out at 16 KiB, or when the sender's queue runs empty and it
        // flushes), so a busy connection makes few large writes instead of one per frame.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // tungstenite requires more than the write buffer plus one message.
        .max_write_buffer_size(WRITE_BUFFER + max * 4)
        // An oversized message fails the read with a capacity error, which the connection
        // answers with close 1009.
        .max_message_size(max)
        .max_frame_size(max);
    let negotiated = ws.selected_protocol().is_some();
    let slot = gateway.admit(peer.ip());
    let user = if slot.is_none() {
        Err(auth::Refusal::TooManyConnections)
    } else if negotiated {
        auth::authenticate(&gateway, &headers, &session, auth::CookieOrigin::Required).await
    } else {
        Err(auth::Refusal::Unauthorized)
    };
    let token = gateway.inner.tasks.token();
    let conn_id = uuid::Uuid::now_v7().simple().to_string();
    let span = tracing::info_span!("conn", id = %conn_id);
    // The task that axum spawns keeps what its future captured for the connection's whole
    // life, so the socket and the user are captured behind a pointer, not inline.
    let user = user.map(Box::new);
    ws.on_upgrade(move |socket| {
        let mut socket = Box::new(socket);
        async move {
            match (negotiated, user) {
                (false, _) => {
                    refuse(
                        &mut socket,
                        CloseCode::PolicyViolation,
                        "subprotocol confab.v1 required",
                    )
                    .await
                }
                (true, Err(refusal)) => {
                    tracing::debug!(?refusal, "upgrade refused");
                    let code = refusal.close_code();
                    refuse(&mut socket, code, code.reason()).await
                }
                (true, Ok(user)) => client::run(socket, gateway, conn_id, user).await,
            }
            drop(slot);
            drop(token);
        }
        .instrument(span)
    })
}

async fn refuse(socket: &mut axum::extract::ws::WebSocket, code: CloseCode, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: code.code(),
            reason: reason.into(),
        })))
        .await;
}
