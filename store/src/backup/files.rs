//! The uploaded files of a backup: SQLite keeps their bytes in a folder beside the
//! database (`files/`, see [`FileFolder`]), so a backup at `PATH` has them in
//! `PATH.files/`, and a restore puts that folder back beside the database.
//!
//! Which files: those the backup's own copy of the database names and has not marked
//! removed, so the folder matches the snapshot, not the moment it was copied. A file's
//! bytes never change once written, and they are written (and synced) before the record
//! that names them, so every such file exists unless the purge sweep deleted it after the
//! snapshot (its message was deleted since): those are counted as missing, never fatal.
//!
//! Each file is hard-linked when the backup is on the same file system (it costs no space,
//! and the bytes are already durable) and copied and synced otherwise. The folder is
//! built as `PATH.files.partial/`, synced and renamed, before the database copy is renamed
//! to `PATH`: a `PATH` that exists has its files beside it.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

use super::{BackupError, beside, io, rename_synced};
use crate::model::FilePart;
use crate::sql::sqlite_files::FileFolder;
use protocol::ids::FileId;

/// What was copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    /// Files the snapshot names, whose bytes are in the copy.
    pub files: u64,
    /// Files the snapshot names whose bytes were gone (purged after the snapshot).
    pub missing: u64,
}

/// The folder of a backup's files: `PATH.files`.
pub fn folder_of_backup(backup: &Path) -> PathBuf {
    beside(backup, ".files")
}

/// Copies the files named by the database copy `snapshot` from beside `db` into the
/// folder of the backup `out` (which the caller made sure does not exist, before taking
/// the snapshot).
pub fn back_up(db: &Path, snapshot: &Path, out: &Path) -> Result<Copied, BackupError> {
    let target = folder_of_backup(out);
    let partial = beside(&target, ".partial");
    remove_dir_if_present(&partial)?;
    std::fs::create_dir_all(&partial).map_err(io(format!("creating {}", partial.display())))?;
    let from = FileFolder::at(FileFolder::dir_beside(db));
    let to = FileFolder::at(partial.clone());
    let mut copied = Copied::default();
    for (id, has_thumb) in named_files(snapshot)? {
        let parts: &[FilePart] = if has_thumb {
            &[FilePart::Original, FilePart::Thumb]
        } else {
            &[FilePart::Original]
        };
        let mut whole = true;
        for part in parts {
            whole &= link_or_copy(&from.path(id, *part), &to.path(id, *part))?;
        }
        if whole {
            copied.files += 1;
        } else {
            copied.missing += 1;
        }
    }
    sync_dir(&partial)?;
    rename_synced(&partial, &target)?;
    Ok(copied)
}

/// Puts the files of the backup `backup` in place of the folder beside `db` (moved aside
/// to `files.before-restore-<ms>` when it holds anything). A backup without a files folder
/// (taken before files existed) leaves the folder as it is. Returns where the old folder
/// went.
pub fn restore(backup: &Path, db: &Path) -> Result<Option<PathBuf>, BackupError> {
    let source = folder_of_backup(backup);
    if !source.is_dir() {
        return Ok(None);
    }
    let dir = FileFolder::dir_beside(db);
    let incoming = beside(&dir, ".restoring");
    remove_dir_if_present(&incoming)?;
    std::fs::create_dir_all(&incoming).map_err(io(format!("creating {}", incoming.display())))?;
    let entries =
        std::fs::read_dir(&source).map_err(io(format!("reading {}", source.display())))?;
    for entry in entries {
        let entry = entry.map_err(io(format!("reading {}", source.display())))?;
        link_or_copy(&entry.path(), &incoming.join(entry.file_name()))?;
    }
    sync_dir(&incoming)?;
    let holds_any = std::fs::read_dir(&dir).map(|mut old| old.next().is_some());
    let moved = match holds_any {
        Ok(true) => {
            let aside = beside(
                &dir,
                &format!(".before-restore-{}", crate::model::now_millis()),
            );
            std::fs::rename(&dir, &aside).map_err(io(format!("moving {}", dir.display())))?;
            Some(aside)
        }
        Ok(false) => {
            std::fs::remove_dir(&dir).map_err(io(format!("removing {}", dir.display())))?;
            None
        }
        Err(_) => None,
    };
    rename_synced(&incoming, &dir)?;
    Ok(moved)
}

/// The files the database at `snapshot` names and has not marked removed, and whether
/// each has a thumbnail (the images: they have a size in pixels).
fn named_files(snapshot: &Path) -> Result<Vec<(FileId, bool)>, BackupError> {
    let conn = Connection::open_with_flags(snapshot, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("select id, width is not null from files where removed_at is null")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?)))?;
    let mut files = Vec::new();
    for row in rows {
        let (id, has_thumb) = row?;
        let id = uuid::Uuid::from_slice(&id).map_err(|e| BackupError::Unsound {
            path: snapshot.to_path_buf(),
            why: format!("a file id: {e}"),
        })?;
        files.push((FileId(id), has_thumb));
    }
    Ok(files)
}

/// Hard-links `from` at `to`, or copies it there (synced) across file systems. False when
/// `from` does not exist.
fn link_or_copy(from: &Path, to: &Path) -> Result<bool, BackupError> {
    match std::fs::hard_link(from, to) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(_) => {}
    }
    let what = || format!("copying {} to {}", from.display(), to.display());
    match std::fs::copy(from, to) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(what())(e)),
    }
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(io(what()))?;
    Ok(true)
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", dir.display())))
}

fn remove_dir_if_present(dir: &Path) -> Result<(), BackupError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("removing {}", dir.display()))(e))
        }
        _ => Ok(()),
    }
}
