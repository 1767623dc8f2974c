//! The `/ws` handler: authenticates, negotiates the subprotocol, sizes the socket, and
//! starts the connection under the gateway's task tracker.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::future::Either;
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
    // The connection is opened synchronously once the upgrade is done (`Start::run`), so
    // neither the socket nor `Start` is kept in any future while it runs; the task that
    // `accept` spawns drops the closure then (`handshake.rs`).
    let start = Start {
        gateway,
        conn_id,
        user: user.map(Box::new),
        negotiated,
        slot,
        token,
    };
    let subprotocol = negotiated.then_some(protocol::SUBPROTOCOL);
    ws.accept(subprotocol, max, move |socket| {
        start.run(socket).instrument(span)
    })
}

/// A refused connection's close, boxed.
type Refusing = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

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
    /// Opens the connection and returns what runs it, or what refuses it with a close
    /// frame (boxed: a refusal's state exists only while it runs).
    fn run(self, mut socket: Socket) -> impl Future<Output = ()> + Send {
        let Start {
            gateway,
            conn_id,
            user,
            negotiated,
            slot,
            token,
        } = self;
        let held = connection::Held {
            _slot: slot,
            _token: token,
        };
        let refusal = match user {
            _ if !negotiated => (CloseCode::PolicyViolation, "subprotocol confab.v1 required"),
            Err(refusal) => {
                tracing::debug!(?refusal, "upgrade refused");
                let code = refusal.close_code();
                (code, code.reason())
            }
            Ok(user) => {
                return match connection::open(socket, gateway, conn_id, user, held) {
                    Some(open) => Either::Left(connection::run(open)),
                    None => Either::Right(Box::pin(std::future::ready(())) as Refusing),
                };
            }
        };
        let refuse = async move {
            let _ = socket.writer.close(refusal.0.code(), refusal.1).await;
            drop(held);
        };
        Either::Right(Box::pin(refuse) as Refusing)
    }
}
