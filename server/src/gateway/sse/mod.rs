//! Server-Sent Events: read-only streams for consumers that want no WebSocket (bots,
//! notifiers, `curl -N`).
//!
//! - `GET /api/rooms/{room}/events`: one room's events. It is a subscriber like any
//!   other connection, served by the same sender task through an [`SseTransport`]: a snapshot
//!   first (or, with `Last-Event-ID: <seq>`, a replay of what came after that seq, or a
//!   snapshot when the gap is too big), then live events in seq order. Each event's `id`
//!   is its seq. Readers of a public room need not be members; a private room or a DM
//!   needs membership. A reader is not a participant: it adds no presence.
//! - `GET /api/events`: the user's personal events (unread notices, invitations and
//!   memberships, direct messages opened). Each `id` is the server's clock in Unix
//!   milliseconds; resuming with `Last-Event-ID` sends, from the Store, what was missed
//!   since then (at least once: notices from the last moments before the disconnect may
//!   repeat; `(room, seq)` identifies an unread notice).
//!
//! Both authenticate like the WebSocket (API token, or the session cookie of our own
//! pages), send a keep-alive comment every 15 s, and end with a last
//! `{"type":"close",…}` event: 1012 with a `retry` when the server shuts down, 1000 when
//! the reader leaves the room. Refusals are plain HTTP statuses with a JSON body
//! ([`StreamError`]), 429 when the peer's address holds `--max-conns-per-addr`
//! connections already.

//!
//! `room` serves the room streams, `personal` the personal ones; this file holds what
//! both share: the refusals, `Last-Event-ID`, the response body and the open-stream count.

mod personal;
mod room;

pub use personal::personal_events;
pub use room::room_events;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use protocol::ids::UserId;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use store::StoreError;
use store::User;
use tokio::sync::mpsc;
use tower_sessions::Session;

use super::Gateway;
use super::addr_limit::AddrSlot;
use super::auth::{CookieOrigin, Refusal, authenticate};
use super::outbound::{ConnHandle, Outbound};
use super::queue::QueueRx;

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events buffered between the stream's writer and the HTTP body.
const BODY_BUFFER: usize = 16;

/// Why a stream was refused: one HTTP status and one stable code each.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("sign in, or send an API token as `Authorization: Bearer …`")]
    Unauthorized,
    #[error("the session cookie may only be used by this site's own pages")]
    ForeignOrigin,
    #[error("there is no such room")]
    NotFound,
    #[error("this room is private")]
    Forbidden,
    #[error("Last-Event-ID must be a whole number")]
    BadLastEventId,
    #[error("the service is unavailable; retry shortly")]
    Unavailable,
    #[error("this address has too many open connections; retry later")]
    TooManyConnections,
}

impl StreamError {
    /// The HTTP status and the stable code of the JSON body.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            StreamError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            StreamError::ForeignOrigin => (StatusCode::FORBIDDEN, "forbidden_origin"),
            StreamError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            StreamError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            StreamError::BadLastEventId => (StatusCode::BAD_REQUEST, "invalid_field"),
            StreamError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            StreamError::TooManyConnections => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_connections")
            }
        }
    }
}

impl From<Refusal> for StreamError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unauthorized => StreamError::Unauthorized,
            Refusal::ForeignOrigin => StreamError::ForeignOrigin,
            Refusal::Unavailable => StreamError::Unavailable,
            Refusal::TooManyConnections => StreamError::TooManyConnections,
        }
    }
}

impl From<StoreError> for StreamError {
    /// A refusal of the room rule keeps its meaning; any other store failure makes the
    /// stream unavailable for now.
    fn from(err: StoreError) -> Self {
        match err.client_error().0 {
            ErrorCode::NotFound => StreamError::NotFound,
            ErrorCode::Forbidden => StreamError::Forbidden,
            _ => {
                tracing::warn!(cause = %err, "event stream: store failed");
                StreamError::Unavailable
            }
        }
    }
}

impl IntoResponse for StreamError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({"code": code, "message": self.to_string()});
        (status, Json(body)).into_response()
    }
}

/// The `Last-Event-ID` header as a number, if sent.
pub(super) fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, StreamError> {
    match headers.get("last-event-id") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or(StreamError::BadLastEventId),
    }
}

/// The response: events from `rx`, keep-alive comments while idle.
pub(super) fn respond(mut rx: mpsc::Receiver<Result<Event, Infallible>>) -> Response {
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Counts an open stream while alive, and holds its place in its address's count.
pub(super) struct OpenStream {
    _slot: AddrSlot,
}

impl OpenStream {
    pub(super) fn new(slot: AddrSlot) -> OpenStream {
        metrics::gauge!("confab_streams_open").increment(1);
        OpenStream { _slot: slot }
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("confab_streams_open").decrement(1);
    }
}

/// A place for one more stream from `peer` and the reader it authenticates as, or the
/// refusal: too many connections from that address, or no valid credentials.
pub(super) async fn admit_reader(
    gateway: &Gateway,
    peer: SocketAddr,
    headers: &HeaderMap,
    session: &Session,
) -> Result<(AddrSlot, User), StreamError> {
    let slot = gateway
        .admit(peer.ip())
        .ok_or(StreamError::TooManyConnections)?;
    let user = authenticate(gateway, headers, session, CookieOrigin::IfPresent).await?;
    Ok((slot, user))
}

pub(super) fn new_handle(gateway: &Gateway, user: UserId) -> (ConnHandle, QueueRx<Outbound>) {
    ConnHandle::new(
        gateway.next_conn_id(),
        user,
        gateway.settings().queue_frames as usize,
        gateway.inner.catch_ups.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn last_event_id_is_a_number_or_absent() {
        let mut h = HeaderMap::new();
        assert_eq!(last_event_id(&h).unwrap(), None);
        h.insert("last-event-id", HeaderValue::from_static(" 42 "));
        assert_eq!(last_event_id(&h).unwrap(), Some(42));
        h.insert("last-event-id", HeaderValue::from_static("abc"));
        assert!(matches!(
            last_event_id(&h),
            Err(StreamError::BadLastEventId)
        ));
    }

    #[test]
    fn every_refusal_has_a_distinct_status_and_code() {
        let all = [
            StreamError::Unauthorized,
            StreamError::ForeignOrigin,
            StreamError::NotFound,
            StreamError::Forbidden,
            StreamError::BadLastEventId,
            StreamError::Unavailable,
        ];
        let codes: std::collections::HashSet<_> =
            all.iter().map(|e| e.status_and_code().1).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(
            StreamError::Forbidden.status_and_code().0,
            StatusCode::FORBIDDEN
        );
    }
}
