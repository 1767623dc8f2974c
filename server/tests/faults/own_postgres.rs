//! A PostgreSQL server of the test's own (initdb in a temporary folder, a free port, trust
//! authentication), which the test may stop as a crash does (`-m immediate`) and start
//! again on the same data. Run as the `postgres` OS user when the test runs as root,
//! because initdb refuses root. It can also run with a small tmpfs of its own mounted at
//! a given path, in a mount namespace only it sees, for a tablespace to fill.

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
    /// The server's own tmpfs, if any: `unshare` arguments, mount point, size.
    tmpfs: Option<(Vec<&'static str>, String, String)>,
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
        OwnPostgres::report(OwnPostgres::try_start(None).await)
    }

    /// [`OwnPostgres::start`] with a tmpfs of `size` at `mount` that only the server sees
    /// (its own mount namespace, made with `unshare`), holding a folder `ts` it owns, for
    /// a tablespace. The test reaches the tmpfs through `/proc/<pid>/root`.
    pub async fn start_with_tmpfs(
        unshare: Vec<&'static str>,
        mount: &str,
        size: &str,
    ) -> Option<OwnPostgres> {
        let tmpfs = (unshare, mount.to_owned(), size.to_owned());
        OwnPostgres::report(OwnPostgres::try_start(Some(tmpfs)).await)
    }

    fn report(started: Result<OwnPostgres, String>) -> Option<OwnPostgres> {
        match started {
            Ok(pg) => Some(pg),
            Err(why) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: cannot run a PostgreSQL server of our own: {why}");
                None
            }
            Err(why) => panic!("cannot run a PostgreSQL server of our own and CI is set: {why}"),
        }
    }

    async fn try_start(
        tmpfs: Option<(Vec<&'static str>, String, String)>,
    ) -> Result<OwnPostgres, String> {
        let bin = find_bin().ok_or("no PostgreSQL binaries (initdb, pg_ctl) found")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut pg = OwnPostgres {
            port: free_port(),
            bin,
            dir,
            as_postgres_user: running_as_root(),
            running: false,
            tmpfs,
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
        self.url_of("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` on database `db` with `psql`; its output (unaligned, tuples only).
    pub async fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let output = tokio::process::Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-A", "-t", "-c", sql])
            .output()
            .await
            .map_err(|e| format!("psql: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(format!(
                "{sql}: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// The postmaster's process id (from `postmaster.pid`).
    pub fn pid(&self) -> u32 {
        let pid_file = self.dir.path().join("data").join("postmaster.pid");
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
            .expect("a running server has a pid file")
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
        let log = self
            .dir
            .path()
            .join("postgres.log")
            .to_string_lossy()
            .to_string();
        let data = self.data_dir();
        let start = [
            "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
        ];
        if let Some((unshare, mount, size)) = &self.tmpfs {
            // The namespace outlives `unshare`: the postmaster pg_ctl starts stays in it.
            let owner = if self.as_postgres_user {
                "chown postgres:postgres \"$0/ts\" && exec runuser -u postgres -- \"$@\""
            } else {
                "exec \"$@\""
            };
            let script = format!(
                "mkdir -p \"$0\" && mount -t tmpfs -o size={size} tmpfs \"$0\" && mkdir \"$0/ts\" && {owner}"
            );
            let mut command = tokio::process::Command::new(unshare[0]);
            command
                .args(&unshare[1..])
                .args(["sh", "-c", &script, mount])
                .arg(self.bin.join("pg_ctl"))
                .args(start)
                .current_dir(self.dir.path());
            run(&mut command).await?;
        } else {
            self.run_tool("pg_ctl", &start).await?;
        }
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
