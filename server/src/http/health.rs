//! `/healthz` (the process serves HTTP), `/readyz` (its engines answer) and `/metrics`
//! (Prometheus text format).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// Always 200 while the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when the store answers a trivial query and can write, and the broker answers;
/// 503 otherwise. "Can write" is the store's own record ([`store::write_health`]): a
/// recent commit with no storage fault since, or else a small write probe, so a full disk
/// shows here (and its end too, with no one sending).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state.app.store.engine();
    let broker = state.gateway.broker_engine();
    let (store_ok, writes_ok, broker_ok) = tokio::join!(
        state.app.store.ping(),
        state.app.store.check_writes(),
        state.gateway.broker_ping()
    );
    if let Err(err) = &store_ok {
        tracing::warn!(cause = %err, "readiness check failed: the store");
    }
    if let Err(err) = &writes_ok {
        tracing::warn!(cause = %err, "readiness check failed: the store cannot write");
    }
    if let Err(err) = &broker_ok {
        tracing::warn!(cause = %err, "readiness check failed: the broker");
    }
    let ready = store_ok.is_ok() && writes_ok.is_ok() && broker_ok.is_ok();
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        Json(json!({
            "status": word,
            "store": store,
            "store_ok": store_ok.is_ok(),
            "store_writable": writes_ok.is_ok(),
            "broker": broker,
            "broker_ok": broker_ok.is_ok(),
        })),
    )
}

/// The Prometheus exposition of every metric.
pub async fn metrics(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ::metrics::gauge!("confab_rooms_with_subscribers")
        .set(state.gateway.rooms_with_subscribers() as f64);
    ::metrics::gauge!("confab_recent_event_bytes").set(state.gateway.recent_event_bytes() as f64);
    // Read at scrape time: a count that only grows over a long run is a task leak.
    ::metrics::gauge!("confab_runtime_alive_tasks").set(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks() as f64,
    );
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics::install().render(),
    )
}
