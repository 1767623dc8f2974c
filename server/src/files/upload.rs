//! `POST /files?room={room}&name={name}`: the file is the raw request body. Only a member
//! of the room may upload; the body may be at most `--max-upload-bytes`; the type is
//! sniffed and an image decoded under limits before anything is stored ([`inspect`]).
//! Answers `201` with the file's [`FileView`], which a `send` then names.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use protocol::FileView;
use protocol::ids::RoomId;
use serde::Deserialize;
use store::NewFile;
use tower_sessions::Session;

use super::disposition::clean_name;
use super::inspect::inspect;
use crate::gateway::Gateway;
use crate::gateway::auth::{CookieOrigin, authenticate};
use crate::http::HttpError;

/// The query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    room: Option<String>,
    name: Option<String>,
}

/// `POST /files`.
pub async fn upload(
    State(gateway): State<Gateway>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    session: Session,
    body: Body,
) -> Result<(StatusCode, Json<FileView>), HttpError> {
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let room: RoomId = query
        .room
        .as_deref()
        .and_then(|r| r.parse().ok())
        .ok_or(HttpError::BadQuery)?;
    let name = clean_name(query.name.as_deref().ok_or(HttpError::BadQuery)?);
    let limit = gateway.settings().max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(HttpError::TooLarge { limit });
    }
    let store = gateway.store();
    if store.room(room).await?.is_none() {
        return Err(HttpError::NoSuchRoom);
    }
    if !gateway.is_member(room, user.id).await? {
        return Err(HttpError::NotAMember);
    }
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| HttpError::TooLarge { limit })?;
    if bytes.is_empty() {
        return Err(HttpError::Empty);
    }
    let inspected = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || inspect(&bytes))
            .await
            .map_err(|_| HttpError::Unavailable)?
            .map_err(HttpError::BadImage)?
    };
    let (image, thumb) = match inspected.image {
        Some((size, thumb)) => (Some(size), Some(thumb)),
        None => (None, None),
    };
    let file = NewFile {
        room,
        uploader: user.id,
        name,
        content_type: inspected.content_type,
        image,
    };
    let stored = store.create_file(&file, &bytes, thumb.as_deref()).await?;
    metrics::counter!("confab_files_uploaded_total").increment(1);
    metrics::counter!("confab_files_uploaded_bytes_total").increment(stored.size);
    Ok((StatusCode::CREATED, Json(stored.view())))
}
