//! SQLite's fast path for a group commit made only of new messages: one thread owns a
//! second write connection (rusqlite, the same SQLite library as sqlx's) and applies the
//! whole batch — room lock, seqs, inserts, last seqs, commit — in one hand-off.
//!
//! Why: sqlx runs a SQLite connection on its own thread and every statement is a round
//! trip to it (a hand-off between threads); the general path takes several statements
//! per batch, and those hand-offs cost more CPU than the statements themselves. Here the
//! whole batch is one hand-off.
//!
//! The fast path only takes batches of plain sends; anything else (edits, deletes,
//! reactions, replies) goes the general way. It knows no retries: when a row it inserts
//! is already stored (a retried send), or anything fails, it rolls back and answers
//! `None`, and the caller applies the batch the general way ([`super::writes`]), which
//! handles both. Every write transaction on this database begins `IMMEDIATE`, so two
//! write connections wait for each other (busy timeout) instead of failing on a stale
//! snapshot.
//!
//! A database that cannot write (disk full, read-only file system, I/O error) is the one
//! failure it reports rather than hands on: the general way would only fail the same way,
//! later. The batch fails as a whole ([`StoreError::Storage`]; no send of it is acked), and
//! after any failure the thread makes sure its connection is left in no transaction
//! (rolling back, or opening a new connection if that fails), so the next batch starts
//! clean once space returns.

use protocol::ids::RoomId;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params_from_iter, types::Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::rows::seq_in;
use crate::StoreResult;
use crate::batch::{Outcomes, ROWS_PER_INSERT, SendPlan};
use crate::error::{StoreError, WriteError};
use crate::model::{Message, WriteCommand, now_millis};

struct Job {
    batches: Vec<(RoomId, Vec<WriteCommand>)>,
    reply: oneshot::Sender<Option<StoreResult<Outcomes>>>,
}

/// The thread that applies batches of sends; it ends when this is dropped.
pub(super) struct SendThread {
    jobs: mpsc::Sender<Job>,
}

impl SendThread {
    /// Opens the write connection to the database file at `path` (already migrated) and
    /// starts its thread.
    pub(super) fn start(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<SendThread, Box<dyn std::error::Error + Send + Sync>> {
        let conn = open(path, busy_timeout)?;
        let path = path.to_path_buf();
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("confab-sqlite-sends".into())
            .spawn(move || {
                let mut conn = conn;
                for job in queue {
                    let outcome = match apply(&mut conn, &job.batches) {
                        Ok(outcome) => outcome.map(Ok),
                        Err(err) => {
                            settle(&mut conn, &path, busy_timeout);
                            let cause = err.to_string();
                            match StoreError::from_rusqlite(err) {
                                Some(fault) => Some(Err(fault)),
                                None => {
                                    tracing::warn!(%cause, "sqlite send batch failed; retrying it the general way");
                                    None
                                }
                            }
                        }
                    };
                    let _ = job.reply.send(outcome);
                }
            })?;
        Ok(SendThread { jobs })
    }

    /// Whether every command of `batches` is a plain send (what this path takes).
    pub(super) fn takes(batches: &[(RoomId, &[WriteCommand])]) -> bool {
        batches.iter().all(|(_, commands)| {
            commands
                .iter()
                .all(|c| matches!(c, WriteCommand::Send { files, .. } if files.is_empty()))
        })
    }

    /// Applies `batches` (plain sends only) and commits; `None` when the caller must
    /// apply them the general way (nothing of them was written); a storage fault when the
    /// database cannot write (nothing of them was written either).
    pub(super) async fn apply(
        &self,
        batches: &[(RoomId, &[WriteCommand])],
    ) -> Option<StoreResult<Outcomes>> {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            batches: batches
                .iter()
                .map(|(room, c)| (*room, c.to_vec()))
                .collect(),
            reply,
        };
        self.jobs.send(job).ok()?;
        outcome.await.ok().flatten()
    }
}

/// The send thread's connection to the database file at `path` (already migrated).
fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    // The same durability as the sqlx connections (see `SqliteStore::open`).
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "full")?;
    conn.pragma_update(None, "foreign_keys", "on")?;
    Ok(conn)
}

/// After a failed batch: leaves `conn` in no transaction. Dropping the batch's transaction
/// rolled it back unless the rollback failed too (SQLite may also have rolled back by
/// itself, on a full disk); if a transaction is still open, roll it back, and if even that
/// fails, replace the connection, so that no lock or half transaction outlives the fault.
fn settle(conn: &mut Connection, path: &Path, busy_timeout: Duration) {
    if conn.is_autocommit() {
        return;
    }
    if let Err(err) = conn.execute_batch("rollback") {
        tracing::warn!(cause = %err, "the send thread's rollback failed");
    }
    if conn.is_autocommit() {
        return;
    }
    match open(path, busy_timeout) {
        Ok(fresh) => {
            tracing::warn!("the send thread's connection stayed in a transaction; replaced it");
            // Closing the old connection ends its transaction.
            drop(std::mem::replace(conn, fresh));
        }
        Err(err) => {
            tracing::error!(cause = %err, "the send thread could not reopen its connection")
        }
    }
}

/// One transaction for the whole batch; `Ok(None)` when a send turned out to be a retry.
fn apply(
    conn: &mut Connection,
    batches: &[(RoomId, Vec<WriteCommand>)],
) -> rusqlite::Result<Option<Outcomes>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(mut last) = last_seqs(&tx, batches)? else {
        // An archived room refuses sends: the general path says so.
        return Ok(None);
    };
    let now = now_millis();
    let mut plan = SendPlan::new([]);
    let mut results: Outcomes = Vec::with_capacity(batches.len());
    let mut advanced: Vec<RoomId> = Vec::new();
    // One write lock covers the file, so unlike the general path there is no room order
    // to keep.
    for (room, commands) in batches {
        let Some(&start) = last.get(room) else {
            results.push(
                commands
                    .iter()
                    .map(|_| Err(WriteError::NoSuchRoom))
                    .collect(),
            );
            continue;
        };
        let mut next = start;
        let outcomes = commands
            .iter()
            .map(|command| match command {
                WriteCommand::Send {
                    author,
                    client_msg_id,
                    body,
                    files: _,
                } => Ok(plan.send(
                    *room,
                    &mut next,
                    now,
                    *author,
                    client_msg_id.as_str(),
                    body.as_str(),
                )),
                // `SendThread::takes` let only sends through.
                _ => unreachable!("the fast path takes only sends"),
            })
            .collect();
        results.push(outcomes);
        if next != start {
            last.insert(*room, next);
            advanced.push(*room);
        }
    }
    let rows = plan.take_new_rows();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        if insert_messages(&tx, chunk)? < chunk.len() {
            // A retried send: the general path looks it up. Dropping `tx` rolls back.
            return Ok(None);
        }
        insert_events(&tx, chunk)?;
    }
    store_last_seqs(&tx, &advanced, &last)?;
    tx.commit()?;
    Ok(Some(results))
}

fn blob(id: Uuid) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

/// `?, ?, …` for `n` parameters.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The last seq of each of the batch's rooms that exists; `None` when one of them is
/// archived.
fn last_seqs(
    tx: &rusqlite::Transaction<'_>,
    batches: &[(RoomId, Vec<WriteCommand>)],
) -> rusqlite::Result<Option<HashMap<RoomId, u64>>> {
    let sql = format!(
        "select id, case when archived_at is null then last_seq else -1 end from rooms where id in ({})",
        marks(batches.len())
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params_from_iter(batches.iter().map(|(r, _)| blob(r.0))),
        |row| {
            let id: Vec<u8> = row.get(0)?;
            let last: i64 = row.get(1)?;
            Ok((id, last))
        },
    )?;
    let mut out = HashMap::with_capacity(batches.len());
    for row in rows {
        let (id, last) = row?;
        let id = Uuid::from_slice(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
        })?;
        if last < 0 {
            return Ok(None);
        }
        out.insert(RoomId(id), u64::try_from(last).unwrap_or(0));
    }
    Ok(Some(out))
}

/// Inserts `rows`, skipping any whose `(room, author, client_msg_id)` is stored; returns
/// how many were written.
fn insert_messages(tx: &rusqlite::Transaction<'_>, rows: &[Message]) -> rusqlite::Result<usize> {
    let sql = format!(
        "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted) values {} \
         on conflict (room_id, author_id, client_msg_id) do nothing",
        vec!["(?, ?, ?, ?, ?, ?, ?, 0)"; rows.len()].join(", ")
    );
    let params = rows.iter().flat_map(|m| {
        [
            blob(m.id.0),
            blob(m.room_id.0),
            Value::Integer(seq_in(m.seq)),
            blob(m.author_id.0),
            Value::Text(m.body.clone()),
            Value::Text(m.client_msg_id.clone()),
            Value::Integer(m.created_at),
        ]
    });
    tx.prepare_cached(&sql)?.execute(params_from_iter(params))
}

/// Records the events that created `rows`.
fn insert_events(tx: &rusqlite::Transaction<'_>, rows: &[Message]) -> rusqlite::Result<()> {
    let sql = format!(
        "insert into room_events (room_id, seq, kind, message_id, created_at) values {}",
        vec!["(?, ?, 'message', ?, ?)"; rows.len()].join(", ")
    );
    let params = rows.iter().flat_map(|m| {
        [
            blob(m.room_id.0),
            Value::Integer(seq_in(m.seq)),
            blob(m.id.0),
            Value::Integer(m.created_at),
        ]
    });
    tx.prepare_cached(&sql)?.execute(params_from_iter(params))?;
    Ok(())
}

/// Stores the new last seq of every room that advanced.
fn store_last_seqs(
    tx: &rusqlite::Transaction<'_>,
    rooms: &[RoomId],
    last: &HashMap<RoomId, u64>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("update rooms set last_seq = ? where id = ?")?;
    for room in rooms {
        stmt.execute((seq_in(last[room]), room.0.as_bytes().as_slice()))?;
    }
    Ok(())
}
