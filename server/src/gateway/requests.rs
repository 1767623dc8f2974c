//! What each client request does. One [`ClientState`] per connection holds what the
//! reader needs between requests: who the user is, which rooms this connection is
//! subscribed to (membership was checked when subscribing), and its rate limiter.
//! Every request gets exactly one reply frame.

use governor::{DefaultDirectRateLimiter, Quota};
use protocol::ids::{MessageId, RoomId, Seq, UserId};
use protocol::names::{Body, ClientMsgId, Emoji, RoomName};
use protocol::{AckInfo, ClientFrame, ErrorCode, PersonalEvent, ReqId, ServerFrame, UserView};
use std::collections::HashSet;
use std::num::NonZeroU32;
use store::writer::WriteFailure;
use store::{RoomKind, StoreError, WriteCommand, WriteError, WriteOutcome};

use super::Gateway;
use super::encode::{message_view, text};
use super::outbound::{ConnHandle, Outbound, Stuck};

/// What an `unavailable` error says. When the store fails during a commit, the write may
/// still have been stored; a retry with the same `client_msg_id` is acked with it (and
/// never stores it twice), so that is what the client is told to do.
const UNAVAILABLE: &str =
    "the store is unavailable; retry later with the same client_msg_id (never stored twice)";

/// Largest history page a client may ask for.
const MAX_HISTORY: u32 = 200;

/// A request's failure, as sent in an `error` frame.
pub struct Failure {
    code: ErrorCode,
    message: String,
}

fn fail(code: ErrorCode, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

impl From<StoreError> for Failure {
    /// The one place where store errors become protocol errors.
    fn from(err: StoreError) -> Failure {
        match err {
            StoreError::Conflict { what } => {
                fail(ErrorCode::InvalidField, format!("{what} is already taken"))
            }
            StoreError::NotFound { what } => fail(ErrorCode::NotFound, format!("no such {what}")),
            StoreError::Forbidden { reason } => fail(ErrorCode::Forbidden, reason),
            StoreError::Invalid { reason } => fail(ErrorCode::InvalidField, reason),
            other => {
                tracing::warn!(cause = %other, "store failed");
                if other.is_temporary() {
                    fail(ErrorCode::Unavailable, UNAVAILABLE)
                } else {
                    fail(ErrorCode::Internal, "the server failed")
                }
            }
        }
    }
}

impl From<WriteFailure> for Failure {
    fn from(err: WriteFailure) -> Failure {
        match err {
            WriteFailure::Refused(WriteError::NotAuthor) => {
                fail(ErrorCode::NotAuthor, "only the author may change a message")
            }
            WriteFailure::Refused(WriteError::Deleted) => {
                fail(ErrorCode::Deleted, "the message was deleted")
            }
            WriteFailure::Refused(WriteError::NoSuchMessage) => {
                fail(ErrorCode::NotFound, "no such message in this room")
            }
            WriteFailure::Refused(WriteError::NoSuchRoom) => {
                fail(ErrorCode::NotFound, "no such room")
            }
            WriteFailure::Refused(WriteError::NotARoot) => {
                fail(ErrorCode::InvalidField, WriteError::NotARoot.to_string())
            }
            WriteFailure::Refused(WriteError::TooManyReactions) => fail(
                ErrorCode::Forbidden,
                WriteError::TooManyReactions.to_string(),
            ),
            WriteFailure::Store(_) => fail(ErrorCode::Unavailable, UNAVAILABLE),
            WriteFailure::Stopped => fail(
                ErrorCode::Unavailable,
                "the server is stopping; retry on another connection",
            ),
        }
    }
}

/// One connection's request state.
pub struct ClientState {
    pub gateway: Gateway,
    pub handle: ConnHandle,
    pub me: UserView,
    pub subscribed: HashSet<RoomId>,
    limiter: DefaultDirectRateLimiter,
    /// Requests refused with `rate_limited` since the last one that was let through.
    refused_in_a_row: u32,
}

/// The clock of every connection's rate limiter, made once: making one reads the CPU's
/// features (`cpuid`, which traps to the hypervisor on a virtual machine), and a
/// reconnect storm makes thousands of limiters at once.
fn clock() -> governor::clock::DefaultClock {
    static CLOCK: std::sync::OnceLock<governor::clock::DefaultClock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(Default::default).clone()
}

impl ClientState {
    pub fn new(gateway: Gateway, handle: ConnHandle, me: UserView) -> ClientState {
        let settings = gateway.settings();
        let quota =
            Quota::per_second(NonZeroU32::new(settings.rate_per_sec).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(settings.rate_burst).unwrap_or(NonZeroU32::MIN));
        ClientState {
            limiter: DefaultDirectRateLimiter::direct_with_clock(quota, clock()),
            gateway,
            handle,
            me,
            subscribed: HashSet::new(),
            refused_in_a_row: 0,
        }
    }

    /// Whether the client went on sending through a whole burst's worth of `rate_limited`
    /// refusals: it ignores them, and the connection is closed with 4102.
    pub fn flooding(&self) -> bool {
        self.refused_in_a_row >= self.gateway.settings().rate_burst
    }

    /// Handles one request. Returns its reply, or `None` when the reply is already queued.
    pub async fn handle(&mut self, frame: ClientFrame) -> Result<Option<ServerFrame>, Stuck> {
        let req = frame.req();
        if !matches!(frame, ClientFrame::Ping { .. }) {
            if self.limiter.check().is_err() {
                self.refused_in_a_row = self.refused_in_a_row.saturating_add(1);
                metrics::counter!("confab_rate_limited_total").increment(1);
                return Ok(Some(error(
                    req,
                    fail(ErrorCode::RateLimited, "too many requests; slow down"),
                )));
            }
            self.refused_in_a_row = 0;
            self.gateway.activity(self.me.id);
        }
        let result = match frame {
            ClientFrame::Ping { req } => return Ok(Some(ServerFrame::Pong { req })),
            ClientFrame::Subscribe {
                room, since_seq, ..
            } => return self.subscribe(req, room, since_seq).await,
            ClientFrame::Unsubscribe { room, .. } => self.unsubscribe(room),
            ClientFrame::Send {
                room,
                client_msg_id,
                body,
                ..
            } => self.send(room, client_msg_id, body).await,
            ClientFrame::Reply {
                room,
                thread,
                client_msg_id,
                body,
                ..
            } => {
                let reply = WriteCommand::Reply {
                    author: self.me.id,
                    client_msg_id,
                    body,
                    root: thread,
                };
                self.write(room, reply).await
            }
            ClientFrame::Edit {
                room,
                message_id,
                body,
                ..
            } => self.edit(room, message_id, body).await,
            ClientFrame::Delete {
                room, message_id, ..
            } => self.delete(room, message_id).await,
            ClientFrame::Typing { room, .. } => self.typing(room).await,
            ClientFrame::History {
                room,
                before_seq,
                limit,
                ..
            } => {
                return Ok(Some(
                    match self.history(req, room, before_seq, limit).await {
                        Ok(frame) => frame,
                        Err(f) => error(req, f),
                    },
                ));
            }
            ClientFrame::MarkRead { room, seq, .. } => self.mark_read(room, seq).await,
            ClientFrame::AddReaction {
                room,
                message_id,
                emoji,
                ..
            } => self.react(room, message_id, emoji, true).await,
            ClientFrame::RemoveReaction {
                room,
                message_id,
                emoji,
                ..
            } => self.react(room, message_id, emoji, false).await,
            ClientFrame::OpenDm { user, .. } => self.open_dm(user).await,
            ClientFrame::SetStatus { status, text, .. } => Ok(self.set_status(status, text)),
            ClientFrame::Invite { room, user, .. } => self.invite(room, user).await,
            ClientFrame::Leave { room, .. } => self.leave(room).await,
            ClientFrame::CreateRoom { name, private, .. } => self.create_room(name, private).await,
        };
        Ok(Some(match result {
            Ok(info) => ServerFrame::Ack { req, info },
            Err(f) => error(req, f),
        }))
    }

    fn subscribed(&self, room: RoomId) -> Result<(), Failure> {
        if self.subscribed.contains(&room) {
            Ok(())
        } else {
            Err(fail(
                ErrorCode::NotSubscribed,
                "subscribe to the room first",
            ))
        }
    }

    /// Subscribed here and still a member (a leave on another device ends membership).
    async fn member_here(&self, room: RoomId) -> Result<(), Failure> {
        self.subscribed(room)?;
        if self.gateway.is_member(room, self.me.id).await? {
            Ok(())
        } else {
            Err(fail(
                ErrorCode::Forbidden,
                "you are no longer a member of this room",
            ))
        }
    }

    /// Subscribes and queues, in this order: the ack, the replay or snapshot (through the
    /// sender's resume), the presence list, and the read receipts (small rooms). Returns `None`: the ack is already queued.
    async fn subscribe(
        &mut self,
        req: ReqId,
        room: RoomId,
        since: Option<Seq>,
    ) -> Result<Option<ServerFrame>, Stuck> {
        let ack = ServerFrame::Ack {
            req,
            info: AckInfo {
                room: Some(room),
                ..AckInfo::default()
            },
        };
        if self.subscribed.contains(&room) {
            return Ok(Some(ack));
        }
        if self.subscribed.len() >= self.gateway.settings().max_rooms as usize {
            let f = fail(
                ErrorCode::TooManyRooms,
                "this connection has subscribed to the most rooms it may",
            );
            return Ok(Some(error(req, f)));
        }
        if let Err(f) = self.admit(room).await {
            return Ok(Some(error(req, f)));
        }
        self.subscribed.insert(room);
        let gw = &self.gateway;
        // Register first, then ask the sender to resume: events published from now on are
        // queued, and anything before the resume point is read from the Store.
        gw.subscribe_local(room, &self.handle);
        self.handle.push(Outbound::frame(text(&ack)))?;
        self.handle.push(Outbound::resume(room, since))?;
        if gw.presence().join(room, self.me.clone()) {
            gw.presence_joined(room, self.me.clone());
        }
        let list = gw.presence_frame(room).await;
        self.handle.push(Outbound::frame(text(&list)))?;
        // Read after registering: a marker that moves from now on arrives after this.
        if let Some(receipts) = gw.receipts_frame(room, self.me.id).await {
            self.handle.push(Outbound::frame(text(&receipts)))?;
        }
        Ok(None)
    }

    async fn admit(&self, room: RoomId) -> Result<(), Failure> {
        // A member of a room whose members are cached needs nothing from the Store (a
        // reconnect storm subscribes thousands of members at once).
        if self
            .gateway
            .inner
            .members
            .get(room)
            .is_some_and(|members| members.contains(&self.me.id))
        {
            return Ok(());
        }
        let store = self.gateway.store();
        let found = store
            .room(room)
            .await?
            .ok_or_else(|| fail(ErrorCode::NotFound, "no such room"))?;
        if store.membership(room, self.me.id).await?.is_some() {
            return Ok(());
        }
        if found.kind == RoomKind::Public {
            if store.join_public(room, self.me.id).await? {
                self.gateway.membership_changed(room, self.me.id, true);
            }
            return Ok(());
        }
        // Private rooms and DMs: the same answer whether or not the room exists would be
        // better, but room ids are random UUIDs, so existence leaks nothing useful.
        Err(fail(
            ErrorCode::Forbidden,
            "you are not a member of this room",
        ))
    }

    fn unsubscribe(&mut self, room: RoomId) -> Result<AckInfo, Failure> {
        self.subscribed(room)?;
        self.leave_room(room);
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    /// Stops delivering `room` to this connection and updates presence and typing.
    pub fn leave_room(&mut self, room: RoomId) {
        self.subscribed.remove(&room);
        let gw = self.gateway.clone();
        gw.unsubscribe_local(room, self.handle.id);
        let _ = self.handle.push(Outbound::forget(room));
        gw.stop_typing(room, self.me.id);
        if let Some(pending) = gw.presence().leave(room, self.me.id) {
            gw.leave_after_grace(pending);
        }
    }

    async fn write(&self, room: RoomId, command: WriteCommand) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        let outcome = self.gateway.writer().write(room, command).await?;
        let (event, duplicate) = match &outcome {
            WriteOutcome::Applied(e) => (e, false),
            WriteOutcome::Duplicate(e) => {
                // The original may have been committed by a write whose answer was lost
                // (the store failed during its commit) and then never fanned out: offer it
                // again. Subscribers that have it skip it by seq.
                self.gateway.publish_event(e);
                (e, true)
            }
            WriteOutcome::Unchanged(message) => {
                return Ok(AckInfo {
                    room: Some(room),
                    message_id: Some(message.id),
                    ..AckInfo::default()
                });
            }
        };
        Ok(AckInfo {
            room: Some(room),
            seq: Some(event.seq),
            message_id: Some(event.message.id),
            duplicate,
        })
    }

    async fn send(
        &self,
        room: RoomId,
        client_msg_id: ClientMsgId,
        body: Body,
    ) -> Result<AckInfo, Failure> {
        let ack = self
            .write(
                room,
                WriteCommand::Send {
                    author: self.me.id,
                    client_msg_id,
                    body,
                },
            )
            .await?;
        self.gateway.stop_typing(room, self.me.id);
        Ok(ack)
    }

    async fn edit(&self, room: RoomId, message: MessageId, body: Body) -> Result<AckInfo, Failure> {
        self.within_edit_window(message).await?;
        self.write(
            room,
            WriteCommand::Edit {
                author: self.me.id,
                message,
                body,
            },
        )
        .await
    }

    /// Refuses an edit once the configured edit window after posting has passed.
    async fn within_edit_window(&self, message: MessageId) -> Result<(), Failure> {
        let window = self.gateway.settings().edit_window_secs;
        if window == 0 {
            return Ok(());
        }
        // A missing message is left for the write to report, with the room check.
        if let Some(found) = self.gateway.store().message(message).await? {
            let age_ms = store::now_millis().saturating_sub(found.created_at);
            if age_ms > (window as i64).saturating_mul(1000) {
                return Err(fail(
                    ErrorCode::Forbidden,
                    format!("messages can only be edited for {window} s after posting"),
                ));
            }
        }
        Ok(())
    }

    async fn delete(&self, room: RoomId, message: MessageId) -> Result<AckInfo, Failure> {
        self.write(
            room,
            WriteCommand::Delete {
                author: self.me.id,
                message,
            },
        )
        .await
    }

    /// Adds or removes one's reaction on any message of a room one may read (subscribed
    /// and a member). The message must be in that room (`not_found` otherwise) and not
    /// deleted (`deleted`).
    async fn react(
        &self,
        room: RoomId,
        message: MessageId,
        emoji: Emoji,
        add: bool,
    ) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        let store = self.gateway.store();
        let found = store
            .message(message)
            .await?
            .filter(|m| m.room_id == room)
            .ok_or_else(|| fail(ErrorCode::NotFound, "no such message in this room"))?;
        // The event names the message's author, who need not be connected: the fan-out
        // reads authors from the cache without waiting, so put them there first.
        self.gateway.users().load(&*store, found.author_id).await?;
        let command = WriteCommand::reaction(self.me.id, message, emoji, add);
        self.write(room, command).await
    }

    async fn typing(&self, room: RoomId) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        self.gateway.start_typing(room, self.me.clone());
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    async fn history(
        &self,
        req: ReqId,
        room: RoomId,
        before: Option<Seq>,
        limit: Option<u32>,
    ) -> Result<ServerFrame, Failure> {
        self.member_here(room).await?;
        let store = self.gateway.store();
        let limit = limit.unwrap_or(50).clamp(1, MAX_HISTORY);
        let page = match before {
            Some(seq) => store.before(room, seq, limit).await?,
            None => store.latest(room, limit).await?,
        };
        let mut messages = Vec::with_capacity(page.messages.len());
        for m in &page.messages {
            messages.push(message_view(
                m,
                self.gateway.users().load(&*store, m.author_id).await?,
            ));
        }
        Ok(ServerFrame::History {
            req,
            room,
            messages,
            has_more: page.has_more,
        })
    }

    async fn mark_read(&self, room: RoomId, seq: Seq) -> Result<AckInfo, Failure> {
        let marker = self
            .gateway
            .store()
            .mark_read(room, self.me.id, seq)
            .await?;
        self.gateway.to_user(
            self.me.id,
            &ServerFrame::Personal {
                event: PersonalEvent::Read { room, seq: marker },
            },
        );
        self.gateway
            .announce_receipt(room, self.me.clone(), marker)
            .await;
        Ok(AckInfo {
            room: Some(room),
            seq: Some(marker),
            ..AckInfo::default()
        })
    }

    async fn open_dm(&self, other: UserId) -> Result<AckInfo, Failure> {
        let store = self.gateway.store();
        let room = store.open_dm(self.me.id, other).await?;
        let them = self.gateway.users().load(&*store, other).await?;
        self.gateway.to_user(
            self.me.id,
            &ServerFrame::Personal {
                event: PersonalEvent::DmOpened {
                    room: room.id,
                    with: them,
                },
            },
        );
        if other != self.me.id {
            self.gateway.to_user(
                other,
                &ServerFrame::Personal {
                    event: PersonalEvent::DmOpened {
                        room: room.id,
                        with: self.me.clone(),
                    },
                },
            );
        }
        Ok(AckInfo {
            room: Some(room.id),
            ..AckInfo::default()
        })
    }
}

impl ClientState {
    async fn invite(&self, room: RoomId, user: UserId) -> Result<AckInfo, Failure> {
        if self.gateway.store().invite(room, self.me.id, user).await? {
            self.gateway.membership_changed(room, user, true);
            let invited = ServerFrame::Personal {
                event: PersonalEvent::Invited {
                    room,
                    by: self.me.clone(),
                },
            };
            self.gateway.to_user(user, &invited);
        }
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    async fn create_room(&self, name: RoomName, private: bool) -> Result<AckInfo, Failure> {
        let kind = if private {
            RoomKind::Private
        } else {
            RoomKind::Public
        };
        let room = self
            .gateway
            .store()
            .create_room(self.me.id, kind, &name, "")
            .await?;
        self.gateway.membership_changed(room.id, self.me.id, true);
        Ok(AckInfo {
            room: Some(room.id),
            ..AckInfo::default()
        })
    }

    async fn leave(&mut self, room: RoomId) -> Result<AckInfo, Failure> {
        if self.subscribed.contains(&room) {
            self.leave_room(room);
        }
        if self.gateway.store().leave(room, self.me.id).await? {
            self.gateway.membership_changed(room, self.me.id, false);
        }
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    fn set_status(
        &self,
        status: protocol::Status,
        text: Option<protocol::names::StatusText>,
    ) -> AckInfo {
        let text = text.map(String::from);
        if self
            .gateway
            .statuses()
            .set(self.me.id, status, text, std::time::Instant::now())
        {
            self.gateway.announce_status(self.me.id);
        }
        AckInfo::default()
    }
}

fn error(req: ReqId, f: Failure) -> ServerFrame {
    ServerFrame::Error {
        req: Some(req),
        code: f.code,
        message: f.message,
    }
}
