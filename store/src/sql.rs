//! The SQL implementation of [`Store`], written once and expanded for SQLite and Postgres
//! by `sql_store!`. Both databases accept `$N` placeholders through sqlx, share the schema
//! (times in Unix milliseconds, UUID ids) and the row types below; the few statements that
//! differ by dialect are constants in each backend's `dialect` module.
//!
//! SQLite keeps a pool of readers under WAL and one sqlx writer connection; batches made
//! only of new messages are written by a second connection on its own thread
//! ([`SendThread`]). Every SQLite write transaction begins `immediate`, so the two writers
//! queue on the file's write lock (busy timeout) and never fail on a stale snapshot.
//! Postgres uses one pool for both.

use async_trait::async_trait;
use protocol::ids::{MessageId, RoomId, TokenId, UserId};
use protocol::names::{DisplayName, Handle, RoomName};
use sqlx::FromRow;
use std::collections::HashMap;
use uuid::Uuid;

use crate::batch::SendPlan;
use crate::error::{StoreError, WriteError};
use crate::model::*;
use crate::sqlite_sends::{Outcomes, SendThread};
use crate::{LanePolicy, Store, StoreResult};

impl SqliteStore {
    /// Applies a batch of plain sends through the send thread; `None` when the batch must
    /// go the general way (see [`SendThread`]).
    pub(crate) async fn fast_sends(
        &self,
        batches: &[(RoomId, &[WriteCommand])],
    ) -> Option<Outcomes> {
        match &self.sends {
            Some(sends) if SendThread::takes(batches) => sends.apply(batches).await,
            _ => None,
        }
    }
}

impl PgStore {
    /// Postgres has no fast path: every batch goes the general way.
    async fn fast_sends(&self, _batches: &[(RoomId, &[WriteCommand])]) -> Option<Outcomes> {
        None
    }
}

/// The embedded default backend: one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    read: sqlx::SqlitePool,
    write: sqlx::SqlitePool,
    /// Batches of plain sends, applied in one hand-off (none for an in-memory database,
    /// which only its own connection sees).
    sends: Option<std::sync::Arc<SendThread>>,
}

/// The Postgres backend.
#[derive(Clone)]
pub struct PgStore {
    read: sqlx::PgPool,
    write: sqlx::PgPool,
}

/// How long a write waits for the other write connection (see [`SendThread`]).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or
    /// `sqlite::memory:`) and applies migrations.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        use std::str::FromStr;

        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed (acked) message survives power loss, not only a crash of
            // the process. Group commit pays the fsync once per batch.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&write).await?;
        // An in-memory database exists only on its own connection: read and write through
        // the writer.
        let (read, sends) = if url.contains(":memory:") {
            (write.clone(), None)
        } else {
            let sends = SendThread::start(options.get_filename(), BUSY_TIMEOUT)
                .map_err(|e| StoreError::Unavailable(sqlx::Error::Configuration(e)))?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?;
            (read, Some(std::sync::Arc::new(sends)))
        };
        Ok(SqliteStore { read, write, sends })
    }
}

impl PgStore {
    /// Connects to Postgres at `url` and applies migrations.
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        use sqlx::postgres::PgPoolOptions;
        use std::time::Duration;

        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            read: pool.clone(),
            write: pool,
        })
    }
}

mod sqlite_dialect {
    use super::{Message, seq_in};
    use crate::model::EventKind;
    use uuid::Uuid;

    /// Ends the statement that reads the batch's rooms: a write transaction here holds
    /// the database's one write lock from its first statement ([`BEGIN_WRITE`]).
    pub const LOCK_ROOMS_SUFFIX: &str = "";

    /// Begins a write transaction holding the write lock at once: with two write
    /// connections (sqlx's and the send thread's), a transaction that read first and
    /// wrote later could fail on a stale snapshot; this one waits its turn instead.
    pub const BEGIN_WRITE: &str = "begin immediate";

    /// Inserts new messages with one multi-row statement; a stored `(room, author,
    /// client_msg_id)` is skipped. Returns the ids written.
    pub async fn insert_messages(
        conn: &mut sqlx::SqliteConnection,
        rows: &[Message],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted) ",
        );
        query.push_values(rows, |mut row, m| {
            row.push_bind(m.id.0)
                .push_bind(m.room_id.0)
                .push_bind(seq_in(m.seq))
                .push_bind(m.author_id.0)
                .push_bind(m.body.clone())
                .push_bind(m.client_msg_id.clone())
                .push_bind(m.created_at)
                .push_bind(false);
        });
        query.push(" on conflict (room_id, author_id, client_msg_id) do nothing returning id");
        // The text varies with the batch's size: not worth a prepared statement each.
        query
            .build_query_scalar()
            .persistent(false)
            .fetch_all(conn)
            .await
    }

    /// Records the events that created `rows`.
    pub async fn insert_message_events(
        conn: &mut sqlx::SqliteConnection,
        rows: &[Message],
    ) -> Result<(), sqlx::Error> {
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "insert into room_events (room_id, seq, kind, message_id, created_at) ",
        );
        query.push_values(rows, |mut row, m| {
            row.push_bind(m.room_id.0)
                .push_bind(seq_in(m.seq))
                .push_bind(EventKind::Message.as_str())
                .push_bind(m.id.0)
                .push_bind(m.created_at);
        });
        query.build().persistent(false).execute(conn).await?;
        Ok(())
    }
    pub const MARK_READ: &str = "update memberships set last_read_seq = \
        max(last_read_seq, min($3, (select last_seq from rooms where id = $1))) \
        where room_id = $1 and user_id = $2 returning last_read_seq";

    /// Full-text search (FTS5, `message_search` mirrors `messages.body`): $1 the reader
    /// (only rooms they are a member of), $2 [`full_text_query`], $3 the limit. FTS5's
    /// `rank` is bm25, lower is better.
    pub const SEARCH: &str = "select m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, \
         m.created_at, m.edited_at, m.deleted, m.thread_root_id \
         from message_search s \
         join messages m on m.rowid = s.rowid \
         join memberships ms on ms.room_id = m.room_id and ms.user_id = $1 \
         where message_search match $2 and m.deleted = 0 \
         order by s.rank, m.created_at desc limit $3";

    /// An FTS5 query where every term must match as a prefix. Terms are letters and
    /// digits only ([`protocol::search::terms`]), so quoting each is enough.
    pub fn full_text_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|t| format!("\"{t}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

mod pg_dialect {
    use super::{Message, seq_in};
    use crate::model::EventKind;
    use uuid::Uuid;

    /// Ends the statement that reads the batch's rooms: their rows are locked, in id
    /// order, so concurrent writers (on any node) queue on them and never deadlock.
    pub const LOCK_ROOMS_SUFFIX: &str = " order by id for update";

    /// Begins a write transaction (rows are locked by the statements themselves).
    pub const BEGIN_WRITE: &str = "begin";

    /// Inserts new messages with one statement whatever their number: each column is one
    /// array parameter (`unnest`), so the statement is prepared once per connection. A
    /// stored `(room, author, client_msg_id)` is skipped. Returns the ids written.
    pub async fn insert_messages(
        conn: &mut sqlx::PgConnection,
        rows: &[Message],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        sqlx::query_scalar(
            "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted) \
             select id, room_id, seq, author_id, body, client_msg_id, created_at, false \
             from unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::int8[]) \
                  as t(id, room_id, seq, author_id, body, client_msg_id, created_at) \
             on conflict (room_id, author_id, client_msg_id) do nothing returning id",
        )
        .bind(rows.iter().map(|m| m.id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.room_id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| seq_in(m.seq)).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.author_id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.body.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.client_msg_id.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.created_at).collect::<Vec<_>>())
        .fetch_all(conn)
        .await
    }

    /// Records the events that created `rows`, in one prepared statement.
    pub async fn insert_message_events(
        conn: &mut sqlx::PgConnection,
        rows: &[Message],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into room_events (room_id, seq, kind, message_id, created_at) \
             select room_id, seq, $3, message_id, created_at \
             from unnest($1::uuid[], $2::int8[], $4::uuid[], $5::int8[]) as t(room_id, seq, message_id, created_at)",
        )
        .bind(rows.iter().map(|m| m.room_id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| seq_in(m.seq)).collect::<Vec<_>>())
        .bind(EventKind::Message.as_str())
        .bind(rows.iter().map(|m| m.id.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|m| m.created_at).collect::<Vec<_>>())
        .execute(conn)
        .await?;
        Ok(())
    }
    pub const MARK_READ: &str = "update memberships set last_read_seq = \
        greatest(last_read_seq, least($3, (select last_seq from rooms where id = $1))) \
        where room_id = $1 and user_id = $2 returning last_read_seq";

    /// Full-text search over `to_tsvector('simple', body)` (the `messages_search` GIN
    /// index): $1 the reader (only rooms they are a member of), $2 [`full_text_query`],
    /// $3 the limit. `simple` lower-cases and does not stem, as FTS5 here does.
    pub const SEARCH: &str = "select m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, \
         m.created_at, m.edited_at, m.deleted, m.thread_root_id \
         from messages m \
         join memberships ms on ms.room_id = m.room_id and ms.user_id = $1 \
         where to_tsvector('simple', m.body) @@ to_tsquery('simple', $2) and not m.deleted \
         order by ts_rank(to_tsvector('simple', m.body), to_tsquery('simple', $2)) desc, \
                  m.created_at desc limit $3";

    /// A tsquery where every term must match as a prefix. Terms are letters and digits
    /// only ([`protocol::search::terms`]), so quoting each is enough.
    pub fn full_text_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|t| format!("'{t}':*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// A send's identity: `(room, author, client_msg_id)` is unique.
type SendKey = (RoomId, UserId, String);

/// How one attempt at a group commit ended.
enum Attempt {
    /// Everything was applied; the transaction may commit.
    Done(Vec<Vec<Result<WriteOutcome, WriteError>>>),
    /// These sends are retries of stored messages the attempt did not know of: roll back
    /// and try again knowing them.
    Retry(Vec<SendKey>),
}

// --- row types shared by both databases ----------------------------------------------------

#[derive(FromRow)]
struct UserRow {
    id: Uuid,
    handle: String,
    display_name: String,
    created_at: i64,
    deactivated_at: Option<i64>,
}

impl UserRow {
    fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: UserId(self.id),
            handle: Handle::parse(&self.handle).map_err(corrupt)?,
            display_name: DisplayName::parse(&self.display_name).map_err(corrupt)?,
            created_at: self.created_at,
            deactivated_at: self.deactivated_at,
        })
    }
}

#[derive(FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[derive(FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> ApiToken {
        ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(FromRow)]
struct RoomRow {
    id: Uuid,
    kind: String,
    name: Option<String>,
    topic: String,
    created_by: Uuid,
    created_at: i64,
    last_seq: i64,
}

impl RoomRow {
    fn into_room(self) -> StoreResult<Room> {
        Ok(Room {
            id: RoomId(self.id),
            kind: RoomKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("room kind {:?}", self.kind)))?,
            name: self
                .name
                .as_deref()
                .map(RoomName::parse)
                .transpose()
                .map_err(corrupt)?,
            topic: self.topic,
            created_by: UserId(self.created_by),
            created_at: self.created_at,
            last_seq: seq_out(self.last_seq),
        })
    }
}

#[derive(FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    room: RoomRow,
    last_read_seq: i64,
    unread: i64,
    peer_id: Option<Uuid>,
    peer_handle: Option<String>,
    peer_display_name: Option<String>,
    peer_created_at: Option<i64>,
    peer_deactivated_at: Option<i64>,
}

#[derive(FromRow)]
struct MembershipRow {
    room_id: Uuid,
    user_id: Uuid,
    joined_at: i64,
    last_read_seq: i64,
}

#[derive(FromRow)]
struct MessageRow {
    id: Uuid,
    room_id: Uuid,
    seq: i64,
    author_id: Uuid,
    body: String,
    client_msg_id: String,
    created_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    thread_root_id: Option<Uuid>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Message {
        Message {
            id: MessageId(r.id),
            room_id: RoomId(r.room_id),
            seq: seq_out(r.seq),
            author_id: UserId(r.author_id),
            body: r.body,
            client_msg_id: r.client_msg_id,
            created_at: r.created_at,
            edited_at: r.edited_at,
            deleted: r.deleted,
            reactions: Vec::new(),
            thread_root: r.thread_root_id.map(MessageId),
            thread: None,
        }
    }
}

#[derive(FromRow)]
struct EventRow {
    event_seq: i64,
    event_kind: String,
    event_created_at: i64,
    #[sqlx(flatten)]
    message: MessageRow,
}

impl EventRow {
    fn into_event(self) -> StoreResult<Event> {
        Ok(Event {
            room_id: RoomId(self.message.room_id),
            seq: seq_out(self.event_seq),
            kind: EventKind::parse(&self.event_kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event kind {:?}", self.event_kind)))?,
            created_at: self.event_created_at,
            message: self.message.into(),
        })
    }
}

/// One person's reaction, with how they look, for [`group_reactions`].
#[derive(FromRow)]
struct ReactionRow {
    message_id: Uuid,
    emoji: String,
    user_id: Uuid,
    handle: String,
    display_name: String,
}

/// Reactions per message from rows in reaction order: emoji in the order each was first
/// used, people in the order they reacted (the first [`protocol::REACTORS_LISTED`]).
fn group_reactions(rows: Vec<ReactionRow>) -> HashMap<Uuid, Vec<Reaction>> {
    let mut out: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    for row in rows {
        let list = out.entry(row.message_id).or_default();
        let at = match list.iter().position(|r| r.emoji == row.emoji) {
            Some(at) => at,
            None => {
                list.push(Reaction {
                    emoji: row.emoji,
                    count: 0,
                    users: Vec::new(),
                });
                list.len() - 1
            }
        };
        let group = &mut list[at];
        group.count += 1;
        if group.users.len() < protocol::REACTORS_LISTED {
            group.users.push(protocol::UserView {
                id: UserId(row.user_id),
                handle: row.handle,
                name: row.display_name,
            });
        }
    }
    out
}

/// Gives each message its reactions from `grouped` (a message may appear more than
/// once: several events of one message).
fn attach_reactions<'a>(
    messages: impl IntoIterator<Item = &'a mut Message>,
    grouped: &HashMap<Uuid, Vec<Reaction>>,
) {
    for m in messages {
        if let Some(list) = grouped.get(&m.id.0) {
            m.reactions = list.clone();
        }
    }
}

fn corrupt(err: protocol::names::InvalidValue) -> StoreError {
    StoreError::Corrupt(format!("stored {} is invalid: {}", err.field, err.message))
}

/// Seqs are `bigint` in the database and `u64` in code; stored ones are never negative.
fn seq_out(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A seq from a caller, clamped into the database's range.
pub(crate) fn seq_in(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn limit_in(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000))
}

// Column lists as literal-producing macros: sqlx only takes `&'static str` SQL, so
// statements are assembled with `concat!` at compile time.
macro_rules! user_cols {
    () => {
        "id, handle, display_name, created_at, deactivated_at"
    };
}
macro_rules! room_cols {
    () => {
        "id, kind, name, topic, created_by, created_at, last_seq"
    };
}
macro_rules! message_cols {
    () => {
        "id, room_id, seq, author_id, body, client_msg_id, created_at, edited_at, deleted, thread_root_id"
    };
}
/// `select` of events joined to their messages, for [`EventRow`].
macro_rules! event_select {
    () => {
        "select e.seq as event_seq, e.kind as event_kind, e.created_at as event_created_at, \
         m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, m.created_at, m.edited_at, m.deleted, \
         m.thread_root_id \
         from room_events e join messages m on m.id = e.message_id"
    };
}

/// `select` of reactions with their people, for [`ReactionRow`]; a `where` and
/// [`reaction_order!`] follow.
macro_rules! reaction_select {
    () => {
        "select r.message_id, r.emoji, r.user_id, u.handle, u.display_name \
         from reactions r join users u on u.id = r.user_id"
    };
}
/// The order [`group_reactions`] needs: the order of reacting (by the seq of the event
/// that added each, so it is exact even within a millisecond).
macro_rules! reaction_order {
    () => {
        " order by r.seq"
    };
}

fn dm_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

fn page_from(mut rows: Vec<MessageRow>, limit: u32) -> Page {
    let limit = limit.clamp(1, 1000) as usize;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
    messages.reverse();
    Page { messages, has_more }
}

/// A member's unread mentions in one room: all of them, and those in thread replies
/// (which count as unread in the room only because they mention the member).
#[derive(Debug, Default, Clone, Copy)]
struct UnreadMentions {
    all: u64,
    in_threads: u64,
}

/// Most unread bodies with an `@` that [`Store::rooms_of`] reads to count mentions.
const MENTION_SCAN_MAX: i64 = 10_000;

macro_rules! sql_store {
    ($store:ident, $db:ty, $engine:literal, $dialect:ident, $lanes:expr) => {
        impl $store {
            /// Per room, how many of `user`'s unread messages mention them: the bodies
            /// after the read marker that hold an `@` are read (at most
            /// [`MENTION_SCAN_MAX`] of them) and scanned as the browser reads them.
            async fn unread_mentions(
                &self,
                user: UserId,
            ) -> StoreResult<std::collections::HashMap<RoomId, UnreadMentions>> {
                let rows: Vec<(Uuid, String, String, Option<Uuid>)> = sqlx::query_as(
                    "select x.room_id, x.body, u.handle, x.thread_root_id from memberships m \
                       join users u on u.id = m.user_id \
                       join messages x on x.room_id = m.room_id and x.seq > m.last_read_seq \
                     where m.user_id = $1 and x.author_id <> $1 and not x.deleted \
                       and x.body like '%@%' \
                     limit $2",
                )
                .bind(user.0)
                .bind(MENTION_SCAN_MAX)
                .fetch_all(&self.read)
                .await?;
                let mut counts: std::collections::HashMap<RoomId, UnreadMentions> = std::collections::HashMap::new();
                for (room, body, handle, thread_root) in rows {
                    if protocol::mentions::scan(&body).includes(&handle) {
                        let c = counts.entry(RoomId(room)).or_default();
                        c.all += 1;
                        if thread_root.is_some() {
                            c.in_threads += 1;
                        }
                    }
                }
                Ok(counts)
            }

            async fn fetch_room_row<'e, E>(exec: E, id: RoomId) -> StoreResult<Option<Room>>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where id = $1"))
                    .bind(id.0)
                    .fetch_optional(exec)
                    .await?
                    .map(RoomRow::into_room)
                    .transpose()
            }

            async fn is_member<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from memberships where room_id = $1 and user_id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_one(exec)
                .await?;
                Ok(n > 0)
            }

            async fn user_exists<'e, E>(exec: E, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let (n,): (i64,) = sqlx::query_as("select count(*) from users where id = $1")
                    .bind(user.0)
                    .fetch_one(exec)
                    .await?;
                Ok(n > 0)
            }

            async fn insert_member<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let done = sqlx::query(
                    "insert into memberships (room_id, user_id, joined_at, last_read_seq) \
                     values ($1, $2, $3, 0) on conflict (room_id, user_id) do nothing",
                )
                .bind(room.0)
                .bind(user.0)
                .bind(now_millis())
                .execute(exec)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn message_in_room(
                tx: &mut sqlx::Transaction<'static, $db>,
                room: RoomId,
                id: MessageId,
            ) -> StoreResult<Option<MessageRow>> {
                Ok(sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where id = $1 and room_id = $2"))
                .bind(id.0)
                .bind(room.0)
                .fetch_optional(&mut **tx)
                .await?)
            }

            /// The message `id` of `room` if `author` wrote it and it is not deleted;
            /// otherwise the reason an edit or delete of it is refused.
            async fn own_live_message(
                tx: &mut sqlx::Transaction<'static, $db>,
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

            /// The reactions of one message.
            async fn reactions_of<'e, E>(exec: E, message: MessageId) -> StoreResult<Vec<Reaction>>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let rows = sqlx::query_as::<_, ReactionRow>(concat!(reaction_select!(), " where r.message_id = $1", reaction_order!()))
                    .bind(message.0)
                    .fetch_all(exec)
                    .await?;
                Ok(group_reactions(rows).remove(&message.0).unwrap_or_default())
            }

            /// Gives a page's messages (consecutive in seq) their reactions.
            async fn with_reactions(&self, room: RoomId, mut page: Page) -> StoreResult<Page> {
                let (Some(first), Some(last)) = (page.messages.first(), page.messages.last()) else {
                    return Ok(page);
                };
                let rows = sqlx::query_as::<_, ReactionRow>(concat!(reaction_select!(),
                    " where r.message_id in (select id from messages where room_id = $1 and seq >= $2 and seq <= $3)",
                    reaction_order!()))
                    .bind(room.0)
                    .bind(seq_in(first.seq))
                    .bind(seq_in(last.seq))
                    .fetch_all(&self.read)
                    .await?;
                attach_reactions(page.messages.iter_mut(), &group_reactions(rows));
                Ok(page)
            }

            /// A reaction command found its message (`row`) and `changed` says whether it
            /// added or removed anything: an event with the message's reactions now, or
            /// nothing (no seq taken).
            async fn reaction_changed(
                tx: &mut sqlx::Transaction<'static, $db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                row: MessageRow,
                changed: bool,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                let mut message = Message::from(row);
                message.reactions = Self::reactions_of(&mut **tx, message.id).await?;
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

            /// A reply in the thread of `root`: the original if it is a retry, else a new
            /// message (at the next seq) if `root` is a live message of the room that is
            /// not itself a reply.
            #[allow(clippy::too_many_arguments)]
            async fn apply_reply(
                tx: &mut sqlx::Transaction<'static, $db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                author: UserId,
                client_msg_id: &str,
                body: &str,
                root: MessageId,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
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
                    return Ok(Ok(WriteOutcome::Duplicate(crate::batch::message_event(message))));
                }
                match Self::message_in_room(tx, room, root).await? {
                    None => return Ok(Err(WriteError::NoSuchMessage)),
                    Some(row) if row.thread_root_id.is_some() => return Ok(Err(WriteError::NotARoot)),
                    Some(row) if row.deleted => return Ok(Err(WriteError::Deleted)),
                    Some(_) => {}
                }
                *seq += 1;
                let message = Message {
                    id: MessageId(Uuid::now_v7()),
                    room_id: room,
                    seq: seq_out(*seq),
                    author_id: author,
                    body: body.to_string(),
                    client_msg_id: client_msg_id.to_string(),
                    created_at: now,
                    edited_at: None,
                    deleted: false,
                    reactions: Vec::new(),
                    thread_root: Some(root),
                    thread: None,
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
                .bind(root.0)
                .execute(&mut **tx)
                .await?;
                Self::append_event(tx, room, *seq, EventKind::Message, message.id.0, now).await?;
                Ok(Ok(WriteOutcome::Applied(Event {
                    room_id: room,
                    seq: message.seq,
                    kind: EventKind::Message,
                    created_at: now,
                    message,
                })))
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
                let mut query = sqlx::QueryBuilder::<$db>::new(
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

            /// The live message `id` of `room` a reaction is about, or why it cannot be.
            async fn reactable(
                tx: &mut sqlx::Transaction<'static, $db>,
                room: RoomId,
                id: MessageId,
            ) -> StoreResult<Result<MessageRow, WriteError>> {
                match Self::message_in_room(tx, room, id).await? {
                    None => Ok(Err(WriteError::NoSuchMessage)),
                    Some(row) if row.deleted => Ok(Err(WriteError::Deleted)),
                    Some(row) => Ok(Ok(row)),
                }
            }

            async fn append_event(
                tx: &mut sqlx::Transaction<'static, $db>,
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

            /// The stored messages with these `(room, author, client_msg_id)` keys: the
            /// retried sends an earlier attempt of the batch ran into (few, usually none).
            async fn stored_sends(
                tx: &mut sqlx::Transaction<'static, $db>,
                keys: &[SendKey],
            ) -> StoreResult<Vec<Message>> {
                let mut found = Vec::with_capacity(keys.len());
                for (room, author, client_msg_id) in keys {
                    let row = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages \
                         where room_id = $1 and author_id = $2 and client_msg_id = $3"))
                        .bind(room.0)
                        .bind(author.0)
                        .bind(client_msg_id.as_str())
                        .fetch_optional(&mut **tx)
                        .await?;
                    if let Some(row) = row {
                        let mut message = Message::from(row);
                        message.reactions = Self::reactions_of(&mut **tx, message.id).await?;
                        found.push(message);
                    }
                }
                Ok(found)
            }

            /// Writes new messages and their events with one multi-row insert per table
            /// (in chunks that stay far below either database's limit on parameters). A
            /// message whose `(room, author, client_msg_id)` is already stored (a retry the
            /// plan did not know of) is not written: its key is returned, and the caller
            /// must roll back and try again knowing it.
            async fn insert_sends(
                tx: &mut sqlx::Transaction<'static, $db>,
                rows: Vec<Message>,
            ) -> StoreResult<Vec<SendKey>> {
                const CHUNK: usize = 500;
                for chunk in rows.chunks(CHUNK) {
                    let written = $dialect::insert_messages(&mut **tx, chunk).await?;
                    if written.len() < chunk.len() {
                        let written: std::collections::HashSet<Uuid> = written.into_iter().collect();
                        return Ok(chunk
                            .iter()
                            .filter(|m| !written.contains(&m.id.0))
                            .map(|m| (m.room_id, m.author_id, m.client_msg_id.clone()))
                            .collect());
                    }
                    $dialect::insert_message_events(&mut **tx, chunk).await?;
                }
                Ok(Vec::new())
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
                    let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
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
                Err(StoreError::Corrupt("a retried send was not found after it conflicted".into()))
            }

            /// Applies each room's commands inside `tx`. The statements do not grow with
            /// the batch: one locks every room (Postgres: `for update`, in id order, so two
            /// such transactions never deadlock) and reads its last seq; new messages and
            /// their events are multi-row inserts; one statement stores the rooms' new last
            /// seqs. Retried sends are known from `retries` (looked up one by one) or found
            /// by the insert, which then asks for another attempt. Edits and deletes (rare)
            /// are applied one by one, in their place.
            async fn write_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                batches: &[(RoomId, &[WriteCommand])],
                retries: &[SendKey],
            ) -> StoreResult<Attempt> {
                let mut order: Vec<usize> = (0..batches.len()).collect();
                order.sort_by_key(|&i| batches[i].0);
                let mut last = Self::lock_rooms(tx, batches).await?;
                let now = now_millis();
                let mut plan = SendPlan::new(Self::stored_sends(tx, retries).await?);
                let mut results = vec![Vec::new(); batches.len()];
                let mut advanced: Vec<RoomId> = Vec::new();
                for i in order {
                    let (room, commands) = batches[i];
                    let Some(&start) = last.get(&room) else {
                        results[i] = commands.iter().map(|_| Err(WriteError::NoSuchRoom)).collect();
                        continue;
                    };
                    let mut next = start;
                    let mut out = Vec::with_capacity(commands.len());
                    for command in commands {
                        if let WriteCommand::Send { author, client_msg_id, body } = command {
                            out.push(Ok(plan.send(room, &mut next, now, *author, client_msg_id.as_str(), body.as_str())));
                            continue;
                        }
                        // Anything else reads the messages table: the sends before it go first.
                        let conflicts = Self::insert_sends(tx, plan.take_new_rows()).await?;
                        if !conflicts.is_empty() {
                            return Ok(Attempt::Retry(conflicts));
                        }
                        let mut seq = seq_in(next);
                        let outcome = Self::apply_change(tx, room, &mut seq, now, command).await?;
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
                let changed: Vec<(RoomId, u64)> = advanced.into_iter().map(|r| (r, last[&r])).collect();
                Self::store_last_seqs(tx, &changed).await?;
                Ok(Attempt::Done(results))
            }

            /// Locks the batch's rooms and reads their last seqs; unknown rooms are absent.
            async fn lock_rooms(
                tx: &mut sqlx::Transaction<'static, $db>,
                batches: &[(RoomId, &[WriteCommand])],
            ) -> StoreResult<std::collections::HashMap<RoomId, u64>> {
                let mut query = sqlx::QueryBuilder::<$db>::new("select id, last_seq from rooms where id in (");
                let mut ids = query.separated(", ");
                for (room, _) in batches {
                    ids.push_bind(room.0);
                }
                query.push(")").push($dialect::LOCK_ROOMS_SUFFIX);
                let rows: Vec<(Uuid, i64)> = query.build_query_as().persistent(false).fetch_all(&mut **tx).await?;
                Ok(rows.into_iter().map(|(id, last)| (RoomId(id), seq_out(last))).collect())
            }

            /// Stores each room's new last seq, in one statement.
            async fn store_last_seqs(
                tx: &mut sqlx::Transaction<'static, $db>,
                rooms: &[(RoomId, u64)],
            ) -> StoreResult<()> {
                if rooms.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new("update rooms set last_seq = case id");
                for (room, seq) in rooms {
                    query.push(" when ").push_bind(room.0).push(" then ").push_bind(seq_in(*seq));
                }
                query.push(" end where id in (");
                let mut ids = query.separated(", ");
                for (room, _) in rooms {
                    ids.push_bind(room.0);
                }
                query.push(")");
                query.build().persistent(false).execute(&mut **tx).await?;
                Ok(())
            }

            /// Applies an edit or a delete; `seq` is advanced only when it is applied.
            async fn apply_change(
                tx: &mut sqlx::Transaction<'static, $db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                command: &WriteCommand,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                match command {
                    WriteCommand::Send { .. } => {
                        // Sends are planned by `write_in`, never applied here.
                        Ok(Err(WriteError::NoSuchMessage))
                    }
                    WriteCommand::Reply { author, client_msg_id, body, root } => {
                        Self::apply_reply(tx, room, seq, now, *author, client_msg_id.as_str(), body.as_str(), *root).await
                    }
                    WriteCommand::Edit { author, message, body } => {
                        let row = match Self::own_live_message(tx, room, *author, *message).await? {
                            Ok(row) => row,
                            Err(refused) => return Ok(Err(refused)),
                        };
                        *seq += 1;
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
                            Err(refused) => return Ok(Err(refused)),
                        };
                        *seq += 1;
                        sqlx::query("update messages set body = '', deleted = true where id = $1")
                            .bind(message.0)
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query("delete from reactions where message_id = $1")
                            .bind(message.0)
                            .execute(&mut **tx)
                            .await?;
                        Self::append_event(tx, room, *seq, EventKind::Deleted, message.0, now).await?;
                        let mut tombstone = Message::from(row);
                        tombstone.body = String::new();
                        tombstone.deleted = true;
                        Ok(Ok(WriteOutcome::Applied(Event {
                            room_id: room,
                            seq: seq_out(*seq),
                            kind: EventKind::Deleted,
                            created_at: now,
                            message: tombstone,
                        })))
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
        }

        #[async_trait]
        impl Store for $store {
            fn engine(&self) -> &'static str {
                $engine
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("select 1").execute(&self.read).await?;
                Ok(())
            }

            async fn create_user(
                &self,
                handle: &Handle,
                display_name: &DisplayName,
                password_hash: &str,
            ) -> StoreResult<User> {
                let user = User {
                    id: UserId(Uuid::now_v7()),
                    handle: handle.clone(),
                    display_name: display_name.clone(),
                    created_at: now_millis(),
                    deactivated_at: None,
                };
                sqlx::query(
                    "insert into users (id, handle, display_name, password_hash, created_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(user.id.0)
                .bind(handle.as_str())
                .bind(display_name.as_str())
                .bind(password_hash)
                .bind(user.created_at)
                .execute(&self.write)
                .await?;
                Ok(user)
            }

            async fn credentials(&self, handle: &Handle) -> StoreResult<Option<Credentials>> {
                let row = sqlx::query_as::<_, CredentialsRow>(concat!("select ", user_cols!(), ", password_hash from users where handle = $1 and deactivated_at is null"))
                .bind(handle.as_str())
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| {
                    Ok(Credentials {
                        user: r.user.into_user()?,
                        password_hash: r.password_hash,
                    })
                })
                .transpose()
            }

            async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
                sqlx::query_as::<_, UserRow>(concat!("select ", user_cols!(), " from users where id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .map(UserRow::into_user)
                    .transpose()
            }

            async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
                let mut pattern = String::with_capacity(prefix.len() + 1);
                for c in prefix.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                sqlx::query_as::<_, UserRow>(concat!(
                    "select ", user_cols!(),
                    " from users where handle like $1 escape '\\' and deactivated_at is null \
                      order by handle limit $2"
                ))
                .bind(pattern)
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(UserRow::into_user)
                .collect()
            }

            async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>> {
                sqlx::query_as::<_, UserRow>(concat!("select ", user_cols!(), " from users where handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(&self.read)
                    .await?
                    .map(UserRow::into_user)
                    .transpose()
            }

            async fn create_api_token(
                &self,
                user: UserId,
                name: &str,
                secret_hash: &[u8; 32],
            ) -> StoreResult<ApiToken> {
                let token = ApiToken {
                    id: TokenId(Uuid::now_v7()),
                    user_id: user,
                    name: name.to_string(),
                    created_at: now_millis(),
                    last_used_at: None,
                    revoked_at: None,
                };
                sqlx::query(
                    "insert into api_tokens (id, user_id, name, token_hash, created_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(token.id.0)
                .bind(user.0)
                .bind(name)
                .bind(&secret_hash[..])
                .bind(token.created_at)
                .execute(&self.write)
                .await?;
                Ok(token)
            }

            async fn user_by_token_hash(&self, secret_hash: &[u8; 32]) -> StoreResult<Option<User>> {
                let owner: Option<(Uuid,)> = sqlx::query_as(
                    "update api_tokens set last_used_at = $2 \
                     where token_hash = $1 and revoked_at is null returning user_id",
                )
                .bind(&secret_hash[..])
                .bind(now_millis())
                .fetch_optional(&self.write)
                .await?;
                match owner {
                    Some((id,)) => Ok(self.user(UserId(id)).await?.filter(User::is_active)),
                    None => Ok(None),
                }
            }

            async fn deactivate_user(&self, user: UserId) -> StoreResult<bool> {
                let now = now_millis();
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                let done = sqlx::query(
                    "update users set deactivated_at = $2 where id = $1 and deactivated_at is null",
                )
                .bind(user.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "update api_tokens set revoked_at = $2 where user_id = $1 and revoked_at is null",
                )
                .bind(user.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn deactivated_since(&self, since: i64) -> StoreResult<Vec<UserId>> {
                let rows: Vec<(Uuid,)> = sqlx::query_as(
                    "select id from users where deactivated_at >= $1 order by deactivated_at",
                )
                .bind(since)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
            }

            async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
                let rows = sqlx::query_as::<_, TokenRow>(
                    "select id, user_id, name, created_at, last_used_at, revoked_at \
                     from api_tokens where user_id = $1 order by created_at desc, id desc",
                )
                .bind(user.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(ApiToken::from).collect())
            }

            async fn revoke_api_token(&self, user: UserId, token: TokenId) -> StoreResult<bool> {
                let done = sqlx::query(
                    "update api_tokens set revoked_at = $3 \
                     where id = $1 and user_id = $2 and revoked_at is null",
                )
                .bind(token.0)
                .bind(user.0)
                .bind(now_millis())
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn session_save(&self, id: &str, data: &[u8], expires_at: i64) -> StoreResult<()> {
                sqlx::query(
                    "insert into sessions (id, data, expiry_date) values ($1, $2, $3) \
                     on conflict (id) do update set data = excluded.data, expiry_date = excluded.expiry_date",
                )
                .bind(id)
                .bind(data)
                .bind(expires_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn session_create(&self, id: &str, data: &[u8], expires_at: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "insert into sessions (id, data, expiry_date) values ($1, $2, $3) \
                     on conflict (id) do nothing",
                )
                .bind(id)
                .bind(data)
                .bind(expires_at)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
                let row: Option<(Vec<u8>,)> =
                    sqlx::query_as("select data from sessions where id = $1 and expiry_date > $2")
                        .bind(id)
                        .bind(now)
                        .fetch_optional(&self.read)
                        .await?;
                Ok(row.map(|(data,)| data))
            }

            async fn session_delete(&self, id: &str) -> StoreResult<()> {
                sqlx::query("delete from sessions where id = $1")
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn session_delete_expired(&self, now: i64) -> StoreResult<u64> {
                let done = sqlx::query("delete from sessions where expiry_date <= $1")
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_room(
                &self,
                creator: UserId,
                kind: RoomKind,
                name: &RoomName,
                topic: &str,
            ) -> StoreResult<Room> {
                if kind == RoomKind::Dm {
                    return Err(StoreError::Invalid { reason: "use open_dm for direct messages" });
                }
                let room = Room {
                    id: RoomId(Uuid::now_v7()),
                    kind,
                    name: Some(name.clone()),
                    topic: topic.to_string(),
                    created_by: creator,
                    created_at: now_millis(),
                    last_seq: 0,
                };
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                sqlx::query(
                    "insert into rooms (id, kind, name, topic, created_by, created_at, last_seq) \
                     values ($1, $2, $3, $4, $5, $6, 0)",
                )
                .bind(room.id.0)
                .bind(kind.as_str())
                .bind(name.as_str())
                .bind(topic)
                .bind(creator.0)
                .bind(room.created_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_member(&mut *tx, room.id, creator).await?;
                tx.commit().await?;
                Ok(room)
            }

            async fn open_dm(&self, a: UserId, b: UserId) -> StoreResult<Room> {
                if a == b {
                    return Err(StoreError::Invalid { reason: "a direct message needs two different users" });
                }
                let key = dm_key(a, b);
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                for user in [a, b] {
                    if !Self::user_exists(&mut *tx, user).await? {
                        return Err(StoreError::NotFound { what: "user" });
                    }
                }
                let id = Uuid::now_v7();
                let created = sqlx::query(
                    "insert into rooms (id, kind, name, topic, created_by, created_at, last_seq, dm_key) \
                     values ($1, 'dm', null, '', $2, $3, 0, $4) on conflict (dm_key) do nothing",
                )
                .bind(id)
                .bind(a.0)
                .bind(now_millis())
                .bind(&key)
                .execute(&mut *tx)
                .await?;
                if created.rows_affected() == 1 {
                    Self::insert_member(&mut *tx, RoomId(id), a).await?;
                    Self::insert_member(&mut *tx, RoomId(id), b).await?;
                }
                let room = sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where dm_key = $1"))
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await?
                    .into_room()?;
                tx.commit().await?;
                Ok(room)
            }

            async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
                Self::fetch_room_row(&self.read, id).await
            }

            async fn room_by_name(&self, name: &RoomName) -> StoreResult<Option<Room>> {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where name = $1"))
                    .bind(name.as_str())
                    .fetch_optional(&self.read)
                    .await?
                    .map(RoomRow::into_room)
                    .transpose()
            }

            async fn public_rooms(&self) -> StoreResult<Vec<Room>> {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where kind = 'public' order by name"))
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(RoomRow::into_room)
                .collect()
            }

            async fn join_public(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind != RoomKind::Public {
                    return Err(StoreError::Forbidden { reason: "only public rooms can be joined freely" });
                }
                let added = Self::insert_member(&mut *tx, room, user).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn invite(&self, room: RoomId, inviter: UserId, invitee: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind == RoomKind::Dm {
                    return Err(StoreError::Forbidden { reason: "nobody can be added to a direct message" });
                }
                if !Self::is_member(&mut *tx, room, inviter).await? {
                    return Err(StoreError::Forbidden { reason: "only members can invite" });
                }
                if !Self::user_exists(&mut *tx, invitee).await? {
                    return Err(StoreError::NotFound { what: "user" });
                }
                let added = Self::insert_member(&mut *tx, room, invitee).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn leave(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with($dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind == RoomKind::Dm {
                    return Err(StoreError::Forbidden { reason: "a direct message cannot be left" });
                }
                let done = sqlx::query("delete from memberships where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn membership(&self, room: RoomId, user: UserId) -> StoreResult<Option<Membership>> {
                let row = sqlx::query_as::<_, MembershipRow>(
                    "select room_id, user_id, joined_at, last_read_seq from memberships \
                     where room_id = $1 and user_id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|r| Membership {
                    room_id: RoomId(r.room_id),
                    user_id: UserId(r.user_id),
                    joined_at: r.joined_at,
                    last_read_seq: seq_out(r.last_read_seq),
                }))
            }

            async fn members(&self, room: RoomId) -> StoreResult<Vec<User>> {
                sqlx::query_as::<_, UserRow>(
                    "select u.id, u.handle, u.display_name, u.created_at, u.deactivated_at from memberships m \
                     join users u on u.id = m.user_id where m.room_id = $1 order by u.handle",
                )
                .bind(room.0)
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(UserRow::into_user)
                .collect()
            }

            async fn rooms_of(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
                let rows = sqlx::query_as::<_, SummaryRow>(
                    "select r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.last_seq, \
                       m.last_read_seq, \
                       (select count(*) from messages x where x.room_id = r.id and x.seq > m.last_read_seq \
                          and x.author_id <> $1 and not x.deleted and x.thread_root_id is null) as unread, \
                       pu.id as peer_id, pu.handle as peer_handle, pu.display_name as peer_display_name, \
                       pu.created_at as peer_created_at, pu.deactivated_at as peer_deactivated_at \
                     from memberships m join rooms r on r.id = m.room_id \
                     left join memberships pm on r.kind = 'dm' and pm.room_id = r.id and pm.user_id <> $1 \
                     left join users pu on pu.id = pm.user_id \
                     where m.user_id = $1 \
                     order by case r.kind when 'dm' then 1 else 0 end, r.name, pu.handle",
                )
                .bind(user.0)
                .fetch_all(&self.read)
                .await?;
                let mentions = self.unread_mentions(user).await?;
                rows.into_iter()
                    .map(|r| {
                        let dm_peer = match (r.peer_id, r.peer_handle, r.peer_display_name, r.peer_created_at) {
                            (Some(id), Some(handle), Some(display_name), Some(created_at)) => Some(
                                UserRow {
                                    id,
                                    handle,
                                    display_name,
                                    created_at,
                                    deactivated_at: r.peer_deactivated_at,
                                }
                                .into_user()?,
                            ),
                            _ => None,
                        };
                        let room_mentions = mentions.get(&RoomId(r.room.id)).copied().unwrap_or_default();
                        Ok(RoomSummary {
                            room: r.room.into_room()?,
                            last_read_seq: seq_out(r.last_read_seq),
                            unread: seq_out(r.unread) + room_mentions.in_threads,
                            mentions: room_mentions.all,
                            dm_peer,
                        })
                    })
                    .collect()
            }

            async fn read_markers(&self, room: RoomId) -> StoreResult<Vec<(UserId, u64)>> {
                let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                    "select user_id, last_read_seq from memberships where room_id = $1 order by user_id",
                )
                .bind(room.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(u, seq)| (UserId(u), seq_out(seq))).collect())
            }

            async fn mark_read(&self, room: RoomId, user: UserId, seq: u64) -> StoreResult<u64> {
                let row: Option<(i64,)> = sqlx::query_as($dialect::MARK_READ)
                    .bind(room.0)
                    .bind(user.0)
                    .bind(seq_in(seq))
                    .fetch_optional(&self.write)
                    .await?;
                match row {
                    Some((marker,)) => Ok(seq_out(marker)),
                    None => Err(StoreError::NotFound { what: "membership" }),
                }
            }

            async fn write_batch(
                &self,
                room: RoomId,
                commands: &[WriteCommand],
            ) -> StoreResult<Vec<Result<WriteOutcome, WriteError>>> {
                let mut results = self.write_all(&[(room, commands)]).await?;
                Ok(results.pop().unwrap_or_default())
            }

            async fn write_rooms(
                &self,
                batches: &[(RoomId, Vec<WriteCommand>)],
            ) -> StoreResult<Vec<Vec<Result<WriteOutcome, WriteError>>>> {
                let batches: Vec<(RoomId, &[WriteCommand])> =
                    batches.iter().map(|(room, commands)| (*room, commands.as_slice())).collect();
                if let Some(outcomes) = self.fast_sends(&batches).await {
                    return Ok(outcomes);
                }
                self.write_all(&batches).await
            }

            fn lane_policy(&self) -> LanePolicy {
                $lanes
            }

            async fn latest(&self, room: RoomId, limit: u32) -> StoreResult<Page> {
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

            async fn before(&self, room: RoomId, before_seq: u64, limit: u32) -> StoreResult<Page> {
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

            async fn events_after(&self, room: RoomId, after_seq: u64, limit: u32) -> StoreResult<Vec<Event>> {
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
                self.with_threads(events.iter_mut().map(|e| &mut e.message)).await?;
                Ok(events)
            }

            async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
                let Some(mut message) = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where id = $1"))
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .map(Message::from)
                else {
                    return Ok(None);
                };
                message.reactions = Self::reactions_of(&self.read, id).await?;
                self.with_threads(std::iter::once(&mut message)).await?;
                Ok(Some(message))
            }

            async fn thread(&self, room: RoomId, root: MessageId, limit: u32) -> StoreResult<Option<Thread>> {
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
                }
                Ok(Some(Thread { root, replies, has_more }))
            }

            async fn mark_thread_read(&self, root: MessageId, user: UserId, seq: u64) -> StoreResult<u64> {
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

            async fn thread_reads(&self, room: RoomId, user: UserId) -> StoreResult<Vec<(MessageId, u64)>> {
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

            async fn search(&self, reader: UserId, query: &str, limit: u32) -> StoreResult<Vec<Message>> {
                let terms = protocol::search::terms(query);
                if terms.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(sqlx::query_as::<_, MessageRow>($dialect::SEARCH)
                    .bind(reader.0)
                    .bind($dialect::full_text_query(&terms))
                    .bind(limit_in(limit))
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(Message::from)
                    .collect())
            }
        }
    };
}

/// Postgres write lanes per process (see [`LanePolicy::Sharded`]); the pool has 16
/// connections, so reads are never starved by writes.
const PG_LANES: u16 = 8;

sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    "sqlite",
    sqlite_dialect,
    LanePolicy::Single
);
sql_store!(
    PgStore,
    sqlx::Postgres,
    "postgres",
    pg_dialect,
    LanePolicy::Sharded { lanes: PG_LANES }
);
