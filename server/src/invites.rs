//! Invite links over HTTP (docs/moderation.md): `POST /invites?room={room}&hours={h}` makes
//! a link for a member (default a week, at most 30 days) and answers
//! `{"url": "/join/…", "expires_at": …}`; `GET /join/{secret}` joins the signed-in person
//! to the room and takes them there. Only the secret's SHA-256 is stored. A person who is
//! not signed in is asked to sign in and open the link again.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use protocol::ids::RoomId;
use serde::Deserialize;
use store::StoreError;
use tower_sessions::Session;

use crate::gateway::Gateway;
use crate::gateway::auth::{CookieOrigin, Refusal, authenticate};
use crate::http::HttpError;

/// The query of `POST /invites`.
#[derive(Debug, Deserialize)]
pub struct NewInvite {
    room: Option<String>,
    hours: Option<u32>,
}

/// `POST /invites`: a new link to a room the caller is a member of.
pub async fn create(
    State(gateway): State<Gateway>,
    Query(query): Query<NewInvite>,
    headers: HeaderMap,
    session: Session,
) -> Result<(StatusCode, Json<serde_json::Value>), HttpError> {
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let room: RoomId = query
        .room
        .as_deref()
        .and_then(|r| r.parse().ok())
        .ok_or(HttpError::BadQuery)?;
    let made = match app::ssr::invites::create(&*gateway.store(), room, user.id, query.hours).await
    {
        Ok(made) => made,
        Err(StoreError::NotFound { .. }) => return Err(HttpError::NoSuchRoom),
        Err(StoreError::Forbidden { reason }) => return Err(HttpError::Forbidden(reason)),
        Err(err) => return Err(err.into()),
    };
    let body = serde_json::json!({"url": made.path, "expires_at": made.expires_at});
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /join/{secret}`: joins and goes to the room.
pub async fn join(
    State(gateway): State<Gateway>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Response {
    let user = match authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await {
        Ok(user) => user,
        Err(Refusal::Unauthorized) => {
            return page(
                StatusCode::UNAUTHORIZED,
                "Sign in to join",
                "<a href=\"/login\">Log in</a> or <a href=\"/signup\">sign up</a>, then open this invite link again.",
            );
        }
        Err(_) => {
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The service is unavailable; try again shortly.",
            );
        }
    };
    let Some(hash) = app::ssr::tokens::lookup_hash(&secret) else {
        return page(
            StatusCode::NOT_FOUND,
            "No such invite",
            "This invite link is not valid.",
        );
    };
    match gateway
        .store()
        .redeem_invite(&hash, user.id, store::now_millis())
        .await
    {
        Ok((room, joined)) => {
            if joined {
                gateway.membership_changed(room.id, user.id, true);
            }
            Redirect::to(&format!("/r/{}", room.id)).into_response()
        }
        Err(StoreError::NotFound { .. }) => page(
            StatusCode::NOT_FOUND,
            "No such invite",
            "This invite link is not valid.",
        ),
        Err(StoreError::Forbidden { reason }) => page(StatusCode::GONE, "Cannot join", reason),
        Err(err) => {
            tracing::warn!(cause = %err, "redeeming an invite failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The service is unavailable; try again shortly.",
            )
        }
    }
}

/// A small page saying why a link did not lead to its room (our own text only).
fn page(status: StatusCode, title: &str, html_message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Confab</title></head><body><main><h1>{title}</h1><p>{html_message}</p>\
         <p><a href=\"/\">Confab</a></p></main></body></html>"
    );
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("a header value"),
    );
    response
}
