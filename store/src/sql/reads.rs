//! Reads of messages and events, for both backends: pages (latest, scrollback), events
//! after a seq (resume), one message, threads and thread read markers; every read gives
//! each message its current reactions and files, and each thread root its summary.

use protocol::ids::{MessageId, RoomId, UserId};
use std::collections::HashMap;
use uuid::Uuid;

use super::files::attach_files;
use super::rows::{
    EventRow, MessageRow, ReactionRow, attach_reactions, event_select, group_reactions, limit_in,
    message_cols, reaction_order, reaction_select, seq_in, seq_out,
};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::model::{Event, Message, Page, Reaction, Thread, ThreadSummary};

fn page_from(mut rows: Vec<MessageRow>, limit: u32) -> Page {
    let limit = limit.clamp(1, 1000) as usize;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
    messages.reverse();
    Page { messages, has_more }
}

macro_rules! reads {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn latest(&self, room: RoomId, limit: u32) -> StoreResult<Page> {
                let rows = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages \
                     where room_id = $1 and thread_root_id is null order by seq desc limit $2"))
                .bind(room.0)
                .bind(limit_in(limit) + 1)
                .fetch_all(&self.read)
                .await?;
                let mut page = self.with_reactions(room, page_from(rows, limit)).await?;
                self.with_threads(page.messages.iter_mut()).await?;
                Ok(page)
            }

            pub(super) async fn before(&self, room: RoomId, before_seq: u64, limit: u32) -> StoreResult<Page> {
                let rows = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where room_id = $1 and seq < $2 \
                     and thread_root_id is null order by seq desc limit $3"))
                .bind(room.0)
                .bind(seq_in(before_seq))
                .bind(limit_in(limit) + 1)
                .fetch_all(&self.read)
                .await?;
                let mut page = self.with_reactions(room, page_from(rows, limit)).await?;
                self.with_threads(page.messages.iter_mut()).await?;
                Ok(page)
            }

            pub(super) async fn events_after(&self, room: RoomId, after_seq: u64, limit: u32) -> StoreResult<Vec<Event>> {
                let mut events = sqlx::query_as::<_, EventRow>(concat!(event_select!(), " where e.room_id = $1 and e.seq > $2 order by e.seq limit $3"))
                .bind(room.0)
                .bind(seq_in(after_seq))
                .bind(limit_in(limit))
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(EventRow::into_event)
                .collect::<StoreResult<Vec<Event>>>()?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    return Ok(events);
                };
                let rows = sqlx::query_as::<_, ReactionRow>(concat!(reaction_select!(),
                    " where r.message_id in (select message_id from room_events where room_id = $1 and seq > $2 and seq <= $3)",
                    reaction_order!()))
                    .bind(room.0)
                    .bind(seq_in(after_seq))
                    .bind(seq_in(last))
                    .fetch_all(&self.read)
                    .await?;
                attach_reactions(events.iter_mut().map(|e| &mut e.message), &group_reactions(rows));
                let files = Self::files_where(
                    &self.read,
                    "select message_id from room_events where room_id = $1 and seq > $2 and seq <= $3",
                    room,
                    seq_in(after_seq),
                    seq_in(last),
                )
                .await?;
                attach_files(events.iter_mut().map(|e| &mut e.message), files);
                self.with_threads(events.iter_mut().map(|e| &mut e.message)).await?;
                Ok(events)
            }

            pub(super) async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
                let Some(mut message) = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .map(Message::from)
                else {
                    return Ok(None);
                };
                message.reactions = Self::reactions_of(&self.read, id).await?;
                message.files = Self::files_of(&self.read, id).await?;
                self.with_threads(std::iter::once(&mut message)).await?;
                Ok(Some(message))
            }

            pub(super) async fn thread(&self, room: RoomId, root: MessageId, limit: u32) -> StoreResult<Option<Thread>> {
                let Some(root) = self.message(root).await?.filter(|m| m.room_id == room && m.thread_root.is_none()) else {
                    return Ok(None);
                };
                let mut rows = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages \
                     where thread_root_id = $1 order by seq desc limit $2"))
                    .bind(root.id.0)
                    .bind(limit_in(limit) + 1)
                    .fetch_all(&self.read)
                    .await?;
                let limit = limit.clamp(1, 1000) as usize;
                let has_more = rows.len() > limit;
                rows.truncate(limit);
                let mut replies: Vec<Message> = rows.into_iter().rev().map(Message::from).collect();
                for m in &mut replies {
                    m.reactions = Self::reactions_of(&self.read, m.id).await?;
                    m.files = Self::files_of(&self.read, m.id).await?;
                }
                Ok(Some(Thread { root, replies, has_more }))
            }

            pub(super) async fn mark_thread_read(&self, root: MessageId, user: UserId, seq: u64) -> StoreResult<u64> {
                let row: (i64,) = sqlx::query_as(
                    "insert into thread_reads (root_id, user_id, last_read_seq) values ($1, $2, $3) \
                     on conflict (root_id, user_id) do update set last_read_seq = \
                       case when thread_reads.last_read_seq > excluded.last_read_seq \
                         then thread_reads.last_read_seq else excluded.last_read_seq end \
                     returning last_read_seq",
                )
                .bind(root.0)
                .bind(user.0)
                .bind(seq_in(seq))
                .fetch_one(&self.write)
                .await?;
                Ok(seq_out(row.0))
            }

            pub(super) async fn thread_reads(&self, room: RoomId, user: UserId) -> StoreResult<Vec<(MessageId, u64)>> {
                let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                    "select t.root_id, t.last_read_seq from thread_reads t \
                     join messages m on m.id = t.root_id where m.room_id = $1 and t.user_id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(root, seq)| (MessageId(root), seq_out(seq))).collect())
            }

            /// The reactions of one message.
            pub(super) async fn reactions_of<'e, E>(exec: E, message: MessageId) -> StoreResult<Vec<Reaction>>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let rows = sqlx::query_as::<_, ReactionRow>(concat!(reaction_select!(), " where r.message_id = $1", reaction_order!()))
                    .bind(message.0)
                    .fetch_all(exec)
                    .await?;
                Ok(group_reactions(rows).remove(&message.0).unwrap_or_default())
            }

            /// Gives a page's messages (consecutive in seq) their reactions and files.
            async fn with_reactions(&self, room: RoomId, mut page: Page) -> StoreResult<Page> {
                let (Some(first), Some(last)) = (page.messages.first().map(|m| m.seq), page.messages.last().map(|m| m.seq)) else {
                    return Ok(page);
                };
                let rows = sqlx::query_as::<_, ReactionRow>(concat!(reaction_select!(),
                    " where r.message_id in (select id from messages where room_id = $1 and seq >= $2 and seq <= $3)",
                    reaction_order!()))
                    .bind(room.0)
                    .bind(seq_in(first))
                    .bind(seq_in(last))
                    .fetch_all(&self.read)
                    .await?;
                attach_reactions(page.messages.iter_mut(), &group_reactions(rows));
                let files = Self::files_where(
                    &self.read,
                    "select id from messages where room_id = $1 and seq >= $2 and seq <= $3",
                    room,
                    seq_in(first),
                    seq_in(last),
                )
                .await?;
                attach_files(page.messages.iter_mut(), files);
                Ok(page)
            }

            /// Gives the thread roots among `messages` their summaries.
            async fn with_threads<'m>(
                &self,
                messages: impl IntoIterator<Item = &'m mut Message>,
            ) -> StoreResult<()> {
                let roots: Vec<&mut Message> = messages.into_iter().filter(|m| m.thread_root.is_none()).collect();
                if roots.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::<super::$dialect::Db>::new(
                    "select thread_root_id, sum(case when deleted then 0 else 1 end), max(seq), max(created_at) \
                     from messages where thread_root_id in (",
                );
                let mut ids = query.separated(", ");
                for m in &roots {
                    ids.push_bind(m.id.0);
                }
                query.push(") group by thread_root_id");
                let rows: Vec<(Uuid, i64, i64, i64)> = query.build_query_as().persistent(false).fetch_all(&self.read).await?;
                let found: HashMap<Uuid, ThreadSummary> = rows
                    .into_iter()
                    .map(|(root, replies, last_seq, last_at)| {
                        (root, ThreadSummary {
                            replies: u32::try_from(replies).unwrap_or(0),
                            last_reply_seq: seq_out(last_seq),
                            last_reply_at: last_at,
                        })
                    })
                    .collect();
                for m in roots {
                    m.thread = found.get(&m.id.0).copied();
                }
                Ok(())
            }
        }
    };
}

for_each_backend!(reads);
