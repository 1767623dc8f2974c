//! The Confab server: server-rendered pages and server functions (Leptos on axum), and the
//! real-time WebSocket gateway, in one process.
//!
//! # Layout
//! - [`admin`]: the `confab user` and `confab token` subcommands.
//! - [`backup`]: the `confab backup` and `confab restore` subcommands (SQLite).
//! - [`data_lock`]: the lock a serving process holds on its SQLite database.
//! - [`config`]: the typed [`config::Settings`], from CLI flags with environment fallbacks.
//! - [`telemetry`]: tracing subscriber set-up (human or JSON logs).
//! - [`startup`]: [`startup::Application`]: binds, builds the state and router, runs.
//! - [`state`]: [`state::AppState`], shared by HTTP handlers, server functions and the gateway.
//! - [`http`]: the axum router: pages, server functions, static files, health, metrics.
//! - [`metrics`]: the Prometheus recorder and the names of every metric.
//! - [`gateway`]: the WebSocket endpoint: upgrade, framing, one task per connection.
//! - [`files`]: files shared in rooms: uploads (`POST /files`) and downloads.
//! - [`invites`]: invite links (`POST /invites`, `GET /join/{secret}`).
//! - [`shutdown`]: the process's stop signal and the token every task watches.
//!
//! `main.rs` is a thin wrapper; tests build an [`startup::Application`] on port 0.

/// Name and version as reported to clients: `confab/0.1.0`.
pub const SERVER_NAME: &str = concat!("confab/", env!("CARGO_PKG_VERSION"));

pub mod admin;
pub mod backup;
pub mod config;
pub mod data_lock;
pub mod files;
pub mod gateway;
pub mod heap_trim;
pub mod http;
pub mod invites;
pub mod metrics;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
