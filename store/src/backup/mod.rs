//! Backups of the embedded SQLite database: [`backup`] copies it while a server uses it,
//! [`restore`] puts a copy back in place of a database no server holds.
//!
//! How: `VACUUM INTO`, not the online backup API. `VACUUM INTO` reads the database in
//! one read transaction, so the copy is the database as of one commit (a consistent prefix
//! of every room's log) while the server goes on committing beside it under WAL; the
//! backup API copies pages in steps and starts over whenever another connection writes,
//! so on a busy server it finishes only by copying everything in one step, which is the
//! same one read transaction without the compaction. `VACUUM INTO` also needs no extra
//! rusqlite feature. Its costs: it rebuilds the indexes as it writes (CPU in proportion to
//! the database), and SQLite does not sync the file it writes, so [`backup`] writes to
//! `PATH.partial`, syncs it, checks it (`PRAGMA integrity_check`) and only then renames it
//! to `PATH` and syncs the folder: a `PATH` that exists is a whole, checked copy.
//!
//! Uploaded files, kept beside the database, go with it: `PATH.files/` ([`files`]).
//!
//! [`restore`] checks the copy the same way (and that this version knows its schema), moves
//! the database it replaces aside (`<db>.before-restore-<unix ms>`, with its WAL), and
//! puts the copy in place the same way (written beside, synced, renamed). It does not know
//! whether a server holds the database: its caller must (the `confab` binary holds a lock
//! file beside the database while it serves, and `confab restore` takes it first).

pub mod files;

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a backup waits for a write lock the server holds (it only needs to read, but
/// opening may wait on a checkpoint).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The source database does not exist.
    #[error("there is no database at {0}")]
    Missing(PathBuf),
    /// The destination exists; nothing is overwritten.
    #[error("{0} exists already; choose a new path")]
    Exists(PathBuf),
    /// The copy failed its check, or is not a Confab database.
    #[error("{path} is not a sound Confab database: {why}")]
    Unsound { path: PathBuf, why: String },
    /// The copy is from a newer version of Confab than this one.
    #[error("{path} was written by a newer Confab (schema {found}; this one knows {known})")]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a checked copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The newest migration applied.
    pub schema: i64,
    pub users: i64,
    pub rooms: i64,
    pub messages: i64,
    /// Uploaded files it names and has not marked removed.
    pub files: i64,
    /// Of those, files whose bytes a backup did not find (deleted after the snapshot);
    /// always 0 from [`check`].
    pub files_missing: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Copies the SQLite database at `db` to `out` (which must not exist), consistent as of
/// one commit even while a server writes to it; returns what the copy holds.
pub fn backup(db: &Path, out: &Path) -> Result<Summary, BackupError> {
    if !db.exists() {
        return Err(BackupError::Missing(db.to_path_buf()));
    }
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let out_files = files::folder_of_backup(out);
    if out_files.exists() {
        return Err(BackupError::Exists(out_files));
    }
    let partial = beside(out, ".partial");
    remove_if_present(&partial)?;
    // Read-write without create: a read-only connection to a WAL database needs its
    // shared-memory file to exist; this one writes nothing.
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    source.busy_timeout(BUSY_TIMEOUT)?;
    let target = partial.to_str().ok_or_else(|| BackupError::Unsound {
        path: partial.clone(),
        why: "the path is not UTF-8".into(),
    })?;
    source.execute("vacuum into ?1", [target])?;
    drop(source);
    let mut summary = check(&partial).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    sync_file(&partial)?;
    let copied = files::back_up(db, &partial, out)?;
    summary.files_missing = copied.missing;
    rename_synced(&partial, out)?;
    Ok(summary)
}

/// Puts the checked copy `backup` in place of the database at `db` (any database there
/// is moved aside first, and its path returned), and its files in place of the folder
/// beside it ([`files::restore`]); the caller makes sure no server holds `db`. The copy
/// itself is left as it was.
pub fn restore(backup: &Path, db: &Path) -> Result<(Summary, Option<PathBuf>), BackupError> {
    if !backup.exists() {
        return Err(BackupError::Missing(backup.to_path_buf()));
    }
    let summary = check(backup)?;
    let known = known_schema();
    if summary.schema > known {
        return Err(BackupError::Newer {
            path: backup.to_path_buf(),
            found: summary.schema,
            known,
        });
    }
    let incoming = beside(db, ".restoring");
    remove_if_present(&incoming)?;
    std::fs::copy(backup, &incoming).map_err(io(format!(
        "copying {} to {}",
        backup.display(),
        incoming.display()
    )))?;
    sync_file(&incoming)?;
    // The files first: if that fails, the database in place is untouched.
    files::restore(backup, db)?;
    let moved = if db.exists() {
        let aside = beside(
            db,
            &format!(".before-restore-{}", crate::model::now_millis()),
        );
        // The WAL goes with its database (it may hold commits not yet in the file); the
        // shared-memory index is rebuilt from it.
        let wal = beside(db, "-wal");
        if wal.exists() {
            let wal_aside = PathBuf::from(format!("{}-wal", aside.display()));
            std::fs::rename(&wal, &wal_aside).map_err(io(format!("moving {}", wal.display())))?;
        }
        std::fs::rename(db, &aside).map_err(io(format!("moving {}", db.display())))?;
        remove_if_present(&beside(db, "-shm"))?;
        Some(aside)
    } else {
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(io(format!("creating {}", parent.display())))?;
        }
        None
    };
    rename_synced(&incoming, db)?;
    Ok((summary, moved))
}

/// Checks the database at `path` (`PRAGMA integrity_check`, and Confab's tables) and
/// counts what it holds.
pub fn check(path: &Path) -> Result<Summary, BackupError> {
    let unsound = |why: String| BackupError::Unsound {
        path: path.to_path_buf(),
        why,
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = conn
        .query_row("pragma integrity_check", [], |r| r.get(0))
        .map_err(|e| unsound(e.to_string()))?;
    if verdict != "ok" {
        return Err(unsound(verdict));
    }
    let count = |sql: &str| -> Result<i64, BackupError> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(|e| unsound(format!("{sql}: {e}")))
    };
    let summary = Summary {
        schema: count("select coalesce(max(version), 0) from _sqlx_migrations where success")?,
        users: count("select count(*) from users")?,
        rooms: count("select count(*) from rooms")?,
        messages: count("select count(*) from messages")?,
        files: count("select count(*) from files where removed_at is null")?,
        files_missing: 0,
        bytes: std::fs::metadata(path)
            .map_err(io(format!("reading {}", path.display())))?
            .len(),
    };
    Ok(summary)
}

/// The newest migration this version of Confab knows for SQLite.
fn known_schema() -> i64 {
    sqlx::migrate!("../migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> BackupError {
    move |source| BackupError::Io { what, source }
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("removing {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", path.display())))
}

/// Renames `from` to `to` and syncs their folder, so the new name survives a power loss.
fn rename_synced(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(io(format!(
        "renaming {} to {}",
        from.display(),
        to.display()
    )))?;
    let folder = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", folder.display())))
}
