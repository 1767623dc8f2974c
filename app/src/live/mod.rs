//! The browser's live connection to the gateway and the badge that shows its state.
//!
//! On the server the state is rendered as "connecting"; after hydration an effect opens
//! the WebSocket ([`socket`]), and the state follows the socket: `connected` once the
//! server's `welcome` arrives, `reconnecting` with a backoff delay after a close that
//! allows it ([`protocol::close::advice_for`]), `offline` after a terminal close.

mod backoff;
#[cfg(feature = "hydrate")]
mod socket;

pub use backoff::backoff_delay;

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
}

impl Connection {
    /// A stable machine-readable name, used as `data-state` by tests and CSS.
    pub fn key(&self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Connected { .. } => "connected",
            Connection::Reconnecting { .. } => "reconnecting",
            Connection::Offline { .. } => "offline",
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
        }
    }
}

/// A handle on the page's connection state.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionState {
    status: RwSignal<Connection>,
}

impl ConnectionState {
    /// Creates the state and, in the browser, opens the socket once hydrated.
    pub fn start() -> Self {
        let status = RwSignal::new(Connection::Connecting);
        Effect::new(move |_| {
            #[cfg(feature = "hydrate")]
            socket::open(status, 0);
        });
        ConnectionState { status }
    }

    /// The current state (reactive).
    pub fn get(&self) -> Connection {
        self.status.get()
    }
}

/// Opens the live connection (in the browser) and shows its state. Render it only for a
/// signed-in user: the gateway refuses anonymous sockets with 4001.
#[component]
pub fn LiveBadge() -> impl IntoView {
    let state = ConnectionState::start();
    view! { <ConnectionBadge state /> }
}

/// Shows the connection state; `data-state` carries [`Connection::key`].
#[component]
pub fn ConnectionBadge(state: ConnectionState) -> impl IntoView {
    view! {
        <span
            class="conn-badge"
            data-testid="connection"
            data-state=move || state.get().key()
            role="status"
            aria-live="polite"
        >
            {move || state.get().label()}
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
}
