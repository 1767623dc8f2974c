//! A PostgreSQL server of the test's own (initdb in a temporary folder, a free port, trust
//! authentication), which the test may stop as a crash does (`-m immediate`) and start
//! again on the same data. Run as the `postgres` OS user when the test runs as root,
//! because initdb refuses root.

use std::path::PathBuf;
use std::time::Duration;

use crate::helpers::free_port;

pub struct OwnPostgres {
    port: u16,
    bin: PathBuf,
    /// Holds `data/` (the cluster), the log and the socket.
    dir: tempfile::TempDir,
    as_postgres_user: bool,
    running: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `pg_ctl`, or the folder of a
/// `pg_ctl` on PATH.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("pg_ctl").exists() && dir.join("initdb").exists())
    })
}

/// Whether this process runs as root (uid 0).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

impl OwnPostgres {
    /// Creates and starts a cluster; `None` (said loudly) when that cannot be done and CI
    /// is not set. With CI set, it fails the test.
    pub async fn start() -> Option<OwnPostgres> {
        match OwnPostgres::try_start().await {
            Ok(pg) => Some(pg),
            Err(why) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: cannot run a PostgreSQL server of our own: {why}");
                None
            }
            Err(why) => panic!("cannot run a PostgreSQL server of our own and CI is set: {why}"),
        }
    }

    async fn try_start() -> Result<OwnPostgres, String> {
        let bin = find_bin().ok_or("no PostgreSQL binaries (initdb, pg_ctl) found")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut pg = OwnPostgres {
            port: free_port(),
            bin,
            dir,
            as_postgres_user: running_as_root(),
            running: false,
        };
        if pg.as_postgres_user {
            let path = pg.dir.path().to_string_lossy().to_string();
            run(tokio::process::Command::new("chown").args(["postgres:postgres", &path])).await?;
        }
        let data = pg.data_dir();
        pg.run_tool(
            "initdb",
            &[
                "-D",
                &data,
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ],
        )
        .await?;
        pg.start_again().await?;
        Ok(pg)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").to_string_lossy().to_string()
    }

    /// Runs one of the PostgreSQL tools (as the `postgres` user when we are root).
    async fn run_tool(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let path = self.bin.join(tool);
        let mut command = if self.as_postgres_user {
            let mut c = tokio::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            tokio::process::Command::new(&path)
        };
        command.args(args).current_dir(self.dir.path());
        run(&mut command).await
    }

    /// Starts the server on its data and waits until it accepts connections.
    pub async fn start_again(&mut self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        let data = self.data_dir();
        self.run_tool(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-o",
                &options,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .await?;
        self.running = true;
        Ok(())
    }

    /// Stops the server as a crash does: every backend killed, nothing flushed beyond
    /// what was committed; the next start runs crash recovery.
    pub async fn stop_immediately(&mut self) -> Result<(), String> {
        let data = self.data_dir();
        self.run_tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .await?;
        self.running = false;
        Ok(())
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- log of the test's PostgreSQL ---\n{}", self.log());
        }
        if !self.running {
            return;
        }
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data_dir();
        let mut command = if self.as_postgres_user {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            std::process::Command::new(&pg_ctl)
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Runs `command` to completion (bounded); `Err` with its output when it fails.
async fn run(command: &mut tokio::process::Command) -> Result<(), String> {
    let described = format!("{:?}", command.as_std());
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .map_err(|_| format!("{described} did not finish"))?
        .map_err(|e| format!("{described}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{described} failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
