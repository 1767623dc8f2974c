//! The browser's live socket: one WebSocket to the gateway for the whole page. It
//! implements the chat state's [`LiveLink`] handle ([`Socket`]) and writes what arrives
//! into the chat state. Browser only (`hydrate`).
//!
//! - **Requests.** Every frame carries a fresh `req`; [`Pending`] remembers what each
//!   was for, so its ack or error lands in the right place (the outbox, a timeline, a
//!   dialog's callback). A dropped connection fails or requeues whatever was pending.
//! - **Resume.** The socket remembers the rooms it watches (those shown, a few recent
//!   ones warm: [`crate::chat::watched`]; a room that falls out is unsubscribed). On
//!   every `welcome` it subscribes to each with `since_seq` = the last seq its timeline
//!   applied, then sends the outbox in order. A gap in seqs resubscribes the room from
//!   its last seq.
//! - **Pacing.** Every frame but a ping goes through a [`Pacer`], which keeps the page
//!   under the server's rate limit however many rooms and queued changes a reconnect
//!   replays.
//! - **When to connect.** A [`Dialer`] decides (backoff, waits named by the server, the
//!   connect timeout, the browser's `offline`/`online` events, "Reconnect now"); while
//!   disconnected the member lists keep their last known state, marked stale.
//! - **Batching.** Incoming frames wait in a bounded [`Inbox`] (coalesced per key; a room
//!   too far behind is resubscribed) and are applied together on an animation frame (or
//!   after a short timeout in a background tab), so a burst re-renders once; under
//!   pressure [`RenderPace`] applies them less often, in larger batches.
//! - **Heartbeat.** A ping every `heartbeat_ms`; a link silent for twice that long is
//!   treated as dead and replaced.
//! - **Outbox.** Messages, edits and deletes (and replies and reactions made while
//!   disconnected) wait there in order; saved to `localStorage` on every change and
//!   restored on start, so a change made offline survives a reload and is sent once.
//!
//! # Layout
//! - [`lifecycle`]: start, stop, opening and closing sockets, reconnects, the tick.
//! - [`requests`]: the frames the page sends, pacing them, and the bookkeeping of their
//!   answers.
//! - [`sending`]: the outbox on the wire (queue, send in order, save).
//! - [`subscriptions`]: which rooms the connection follows.
//! - [`inbox`]: batching incoming frames and dispatching them by family; the answers to
//!   requests (`welcome`, `ack`, `error`).
//! - [`room_events`]: a room's messages (`event`, `history`, `snapshot`).
//! - [`presence`]: who is here and what they do (`presence`, `typing`, `receipts`).
//! - [`personal`]: events for the reader alone (unread counts, membership, invites) and
//!   notifications.
//! - [`browser`]: the page's storage, visibility, clock and socket address.

mod browser;
mod inbox;
mod lifecycle;
mod personal;
mod presence;
mod requests;
mod room_events;
mod sending;
mod subscriptions;

use protocol::ReqId;
use protocol::ids::{MessageId, RoomId, Seq};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;
use web_sys::WebSocket;

use super::link::{LiveLink, Reply, RequestKind};
use super::notify::Permission;
use super::state::Chat;
use super::watched::Watched;
use crate::live::buffer::Inbox;
use crate::live::dialer::Dialer;
use crate::live::pacer::Pacer;
use crate::live::render_pace::RenderPace;

/// How long a send may wait for its ack before it is shown as failed.
const SEND_TIMEOUT_MS: f64 = 10_000.0;
/// Least time between two `typing` frames for one room.
const TYPING_EVERY_MS: f64 = 3_000.0;
/// The housekeeping tick: heartbeat check, send timeouts, retries.
const TICK: Duration = Duration::from_secs(2);
/// Messages per history page.
const HISTORY_PAGE: u32 = 50;

/// What a request in flight was for.
enum Pending {
    /// An item of the outbox (a message, reply, edit, delete or reaction).
    Outbox,
    Subscribe {
        room: RoomId,
    },
    History {
        room: RoomId,
    },
    Callback(Box<dyn FnOnce(Reply)>),
    /// Pings, typing, read markers, unsubscribes: nothing to do with the answer.
    Quiet,
}

/// The page's one live socket and what it keeps track of.
struct SocketState {
    chat: Chat,
    ws: RefCell<Option<WebSocket>>,
    /// Bumped for every new socket; handlers of an older socket do nothing.
    generation: Cell<u32>,
    /// When to (re)connect.
    dialer: RefCell<Dialer>,
    /// Frames waiting for their turn under the rate limit (serialized).
    pacer: RefCell<Pacer<String>>,
    /// Whether a timer will let the pacer's next frames out.
    pace_scheduled: Cell<bool>,
    next_req: Cell<ReqId>,
    pending: RefCell<HashMap<ReqId, Pending>>,
    /// Rooms this page follows; resubscribed on every connection.
    watched: RefCell<Watched>,
    /// Rooms subscribed on the current connection.
    live: RefCell<HashSet<RoomId>>,
    inbox: RefCell<Inbox>,
    flush_scheduled: Cell<bool>,
    /// When the pending animation frame was asked for (page clock), to tell a busy page.
    frame_asked_ms: Cell<f64>,
    pace: RefCell<RenderPace>,
    last_heard_ms: Cell<f64>,
    heartbeat_ms: Cell<f64>,
    last_ping_ms: Cell<f64>,
    typing_sent: RefCell<HashMap<RoomId, f64>>,
    read_sent: RefCell<HashMap<RoomId, Seq>>,
    /// The messages counted as unread, by seq, so that a notice sent again counts once.
    counted: RefCell<protocol::unread::NoticeSeqs>,
    stopped: Cell<bool>,
    /// The current socket's handlers, dropped with it.
    handlers: RefCell<Vec<Box<dyn std::any::Any>>>,
}

thread_local! {
    static SOCKET_STATE: RefCell<Option<Rc<SocketState>>> = const { RefCell::new(None) };
    /// The housekeeping timer and the `online` listener are set up once per page; they
    /// act on whichever socket is current.
    static PAGE_HOOKS: Cell<bool> = const { Cell::new(false) };
}

fn with_socket(f: impl FnOnce(&Rc<SocketState>)) {
    let socket = SOCKET_STATE.with(|c| c.borrow().clone());
    if let Some(c) = socket {
        f(&c);
    }
}

/// The chat state's live side in the browser: the page's one socket.
pub struct Socket {
    chat: Chat,
}

impl Socket {
    /// The socket that will serve `chat` once started.
    pub fn new(chat: Chat) -> Socket {
        Socket { chat }
    }
}

impl LiveLink for Socket {
    fn start(&self) {
        lifecycle::start(self.chat);
    }
    fn stop(&self) {
        lifecycle::stop();
    }
    fn watch(&self, room: RoomId) {
        requests::watch(room);
    }
    fn send(&self, room: RoomId, body: String, files: Vec<protocol::FileView>) {
        requests::send(room, body, files);
    }
    fn edit(&self, room: RoomId, message: MessageId, body: String) {
        requests::edit(room, message, body);
    }
    fn delete(&self, room: RoomId, message: MessageId) {
        requests::delete(room, message);
    }
    fn typing(&self, room: RoomId) {
        requests::typing(room);
    }
    fn load_older(&self, room: RoomId) {
        requests::load_older(room);
    }
    fn mark_read(&self, room: RoomId) {
        with_socket(|c| c.mark_read(room));
    }
    fn pump(&self) {
        with_socket(|c| c.pump());
    }
    fn reconnect_now(&self) {
        with_socket(|c| c.reconnect_now());
    }
    fn save_outbox(&self) {
        with_socket(|c| c.save_outbox());
    }
    fn request(&self, kind: RequestKind, done: Box<dyn FnOnce(Reply)>) {
        requests::request(kind, done);
    }
    fn new_client_msg_id(&self) -> String {
        browser::new_client_msg_id()
    }
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()>>>) {
        leptos::task::spawn_local(task);
    }
    fn ask_for_notifications(&self, done: Box<dyn FnOnce(Permission)>) {
        super::notify::request(done);
    }
}
