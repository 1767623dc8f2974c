//! What each client request does. One [`Session`] per connection holds what the
//! reader needs between requests: who the user is, which rooms this connection is
//! subscribed to (membership was checked when subscribing), and its rate limiter.
//! Every request gets exactly one reply frame.
//!
//! [`Session::handle`] rate-limits and dispatches; each family of requests has its file:
//! `subscribe` (subscribe, resume, unsubscribe, the room access check), `messages`
//! (send, reply, edit, delete, reactions, history, read markers), `rooms` (create, DMs,
//! invite, leave), `moderation` (pins, removals and bans, roles), `status` (statuses and
//! typing); `failure` is the `error` frame.

mod failure;
mod messages;
mod moderation;
mod rooms;
mod status;
mod subscribe;

use governor::{DefaultDirectRateLimiter, Quota};
use protocol::ids::RoomId;
use protocol::{ClientFrame, ErrorCode, ServerFrame, UserView};
use std::num::NonZeroU32;
use std::sync::Arc;
use store::WriteCommand;

use super::Gateway;
use super::outbound::{ConnHandle, Stuck};
use super::room_map::RoomMap;
use failure::{error, fail};

/// The reply to come of a request whose write is queued on the group commit.
pub type PendingReply = std::pin::Pin<Box<dyn Future<Output = ServerFrame> + Send>>;

/// What handling a request gave.
// Returned once per request and never stored: boxing the reply would add an allocation to
// every request for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Handled {
    /// The reply, or `None` when it is already queued.
    Now(Option<ServerFrame>),
    /// A new message queued for commit: its reply comes when the commit does, and the
    /// connection may read on meanwhile.
    Committing(PendingReply),
}

/// One connection's request state.
pub struct Session {
    pub gateway: Gateway,
    pub handle: ConnHandle,
    /// Shared with the user cache and presence (`users.rs`).
    pub me: Arc<UserView>,
    pub subscribed: RoomMap<()>,
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

impl Session {
    pub fn new(gateway: Gateway, handle: ConnHandle, me: Arc<UserView>) -> Session {
        let settings = gateway.settings();
        let quota =
            Quota::per_second(NonZeroU32::new(settings.rate_per_sec).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(settings.rate_burst).unwrap_or(NonZeroU32::MIN));
        Session {
            limiter: DefaultDirectRateLimiter::direct_with_clock(quota, clock()),
            gateway,
            handle,
            me,
            subscribed: RoomMap::default(),
            refused_in_a_row: 0,
        }
    }

    /// Whether the client went on sending through a whole burst's worth of `rate_limited`
    /// refusals: it ignores them, and the connection is closed with 4102.
    pub fn flooding(&self) -> bool {
        self.refused_in_a_row >= self.gateway.settings().rate_burst
    }

    /// Handles one request: its reply, `None` when the reply is already queued, or for a
    /// new message the reply to come once it commits.
    pub async fn handle(&mut self, frame: ClientFrame) -> Result<Handled, Stuck> {
        let req = frame.req();
        if !matches!(frame, ClientFrame::Ping { .. }) {
            if self.limiter.check().is_err() {
                self.refused_in_a_row = self.refused_in_a_row.saturating_add(1);
                metrics::counter!("confab_rate_limited_total").increment(1);
                return Ok(Handled::Now(Some(error(
                    req,
                    fail(ErrorCode::RateLimited, "too many requests; slow down"),
                ))));
            }
            self.refused_in_a_row = 0;
            self.gateway.presence().activity(self.me.id);
        }
        let result = match frame {
            ClientFrame::Ping { req } => return Ok(Handled::Now(Some(ServerFrame::Pong { req }))),
            ClientFrame::Subscribe {
                room, since_seq, ..
            } => return self.subscribe(req, room, since_seq).await.map(Handled::Now),
            ClientFrame::Unsubscribe { room, .. } => self.unsubscribe(room),
            ClientFrame::Send {
                room,
                client_msg_id,
                body,
                files,
                ..
            } => {
                let send = WriteCommand::Send {
                    author: self.me.id,
                    client_msg_id,
                    body,
                    files,
                };
                return Ok(self.post(req, room, send).await);
            }
            ClientFrame::Reply {
                room,
                thread,
                client_msg_id,
                body,
                files,
                ..
            } => {
                let reply = WriteCommand::Reply {
                    author: self.me.id,
                    client_msg_id,
                    body,
                    root: thread,
                    files,
                };
                return Ok(self.post(req, room, reply).await);
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
                return Ok(Handled::Now(Some(
                    match self.history(req, room, before_seq, limit).await {
                        Ok(frame) => frame,
                        Err(f) => error(req, f),
                    },
                )));
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
            ClientFrame::OpenGroup { users, .. } => self.open_group(users).await,
            ClientFrame::SetStatus { status, text, .. } => Ok(self.set_status(status, text)),
            ClientFrame::Invite { room, user, .. } => self.invite(room, user).await,
            ClientFrame::Leave { room, .. } => self.leave(room).await,
            ClientFrame::CreateRoom {
                name,
                private,
                topic,
                ..
            } => self.create_room(name, private, topic).await,
            ClientFrame::Pin {
                room, message_id, ..
            } => self.pin(room, message_id, true).await,
            ClientFrame::Unpin {
                room, message_id, ..
            } => self.pin(room, message_id, false).await,
            ClientFrame::RemoveMember {
                room, user, ban, ..
            } => self.remove_member(room, user, ban).await,
            ClientFrame::Unban { room, user, .. } => self.unban(room, user).await,
            ClientFrame::SetRole {
                room, user, role, ..
            } => self.set_role(room, user, role).await,
            ClientFrame::UpdateRoom {
                room,
                name,
                topic,
                description,
                private,
                archived,
                ..
            } => {
                let wanted = protocol::RoomChanges {
                    name: name.map(|n| n.to_string()),
                    topic,
                    description,
                    private,
                    archived,
                };
                self.update_room(room, wanted).await
            }
        };
        Ok(Handled::Now(Some(match result {
            Ok(info) => ServerFrame::Ack { req, info },
            Err(f) => error(req, f),
        })))
    }

    /// A new message: queued for commit, or refused at once.
    async fn post(&mut self, req: protocol::ReqId, room: RoomId, command: WriteCommand) -> Handled {
        if let WriteCommand::Send { files, .. } | WriteCommand::Reply { files, .. } = &command
            && files.len() > protocol::FILES_PER_MESSAGE_MAX
        {
            let message = format!(
                "a message takes at most {} files",
                protocol::FILES_PER_MESSAGE_MAX
            );
            return Handled::Now(Some(error(req, fail(ErrorCode::InvalidField, message))));
        }
        match self.begin_post(req, room, command).await {
            Ok(pending) => Handled::Committing(pending),
            Err(f) => Handled::Now(Some(error(req, f))),
        }
    }
}
