//! The SQLite backend ([`SqliteStore`], the embedded default: one file under the data
//! folder) and every way SQLite differs from Postgres here: opening the pools, the engine
//! name and lane policy, how a write transaction begins and locks the batch's rooms, the
//! statements whose SQL differs, and the send thread ([`super::sqlite_sends`]) that takes
//! batches of plain sends.
//!
//! SQLite keeps a pool of readers under WAL and one sqlx writer connection; batches made
//! only of new messages are written by a second connection on its own thread
//! ([`SendThread`]). Every SQLite write transaction begins `immediate`, so the two writers
//! queue on the file's write lock (busy timeout) and never fail on a stale snapshot.

use protocol::ids::{FileId, RoomId};
use uuid::Uuid;

use super::account_reads::AccountReads;
use super::public_joins::PublicJoins;
use super::rows::seq_in;
use super::sqlite_files::FileFolder;
use super::sqlite_sends::SendThread;
use crate::batch::Outcomes;
use crate::error::StoreError;
use crate::model::{EventKind, FilePart, Message, WriteCommand};
use crate::token_uses::TokenUses;
use crate::{LanePolicy, StoreResult};

/// The embedded default backend: one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pub(super) read: sqlx::SqlitePool,
    pub(super) write: sqlx::SqlitePool,
    /// Batches of plain sends, applied in one hand-off (none for an in-memory database,
    /// which only its own connection sees).
    sends: Option<std::sync::Arc<SendThread>>,
    /// Token uses, written by a background task (see [`TokenUses`]).
    pub(super) token_uses: TokenUses,
    /// The reads that authenticate a connection, in batches (see [`AccountReads`]).
    pub(super) account_reads: AccountReads,
    /// Joins of public rooms, in batches (see [`PublicJoins`]).
    pub(super) public_joins: PublicJoins,
    /// Whether writes work (see [`crate::write_health`]).
    pub(super) health: std::sync::Arc<crate::write_health::WriteHealth>,
    /// Where the bytes of uploaded files live (see [`FileFolder`]).
    files: FileFolder,
}

/// The database type of the queries.
pub type Db = sqlx::Sqlite;

/// What [`Store::engine`](crate::Store::engine) says.
pub const ENGINE: &str = "sqlite";

/// One lane for all rooms: SQLite takes one writer at a time anyway, and one transaction
/// for every room pays one fsync per batch.
pub const LANE_POLICY: LanePolicy = LanePolicy::Single;

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
        let in_memory = url.contains(":memory:");
        let files = FileFolder::beside((!in_memory).then(|| options.get_filename()))
            .map_err(|e| StoreError::Storage(Box::new(e)))?;
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
        let token_uses = SqliteStore::token_use_writer(write.clone());
        let account_reads = SqliteStore::account_reads(read.clone());
        let public_joins = SqliteStore::public_joins(write.clone());
        Ok(SqliteStore {
            files,
            read,
            write,
            sends,
            token_uses,
            account_reads,
            public_joins,
            health: Default::default(),
        })
    }
}

impl SqliteStore {
    /// Applies a batch of plain sends through the send thread; `None` when the batch must
    /// go the general way (see [`SendThread`]), an error when the database cannot write.
    pub(super) async fn fast_sends(
        &self,
        batches: &[(RoomId, &[WriteCommand])],
    ) -> Option<StoreResult<Outcomes>> {
        match &self.sends {
            Some(sends) if SendThread::takes(batches) => sends.apply(batches).await,
            _ => None,
        }
    }
}

/// File bytes are on disk ([`FileFolder`]): written before the record's transaction,
/// removed by the purge sweep before the record.
impl SqliteStore {
    pub(super) async fn put_parts_outside(
        &self,
        id: FileId,
        original: &[u8],
        thumb: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.files.put(id, original, thumb).await
    }

    pub(super) async fn put_parts_inside(
        _tx: &mut sqlx::Transaction<'static, Db>,
        _id: FileId,
        _original: &[u8],
        _thumb: Option<&[u8]>,
    ) -> StoreResult<()> {
        Ok(())
    }

    pub(super) async fn read_part(
        &self,
        id: FileId,
        part: FilePart,
    ) -> StoreResult<Option<Vec<u8>>> {
        self.files.read(id, part).await
    }

    pub(super) async fn drop_parts(&self, id: FileId) {
        self.files.remove(id).await
    }
}

/// Reads the last seq of each of `rooms` and whether it is archived; unknown rooms are
/// absent. Nothing to lock: a write transaction here holds the database's one write lock
/// from its first statement ([`BEGIN_WRITE`]).
pub async fn lock_rooms(
    conn: &mut sqlx::SqliteConnection,
    rooms: &[Uuid],
) -> Result<Vec<(Uuid, i64, bool)>, sqlx::Error> {
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "select id, last_seq, archived_at is not null from rooms where id in (",
    );
    let mut ids = query.separated(", ");
    for room in rooms {
        ids.push_bind(*room);
    }
    query.push(")");
    // The text varies with the batch's size: not worth a prepared statement each.
    query
        .build_query_as()
        .persistent(false)
        .fetch_all(conn)
        .await
}

/// Stores each room's new last seq, in one statement.
pub async fn store_last_seqs(
    conn: &mut sqlx::SqliteConnection,
    rooms: &[(RoomId, u64)],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new("update rooms set last_seq = case id");
    for (room, seq) in rooms {
        query
            .push(" when ")
            .push_bind(room.0)
            .push(" then ")
            .push_bind(seq_in(*seq));
    }
    query.push(" end where id in (");
    let mut ids = query.separated(", ");
    for (room, _) in rooms {
        ids.push_bind(room.0);
    }
    query.push(")");
    query.build().persistent(false).execute(conn).await?;
    Ok(())
}

/// Begins a write transaction holding the write lock at once: with two write
/// connections (sqlx's and the send thread's), a transaction that read first and
/// wrote later could fail on a stale snapshot; this one waits its turn instead.
pub const BEGIN_WRITE: &str = "begin immediate";

/// Inserts new messages and the events that created them, with one multi-row statement
/// each. A stored `(room, author, client_msg_id)` is skipped; if any was, no event is
/// written (the caller rolls back and tries again). Returns the ids written.
pub async fn insert_messages_and_events(
    conn: &mut sqlx::SqliteConnection,
    rows: &[Message],
) -> Result<Vec<Uuid>, sqlx::Error> {
    let written = insert_messages(&mut *conn, rows).await?;
    if written.len() == rows.len() {
        insert_message_events(conn, rows).await?;
    }
    Ok(written)
}

/// Inserts new messages with one multi-row statement; a stored `(room, author,
/// client_msg_id)` is skipped. Returns the ids written.
async fn insert_messages(
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
async fn insert_message_events(
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

/// Moves a read marker forward to $3, never back and never past the room's last seq
/// (`max`/`min`; Postgres spells them `greatest`/`least`).
pub const MARK_READ: &str = "update memberships set last_read_seq = \
    max(last_read_seq, min($3, (select last_seq from rooms where id = $1))) \
    where room_id = $1 and user_id = $2 returning last_read_seq";

/// Full-text search (FTS5, `message_search` mirrors `messages.body`): $1 the reader
/// (only rooms they are a member of), $2 [`full_text_query`], $3 the limit. FTS5's
/// `rank` is bm25, lower is better.
pub const SEARCH: &str = "select m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, \
     m.created_at, m.edited_at, m.deleted, m.thread_root_id, \
     m.removed_by, m.pinned_by, m.pinned_at, m.notice, m.notice_user, m.notice_detail \
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WriteError;
    use crate::model::RoomKind;
    use crate::model::WriteOutcome;
    use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};
    use uuid::Uuid;

    fn send(author: protocol::ids::UserId, cmid: &str) -> WriteCommand {
        WriteCommand::Send {
            author,
            client_msg_id: ClientMsgId::parse(cmid).unwrap(),
            body: Body::parse("hello").unwrap(),
            files: Vec::new(),
        }
    }

    /// A file store with one user and two rooms.
    async fn store() -> (
        tempfile::TempDir,
        SqliteStore,
        protocol::ids::UserId,
        [RoomId; 2],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let ana = store
            .create_user(
                &Handle::parse("ana").unwrap(),
                &DisplayName::parse("Ana").unwrap(),
                "h",
            )
            .await
            .unwrap();
        let mut rooms = Vec::new();
        for name in ["one", "two"] {
            let room = store
                .create_room(
                    ana.id,
                    RoomKind::Public,
                    &RoomName::parse(name).unwrap(),
                    "",
                )
                .await
                .unwrap();
            rooms.push(room.id);
        }
        (dir, store, ana.id, [rooms[0], rooms[1]])
    }

    #[tokio::test]
    async fn a_batch_of_sends_is_applied_in_one_hand_off_and_stored() {
        let (_dir, store, ana, [one, two]) = store().await;
        let ghost = RoomId(Uuid::now_v7());
        let (a, d) = (send(ana, "a"), send(ana, "d"));
        let bc = [send(ana, "b"), send(ana, "c")];
        let batches: Vec<(RoomId, &[WriteCommand])> = vec![
            (two, std::slice::from_ref(&a)),
            (one, &bc[..]),
            (ghost, std::slice::from_ref(&d)),
        ];
        let outcomes = store
            .fast_sends(&batches)
            .await
            .expect("the fast path took it")
            .expect("it committed");
        let seqs = |i: usize| -> Vec<u64> {
            outcomes[i]
                .iter()
                .map(|o| match o {
                    Ok(WriteOutcome::Applied(e)) => e.seq,
                    other => panic!("expected an applied send, got {other:?}"),
                })
                .collect()
        };
        assert_eq!(seqs(0), vec![1]);
        assert_eq!(seqs(1), vec![1, 2]);
        assert!(matches!(outcomes[2][..], [Err(WriteError::NoSuchRoom)]));
        // What the sqlx side reads back is what the thread wrote.
        assert_eq!(store.room(one).await.unwrap().unwrap().last_seq, 2);
        assert_eq!(store.room(two).await.unwrap().unwrap().last_seq, 1);
        let events = store.events_after(one, 0, 10).await.unwrap();
        let stored: Vec<(u64, String)> = events
            .iter()
            .map(|e| (e.seq, e.message.client_msg_id.clone()))
            .collect();
        assert_eq!(stored, vec![(1, "b".to_string()), (2, "c".to_string())]);
        assert_eq!(events[0].message.author_id, ana);
    }

    #[tokio::test]
    async fn a_retried_send_or_any_other_command_goes_the_general_way() {
        let (_dir, store, ana, [one, _]) = store().await;
        let first = send(ana, "a");
        let batch: Vec<(RoomId, &[WriteCommand])> = vec![(one, std::slice::from_ref(&first))];
        assert!(store.fast_sends(&batch).await.is_some());
        // A retry of the stored send, with a new one: rolled back whole, nothing written.
        let again = [send(ana, "new"), send(ana, "a")];
        let batch: Vec<(RoomId, &[WriteCommand])> = vec![(one, &again[..])];
        assert!(store.fast_sends(&batch).await.is_none());
        assert_eq!(store.room(one).await.unwrap().unwrap().last_seq, 1);
        // The general way answers it: the retry is the original, the new send takes seq 2.
        let outcomes = store.write_rooms(&[(one, again.to_vec())]).await.unwrap();
        assert!(matches!(&outcomes[0][0], Ok(WriteOutcome::Applied(e)) if e.seq == 2));
        assert!(matches!(&outcomes[0][1], Ok(WriteOutcome::Duplicate(e)) if e.seq == 1));
        // Not a plain send: not taken.
        let message = store.events_after(one, 0, 1).await.unwrap()[0].message.id;
        let edit = [WriteCommand::Edit {
            author: ana,
            message,
            body: Body::parse("edited").unwrap(),
        }];
        let batch: Vec<(RoomId, &[WriteCommand])> = vec![(one, &edit[..])];
        assert!(!SendThread::takes(&batch));
    }
}
