//! Invite links, for both backends: a member makes a link that lets a signed-in person
//! join the room (a private one included) until it expires. Only the SHA-256 of a link's
//! secret is stored, as for API tokens.

use protocol::ids::{RoomId, UserId};
use uuid::Uuid;

use super::{PgStore, SqliteStore};
use crate::model::{Millis, Room, RoomKind, now_millis};
use crate::{StoreError, StoreResult};

macro_rules! invites {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn create_invite(
                &self,
                room: RoomId,
                creator: UserId,
                secret_hash: &[u8; 32],
                expires_at: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind == RoomKind::Dm {
                    return Err(StoreError::Forbidden { reason: "nobody can be added to a direct message" });
                }
                if found.archived_at.is_some() {
                    return Err(StoreError::Forbidden { reason: "this room is archived" });
                }
                if Self::standing(&mut *tx, room, creator).await?.0.is_none() {
                    return Err(StoreError::Forbidden { reason: "only members can invite" });
                }
                sqlx::query(
                    "insert into room_invites (token_hash, room_id, created_by, created_at, expires_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(&secret_hash[..])
                .bind(room.0)
                .bind(creator.0)
                .bind(now_millis())
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            pub(super) async fn redeem_invite(
                &self,
                secret_hash: &[u8; 32],
                user: UserId,
                now: Millis,
            ) -> StoreResult<(Room, bool)> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                let row: Option<(Uuid, i64)> = sqlx::query_as(
                    "select room_id, expires_at from room_invites where token_hash = $1",
                )
                .bind(&secret_hash[..])
                .fetch_optional(&mut *tx)
                .await?;
                let Some((room, expires_at)) = row else {
                    return Err(StoreError::NotFound { what: "invite" });
                };
                if expires_at <= now {
                    return Err(StoreError::Forbidden { reason: "this invite link has expired" });
                }
                let room = RoomId(room);
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.archived_at.is_some() {
                    return Err(StoreError::Forbidden { reason: "this room is archived" });
                }
                if Self::is_banned(&mut *tx, room, user).await? {
                    return Err(StoreError::Forbidden { reason: "banned from this room by its moderators" });
                }
                let joined = Self::insert_member(&mut *tx, room, user).await?;
                tx.commit().await?;
                Ok((found, joined))
            }
        }
    };
}

for_each_backend!(invites);
