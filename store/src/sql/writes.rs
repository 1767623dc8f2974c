//! The general write path, for both backends: a group commit of any commands for any
//! rooms in one transaction. It locks the batch's rooms and reads their last seqs, decides
//! sends in memory ([`SendPlan`]), writes new messages and their events with multi-row
//! inserts, applies other commands in their place ([`super::changes`]), and stores the
//! rooms' new last seqs with one statement. SQLite batches of plain sends go to the send
//! thread first ([`super::sqlite_sends`]).

use protocol::ids::{RoomId, UserId};
use uuid::Uuid;

use super::rows::{MessageRow, message_cols, seq_in, seq_out};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::batch::{Outcomes, ROWS_PER_INSERT, SendPlan};
use crate::error::{StoreError, WriteError};
use crate::model::{Message, WriteCommand, WriteOutcome, now_millis};

/// A send's identity: `(room, author, client_msg_id)` is unique.
type SendKey = (RoomId, UserId, String);

/// How one attempt at a group commit ended.
enum Attempt {
    /// Everything was applied; the transaction may commit.
    Done(Outcomes),
    /// These sends are retries of stored messages the attempt did not know of: roll back
    /// and try again knowing them.
    Retry(Vec<SendKey>),
}

macro_rules! writes {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn write_batch(
                &self,
                room: RoomId,
                commands: &[WriteCommand],
            ) -> StoreResult<Vec<Result<WriteOutcome, WriteError>>> {
                let written = self.write_all(&[(room, commands)]).await;
                self.health.record(&written);
                Ok(written?.pop().unwrap_or_default())
            }

            pub(super) async fn write_rooms(
                &self,
                batches: &[(RoomId, Vec<WriteCommand>)],
            ) -> StoreResult<Vec<Vec<Result<WriteOutcome, WriteError>>>> {
                let batches: Vec<(RoomId, &[WriteCommand])> = batches
                    .iter()
                    .map(|(room, commands)| (*room, commands.as_slice()))
                    .collect();
                let written = match self.fast_sends(&batches).await {
                    Some(written) => written,
                    None => self.write_all(&batches).await,
                };
                self.health.record(&written);
                written
            }

            /// The readiness write probe ([`crate::write_health`]): a row of more than a
            /// page inserted and deleted in one committed write transaction.
            pub(super) async fn probe_write(&self) -> StoreResult<()> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                sqlx::query("insert into write_probe (filler) values ($1)")
                    .bind(vec![0u8; crate::write_health::PROBE_BYTES])
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("delete from write_probe")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            /// Applies a whole group commit: tries [`Self::write_in`] in a transaction and,
            /// if it ran into retried sends it did not know of, rolls back and tries again
            /// knowing them. Retries are rare, so almost every batch is one attempt.
            async fn write_all(
                &self,
                batches: &[(RoomId, &[WriteCommand])],
            ) -> StoreResult<Vec<Vec<Result<WriteOutcome, WriteError>>>> {
                let mut retries: Vec<SendKey> = Vec::new();
                // Each attempt learns every retry among the rows it tried to write; one more
                // can only come from a batch that repeats a retry after an edit or delete.
                for _ in 0..4 {
                    let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                    match Self::write_in(&mut tx, batches, &retries).await? {
                        Attempt::Done(results) => {
                            tx.commit().await?;
                            return Ok(results);
                        }
                        Attempt::Retry(keys) => {
                            tx.rollback().await?;
                            retries.extend(keys);
                        }
                    }
                }
                Err(StoreError::Corrupt(
                    "a retried send was not found after it conflicted".into(),
                ))
            }

            /// Applies each room's commands inside `tx`. The statements do not grow with
            /// the batch: one locks every room (Postgres: `for update`, in id order, so two
            /// such transactions never deadlock) and reads its last seq; new messages and
            /// their events are multi-row inserts; one statement stores the rooms' new last
            /// seqs. Retried sends are known from `retries` (looked up one by one) or found
            /// by the insert, which then asks for another attempt. Edits and deletes (rare)
            /// are applied one by one, in their place.
            async fn write_in(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                batches: &[(RoomId, &[WriteCommand])],
                retries: &[SendKey],
            ) -> StoreResult<Attempt> {
                let mut order: Vec<usize> = (0..batches.len()).collect();
                order.sort_by_key(|&i| batches[i].0);
                let rooms = Self::lock_rooms(tx, batches).await?;
                let mut last: std::collections::HashMap<RoomId, u64> =
                    rooms.iter().map(|(room, (seq, _))| (*room, *seq)).collect();
                let now = now_millis();
                let mut plan = SendPlan::new(Self::stored_sends(tx, retries).await?);
                let mut results = vec![Vec::new(); batches.len()];
                let mut advanced: Vec<RoomId> = Vec::new();
                for i in order {
                    let (room, commands) = batches[i];
                    let Some(&start) = last.get(&room) else {
                        results[i] = commands
                            .iter()
                            .map(|_| Err(WriteError::NoSuchRoom))
                            .collect();
                        continue;
                    };
                    let mut next = start;
                    let mut out = Vec::with_capacity(commands.len());
                    // An archived room takes only the update that may open it again.
                    let mut archived = rooms.get(&room).is_some_and(|(_, a)| *a);
                    for command in commands {
                        if archived && !matches!(command, WriteCommand::UpdateRoom { .. }) {
                            out.push(Err(WriteError::Archived));
                            continue;
                        }
                        // A plain send is planned in memory; one with files is applied in
                        // its place, like a reply, to attach them.
                        if let WriteCommand::Send {
                            author,
                            client_msg_id,
                            body,
                            files,
                        } = command
                            && files.is_empty()
                        {
                            out.push(Ok(plan.send(
                                room,
                                &mut next,
                                now,
                                *author,
                                client_msg_id.as_str(),
                                body.as_str(),
                            )));
                            continue;
                        }
                        // Anything else reads the messages table: the sends before it go first.
                        let conflicts = Self::insert_sends(tx, plan.take_new_rows()).await?;
                        if !conflicts.is_empty() {
                            return Ok(Attempt::Retry(conflicts));
                        }
                        let mut seq = seq_in(next);
                        let outcome = Self::apply_change(tx, room, &mut seq, now, command).await?;
                        if let (WriteCommand::UpdateRoom { changes, .. }, Ok(_)) =
                            (command, &outcome)
                            && let Some(now_archived) = changes.archived
                        {
                            archived = now_archived;
                        }
                        if let Some(event) = outcome.as_ref().ok().and_then(WriteOutcome::event) {
                            plan.changed(&event.message);
                        }
                        next = seq_out(seq);
                        out.push(outcome);
                    }
                    results[i] = out;
                    if next != start {
                        last.insert(room, next);
                        advanced.push(room);
                    }
                }
                let conflicts = Self::insert_sends(tx, plan.take_new_rows()).await?;
                if !conflicts.is_empty() {
                    return Ok(Attempt::Retry(conflicts));
                }
                let changed: Vec<(RoomId, u64)> =
                    advanced.into_iter().map(|r| (r, last[&r])).collect();
                Self::store_last_seqs(tx, &changed).await?;
                Ok(Attempt::Done(results))
            }

            /// The stored messages with these `(room, author, client_msg_id)` keys: the
            /// retried sends an earlier attempt of the batch ran into (few, usually none).
            async fn stored_sends(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                keys: &[SendKey],
            ) -> StoreResult<Vec<Message>> {
                let mut found = Vec::with_capacity(keys.len());
                for (room, author, client_msg_id) in keys {
                    let row = sqlx::query_as::<_, MessageRow>(concat!(
                        "select ",
                        message_cols!(),
                        " from messages \
                         where room_id = $1 and author_id = $2 and client_msg_id = $3"
                    ))
                    .bind(room.0)
                    .bind(author.0)
                    .bind(client_msg_id.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
                    if let Some(row) = row {
                        let mut message = Message::from(row);
                        message.reactions = Self::reactions_of(&mut **tx, message.id).await?;
                        message.files = Self::files_of(&mut **tx, message.id).await?;
                        found.push(message);
                    }
                }
                Ok(found)
            }

            /// Writes new messages and their events with multi-row inserts (one per table
            /// on SQLite, one for both on Postgres), in chunks of [`ROWS_PER_INSERT`], far
            /// below either database's limit on parameters. A message whose `(room,
            /// author, client_msg_id)` is already stored (a retry the plan did not know
            /// of) is not written: its key is returned, and the caller must roll back and
            /// try again knowing it.
            async fn insert_sends(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                rows: Vec<Message>,
            ) -> StoreResult<Vec<SendKey>> {
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    let written =
                        super::$dialect::insert_messages_and_events(&mut **tx, chunk).await?;
                    if written.len() < chunk.len() {
                        let written: std::collections::HashSet<Uuid> =
                            written.into_iter().collect();
                        return Ok(chunk
                            .iter()
                            .filter(|m| !written.contains(&m.id.0))
                            .map(|m| (m.room_id, m.author_id, m.client_msg_id.clone()))
                            .collect());
                    }
                }
                Ok(Vec::new())
            }

            /// Locks the batch's rooms and reads their last seqs and whether each is
            /// archived; unknown rooms are absent.
            async fn lock_rooms(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                batches: &[(RoomId, &[WriteCommand])],
            ) -> StoreResult<std::collections::HashMap<RoomId, (u64, bool)>> {
                let ids: Vec<Uuid> = batches.iter().map(|(room, _)| room.0).collect();
                let rows = super::$dialect::lock_rooms(&mut **tx, &ids).await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, last, archived)| (RoomId(id), (seq_out(last), archived)))
                    .collect())
            }

            /// Stores each room's new last seq, in one statement.
            async fn store_last_seqs(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                rooms: &[(RoomId, u64)],
            ) -> StoreResult<()> {
                if !rooms.is_empty() {
                    super::$dialect::store_last_seqs(&mut **tx, rooms).await?;
                }
                Ok(())
            }
        }
    };
}

for_each_backend!(writes);
