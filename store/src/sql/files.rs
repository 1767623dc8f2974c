//! Files, for both backends: storing an upload (its record and its bytes), reading a
//! record and its bytes, attaching uploads to the message that names them (inside the
//! send's transaction), listing messages' files for reads, marking a deleted message's
//! files removed, and the purge sweep. Where the bytes live is the backend's own business
//! (`sqlite.rs`: files on disk beside the database; `postgres.rs`: the `file_blobs`
//! table): the generic code calls `put_parts_outside` (before the record's transaction),
//! `put_parts_inside` (within it), `read_part` and `drop_parts`. See `docs/files.md`.

use protocol::ids::{FileId, MessageId, RoomId, UserId};
use protocol::{FileView, ImageSize};
use sqlx::FromRow;
use std::collections::HashMap;
use uuid::Uuid;

use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::error::WriteError;
use crate::model::{FilePart, Message, Millis, NewFile, StoredFile, now_millis};

/// Files one purge sweep removes at most (the next sweep takes the rest).
const PURGE_BATCH: i64 = 500;

#[derive(FromRow)]
pub(super) struct FileRow {
    id: Uuid,
    room_id: Uuid,
    uploader_id: Uuid,
    message_id: Option<Uuid>,
    name: String,
    content_type: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    created_at: i64,
}

impl From<FileRow> for StoredFile {
    fn from(r: FileRow) -> StoredFile {
        StoredFile {
            id: FileId(r.id),
            room_id: RoomId(r.room_id),
            uploader_id: UserId(r.uploader_id),
            message_id: r.message_id.map(MessageId),
            name: r.name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or(0),
            image: match (r.width, r.height) {
                (Some(w), Some(h)) => Some(ImageSize {
                    width: u32::try_from(w).unwrap_or(0),
                    height: u32::try_from(h).unwrap_or(0),
                }),
                _ => None,
            },
            created_at: r.created_at,
        }
    }
}

macro_rules! file_cols {
    () => {
        "id, room_id, uploader_id, message_id, name, content_type, size, width, height, created_at"
    };
}

/// Gives each message its files from `found` (rows of attached files in their order).
pub(super) fn attach_files<'a>(
    messages: impl IntoIterator<Item = &'a mut Message>,
    found: Vec<FileRow>,
) {
    let mut by_message: HashMap<Uuid, Vec<FileView>> = HashMap::new();
    for row in found {
        if let Some(message) = row.message_id {
            by_message
                .entry(message)
                .or_default()
                .push(StoredFile::from(row).view());
        }
    }
    if by_message.is_empty() {
        return;
    }
    for m in messages {
        if let Some(files) = by_message.get(&m.id.0) {
            m.files = files.clone();
        }
    }
}

macro_rules! files {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn create_file(
                &self,
                new: &NewFile,
                original: &[u8],
                thumb: Option<&[u8]>,
            ) -> StoreResult<StoredFile> {
                let file = StoredFile {
                    id: FileId(Uuid::now_v7()),
                    room_id: new.room,
                    uploader_id: new.uploader,
                    message_id: None,
                    name: new.name.clone(),
                    content_type: new.content_type.clone(),
                    size: original.len() as u64,
                    image: new.image,
                    created_at: now_millis(),
                };
                self.put_parts_outside(file.id, original, thumb).await?;
                let stored = async {
                    let mut tx = self.write.begin().await?;
                    sqlx::query(
                        "insert into files (id, room_id, uploader_id, name, content_type, size, width, height, created_at) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(file.id.0)
                    .bind(file.room_id.0)
                    .bind(file.uploader_id.0)
                    .bind(&file.name)
                    .bind(&file.content_type)
                    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
                    .bind(file.image.map(|i| i32::try_from(i.width).unwrap_or(i32::MAX)))
                    .bind(file.image.map(|i| i32::try_from(i.height).unwrap_or(i32::MAX)))
                    .bind(file.created_at)
                    .execute(&mut *tx)
                    .await?;
                    Self::put_parts_inside(&mut tx, file.id, original, thumb).await?;
                    tx.commit().await?;
                    StoreResult::Ok(())
                }
                .await;
                if let Err(err) = stored {
                    self.drop_parts(file.id).await;
                    return Err(err);
                }
                Ok(file)
            }

            /// A file that is not removed.
            pub(super) async fn file(&self, id: FileId) -> StoreResult<Option<StoredFile>> {
                Ok(sqlx::query_as::<_, FileRow>(concat!("select ", file_cols!(), " from files where id = $1 and removed_at is null"))
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .map(StoredFile::from))
            }

            pub(super) async fn file_bytes(&self, id: FileId, part: FilePart) -> StoredResultBytes {
                if self.file(id).await?.is_none() {
                    return Ok(None);
                }
                self.read_part(id, part).await
            }

            pub(super) async fn purge_files(&self, stale_before: Millis) -> StoreResult<u64> {
                let ids: Vec<(Uuid,)> = sqlx::query_as(
                    "select id from files where removed_at is not null \
                     or (message_id is null and created_at < $1) limit $2",
                )
                .bind(stale_before)
                .bind(PURGE_BATCH)
                .fetch_all(&self.read)
                .await?;
                let mut purged = 0;
                for (id,) in ids {
                    // The bytes first: a crash between the two leaves a row the next sweep
                    // finishes, and the row is not served meanwhile (removed or unattached).
                    self.drop_parts(FileId(id)).await;
                    purged += sqlx::query(
                        "delete from files where id = $1 and (removed_at is not null or message_id is null)",
                    )
                    .bind(id)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                }
                Ok(purged)
            }

            /// How the new message will carry `files`, if every one is `author`'s upload
            /// to `room` waiting for its message (and none is named twice); otherwise the
            /// send is refused.
            pub(super) async fn attachable(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                author: UserId,
                files: &[FileId],
            ) -> StoreResult<Result<Vec<FileView>, WriteError>> {
                let mut views = Vec::with_capacity(files.len());
                for (position, id) in files.iter().enumerate() {
                    if files[..position].contains(id) {
                        return Ok(Err(WriteError::NoSuchFile));
                    }
                    let row = sqlx::query_as::<_, FileRow>(concat!("select ", file_cols!(), " from files \
                         where id = $1 and room_id = $2 and uploader_id = $3 and message_id is null and removed_at is null"))
                        .bind(id.0)
                        .bind(room.0)
                        .bind(author.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    let Some(row) = row else {
                        return Ok(Err(WriteError::NoSuchFile));
                    };
                    views.push(StoredFile::from(row).view());
                }
                Ok(Ok(views))
            }

            /// Attaches `files` ([`Self::attachable`] said they may be) to `message`, in
            /// their order.
            pub(super) async fn attach(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                message: MessageId,
                files: &[FileId],
            ) -> StoreResult<()> {
                for (position, id) in files.iter().enumerate() {
                    sqlx::query("update files set message_id = $1, position = $2 where id = $3")
                        .bind(message.0)
                        .bind(position as i32)
                        .bind(id.0)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// A deleted message's files stop being served from this transaction's commit.
            pub(super) async fn remove_files_of(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                message: MessageId,
                now: Millis,
            ) -> StoreResult<()> {
                sqlx::query("update files set removed_at = $2 where message_id = $1 and removed_at is null")
                    .bind(message.0)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// The files of the messages `message_ids` selects (a subquery with `$1`…`$3`
            /// bound to `binds`), for [`attach_files`].
            pub(super) async fn files_where<'e, E>(exec: E, message_ids: &'static str, room: RoomId, from: i64, to: i64) -> StoreResult<Vec<FileRow>>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let sql = format!(
                    concat!("select ", file_cols!(), " from files where removed_at is null and message_id in ({}) order by message_id, position"),
                    message_ids
                );
                Ok(sqlx::query_as::<_, FileRow>(sqlx::AssertSqlSafe(sql))
                    .bind(room.0)
                    .bind(from)
                    .bind(to)
                    .persistent(false)
                    .fetch_all(exec)
                    .await?)
            }

            /// The files of one message.
            pub(super) async fn files_of<'e, E>(exec: E, message: MessageId) -> StoreResult<Vec<FileView>>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                Ok(sqlx::query_as::<_, FileRow>(concat!("select ", file_cols!(), " from files where removed_at is null and message_id = $1 order by position"))
                    .bind(message.0)
                    .fetch_all(exec)
                    .await?
                    .into_iter()
                    .map(|r| StoredFile::from(r).view())
                    .collect())
            }
        }
    };
}

/// What [`SqliteStore::file_bytes`] and [`PgStore::file_bytes`] answer.
type StoredResultBytes = StoreResult<Option<Vec<u8>>>;

for_each_backend!(files);
