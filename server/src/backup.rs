//! `confab backup PATH` and `confab restore PATH`: a consistent copy of the embedded SQLite
//! database taken while the server runs, and putting one back while none does. The work is
//! the store's ([`store::backup`], which says why `VACUUM INTO`); this is the command line:
//! where the database is (the same settings the server reads), the lock that keeps a
//! restore off a database in use ([`DataLock`]), and what is printed. On Postgres both
//! refuse and point to `pg_dump` (docs/reliability.md).

use anyhow::{Context, bail};
use std::path::PathBuf;

use crate::config::Settings;
use crate::data_lock::DataLock;

const POSTGRES: &str = "the database is Postgres: back it up with pg_dump or a base backup \
     (pg_basebackup), and restore with pg_restore (see docs/reliability.md)";

/// Runs `confab backup PATH`.
pub async fn backup(settings: &Settings, out: PathBuf) -> anyhow::Result<()> {
    let db = sqlite_file(settings)?;
    let summary = blocking(move || store::backup::backup(&db, &out).map(|s| (s, out))).await?;
    let (summary, out) = summary;
    println!("backed up to {}: {}", out.display(), describe(&summary));
    Ok(())
}

/// Runs `confab restore PATH`: refuses while a server holds the database.
pub async fn restore(settings: &Settings, from: PathBuf) -> anyhow::Result<()> {
    let db = sqlite_file(settings)?;
    let lock = DataLock::acquire_file(&db)?;
    let (summary, moved) = blocking(move || {
        let restored = store::backup::restore(&from, &db);
        drop(lock);
        restored
    })
    .await?;
    if let Some(moved) = moved {
        println!("moved the database it replaces to {}", moved.display());
    }
    println!("restored: {}", describe(&summary));
    Ok(())
}

fn sqlite_file(settings: &Settings) -> anyhow::Result<PathBuf> {
    match settings.store_config().sqlite_file()? {
        Some(db) => Ok(db),
        None => bail!(POSTGRES),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, store::backup::BackupError> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(work)
        .await
        .context("the backup task failed")??)
}

fn describe(s: &store::backup::Summary) -> String {
    format!(
        "{} users, {} rooms, {} messages, {} files{}, schema {}, {} bytes (integrity checked)",
        s.users,
        s.rooms,
        s.messages,
        s.files,
        match s.files_missing {
            0 => String::new(),
            n => format!(" ({n} deleted since the snapshot, not copied)"),
        },
        s.schema,
        s.bytes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn on_postgres_both_refuse_and_point_to_pg_dump() {
        let mut settings = Settings::defaults();
        settings.database_url = Some("postgres://127.0.0.1:1/none".into());
        let err = backup(&settings, PathBuf::from("x.db")).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        let err = restore(&settings, PathBuf::from("x.db")).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
    }
}
