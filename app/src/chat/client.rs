//! The browser's live client: one WebSocket to the gateway for the whole page.
//!
//! - **Requests.** Every frame carries a fresh `req`; [`Pending`] remembers what each
//!   was for, so its ack or error lands in the right place (the outbox, a timeline, a
//!   dialog's callback). A dropped connection fails or requeues whatever was pending.
//! - **Resume.** The client remembers the rooms it watches. On every `welcome` it
//!   subscribes to each with `since_seq` = the last seq its timeline applied, then sends
//!   the outbox in order. A gap in seqs resubscribes the room from its last seq.
//! - **Batching.** Incoming frames are queued and applied together on the next animation
//!   frame (or after a short timeout in a background tab), so a burst re-renders once.
//! - **Heartbeat.** A ping every `heartbeat_ms`; a link silent for twice that long is
//!   treated as dead and replaced.
//! - **Outbox.** Saved to `localStorage` on every change and restored on start, so a
//!   message written offline survives a reload and is sent once (by its client id).

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId, Seq};
use protocol::names::{Body, ClientMsgId};
use protocol::{
    ClientFrame, ErrorCode, PersonalEvent, ReconnectAdvice, ReqId, ServerFrame,
    close::{CloseCode, advice_for, retry_after_ms},
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::notify;
use super::outbox::{Outgoing, SendState};
use super::state::{Chat, Reply, RequestKind, RoomPresence};
use super::timeline::{Applied, KEEP_AT_BOTTOM, Timeline};
use crate::live::{Connection, backoff_delay};

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
    Send,
    Edit {
        room: RoomId,
        id: MessageId,
    },
    Delete {
        room: RoomId,
        id: MessageId,
    },
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

struct Client {
    chat: Chat,
    ws: RefCell<Option<WebSocket>>,
    /// Bumped for every new socket; handlers of an older socket do nothing.
    generation: Cell<u32>,
    /// Failed attempts since the last `welcome`.
    attempt: Cell<u32>,
    next_req: Cell<ReqId>,
    pending: RefCell<HashMap<ReqId, Pending>>,
    /// Rooms this page follows; resubscribed on every connection.
    watched: RefCell<HashSet<RoomId>>,
    /// Rooms subscribed on the current connection.
    live: RefCell<HashSet<RoomId>>,
    inbox: RefCell<Vec<ServerFrame>>,
    flush_scheduled: Cell<bool>,
    last_heard_ms: Cell<f64>,
    heartbeat_ms: Cell<f64>,
    last_ping_ms: Cell<f64>,
    typing_sent: RefCell<HashMap<RoomId, f64>>,
    read_sent: RefCell<HashMap<RoomId, Seq>>,
    stopped: Cell<bool>,
    /// The current socket's handlers, dropped with it.
    handlers: RefCell<Vec<Box<dyn std::any::Any>>>,
}

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
    /// The housekeeping timer and the `online` listener are set up once per page; they
    /// act on whichever client is current.
    static PAGE_HOOKS: Cell<bool> = const { Cell::new(false) };
}

fn with_client(f: impl FnOnce(&Rc<Client>)) {
    let client = CLIENT.with(|c| c.borrow().clone());
    if let Some(c) = client {
        f(&c);
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Starts the client (once per page).
pub fn start(chat: Chat) {
    if CLIENT.with(|c| c.borrow().is_some()) {
        return;
    }
    let client = Rc::new(Client {
        chat,
        ws: RefCell::new(None),
        generation: Cell::new(0),
        attempt: Cell::new(0),
        next_req: Cell::new(1),
        pending: RefCell::new(HashMap::new()),
        watched: RefCell::new(HashSet::new()),
        live: RefCell::new(HashSet::new()),
        inbox: RefCell::new(Vec::new()),
        flush_scheduled: Cell::new(false),
        last_heard_ms: Cell::new(now_ms()),
        heartbeat_ms: Cell::new(25_000.0),
        last_ping_ms: Cell::new(now_ms()),
        typing_sent: RefCell::new(HashMap::new()),
        read_sent: RefCell::new(HashMap::new()),
        stopped: Cell::new(false),
        handlers: RefCell::new(Vec::new()),
    });
    if let Some(saved) = storage_get(&outbox_key(&chat)) {
        chat.outbox.set(super::outbox::Outbox::restore(&saved));
    }
    // Rooms opened before the client started (the server-rendered one) are followed too.
    chat.timelines
        .with_untracked(|t| client.watched.borrow_mut().extend(t.keys().copied()));
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    client.open();
    if PAGE_HOOKS.with(|h| h.replace(true)) {
        return;
    }
    let _ = set_interval_with_handle(|| with_client(|c| c.tick()), TICK);
    // Back online: try at once instead of waiting out the backoff.
    let online = Closure::<dyn FnMut()>::new(|| {
        with_client(|c| {
            if !matches!(
                c.chat.connection.get_untracked(),
                Connection::Connected { .. }
            ) {
                c.attempt.set(0);
                c.open();
            }
        })
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    }
    online.forget();
}

/// Closes the connection for good (the user signed out).
pub fn stop() {
    if let Some(c) = CLIENT.with(|c| c.borrow_mut().take()) {
        c.stopped.set(true);
        c.generation.set(c.generation.get() + 1);
        if let Some(ws) = c.ws.borrow_mut().take() {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        c.handlers.borrow_mut().clear();
    }
}

/// Follows a room: subscribes now if connected, and after every reconnect.
pub fn watch(room: RoomId) {
    with_client(|c| {
        c.watched.borrow_mut().insert(room);
        if c.is_connected() && !c.live.borrow().contains(&room) {
            c.subscribe(room);
        }
        c.mark_read(room);
    });
}

/// Queues a message and sends it when possible.
pub fn send(room: RoomId, body: String) {
    with_client(|c| {
        let Some(_) = c.chat.me.get_untracked() else {
            return;
        };
        let item = Outgoing {
            room,
            client_msg_id: new_client_msg_id(),
            body,
            created_at: now_ms() as i64,
            state: SendState::Queued,
        };
        c.chat.outbox.update(|o| o.push(item));
        // A send ends one's typing on the server: the next keystroke announces anew.
        c.typing_sent.borrow_mut().remove(&room);
        c.watched.borrow_mut().insert(room);
        c.pump();
    });
}

/// Sends whatever is queued, if connected.
pub fn pump() {
    with_client(|c| c.pump());
}

/// Saves the outbox after a change made outside the client.
pub fn save_outbox() {
    with_client(|c| c.save_outbox());
}

pub fn edit(room: RoomId, id: MessageId, body: String) {
    with_client(|c| {
        let Ok(valid) = Body::parse(&body) else {
            c.chat
                .notify("A message needs some text, and at most 4000 characters.");
            return;
        };
        c.change(
            room,
            |tl| tl.begin_edit(id, valid.as_ref()),
            Pending::Edit { room, id },
            |req| ClientFrame::Edit {
                req,
                room,
                message_id: id,
                body: valid.clone(),
            },
        );
    });
}

pub fn delete(room: RoomId, id: MessageId) {
    with_client(|c| {
        c.change(
            room,
            |tl| tl.begin_delete(id),
            Pending::Delete { room, id },
            |req| ClientFrame::Delete {
                req,
                room,
                message_id: id,
            },
        );
    });
}

pub fn typing(room: RoomId) {
    with_client(|c| {
        let now = now_ms();
        let last = c.typing_sent.borrow().get(&room).copied().unwrap_or(0.0);
        if now - last < TYPING_EVERY_MS || !c.live.borrow().contains(&room) {
            return;
        }
        c.typing_sent.borrow_mut().insert(room, now);
        c.request(Pending::Quiet, |req| ClientFrame::Typing { req, room });
    });
}

pub fn load_older(room: RoomId) {
    with_client(|c| {
        if !c.live.borrow().contains(&room)
            || c.chat.loading_older.with_untracked(|l| l.contains(&room))
        {
            return;
        }
        let Some((before, more)) = c
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| (tl.oldest_seq(), tl.has_more)))
        else {
            return;
        };
        if !more {
            return;
        }
        c.chat.loading_older.update(|l| l.push(room));
        c.request(Pending::History { room }, |req| ClientFrame::History {
            req,
            room,
            before_seq: before,
            limit: Some(HISTORY_PAGE),
        });
    });
}

pub fn mark_read(room: RoomId) {
    with_client(|c| c.mark_read(room));
}

pub fn request(kind: RequestKind, done: Box<dyn FnOnce(Reply)>) {
    with_client(move |c| {
        if !c.is_connected() {
            done(Err("Not connected; try again in a moment.".into()));
            return;
        }
        c.request(Pending::Callback(done), |req| match kind {
            RequestKind::CreateRoom { name, private } => {
                ClientFrame::CreateRoom { req, name, private }
            }
            RequestKind::OpenDm { user } => ClientFrame::OpenDm { req, user },
            RequestKind::DeleteReply { room, message } => ClientFrame::Delete {
                req,
                room,
                message_id: message,
            },
            RequestKind::Reply {
                room,
                root,
                client_msg_id,
                body,
            } => ClientFrame::Reply {
                req,
                room,
                thread: root,
                client_msg_id,
                body,
            },
            RequestKind::Invite { room, user } => ClientFrame::Invite { req, room, user },
            RequestKind::React {
                room,
                message,
                emoji,
                add: true,
            } => ClientFrame::AddReaction {
                req,
                room,
                message_id: message,
                emoji,
            },
            RequestKind::React {
                room,
                message,
                emoji,
                add: false,
            } => ClientFrame::RemoveReaction {
                req,
                room,
                message_id: message,
                emoji,
            },
            RequestKind::Leave { room } => {
                c.watched.borrow_mut().remove(&room);
                c.live.borrow_mut().remove(&room);
                ClientFrame::Leave { req, room }
            }
        });
    });
}

impl Client {
    fn req(&self) -> ReqId {
        let r = self.next_req.get();
        self.next_req.set(r + 1);
        r
    }

    /// Sends the frame `frame` builds around a fresh request id, remembering what its
    /// answer is for.
    fn request(&self, pending: Pending, frame: impl FnOnce(ReqId) -> ClientFrame) {
        let req = self.req();
        self.pending.borrow_mut().insert(req, pending);
        self.transmit(&frame(req));
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.chat.connection.get_untracked(),
            Connection::Connected { .. }
        )
    }

    fn transmit(&self, frame: &ClientFrame) {
        if let Some(ws) = self.ws.borrow().as_ref()
            && ws.ready_state() == WebSocket::OPEN
            && let Ok(text) = serde_json::to_string(frame)
        {
            let _ = ws.send_with_str(&text);
        }
    }

    fn open(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        if let Some(old) = self.ws.borrow_mut().take() {
            old.set_onmessage(None);
            old.set_onclose(None);
            let _ = old.close();
        }
        self.handlers.borrow_mut().clear();
        self.chat.connection.set(Connection::Connecting);
        let Some(url) = socket_url() else {
            self.chat.connection.set(Connection::Offline {
                reason: "no browser window".into(),
            });
            return;
        };
        let ws = match WebSocket::new_with_str(&url, protocol::SUBPROTOCOL) {
            Ok(ws) => ws,
            Err(_) => return self.closed(generation, 1006, ""),
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            with_client(|c| {
                if c.generation.get() != generation {
                    return;
                }
                c.last_heard_ms.set(now_ms());
                if let Some(text) = ev.data().as_string()
                    && let Ok(frame) = serde_json::from_str::<ServerFrame>(&text)
                {
                    c.inbox.borrow_mut().push(frame);
                    c.schedule_flush();
                }
            })
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            with_client(|c| c.closed(generation, ev.code(), &ev.reason()))
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().push(Box::new(on_message));
        self.handlers.borrow_mut().push(Box::new(on_close));
        self.last_heard_ms.set(now_ms());
        *self.ws.borrow_mut() = Some(ws);
    }

    /// The socket of `generation` closed with `code` and `reason`.
    fn closed(self: &Rc<Self>, generation: u32, code: u16, reason: &str) {
        if self.generation.get() != generation {
            return;
        }
        // Apply whatever arrived before the close, then forget the connection.
        self.flush();
        self.generation.set(generation + 1);
        self.ws.borrow_mut().take();
        self.live.borrow_mut().clear();
        self.chat.presence.set(HashMap::new());
        self.chat.typing.set(HashMap::new());
        self.chat.loading_older.set(Vec::new());
        self.chat.outbox.update(|o| o.requeue_in_flight());
        let pending: Vec<Pending> = self.pending.borrow_mut().drain().map(|(_, p)| p).collect();
        for p in pending {
            match p {
                Pending::Edit { room, id } | Pending::Delete { room, id } => {
                    // It may or may not have been applied: the resume replays the truth.
                    self.chat.timelines.update(|t| {
                        if let Some(tl) = t.get_mut(&room) {
                            tl.roll_back(id);
                        }
                    });
                }
                Pending::Callback(done) => done(Err("The connection was lost.".into())),
                _ => {}
            }
        }
        match advice_for(code) {
            ReconnectAdvice::Reconnect => {
                let attempt = self.attempt.get() + 1;
                self.attempt.set(attempt);
                // A restarting server spreads its clients' returns: wait as told.
                let delay_ms = match retry_after_ms(reason) {
                    Some(ms) if code == CloseCode::ServiceRestart.code() => {
                        u32::try_from(ms.min(600_000)).unwrap_or(600_000)
                    }
                    _ => backoff_delay(attempt, js_sys::Math::random()),
                };
                self.chat
                    .connection
                    .set(Connection::Reconnecting { attempt, delay_ms });
                let next = self.generation.get();
                set_timeout(
                    move || {
                        with_client(|c| {
                            if c.generation.get() == next {
                                c.open();
                            }
                        })
                    },
                    Duration::from_millis(u64::from(delay_ms)),
                );
            }
            ReconnectAdvice::Reauthenticate => {
                self.stopped.set(true);
                self.chat.connection.set(Connection::Offline {
                    reason: "sign in again".into(),
                });
            }
            ReconnectAdvice::Stop => {
                self.stopped.set(true);
                self.chat.connection.set(Connection::Offline {
                    reason: format!("closed by the server ({code})"),
                });
            }
        }
    }

    /// Applies a change to one's own message at once (`begin` says whether it could
    /// start), then asks the server; the reply confirms or rolls it back.
    fn change(
        &self,
        room: RoomId,
        begin: impl FnOnce(&mut Timeline) -> bool,
        pending: Pending,
        frame: impl FnOnce(ReqId) -> ClientFrame,
    ) {
        let mut started = false;
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&room) {
                started = begin(tl);
            }
        });
        if !started {
            return;
        }
        self.request(pending, frame);
    }

    fn schedule_flush(&self) {
        if self.flush_scheduled.replace(true) {
            return;
        }
        // An animation frame normally; a timeout too, because hidden tabs get no frames.
        let _ = request_animation_frame_with_handle(|| with_client(|c| c.flush()));
        set_timeout(|| with_client(|c| c.flush()), Duration::from_millis(200));
    }

    fn flush(self: &Rc<Self>) {
        self.flush_scheduled.set(false);
        let frames = std::mem::take(&mut *self.inbox.borrow_mut());
        for frame in frames {
            self.handle(frame);
        }
    }

    fn handle(self: &Rc<Self>, frame: ServerFrame) {
        let chat = self.chat;
        match frame {
            ServerFrame::Welcome {
                conn_id,
                heartbeat_ms,
                user,
                ..
            } => {
                self.attempt.set(0);
                self.heartbeat_ms.set(heartbeat_ms as f64);
                chat.me.set(Some(user));
                chat.connection.set(Connection::Connected { conn_id });
                let rooms: Vec<RoomId> = {
                    let mut w = self.watched.borrow_mut();
                    chat.outbox
                        .with_untracked(|o| w.extend(o.items().iter().map(|i| i.room)));
                    w.iter().copied().collect()
                };
                for room in rooms {
                    self.subscribe(room);
                }
                self.pump();
            }
            ServerFrame::Pong { .. } => {}
            ServerFrame::Ack { req, info } => {
                // Taken out in its own statement: a callback may make new requests, which
                // borrow the pending map again.
                let pending = self.pending.borrow_mut().remove(&req);
                match pending {
                    Some(Pending::Send) => self.sent(req, info),
                    Some(Pending::Edit { room, id } | Pending::Delete { room, id }) => {
                        chat.timelines.update(|t| {
                            if let Some(tl) = t.get_mut(&room) {
                                tl.settle(id);
                            }
                        })
                    }
                    Some(Pending::Callback(done)) => done(Ok(info)),
                    // The room on screen is read as far as the page goes (replayed events
                    // after it mark themselves as they are applied).
                    Some(Pending::Subscribe { room })
                        if chat.open_room.get_untracked() == Some(room) && is_visible() =>
                    {
                        self.mark_read(room)
                    }
                    _ => {}
                }
            }
            ServerFrame::Error { req, code, message } => {
                let Some(req) = req else {
                    chat.notify(format!("The server said: {message}"));
                    return;
                };
                let pending = self.pending.borrow_mut().remove(&req);
                match pending {
                    Some(Pending::Send) => {
                        if matches!(code, ErrorCode::Unavailable | ErrorCode::RateLimited) {
                            // Temporary: the next tick sends it again, with the same id.
                            chat.outbox.update(|o| o.requeue_in_flight());
                        } else {
                            chat.outbox.update(|o| {
                                o.refused(req, &message);
                            });
                        }
                        self.save_outbox();
                    }
                    Some(Pending::Edit { room, id } | Pending::Delete { room, id }) => {
                        chat.timelines.update(|t| {
                            if let Some(tl) = t.get_mut(&room) {
                                tl.roll_back(id);
                            }
                        });
                        chat.notify(format!("Your change was refused: {message}"));
                    }
                    Some(Pending::Subscribe { room }) => {
                        self.watched.borrow_mut().remove(&room);
                        self.live.borrow_mut().remove(&room);
                        if matches!(code, ErrorCode::Forbidden | ErrorCode::NotFound) {
                            chat.outbox.update(|o| o.drop_room(room));
                            self.save_outbox();
                        }
                        chat.notify(format!("Could not open the room: {message}"));
                    }
                    Some(Pending::History { room }) => {
                        chat.loading_older.update(|l| l.retain(|r| *r != room));
                    }
                    Some(Pending::Callback(done)) => done(Err(message)),
                    Some(Pending::Quiet) | None => {}
                }
            }
            ServerFrame::Event {
                room,
                seq,
                kind,
                message,
            } => {
                let author = message.author.id;
                // A thread reply is news for its thread only (the timeline counts it on its root).
                let is_new_message =
                    kind == protocol::EventKind::Message && message.thread_root.is_none();
                let is_reply =
                    kind == protocol::EventKind::Message && message.thread_root.is_some();
                let mine = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id)) == Some(author);
                // Kept for the unread badge and a notification, as `message` moves on.
                let arrival = ((is_new_message || is_reply) && !mine).then(|| {
                    let mention = chat.me.with_untracked(|m| {
                        m.as_ref().is_some_and(|m| {
                            protocol::mentions::scan(&message.body).includes(&m.handle)
                        })
                    });
                    (mention, message.author.name.clone(), message.body.clone())
                });
                if is_new_message && mine {
                    // Stored: its pending copy goes, even if the ack is still on its way.
                    let mut stored = None;
                    chat.outbox
                        .update(|o| stored = o.stored(room, &message.client_msg_id));
                    if stored.is_some() {
                        self.save_outbox();
                    }
                }
                let mut outcome = Applied::Duplicate;
                chat.timelines.update(|t| {
                    if let Some(tl) = t.get_mut(&room) {
                        outcome = tl.apply(seq, kind, message);
                        if outcome == Applied::Applied
                            && chat.open_room.get_untracked() == Some(room)
                        {
                            // Keep a busy room light; scrolled-up readers keep what they have.
                            if tl.lines.len() > KEEP_AT_BOTTOM * 2 {
                                tl.trim_to(KEEP_AT_BOTTOM);
                            }
                        }
                    }
                });
                match outcome {
                    Applied::Gap { last_seq } => self.resubscribe(room, last_seq),
                    Applied::Applied if is_new_message => {
                        chat.typing.update(|t| {
                            if let Some(list) = t.get_mut(&room) {
                                list.retain(|u| u.id != author);
                            }
                        });
                        let reading = chat.open_room.get_untracked() == Some(room) && is_visible();
                        if reading {
                            self.mark_read(room);
                        }
                        if let Some((mention, author, body)) = arrival {
                            if !reading {
                                self.count_unread(room, mention);
                            }
                            self.alert(room, mention, Some(&author), Some(&body));
                        }
                    }
                    // A reply that mentions the reader counts in the room (the server counts
                    // it the same way) and may alert; other replies show on their root only.
                    Applied::Applied if is_reply => {
                        let reading = chat.open_room.get_untracked() == Some(room) && is_visible();
                        if reading {
                            self.mark_read(room);
                        }
                        if let Some((true, author, body)) = arrival {
                            if !reading {
                                self.count_unread(room, true);
                            }
                            self.alert(room, true, Some(&author), Some(&body));
                        }
                    }
                    _ => {}
                }
            }
            ServerFrame::History {
                req,
                room,
                messages,
                has_more,
            } => {
                self.pending.borrow_mut().remove(&req);
                chat.timelines.update(|t| {
                    if let Some(tl) = t.get_mut(&room) {
                        tl.merge_older(messages, has_more);
                    }
                });
                chat.loading_older.update(|l| l.retain(|r| *r != room));
            }
            ServerFrame::Snapshot {
                room,
                last_seq,
                messages,
                has_more,
                ..
            } => {
                chat.timelines.update(|t| {
                    t.entry(room)
                        .or_default()
                        .reset(messages, last_seq, has_more);
                });
            }
            ServerFrame::Presence {
                room, users, total, ..
            } => {
                chat.presence.update(|p| {
                    p.insert(
                        room,
                        RoomPresence {
                            users: users.into_iter().map(|e| (e.user.id, e)).collect(),
                            total,
                        },
                    );
                });
            }
            ServerFrame::PresenceDiff {
                room,
                joined,
                left,
                updated,
                total,
            } => {
                chat.presence.update(|p| {
                    let entry = p.entry(room).or_default();
                    for u in left {
                        entry.users.remove(&u);
                    }
                    for user in joined {
                        entry
                            .users
                            .entry(user.id)
                            .or_insert(protocol::PresenceEntry {
                                user,
                                devices: 1,
                                status: protocol::Status::Active,
                                text: None,
                            });
                    }
                    for e in updated {
                        entry.users.insert(e.user.id, e);
                    }
                    entry.total = total;
                });
            }
            ServerFrame::Receipts { room, receipts } => {
                chat.receipts.update(|held| {
                    let held = held.entry(room).or_default();
                    for r in receipts {
                        super::receipts::merge(held, r);
                    }
                });
            }
            ServerFrame::Typing { room, user, active } => {
                chat.typing.update(|t| {
                    let list = t.entry(room).or_default();
                    list.retain(|u| u.id != user.id);
                    if active {
                        list.push(user);
                    }
                });
            }
            ServerFrame::Personal { event } => match event {
                PersonalEvent::Unread { room, mention, .. } => {
                    if chat.open_room.get_untracked() != Some(room) {
                        self.count_unread(room, mention);
                    }
                    self.alert(room, mention, None, None);
                }
                PersonalEvent::Read { room, seq } => {
                    let newest = chat
                        .timelines
                        .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq));
                    match newest {
                        Some(n) if seq >= n => chat.set_unread(room, 0),
                        // Read part of the way (or of a room this page does not hold) on
                        // some device: the server's count is the exact one.
                        _ => chat.refresh_rooms(),
                    }
                }
                PersonalEvent::Membership { room, joined } => {
                    if !joined {
                        self.watched.borrow_mut().remove(&room);
                        self.live.borrow_mut().remove(&room);
                        chat.timelines.update(|t| {
                            t.remove(&room);
                        });
                        chat.outbox.update(|o| o.drop_room(room));
                        self.save_outbox();
                    }
                    chat.refresh_rooms();
                }
                PersonalEvent::DmOpened { .. } => chat.refresh_rooms(),
                PersonalEvent::Invited { by, .. } => {
                    chat.notify(format!("{} added you to a room.", by.name));
                    chat.refresh_rooms();
                }
            },
        }
    }

    /// One more unread message in `room` (and one more mention, if it is one).
    fn count_unread(&self, room: RoomId, mention: bool) {
        self.chat.rooms.update(|rooms| {
            if let Some(item) = rooms.iter_mut().flatten().find(|r| r.id == room) {
                item.unread += 1;
                if mention {
                    item.mentions += 1;
                }
            }
        });
    }

    /// Shows a browser notification for someone else's new message in `room` when one is
    /// due (a mention or a DM, the tab hidden).
    fn alert(&self, room: RoomId, mention: bool, author: Option<&str>, body: Option<&str>) {
        let Some((title, dm)) = self.chat.rooms.with_untracked(|rooms| {
            rooms
                .iter()
                .flatten()
                .find(|r| r.id == room)
                .map(|r| (r.title.clone(), r.kind == super::api::RoomKind::Dm))
        }) else {
            return;
        };
        let arrival = notify::Arrival {
            room_title: &title,
            dm,
            mention,
            author,
            body,
        };
        if let Some(alert) = notify::alert_for(room, &arrival, !is_visible()) {
            notify::show(&alert, room);
        }
    }

    /// Our send `req` was acked: it leaves the outbox and shows as confirmed.
    fn sent(&self, req: ReqId, info: protocol::AckInfo) {
        let mut done = None;
        self.chat.outbox.update(|o| done = o.acked(req));
        self.save_outbox();
        let (Some(item), Some(me), Some(seq), Some(id)) = (
            done,
            self.chat.me.get_untracked(),
            info.seq,
            info.message_id,
        ) else {
            return;
        };
        let view = protocol::MessageView {
            id,
            seq,
            author: me,
            body: item.body,
            client_msg_id: item.client_msg_id,
            created_at: item.created_at,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            thread_root: None,
            thread: None,
        };
        self.chat.timelines.update(|t| {
            if let Some(tl) = t.get_mut(&item.room) {
                tl.confirm_send(view);
            }
        });
    }

    fn subscribe(&self, room: RoomId) {
        let since = self
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq));
        self.live.borrow_mut().insert(room);
        self.request(Pending::Subscribe { room }, |req| ClientFrame::Subscribe {
            req,
            room,
            since_seq: since,
        });
    }

    /// Repairs a gap: unsubscribe, then subscribe again from `last_seq`.
    fn resubscribe(&self, room: RoomId, last_seq: Seq) {
        self.request(Pending::Quiet, |req| ClientFrame::Unsubscribe { req, room });
        self.request(Pending::Subscribe { room }, |req| ClientFrame::Subscribe {
            req,
            room,
            since_seq: Some(last_seq),
        });
    }

    /// Sends the queued messages, in order (subscribing to their rooms first).
    fn pump(&self) {
        if !self.is_connected() {
            self.save_outbox();
            return;
        }
        let rooms: Vec<RoomId> = self.chat.outbox.with_untracked(|o| {
            o.items()
                .iter()
                .filter(|i| i.state == SendState::Queued)
                .map(|i| i.room)
                .collect()
        });
        for room in rooms {
            if !self.live.borrow().contains(&room) {
                self.watched.borrow_mut().insert(room);
                self.subscribe(room);
            }
        }
        let mut batch = Vec::new();
        self.chat
            .outbox
            .update(|o| batch = o.take_queued(now_ms(), || self.req()));
        for (req, item) in batch {
            let (Ok(cmid), Ok(body)) = (
                ClientMsgId::parse(&item.client_msg_id),
                Body::parse(&item.body),
            ) else {
                self.chat.outbox.update(|o| {
                    o.refused(req, "This message cannot be sent.");
                });
                continue;
            };
            self.pending.borrow_mut().insert(req, Pending::Send);
            self.transmit(&ClientFrame::Send {
                req,
                room: item.room,
                client_msg_id: cmid,
                body,
            });
        }
        self.save_outbox();
    }

    fn save_outbox(&self) {
        let json = self.chat.outbox.with_untracked(|o| o.to_json());
        storage_set(&outbox_key(&self.chat), &json);
    }

    fn mark_read(&self, room: RoomId) {
        if !self.live.borrow().contains(&room) {
            return;
        }
        let Some(seq) = self
            .chat
            .timelines
            .with_untracked(|t| t.get(&room).map(|tl| tl.last_seq))
        else {
            return;
        };
        self.chat.set_unread(room, 0);
        let before = self.read_sent.borrow().get(&room).copied().unwrap_or(0);
        if seq <= before || seq == 0 {
            return;
        }
        self.read_sent.borrow_mut().insert(room, seq);
        self.request(Pending::Quiet, |req| ClientFrame::MarkRead {
            req,
            room,
            seq,
        });
    }

    /// Every [`TICK`]: heartbeat, dead-link detection, send timeouts and retries.
    fn tick(self: &Rc<Self>) {
        if !self.is_connected() {
            return;
        }
        let now = now_ms();
        let beat = self.heartbeat_ms.get();
        if now - self.last_heard_ms.get() > 2.0 * beat {
            // Nothing heard for two heartbeats: the link is dead even if the socket
            // has not noticed. Replace it.
            let generation = self.generation.get();
            self.closed(generation, 1006, "");
            return;
        }
        if now - self.last_ping_ms.get() >= beat * 0.8 {
            self.last_ping_ms.set(now);
            self.request(Pending::Quiet, |req| ClientFrame::Ping { req });
        }
        let mut expired = false;
        self.chat
            .outbox
            .update(|o| expired = o.expire(now, SEND_TIMEOUT_MS));
        if expired {
            self.save_outbox();
        }
        self.pump();
    }
}

fn is_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        .unwrap_or(true)
}

pub fn new_client_msg_id() -> String {
    let r = |_| (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{:x}-{:08x}{:08x}", now_ms() as u64, r(0), r(1))
}

fn outbox_key(chat: &Chat) -> String {
    let me = chat
        .me
        .with_untracked(|m| m.as_ref().map(|m| m.id.to_string()))
        .unwrap_or_default();
    format!("confab.outbox.{me}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    let host = location.host().ok()?;
    Some(format!("{scheme}://{host}{}", protocol::WS_PATH))
}
