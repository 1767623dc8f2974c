//! The `/ws` handler: authenticates, negotiates the subprotocol, sizes the socket, and
//! starts the connection under the gateway's task tracker.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use protocol::CloseCode;
use std::net::SocketAddr;
use tower_sessions::Session;
use tracing::Instrument;

use super::socket::{Socket, Upgrade};
use super::{Gateway, auth, connection};

/// Upgrades an HTTP request to a gateway connection.
///
/// Refusals happen after the upgrade, as close frames, so that every WebSocket client sees
/// a code it can act on rather than an opaque HTTP failure: no `confab.v1` offered → 1008;
/// no valid credentials → 4001; a cookie from another site's page → 4003; an address
/// with `--max-conns-per-addr` connections already → 4103 (before any credentials are
/// looked at).
pub async fn upgrade(
    ws: Upgrade,
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
) -> Response {
    // An oversized message is refused from its header, before it is read, with 1009.
    let max = gateway.settings().max_frame_bytes as usize;
    let negotiated = ws.offers(protocol::SUBPROTOCOL);
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
    // The task that `accept` spawns keeps what its future captured for the connection's whole
    // life, and keeps the closure that makes that future beside it: both capture one
    // pointer, and the socket comes boxed too.
    let start = Box::new(Start {
        gateway,
        conn_id,
        user: user.map(Box::new),
        negotiated,
        slot,
        token,
    });
    let subprotocol = negotiated.then_some(protocol::SUBPROTOCOL);
    ws.accept(subprotocol, max, move |socket| {
        let socket = Box::new(socket);
        start.run(socket).instrument(span)
    })
}

/// What an accepted upgrade starts its connection with.
struct Start {
    gateway: Gateway,
    conn_id: String,
    user: Result<Box<store::User>, auth::Refusal>,
    negotiated: bool,
    /// The address's connection slot and the gateway's task token, held until it ends.
    slot: Option<super::addr_limit::AddrSlot>,
    token: tokio_util::task::task_tracker::TaskTrackerToken,
}

impl Start {
    /// Runs the connection, or refuses it with a close frame.
    async fn run(self: Box<Self>, mut socket: Box<Socket>) {
        let Start {
            gateway,
            conn_id,
            user,
            negotiated,
            slot,
            token,
        } = *self;
        match user {
            _ if !negotiated => {
                refuse(
                    &mut socket,
                    CloseCode::PolicyViolation,
                    "subprotocol confab.v1 required",
                )
                .await;
            }
            Err(refusal) => {
                tracing::debug!(?refusal, "upgrade refused");
                let code = refusal.close_code();
                refuse(&mut socket, code, code.reason()).await;
            }
            Ok(user) => connection::run(socket, gateway, conn_id, user).await,
        }
        drop(slot);
        drop(token);
    }
}

async fn refuse(socket: &mut Socket, code: CloseCode, reason: &str) {
    let _ = socket.writer.close(code.code(), reason).await;
}
