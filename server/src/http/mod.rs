//! The HTTP surface: Leptos pages and server functions, static files, health, and the
//! WebSocket route. One router per resource lives in its own module.

mod health;

use axum::{Router, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::state::AppState;

/// A session expires after this long without a request.
const SESSION_IDLE_DAYS: i64 = 30;

/// Builds the full router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context = {
        let state = state.clone();
        move || provide_context(state.app.clone())
    };
    let sessions = SessionManagerLayer::new(app::ssr::sessions::StoreSessions::new(
        state.app.store.clone(),
    ))
    .with_name(app::ssr::sessions::COOKIE_NAME)
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(state.settings.secure_cookies)
    .with_expiry(Expiry::OnInactivity(
        tower_sessions::cookie::time::Duration::days(SESSION_IDLE_DAYS),
    ));
    let shell = {
        let options = state.leptos_options.clone();
        move || app::shell(options.clone())
    };

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(protocol::WS_PATH, get(crate::gateway::upgrade))
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(sessions)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
