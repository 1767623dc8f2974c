//! Group commit. [`GroupCommit::write`] queues a command on a *lane*; the lane task takes every
//! command waiting (up to a bound) and applies them in one transaction with
//! [`Store::write_rooms`]. Under load many sends share one commit; a lone send commits at
//! once. A caller gets its outcome only after commit.
//!
//! An optional commit hook ([`OnCommit`]) sees every applied event right after its
//! transaction commits and before any caller hears back, in seq order per room within
//! this process, a batch's events in one call: the gateway publishes from there, and
//! writes each subscriber once per batch.
//!
//! Lanes follow the backend's [`LanePolicy`]: a few on Postgres, each serving a fixed
//! share of the rooms (lanes commit in parallel; each transaction covers every room of its
//! share that has writes waiting), one for all rooms on SQLite (a single writer; one fsync
//! per batch). A room always maps to the same lane, which keeps its writes in order.
//!
//! Lanes are created on first use and end after a quiet period. A lane retires only
//! while holding the lane map's lock and after seeing its queue empty, so no queued
//! command is ever dropped: a sender that raced the retirement finds its send refused
//! and starts a new lane. Commands queued on one lane are applied in queue order, so one
//! connection's sends get increasing seqs.

use protocol::ids::RoomId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use crate::error::{StoreError, WriteError};
use crate::model::{Event, WriteCommand, WriteOutcome};
use crate::{LanePolicy, Store};

/// How a queued write ended.
#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    /// The command was refused; nothing was written for it.
    #[error(transparent)]
    Refused(#[from] WriteError),
    /// The batch's transaction failed; nothing of it was written.
    #[error("the store failed: {0}")]
    Store(Arc<StoreError>),
    /// The writer is shutting down.
    #[error("the writer stopped")]
    Stopped,
}

/// Tuning for [`GroupCommit`].
#[derive(Debug, Clone, Copy)]
pub struct GroupCommitConfig {
    /// Most commands in one transaction.
    pub max_batch: usize,
    /// Commands that may wait on one lane before senders wait too.
    pub queue: usize,
    /// A lane with nothing to do for this long ends.
    pub idle: Duration,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        GroupCommitConfig {
            max_batch: 256,
            queue: 4096,
            idle: Duration::from_secs(30),
        }
    }
}

struct Job {
    room: RoomId,
    command: WriteCommand,
    reply: oneshot::Sender<Result<WriteOutcome, WriteFailure>>,
}

/// Called with a batch's applied events after its commit, in commit order (none when
/// nothing was applied).
pub type OnCommit = Arc<dyn Fn(&[&Event]) + Send + Sync>;

/// Lanes by number.
type Lanes = Arc<Mutex<HashMap<u16, mpsc::Sender<Job>>>>;

/// The lane that serves `room` under `policy`.
fn lane_of(policy: LanePolicy, room: RoomId) -> u16 {
    match policy {
        LanePolicy::Single => 0,
        // A v7 id's low bits are random: rooms spread evenly.
        LanePolicy::Sharded { lanes } => (room.0.as_u64_pair().1 % u64::from(lanes.max(1))) as u16,
    }
}

/// The group-commit writer, shared by every connection of a process. (Named for what it
/// does: the server has a WebSocket writer of its own.)
#[derive(Clone)]
pub struct GroupCommit {
    store: Arc<dyn Store>,
    lanes: Lanes,
    config: GroupCommitConfig,
    on_commit: Option<OnCommit>,
}

impl GroupCommit {
    /// A writer over `store`.
    pub fn new(store: Arc<dyn Store>, config: GroupCommitConfig) -> GroupCommit {
        GroupCommit {
            store,
            lanes: Arc::new(Mutex::new(HashMap::new())),
            config,
            on_commit: None,
        }
    }

    /// A writer that calls `hook` with every applied event after commit.
    pub fn with_on_commit(
        store: Arc<dyn Store>,
        config: GroupCommitConfig,
        hook: OnCommit,
    ) -> GroupCommit {
        GroupCommit {
            on_commit: Some(hook),
            ..GroupCommit::new(store, config)
        }
    }

    /// Applies `command` to `room`, batched with whatever else is waiting on that room's lane.
    pub async fn write(
        &self,
        room: RoomId,
        command: WriteCommand,
    ) -> Result<WriteOutcome, WriteFailure> {
        self.submit(room, command).await.outcome().await
    }

    /// Queues `command` on its room's lane and returns once it is queued (waiting only
    /// while the lane's queue is full); the commit's outcome comes through the returned
    /// [`Committing`]. Commands submitted one after another are applied in that order,
    /// so a caller may submit several before waiting for the first outcome.
    pub async fn submit(&self, room: RoomId, command: WriteCommand) -> Committing {
        let (reply, outcome) = oneshot::channel();
        let mut job = Job {
            room,
            command,
            reply,
        };
        let key = lane_of(self.store.lane_policy(), room);
        loop {
            let lane = self.lane(key);
            match lane.send(job).await {
                Ok(()) => break,
                // The lane retired between lookup and send; the job comes back unsent.
                Err(mpsc::error::SendError(returned)) => job = returned,
            }
        }
        Committing { outcome }
    }

    /// Number of lanes currently running.
    pub fn lanes(&self) -> usize {
        self.lanes.lock().expect("lane map lock").len()
    }

    fn lane(&self, key: u16) -> mpsc::Sender<Job> {
        let mut lanes = self.lanes.lock().expect("lane map lock");
        if let Some(tx) = lanes.get(&key)
            && !tx.is_closed()
        {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(self.config.queue);
        lanes.insert(key, tx.clone());
        tokio::spawn(run_lane(
            key,
            rx,
            tx.clone(),
            self.store.clone(),
            self.lanes.clone(),
            self.config,
            self.on_commit.clone(),
        ));
        tx
    }
}

/// A command queued on its lane, waiting for its commit.
#[must_use = "the outcome says whether the command was applied"]
pub struct Committing {
    outcome: oneshot::Receiver<Result<WriteOutcome, WriteFailure>>,
}

impl Committing {
    /// The command's outcome, once its batch has committed (or failed).
    pub async fn outcome(self) -> Result<WriteOutcome, WriteFailure> {
        self.outcome.await.unwrap_or(Err(WriteFailure::Stopped))
    }
}

async fn run_lane(
    key: u16,
    mut rx: mpsc::Receiver<Job>,
    me: mpsc::Sender<Job>,
    store: Arc<dyn Store>,
    lanes: Lanes,
    config: GroupCommitConfig,
    on_commit: Option<OnCommit>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(config.max_batch);
    loop {
        let first = match tokio::time::timeout(config.idle, rx.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_idle) => {
                let mut map = lanes.lock().expect("lane map lock");
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(_) => {
                        if map.get(&key).is_some_and(|tx| tx.same_channel(&me)) {
                            map.remove(&key);
                        }
                        // Dropping `rx` while holding the lock: a sender that looked us up
                        // earlier gets its job back and starts a new lane.
                        drop(rx);
                        return;
                    }
                }
            }
        };
        batch.push(first);
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Group by room, keeping each room's commands in queue order.
        let mut rooms: Vec<(RoomId, Vec<WriteCommand>)> = Vec::new();
        let mut slots: Vec<(usize, usize)> = Vec::with_capacity(batch.len());
        for job in &batch {
            let r = match rooms.iter().position(|(room, _)| *room == job.room) {
                Some(r) => r,
                None => {
                    rooms.push((job.room, Vec::new()));
                    rooms.len() - 1
                }
            };
            slots.push((r, rooms[r].1.len()));
            rooms[r].1.push(job.command.clone());
        }
        metrics::histogram!("confab_append_batch_size").record(batch.len() as f64);
        let started = std::time::Instant::now();
        let written = store.write_rooms(&rooms).await;
        metrics::histogram!("confab_commit_seconds").record(started.elapsed().as_secs_f64());
        match written {
            Ok(mut results) => {
                if let Some(hook) = &on_commit {
                    let applied: Vec<&Event> = results
                        .iter()
                        .flatten()
                        .filter_map(|r| match r {
                            Ok(WriteOutcome::Applied(event)) => Some(event),
                            _ => None,
                        })
                        .collect();
                    if !applied.is_empty() {
                        hook(&applied);
                    }
                }
                for (job, (r, i)) in batch.drain(..).zip(slots) {
                    let result = std::mem::replace(&mut results[r][i], Err(WriteError::NoSuchRoom));
                    let _ = job.reply.send(result.map_err(WriteFailure::from));
                }
            }
            Err(err) => {
                tracing::warn!(lane = %key, cause = %err, size = batch.len(), "write batch failed");
                let err = Arc::new(err);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(WriteFailure::Store(err.clone())));
                }
            }
        }
    }
}
