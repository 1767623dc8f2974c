//! The write commands other than plain sends, for both backends: replies, sends with
//! files, edits (keeping the body replaced: `super::edit_history`), deletes (a
//! moderator's too), reactions, and the moderation commands
//! (`super::moderation`), applied one by one inside a group commit's transaction
//! ([`super::writes`]), each taking the room's next seq only when it is applied.

use protocol::ids::{FileId, MessageId, RoomId, UserId};
use uuid::Uuid;

use super::rows::{MessageRow, message_cols, seq_out};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::error::WriteError;
use crate::model::{Event, EventKind, Message, WriteCommand, WriteOutcome};

/// A new message applied in its place: a reply (`root`), or a send with files.
struct Post<'a> {
    author: UserId,
    client_msg_id: &'a str,
    body: &'a str,
    root: Option<MessageId>,
    files: &'a [FileId],
}

macro_rules! changes {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// Applies an edit or a delete; `seq` is advanced only when it is applied.
            pub(super) async fn apply_change(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                command: &WriteCommand,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                match command {
                    WriteCommand::Send { author, client_msg_id, body, files } => {
                        // Plain sends are planned by `write_in`; one with files comes here.
                        let post = Post { author: *author, client_msg_id: client_msg_id.as_str(), body: body.as_str(), root: None, files };
                        Self::apply_post(tx, room, seq, now, post).await
                    }
                    WriteCommand::Reply { author, client_msg_id, body, root, files } => {
                        let post = Post { author: *author, client_msg_id: client_msg_id.as_str(), body: body.as_str(), root: Some(*root), files };
                        Self::apply_post(tx, room, seq, now, post).await
                    }
                    WriteCommand::Edit { author, message, body } => {
                        let row = match Self::own_live_message(tx, room, *author, *message).await? {
                            Ok(row) => row,
                            Err(refused) => return Ok(Err(refused)),
                        };
                        *seq += 1;
                        Self::keep_revision(tx, *message, *seq, now, &row.body).await?;
                        sqlx::query("update messages set body = $1, edited_at = $2 where id = $3")
                            .bind(body.as_str())
                            .bind(now)
                            .bind(message.0)
                            .execute(&mut **tx)
                            .await?;
                        Self::append_event(tx, room, *seq, EventKind::Edited, message.0, now).await?;
                        let mut updated = Message::from(row);
                        updated.body = body.as_str().to_string();
                        updated.edited_at = Some(now);
                        updated.reactions = Self::reactions_of(&mut **tx, *message).await?;
                        updated.files = Self::files_of(&mut **tx, *message).await?;
                        Ok(Ok(WriteOutcome::Applied(Event {
                            room_id: room,
                            seq: seq_out(*seq),
                            kind: EventKind::Edited,
                            created_at: now,
                            message: updated,
                        })))
                    }
                    WriteCommand::Delete { author, message } => {
                        let row = match Self::own_live_message(tx, room, *author, *message).await? {
                            Ok(row) => row,
                            Err(WriteError::NotAuthor) if Self::moderates(tx, room, *author).await? => {
                                match Self::message_in_room(tx, room, *message).await? {
                                    Some(row) if !row.deleted => row,
                                    _ => return Ok(Err(WriteError::Deleted)),
                                }
                            }
                            Err(refused) => return Ok(Err(refused)),
                        };
                        let removed_by = (row.author_id != author.0).then_some(author.0);
                        *seq += 1;
                        sqlx::query(
                            "update messages set body = '', deleted = true, removed_by = $2, pinned_by = null, pinned_at = null \
                             where id = $1",
                        )
                        .bind(message.0)
                        .bind(removed_by)
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query("delete from reactions where message_id = $1")
                            .bind(message.0)
                            .execute(&mut **tx)
                            .await?;
                        Self::remove_files_of(tx, *message, now).await?;
                        Self::forget_revisions(tx, *message).await?;
                        Self::append_event(tx, room, *seq, EventKind::Deleted, message.0, now).await?;
                        let mut tombstone = Message::from(row);
                        tombstone.body = String::new();
                        tombstone.deleted = true;
                        tombstone.removed_by_admin = removed_by.is_some();
                        tombstone.pinned = None;
                        Ok(Ok(WriteOutcome::Applied(Event {
                            room_id: room,
                            seq: seq_out(*seq),
                            kind: EventKind::Deleted,
                            created_at: now,
                            message: tombstone,
                        })))
                    }
                    WriteCommand::Pin { moderator, message, pin } => {
                        Self::apply_pin(tx, room, seq, now, *moderator, *message, *pin).await
                    }
                    WriteCommand::UpdateRoom { moderator, changes } => {
                        Self::apply_room_update(tx, room, seq, now, *moderator, changes).await
                    }
                    WriteCommand::RemoveMember { moderator, member, ban } => {
                        Self::apply_remove_member(tx, room, seq, now, *moderator, *member, *ban).await
                    }
                    WriteCommand::SetRole { moderator, member, role } => {
                        Self::apply_set_role(tx, room, seq, now, *moderator, *member, *role).await
                    }
                    WriteCommand::AddReaction { user, message, emoji } => {
                        let row = match Self::reactable(tx, room, *message).await? {
                            Ok(row) => row,
                            Err(refused) => return Ok(Err(refused)),
                        };
                        let current = Self::reactions_of(&mut **tx, *message).await?;
                        let new_emoji = !current.iter().any(|r| r.emoji == emoji.as_str());
                        if new_emoji && current.len() >= protocol::REACTIONS_PER_MESSAGE_MAX {
                            return Ok(Err(WriteError::TooManyReactions));
                        }
                        let added = sqlx::query(
                            "insert into reactions (message_id, user_id, emoji, seq, created_at) values ($1, $2, $3, $4, $5) \
                             on conflict (message_id, emoji, user_id) do nothing",
                        )
                        .bind(message.0)
                        .bind(user.0)
                        .bind(emoji.as_str())
                        // The seq its event takes if it is new (nothing is stored otherwise).
                        .bind(*seq + 1)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        Self::reaction_changed(tx, room, seq, now, row, added.rows_affected() == 1).await
                    }
                    WriteCommand::RemoveReaction { user, message, emoji } => {
                        let row = match Self::reactable(tx, room, *message).await? {
                            Ok(row) => row,
                            Err(refused) => return Ok(Err(refused)),
                        };
                        let removed = sqlx::query(
                            "delete from reactions where message_id = $1 and user_id = $2 and emoji = $3",
                        )
                        .bind(message.0)
                        .bind(user.0)
                        .bind(emoji.as_str())
                        .execute(&mut **tx)
                        .await?;
                        Self::reaction_changed(tx, room, seq, now, row, removed.rows_affected() == 1).await
                    }
                }
            }

            /// A reply, or a send with files: the original if it is a retry, else a new
            /// message (at the next seq) if its thread's `root` (for a reply) is a live
            /// message of the room that is not itself a reply and its files can be
            /// attached.
            async fn apply_post(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                post: Post<'_>,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                let Post { author, client_msg_id, body, root, files } = post;
                let stored = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages \
                     where room_id = $1 and author_id = $2 and client_msg_id = $3"))
                    .bind(room.0)
                    .bind(author.0)
                    .bind(client_msg_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                if let Some(row) = stored {
                    let mut message = Message::from(row);
                    message.reactions = Self::reactions_of(&mut **tx, message.id).await?;
                    message.files = Self::files_of(&mut **tx, message.id).await?;
                    return Ok(Ok(WriteOutcome::Duplicate(crate::batch::message_event(message))));
                }
                if let Some(root) = root {
                    match Self::message_in_room(tx, room, root).await? {
                        None => return Ok(Err(WriteError::NoSuchMessage)),
                        Some(row) if row.thread_root_id.is_some() => return Ok(Err(WriteError::NotARoot)),
                        Some(row) if row.deleted => return Ok(Err(WriteError::Deleted)),
                        Some(_) => {}
                    }
                }
                let attached = match Self::attachable(tx, room, author, files).await? {
                    Ok(views) => views,
                    Err(refused) => return Ok(Err(refused)),
                };
                let id = MessageId(Uuid::now_v7());
                *seq += 1;
                let mut message = Message {
                    id,
                    room_id: room,
                    seq: seq_out(*seq),
                    author_id: author,
                    body: body.to_string(),
                    client_msg_id: client_msg_id.to_string(),
                    created_at: now,
                    edited_at: None,
                    deleted: false,
                    reactions: Vec::new(),
                    thread_root: root,
                    thread: None,
                    files: Vec::new(),
                    removed_by_admin: false,
                    pinned: None,
                    notice: None,
                };
                sqlx::query(
                    "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted, thread_root_id) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(message.id.0)
                .bind(room.0)
                .bind(*seq)
                .bind(author.0)
                .bind(body)
                .bind(client_msg_id)
                .bind(now)
                .bind(false)
                .bind(root.map(|r| r.0))
                .execute(&mut **tx)
                .await?;
                Self::attach(tx, id, files).await?;
                message.files = attached;
                Self::append_event(tx, room, *seq, EventKind::Message, message.id.0, now).await?;
                Ok(Ok(WriteOutcome::Applied(Event {
                    room_id: room,
                    seq: message.seq,
                    kind: EventKind::Message,
                    created_at: now,
                    message,
                })))
            }

            /// A reaction command found its message (`row`) and `changed` says whether it
            /// added or removed anything: an event with the message's reactions now, or
            /// nothing (no seq taken).
            async fn reaction_changed(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                row: MessageRow,
                changed: bool,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                let mut message = Message::from(row);
                message.reactions = Self::reactions_of(&mut **tx, message.id).await?;
                message.files = Self::files_of(&mut **tx, message.id).await?;
                if !changed {
                    return Ok(Ok(WriteOutcome::Unchanged(message)));
                }
                *seq += 1;
                Self::append_event(tx, room, *seq, EventKind::Reaction, message.id.0, now).await?;
                Ok(Ok(WriteOutcome::Applied(Event {
                    room_id: room,
                    seq: seq_out(*seq),
                    kind: EventKind::Reaction,
                    created_at: now,
                    message,
                })))
            }

            /// The live message `id` of `room` a reaction is about, or why it cannot be.
            async fn reactable(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                id: MessageId,
            ) -> StoreResult<Result<MessageRow, WriteError>> {
                match Self::message_in_room(tx, room, id).await? {
                    None => Ok(Err(WriteError::NoSuchMessage)),
                    Some(row) if row.deleted => Ok(Err(WriteError::Deleted)),
                    Some(row) => Ok(Ok(row)),
                }
            }

            /// The message `id` of `room` if `author` wrote it and it is not deleted;
            /// otherwise the reason an edit or delete of it is refused.
            async fn own_live_message(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                author: UserId,
                id: MessageId,
            ) -> StoreResult<Result<MessageRow, WriteError>> {
                let Some(row) = Self::message_in_room(tx, room, id).await? else {
                    return Ok(Err(WriteError::NoSuchMessage));
                };
                if row.author_id != author.0 {
                    return Ok(Err(WriteError::NotAuthor));
                }
                if row.deleted {
                    return Ok(Err(WriteError::Deleted));
                }
                Ok(Ok(row))
            }

            pub(super) async fn message_in_room(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                id: MessageId,
            ) -> StoreResult<Option<MessageRow>> {
                Ok(sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where id = $1 and room_id = $2"))
                .bind(id.0)
                .bind(room.0)
                .fetch_optional(&mut **tx)
                .await?)
            }

            pub(super) async fn append_event(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: i64,
                kind: EventKind,
                message: Uuid,
                now: i64,
            ) -> StoreResult<()> {
                sqlx::query(
                    "insert into room_events (room_id, seq, kind, message_id, created_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(room.0)
                .bind(seq)
                .bind(kind.as_str())
                .bind(message)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }
    };
}

for_each_backend!(changes);
