//! Server-only context that the server provides to every render and server function
//! (`provide_context` in the server's Leptos routes). Never compiled into the wasm build.

use std::time::Instant;

/// Facts about the running server process.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// Name and version, e.g. `confab/0.1.0`.
    pub server_name: String,
    /// When the process started serving.
    pub started: Instant,
}
