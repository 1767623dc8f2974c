//! `GET /files/{id}` and `GET /files/{id}/thumb`. Whoever may read the room's messages may
//! fetch its files (the one room rule, [`store::access::decide`]); anyone else, and any
//! id that names nothing, gets the same `404`.
//!
//! Nothing served here may run as our origin: every response is `nosniff` and sandboxed
//! by its CSP, and only the image types we decoded are served inline as themselves;
//! everything else is an `application/octet-stream` attachment.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use protocol::ids::FileId;
use store::FilePart;
use store::access::decide;
use tower_sessions::Session;

use super::disposition::content_disposition;
use super::inspect::shown_inline;
use crate::gateway::Gateway;
use crate::gateway::auth::{CookieOrigin, authenticate};
use crate::http::HttpError;

/// The policy of every file response: a document opened from it runs nothing and has an
/// opaque origin.
const FILE_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

/// The headers every served upload (a file, a thumbnail, an avatar) carries: its type as
/// the server decided it, `nosniff`, and the sandboxing policy.
pub(super) fn guard(h: &mut HeaderMap, content_type: &str) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
}

/// `GET /files/{id}`: the file as uploaded.
pub async fn original(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, HttpError> {
    serve(&gateway, &id, &headers, &session, FilePart::Original).await
}

/// `GET /files/{id}/thumb`: an image's thumbnail.
pub async fn thumb(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, HttpError> {
    serve(&gateway, &id, &headers, &session, FilePart::Thumb).await
}

async fn serve(
    gateway: &Gateway,
    id: &str,
    headers: &HeaderMap,
    session: &Session,
    part: FilePart,
) -> Result<Response, HttpError> {
    let user = authenticate(gateway, headers, session, CookieOrigin::IfPresent).await?;
    let id: FileId = id.parse().map_err(|_| HttpError::NoSuchFile)?;
    let store = gateway.store();
    let file = store.file(id).await?.ok_or(HttpError::NoSuchFile)?;
    let room = store.room(file.room_id).await?;
    let member = gateway.is_member(file.room_id, user.id).await?;
    // Not allowed to read the room: the same answer as no such file.
    decide(room.as_ref(), member).map_err(|_| HttpError::NoSuchFile)?;
    let bytes = store
        .file_bytes(id, part)
        .await?
        .ok_or(HttpError::NoSuchFile)?;
    let (content_type, inline) = match part {
        FilePart::Thumb => (crate::files::inspect::sniff(&bytes), true),
        FilePart::Original if shown_inline(&file.content_type) => (file.content_type.clone(), true),
        FilePart::Original => ("application/octet-stream".to_string(), false),
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    guard(h, &content_type);
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&file.name, inline)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // A file never changes under its id, but access does: the browser may keep it, no
    // shared cache may.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
