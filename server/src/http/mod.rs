//! The HTTP surface: Leptos pages and server functions, static files, health, and the
//! WebSocket route. One router per resource lives in its own module.

mod health;

use axum::{Router, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Builds the full router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context = {
        let state = state.clone();
        move || provide_context(state.server_info.clone())
    };
    let shell = {
        let options = state.leptos_options.clone();
        move || app::shell(options.clone())
    };

    Router::new()
        .route("/healthz", get(health::healthz))
        .route(protocol::WS_PATH, get(crate::gateway::upgrade))
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
