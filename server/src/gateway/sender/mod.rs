//! The sender task: the only writer of a connection's socket. It drains the connection's
//! queue and is where per-room delivery is made exact.
//!
//! For every subscribed room it keeps a *cursor*, the last seq delivered. A room event
//! is written only if it is the cursor's successor; an older one is a duplicate and is
//! skipped; a newer one means events were missed (published out of order, or not queued
//! because the connection lagged) and the gap is filled from the Store first. Resuming a
//! room is the same mechanism from the client's `since_seq`; when the gap is larger than
//! the resume bound, or the client has no seq, a snapshot page is sent instead and the
//! cursor starts at the room's last seq. Because every event is committed before it is
//! published, whatever the queue missed is in the Store by the time it is looked for: no
//! gap, no duplicate.
//!
//! Resumes, fills and snapshots are in `catch_up.rs`. A fill reads the node's recent
//! events first (`gateway/recent.rs`, the same encoded events the fan-out offered) when
//! they reach back to the cursor and the node sees every room's events; the Store only
//! for what is older, or on a cluster.
//!
//! A socket write that stays blocked past the stuck bound closes the connection (4101):
//! that client resumes on reconnect. Once the reader has given the connection up
//! (`done`: a silent peer past the heartbeat deadline, or any close that did not get
//! through in time), a write blocked on a peer that stopped reading is abandoned at once,
//! so the queue and the socket are freed then, not at the stuck bound.
//!
//! Writes are corked for one turn of the runtime. When the queue runs empty with frames
//! written but not yet sent, the sender yields once before it flushes: every other task
//! ready in this turn runs first, and what they queue for this connection (the next
//! commit's events, a presence diff) joins the same system call. An idle runtime runs the
//! sender again at once, so a lone event waits for nothing; under load a turn lasts
//! longer, more events meet in one write, and a delivery gets cheaper as load grows.
//! Metrics are kept per write, not per frame: frames counted at the flush, and the
//! delivery latency of the first (oldest) event of each write.
//!
//! The cursors live in the connection's shared state, beside a WebSocket's writing half
//! (`direct.rs`): while the sender is parked on its empty queue, the fan-out may write the
//! next event of a room itself and move the cursor. It may leave frames pending that the
//! socket would not take; the sender flushes whatever is pending when its queue runs
//! empty, and is woken with [`Outbound::Flush`] when nothing else would wake it.
//!
//! The same loop serves WebSockets and Server-Sent Events streams: it writes through a
//! [`Transport`].

use protocol::CloseCode;
use protocol::ids::{RoomId, Seq};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use super::Gateway;
use super::direct::OutgoingLock;
use super::encode::frame_type_index;
use super::ending::Ending;
use super::outbound::{Outbound, RoomEvent, Shared};
use super::queue::QueueRx;
use super::transport::{Transport, TransportClosed};
use confab_websocket::FrameText;

/// Events read from the Store per query while replaying.
const REPLAY_PAGE: u32 = 500;
/// How long a client closed for flooding is asked to stay away.
pub const FLOOD_WAIT_MS: u64 = 5_000;
/// How long a close frame may take to write.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// Messages in a snapshot page.
const SNAPSHOT_PAGE: u32 = 50;

/// Why the sender stopped.
enum Stop {
    /// The socket failed or a write stayed blocked too long.
    Transport,
    /// A close frame was sent.
    Closed,
}

/// The sender's state. It borrows the transport and the gateway from [`run`]'s arguments
/// instead of taking them: a task's future keeps its arguments for its whole life, so a
/// moved copy would be a second one in every connection.
struct Sender<'a, S: Transport> {
    transport: &'a mut S,
    gateway: &'a Gateway,
    /// The cursors: the last seq written of each room delivered.
    outgoing: &'a OutgoingLock,
    /// Room events written since the last flush (counted in the metrics at the flush).
    unflushed_events: u32,
    /// Whether anything was written since the last flush.
    unflushed: bool,
}

/// Counts a running sender for as long as it lives ([`Gateway::senders_running`]).
struct Running(Gateway);

impl Running {
    fn start(gateway: &Gateway) -> Running {
        gateway.inner.senders.fetch_add(1, Ordering::Relaxed);
        Running(gateway.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.inner.senders.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs until the queue ends, a close is sent, the socket fails, or the connection is
/// ended at the other end of `done` (even in the middle of a blocked write). Ends it when
/// it stops, so the reader stops too.
///
/// An async block rather than an async fn: an async fn keeps each argument twice in its
/// future (the argument and the local it is bound to), and this future lives as long as
/// the connection.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn would hold every argument twice for the connection's life"
)]
pub(super) fn run<S: Transport>(
    mut transport: S,
    mut queue: QueueRx<Outbound>,
    shared: Arc<Shared>,
    gateway: Gateway,
    done: Ending,
) -> impl Future<Output = ()> + Send {
    async move {
        let _running = Running::start(&gateway);
        let mut sender = Sender {
            transport: &mut transport,
            gateway: &gateway,
            outgoing: &shared.outgoing,
            unflushed_events: 0,
            unflushed: false,
        };
        tokio::select! {
            () = deliver(&mut sender, &mut queue, &shared, &done) => {}
            () = done.ended() => {}
        }
        done.end();
    }
}

/// The sender's loop (see [`run`]), which `run` drops as soon as the connection has ended.
async fn deliver<S: Transport>(
    sender: &mut Sender<'_, S>,
    queue: &mut QueueRx<Outbound>,
    shared: &Shared,
    done: &Ending,
) {
    // `done` is watched by `run`, once for the connection's life, not by a wait per item.
    while let Some(item) = queue.recv().await {
        let result = match item {
            // The common case, a room's next event, in the loop itself: no allocation, and
            // no state but a flush's while it waits.
            Outbound::Event(event) if sender.is_next(&event) => match sender.queue_event(&event) {
                Ok(true) => sender.flush().await,
                Ok(false) => Ok(()),
                Err(stop) => Err(stop),
            },
            // Anything else boxed, like the fills below: their state exists only while they
            // run, instead of in every idle connection's task.
            item => Box::pin(sender.process(item)).await,
        };
        if let Err(stop) = result {
            if matches!(stop, Stop::Transport) {
                tracing::debug!("sender stopped: transport");
            }
            break;
        }
        if queue.is_empty() {
            let lagging = shared.take_lagging();
            for room in lagging {
                if Box::pin(sender.fill(room)).await.is_err() {
                    done.end();
                    return;
                }
            }
            if !sender.unflushed && !sender.transport.has_pending() {
                continue;
            }
            // The cork: let the rest of this turn queue more for the same write.
            if S::BUFFERS_WRITES {
                tokio::task::yield_now().await;
                if !queue.is_empty() {
                    continue;
                }
            }
            // Nothing else is waiting: what was written goes out now.
            if sender.flush().await.is_err() {
                done.end();
                return;
            }
        }
    }
    done.end();
}

impl<S: Transport> Sender<'_, S> {
    /// Sends a close frame, giving up after [`CLOSE_TIMEOUT`] (a stuck socket cannot take it).
    /// A restart close tells the client how long to wait, spread over the configured span.
    async fn send_close(&mut self, code: CloseCode) {
        let reason = match code {
            CloseCode::ServiceRestart => protocol::close::restart_reason(
                self.gateway.settings().restart_wait_ms(rand::random()),
            ),
            CloseCode::Flooding => protocol::close::reason_with_wait(code, FLOOD_WAIT_MS),
            other => other.reason().to_string(),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.transport.close(code, reason)).await;
    }

    async fn write(&mut self, text: FrameText) -> Result<(), Stop> {
        self.write_at(text, None).await
    }

    /// Sends what the transport has buffered; a flush blocked past `--stuck-secs` closes the
    /// connection as a slow consumer, like a blocked write.
    async fn flush(&mut self) -> Result<(), Stop> {
        let stuck = self.gateway.settings().stuck_after();
        self.unflushed = false;
        if self.unflushed_events > 0 {
            crate::metrics::delivery().events_out(self.unflushed_events);
            self.unflushed_events = 0;
        }
        let outcome = within(stuck, self.transport.flush()).await;
        self.unless_stuck(outcome).await
    }

    /// The outcome of a write or flush bounded by `--stuck-secs`: one that stayed blocked
    /// past it closes the connection as a slow consumer.
    async fn unless_stuck(&mut self, outcome: Bounded) -> Result<(), Stop> {
        match outcome {
            Bounded::Done(Ok(())) => Ok(()),
            Bounded::Done(Err(_)) => Err(Stop::Transport),
            Bounded::Stuck => {
                // Boxed: a close's state exists only while it runs.
                Box::pin(async {
                    tracing::info!("client stuck: closing as slow consumer");
                    self.send_close(CloseCode::SlowConsumer).await;
                })
                .await;
                Err(Stop::Transport)
            }
        }
    }

    /// Whether `event` is the next one of a room this connection is delivering.
    fn is_next(&self, event: &RoomEvent) -> bool {
        self.cursor(event.room)
            .is_some_and(|cursor| event.seq == cursor + 1)
    }

    /// The last seq written of `room`, if it is delivered.
    fn cursor(&self, room: RoomId) -> Option<Seq> {
        self.outgoing.lock().cursors.get(&room).copied()
    }

    /// Moves `room`'s cursor (and starts delivering it).
    fn set_cursor(&self, room: RoomId, seq: Seq) {
        self.outgoing.lock().cursors.insert(room, seq);
    }

    /// Writes a room's next event and moves its cursor.
    async fn write_event(&mut self, event: &RoomEvent) -> Result<(), Stop> {
        if self.queue_event(event)? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues a room's next event on the transport and moves its cursor, without waiting;
    /// `Ok(true)` when enough is pending that the caller should flush now.
    fn queue_event(&mut self, event: &RoomEvent) -> Result<bool, Stop> {
        let flush_now = self.queue(event.text.clone(), Some(event.seq))?;
        if self.unflushed_events == 0 {
            crate::metrics::delivery()
                .delivery_seconds
                .record(event.committed.elapsed().as_secs_f64());
        }
        self.unflushed_events += 1;
        self.set_cursor(event.room, event.seq);
        Ok(flush_now)
    }

    /// Writes a frame; `seq` is the room position it brings the reader to (the SSE id).
    async fn write_at(&mut self, text: FrameText, seq: Option<Seq>) -> Result<(), Stop> {
        let kind = frame_type_index(text.as_bytes());
        self.write_counted(text, seq).await?;
        crate::metrics::delivery().frame_out(kind);
        Ok(())
    }

    /// Writes a frame without counting it (the caller does): queued on the transport, and
    /// flushed at once only when the transport has enough pending.
    async fn write_counted(&mut self, text: FrameText, seq: Option<Seq>) -> Result<(), Stop> {
        if self.queue(text, seq)? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues a frame on the transport, without waiting; `Ok(true)` when enough is pending
    /// that the caller should flush now.
    fn queue(&mut self, text: FrameText, seq: Option<Seq>) -> Result<bool, Stop> {
        self.unflushed = true;
        self.transport
            .queue(text, seq)
            .map_err(|TransportClosed| Stop::Transport)
    }

    async fn process(&mut self, item: Outbound) -> Result<(), Stop> {
        match item {
            Outbound::Frame(text) => self.write(Arc::unwrap_or_clone(text)).await,
            Outbound::Event(event) => {
                let (room, seq) = (event.room, event.seq);
                let Some(cursor) = self.cursor(room) else {
                    return Ok(()); // not (or no longer) delivering this room
                };
                if seq <= cursor {
                    return Ok(());
                }
                if seq > cursor + 1 {
                    self.fill(room).await?;
                    if self.cursor(room).is_none_or(|c| seq <= c) {
                        return Ok(());
                    }
                }
                self.write_event(&event).await
            }
            Outbound::Resume(at) => {
                let (room, since) = *at;
                self.resume(room, since).await
            }
            Outbound::Fill(room) => self.fill(*room).await,
            Outbound::Forget(room) => {
                let none_left = {
                    let cursors = &mut self.outgoing.lock().cursors;
                    cursors.remove(&room);
                    cursors.is_empty()
                };
                if S::ENDS_WITHOUT_ROOMS && none_left {
                    self.send_close(CloseCode::Normal).await;
                    return Err(Stop::Closed);
                }
                Ok(())
            }
            Outbound::Pong(payload) => {
                let stuck = self.gateway.settings().stuck_after();
                self.unflushed = true;
                match within(stuck, self.transport.pong(*payload)).await {
                    Bounded::Done(Ok(())) => Ok(()),
                    _ => Err(Stop::Transport),
                }
            }
            Outbound::Close(code) => {
                self.send_close(code).await;
                Err(Stop::Closed)
            }
            // Written when the queue runs empty, with whatever else is pending.
            Outbound::Flush => {
                self.unflushed = true;
                Ok(())
            }
        }
    }
}

/// A write or flush bounded by `--stuck-secs`.
enum Bounded {
    Done(Result<(), TransportClosed>),
    /// Still blocked at the bound.
    Stuck,
}

/// Runs `write` bounded by `stuck`. Almost every write completes at its first poll, and
/// then no timer is made (no clock read, no timer entry, no allocation); one that does not
/// is given a boxed timer, so the sender's loop never holds one inline for the
/// connection's whole life.
async fn within<F>(stuck: std::time::Duration, write: F) -> Bounded
where
    F: Future<Output = Result<(), TransportClosed>>,
{
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(done) = futures_util::poll!(write.as_mut()) {
        return Bounded::Done(done);
    }
    match Box::pin(tokio::time::timeout(stuck, write)).await {
        Ok(done) => Bounded::Done(done),
        Err(_) => Bounded::Stuck,
    }
}

mod catch_up;
#[cfg(test)]
mod tests;
