//! Fresh databases for tests (feature `test-support`): a temporary SQLite file, or a new
//! database on the real Postgres server that is dropped when the test ends. Used by this
//! crate's conformance suite and by the server's integration tests.

use std::sync::Arc;

use crate::{PgStore, SqliteStore, Store};

/// A store on a fresh database, cleaned up on drop.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (give it to a server under test).
    pub url: String,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    PgDatabase { admin_url: String, name: String },
}

/// A store on a new SQLite file.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url).await.expect("open sqlite");
    TestDb {
        store: Arc::new(store),
        url,
        cleanup: Some(Cleanup::Dir(dir)),
    }
}

/// The server tests connect to (never the one the app is configured with).
pub fn postgres_admin_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A store on a new Postgres database; `None` (said loudly) when Postgres is unreachable
/// and `CI` is not set. With `CI` set, an unreachable Postgres panics.
pub async fn postgres() -> Option<TestDb> {
    use sqlx::Connection;
    let admin_url = postgres_admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(err) => {
            if std::env::var_os("CI").is_some() {
                panic!("Postgres is unreachable at {admin_url} and CI is set: {err}");
            }
            eprintln!("SKIPPED: Postgres is unreachable at {admin_url}: {err}");
            return None;
        }
    };
    let name = format!("confab_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    let store = PgStore::connect(&url).await.expect("open postgres store");
    Some(TestDb {
        store: Arc::new(store),
        url,
        cleanup: Some(Cleanup::PgDatabase { admin_url, name }),
    })
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let root = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestDb {
    /// Postgres only: takes the database away (no new connections; every open one is
    /// ended), as an outage would, or gives it back. Other databases of the server, and
    /// so other tests, are untouched.
    pub async fn set_reachable(&self, reachable: bool) {
        use sqlx::Connection;
        let Some(Cleanup::PgDatabase { admin_url, name }) = &self.cleanup else {
            panic!("set_reachable is for Postgres test databases");
        };
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to the Postgres admin database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "alter database {name} allow_connections {reachable}"
        )))
        .execute(&mut admin)
        .await
        .expect("alter database");
        if !reachable {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "select pg_terminate_backend(pid) from pg_stat_activity \
                 where datname = '{name}' and pid <> pg_backend_pid()"
            )))
            .execute(&mut admin)
            .await
            .expect("end the database's connections");
        }
    }
}

/// What the append path must never leave behind, each as a query counting its rows.
/// Postgres has no foreign keys there (migration 0013): the write path guarantees these,
/// and tests check them with [`TestDb::append_path_orphans`].
const APPEND_PATH_CHECKS: [(&str, &str); 5] = [
    (
        "messages of no room",
        "select count(*) from messages m where not exists (select 1 from rooms r where r.id = m.room_id)",
    ),
    (
        "messages by no user",
        "select count(*) from messages m where not exists (select 1 from users u where u.id = m.author_id)",
    ),
    (
        "events of no room",
        "select count(*) from room_events e where not exists (select 1 from rooms r where r.id = e.room_id)",
    ),
    (
        "events of no message",
        "select count(*) from room_events e \
         where not exists (select 1 from messages m where m.id = e.message_id)",
    ),
    (
        "messages without the event that created them",
        "select count(*) from messages m where not exists (select 1 from room_events e \
         where e.room_id = m.room_id and e.seq = m.seq and e.message_id = m.id)",
    ),
];

impl TestDb {
    /// Each broken reference the append path must never leave, with how many rows have
    /// it (empty: none). Reads the database directly, behind the store's back.
    pub async fn append_path_orphans(&self) -> Vec<(&'static str, i64)> {
        use sqlx::Connection;
        // Every count in one query (a row per check, by its index), on one connection.
        let query = APPEND_PATH_CHECKS
            .iter()
            .enumerate()
            .map(|(i, (_, count))| format!("select cast({i} as bigint), ({count})"))
            .collect::<Vec<_>>()
            .join(" union all ");
        let query = sqlx::AssertSqlSafe(query);
        let counts: Vec<(i64, i64)> = if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("open the test database");
            sqlx::query_as(query).fetch_all(&mut conn).await
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("open the test database");
            sqlx::query_as(query).fetch_all(&mut conn).await
        }
        .expect("count orphans");
        counts
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(i, count)| (APPEND_PATH_CHECKS[i as usize].0, count))
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(Cleanup::PgDatabase { admin_url, name }) = self.cleanup.take() {
            // Drop the database from a helper thread with its own runtime: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "drop database if exists {name} with (force)"
                        )))
                        .execute(&mut admin)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}
