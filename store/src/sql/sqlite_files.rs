//! SQLite's file bytes: files on disk in a folder beside the database (`files/<id>` and
//! `files/<id>.thumb`), so the database holds only their records. A part is written to a
//! temporary name, synced, renamed into place and the folder synced, before the record
//! that names it is inserted: a record never names bytes that are not durable.

use protocol::ids::FileId;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::model::FilePart;

/// The folder of one SQLite database's files.
#[derive(Debug, Clone)]
pub struct FileFolder {
    dir: PathBuf,
}

impl FileFolder {
    /// The folder beside the database file `db` (created if missing); an in-memory
    /// database gets a fresh folder under the system's temporary directory.
    pub fn beside(db: Option<&Path>) -> std::io::Result<FileFolder> {
        let dir = match db {
            Some(db) => FileFolder::dir_beside(db),
            None => std::env::temp_dir().join(format!(
                "confab-memory-files-{}",
                uuid::Uuid::now_v7().simple()
            )),
        };
        std::fs::create_dir_all(&dir)?;
        Ok(FileFolder { dir })
    }

    /// The folder of the database file `db`'s files (which may not exist).
    pub fn dir_beside(db: &Path) -> PathBuf {
        db.parent().unwrap_or(Path::new(".")).join("files")
    }

    /// The folder `dir`, as it is (a backup's copy of one).
    pub fn at(dir: PathBuf) -> FileFolder {
        FileFolder { dir }
    }

    /// Where a part's bytes are.
    pub fn path(&self, id: FileId, part: FilePart) -> PathBuf {
        match part {
            FilePart::Original => self.dir.join(id.0.simple().to_string()),
            FilePart::Thumb => self.dir.join(format!("{}.thumb", id.0.simple())),
        }
    }

    /// Writes a file's parts durably (on a blocking thread).
    pub async fn put(
        &self,
        id: FileId,
        original: &[u8],
        thumb: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let folder = self.clone();
        let mut parts = vec![(FilePart::Original, original.to_vec())];
        if let Some(thumb) = thumb {
            parts.push((FilePart::Thumb, thumb.to_vec()));
        }
        tokio::task::spawn_blocking(move || {
            for (part, bytes) in &parts {
                folder.write_one(id, *part, bytes)?;
            }
            std::fs::File::open(&folder.dir)?.sync_all()
        })
        .await
        .map_err(|e| StoreError::Storage(Box::new(std::io::Error::other(e))))?
        .map_err(|e| StoreError::Storage(Box::new(e)))
    }

    fn write_one(&self, id: FileId, part: FilePart, bytes: &[u8]) -> std::io::Result<()> {
        let target = self.path(id, part);
        let temporary = target.with_extension("partial");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    }

    /// A part's bytes; `None` if it is not on disk.
    pub async fn read(&self, id: FileId, part: FilePart) -> Result<Option<Vec<u8>>, StoreError> {
        match tokio::fs::read(self.path(id, part)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Storage(Box::new(e))),
        }
    }

    /// Removes a file's parts (absent ones are fine).
    pub async fn remove(&self, id: FileId) {
        for part in [FilePart::Original, FilePart::Thumb] {
            if let Err(e) = tokio::fs::remove_file(self.path(id, part)).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(cause = %e, file = %id, "removing a file's bytes failed");
            }
        }
    }
}
