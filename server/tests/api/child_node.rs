//! A cluster node run as a process of its own (the real `confab` binary), so that a test
//! can kill it (SIGKILL) or pause and resume it (SIGSTOP, SIGCONT).

use std::net::SocketAddr;
use std::time::Duration;

use crate::helpers::{Cluster, WAIT, free_port};

/// A cluster node run as a process of its own (the real `confab` binary), so that it can
/// be killed with SIGKILL.
pub struct ChildNode {
    pub addr: SocketAddr,
    child: std::process::Child,
    _data: tempfile::TempDir,
}

impl ChildNode {
    /// Starts a node of `cluster` and waits until it answers `/healthz`.
    pub async fn start(cluster: &Cluster) -> ChildNode {
        ChildNode::start_with(cluster, &[]).await
    }

    /// [`ChildNode::start`] with extra environment (the server's flags, `CONFAB_…`).
    pub async fn start_with(cluster: &Cluster, env: &[(&str, &str)]) -> ChildNode {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let data = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_confab"))
            .envs(env.iter().copied())
            .env("CONFAB_BIND", addr.to_string())
            .env("CONFAB_DATA_DIR", data.path())
            .env("DATABASE_URL", &cluster.db_url)
            .env("REDIS_URL", &cluster.redis_url)
            .env("CONFAB_REDIS_PREFIX", &cluster.prefix)
            .env("CONFAB_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a confab process");
        let node = ChildNode {
            addr,
            child,
            _data: data,
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(r) = reqwest::get(format!("http://{addr}/healthz")).await
                && r.status().is_success()
            {
                return node;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the node did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends the process `signal` (`STOP`, `CONT`) with `kill(1)`.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Kills the process with SIGKILL (no clean-up of any kind) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildNode {
    fn drop(&mut self) {
        self.kill();
    }
}
