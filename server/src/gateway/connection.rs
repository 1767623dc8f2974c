//! One connection's life. After authentication the socket is split: the sender task
//! (`sender.rs`) owns the writing half and the connection's queue; this reader loop owns
//! the reading half and `select!`s over the next inbound message, the idle (heartbeat)
//! deadline, the gateway's shutdown, and the sender stopping.
//!
//! Every request gets exactly one reply. A malformed frame gets an `error` frame and the
//! connection stays open; a binary or oversized message, a silent peer, a client that
//! stops reading, or a shutdown closes it with the documented code. Closing is done once,
//! here: the close frame is queued for the sender, then the room subscriptions, presence
//! and typing of this connection are cleaned up.

use protocol::{CloseCode, ServerFrame};
use std::time::Duration;
use store::User;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::Gateway;
use super::encode::text;
use super::inbound::{Inbound, read_frame};
use super::outbound::{ConnHandle, Outbound};
use super::requests::Session;
use super::socket::{Incoming, Socket};

/// How long to wait for the sender to flush the close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Runs one authenticated connection until it closes. The caller runs it inside a span
/// that names `conn_id`.
///
/// `socket` and `user` come boxed: an async fn keeps its arguments in its future for as
/// long as it runs, and this one runs as long as the connection.
pub(super) async fn run(socket: Box<Socket>, gateway: Gateway, conn_id: String, user: Box<User>) {
    // What this loop needs of the settings, copied out: the connection's task keeps
    // every live local for as long as it runs, so nothing bigger stays in it.
    let (queue_frames, heartbeat, max_bytes, idle_timeout) = {
        let settings = gateway.settings();
        (
            settings.queue_frames as usize,
            settings.heartbeat(),
            settings.max_frame_bytes as usize,
            settings.idle_timeout(),
        )
    };
    let me = gateway.users().insert(&user);
    let user_id = user.id;
    drop(user);
    let (handle, queue) = ConnHandle::new(
        gateway.next_conn_id(),
        user_id,
        queue_frames,
        gateway.inner.catch_ups.clone(),
    );
    let Socket {
        reader: mut stream,
        writer: transport,
    } = *socket;

    let welcome = text(&ServerFrame::Welcome {
        protocol: protocol::SUBPROTOCOL.to_string(),
        conn_id,
        heartbeat_ms: heartbeat.as_millis() as u64,
        server: crate::SERVER_NAME.to_string(),
        user: me.clone(),
    });
    if handle.push(Outbound::frame(welcome)).is_err() {
        return;
    }
    let done = CancellationToken::new();
    let sender = tokio::spawn(super::sender::run(
        transport,
        queue,
        handle.clone(),
        gateway.clone(),
        done.clone(),
    ));
    gateway.hub().connect(&handle);
    gateway
        .presence()
        .statuses()
        .connect(user_id, std::time::Instant::now());
    metrics::gauge!("confab_connections_open").increment(1);
    tracing::debug!(user = %user_id, "connection open");

    let mut session = Session::new(gateway.clone(), handle.clone(), me);
    let shutdown = gateway.shutdown_token();
    let mut deadline = Instant::now() + idle_timeout;

    // Whether the client closed first: its close is answered, and no reply is awaited.
    let mut peer_closed = false;
    let close: Option<CloseCode> = loop {
        let inbound = tokio::select! {
            () = shutdown.cancelled() => break Some(CloseCode::ServiceRestart),
            () = done.cancelled() => break None,
            () = sleep_until(deadline) => break Some(CloseCode::HeartbeatTimeout),
            next = stream.next() => match next {
                None => break None,
                Some(Err(err)) => {
                    tracing::debug!(cause = %err, "read failed");
                    break err.close_code().and_then(CloseCode::from_code);
                }
                Some(Ok(message)) => read_frame(message, max_bytes),
            },
        };
        deadline = Instant::now() + idle_timeout;
        let reply = match inbound {
            Inbound::Frame(frame) => {
                metrics::counter!("confab_frames_in_total", "type" => frame.kind()).increment(1);
                let is_send = matches!(frame, protocol::ClientFrame::Send { .. });
                let received = std::time::Instant::now();
                // Boxed: a request's state exists only while it runs, instead of in every
                // idle connection's task.
                let reply = match Box::pin(session.handle(frame)).await {
                    Ok(reply) => reply,
                    Err(_stuck) => break Some(CloseCode::SlowConsumer),
                };
                if is_send {
                    metrics::histogram!("confab_send_ack_seconds")
                        .record(received.elapsed().as_secs_f64());
                }
                reply
            }
            Inbound::Invalid(err) => Some(ServerFrame::Error {
                req: err.req,
                code: err.code,
                message: err.message,
            }),
            Inbound::Fatal(code) => break Some(code),
            Inbound::Closed => {
                peer_closed = true;
                break Some(CloseCode::Normal);
            }
            Inbound::Ping(payload) => {
                if handle.push(Outbound::pong(payload)).is_err() {
                    break Some(CloseCode::SlowConsumer);
                }
                continue;
            }
            Inbound::Ignored => continue,
        };
        if let Some(reply) = reply
            && handle.push(Outbound::frame(text(&reply))).is_err()
        {
            break Some(CloseCode::SlowConsumer);
        }
        // The last refusal of the burst is sent, then the close.
        if session.flooding() {
            metrics::counter!("confab_flood_disconnects_total").increment(1);
            break Some(CloseCode::Flooding);
        }
    };

    // Leave every room first, so that presence and typing are right whatever happens to
    // the socket.
    for room in session.subscribed.clone() {
        session.leave_room(room);
    }
    gateway.hub().disconnect(&handle);
    gateway.presence().statuses().disconnect(user_id);
    metrics::gauge!("confab_connections_open").decrement(1);
    if close == Some(CloseCode::SlowConsumer) {
        metrics::counter!("confab_slow_consumer_disconnects_total").increment(1);
    }
    match close {
        Some(code) => {
            tracing::debug!(code = code.code(), "closing");
            if handle.push(Outbound::Close(code)).is_err() {
                done.cancel();
            }
        }
        None => done.cancel(),
    }
    if tokio::time::timeout(CLOSE_LINGER, sender).await.is_err() {
        done.cancel();
    }
    // Let the peer's close handshake reply arrive, but never wait long for it.
    if !peer_closed {
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, Incoming::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    tracing::debug!("connection closed");
}
