//! One connection's life. After authentication the socket is split: the sender task
//! (`sender.rs`) owns the writing half and the connection's queue; this reader loop owns
//! the reading half and `select!`s over the next inbound message, the replies of messages
//! committing, and its end (`ending.rs`): the sender stopping, or a close asked of it by
//! the heartbeat sweep (a silent peer) or the gateway's shutdown. Each message read is
//! noted for the heartbeat sweep (`heartbeat.rs`): no timer per connection.
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

use confab_websocket::FrameText;
use protocol::{ClientFrame, CloseCode, ServerFrame};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use store::User;
use tokio::task::JoinHandle;

use super::Gateway;
use super::encode::text;
use super::ending::{Ended, Ending};
use super::inbound::{Inbound, read_frame};
use super::outbound::{ConnHandle, Outbound};
use super::requests::{Handled, PendingReply, Session};
use super::socket::{Incoming, Socket, UpgradedReader};
use super::transport::SharedSocket;

/// How long to wait for the sender to flush the close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// New messages of one connection that may be committing at once; past this the loop
/// stops reading until the oldest is acked.
pub const MAX_IN_FLIGHT: usize = 64;

/// What the reader loop keeps for the connection's whole life, made before it starts
/// (see [`open`]). It is the one capture of the loop's future, so nothing in it is held
/// twice.
pub(super) struct Open {
    stream: UpgradedReader,
    session: Session,
    /// The connection's end, shared with the sender.
    done: Ending,
    sender: JoinHandle<()>,
    /// Replies to come of new messages committing, oldest first.
    in_flight: VecDeque<PendingReply>,
    max_bytes: usize,
    _held: Held,
}

/// What a connection holds from its upgrade until it ends: its place under the per-address
/// cap and among the gateway's tasks. Never read: dropping it gives both back.
pub(super) struct Held {
    pub _slot: Option<super::addr_limit::AddrSlot>,
    pub _token: tokio_util::task::task_tracker::TaskTrackerToken,
}

/// What the loop does after an inbound message.
enum Flow {
    /// Read on.
    Read,
    /// Close the connection with this code (`None`: it is already gone).
    Close(Option<CloseCode>),
    /// The client closed first: its close is answered, and no reply is awaited.
    PeerClosed,
}

/// Runs one authenticated connection, opened by [`open`], until it closes. The caller runs
/// it inside a span that names the connection.
///
/// A function returning an async block that owns `open`: an async fn would keep its
/// argument and the local it is bound to, twice, for as long as the connection lives. For
/// the same reason everything the loop keeps is made by [`open`], outside the future, and
/// an inbound message is handled in a boxed future of its own ([`on_message`]): the
/// loop's future holds its long-lived state once and a wait for the next message, nothing
/// else.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn would hold the connection's state twice for its whole life"
)]
pub(super) fn run(mut open: Open) -> impl Future<Output = ()> + Send {
    async move {
        let mut peer_closed = false;
        let close: Option<CloseCode> = loop {
            let Open {
                stream,
                session,
                done,
                in_flight,
                ..
            } = &mut open;
            let message = tokio::select! {
                ended = done.ended_or_asked() => match ended {
                    Ended::Gone => break None,
                    Ended::Close(code) => break Some(code),
                },
                reply = oldest(in_flight), if !in_flight.is_empty() => {
                    in_flight.pop_front();
                    if session.handle.push(Outbound::frame(reply)).is_err() {
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
                    Some(Ok(message)) => message,
                },
            };
            session.handle.shared.heard.heard_at(Instant::now());
            let flow = Box::pin(on_message(
                &mut open.session,
                &mut open.in_flight,
                message,
                open.max_bytes,
            ));
            match flow.await {
                Flow::Read => {}
                Flow::Close(code) => break code,
                Flow::PeerClosed => {
                    peer_closed = true;
                    break Some(CloseCode::Normal);
                }
            }
        };
        // Fields used in place: moved out, they would be a second copy in the future.
        let Open {
            stream,
            session,
            done,
            sender,
            in_flight,
            ..
        } = &mut open;
        let handle = session.handle.clone();
        // New messages still committing are answered before the close, as long as the socket
        // can take it: their writes land whatever happens to the connection.
        if matches!(close, Some(code) if code != CloseCode::SlowConsumer) {
            let _ = tokio::time::timeout(CLOSE_LINGER, Box::pin(settle(in_flight, &handle))).await;
        }

        // Leave every room first, so that presence and typing are right whatever happens to
        // the socket.
        for room in session.subscribed.clone().rooms() {
            session.leave_room(room);
        }
        let gateway = &session.gateway;
        gateway.hub().disconnect(&handle);
        gateway.presence().statuses().disconnect(handle.user);
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
}

/// Opens the connection: its queue, the welcome frame, the sender task, and its place in
/// the hub and the statuses; `held` is kept until the connection ends. `None` when the
/// welcome cannot be queued. Synchronous, so that what it is given is not kept in any
/// future.
pub(super) fn open(
    socket: Socket,
    gateway: Gateway,
    conn_id: String,
    user: Box<User>,
    held: Held,
) -> Option<Open> {
    let settings = gateway.settings();
    let (queue_frames, heartbeat, max_bytes) = (
        settings.queue_frames as usize,
        settings.heartbeat(),
        settings.max_frame_bytes as usize,
    );
    let me = gateway.users().insert(&user);
    let user_id = user.id;
    let (handle, queue) = ConnHandle::new(
        gateway.next_conn_id(),
        user_id,
        queue_frames,
        gateway.inner.catch_ups.clone(),
    );
    let Socket {
        reader: stream,
        writer: transport,
    } = socket;

    let welcome = text(&ServerFrame::Welcome {
        protocol: protocol::SUBPROTOCOL.to_string(),
        conn_id,
        heartbeat_ms: heartbeat.as_millis() as u64,
        server: crate::SERVER_NAME.to_string(),
        user: (*me).clone(),
        max_upload_bytes: Some(settings.max_upload_bytes),
    });
    if handle.push(Outbound::frame(welcome)).is_err() {
        return None;
    }
    let (done, sender_end) = Ending::pair(&handle);
    let sender = tokio::spawn(super::sender::run(
        SharedSocket::install(&handle.shared, transport),
        queue,
        handle.shared.clone(),
        gateway.clone(),
        sender_end,
    ));
    handle.shared.heard.heard_at(Instant::now());
    gateway.hub().connect(&handle);
    // A shutdown that began before the hub knew of this connection did not ask it to close.
    if gateway.shutdown_token().is_cancelled() {
        handle.shared.end.ask_close(CloseCode::ServiceRestart);
    }
    gateway
        .presence()
        .statuses()
        .connect(user_id, std::time::Instant::now());
    metrics::gauge!("confab_connections_open").increment(1);
    tracing::debug!(user = %user_id, "connection open");
    Some(Open {
        stream,
        session: Session::new(gateway, handle, me),
        done,
        sender,
        in_flight: VecDeque::new(),
        max_bytes,
        _held: held,
    })
}

/// Handles one inbound message: a request gets exactly one reply, in request order (see
/// the module doc); a ping its pong; anything fatal says how to close.
async fn on_message(
    session: &mut Session,
    in_flight: &mut VecDeque<PendingReply>,
    message: Incoming,
    max_bytes: usize,
) -> Flow {
    let reply = match read_frame(message, max_bytes) {
        Inbound::Frame(frame) => {
            metrics::counter!("confab_frames_in_total", "type" => frame.kind()).increment(1);
            let posts = matches!(frame, ClientFrame::Send { .. } | ClientFrame::Reply { .. });
            // Anything but a new message first waits for the new messages before it.
            if !posts && !in_flight.is_empty() && !settle(in_flight, &session.handle).await {
                return Flow::Close(Some(CloseCode::SlowConsumer));
            }
            match session.handle(frame).await {
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
                Err(_stuck) => return Flow::Close(Some(CloseCode::SlowConsumer)),
            }
        }
        Inbound::Invalid(err) => Some(ServerFrame::Error {
            req: err.req,
            code: err.code,
            message: err.message,
        }),
        Inbound::Fatal(code) => return Flow::Close(Some(code)),
        Inbound::Closed => return Flow::PeerClosed,
        Inbound::Ping(payload) => {
            if session.handle.push(Outbound::pong(payload)).is_err() {
                return Flow::Close(Some(CloseCode::SlowConsumer));
            }
            return Flow::Read;
        }
        Inbound::Ignored => return Flow::Read,
    };
    if let Some(reply) = reply {
        if in_flight.is_empty() {
            if session.handle.push(Outbound::frame(text(&reply))).is_err() {
                return Flow::Close(Some(CloseCode::SlowConsumer));
            }
        } else {
            // An `error` for a malformed frame, too, comes after the acks before it.
            in_flight.push_back(Box::pin(std::future::ready(reply)));
        }
    }
    // The last refusal of the burst is sent, then the close.
    if session.flooding() {
        metrics::counter!("confab_flood_disconnects_total").increment(1);
        return Flow::Close(Some(CloseCode::Flooding));
    }
    Flow::Read
}

/// The oldest reply to come, encoded, once it is ready (cancel-safe: it stays in the queue
/// until the caller pops it).
async fn oldest(in_flight: &mut VecDeque<PendingReply>) -> FrameText {
    match in_flight.front_mut() {
        Some(pending) => text(&pending.as_mut().await),
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
    use super::super::transport::SharedSocket;

    /// The size of the future a function of one (or five) arguments returns.
    fn future_of_1<A, F>(_: fn(A) -> F) -> usize {
        std::mem::size_of::<F>()
    }
    fn future_of_5<A, B, C, D, E, F>(_: fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn an_idle_connections_two_tasks_stay_small() {
        // Each is held by every connection for its whole life; state that only a request,
        // a fill or a blocked write needs is boxed while it runs.
        let reader = future_of_1(super::run);
        let sender = future_of_5(super::super::sender::run::<SharedSocket>);
        assert!(reader <= 720, "the connection's loop takes {reader} bytes");
        // A task's cell (its header, the future, its trailer: about 104 bytes besides the
        // future) is 128-byte aligned on x86-64: past 408 bytes the sender's cell grows
        // from 512 to 640 bytes in every connection.
        assert!(sender <= 408, "the sender takes {sender} bytes");
    }
}
