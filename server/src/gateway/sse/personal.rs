//! `GET /api/events`: a user's personal events (unread notices, invitations and
//! memberships, direct messages opened) as Server-Sent Events. Each `id` is the server's
//! clock in Unix milliseconds; resuming with `Last-Event-ID` first sends, from the Store,
//! what was missed since then. An unread notice goes out once per `(room, seq)`: one the
//! resume covered, or one sent again live (a retried send acked as a duplicate), is not
//! written twice ([`protocol::unread`]).

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event;
use protocol::ids::{RoomId, Seq, UserId};
use protocol::unread::NoticeSeqs;
use protocol::{CloseCode, PersonalEvent, ServerFrame};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use store::{Store, StoreError};
use tokio::sync::mpsc;
use tower_sessions::Session;
use tracing::Instrument;

use super::{
    BODY_BUFFER, OpenStream, StreamError, admit_reader, last_event_id, new_handle, respond,
};
use crate::gateway::Gateway;
use crate::gateway::encode::text;
use crate::gateway::outbound::Outbound;
use crate::gateway::queue::QueueRx;
use crate::gateway::transport::close_event;

/// A personal resume replays at most this many unread notices per room.
const MISSED_PER_ROOM: usize = 100;
/// A personal resume looks this far before the given time, so that a notice queued but
/// not yet written at the disconnect is not lost (it may repeat instead).
const RESUME_SLACK_MS: i64 = 1_000;

/// `GET /api/events`.
pub async fn personal_events(
    State(gateway): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
) -> Result<Response, StreamError> {
    let (slot, user) = admit_reader(&gateway, peer, &headers, &session).await?;
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
                seen: NoticeSeqs::default(),
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
    /// The unread notices written, by room and seq (a resume covers each room through
    /// the newest it read), so that the same notice arriving again is not written twice.
    seen: NoticeSeqs,
}

impl PersonalStream {
    async fn run(
        &mut self,
        gateway: &Gateway,
        user: UserId,
        since: Option<i64>,
        mut queue: QueueRx<Outbound>,
    ) -> Result<(), Ended> {
        if let Some(since) = since {
            let handle = gateway.users().load(&*gateway.store(), user).await?.handle;
            let store = gateway.store();
            let mut newest: HashMap<RoomId, Seq> = HashMap::new();
            for event in missed(&*store, user, &handle, since - RESUME_SLACK_MS).await? {
                if let PersonalEvent::Unread { room, seq, .. } = event {
                    let at = newest.entry(room).or_default();
                    *at = (*at).max(seq);
                }
                self.send(&ServerFrame::Personal { event }).await?;
            }
            // What the resume read through is covered, sent or not (read, one's own).
            for (room, seq) in newest {
                self.seen.covered_through(room, seq);
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
                    if self.repeated(text.as_str()) {
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
                // A personal stream subscribes to no room, and has no socket of its own.
                Some(
                    Outbound::Event(_)
                    | Outbound::Resume(_)
                    | Outbound::Fill(_)
                    | Outbound::Forget(_)
                    | Outbound::Pong(_)
                    | Outbound::Flush,
                ) => {}
            }
        }
    }

    /// Whether `text` is an unread notice already written (or covered by the resume);
    /// a new one is recorded.
    fn repeated(&mut self, text: &str) -> bool {
        // Only an unread notice names its kind so; anything else is written unread.
        if !text.contains(r#""unread""#) {
            return false;
        }
        match serde_json::from_str::<ServerFrame>(text) {
            Ok(ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, .. },
            }) => !self.seen.first_time(room, seq),
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
            out.push(match summary.dm_peers.as_slice() {
                [] => PersonalEvent::Membership { room, joined: true },
                [peer] => PersonalEvent::DmOpened {
                    room,
                    with: peer.view(),
                },
                group => PersonalEvent::GroupOpened {
                    room,
                    with: group.iter().map(store::User::view).collect(),
                },
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
