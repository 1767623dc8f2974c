//! Server-Sent Events: read-only streams for consumers that want no WebSocket (bots,
//! notifiers, `curl -N`).
//!
//! - `GET /api/rooms/{room}/events`: one room's events. It is a subscriber like any
//!   other connection, served by the same sender task through an [`SseSink`]: a snapshot
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

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use protocol::ids::{RoomId, Seq, UserId};
use protocol::{CloseCode, PersonalEvent, ServerFrame};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use store::{RoomKind, Store, StoreError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_sessions::Session;
use tracing::Instrument;

use super::Gateway;
use super::addr_limit::AddrSlot;
use super::auth::{CookieOrigin, Refusal, authenticate};
use super::encode::text;
use super::outbound::{ConnHandle, Outbound};
use super::sink::{SseSink, close_event};

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events buffered between the stream's writer and the HTTP body.
const BODY_BUFFER: usize = 16;
/// A personal resume replays at most this many unread notices per room.
const MISSED_PER_ROOM: usize = 100;
/// A personal resume looks this far before the given time, so that a notice queued but
/// not yet written at the disconnect is not lost (it may repeat instead).
const RESUME_SLACK_MS: i64 = 1_000;

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
    fn from(err: StoreError) -> Self {
        tracing::warn!(cause = %err, "event stream: store failed");
        StreamError::Unavailable
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
fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, StreamError> {
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
fn respond(mut rx: mpsc::Receiver<Result<Event, Infallible>>) -> Response {
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Counts an open stream while alive, and holds its place in its address's count.
struct OpenStream {
    _slot: AddrSlot,
}

impl OpenStream {
    fn new(slot: AddrSlot) -> OpenStream {
        metrics::gauge!("confab_streams_open").increment(1);
        OpenStream { _slot: slot }
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("confab_streams_open").decrement(1);
    }
}

/// `GET /api/rooms/{room}/events`.
pub async fn room_events(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(room): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, StreamError> {
    let slot = gateway
        .admit(peer.ip())
        .ok_or(StreamError::TooManyConnections)?;
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let room: RoomId = room.parse().map_err(|_| StreamError::NotFound)?;
    let since: Option<Seq> = last_event_id(&headers)?;
    let found = gateway
        .store()
        .room(room)
        .await?
        .ok_or(StreamError::NotFound)?;
    if found.kind != RoomKind::Public && !gateway.is_member(room, user.id).await? {
        return Err(StreamError::Forbidden);
    }
    if gateway.shutdown_token().is_cancelled() {
        return Err(StreamError::Unavailable);
    }
    gateway.users().insert(&user);

    let (handle, queue) = new_handle(&gateway, user.id);
    let (tx, rx) = mpsc::channel(BODY_BUFFER);
    // Register first, then resume: what is published from now on is queued, and what came
    // before the resume point is read from the Store.
    gateway.subscribe_local(room, &handle);
    if handle.push(Outbound::resume(room, since)).is_err() {
        gateway.unsubscribe_local(room, handle.id);
        return Err(StreamError::Unavailable);
    }
    let span = tracing::info_span!("stream", %room, user = %user.id);
    let task = {
        let gateway = gateway.clone();
        async move {
            let _open = OpenStream::new(slot);
            let done = CancellationToken::new();
            let watcher = tokio::spawn(watch(
                gateway.shutdown_token(),
                tx.clone(),
                handle.clone(),
                done.clone(),
            ));
            super::sender::run(
                SseSink::new(tx),
                queue,
                handle.clone(),
                gateway.clone(),
                done,
            )
            .await;
            watcher.abort();
            gateway.unsubscribe_local(room, handle.id);
            tracing::debug!("room stream ended");
        }
        .instrument(span)
    };
    gateway.inner.tasks.spawn(task);
    Ok(respond(rx))
}

/// Ends a room stream: with 1012 when the gateway shuts down, at once when the client has
/// gone (noticed even while nothing is being written).
async fn watch(
    shutdown: CancellationToken,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    handle: ConnHandle,
    done: CancellationToken,
) {
    tokio::select! {
        () = shutdown.cancelled() => {
            if handle.push(Outbound::Close(CloseCode::ServiceRestart)).is_err() {
                done.cancel();
            }
        }
        () = tx.closed() => done.cancel(),
        () = done.cancelled() => {}
    }
}

fn new_handle(gateway: &Gateway, user: UserId) -> (ConnHandle, mpsc::Receiver<Outbound>) {
    ConnHandle::new(
        gateway.next_conn_id(),
        user,
        gateway.settings().queue_frames as usize,
        gateway.inner.catch_ups.clone(),
    )
}

/// `GET /api/events`.
pub async fn personal_events(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, StreamError> {
    let slot = gateway
        .admit(peer.ip())
        .ok_or(StreamError::TooManyConnections)?;
    let user = authenticate(&gateway, &headers, &session, CookieOrigin::IfPresent).await?;
    let since = last_event_id(&headers)?
        .map(|ms| i64::try_from(ms).map_err(|_| StreamError::BadLastEventId))
        .transpose()?;
    if gateway.shutdown_token().is_cancelled() {
        return Err(StreamError::Unavailable);
    }
    let (handle, queue) = new_handle(&gateway, user.id);
    // Registered before the Store is read for what was missed: nothing falls in between.
    gateway.hub().connect(&handle);
    let (tx, rx) = mpsc::channel(BODY_BUFFER);
    let span = tracing::info_span!("stream", user = %user.id);
    let task = {
        let gateway = gateway.clone();
        async move {
            let _open = OpenStream::new(slot);
            let mut stream = PersonalStream {
                tx,
                last_id: 0,
                seen: HashMap::new(),
            };
            let result = stream.run(&gateway, user.id, since, queue).await;
            if let Err(Ended::StoreFailed(err)) = result {
                tracing::warn!(cause = %err, "personal stream: store failed");
                stream
                    .close(CloseCode::InternalError, CloseCode::InternalError.reason())
                    .await;
            }
            gateway.hub().disconnect(&handle);
            tracing::debug!("personal stream ended");
        }
        .instrument(span)
    };
    gateway.inner.tasks.spawn(task);
    Ok(respond(rx))
}

/// Why a personal stream stopped.
enum Ended {
    /// The client went away, or the stream was closed.
    Gone,
    StoreFailed(StoreError),
}

impl From<StoreError> for Ended {
    fn from(err: StoreError) -> Self {
        Ended::StoreFailed(err)
    }
}

/// The writer of one personal stream.
struct PersonalStream {
    tx: mpsc::Sender<Result<Event, Infallible>>,
    /// The last id written; ids never go back even if the clock does.
    last_id: i64,
    /// The newest unread notice sent per room by the resume, so that the same notice
    /// arriving live afterwards is not sent twice.
    seen: HashMap<RoomId, Seq>,
}

impl PersonalStream {
    async fn run(
        &mut self,
        gateway: &Gateway,
        user: UserId,
        since: Option<i64>,
        mut queue: mpsc::Receiver<Outbound>,
    ) -> Result<(), Ended> {
        if let Some(since) = since {
            let handle = gateway.users().load(&*gateway.store(), user).await?.handle;
            let store = gateway.store();
            for event in missed(&*store, user, &handle, since - RESUME_SLACK_MS).await? {
                if let PersonalEvent::Unread { room, seq, .. } = event {
                    let newest = self.seen.entry(room).or_default();
                    *newest = (*newest).max(seq);
                }
                self.send(&ServerFrame::Personal { event }).await?;
            }
        }
        let shutdown = gateway.shutdown_token();
        let stuck = gateway.settings().stuck_after();
        loop {
            let item = tokio::select! {
                item = queue.recv() => item,
                () = shutdown.cancelled() => Some(Outbound::Close(CloseCode::ServiceRestart)),
                () = self.tx.closed() => return Err(Ended::Gone),
            };
            match item {
                None => return Ok(()),
                Some(Outbound::Frame(text)) => {
                    if self.already_sent(text.as_str()) {
                        continue;
                    }
                    match tokio::time::timeout(stuck, self.write(text.as_str())).await {
                        Ok(result) => result?,
                        Err(_) => return Err(Ended::Gone),
                    }
                }
                Some(Outbound::Close(code)) => {
                    let reason = match code {
                        CloseCode::ServiceRestart => protocol::close::restart_reason(
                            gateway.settings().restart_wait_ms(rand::random()),
                        ),
                        other => other.reason().to_string(),
                    };
                    self.close(code, &reason).await;
                    return Ok(());
                }
                // A personal stream subscribes to no room.
                Some(
                    Outbound::Event(_)
                    | Outbound::Resume(_)
                    | Outbound::Fill(_)
                    | Outbound::Forget(_)
                    | Outbound::Pong(_),
                ) => {}
            }
        }
    }

    /// Whether `text` is an unread notice the resume already sent.
    fn already_sent(&self, text: &str) -> bool {
        if self.seen.is_empty() {
            return false;
        }
        match serde_json::from_str::<ServerFrame>(text) {
            Ok(ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, .. },
            }) => self.seen.get(&room).is_some_and(|&newest| seq <= newest),
            _ => false,
        }
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), Ended> {
        self.write(text(frame).as_str()).await
    }

    async fn write(&mut self, data: &str) -> Result<(), Ended> {
        self.last_id = self.last_id.max(store::now_millis());
        let event = Event::default().id(self.last_id.to_string()).data(data);
        self.tx.send(Ok(event)).await.map_err(|_| Ended::Gone)?;
        metrics::counter!("confab_frames_out_total", "type" => "personal").increment(1);
        Ok(())
    }

    async fn close(&mut self, code: CloseCode, reason: &str) {
        let _ = self.tx.send(Ok(close_event(code, reason))).await;
    }
}

/// What `user` missed since `since` (Unix ms), from the Store: rooms joined (and direct
/// messages opened) since then, and an unread notice for each message since then that is
/// still after the read marker, not their own and not deleted (at most
/// [`MISSED_PER_ROOM`] per room, the newest), marked as a mention where the message calls
/// out `handle`. Leaves are not recorded, so not replayed.
async fn missed(
    store: &dyn Store,
    user: UserId,
    handle: &str,
    since: i64,
) -> Result<Vec<PersonalEvent>, StoreError> {
    let mut out = Vec::new();
    for summary in store.rooms_of(user).await? {
        let room = summary.room.id;
        if let Some(m) = store.membership(room, user).await?
            && m.joined_at >= since
        {
            out.push(match &summary.dm_peer {
                Some(peer) => PersonalEvent::DmOpened {
                    room,
                    with: peer.view(),
                },
                None => PersonalEvent::Membership { room, joined: true },
            });
        }
        if summary.unread == 0 {
            continue;
        }
        let mut notices = Vec::new();
        let mut after = summary.last_read_seq;
        loop {
            let events = store.events_after(room, after, 500).await?;
            let n = events.len();
            for e in events {
                after = e.seq;
                if e.kind == store::EventKind::Message
                    && e.message.author_id != user
                    && !e.message.deleted
                    && e.created_at >= since
                {
                    let mention = protocol::mentions::scan(&e.message.body).includes(handle);
                    // A thread reply is news only to those it mentions.
                    if e.message.thread_root.is_none() || mention {
                        notices.push(PersonalEvent::Unread {
                            room,
                            seq: e.seq,
                            mention,
                        });
                    }
                }
            }
            if n < 500 {
                break;
            }
        }
        let skip = notices.len().saturating_sub(MISSED_PER_ROOM);
        out.extend(notices.into_iter().skip(skip));
    }
    Ok(out)
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
