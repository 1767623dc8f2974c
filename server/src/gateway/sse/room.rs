//! `GET /api/rooms/{room}/events`: one room's events as Server-Sent Events, served by the
//! same sender task as a WebSocket subscriber (through an [`SseTransport`]), so snapshots,
//! replays after `Last-Event-ID` and live events follow the same rules.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use protocol::CloseCode;
use protocol::ids::{RoomId, Seq};
use std::convert::Infallible;
use std::net::SocketAddr;
use store::access::decide;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_sessions::Session;
use tracing::Instrument;

use super::{
    BODY_BUFFER, OpenStream, StreamError, admit_reader, last_event_id, new_handle, respond,
};
use crate::gateway::Gateway;
use crate::gateway::ending::Ending;
use crate::gateway::outbound::{ConnHandle, Outbound};
use crate::gateway::transport::SseTransport;

/// `GET /api/rooms/{room}/events`.
pub async fn room_events(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(room): Path<String>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, StreamError> {
    let (slot, user) = admit_reader(&gateway, peer, &headers, &session).await?;
    let room: RoomId = room.parse().map_err(|_| StreamError::NotFound)?;
    let since: Option<Seq> = last_event_id(&headers)?;
    // Readers of a public room need not be members (the one room rule).
    let found = gateway.store().room(room).await?;
    let member = match &found {
        Some(_) => gateway.is_member(room, user.id).await?,
        None => false,
    };
    decide(found.as_ref(), member)?;
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
            let (watcher_end, done) = Ending::pair(&handle);
            let watcher = tokio::spawn(watch(
                gateway.shutdown_token(),
                tx.clone(),
                handle.clone(),
                watcher_end,
            ));
            crate::gateway::sender::run(
                SseTransport::new(tx),
                queue,
                handle.shared.clone(),
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
    done: Ending,
) {
    tokio::select! {
        () = shutdown.cancelled() => {
            if handle.push(Outbound::Close(CloseCode::ServiceRestart)).is_err() {
                done.end();
            }
        }
        () = tx.closed() => done.end(),
        () = done.ended() => {}
    }
}
