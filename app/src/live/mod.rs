//! The visible state of the live connection, and the reconnect backoff. The connection
//! itself is the browser's live socket (in [`crate::chat`]): `connecting` until the server's
//! `welcome`, `connected`, `reconnecting` after a close that allows it (see
//! [`protocol::close::advice_for`]), `offline` after a terminal close or while the
//! browser has no network. [`dialer`] decides when to (re)open the socket, [`pacer`]
//! paces what it sends, [`buffer`] holds what it received until applied, and
//! [`render_pace`] how often that is; all pure, driven by the browser's socket.

mod backoff;
pub mod buffer;
pub mod dialer;
pub mod pacer;
pub mod render_pace;

pub use backoff::{backoff_delay, reconnect_delay};

use leptos::prelude::*;

/// The visible state of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Opening the socket, or waiting for `welcome`.
    Connecting,
    /// `welcome` received.
    Connected { conn_id: String },
    /// The socket closed; the next attempt starts after `delay_ms`.
    Reconnecting { attempt: u32, delay_ms: u32 },
    /// The server closed with a terminal code; no reconnect is attempted.
    Offline { reason: String },
    /// The browser has no network; the socket reconnects when it returns.
    NoNetwork,
}

impl Connection {
    /// A stable machine-readable name, used as `data-state` by tests and CSS.
    pub fn key(&self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Connected { .. } => "connected",
            Connection::Reconnecting { .. } => "reconnecting",
            Connection::Offline { .. } | Connection::NoNetwork => "offline",
        }
    }

    /// What a person reads in the badge.
    pub fn label(&self) -> String {
        match self {
            Connection::Connecting => "Connecting…".into(),
            Connection::Connected { .. } => "Connected".into(),
            Connection::Reconnecting { delay_ms, .. } => {
                format!("Reconnecting in {} s", delay_ms.div_ceil(1000))
            }
            Connection::Offline { reason } => format!("Offline: {reason}"),
            Connection::NoNetwork => "Offline: no network".into(),
        }
    }

    /// Whether the browser is known to have no network (queued messages wait for it).
    pub fn no_network(&self) -> bool {
        matches!(self, Connection::NoNetwork)
    }
}

/// Shows the connection state; `data-state` carries [`Connection::key`]. While
/// reconnecting it counts the seconds down and offers `reconnect` ("Reconnect now").
#[component]
pub fn ConnectionBadge(
    state: Signal<Connection>,
    #[prop(optional, into)] reconnect: Option<Callback<()>>,
    /// Whether the page applies what arrives less often than it could (under load).
    #[prop(optional, into)]
    catching_up: Option<Signal<bool>>,
) -> impl IntoView {
    // The page clock now, and when the current reconnect wait started (ms).
    let now = RwSignal::new(0.0f64);
    let started = RwSignal::new(0.0f64);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(ticker) = set_interval_with_handle(
            move || now.set(js_sys::Date::now()),
            std::time::Duration::from_millis(500),
        ) {
            on_cleanup(move || ticker.clear());
        }
        Effect::new(move |_| {
            if let Connection::Reconnecting { .. } = state.get() {
                started.set(js_sys::Date::now());
                now.set(js_sys::Date::now());
            }
        });
    }
    let waiting = move || matches!(state.get(), Connection::Reconnecting { .. });
    view! {
        <Badge state now started />
        {move || reconnect.filter(|_| waiting()).map(|go| view! {
            <button type="button" class="button button--quiet conn-badge__now"
                data-testid="reconnect-now" on:click=move |_| go.run(())>"Reconnect now"</button>
        })}
        {move || catching_up.filter(|c| c.get()).map(|_| view! {
            <span class="conn-badge__busy" data-testid="catching-up">"catching up…"</span>
        })}
    }
}

#[component]
fn Badge(state: Signal<Connection>, now: RwSignal<f64>, started: RwSignal<f64>) -> impl IntoView {
    let label = move || match state.get() {
        Connection::Reconnecting { delay_ms, attempt } => {
            let left = (f64::from(delay_ms) - (now.get() - started.get())).max(0.0) as u32;
            Connection::Reconnecting {
                delay_ms: left,
                attempt,
            }
            .label()
        }
        other => other.label(),
    };
    view! {
        <span
            class="conn-badge"
            data-testid="connection"
            data-state=move || state.get().key()
            role="status"
            aria-live="polite"
        >
            {label}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_reconnect_delays_up() {
        let c = Connection::Reconnecting {
            attempt: 1,
            delay_ms: 1200,
        };
        assert_eq!(c.label(), "Reconnecting in 2 s");
        assert_eq!(c.key(), "reconnecting");
    }

    #[test]
    fn no_network_reads_as_offline() {
        assert_eq!(Connection::NoNetwork.key(), "offline");
        assert_eq!(Connection::NoNetwork.label(), "Offline: no network");
        assert!(Connection::NoNetwork.no_network());
        assert!(!Connection::Connecting.no_network());
    }
}
