//! `/healthz` (the process serves HTTP) and `/readyz` (its engines answer).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// Always 200 while the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when the store answers a trivial query, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state.app.store.engine();
    match state.app.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "store": store })),
        ),
        Err(err) => {
            tracing::warn!(cause = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store })),
            )
        }
    }
}
