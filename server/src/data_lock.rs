//! The lock a serving `confab` holds on its SQLite database: an exclusive lock on the
//! file `<database>.lock` beside it (holding the server's pid), taken at start and kept
//! until the process ends (the kernel drops it even on SIGKILL). It keeps a second server
//! off the same database and `confab restore` from replacing a database in use. On
//! Postgres there is nothing to lock here: the database server owns its files.

use anyhow::{Context, bail};
use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A held lock on a SQLite database; released when dropped.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    path: PathBuf,
}

impl DataLock {
    /// Locks the SQLite database the settings open (`None` on Postgres); fails, naming
    /// the holder, when another process holds it.
    pub fn acquire(config: &store::StoreConfig) -> anyhow::Result<Option<DataLock>> {
        let Some(db) = config.sqlite_file()? else {
            return Ok(None);
        };
        DataLock::acquire_file(&db).map(Some)
    }

    /// Locks the SQLite database at `db`.
    pub fn acquire_file(db: &Path) -> anyhow::Result<DataLock> {
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let path = db.with_file_name(name);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                bail!(
                    "{} is in use by another confab process (pid {}); stop it first",
                    db.display(),
                    holder.trim()
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(DataLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_database_cannot_be_locked_again_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data").join("confab.db");
        let held = DataLock::acquire_file(&db).unwrap();
        assert_eq!(
            std::fs::read_to_string(held.path()).unwrap(),
            std::process::id().to_string()
        );
        let refused = DataLock::acquire_file(&db).unwrap_err().to_string();
        assert!(
            refused.contains("in use by another confab process"),
            "{refused}"
        );
        drop(held);
        DataLock::acquire_file(&db).expect("free again once released");
    }
}
