//! Server-only code of the app: the context the server provides to every render and
//! server function, and the account machinery behind the auth server functions. Never
//! compiled into the wasm build (the whole module is behind `ssr`).
//!
//! # Layout
//! - [`AppContext`] (this file): what server functions reach through `expect_context`.
//! - [`passwords`]: argon2id hashing and verification, off the async threads.
//! - [`tokens`]: API token secrets: generation and SHA-256 lookup hashes.
//! - [`sessions`]: the tower-sessions store over our [`store::Store`], and the signed-in
//!   user of a session.
//! - [`limits`]: rate limits for log-in and sign-up.
//! - [`csp`]: the Content-Security-Policy of every page, with its per-response nonce.
//! - [`invites`]: making an invite link.

pub mod csp;
pub mod invites;
pub mod limits;
pub mod passwords;
pub mod sessions;
pub mod tokens;

use std::sync::Arc;
use std::time::Instant;

/// Facts about the running server process.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// Name and version, e.g. `confab/0.1.0`.
    pub server_name: String,
    /// When the process started serving.
    pub started: Instant,
}

/// Everything a server function may need, provided once per request by the server.
#[derive(Clone)]
pub struct AppContext {
    pub info: ServerInfo,
    pub store: Arc<dyn store::Store>,
    pub limits: Arc<limits::Limits>,
    /// Tells every node that a person's look (their display name) changed, so the events
    /// they send next carry it (the gateway's `person_changed`).
    pub person_changed: Arc<dyn Fn(&store::User) + Send + Sync>,
}

/// The request's [`AppContext`]; a server function called outside the server's routes
/// (which provide it) gets an error rather than a panic.
pub fn app_context() -> Result<AppContext, leptos::prelude::ServerFnError> {
    leptos::prelude::use_context::<AppContext>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("server context is missing"))
}

/// Sets the status of the response a server function is answering (errors map to their
/// status in one place each: `ChatError::status`, `AdminError::status`, `AuthError::status`).
pub fn set_status(code: u16) {
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(
            http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
}
