//! Where a connection's frames go. The sender task (`sender.rs`) writes through a
//! [`Transport`]: the writing half of a WebSocket ([`SharedSocket`], kept in the
//! connection's shared state so that the fan-out can write while the sender is parked,
//! `direct.rs`), or a Server-Sent Events response ([`SseTransport`]), so that ordering,
//! resume and catch-up are the same code for both.
//!
//! On an SSE stream a room event (and a snapshot) carries its seq as the event `id`, which
//! the client sends back as `Last-Event-ID` to resume. A close becomes a last
//! `{"type":"close","code":…,"reason":…}` event; a restart close also sets the stream's
//! `retry` to the advised wait, which `EventSource` honours by itself.

use axum::response::sse::Event;
use bytes::Bytes;
use confab_websocket::FrameText;
use protocol::CloseCode;
use protocol::ids::Seq;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

use super::outbound::Shared;
use super::socket::UpgradedWriter;

/// The other side is gone.
#[derive(Debug, Clone, Copy)]
pub(super) struct TransportClosed;

/// A transport for one connection's outgoing frames.
pub(super) trait Transport: Send + 'static {
    /// Whether the connection ends once it delivers no room any more (an SSE room stream
    /// has nothing else to say; a WebSocket stays open for requests).
    const ENDS_WITHOUT_ROOMS: bool;

    /// Whether writes stay buffered until [`Transport::flush`], so that waiting before the
    /// flush lets more frames share one system call (the sender corks only then).
    const BUFFERS_WRITES: bool;

    /// Adds one frame to what the next [`Transport::flush`] writes, without waiting; `seq`
    /// is set for room events and snapshots. `Ok(true)` when enough is pending that the
    /// sender should flush now. Synchronous, so that delivering an event keeps no write's
    /// state in the sender's future: only a flush waits.
    fn queue(&mut self, text: FrameText, seq: Option<Seq>) -> Result<bool, TransportClosed>;

    /// Whether frames are pending that the sender did not queue itself (the fan-out's,
    /// `direct.rs`): the sender flushes them when its queue runs empty.
    fn has_pending(&self) -> bool {
        false
    }

    /// Writes whatever is queued. The sender calls it whenever its queue runs empty, so
    /// a burst goes out in a few large socket writes instead of one per frame.
    fn flush(&mut self) -> impl Future<Output = Result<(), TransportClosed>> + Send;

    /// Writes the closing frame.
    fn close(&mut self, code: CloseCode, reason: String) -> impl Future<Output = ()> + Send;

    /// Answers a WebSocket ping (no other transport has them).
    fn pong(&mut self, payload: Bytes) -> impl Future<Output = Result<(), TransportClosed>> + Send;
}

/// A WebSocket's writing half as the sender uses it: kept in the connection's shared
/// state ([`Outgoing`](super::direct::Outgoing)), locked for each step and never across a wait. Dropping it (the
/// sender has ended) drops the writing half, which half-closes the stream.
pub(super) struct SharedSocket(Arc<Shared>);

impl SharedSocket {
    /// Puts `writer` in the connection's shared state.
    pub(super) fn install(shared: &Arc<Shared>, writer: UpgradedWriter) -> SharedSocket {
        shared.outgoing.lock().socket = Some(writer);
        SharedSocket(shared.clone())
    }

    fn with<R>(&self, act: impl FnOnce(&mut UpgradedWriter) -> R) -> Option<R> {
        self.0.outgoing.lock().socket.as_mut().map(act)
    }

    /// Polls a flush of everything pending (the close frame too, once queued).
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<Result<(), TransportClosed>> {
        match self.with(|socket| socket.poll_flush(cx)) {
            Some(Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            Some(Poll::Pending) => Poll::Pending,
            Some(Poll::Ready(Err(_))) | None => Poll::Ready(Err(TransportClosed)),
        }
    }
}

impl Drop for SharedSocket {
    fn drop(&mut self) {
        let socket = self.0.outgoing.lock().socket.take();
        drop(socket);
    }
}

impl Transport for SharedSocket {
    const ENDS_WITHOUT_ROOMS: bool = false;
    const BUFFERS_WRITES: bool = true;

    fn queue(&mut self, text: FrameText, _seq: Option<Seq>) -> Result<bool, TransportClosed> {
        match self.with(|socket| socket.queue_text(Bytes::from(text))) {
            Some(Ok(flush_now)) => Ok(flush_now),
            _ => Err(TransportClosed),
        }
    }

    fn has_pending(&self) -> bool {
        self.with(|socket| socket.has_pending()).unwrap_or(false)
    }

    async fn flush(&mut self) -> Result<(), TransportClosed> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    async fn close(&mut self, code: CloseCode, reason: String) {
        if let Some(Ok(())) = self.with(|socket| socket.queue_close(code.code(), &reason)) {
            let _ = self.flush().await;
        }
    }

    async fn pong(&mut self, payload: Bytes) -> Result<(), TransportClosed> {
        match self.with(|socket| socket.queue_pong(payload)) {
            Some(Ok(false)) => Ok(()),
            Some(Ok(true)) => self.flush().await,
            _ => Err(TransportClosed),
        }
    }
}

/// The body of a Server-Sent Events response, fed through a small channel. An event
/// queued is handed to the body at the flush that follows it at once.
pub(super) struct SseTransport {
    tx: mpsc::Sender<Result<Event, Infallible>>,
    pending: Option<Event>,
}

impl SseTransport {
    pub(super) fn new(tx: mpsc::Sender<Result<Event, Infallible>>) -> SseTransport {
        SseTransport { tx, pending: None }
    }
}

/// The last event of a stream that the server ends.
pub(super) fn close_event(code: CloseCode, reason: &str) -> Event {
    let data = serde_json::json!({"type": "close", "code": code.code(), "reason": reason});
    let event = Event::default().data(data.to_string());
    match protocol::close::retry_after_ms(reason) {
        Some(ms) => event.retry(Duration::from_millis(ms)),
        None => event,
    }
}

impl Transport for SseTransport {
    const ENDS_WITHOUT_ROOMS: bool = true;
    const BUFFERS_WRITES: bool = false;

    /// One event at a time: it asks for a flush at once, which hands it to the body.
    fn queue(&mut self, text: FrameText, seq: Option<Seq>) -> Result<bool, TransportClosed> {
        if self.tx.is_closed() {
            return Err(TransportClosed);
        }
        let event = Event::default().data(text.as_str());
        let event = match seq {
            Some(seq) => event.id(seq.to_string()),
            None => event,
        };
        debug_assert!(
            self.pending.is_none(),
            "the sender flushes after each event"
        );
        self.pending = Some(event);
        Ok(true)
    }

    /// Hands the queued event to the response body, waiting while the body's buffer is
    /// full; the body streams it.
    async fn flush(&mut self) -> Result<(), TransportClosed> {
        match self.pending.take() {
            Some(event) => self.tx.send(Ok(event)).await.map_err(|_| TransportClosed),
            None => Ok(()),
        }
    }

    async fn close(&mut self, code: CloseCode, reason: String) {
        if self.flush().await.is_ok() {
            let _ = self.tx.send(Ok(close_event(code, &reason))).await;
        }
    }

    /// An SSE client never pings.
    async fn pong(&mut self, _payload: Bytes) -> Result<(), TransportClosed> {
        Ok(())
    }
}
