//! `/healthz`: the process is up and serving HTTP.

use axum::Json;
use serde_json::{Value, json};

/// Always 200 while the process serves requests.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
