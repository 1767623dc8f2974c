//! The real `confab` binary as a child process on a data folder that outlives it, so a
//! test can SIGKILL it and start another on the same data; plus what the test reads about
//! it from outside: `/metrics` gauges, open descriptors, threads and resident memory
//! (`/proc`).

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{WAIT, free_port};

/// A running `confab` process.
pub struct ChildServer {
    pub addr: SocketAddr,
    child: std::process::Child,
    /// The process's output (its warn-level log), shown when a test fails.
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl ChildServer {
    /// Starts `confab` on SQLite in `data_dir` with `env` on top of a quiet log, and waits
    /// until it answers `/healthz`.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> ChildServer {
        ChildServer::start_wrapped(&[], data_dir, env).await
    }

    /// [`ChildServer::start`] with `confab` run by `wrapper` (a program and its arguments,
    /// given the path of `confab` as its last argument, which it must `exec` so that the
    /// child's pid is the server's); empty for none.
    pub async fn start_wrapped(
        wrapper: &[&str],
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> ChildServer {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("confab.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let confab = env!("CARGO_BIN_EXE_confab");
        let mut command = match wrapper.split_first() {
            None => std::process::Command::new(confab),
            Some((program, args)) => {
                let mut c = std::process::Command::new(program);
                c.args(args).arg(confab);
                c
            }
        };
        command
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("CONFAB_BIND", addr.to_string())
            .env("CONFAB_DATA_DIR", data_dir)
            .env("CONFAB_LOG", "warn")
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("start a confab process");
        let mut server = ChildServer {
            addr,
            child,
            log,
            _log_dir: log_dir,
        };
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + WAIT * 3;
        loop {
            if let Ok(r) = http.get(format!("http://{addr}/healthz")).send().await
                && r.status().is_success()
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("confab exited with {status}:\n{}", server.log_text());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "confab did not come up:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no clean-up of any kind) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// The value of the unlabelled metric `name` on `/metrics`; `None` when absent (a
    /// gauge never set yet).
    pub async fn metric(&self, name: &str) -> Option<f64> {
        // A fresh connection per scrape, closed after it: the scrape's own connection task
        // is the only one it adds to the server's runtime.
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
        metric_value(&text, name)
    }

    /// `confab_connections_open` (0 before the first connection).
    pub async fn connections_open(&self) -> f64 {
        self.metric("confab_connections_open").await.unwrap_or(0.0)
    }

    /// `confab_runtime_alive_tasks`: tasks alive in the server's runtime.
    pub async fn alive_tasks(&self) -> f64 {
        self.metric("confab_runtime_alive_tasks")
            .await
            .expect("/metrics has confab_runtime_alive_tasks")
    }

    /// Polls until `confab_connections_open` is 0; `false` if it is not within `within`.
    pub async fn wait_for_no_connections(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.connections_open().await == 0.0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process's open file descriptors: (all, sockets among them).
    pub fn open_fds(&self) -> (usize, usize) {
        let dir = format!("/proc/{}/fd", self.pid());
        let mut all = 0;
        let mut sockets = 0;
        for entry in std::fs::read_dir(&dir)
            .expect("read /proc/PID/fd")
            .flatten()
        {
            all += 1;
            if std::fs::read_link(entry.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
            {
                sockets += 1;
            }
        }
        (all, sockets)
    }

    /// The names of the process's threads (`/proc/PID/task/*/comm`), sorted.
    pub fn thread_names(&self) -> Vec<String> {
        let dir = format!("/proc/{}/task", self.pid());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("read /proc/PID/task")
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|name| name.trim_end().to_string())
            .collect();
        names.sort();
        names
    }

    /// The process's resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- log of confab at {} ---\n{}",
                self.addr,
                self.log_text()
            );
        }
    }
}

/// The value of the unlabelled sample `name` in Prometheus text.
fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (metric, value) = l.split_once(' ')?;
        (metric == name).then(|| value.trim().parse().ok())?
    })
}
