//! A `redis-server` process of the test's own on a free port, with nothing on disk, which
//! the chaos run kills (SIGKILL: every subscription and message in it lost) and starts
//! again on the same port. `cluster_faults.rs` uses it too.

use std::time::Duration;

use crate::helpers::{WAIT, free_port};

pub struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    /// Starts one; `None` (said loudly) when `redis-server` cannot run and CI is not set.
    /// With CI set, it fails the test.
    pub async fn start() -> Option<OwnRedis> {
        let mut redis = OwnRedis {
            port: free_port(),
            child: None,
        };
        match redis.up().await {
            Ok(()) => Some(redis),
            Err(err) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: cannot run redis-server: {err}");
                None
            }
            Err(err) => panic!("cannot run redis-server and CI is set: {err}"),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it answers PING.
    pub async fn up(&mut self) -> Result<(), String> {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ping = async {
                let client = redis::Client::open(self.url())?;
                let mut conn = client.get_multiplexed_async_connection().await?;
                redis::cmd("PING").query_async::<String>(&mut conn).await
            };
            if ping.await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err("redis-server did not answer".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the process at once (everything in it is gone, as in a crash).
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.down();
    }
}
