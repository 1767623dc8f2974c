//! One connection's life. After authentication the socket is split: the sender task
//! (`sender.rs`) owns the writing half and the connection's queue; this reader loop owns
//! the reading half and `select!`s over the next inbound message, the idle (heartbeat)
//! deadline, the gateway's shutdown, and the sender stopping.
//!
//! Every request gets exactly one reply, in request order. New messages are pipelined:
//! a `send` or `reply` is queued on the group commit and the loop reads on while it
//! commits (up to [`MAX_IN_FLIGHT`] of them), so a client's burst shares one commit and
//! reaches each subscriber in one write; their acks are queued as their commits land,
//! oldest first. Any other request waits for the new messages before it, so it sees
//! them committed and its reply follows theirs.
//!
//! A malformed frame gets an `error` frame and the
//! connection stays open; a binary or oversized message, a silent peer, a client that
//! stops reading, or a shutdown closes it with the documented code. Closing is done once,
//! here: the close frame is queued for the sender, then the room subscriptions, presence
//! and typing of this connection are cleaned up.

use protocol::{ClientFrame, CloseCode, ServerFrame};
use std::collections::VecDeque;
use std::time::Duration;
use store::User;
use tokio::time::{Instant, sleep_until};

use super::Gateway;
use super::encode::text;
use super::ending::Ending;
use super::inbound::{Inbound, read_frame};
use super::outbound::{ConnHandle, Outbound};
use super::requests::{Handled, PendingReply, Session};
use super::socket::{Incoming, Socket};

/// How long to wait for the sender to flush the close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// New messages of one connection that may be committing at once; past this the loop
/// stops reading until the oldest is acked.
pub const MAX_IN_FLIGHT: usize = 64;

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
        max_upload_bytes: Some(gateway.settings().max_upload_bytes),
    });
    if handle.push(Outbound::frame(welcome)).is_err() {
        return;
    }
    let (done, sender_end) = Ending::pair();
    let sender = tokio::spawn(super::sender::run(
        transport,
        queue,
        handle.clone(),
        gateway.clone(),
        sender_end,
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
    // Replies to come of new messages committing, oldest first.
    let mut in_flight: VecDeque<PendingReply> = VecDeque::new();
    let close: Option<CloseCode> = loop {
        let inbound = tokio::select! {
            () = shutdown.cancelled() => break Some(CloseCode::ServiceRestart),
            () = done.ended() => break None,
            () = sleep_until(deadline) => break Some(CloseCode::HeartbeatTimeout),
            reply = oldest(&mut in_flight), if !in_flight.is_empty() => {
                in_flight.pop_front();
                if handle.push(Outbound::frame(text(&reply))).is_err() {
                    break Some(CloseCode::SlowConsumer);
                }
                continue;
            }
            next = stream.next(), if in_flight.len() < MAX_IN_FLIGHT => match next {
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
                let posts = matches!(frame, ClientFrame::Send { .. } | ClientFrame::Reply { .. });
                // Boxed: a request's state (the frame included) exists only while it runs,
                // instead of in every idle connection's task. Anything but a new message
                // first waits for the new messages before it.
                let handled = if posts || in_flight.is_empty() {
                    Box::pin(session.handle(frame)).await
                } else {
                    let (in_flight, handle, session) = (&mut in_flight, &handle, &mut session);
                    let waited = Box::pin(async move {
                        if settle(in_flight, handle).await {
                            session.handle(frame).await
                        } else {
                            Err(super::outbound::Stuck)
                        }
                    });
                    waited.await
                };
                match handled {
                    Ok(Handled::Now(reply)) if in_flight.is_empty() => reply,
                    // A refusal keeps its place behind the acks still to come.
                    Ok(Handled::Now(reply)) => {
                        if let Some(reply) = reply {
                            in_flight.push_back(Box::pin(std::future::ready(reply)));
                        }
                        None
                    }
                    Ok(Handled::Committing(pending)) => {
                        in_flight.push_back(pending);
                        None
                    }
                    Err(_stuck) => break Some(CloseCode::SlowConsumer),
                }
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
        if let Some(reply) = reply {
            if in_flight.is_empty() {
                if handle.push(Outbound::frame(text(&reply))).is_err() {
                    break Some(CloseCode::SlowConsumer);
                }
            } else {
                // An `error` for a malformed frame, too, comes after the acks before it.
                in_flight.push_back(Box::pin(std::future::ready(reply)));
            }
        }
        // The last refusal of the burst is sent, then the close.
        if session.flooding() {
            metrics::counter!("confab_flood_disconnects_total").increment(1);
            break Some(CloseCode::Flooding);
        }
    };
    // New messages still committing are answered before the close, as long as the socket
    // can take it: their writes land whatever happens to the connection.
    if matches!(close, Some(code) if code != CloseCode::SlowConsumer) {
        let _ = tokio::time::timeout(CLOSE_LINGER, Box::pin(settle(&mut in_flight, &handle))).await;
    }

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
                done.end();
            }
        }
        None => done.end(),
    }
    if tokio::time::timeout(CLOSE_LINGER, sender).await.is_err() {
        done.end();
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

/// The oldest reply to come, once it is ready (cancel-safe: it stays in the queue until
/// the caller pops it).
async fn oldest(in_flight: &mut VecDeque<PendingReply>) -> ServerFrame {
    match in_flight.front_mut() {
        Some(pending) => pending.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Waits for every reply to come and queues each, oldest first; `false` when the client
/// has stopped reading.
async fn settle(in_flight: &mut VecDeque<PendingReply>, handle: &ConnHandle) -> bool {
    while let Some(pending) = in_flight.front_mut() {
        let reply = pending.as_mut().await;
        in_flight.pop_front();
        if handle.push(Outbound::frame(text(&reply))).is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::socket::UpgradedWriter;

    /// The size of the future an async fn of four (or five) arguments returns.
    fn future_of_4<A, B, C, D, F>(_: fn(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }
    fn future_of_5<A, B, C, D, E, F>(_: fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn an_idle_connections_two_tasks_stay_small() {
        // Each is held by every connection for its whole life; state that only a request,
        // a fill or a blocked write needs is boxed while it runs.
        let reader = future_of_4(super::run);
        let sender = future_of_5(super::super::sender::run::<UpgradedWriter>);
        assert!(
            reader <= 1_280,
            "the connection's loop takes {reader} bytes"
        );
        assert!(sender <= 960, "the sender takes {sender} bytes");
    }
}
