//! Files shared in rooms, over HTTP beside the gateway: `POST /files` stores an upload,
//! `GET /files/{id}` (and `/files/{id}/thumb`) serves it. The design is in
//! `docs/files.md`; messages name files by id (`send`'s `files`), so file bytes never
//! travel through the gateway's fan-out.
//!
//! - [`upload`]: the upload handler: who may, how big, what is stored.
//! - [`download`]: the download handlers: who may, and the headers that keep a file
//!   from running as our origin.
//! - [`inspect`]: what an upload is (sniffed from its bytes), images decoded under
//!   limits and thumbnailed; pure, no I/O.
//! - [`disposition`]: a file's name, cleaned on upload and encoded for download.
//! - [`avatars`]: people's avatar pictures (`/avatar`, `/avatars/{user}`).
//!
//! Refusals are [`crate::http::HttpError`]s.

pub mod avatars;
pub mod disposition;
pub mod download;
pub mod inspect;
pub mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use crate::state::AppState;

/// How long an upload may wait for the message that names it before the purge takes it.
pub const UNATTACHED_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The routes under [`protocol::FILES_PATH`], and the avatars'. The uploads read their
/// bodies themselves, under `--max-upload-bytes`, so axum's default body limit is off for
/// them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            protocol::FILES_PATH,
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/files/{id}", get(download::original))
        .route("/files/{id}/thumb", get(download::thumb))
        .route(
            "/avatar",
            put(avatars::set)
                .delete(avatars::remove)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/avatars/{user}", get(avatars::get))
}
