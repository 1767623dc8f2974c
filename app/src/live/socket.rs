//! Opens the browser WebSocket to the gateway and drives [`Connection`] from its events.
//! Browser only (`hydrate`).

use leptos::prelude::*;
use protocol::{ReconnectAdvice, ServerFrame, close::advice_for};
use std::{cell::Cell, rc::Rc, time::Duration};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::{Connection, backoff_delay};

/// Opens a socket; `attempt` counts failed attempts since the last successful welcome.
pub(super) fn open(status: RwSignal<Connection>, attempt: u32) {
    let Some(url) = socket_url() else {
        status.set(Connection::Offline {
            reason: "no browser window".into(),
        });
        return;
    };
    let ws = match WebSocket::new_with_str(&url, protocol::SUBPROTOCOL) {
        Ok(ws) => ws,
        Err(_) => return retry(status, attempt + 1),
    };
    let welcomed = Rc::new(Cell::new(false));

    let on_message = {
        let welcomed = welcomed.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            if let Ok(ServerFrame::Welcome { conn_id, .. }) = serde_json::from_str(&text) {
                welcomed.set(true);
                status.set(Connection::Connected { conn_id });
            }
        })
    };
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
        // A connection that got as far as `welcome` starts its backoff afresh.
        let next = if welcomed.get() { 1 } else { attempt + 1 };
        match advice_for(ev.code()) {
            ReconnectAdvice::Reconnect => retry(status, next),
            ReconnectAdvice::Reauthenticate => status.set(Connection::Offline {
                reason: "sign in again".into(),
            }),
            ReconnectAdvice::Stop => status.set(Connection::Offline {
                reason: format!("closed by the server ({})", ev.code()),
            }),
        }
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));

    // The socket owns its handlers for its whole life; they are released with the page.
    on_message.forget();
    on_close.forget();
}

fn retry(status: RwSignal<Connection>, attempt: u32) {
    let delay_ms = backoff_delay(attempt, js_sys::Math::random());
    status.set(Connection::Reconnecting { attempt, delay_ms });
    set_timeout(
        move || {
            status.set(Connection::Connecting);
            open(status, attempt);
        },
        Duration::from_millis(u64::from(delay_ms)),
    );
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
