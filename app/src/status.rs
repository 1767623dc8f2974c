//! `server_status`: a small server function that reports what the server is running.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What `server_status` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Name and version, e.g. `confab/0.1.0`.
    pub server: String,
    /// Whole seconds since the process started.
    pub uptime_secs: u64,
}

/// Reports the server's name, version and uptime.
#[server(endpoint = "status")]
pub async fn server_status() -> Result<StatusReport, ServerFnError> {
    let info = crate::ssr::app_context()?.info;
    Ok(StatusReport {
        server: info.server_name.clone(),
        uptime_secs: info.started.elapsed().as_secs(),
    })
}
