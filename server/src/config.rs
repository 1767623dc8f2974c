//! Configuration: CLI flags with environment-variable fallbacks, parsed once at start-up
//! into [`Settings`]. `confab --help` documents every setting; the README has the table.
//!
//! Leptos's own settings (site root, output name, reload port) come from `LEPTOS_*`
//! variables that cargo-leptos sets; `--bind` and `--site-root` override them.

use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default address when neither `--bind` nor `LEPTOS_SITE_ADDR` is given.
pub const DEFAULT_BIND: &str = "127.0.0.1:3000";

/// The `confab` command line: `confab` (or `confab serve`) runs the server; the other
/// subcommands administer accounts against the configured database, or back it up and
/// restore it (SQLite).
#[derive(Debug, Parser)]
#[command(name = "confab", version, about = "Confab: real-time team chat server")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (for bots and tools; sent as `Authorization: Bearer <token>`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Copy the SQLite database to PATH while the server runs: consistent as of one
    /// commit, integrity-checked, written to PATH.partial and renamed when whole. On
    /// Postgres use pg_dump instead.
    Backup {
        /// Where to write the copy (must not exist).
        path: std::path::PathBuf,
    },
    /// Put the backup at PATH in place of the SQLite database (the one there, if any, is
    /// moved aside to <db>.before-restore-<ms>). Refuses while a server uses the database.
    Restore {
        /// A file written by `confab backup`.
        path: std::path::PathBuf,
    },
}

/// `confab user …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from CONFAB_NEW_PASSWORD, else from stdin.
    Create {
        /// The unique handle (2–32 of a-z 0-9 _ . -).
        #[arg(long)]
        handle: String,
        /// The name shown to others (defaults to the handle).
        #[arg(long)]
        name: Option<String>,
    },
    /// Deactivate a user: they can no longer log in, their sessions and API tokens stop
    /// working, and their live connections are closed (4001) within a few seconds, on
    /// every node. Their messages stay.
    Deactivate {
        /// The user's handle.
        handle: String,
    },
    /// Make a user a site admin, who moderates every room (docs/moderation.md); with
    /// `--revoke`, take it back.
    Admin {
        /// The user's handle.
        handle: String,
        /// Take site admin away instead.
        #[arg(long)]
        revoke: bool,
    },
    /// Create COUNT bot users `<prefix>0`, `<prefix>1`, … that cannot log in, each with an
    /// API token; prints one `handle<TAB>token` line per bot (for the load generator).
    Bots {
        /// Handle prefix (the bots are `<prefix>0` … `<prefix>N-1`).
        #[arg(long, default_value = "bot")]
        prefix: String,
        /// How many bots.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        count: u32,
    },
}

/// `confab token …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print its secret (shown only once).
    Create {
        /// The user's handle.
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a user's tokens.
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke one of a user's tokens by id.
    Revoke {
        #[arg(long)]
        user: String,
        /// The token's id (from `confab token list`).
        #[arg(long)]
        id: String,
    },
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone, Parser)]
pub struct Settings {
    /// Address to listen on (host:port). Falls back to LEPTOS_SITE_ADDR, then 127.0.0.1:3000.
    #[arg(long, env = "CONFAB_BIND")]
    pub bind: Option<SocketAddr>,

    /// Folder holding the built site (pkg/ and public assets). Falls back to
    /// LEPTOS_SITE_ROOT, then target/site. A release build's bundle names carry content
    /// hashes, listed in hash.txt beside this binary: keep the two together.
    #[arg(long, env = "CONFAB_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// Folder for the embedded engines' files (the SQLite database).
    #[arg(long, env = "CONFAB_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database: `postgres://…` selects Postgres, `sqlite://…` a SQLite file; unset means
    /// SQLite at <data-dir>/confab.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Redis for the cluster broker: `redis://…` makes this process one node of a cluster
    /// (every node must share the same Redis, prefix and Postgres database); unset means
    /// the in-process broker of a single node. Several URLs separated by commas are the
    /// seed nodes of a Redis Cluster (sharded pub/sub, see `--redis-cluster`).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Take `REDIS_URL` as seed nodes of a Redis Cluster (7.0 or later) even when it names
    /// one: room channels use sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`), presence keys carry
    /// hash tags. Implied when `REDIS_URL` names several nodes.
    #[arg(long, env = "CONFAB_REDIS_CLUSTER", default_value_t = false)]
    pub redis_cluster: bool,

    /// Prefix of every Redis channel this cluster uses, so that several clusters (or test
    /// runs) can share one Redis.
    #[arg(long, env = "CONFAB_REDIS_PREFIX", default_value = "confab", value_parser = parse_prefix)]
    pub redis_prefix: String,

    /// Mark the session cookie Secure (set this whenever the site is served over HTTPS).
    #[arg(long, env = "CONFAB_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Seconds between the heartbeats a client is asked to send; a connection silent for
    /// twice this long is closed with 4100.
    #[arg(long, env = "CONFAB_HEARTBEAT_SECS", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub heartbeat_secs: u64,

    /// Largest WebSocket message a client may send, in bytes; larger ones close with 1009.
    #[arg(long, env = "CONFAB_MAX_FRAME_BYTES", default_value_t = 64 * 1024, value_parser = clap::value_parser!(u32).range(256..=16 * 1024 * 1024))]
    pub max_frame_bytes: u32,

    /// Largest file one upload may be, in bytes (`POST /files`, and an avatar picture's
    /// `PUT /avatar`); a larger one is refused with 413 and nothing is stored.
    #[arg(long, env = "CONFAB_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024 * 1024))]
    pub max_upload_bytes: u64,

    /// Outgoing frames a connection may have queued. Past it, room events switch the
    /// connection to catch-up from the Store and ephemeral frames are dropped.
    #[arg(long, env = "CONFAB_QUEUE_FRAMES", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(128..=1_000_000))]
    pub queue_frames: u32,

    /// Seconds a socket write may stay blocked before the connection is closed with 4101.
    #[arg(long, env = "CONFAB_STUCK_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub stuck_secs: u64,

    /// Most rooms one connection may subscribe to.
    #[arg(long, env = "CONFAB_MAX_ROOMS", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_rooms: u32,

    /// A resume replays at most this many events; a larger gap gets a snapshot instead.
    #[arg(long, env = "CONFAB_RESUME_MAX_EVENTS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub resume_max_events: u64,

    /// Milliseconds a user stays listed after their last connection leaves a room.
    #[arg(long, env = "CONFAB_PRESENCE_GRACE_MS", default_value_t = 3000)]
    pub presence_grace_ms: u64,

    /// Seconds a cluster node keeps following a room's channel after its last local
    /// subscriber leaves, so that clients reconnecting within it resume from memory.
    #[arg(long, env = "CONFAB_CHANNEL_GRACE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub channel_grace_secs: u64,

    /// Most users listed in the `presence` frame of a room; a bigger room sends this many
    /// (by handle) plus the total.
    #[arg(long, env = "CONFAB_PRESENCE_ROSTER_MAX", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub presence_roster_max: u32,

    /// Seconds without a request (pings aside) after which a user on automatic status
    /// shows as away.
    #[arg(long, env = "CONFAB_IDLE_AWAY_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_away_secs: u64,

    /// Milliseconds a typing indicator lasts after the user's last `typing`.
    #[arg(long, env = "CONFAB_TYPING_TTL_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub typing_ttl_ms: u64,

    /// Sign-ups one address may make in a burst (then one a minute).
    #[arg(long, env = "CONFAB_SIGNUP_BURST", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub signup_burst: u32,

    /// Seconds after posting during which an author may edit a message; 0 = always.
    #[arg(long, env = "CONFAB_EDIT_WINDOW_SECS", default_value_t = 0)]
    pub edit_window_secs: u64,

    /// Requests per second one connection may make (token bucket; pings are free).
    #[arg(long, env = "CONFAB_RATE_PER_SEC", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_per_sec: u32,

    /// Burst of requests one connection may make above the steady rate. A connection that
    /// goes on sending through this many `rate_limited` refusals in a row is closed (4102).
    #[arg(long, env = "CONFAB_RATE_BURST", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_burst: u32,

    /// Most gateway connections (WebSockets and event streams) one peer address may hold;
    /// past it an upgrade is closed with 4103 and a stream refused with 429. Behind a
    /// reverse proxy every client has the proxy's address: raise it there.
    #[arg(long, env = "CONFAB_MAX_CONNS_PER_ADDR", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns_per_addr: u32,

    /// Origins allowed to open a WebSocket with a session cookie (comma-separated, e.g.
    /// `https://chat.example.com`). Unset: the page must come from the host it connects to.
    #[arg(long, env = "CONFAB_ORIGINS", value_delimiter = ',')]
    pub origins: Vec<String>,

    /// Seconds a client has to send a complete request head (the upgrade of a WebSocket
    /// included); a slower one is disconnected.
    #[arg(long, env = "CONFAB_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout_secs: u64,

    /// Connections the kernel may hold completed but not yet accepted. A reconnect storm
    /// opens thousands at once; past this queue the kernel drops handshakes and clients
    /// wait out TCP retransmissions (seconds each). Capped by the kernel at
    /// `net.core.somaxconn`.
    #[arg(long, env = "CONFAB_LISTEN_BACKLOG", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=65_535))]
    pub listen_backlog: u32,

    /// Seconds to wait for connections to close during a graceful shutdown.
    #[arg(long, env = "CONFAB_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Seconds over which clients closed by a graceful shutdown are told to spread their
    /// reconnects (each gets a random wait in `0..=N` seconds in its 1012 close reason).
    #[arg(long, env = "CONFAB_RESTART_SPREAD_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub restart_spread_secs: u64,

    /// Log format.
    #[arg(long, env = "CONFAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Log filter, in tracing's EnvFilter syntax. `RUST_LOG`, when set, overrides it.
    #[arg(long, env = "CONFAB_LOG", default_value = "info")]
    pub log_filter: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Coloured, one event per line, for people.
    Human,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// A Redis channel prefix: 1–64 characters of letters, digits, `-`, `_`, `.`.
fn parse_prefix(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(raw.to_string())
    } else {
        Err("use 1 to 64 letters, digits, '-', '_' or '.'".into())
    }
}

impl Settings {
    /// Settings with every default and no environment, as a base for tests and tools.
    pub fn defaults() -> Settings {
        Settings::parse_from_env_free(["confab"])
    }

    /// Parses arguments while ignoring the process environment.
    fn parse_from_env_free<I, T>(args: I) -> Settings
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut cmd = <Settings as clap::CommandFactory>::command();
        cmd = cmd.mut_args(|arg| arg.env(None::<&str>));
        let matches = cmd.get_matches_from(args);
        <Settings as clap::FromArgMatches>::from_arg_matches(&matches)
            .expect("defaults always parse")
    }

    /// Where the store lives.
    pub fn store_config(&self) -> store::StoreConfig {
        store::StoreConfig {
            database_url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// Which Redis this node uses, if any: one server, or the seed nodes of a Redis Cluster.
    pub fn redis(&self) -> Option<RedisTarget> {
        let url = self.redis_url.as_deref()?;
        let seeds: Vec<String> = url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if self.redis_cluster || seeds.len() > 1 {
            Some(RedisTarget::Cluster(seeds))
        } else {
            Some(RedisTarget::Single(url.trim().to_string()))
        }
    }

    /// The heartbeat interval clients are asked to keep.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs)
    }

    /// How long a socket write may block before the client counts as stuck.
    pub fn stuck_after(&self) -> Duration {
        Duration::from_secs(self.stuck_secs)
    }

    /// How long a leave is held before others see it.
    pub fn channel_grace(&self) -> Duration {
        Duration::from_secs(self.channel_grace_secs)
    }

    pub fn presence_grace(&self) -> Duration {
        Duration::from_millis(self.presence_grace_ms)
    }

    /// How long without activity before an automatic status turns away.
    pub fn idle_away(&self) -> Duration {
        Duration::from_secs(self.idle_away_secs)
    }

    /// The reconnect wait, in milliseconds, for a client closed by a shutdown: `unit` (a
    /// random number in `0.0..1.0`) of the restart spread.
    pub fn restart_wait_ms(&self, unit: f64) -> u64 {
        (self.restart_spread_secs as f64 * 1000.0 * unit.clamp(0.0, 1.0)) as u64
    }

    /// How long a typing indicator lasts.
    pub fn typing_ttl(&self) -> Duration {
        Duration::from_millis(self.typing_ttl_ms)
    }

    /// How long a connection may stay silent before it is closed.
    pub fn idle_timeout(&self) -> Duration {
        self.heartbeat() * 2
    }
}

/// The Redis a cluster of gateways shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One Redis server (plain pub/sub).
    Single(String),
    /// The seed nodes of a Redis Cluster (sharded pub/sub).
    Cluster(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_redis_urls_or_the_flag_mean_a_redis_cluster() {
        let mut s = Settings::defaults();
        assert_eq!(s.redis(), None);
        assert!(!s.redis_cluster);
        s.redis_url = Some("redis://a:1".into());
        assert_eq!(s.redis(), Some(RedisTarget::Single("redis://a:1".into())));
        s.redis_cluster = true;
        assert_eq!(
            s.redis(),
            Some(RedisTarget::Cluster(vec!["redis://a:1".into()]))
        );
        s.redis_cluster = false;
        s.redis_url = Some("redis://a:1, redis://b:2,".into());
        assert_eq!(
            s.redis(),
            Some(RedisTarget::Cluster(vec![
                "redis://a:1".into(),
                "redis://b:2".into()
            ]))
        );
        let cli = Cli::try_parse_from(["confab", "--redis-cluster"]).unwrap();
        assert!(cli.settings.redis_cluster);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::defaults();
        assert_eq!(s.bind, None);
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.database_url, None);
        assert_eq!(s.redis_url, None);
        assert_eq!(s.redis_prefix, "confab");
        assert!(!s.secure_cookies);
        assert_eq!(s.heartbeat_secs, 25);
        assert_eq!(s.max_frame_bytes, 65_536);
        assert_eq!(s.log_format, LogFormat::Human);
        assert_eq!(s.idle_timeout(), Duration::from_secs(50));
    }

    #[test]
    fn restart_waits_stay_within_the_spread() {
        let mut s = Settings::defaults();
        assert_eq!(s.restart_spread_secs, 5);
        assert_eq!(s.restart_wait_ms(0.0), 0);
        assert_eq!(s.restart_wait_ms(0.5), 2500);
        assert_eq!(s.restart_wait_ms(7.0), 5000);
        s.restart_spread_secs = 0;
        assert_eq!(s.restart_wait_ms(0.9), 0);
        let err = Cli::try_parse_from(["confab", "--restart-spread-secs", "601"]).unwrap_err();
        assert!(err.to_string().contains("restart-spread-secs"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_with_a_message() {
        let err = Cli::try_parse_from(["confab", "--heartbeat-secs", "0"]).unwrap_err();
        assert!(err.to_string().contains("heartbeat-secs"), "{err}");
        let err = Cli::try_parse_from(["confab", "--bind", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("bind"), "{err}");
        let err = Cli::try_parse_from(["confab", "--redis-prefix", "a b"]).unwrap_err();
        assert!(err.to_string().contains("redis-prefix"), "{err}");
    }

    #[test]
    fn subcommands_parse() {
        let cli = Cli::try_parse_from(["confab", "token", "create", "--user", "ana"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Token(TokenCommand::Create { ref user, ref name })) if user == "ana" && name == "cli"
        ));
        assert!(Cli::try_parse_from(["confab"]).unwrap().command.is_none());
        let cli = Cli::try_parse_from(["confab", "backup", "/tmp/b.db"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Backup { ref path }) if path.ends_with("b.db"))
        );
        assert!(Cli::try_parse_from(["confab", "restore"]).is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
