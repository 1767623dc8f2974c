//! A real Redis Cluster for the tests, started and stopped by the test itself: three
//! masters (`redis-server --cluster-enabled yes`) on free loopback ports, joined with
//! `redis-cli --cluster create`. Each test that needs one starts its own (about a second),
//! so a test that kills a shard or moves a slot disturbs no other.
//!
//! Without `redis-server` (or when the cluster does not form) the tests say SKIPPED,
//! unless CI is set: then they fail.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Three masters of a Redis Cluster, each owning a third of the slots.
pub struct RedisCluster {
    pub ports: Vec<u16>,
    children: Vec<Option<Child>>,
    dir: tempfile::TempDir,
}

/// A port `p` such that `p` and its cluster bus port `p + 10000` are both free now.
fn free_cluster_port() -> u16 {
    loop {
        let p = 20_000 + rand::random::<u16>() % 25_000;
        let ok = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if ok(p) && ok(p + 10_000) {
            return p;
        }
    }
}

fn fail_or_skip(why: String) -> Option<RedisCluster> {
    if std::env::var_os("CI").is_some() {
        panic!("starting a Redis Cluster failed and CI is set: {why}");
    }
    eprintln!("SKIPPED: starting a Redis Cluster failed: {why}");
    None
}

impl RedisCluster {
    /// Starts three masters and forms the cluster; `None` (said loudly) when that fails and
    /// CI is not set.
    pub async fn start() -> Option<RedisCluster> {
        // A port found free may be taken by another test before redis-server binds it:
        // such a start is tried again on other ports.
        let mut why = String::new();
        for _ in 0..3 {
            match RedisCluster::try_start().await {
                Ok(cluster) => return Some(cluster),
                Err(e) => why = e,
            }
        }
        fail_or_skip(why)
    }

    async fn try_start() -> Result<RedisCluster, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = RedisCluster {
            ports: Vec::new(),
            children: Vec::new(),
            dir,
        };
        for _ in 0..3 {
            let port = free_cluster_port();
            cluster.ports.push(port);
            match cluster.spawn(port) {
                Ok(child) => cluster.children.push(Some(child)),
                Err(e) => return Err(format!("redis-server: {e}")),
            }
        }
        for i in 0..3 {
            cluster.wait_pong(i).await?;
            // Ours answered, not someone else's on a port taken meanwhile.
            if let Some(Ok(Some(status))) = cluster.children[i].as_mut().map(Child::try_wait) {
                return Err(format!(
                    "redis-server on {} exited: {status}",
                    cluster.ports[i]
                ));
            }
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &cluster.ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(format!(
                    "redis-cli --cluster create: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Err(e) => return Err(format!("redis-cli: {e}")),
        }
        cluster.wait_ok().await?;
        Ok(cluster)
    }

    fn node_dir(&self, port: u16) -> PathBuf {
        let d = self.dir.path().join(port.to_string());
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn spawn(&self, port: u16) -> std::io::Result<Child> {
        let dir = self.node_dir(port);
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ])
            // A shard down for a moment fails only its own slots: the others go on.
            .args(["--cluster-node-timeout", "2000"])
            .args(["--cluster-require-full-coverage", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// The seed URLs, comma-separated, as `REDIS_URL` takes them.
    pub fn url(&self) -> String {
        self.seeds().join(",")
    }

    pub fn seeds(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// A plain connection to shard `i` (for `CLUSTER` commands).
    pub async fn node(&self, i: usize) -> redis::aio::MultiplexedConnection {
        redis::Client::open(format!("redis://127.0.0.1:{}", self.ports[i]))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    async fn wait_pong(&self, i: usize) -> Result<(), String> {
        let url = format!("redis://127.0.0.1:{}", self.ports[i]);
        for _ in 0..100 {
            let pong = async {
                let client = redis::Client::open(url.as_str())?;
                let mut conn = client.get_multiplexed_async_connection().await?;
                redis::cmd("PING").query_async::<String>(&mut conn).await
            };
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), pong).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("redis-server on {url} did not answer"))
    }

    /// Waits until every shard says the cluster is ok, with all three nodes known.
    pub async fn wait_ok(&self) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let mut all_ok = true;
            for i in 0..self.ports.len() {
                let info = async {
                    let mut conn =
                        redis::Client::open(format!("redis://127.0.0.1:{}", self.ports[i]))?
                            .get_multiplexed_async_connection()
                            .await?;
                    redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query_async::<String>(&mut conn)
                        .await
                };
                let ok = matches!(
                    tokio::time::timeout(Duration::from_secs(1), info).await,
                    Ok(Ok(info)) if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
                );
                all_ok &= ok;
            }
            if all_ok {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err("the Redis Cluster did not reach cluster_state:ok".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The slot of `key` (or channel).
    pub async fn slot_of(&self, key: &str) -> u16 {
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut self.node(0).await)
            .await
            .unwrap()
    }

    /// Which shard owns `slot`, as shard `i` sees it.
    pub async fn owner_as_seen_by(&self, i: usize, slot: u16) -> usize {
        let slots: Vec<(u16, u16, Vec<redis::Value>)> = {
            let raw: Vec<redis::Value> = redis::cmd("CLUSTER")
                .arg("SLOTS")
                .query_async(&mut self.node(i).await)
                .await
                .unwrap();
            raw.into_iter()
                .map(|range| {
                    let redis::Value::Array(parts) = range else {
                        panic!("CLUSTER SLOTS: {range:?}")
                    };
                    let n = |v: &redis::Value| match v {
                        redis::Value::Int(n) => *n as u16,
                        other => panic!("{other:?}"),
                    };
                    (n(&parts[0]), n(&parts[1]), parts[2..].to_vec())
                })
                .collect()
        };
        for (lo, hi, nodes) in slots {
            if (lo..=hi).contains(&slot) {
                let redis::Value::Array(master) = &nodes[0] else {
                    panic!("{nodes:?}")
                };
                let port = match &master[1] {
                    redis::Value::Int(p) => *p as u16,
                    other => panic!("{other:?}"),
                };
                return self.ports.iter().position(|p| *p == port).unwrap();
            }
        }
        panic!("no owner of slot {slot}");
    }

    /// Which shard owns `key`'s slot.
    pub async fn owner_of(&self, key: &str) -> usize {
        let slot = self.slot_of(key).await;
        self.owner_as_seen_by(0, slot).await
    }

    async fn id(&self, i: usize) -> String {
        redis::cmd("CLUSTER")
            .arg("MYID")
            .query_async(&mut self.node(i).await)
            .await
            .unwrap()
    }

    /// Kills shard `i` with SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts shard `i` again on its port with its cluster config (it rejoins with its
    /// slots), and waits for the cluster to be ok.
    pub async fn restart(&mut self, i: usize) {
        self.children[i] = Some(self.spawn(self.ports[i]).unwrap());
        self.wait_pong(i).await.unwrap();
        self.wait_ok().await.unwrap();
    }

    /// Moves `slot` from shard `from` to shard `to` the way `redis-cli --cluster reshard`
    /// does: IMPORTING/MIGRATING, `MIGRATE` of its keys, then the new owner everywhere.
    pub async fn migrate_slot(&self, slot: u16, from: usize, to: usize) {
        let (from_id, to_id) = (self.id(from).await, self.id(to).await);
        let mut src = self.node(from).await;
        let mut dst = self.node(to).await;
        let setslot = |state: &str, id: &str| {
            let mut c = redis::cmd("CLUSTER");
            c.arg("SETSLOT").arg(slot).arg(state).arg(id);
            c
        };
        setslot("IMPORTING", &from_id)
            .query_async::<()>(&mut dst)
            .await
            .unwrap();
        setslot("MIGRATING", &to_id)
            .query_async::<()>(&mut src)
            .await
            .unwrap();
        loop {
            let keys: Vec<String> = redis::cmd("CLUSTER")
                .arg("GETKEYSINSLOT")
                .arg(slot)
                .arg(100)
                .query_async(&mut src)
                .await
                .unwrap();
            if keys.is_empty() {
                break;
            }
            redis::cmd("MIGRATE")
                .arg("127.0.0.1")
                .arg(self.ports[to])
                .arg("")
                .arg(0)
                .arg(5000)
                .arg("KEYS")
                .arg(&keys)
                .query_async::<()>(&mut src)
                .await
                .unwrap();
        }
        setslot("NODE", &to_id)
            .query_async::<()>(&mut dst)
            .await
            .unwrap();
        setslot("NODE", &to_id)
            .query_async::<()>(&mut src)
            .await
            .unwrap();
        for i in 0..self.ports.len() {
            if i != from && i != to {
                setslot("NODE", &to_id)
                    .query_async::<()>(&mut self.node(i).await)
                    .await
                    .unwrap();
            }
        }
        // Every shard sees the new owner.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for i in 0..self.ports.len() {
            while self.owner_as_seen_by(i, slot).await != to {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the slot did not move"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// How many subscribers sharded `channel` has on shard `i` (`PUBSUB SHARDNUMSUB`).
    pub async fn shard_subscribers(&self, i: usize, channel: &str) -> u64 {
        let counts: Vec<(String, u64)> = redis::cmd("PUBSUB")
            .arg("SHARDNUMSUB")
            .arg(channel)
            .query_async(&mut self.node(i).await)
            .await
            .unwrap();
        counts[0].1
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
