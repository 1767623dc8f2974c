//! Direct delivery: the fan-out writes a room event to a connection's socket itself when
//! the connection's sender task is asleep, instead of waking the task to do it.
//!
//! A connection's outgoing state ([`Outgoing`]: its per-room cursors and, for a WebSocket,
//! the socket's writing half) sits behind a lock in the connection's shared state. The
//! sender task uses it while it runs; while it is *parked* on its empty queue (`queue.rs`),
//! the fan-out may use it in the sender's place, under the queue's lock, so that nothing
//! is pushed or taken meanwhile. The same rules as the sender's hold: an event is written
//! only if it is its room's cursor's successor; anything else (a gap, a room not yet
//! resumed, a duplicate) goes through the queue as before and the sender sorts it out.
//!
//! Direct writes happen only inside a *cork*: the group commit's hook opens one for each
//! committed batch ([`corked`]), and the broker's handler one for each delivery (from
//! another node, or an announcement again; a local commit's is inside its batch's). An
//! event appended while corked is not written at once: the connections a batch reached are handed to the gateway's one [`Flusher`] task, which
//! lets the rest of the runtime's turn run first (the next batch's fan-out appends to the
//! same sockets meanwhile), and more turns while batches keep arriving (at most
//! [`MAX_TURNS`]), then writes each connection once, every event appended since in one
//! system call. An idle runtime runs it at once, so a lone event waits for nothing; under
//! load more events meet in one write. (Yielding once only, the flusher wrote sooner than
//! the senders' own corks did and the ramp held half as much: docs/benchmarks.md.) A
//! connection whose socket will not take everything keeps the rest in its writer, and its
//! sender is woken to finish the flush (bounded by `--stuck-secs`, as any of its writes).
//! Outside a cork (a test's offer, say) events are queued as before.
//!
//! What this saves per delivery: the queue's push and pop, the sender's wake-up and its
//! two turns (the second after its cork's yield), and the lag check of each turn.

use confab_websocket::FrameText;
use protocol::ids::Seq;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::outbound::{ConnHandle, Outbound, RoomEvent};
use super::room_map::RoomMap;
use super::socket::UpgradedWriter;

/// A connection's outgoing state, used by its sender while it runs and by the fan-out
/// while the sender is parked.
#[derive(Default)]
pub struct Outgoing {
    /// The last seq written of each room delivered (see `sender/mod.rs`).
    pub cursors: RoomMap<Seq>,
    /// The WebSocket's writing half; `None` for a Server-Sent Events stream (the sender
    /// owns that transport) and once the sender has ended.
    pub socket: Option<UpgradedWriter>,
}

/// [`Outgoing`] behind its lock.
#[derive(Default)]
pub struct OutgoingLock(Mutex<Outgoing>);

impl OutgoingLock {
    pub fn lock(&self) -> MutexGuard<'_, Outgoing> {
        // Nothing in `Outgoing` is left half-changed by a panic.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for OutgoingLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingLock").finish_non_exhaustive()
    }
}

/// A connection an open cork reached: written when the cork closes.
struct Reached {
    conn: ConnHandle,
    /// When the oldest event appended for it was committed (for the delivery latency).
    committed: Instant,
}

/// A cork open on a thread.
struct Cork {
    reached: Vec<Reached>,
    /// Events appended, counted in the metrics when the cork closes.
    events: u32,
}

thread_local! {
    /// The cork open on this thread, if one is.
    static CORK: RefCell<Option<Cork>> = const { RefCell::new(None) };
}

/// Turns of the runtime the flusher waits at most while batches keep arriving.
const MAX_TURNS: usize = 8;

/// Writes the connections corks reached: one task per gateway ([`Flusher::start`]).
#[derive(Default)]
pub struct Flusher {
    reached: Mutex<Vec<Reached>>,
    /// Batches handed over so far.
    handed: AtomicU64,
    wake: tokio::sync::Notify,
}

impl Flusher {
    /// A flusher and its task (which lives as long as the runtime: it holds nothing but
    /// the flusher).
    pub fn start() -> Arc<Flusher> {
        let flusher = Arc::new(Flusher::default());
        let task = flusher.clone();
        tokio::spawn(async move {
            loop {
                task.wake.notified().await;
                // The cork of the runtime: whatever else is ready runs first, and the
                // events it fans out to the same connections join their writes; while
                // more batches keep arriving, a few turns more.
                for _ in 0..MAX_TURNS {
                    let handed = task.handed.load(Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    if task.handed.load(Ordering::Relaxed) == handed {
                        break;
                    }
                }
                task.write_reached();
            }
        });
        flusher
    }

    fn hand_over(&self, reached: Vec<Reached>) {
        self.lock().extend(reached);
        self.handed.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Reached>> {
        self.reached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes every connection reached since the last round.
    fn write_reached(&self) {
        let reached = std::mem::take(&mut *self.lock());
        let now = Instant::now();
        let delivery = crate::metrics::delivery();
        for Reached { conn, committed } in reached {
            delivery
                .delivery_seconds
                .record(now.saturating_duration_since(committed).as_secs_f64());
            flush(&conn);
        }
    }
}

/// Runs `fan_out` with a cork open on this thread: room events it offers to parked
/// connections are appended to their sockets, and the connections reached are handed to
/// `flusher` when `fan_out` returns (or unwinds). A cork opened inside another is the
/// outer one's.
pub fn corked<R>(flusher: &Flusher, fan_out: impl FnOnce() -> R) -> R {
    let opened = CORK.with_borrow_mut(|cork| {
        if cork.is_some() {
            return false;
        }
        *cork = Some(Cork {
            reached: Vec::new(),
            events: 0,
        });
        true
    });
    if !opened {
        return fan_out();
    }
    let _close = CloseOnDrop(flusher);
    fan_out()
}

/// Closes this thread's cork: hands the connections it reached to the flusher.
struct CloseOnDrop<'a>(&'a Flusher);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        let Some(Cork { reached, events }) = CORK.with_borrow_mut(Option::take) else {
            return;
        };
        if !reached.is_empty() {
            crate::metrics::delivery().events_out(events);
            self.0.hand_over(reached);
        }
    }
}

/// Offers a room event for a direct write: `true` when it was appended to the
/// connection's socket (inside a cork, its sender parked, the event its room's next);
/// `false` when the caller must queue it.
pub fn offer(conn: &ConnHandle, event: &RoomEvent) -> bool {
    CORK.with_borrow_mut(|cork| {
        let Some(cork) = cork else {
            return false;
        };
        let appended = conn
            .queue()
            .when_parked(|| append(&mut conn.shared.outgoing.lock(), event));
        match appended {
            Some(Appended::First) => {
                cork.events += 1;
                cork.reached.push(Reached {
                    conn: conn.clone(),
                    committed: event.committed,
                });
                true
            }
            Some(Appended::More) => {
                cork.events += 1;
                true
            }
            Some(Appended::No) | None => false,
        }
    })
}

enum Appended {
    /// The first frame pending on the socket: the connection joins the cork.
    First,
    /// Behind frames already pending (the cork already holds the connection).
    More,
    No,
}

/// Appends `event` to the socket if it is its room's next; moves the cursor.
fn append(out: &mut Outgoing, event: &RoomEvent) -> Appended {
    let Outgoing { cursors, socket } = out;
    let Some(socket) = socket.as_mut() else {
        return Appended::No;
    };
    if cursors.get(&event.room).is_none_or(|&c| event.seq != c + 1) {
        return Appended::No;
    }
    let first = !socket.has_pending();
    if socket
        .queue_text(bytes::Bytes::from(FrameText::clone(&event.text)))
        .is_err()
    {
        return Appended::No; // a close frame was sent: the sender drops what follows
    }
    cursors.insert(event.room, event.seq);
    if first {
        Appended::First
    } else {
        Appended::More
    }
}

/// Writes what corks appended to a connection's socket, if its sender is still parked;
/// what the socket will not take now is left to the sender, which is woken for it. A
/// sender that woke meanwhile flushes it itself (it flushes whenever its queue runs empty
/// with anything pending).
fn flush(conn: &ConnHandle) {
    let written = conn.queue().when_parked(|| {
        let mut out = conn.shared.outgoing.lock();
        let Some(socket) = out.socket.as_mut() else {
            return true;
        };
        // A failed socket is the sender's to find, on its own flush.
        matches!(socket.try_flush(), Ok(true))
    });
    if written == Some(false) {
        // Past the reserve the queue is full, so the sender is busy and will flush.
        let _ = conn.push(Outbound::Flush);
    }
}
