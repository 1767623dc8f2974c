//! The HTTP surface: Leptos pages and server functions, static files, health, and the
//! WebSocket route. One router per resource lives in its own module. Every route but the
//! WebSocket one passes the page layers (sessions, cross-site refusal, caching,
//! compression, security headers, tracing); `/ws` passes the session layer alone.

pub mod assets;
pub mod error;
mod health;
pub mod listener;
pub mod origin;
pub mod serve;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Router, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::OnceLock;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

pub use error::HttpError;

use crate::state::AppState;

/// A session expires after this long without a request.
const SESSION_IDLE_DAYS: i64 = 30;

/// The app's routes, listed once per process.
///
/// Listing them renders the app with resource loading suppressed through a flag that is
/// global to the process: a resource first polled meanwhile, by any server in the same
/// process, waits forever (leptos-rs/leptos#4773). One server per process never meets
/// this, as it lists its routes before it serves; the test binaries start many servers
/// side by side, and a 404 page rendered while another server was starting hung the
/// CI run. Listing once, before the first server serves anything, closes that window.
fn app_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Builds the full router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = app_routes();
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

    // The WebSocket route takes the session layer alone (a browser signs in with its
    // cookie): its answer is a 101 with no body to compress, cache or guard with page
    // headers, and the page layers cost a reconnect storm's ten thousand upgrades a share of
    // the node's core.
    let gateway = Router::new()
        .route(protocol::WS_PATH, get(crate::gateway::upgrade))
        .layer(sessions.clone())
        .with_state(state.clone());

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/rooms/{room}/events", get(crate::gateway::room_events))
        .route("/api/events", get(crate::gateway::personal_events))
        .merge(crate::files::routes())
        .route("/invites", axum::routing::post(crate::invites::create))
        .route("/join/{secret}", get(crate::invites::join))
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::refuse_cross_site_writes,
        ))
        .layer(axum::middleware::from_fn(cache_control))
        .layer(CompressionLayer::new())
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        // No other site may frame our pages (clickjacking). The script policy of a full
        // CSP needs Leptos's per-request nonce and is not set yet.
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'",
        ))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
        .merge(gateway)
}

/// Sets `name: value` on every response that does not set it itself.
fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Sets `Cache-Control` by [`assets::cache_policy`] unless the handler set one (event streams do).
async fn cache_control(request: Request, next: Next) -> Response {
    let policy = assets::cache_policy(request.uri().path());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(policy));
    response
}
