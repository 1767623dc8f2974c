//! Presence across the nodes of a cluster, kept in Redis next to each node's own
//! [`LocalPresence`](super::local::LocalPresence) (which still counts devices and holds the
//! grace period before a leave). [`super::cluster`] drives it.
//!
//! Layout (all under the cluster's prefix):
//! - `<p>:presence:<room>` (on a Redis Cluster `<p>:presence:{<room>}`, whose hash tag puts
//!   it in the slot of the room's sharded channel): a hash, one field `<node>:<user>` per user present in the room
//!   through that node, valued with the user's presence entry as that node knows it (JSON:
//!   the user's view, status and status line; rewritten when the status changes);
//! - `<p>:nodes`: a sorted set of node ids scored with their last heartbeat (Unix ms);
//! - `<p>:node:<node>:rooms`: the rooms where a node has entries, for clean-up.
//!
//! A node refreshes its heartbeat every [`HEARTBEAT`]. A node silent for [`NODE_TTL`] is
//! dead: the first live node to remove it from `<p>:nodes` deletes its entries and
//! announces a leave for every user it was the last node of. So the users of a node killed
//! with SIGKILL are gone everywhere within `NODE_TTL + HEARTBEAT` (about 10 s). A node that
//! finds itself removed (its Redis link was down too long) registers its presence again.
//! A node stopped gracefully retires at once, so its users leave within one heartbeat.
//!
//! On a Redis Cluster every command touches one key (or one key's slot), so each runs on
//! the shard that owns it; the join's two writes are sent one after the other there.
//!
//! Writes of one node are applied in order by one task (a join can never be overtaken by
//! the leave that follows it). Redis failures are logged and skipped: presence is
//! ephemeral, and the next heartbeat repairs what a lost write left behind.

use protocol::PresenceEntry;
use protocol::ids::{RoomId, UserId};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

use crate::gateway::broker::{BrokerError, now_ms};

/// How often a node refreshes its heartbeat and looks for dead nodes.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a node may go without a heartbeat before it counts as dead.
pub const NODE_TTL: Duration = Duration::from_secs(8);

/// The connection presence uses: to one Redis, or to a Redis Cluster.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// One node's handle on the cluster's presence.
pub struct RedisPresence {
    conn: Conn,
    prefix: String,
    node: String,
    /// Set by [`RedisPresence::retire`]: no more heartbeats.
    retired: AtomicBool,
}

impl RedisPresence {
    /// Connects to the Redis at `url`; fails when it does not answer now.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisPresence, BrokerError> {
        let unreachable = |e: redis::RedisError| BrokerError::Unreachable(e.to_string());
        let client = redis::Client::open(url).map_err(unreachable)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let conn = tokio::time::timeout(
            Duration::from_secs(4),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| BrokerError::Unreachable("connecting timed out".into()))?
        .map_err(unreachable)?;
        Ok(RedisPresence::start(Conn::Single(conn), prefix).await)
    }

    /// Connects to the Redis Cluster through the seed nodes `seeds`; fails when it does
    /// not answer now.
    pub async fn connect_cluster(
        seeds: &[String],
        prefix: &str,
    ) -> Result<RedisPresence, BrokerError> {
        let conn = crate::gateway::broker::cluster_connection(seeds, None).await?;
        Ok(RedisPresence::start(Conn::Cluster(conn), prefix).await)
    }

    async fn start(conn: Conn, prefix: &str) -> RedisPresence {
        let me = RedisPresence {
            conn,
            prefix: prefix.to_string(),
            node: format!("{:016x}", rand::random::<u64>()),
            retired: AtomicBool::new(false),
        };
        me.heartbeat().await;
        me
    }

    fn room_key(&self, room: RoomId) -> String {
        match self.conn {
            Conn::Single(_) => format!("{}:presence:{}", self.prefix, room.0),
            Conn::Cluster(_) => format!("{}:presence:{{{}}}", self.prefix, room.0),
        }
    }

    fn nodes_key(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    fn rooms_key(&self, node: &str) -> String {
        format!("{}:node:{node}:rooms", self.prefix)
    }

    fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// `entry.user` is present in `room` through this node (or their status changed).
    pub async fn join(&self, room: RoomId, entry: &PresenceEntry) {
        let value = serde_json::to_string(entry).unwrap_or_default();
        let field = format!("{}:{}", self.node, entry.user.id.0);
        let result = match self.conn() {
            mut conn @ Conn::Single(_) => {
                redis::pipe()
                    .hset(self.room_key(room), field, value)
                    .ignore()
                    .sadd(self.rooms_key(&self.node), room.0.to_string())
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
            }
            // Two keys in two slots: one command each (a cluster pipeline is one slot's).
            mut conn @ Conn::Cluster(_) => {
                let first = redis::cmd("HSET")
                    .arg(self.room_key(room))
                    .arg(field)
                    .arg(value)
                    .query_async::<()>(&mut conn)
                    .await;
                match first {
                    Ok(()) => {
                        redis::cmd("SADD")
                            .arg(self.rooms_key(&self.node))
                            .arg(room.0.to_string())
                            .query_async::<()>(&mut conn)
                            .await
                    }
                    Err(err) => Err(err),
                }
            }
        };
        if let Err(err) = result {
            tracing::warn!(cause = %err, "recording presence in Redis failed");
        }
    }

    /// `user` is no longer present in `room` through this node. True when no other live
    /// node has them there either (everyone should be told they left).
    pub async fn leave(&self, room: RoomId, user: UserId) -> bool {
        let field = format!("{}:{}", self.node, user.0);
        if let Err(err) = redis::cmd("HDEL")
            .arg(self.room_key(room))
            .arg(field)
            .query_async::<()>(&mut self.conn())
            .await
        {
            tracing::warn!(cause = %err, "removing presence from Redis failed");
        }
        !self.present(room, user).await
    }

    /// Whether `user` is present in `room` through a live node: one `HEXISTS` per live
    /// node (a handful), not the room's whole roster. Reading the roster on every leave
    /// made a crowd leaving a room of 5,000 parse 5,000 × 5,000 entries, which kept the
    /// node's core busy for minutes after the crowd was gone.
    async fn present(&self, room: RoomId, user: UserId) -> bool {
        let live = self.live_nodes().await;
        if live.is_empty() {
            return false;
        }
        let key = self.room_key(room);
        let mut pipe = redis::pipe();
        for node in &live {
            pipe.cmd("HEXISTS")
                .arg(&key)
                .arg(format!("{node}:{}", user.0));
        }
        match pipe.query_async::<Vec<bool>>(&mut self.conn()).await {
            Ok(found) => found.into_iter().any(|here| here),
            Err(err) => {
                tracing::warn!(cause = %err, "reading presence from Redis failed");
                false
            }
        }
    }

    /// The users present in `room` through a live node, read from the field names alone
    /// (no entry is parsed).
    pub async fn present_users(&self, room: RoomId) -> HashSet<UserId> {
        let mut cmd = redis::cmd("HKEYS");
        cmd.arg(self.room_key(room));
        let mut conn = self.conn();
        let (fields, live) =
            tokio::join!(cmd.query_async::<Vec<String>>(&mut conn), self.live_nodes());
        let fields = match fields {
            Ok(f) => f,
            Err(err) => {
                tracing::warn!(cause = %err, "reading presence from Redis failed");
                return HashSet::new();
            }
        };
        fields
            .iter()
            .filter_map(|field| field.split_once(':'))
            .filter(|(node, _)| live.contains(*node))
            .filter_map(|(_, user)| Uuid::parse_str(user).ok().map(UserId))
            .collect()
    }

    /// Everyone present in `room` through another live node. This node's own entries are
    /// not parsed: its [`LocalPresence`](super::local::LocalPresence) is the truth about
    /// them, and ahead of what its writer task has written here. See [`merge_entries`].
    pub async fn roster_elsewhere(&self, room: RoomId) -> Vec<PresenceEntry> {
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(self.room_key(room));
        let mut conn = self.conn();
        let (entries, live) = tokio::join!(
            cmd.query_async::<Vec<(String, String)>>(&mut conn),
            self.live_nodes()
        );
        match entries {
            Ok(entries) => merge_entries(entries, &live, &self.node),
            Err(err) => {
                tracing::warn!(cause = %err, "reading presence from Redis failed");
                Vec::new()
            }
        }
    }

    /// Nodes whose heartbeat is recent enough.
    async fn live_nodes(&self) -> HashSet<String> {
        let since = now_ms() - NODE_TTL.as_millis() as i64;
        redis::cmd("ZRANGEBYSCORE")
            .arg(self.nodes_key())
            .arg(since)
            .arg("+inf")
            .query_async::<Vec<String>>(&mut self.conn())
            .await
            .map(|v| v.into_iter().collect())
            .unwrap_or_default()
    }

    /// Refreshes this node's heartbeat. True when the node was not registered any more
    /// (it was taken for dead): its presence must be recorded again.
    pub async fn heartbeat(&self) -> bool {
        if self.retired.load(Ordering::Relaxed) {
            return false;
        }
        match redis::cmd("ZADD")
            .arg(self.nodes_key())
            .arg(now_ms())
            .arg(&self.node)
            .query_async::<u64>(&mut self.conn())
            .await
        {
            Ok(added) => added == 1,
            Err(err) => {
                tracing::warn!(cause = %err, "presence heartbeat to Redis failed");
                false
            }
        }
    }

    /// Removes the dead nodes this node is first to find and returns, per room, the users
    /// who are now gone from it everywhere.
    pub async fn reap(&self) -> Vec<(RoomId, UserId)> {
        let before = now_ms() - NODE_TTL.as_millis() as i64;
        let dead: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.nodes_key())
            .arg("-inf")
            .arg(format!("({before}"))
            .query_async(&mut self.conn())
            .await
            .unwrap_or_default();
        let mut gone = Vec::new();
        for node in dead {
            if node == self.node {
                continue;
            }
            // Whoever removes it cleans up after it; the others leave it be.
            let removed: u64 = redis::cmd("ZREM")
                .arg(self.nodes_key())
                .arg(&node)
                .query_async(&mut self.conn())
                .await
                .unwrap_or(0);
            if removed == 1 {
                gone.extend(self.clean_up(&node).await);
            }
        }
        gone
    }

    async fn clean_up(&self, node: &str) -> Vec<(RoomId, UserId)> {
        let rooms: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.rooms_key(node))
            .query_async(&mut self.conn())
            .await
            .unwrap_or_default();
        let mut gone = Vec::new();
        for room in rooms {
            let Ok(room) = Uuid::parse_str(&room).map(RoomId) else {
                continue;
            };
            let fields: Vec<String> = redis::cmd("HKEYS")
                .arg(self.room_key(room))
                .query_async(&mut self.conn())
                .await
                .unwrap_or_default();
            let theirs: Vec<String> = fields
                .into_iter()
                .filter(|f| f.split_once(':').is_some_and(|(n, _)| n == node))
                .collect();
            if theirs.is_empty() {
                continue;
            }
            let _ = redis::cmd("HDEL")
                .arg(self.room_key(room))
                .arg(&theirs)
                .query_async::<()>(&mut self.conn())
                .await;
            let still = self.present_users(room).await;
            for field in theirs {
                if let Some(user) = field
                    .split_once(':')
                    .and_then(|(_, u)| Uuid::parse_str(u).ok())
                    .map(UserId)
                    && !still.contains(&user)
                {
                    gone.push((room, user));
                }
            }
        }
        let _ = redis::cmd("DEL")
            .arg(self.rooms_key(node))
            .query_async::<()>(&mut self.conn())
            .await;
        tracing::info!(node, users = gone.len(), "removed a dead node's presence");
        gone
    }

    /// This node stops: mark it dead at once, so another node removes its entries at its
    /// next heartbeat.
    pub async fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        let _ = redis::cmd("ZADD")
            .arg(self.nodes_key())
            .arg(0)
            .arg(&self.node)
            .query_async::<()>(&mut self.conn())
            .await;
    }
}

/// The roster of one room's hash fields (`<node>:<user>` → entry), as the other nodes
/// see it: fields of `this_node` and of nodes not in `live` are skipped unparsed, an entry
/// that does not parse is skipped, and a user present through several nodes is listed
/// once, with `devices` counting those nodes and a status other than active, if any node
/// has one, winning. In no particular order.
fn merge_entries(
    fields: impl IntoIterator<Item = (String, String)>,
    live: &HashSet<String>,
    this_node: &str,
) -> Vec<PresenceEntry> {
    let mut users: HashMap<UserId, PresenceEntry> = HashMap::new();
    for (field, value) in fields {
        let Some((node, _)) = field.split_once(':') else {
            continue;
        };
        if node == this_node || !live.contains(node) {
            continue;
        }
        let Ok(entry) = serde_json::from_str::<PresenceEntry>(&value) else {
            continue;
        };
        match users.get_mut(&entry.user.id) {
            Some(known) => {
                known.devices += 1;
                if known.status == protocol::Status::Active {
                    known.status = entry.status;
                    known.text = entry.text;
                }
            }
            None => {
                users.insert(
                    entry.user.id,
                    PresenceEntry {
                        devices: 1,
                        ..entry
                    },
                );
            }
        }
    }
    users.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Status, UserView};

    fn field(node: &str, user: u128, status: Status) -> (String, String) {
        let id = UserId(Uuid::from_u128(user));
        let entry = PresenceEntry {
            user: UserView {
                id,
                handle: format!("u{user}"),
                name: String::new(),
                avatar: None,
            },
            status,
            text: None,
            devices: 1,
        };
        (
            format!("{node}:{}", id.0),
            serde_json::to_string(&entry).unwrap(),
        )
    }

    fn live(nodes: &[&str]) -> HashSet<String> {
        nodes.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn this_nodes_entries_and_dead_nodes_entries_are_left_out() {
        let fields = vec![
            field("me", 1, Status::Active),
            field("other", 2, Status::Active),
            field("dead", 3, Status::Active),
            ("no-colon".to_string(), "{}".to_string()),
            ("other:garbage".to_string(), "not json".to_string()),
        ];
        let roster = merge_entries(fields, &live(&["me", "other"]), "me");
        let ids: Vec<u128> = roster.iter().map(|e| e.user.id.0.as_u128()).collect();
        assert_eq!(ids, vec![2]);
    }

    #[test]
    fn a_user_on_several_nodes_is_listed_once_with_a_device_per_node() {
        let fields = vec![
            field("b", 7, Status::Active),
            field("c", 7, Status::Away),
            field("me", 7, Status::Dnd),
        ];
        let roster = merge_entries(fields, &live(&["me", "b", "c"]), "me");
        assert_eq!(roster.len(), 1);
        assert_eq!(roster[0].devices, 2, "nodes b and c, not this one");
        assert_eq!(
            roster[0].status,
            Status::Away,
            "a status other than active wins"
        );
    }
}
