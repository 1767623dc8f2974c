//! The socket's life: starting once per page, opening a socket (again), what a close
//! means (reconnect after a backoff, or stop), stopping for good, and the housekeeping
//! tick (heartbeat, dead links, send timeouts).

use leptos::prelude::*;
use protocol::{
    ClientFrame, ReconnectAdvice, ServerFrame,
    close::{CloseCode, advice_for, retry_after_ms},
};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::browser::{now_ms, outbox_key, socket_url, storage_get};
use super::{PAGE_HOOKS, Pending, SEND_TIMEOUT_MS, SOCKET_STATE, SocketState, TICK, with_socket};
use crate::chat::state::Chat;
use crate::live::{Connection, backoff_delay};

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
        counted: RefCell::new(Default::default()),
        stopped: Cell::new(false),
        handlers: RefCell::new(Vec::new()),
    });
    if let Some(saved) = storage_get(&outbox_key(&chat)) {
        chat.outbox
            .set(crate::chat::outbox::Outbox::restore(&saved));
    }
    // Rooms opened before the client started (the server-rendered one) are followed too.
    chat.timelines
        .with_untracked(|t| client.watched.borrow_mut().extend(t.keys().copied()));
    SOCKET_STATE.with(|c| *c.borrow_mut() = Some(client.clone()));
    client.open();
    if PAGE_HOOKS.with(|h| h.replace(true)) {
        return;
    }
    let _ = set_interval_with_handle(|| with_socket(|c| c.tick()), TICK);
    // Back online: try at once instead of waiting out the backoff.
    let online = Closure::<dyn FnMut()>::new(|| {
        with_socket(|c| {
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
pub(super) fn stop() {
    if let Some(c) = SOCKET_STATE.with(|c| c.borrow_mut().take()) {
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

    /// The socket of `generation` closed with `code` and `reason`.
    pub(super) fn closed(self: &Rc<Self>, generation: u32, code: u16, reason: &str) {
        if self.generation.get() != generation {
            return;
        }
        // Apply whatever arrived before the close, then forget the connection.
        self.flush();
        self.generation.set(generation + 1);
        self.ws.borrow_mut().take();
        self.live.borrow_mut().clear();
        self.chat.presence.set(HashMap::new());
        self.chat
            .typing
            .set(crate::chat::typists::Typists::default());
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
                        with_socket(|c| {
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

    /// Every [`TICK`]: heartbeat, dead-link detection, send timeouts and retries.
    pub(super) fn tick(self: &Rc<Self>) {
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
