//! The socket's life: starting once per page, opening a socket (again), what a close
//! means, stopping for good, the browser's `offline`/`online` events, "Reconnect now",
//! and the housekeeping tick (heartbeat, dead links, the connect timeout, send
//! timeouts). When to connect is the [`Dialer`]'s decision; this file carries it out.

use leptos::prelude::*;
use protocol::{ClientFrame, ReconnectAdvice, ServerFrame};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::browser::{is_online, now_ms, outbox_key, socket_url, storage_get};
use super::{PAGE_HOOKS, Pending, SEND_TIMEOUT_MS, SOCKET_STATE, SocketState, TICK, with_socket};
use crate::chat::state::{Chat, RoomPresence};
use crate::live::Connection;
use crate::live::dialer::{Dialer, Next};
use crate::live::pacer::Pacer;

/// Starts the socket (once per page), first reading the browser's clock offset and
/// notification permission for the views.
pub(super) fn start(chat: Chat) {
    chat.utc_offset_min
        .set(-(js_sys::Date::new_0().get_timezone_offset() as i64));
    chat.notifications.set(crate::chat::notify::permission());
    if SOCKET_STATE.with(|c| c.borrow().is_some()) {
        return;
    }
    let client = Rc::new(SocketState {
        chat,
        ws: RefCell::new(None),
        generation: Cell::new(0),
        dialer: RefCell::new(Dialer::new(is_online())),
        pacer: RefCell::new(Pacer::new(now_ms())),
        pace_scheduled: Cell::new(false),
        next_req: Cell::new(1),
        pending: RefCell::new(HashMap::new()),
        watched: RefCell::new(Default::default()),
        live: RefCell::new(HashSet::new()),
        inbox: RefCell::new(Default::default()),
        flush_scheduled: Cell::new(false),
        frame_asked_ms: Cell::new(0.0),
        pace: RefCell::new(Default::default()),
        last_heard_ms: Cell::new(now_ms()),
        heartbeat_ms: Cell::new(25_000.0),
        last_ping_ms: Cell::new(now_ms()),
        typing_sent: RefCell::new(HashMap::new()),
        read_sent: RefCell::new(HashMap::new()),
        counted: RefCell::new(Default::default()),
        stopped: Cell::new(false),
        handlers: RefCell::new(Vec::new()),
    });
    if let Some(saved) = storage_get(&outbox_key(&chat)) {
        chat.outbox
            .set(crate::chat::outbox::Outbox::restore(&saved));
    }
    // Rooms opened before the client started (the server-rendered one) are followed
    // too, and show the changes still waiting in the outbox.
    let held: Vec<_> = chat
        .timelines
        .with_untracked(|t| t.keys().copied().collect());
    for room in held {
        client.watched.borrow_mut().show(room, |_| true);
        chat.show_pending_changes(room);
    }
    SOCKET_STATE.with(|c| *c.borrow_mut() = Some(client.clone()));
    if client.dialer.borrow().may_open() {
        client.open();
    } else {
        chat.connection.set(Connection::NoNetwork);
    }
    if PAGE_HOOKS.with(|h| h.replace(true)) {
        return;
    }
    let _ = set_interval_with_handle(|| with_socket(|c| c.tick()), TICK);
    // The browser's word on its network: gone means the socket is down now (it may take
    // minutes to notice by itself); back means try at once instead of waiting.
    let online = Closure::<dyn FnMut()>::new(|| with_socket(|c| c.network_back()));
    let offline = Closure::<dyn FnMut()>::new(|| with_socket(|c| c.network_lost()));
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        let _ = w.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    }
    online.forget();
    offline.forget();
}

/// Closes the connection for good (the user signed out).
pub(super) fn stop() {
    if let Some(c) = SOCKET_STATE.with(|c| c.borrow_mut().take()) {
        c.stopped.set(true);
        c.dialer.borrow_mut().stop();
        c.generation.set(c.generation.get() + 1);
        if let Some(ws) = c.ws.borrow_mut().take() {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        c.handlers.borrow_mut().clear();
    }
}

impl SocketState {
    pub(super) fn open(self: &Rc<Self>) {
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
        self.dialer.borrow_mut().opening(now_ms());
        self.pacer.borrow_mut().reset(now_ms());
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
            with_socket(|c| {
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
            with_socket(|c| c.closed(generation, ev.code(), &ev.reason()))
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.handlers.borrow_mut().push(Box::new(on_message));
        self.handlers.borrow_mut().push(Box::new(on_close));
        self.last_heard_ms.set(now_ms());
        *self.ws.borrow_mut() = Some(ws);
    }

    /// The socket of `generation` closed with `code` and `reason` (or was given up).
    pub(super) fn closed(self: &Rc<Self>, generation: u32, code: u16, reason: &str) {
        if self.generation.get() != generation {
            return;
        }
        // Apply whatever arrived before the close, then forget the connection.
        self.flush();
        self.generation.set(generation + 1);
        if let Some(ws) = self.ws.borrow_mut().take() {
            // Given up rather than closed (no network, a connect timeout): let it go.
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        self.handlers.borrow_mut().clear();
        self.live.borrow_mut().clear();
        // The member lists keep what they last knew, marked stale, until resubscribed.
        self.chat.presence.update(RoomPresence::mark_stale);
        self.chat
            .typing
            .set(crate::chat::typists::Typists::default());
        self.chat.loading_older.set(Vec::new());
        // Whatever was in flight goes out again, in order, with the same ids.
        self.chat.outbox.update(|o| o.requeue_in_flight());
        self.save_outbox();
        let pending: Vec<Pending> = self.pending.borrow_mut().drain().map(|(_, p)| p).collect();
        for p in pending {
            if let Pending::Callback(done) = p {
                done(Err("The connection was lost.".into()));
            }
        }
        let next = self
            .dialer
            .borrow_mut()
            .closed(code, reason, js_sys::Math::random());
        self.follow(next);
    }

    /// Carries out the dialer's decision.
    fn follow(self: &Rc<Self>, next: Next) {
        match next {
            Next::Open => self.open(),
            Next::Retry { attempt, delay_ms } => {
                self.chat
                    .connection
                    .set(Connection::Reconnecting { attempt, delay_ms });
                let waiting = self.generation.get();
                set_timeout(
                    move || {
                        with_socket(|c| {
                            if c.generation.get() == waiting {
                                c.open();
                            }
                        })
                    },
                    Duration::from_millis(u64::from(delay_ms)),
                );
            }
            Next::AwaitNetwork => self.chat.connection.set(Connection::NoNetwork),
            Next::Stop(ReconnectAdvice::Reauthenticate) => {
                self.stopped.set(true);
                self.chat.connection.set(Connection::Offline {
                    reason: "sign in again".into(),
                });
            }
            Next::Stop(_) => {
                self.stopped.set(true);
                self.chat.connection.set(Connection::Offline {
                    reason: "closed by the server".into(),
                });
            }
            Next::Stay => {}
        }
    }

    /// The browser lost its network: the socket is down now.
    pub(super) fn network_lost(self: &Rc<Self>) {
        if self.dialer.borrow_mut().network_lost() {
            let generation = self.generation.get();
            self.closed(generation, 1006, "");
        } else if !self.stopped.get() {
            // During a wait: no attempt until the network returns.
            self.generation.set(self.generation.get() + 1);
            self.chat.connection.set(Connection::NoNetwork);
        }
    }

    /// The browser's network is back: reconnect at once.
    pub(super) fn network_back(self: &Rc<Self>) {
        let next = self.dialer.borrow_mut().network_back();
        self.follow(next);
    }

    /// "Reconnect now" during a wait.
    pub(super) fn reconnect_now(self: &Rc<Self>) {
        let next = self.dialer.borrow_mut().reconnect_now();
        self.follow(next);
    }

    /// Every [`TICK`]: heartbeat, dead-link detection, send timeouts and retries.
    pub(super) fn tick(self: &Rc<Self>) {
        let now = now_ms();
        let (mut said, mut clear) = (None, false);
        self.chat.announcer.update_value(|a| {
            said = a.due(now);
            clear = a.clear_due(now);
        });
        if let Some(text) = said {
            self.chat.announce(text);
        } else if clear {
            self.chat.announcement.set(String::new());
        }
        if self.dialer.borrow().timed_out(now) {
            // Opened but never welcomed: the browser's own timeout can take minutes.
            let generation = self.generation.get();
            self.closed(generation, 1006, "");
            return;
        }
        if !self.is_connected() {
            return;
        }
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
        self.subscribe_watched();
        self.pump();
    }
}
