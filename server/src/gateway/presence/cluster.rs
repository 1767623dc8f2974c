//! Presence on a cluster: the [`Reach`] that shares this node's presence with the others
//! through Redis ([`RedisPresence`]) and merges theirs into rosters and totals.
//!
//! This node's writes (joins, status rewrites, leaves) are applied in order by one task,
//! so a join is never overtaken by the leave that follows it; a leave is announced here
//! only when the user is gone from every node. The heartbeat keeps this node registered
//! and announces the leaves of the users of nodes that died.
//!
//! A node taken for dead while it lives (paused with SIGSTOP, or cut from Redis, past
//! [`super::NODE_TTL`]) finds out at its next heartbeat: the others have removed its entries
//! and announced its users' leaves. It rejoins cleanly: it records everyone still
//! connected here again and announces them as joins, so every node's clients list them
//! again, once each (entries are per node and user). Users inside a grace period are not
//! among them: their connections are gone (those that died during a pause end as soon as
//! the node runs again, before its first heartbeat's answer comes back from Redis), their
//! leave was announced already, and coming back is a join like any other.

use async_trait::async_trait;
use protocol::ids::{RoomId, UserId};
use protocol::{PresenceEntry, UserView};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::diffs::PresenceDiffs;
use super::local::LocalPresence;
use super::{HEARTBEAT, Presence, Reach, RedisPresence, Statuses};

/// How long a node taken for dead waits before announcing its users again.
const REJOIN_SETTLE: Duration = Duration::from_millis(500);

/// A change of this node's presence, for the cluster.
enum Op {
    Join(RoomId, UserView),
    Leave(RoomId, UserId),
}

/// Presence shared by the nodes of a cluster.
pub struct ClusterReach {
    redis: Arc<RedisPresence>,
    ops: mpsc::UnboundedSender<Op>,
}

impl ClusterReach {
    /// Starts the task that applies this node's writes; it ends when the reach is dropped.
    pub fn start(
        redis: RedisPresence,
        statuses: Arc<Statuses>,
        diffs: Arc<PresenceDiffs>,
    ) -> ClusterReach {
        let redis = Arc::new(redis);
        let (ops, mut queue) = mpsc::unbounded_channel();
        let writer = redis.clone();
        tokio::spawn(async move {
            while let Some(op) = queue.recv().await {
                match op {
                    // The entry is built as it is written, with the status of that moment.
                    Op::Join(room, user) => {
                        writer
                            .join(room, &Presence::entry(&statuses, user, 1))
                            .await
                    }
                    // Gone from this node; the cluster says whether they are gone.
                    Op::Leave(room, user) => {
                        if writer.leave(room, user).await {
                            diffs.left(room, user);
                        }
                    }
                }
            }
        });
        ClusterReach { redis, ops }
    }
}

#[async_trait]
impl Reach for ClusterReach {
    fn joined(&self, room: RoomId, user: UserView, diffs: &PresenceDiffs) {
        let _ = self.ops.send(Op::Join(room, user.clone()));
        diffs.joined(room, user);
    }

    fn left(&self, room: RoomId, user: UserId, _diffs: &PresenceDiffs) {
        let _ = self.ops.send(Op::Leave(room, user));
    }

    /// Rewritten with the new status, for rosters read on other nodes.
    fn restated(&self, room: RoomId, user: UserView) {
        let _ = self.ops.send(Op::Join(room, user));
    }

    /// Everyone present through any node; this node knows its own users best (a user
    /// present here too is listed as this node knows them).
    async fn roster(
        &self,
        room: RoomId,
        here: &LocalPresence,
        entry: &(dyn Fn(UserView, u32) -> PresenceEntry + Sync),
        max: usize,
    ) -> (usize, Vec<PresenceEntry>) {
        let elsewhere = self.redis.roster_elsewhere(room).await;
        let mut all: Vec<PresenceEntry> = here
            .members(room)
            .into_iter()
            .map(|(user, devices)| entry(user, devices))
            .collect();
        let mine: HashSet<UserId> = all.iter().map(|e| e.user.id).collect();
        all.extend(elsewhere.into_iter().filter(|e| !mine.contains(&e.user.id)));
        all.sort_by(|a, b| a.user.handle.cmp(&b.user.handle));
        let total = all.len();
        all.truncate(max);
        (total, all)
    }

    async fn total(&self, room: RoomId, here: &LocalPresence) -> u32 {
        let mut users = self.redis.present_users(room).await;
        users.extend(here.members(room).into_iter().map(|(u, _)| u.id));
        users.len() as u32
    }

    fn heartbeat_every(&self) -> Option<Duration> {
        Some(HEARTBEAT)
    }

    async fn heartbeat(&self, here: &LocalPresence, diffs: &PresenceDiffs) {
        if self.redis.heartbeat().await {
            tracing::warn!("this node was taken for dead: recording its presence again");
            // Taken for dead usually means this process did not run (paused, starved):
            // the kernel holds what its sockets received meanwhile, closes included. Let
            // the connections read that first, so that one which died in the pause is
            // not announced again (a ghost) only to leave a moment later.
            tokio::time::sleep(REJOIN_SETTLE).await;
            // Its users' leaves were announced everywhere (here too, through the broker):
            // those still connected are announced again as joins.
            for (room, user) in here.rejoin() {
                let _ = self.ops.send(Op::Join(room, user.clone()));
                diffs.joined(room, user);
            }
        }
        for (room, user) in self.redis.reap().await {
            diffs.left(room, user);
        }
    }

    async fn retire(&self) {
        self.redis.retire().await
    }
}
