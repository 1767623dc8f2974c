//! Message requests: send, reply, edit (within the edit window), delete, reactions,
//! history pages and read markers. Every write goes through the group-commit writer and is
//! acked with its seq only after commit.

use protocol::ids::{MessageId, RoomId, Seq};
use protocol::names::{Body, ClientMsgId, Emoji};
use protocol::{AckInfo, ErrorCode, PersonalEvent, ReqId, ServerFrame};
use store::{WriteCommand, WriteOutcome};

use super::Session;
use super::failure::{Failure, fail};
use crate::gateway::encode::message_view;

/// Largest history page a client may ask for.
const MAX_HISTORY: u32 = 200;

impl Session {
    pub(super) async fn write(
        &self,
        room: RoomId,
        command: WriteCommand,
    ) -> Result<AckInfo, Failure> {
        self.member_here(room).await?;
        let outcome = self.gateway.group_commit().write(room, command).await?;
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

    pub(super) async fn send(
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

    pub(super) async fn delete(
        &self,
        room: RoomId,
        message: MessageId,
    ) -> Result<AckInfo, Failure> {
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
            .announce_receipt(room, self.me.clone(), marker)
            .await;
        Ok(AckInfo {
            room: Some(room),
            seq: Some(marker),
            ..AckInfo::default()
        })
    }
}
