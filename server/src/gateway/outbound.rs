//! A connection's outgoing queue and the handle the rest of the gateway uses to reach it.
//!
//! The queue is bounded. Room events are offered with `try_send` and only while more than
//! [`RESERVE`] slots are free; when they are not, the connection is marked *lagging* for
//! that room and the event is not queued (it is in the Store, and the connection's sender
//! task replays from there once its queue has drained). Ephemeral frames (typing,
//! presence) are simply dropped under the same condition. Replies to the connection's own
//! requests may use the reserve; if even that is full the client has stopped reading and
//! is closed as a slow consumer. Nothing here ever waits, so neither the fan-out nor the
//! connection's reader is slowed by a slow socket.

use confab_websocket::FrameText;
use protocol::CloseCode;
use protocol::ids::{RoomId, Seq, UserId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::direct::{self, OutgoingLock};
use super::ending::End;
use super::heartbeat::Heard;
use super::queue::{QueueRx, QueueTx, queue};

/// Slots kept free for replies to the connection's own requests.
pub const RESERVE: usize = 32;

/// One item of a connection's queue.
///
/// Every payload is one pointer (or smaller): every slot of the queue's buffer is as
/// large as the largest variant, and an idle connection keeps a buffer of a few slots
/// (`queue.rs`). With a frame's text (32 bytes) or a room id (16 bytes) inline a slot
/// took 40 bytes; behind a pointer it takes 16. The rare items pay one small allocation
/// each; a frame fanned out to many queues (typing, presence) shares one `Arc`.
#[derive(Debug)]
pub enum Outbound {
    /// A room event, encoded once and shared by every subscriber's queue; the sender
    /// checks its seq against the room's cursor.
    Event(Arc<RoomEvent>),
    /// Any other frame, pre-encoded.
    Frame(Arc<FrameText>),
    /// Start delivering a room: replay from the Store after a seq (or send a snapshot).
    Resume(Box<(RoomId, Option<Seq>)>),
    /// Deliver from the Store whatever of a room came after the cursor (events may have
    /// been lost between nodes).
    Fill(Box<RoomId>),
    /// Stop delivering a room.
    Forget(Box<RoomId>),
    /// Answer a ping with its bytes (WebSocket only).
    Pong(Box<bytes::Bytes>),
    /// Finish writing what the fan-out appended to the socket while the sender was
    /// parked and the socket would not take at once (`direct.rs`).
    Flush,
    /// Close the connection with this code.
    Close(CloseCode),
}

impl Outbound {
    /// A frame for this connection alone.
    pub fn frame(text: FrameText) -> Outbound {
        Outbound::Frame(Arc::new(text))
    }

    /// Start delivering `room` after `since` (or from a snapshot).
    pub fn resume(room: RoomId, since: Option<Seq>) -> Outbound {
        Outbound::Resume(Box::new((room, since)))
    }

    /// Fill `room` from the Store.
    pub fn fill(room: RoomId) -> Outbound {
        Outbound::Fill(Box::new(room))
    }

    /// Stop delivering `room`.
    pub fn forget(room: RoomId) -> Outbound {
        Outbound::Forget(Box::new(room))
    }

    /// Answer a ping.
    pub fn pong(payload: bytes::Bytes) -> Outbound {
        Outbound::Pong(Box::new(payload))
    }
}

/// A room event as every local subscriber gets it. Queues hold it behind an `Arc`, which
/// keeps [`Outbound`] small: the largest variant sets the size of every slot.
#[derive(Debug)]
pub struct RoomEvent {
    pub room: RoomId,
    pub seq: Seq,
    pub text: FrameText,
    /// When the event was committed (for the delivery-latency histogram).
    pub committed: Instant,
}

/// Per-connection state shared between the hub (which marks lag, and asks silent
/// connections to close), the reader and the sender task (which catches up).
#[derive(Debug, Default)]
pub struct Shared {
    /// The rooms that missed events (a few at most, and mostly none: no table).
    lagging: Mutex<Vec<RoomId>>,
    /// The gateway-wide count of catch-up switches.
    total_catch_ups: Arc<AtomicU64>,
    /// The connection's end (`ending.rs`).
    pub end: End,
    /// When the reader last heard from the client (`heartbeat.rs`).
    pub heard: Heard,
    /// The cursors and the socket, shared by the sender and the fan-out (`direct.rs`).
    pub outgoing: OutgoingLock,
}

impl Shared {
    /// Takes the set of rooms that missed events.
    pub fn take_lagging(&self) -> Vec<RoomId> {
        std::mem::take(&mut *self.lagging.lock().expect("lag lock"))
    }

    fn mark_lagging(&self, room: RoomId) {
        let newly = {
            let mut lagging = self.lagging.lock().expect("lag lock");
            let newly = !lagging.contains(&room);
            if newly {
                lagging.push(room);
            }
            newly
        };
        if newly {
            self.total_catch_ups.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("confab_catch_ups_total").increment(1);
        }
    }
}

/// The client stopped reading: even the reserve is full.
#[derive(Debug, Clone, Copy)]
pub struct Stuck;

/// A cheap handle on one connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: u64,
    pub user: UserId,
    queue: QueueTx<Outbound>,
    pub shared: Arc<Shared>,
}

impl ConnHandle {
    /// A handle and the receiving end of its queue of `capacity` items; catch-up switches
    /// are also counted in `total_catch_ups`.
    pub fn new(
        id: u64,
        user: UserId,
        capacity: usize,
        total_catch_ups: Arc<AtomicU64>,
    ) -> (ConnHandle, QueueRx<Outbound>) {
        let (queue, rx) = queue(capacity.max(RESERVE * 2));
        (
            ConnHandle {
                id,
                user,
                queue,
                shared: Arc::new(Shared {
                    total_catch_ups,
                    ..Shared::default()
                }),
            },
            rx,
        )
    }

    /// Offers a room event: written by the caller when it can be (`direct.rs`), queued
    /// otherwise; marks the room lagging instead when the queue is too full.
    pub fn offer_event(&self, event: &Arc<RoomEvent>) {
        if direct::offer(self, event) {
            return;
        }
        if self
            .queue
            .try_send_keeping(Outbound::Event(event.clone()), RESERVE)
            .is_err()
        {
            self.shared.mark_lagging(event.room);
        }
    }

    /// Offers an ephemeral frame; drops it when the queue is too full.
    pub fn offer_ephemeral(&self, text: &Arc<FrameText>) {
        if self
            .queue
            .try_send_keeping(Outbound::Frame(text.clone()), RESERVE)
            .is_err()
        {
            metrics::counter!("confab_dropped_ephemeral_total").increment(1);
        }
    }

    /// Asks the sender to fill `room` from the Store; a queue too full for it marks the
    /// room lagging instead, which leads to the same fill once the queue drains.
    pub fn ask_fill(&self, room: RoomId) {
        if self
            .queue
            .try_send_keeping(Outbound::fill(room), RESERVE)
            .is_err()
        {
            self.shared.mark_lagging(room);
        }
    }

    /// The connection's queue.
    pub(super) fn queue(&self) -> &QueueTx<Outbound> {
        &self.queue
    }

    /// Queues a reply or control item, using the reserve if needed.
    pub fn push(&self, item: Outbound) -> Result<(), Stuck> {
        self.queue.try_send(item).map_err(|_| Stuck)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_slot_is_two_words() {
        // Every idle connection holds a few slots; see `Outbound`.
        assert_eq!(std::mem::size_of::<Outbound>(), 16);
    }
}
