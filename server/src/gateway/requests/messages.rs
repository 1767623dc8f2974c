//! Message requests: send, reply, edit (within the edit window), delete, reactions,
//! history pages and read markers. Every write goes through the group-commit writer and is
//! acked with its seq only after commit.

use protocol::ids::{MessageId, RoomId, Seq};
use protocol::names::{Body, Emoji};
use protocol::{AckInfo, ErrorCode, PersonalEvent, ReqId, ServerFrame};
use store::{WriteCommand, WriteOutcome};

use super::failure::{Failure, error, fail};
use super::{PendingReply, Session};
use crate::gateway::Gateway;
use crate::gateway::encode::message_view;
use store::group_commit::WriteFailure;

/// Largest history page a client may ask for.
const MAX_HISTORY: u32 = 200;

impl Session {
    /// Applies a write and waits for its commit (edits, deletes, reactions, read markers:
    /// requests whose reply the client needs before its next request makes sense).
    pub(super) async fn write(
        &self,
        room: RoomId,
        command: WriteCommand,
    ) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        let outcome = self.gateway.group_commit().write(room, command).await;
        ack_of(&self.gateway, room, outcome)
    }

    /// Queues a new message (a send or a thread reply) on the group commit and returns
    /// its reply to come, so the connection can read its next request meanwhile: a
    /// client's burst of sends lands in one commit, and its events reach each subscriber
    /// together. Queued one after another, they commit in request order.
    pub(super) async fn begin_post(
        &self,
        req: ReqId,
        room: RoomId,
        command: WriteCommand,
    ) -> Result<PendingReply, Failure> {
        let received = std::time::Instant::now();
        self.member_here(room).await?;
        let committing = self.gateway.group_commit().submit(room, command).await;
        let gateway = self.gateway.clone();
        let me = self.me.id;
        Ok(Box::pin(async move {
            let reply = match ack_of(&gateway, room, committing.outcome().await) {
                Ok(info) => {
                    gateway.stop_typing(room, me);
                    ServerFrame::Ack { req, info }
                }
                Err(f) => error(req, f),
            };
            metrics::histogram!("confab_send_ack_seconds").record(received.elapsed().as_secs_f64());
            reply
        }))
    }

    pub(super) async fn edit(
        &self,
        room: RoomId,
        message: MessageId,
        body: Body,
    ) -> Result<AckInfo, Failure> {
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
    pub(super) async fn within_edit_window(&self, message: MessageId) -> Result<(), Failure> {
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

    /// Deletes one's own message, or, for a moderator, anyone's (the Store decides). A
    /// site admin may do so in a room they are not a member of.
    pub(super) async fn delete(
        &self,
        room: RoomId,
        message: MessageId,
    ) -> Result<AckInfo, Failure> {
        let command = WriteCommand::Delete {
            author: self.me.id,
            message,
        };
        if let Err(refused) = self.member_here(room).await
            && !self.gateway.store().is_site_admin(self.me.id).await?
        {
            return Err(refused);
        }
        let outcome = self.gateway.group_commit().write(room, command).await;
        ack_of(&self.gateway, room, outcome)
    }

    /// Adds or removes one's reaction on any message of a room one may read (subscribed
    /// and a member). The message must be in that room (`not_found` otherwise) and not
    /// deleted (`deleted`).
    pub(super) async fn react(
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

    pub(super) async fn history(
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

    pub(super) async fn mark_read(&self, room: RoomId, seq: Seq) -> Result<AckInfo, Failure> {
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
            .announce_receipt(room, (*self.me).clone(), marker)
            .await;
        Ok(AckInfo {
            room: Some(room),
            seq: Some(marker),
            ..AckInfo::default()
        })
    }
}

/// The ack of a committed write. A duplicate is announced again, to subscribers and as an
/// unread notice: the original may have been committed by a write whose answer was lost
/// (the store failed during its commit) and then never fanned out; subscribers that have
/// it skip it by seq, clients that counted its notice skip it by seq.
pub(super) fn ack_of(
    gateway: &Gateway,
    room: RoomId,
    outcome: Result<WriteOutcome, WriteFailure>,
) -> Result<AckInfo, Failure> {
    let (event, duplicate) = match outcome? {
        WriteOutcome::Applied(e) => (e, false),
        WriteOutcome::Duplicate(e) => {
            gateway.announce_again(&e);
            (e, true)
        }
        WriteOutcome::Unchanged(message) => {
            return Ok(AckInfo {
                room: Some(room),
                message_id: Some(message.id),
                ..AckInfo::default()
            });
        }
        WriteOutcome::AlreadySo => {
            return Ok(AckInfo {
                room: Some(room),
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
