//! SQLite's fast path for a group commit made only of new messages: one thread owns a
//! second write connection (rusqlite, the same SQLite library as sqlx's) and applies the
//! whole batch — room lock, seqs, inserts, last seqs, commit — in one hand-off.
//!
//! Why: sqlx runs a SQLite connection on its own thread and every statement is a round
//! trip to it; a send took six or seven of them (26–28 context switches on one core,
//! about half a millisecond of CPU), more than the statements themselves.
//!
//! The fast path only takes batches of plain sends; anything else (edits, deletes,
//! reactions, replies) goes the general way. It knows no retries: when a row it inserts
//! is already stored (a retried send), or anything fails, it rolls back and answers
//! `None`, and the caller applies the batch the general way, which handles both. Every
//! write transaction on this database begins `IMMEDIATE`, so two write connections wait
//! for each other (busy timeout) instead of failing on a stale snapshot.

use protocol::ids::RoomId;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params_from_iter, types::Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::batch::SendPlan;
use crate::error::WriteError;
use crate::model::{Message, WriteCommand, WriteOutcome, now_millis};
use crate::sql::seq_in;

/// Each room's outcomes, in the order of the batch.
pub(crate) type Outcomes = Vec<Vec<Result<WriteOutcome, WriteError>>>;

/// Rows per multi-row insert: 8 columns each, far below SQLite's 32,766 parameters.
const CHUNK: usize = 500;

struct Job {
    batches: Vec<(RoomId, Vec<WriteCommand>)>,
    reply: oneshot::Sender<Option<Outcomes>>,
}

/// The thread that applies batches of sends; it ends when this is dropped.
pub(crate) struct SendThread {
    jobs: mpsc::Sender<Job>,
}

impl SendThread {
    /// Opens the write connection to the database file at `path` (already migrated) and
    /// starts its thread.
    pub(crate) fn start(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<SendThread, Box<dyn std::error::Error + Send + Sync>> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        // The same durability as the sqlx connections (see `SqliteStore::open`).
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "full")?;
        conn.pragma_update(None, "foreign_keys", "on")?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("confab-sqlite-sends".into())
            .spawn(move || {
                let mut conn = conn;
                for job in queue {
                    let outcome = match apply(&mut conn, &job.batches) {
                        Ok(outcome) => outcome,
                        Err(err) => {
                            tracing::warn!(cause = %err, "sqlite send batch failed; retrying it the general way");
                            None
                        }
                    };
                    let _ = job.reply.send(outcome);
                }
            })?;
        Ok(SendThread { jobs })
    }

    /// Whether every command of `batches` is a plain send (what this path takes).
    pub(crate) fn takes(batches: &[(RoomId, &[WriteCommand])]) -> bool {
        batches.iter().all(|(_, commands)| {
            commands
                .iter()
                .all(|c| matches!(c, WriteCommand::Send { .. }))
        })
    }

    /// Applies `batches` (plain sends only) and commits; `None` when the caller must
    /// apply them the general way (nothing of them was written).
    pub(crate) async fn apply(&self, batches: &[(RoomId, &[WriteCommand])]) -> Option<Outcomes> {
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

/// One transaction for the whole batch; `Ok(None)` when a send turned out to be a retry.
fn apply(
    conn: &mut Connection,
    batches: &[(RoomId, Vec<WriteCommand>)],
) -> rusqlite::Result<Option<Outcomes>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut last = last_seqs(&tx, batches)?;
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
    for chunk in rows.chunks(CHUNK) {
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

/// The last seq of each of the batch's rooms that exists.
fn last_seqs(
    tx: &rusqlite::Transaction<'_>,
    batches: &[(RoomId, Vec<WriteCommand>)],
) -> rusqlite::Result<HashMap<RoomId, u64>> {
    let sql = format!(
        "select id, last_seq from rooms where id in ({})",
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
        out.insert(RoomId(id), u64::try_from(last).unwrap_or(0));
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::model::RoomKind;
    use crate::sql::SqliteStore;
    use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};

    fn send(author: protocol::ids::UserId, cmid: &str) -> WriteCommand {
        WriteCommand::Send {
            author,
            client_msg_id: ClientMsgId::parse(cmid).unwrap(),
            body: Body::parse("hello").unwrap(),
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
            .expect("the fast path took it");
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
