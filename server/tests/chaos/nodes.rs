//! The cluster under chaos: three `confab` processes on the test's own Postgres and Redis,
//! each of which can be killed (SIGKILL) and started again on a new port, or paused
//! (SIGSTOP) and resumed (SIGCONT); the table of their current addresses that clients
//! read when they (re)connect; and what the test reads about a node from outside
//! (`/metrics`, `/proc`) for the leak check.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{WAIT, free_port};

/// Where each node listens now (a restarted node listens on a new port).
pub type Addrs = Arc<Mutex<Vec<SocketAddr>>>;

/// A node's resources, read from outside.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub tasks: f64,
    pub connections: f64,
    pub fds: usize,
    pub rss_kib: u64,
}

/// One `confab` process.
pub struct Node {
    pub addr: SocketAddr,
    child: std::process::Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// How long a node keeps following a room after its last local subscriber leaves (the
/// server's default, said explicitly): one task per such room lives that long, so the
/// leak check waits it out before judging.
pub const CHANNEL_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

impl Node {
    /// Starts a node on `db_url` and `redis_url` and waits until it answers `/healthz`.
    pub async fn start(db_url: &str, redis_url: &str, prefix: &str) -> Node {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("confab.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_confab"))
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("CONFAB_BIND", addr.to_string())
            .env("CONFAB_DATA_DIR", dir.path())
            .env("DATABASE_URL", db_url)
            .env("REDIS_URL", redis_url)
            .env("CONFAB_REDIS_PREFIX", prefix)
            .env("CONFAB_LOG", "warn")
            // Every client comes from 127.0.0.1 and sends steadily.
            .env("CONFAB_MAX_CONNS_PER_ADDR", "100000")
            .env("CONFAB_RATE_PER_SEC", "10000")
            .env("CONFAB_RATE_BURST", "10000")
            // A resume is always events, never a snapshot in their place.
            .env("CONFAB_RESUME_MAX_EVENTS", "100000")
            .env("CONFAB_PRESENCE_ROSTER_MAX", "10000")
            .env(
                "CONFAB_CHANNEL_GRACE_SECS",
                CHANNEL_GRACE.as_secs().to_string(),
            )
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("start a confab process");
        let mut node = Node {
            addr,
            child,
            log,
            _dir: dir,
        };
        let deadline = tokio::time::Instant::now() + WAIT * 3;
        loop {
            if let Ok(r) = reqwest::get(format!("http://{addr}/healthz")).await
                && r.status().is_success()
            {
                return node;
            }
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!("confab exited with {status}:\n{}", node.log_text());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the node did not come up:\n{}",
                node.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the process `signal` (`STOP`, `CONT`) with `kill(1)`.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL, and reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Alive tasks and open connections (`/metrics`), descriptors and RSS (`/proc`).
    pub async fn usage(&self) -> Usage {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let text = http
            .get(format!("http://{}/metrics", self.addr))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("a metrics body");
        let metric = |name: &str| {
            text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
                let (m, v) = l.split_once(' ')?;
                (m == name).then(|| v.trim().parse::<f64>().ok())?
            })
        };
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("read /proc/PID/fd")
            .count();
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        Usage {
            tasks: metric("confab_runtime_alive_tasks").expect("alive tasks on /metrics"),
            connections: metric("confab_connections_open").unwrap_or(0.0),
            fds,
            rss_kib,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // A paused process must run again to die of SIGKILL's reaping cleanly.
        let _ = std::process::Command::new("kill")
            .arg("-CONT")
            .arg(self.pid().to_string())
            .stderr(std::process::Stdio::null())
            .status();
        self.kill();
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("--- last lines of confab at {} ---\n{tail}", self.addr);
        }
    }
}

/// The three nodes, with the table of their addresses.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub addrs: Addrs,
    pub db_url: String,
    pub redis_url: String,
    pub prefix: String,
    /// Which nodes have been killed and restarted at least once.
    pub restarted: Vec<bool>,
}

impl Cluster {
    pub async fn start(n: usize, db_url: String, redis_url: String) -> Cluster {
        let prefix = format!("confab-chaos-{}", uuid::Uuid::now_v7().simple());
        let mut nodes = Vec::new();
        for _ in 0..n {
            nodes.push(Node::start(&db_url, &redis_url, &prefix).await);
        }
        let addrs = Arc::new(Mutex::new(nodes.iter().map(|n| n.addr).collect()));
        Cluster {
            nodes,
            addrs,
            db_url,
            redis_url,
            prefix,
            restarted: vec![false; n],
        }
    }

    /// SIGKILLs node `i` and starts a new process in its place.
    pub async fn kill_and_restart(&mut self, i: usize) {
        self.nodes[i].kill();
        let node = Node::start(&self.db_url, &self.redis_url, &self.prefix).await;
        self.addrs.lock().unwrap()[i] = node.addr;
        self.nodes[i] = node;
        self.restarted[i] = true;
    }
}
