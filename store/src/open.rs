//! Choosing and opening the store: Postgres when a `postgres://` URL is given, otherwise
//! SQLite (a `sqlite://` URL, or `confab.db` in the data folder by default).

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::StoreError;
use crate::sql::{PgStore, SqliteStore};
use crate::{Store, StoreResult};

/// Where the store lives.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `postgres://…`, `sqlite://…`, or `None` for the embedded default.
    pub database_url: Option<String>,
    /// Folder for the default SQLite file (created if missing).
    pub data_dir: PathBuf,
}

impl StoreConfig {
    /// The SQLite database file this configuration opens; `None` on Postgres.
    /// [`StoreError::Invalid`] for an in-memory database or a URL of neither kind.
    pub fn sqlite_file(&self) -> StoreResult<Option<PathBuf>> {
        match self.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(None)
            }
            Some(url) if url.contains(":memory:") => Err(StoreError::Invalid {
                reason: "an in-memory SQLite database has no file",
            }),
            Some(url) if url.starts_with("sqlite:") => {
                use std::str::FromStr;
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
                Ok(Some(options.get_filename().to_path_buf()))
            }
            Some(_) => Err(StoreError::Invalid {
                reason: "DATABASE_URL must start with postgres://, postgresql:// or sqlite:",
            }),
            None => Ok(Some(self.data_dir.join(DEFAULT_FILE))),
        }
    }
}

/// The embedded default's file name in the data folder.
const DEFAULT_FILE: &str = "confab.db";

/// Opens the configured store and applies its migrations.
pub async fn open(config: &StoreConfig) -> StoreResult<Arc<dyn Store>> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some(_) => Err(StoreError::Invalid {
            reason: "DATABASE_URL must start with postgres://, postgresql:// or sqlite:",
        }),
        None => {
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
            let path = config.data_dir.join(DEFAULT_FILE);
            let url = format!("sqlite://{}", path.display());
            Ok(Arc::new(SqliteStore::open(&url).await?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: Option<&str>) -> StoreConfig {
        StoreConfig {
            database_url: url.map(str::to_owned),
            data_dir: PathBuf::from("data"),
        }
    }

    #[test]
    fn the_sqlite_file_is_the_one_the_store_opens() {
        assert_eq!(
            config(None).sqlite_file().unwrap(),
            Some(PathBuf::from("data/confab.db"))
        );
        assert_eq!(
            config(Some("sqlite:///srv/chat/c.db"))
                .sqlite_file()
                .unwrap(),
            Some(PathBuf::from("/srv/chat/c.db"))
        );
        assert_eq!(config(Some("postgres://h/db")).sqlite_file().unwrap(), None);
        assert!(config(Some("sqlite::memory:")).sqlite_file().is_err());
        assert!(config(Some("mysql://h/db")).sqlite_file().is_err());
    }
}
