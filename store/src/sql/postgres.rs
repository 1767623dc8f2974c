//! The Postgres backend ([`PgStore`]) and every way Postgres differs from SQLite here:
//! the pool, the engine name and lane policy, how a write transaction begins and locks the
//! batch's rooms (row locks, in id order), and the statements whose SQL differs. Postgres
//! has no send thread: every batch goes the general way. One pool serves reads and writes.

use protocol::ids::{FileId, RoomId};
use uuid::Uuid;

use super::account_reads::AccountReads;
use super::public_joins::PublicJoins;
use super::rows::seq_in;
use crate::batch::Outcomes;
use crate::model::{EventKind, FilePart, Message, WriteCommand};
use crate::token_uses::TokenUses;
use crate::{LanePolicy, StoreResult};

/// The Postgres backend.
#[derive(Clone)]
pub struct PgStore {
    pub(super) read: sqlx::PgPool,
    pub(super) write: sqlx::PgPool,
    /// Token uses, written by a background task (see [`TokenUses`]).
    pub(super) token_uses: TokenUses,
    /// The reads that authenticate a connection, in batches (see [`AccountReads`]).
    pub(super) account_reads: AccountReads,
    /// Joins of public rooms, in batches (see [`PublicJoins`]).
    pub(super) public_joins: PublicJoins,
    /// Whether writes work (see [`crate::write_health`]).
    pub(super) health: std::sync::Arc<crate::write_health::WriteHealth>,
}

/// The database type of the queries.
pub type Db = sqlx::Postgres;

/// What [`Store::engine`](crate::Store::engine) says.
pub const ENGINE: &str = "postgres";

/// Postgres write lanes per process (see [`LanePolicy::Sharded`]); the pool has 16
/// connections, so reads are never starved by writes.
const PG_LANES: u16 = 8;

/// Rooms spread over [`PG_LANES`] lanes that commit in parallel.
pub const LANE_POLICY: LanePolicy = LanePolicy::Sharded { lanes: PG_LANES };

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
            token_uses: PgStore::token_use_writer(pool.clone()),
            account_reads: PgStore::account_reads(pool.clone()),
            public_joins: PgStore::public_joins(pool.clone()),
            write: pool,
            health: Default::default(),
        })
    }
}

impl PgStore {
    /// Postgres has no fast path: every batch goes the general way.
    pub(super) async fn fast_sends(
        &self,
        _batches: &[(RoomId, &[WriteCommand])],
    ) -> Option<StoreResult<Outcomes>> {
        None
    }
}

/// Locks the rows of `rooms` and reads each one's last seq and whether it is archived;
/// unknown rooms are absent. Rows are locked in id order, so concurrent writers (on any
/// node) queue on them and never deadlock. One array parameter: prepared once per
/// connection whatever the batch's size.
pub async fn lock_rooms(
    conn: &mut sqlx::PgConnection,
    rooms: &[Uuid],
) -> Result<Vec<(Uuid, i64, bool)>, sqlx::Error> {
    sqlx::query_as(
        "select id, last_seq, archived_at is not null from rooms \
         where id = any($1::uuid[]) order by id for update",
    )
    .bind(rooms)
    .fetch_all(conn)
    .await
}

/// Stores each room's new last seq, in one statement prepared once per connection.
pub async fn store_last_seqs(
    conn: &mut sqlx::PgConnection,
    rooms: &[(RoomId, u64)],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update rooms set last_seq = t.seq \
         from unnest($1::uuid[], $2::int8[]) as t(id, seq) where rooms.id = t.id",
    )
    .bind(rooms.iter().map(|(room, _)| room.0).collect::<Vec<_>>())
    .bind(
        rooms
            .iter()
            .map(|(_, seq)| seq_in(*seq))
            .collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Begins a write transaction (rows are locked by the statements themselves).
pub const BEGIN_WRITE: &str = "begin";

/// Inserts new messages and the events that created them, in one statement whatever
/// their number: each column is one array parameter (`unnest`), so the statement is
/// prepared once per connection, and the events are inserted from the messages' own
/// `returning` rows (a data-modifying `with`), so one round trip writes both. A stored
/// `(room, author, client_msg_id)` is skipped, with no event. Returns the ids written.
pub async fn insert_messages_and_events(
    conn: &mut sqlx::PgConnection,
    rows: &[Message],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "with written as ( \
             insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted) \
             select id, room_id, seq, author_id, body, client_msg_id, created_at, false \
             from unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::int8[]) \
                  as t(id, room_id, seq, author_id, body, client_msg_id, created_at) \
             on conflict (room_id, author_id, client_msg_id) do nothing \
             returning id, room_id, seq, created_at), \
         events as ( \
             insert into room_events (room_id, seq, kind, message_id, created_at) \
             select room_id, seq, $8, id, created_at from written) \
         select id from written",
    )
    .bind(rows.iter().map(|m| m.id.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| m.room_id.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| seq_in(m.seq)).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| m.author_id.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| m.body.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| m.client_msg_id.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .bind(EventKind::Message.as_str())
    .fetch_all(conn)
    .await
}

/// File bytes are rows of `file_blobs`, written in the record's transaction and removed
/// with the record (`on delete cascade`), so every node serves every file.
impl PgStore {
    pub(super) async fn put_parts_outside(
        &self,
        _id: FileId,
        _original: &[u8],
        _thumb: Option<&[u8]>,
    ) -> StoreResult<()> {
        Ok(())
    }

    pub(super) async fn put_parts_inside(
        tx: &mut sqlx::Transaction<'static, Db>,
        id: FileId,
        original: &[u8],
        thumb: Option<&[u8]>,
    ) -> StoreResult<()> {
        let parts = [
            (FilePart::Original, Some(original)),
            (FilePart::Thumb, thumb),
        ];
        for (part, bytes) in parts {
            let Some(bytes) = bytes else { continue };
            sqlx::query("insert into file_blobs (file_id, part, data) values ($1, $2, $3)")
                .bind(id.0)
                .bind(part.as_str())
                .bind(bytes)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn read_part(
        &self,
        id: FileId,
        part: FilePart,
    ) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("select data from file_blobs where file_id = $1 and part = $2")
                .bind(id.0)
                .bind(part.as_str())
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(data,)| data))
    }

    pub(super) async fn drop_parts(&self, _id: FileId) {}
}

/// Moves a read marker forward to $3, never back and never past the room's last seq
/// (`greatest`/`least`; SQLite spells them `max`/`min`).
pub const MARK_READ: &str = "update memberships set last_read_seq = \
    greatest(last_read_seq, least($3, (select last_seq from rooms where id = $1))) \
    where room_id = $1 and user_id = $2 returning last_read_seq";

/// Full-text search over `to_tsvector('simple', body)` (the `messages_search` GIN
/// index): $1 the reader (only rooms they are a member of), $2 [`full_text_query`],
/// $3 the limit. `simple` lower-cases and does not stem, as FTS5 here does.
pub const SEARCH: &str = "select m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, \
     m.created_at, m.edited_at, m.deleted, m.thread_root_id, \
     m.removed_by, m.pinned_by, m.pinned_at, m.notice, m.notice_user, m.notice_detail \
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
