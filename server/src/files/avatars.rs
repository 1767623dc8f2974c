//! People's avatar pictures over HTTP: `PUT /avatar` sets the signed-in person's (the raw
//! image as the body, at most `--max-upload-bytes`; cropped to its centre square and
//! scaled down, [`avatar_picture`]), `DELETE /avatar` removes it (the initials show
//! again), and `GET /avatars/{user}` serves anyone's to whoever is signed in: a profile is
//! visible to every member of the site, as names are.
//!
//! A picture's URL carries its version (`?v=` the time it was set, `UserView::avatar`), so
//! the browser may keep each one for good; a new one has a new URL. A change is announced
//! to every node ([`Gateway::person_changed`]), so the messages people send next carry it.
//!
//! The same guards as any file: the type is sniffed, the image decoded under limits, and
//! the response is `nosniff` with a sandboxing CSP.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use protocol::UserView;
use protocol::ids::UserId;
use tower_sessions::Session;

use super::download::guard;
use super::inspect::avatar_picture;
use crate::gateway::Gateway;
use crate::gateway::auth::{CookieOrigin, authenticate};
use crate::http::HttpError;

/// `PUT /avatar`: answers the signed-in person as others now see them.
pub async fn set(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    session: Session,
    body: Body,
) -> Result<Json<UserView>, HttpError> {
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let limit = gateway.settings().max_upload_bytes;
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| HttpError::TooLarge { limit })?;
    if bytes.is_empty() {
        return Err(HttpError::Empty);
    }
    let (content_type, bytes) = tokio::task::spawn_blocking(move || avatar_picture(&bytes))
        .await
        .map_err(|_| HttpError::Unavailable)?
        .map_err(HttpError::BadImage)?;
    let avatar = store::Avatar {
        content_type,
        bytes,
    };
    let at = gateway.store().set_avatar(user.id, Some(&avatar)).await?;
    let now = store::User {
        avatar_at: at,
        ..user
    };
    gateway.person_changed(&now);
    metrics::counter!("confab_avatars_set_total").increment(1);
    Ok(Json(now.view()))
}

/// `DELETE /avatar`.
pub async fn remove(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    session: Session,
) -> Result<StatusCode, HttpError> {
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    gateway.store().set_avatar(user.id, None).await?;
    gateway.person_changed(&store::User {
        avatar_at: None,
        ..user
    });
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /avatars/{user}`: their picture, or `404` while they have none.
pub async fn get(
    State(gateway): State<Gateway>,
    Path(user): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, HttpError> {
    authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let user: UserId = user.parse().map_err(|_| HttpError::NoAvatar)?;
    let avatar = gateway
        .store()
        .avatar(user)
        .await?
        .ok_or(HttpError::NoAvatar)?;
    let mut response = Response::new(Body::from(avatar.bytes));
    let h = response.headers_mut();
    guard(h, &avatar.content_type);
    // Versioned URLs: a new picture is a new URL, so this one may be kept.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}
