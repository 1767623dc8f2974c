//! [`AppState`]: what every HTTP handler, server function and gateway task shares.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

use crate::config::Settings;
use crate::gateway::Gateway;

/// Shared, cheaply cloned application state.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos's settings (site root, output name); needed by the Leptos handlers.
    pub leptos_options: LeptosOptions,
    /// The settings the server was started with.
    pub settings: Arc<Settings>,
    /// The real-time gateway.
    pub gateway: Gateway,
    /// What server functions reach through context: process facts, the store, limits.
    pub app: app::ssr::AppContext,
}
