//! A room's settings, for both backends (docs/moderation.md): a moderator's change of
//! name, topic, description, visibility or archive state, applied inside a group commit's
//! transaction with a notice message recording what changed, at the room's next seq.

use protocol::ids::{RoomId, UserId};
use uuid::Uuid;

use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::error::WriteError;
use crate::model::{Notice, RoomKind, RoomUpdate, WriteOutcome};

macro_rules! room_settings {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// Applies what `wanted` changes (fields equal to the room's already are left
            /// out); refused when nothing would change.
            pub(super) async fn apply_room_update(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                moderator: UserId,
                wanted: &RoomUpdate,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                if !Self::moderates(tx, room, moderator).await? {
                    return Ok(Err(WriteError::NotModerator));
                }
                let Some(current) = Self::fetch_room_row(&mut **tx, room).await? else {
                    return Ok(Err(WriteError::NoSuchRoom));
                };
                if current.kind == RoomKind::Dm {
                    return Ok(Err(WriteError::NotARoom));
                }
                let is_private = current.kind == RoomKind::Private;
                let update = RoomUpdate {
                    name: wanted
                        .name
                        .clone()
                        .filter(|n| current.name.as_ref() != Some(n)),
                    topic: wanted.topic.clone().filter(|t| *t != current.topic),
                    description: wanted
                        .description
                        .clone()
                        .filter(|d| *d != current.description),
                    private: wanted.private.filter(|p| *p != is_private),
                    archived: wanted
                        .archived
                        .filter(|a| *a != current.archived_at.is_some()),
                };
                if update == RoomUpdate::default() {
                    return Ok(Err(WriteError::NothingToChange));
                }
                if let Some(name) = &update.name {
                    let taken: Option<(Uuid,)> =
                        sqlx::query_as("select id from rooms where name = $1 and id <> $2")
                            .bind(name.as_str())
                            .bind(room.0)
                            .fetch_optional(&mut **tx)
                            .await?;
                    if taken.is_some() {
                        return Ok(Err(WriteError::NameTaken));
                    }
                }
                let kind = update.private.map(|p| {
                    if p {
                        RoomKind::Private
                    } else {
                        RoomKind::Public
                    }
                });
                let archived_at = update.archived.map(|a| a.then_some(now));
                sqlx::query(
                    "update rooms set name = coalesce($2, name), topic = coalesce($3, topic), \
                     description = coalesce($4, description), kind = coalesce($5, kind), \
                     archived_at = case when $6 then $7 else archived_at end where id = $1",
                )
                .bind(room.0)
                .bind(update.name.as_ref().map(|n| n.as_str().to_string()))
                .bind(update.topic.clone())
                .bind(update.description.clone())
                .bind(kind.map(|k| k.as_str()))
                .bind(archived_at.is_some())
                .bind(archived_at.flatten())
                .execute(&mut **tx)
                .await?;
                Self::record_notice(
                    tx,
                    room,
                    seq,
                    now,
                    moderator,
                    Notice::RoomUpdated(update.changes()),
                )
                .await
            }
        }
    };
}

for_each_backend!(room_settings);
