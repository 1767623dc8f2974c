//! People's profiles, for both backends: a bio and a time zone beside the name (each
//! empty when not set), read for a profile card and set from the settings page; and their
//! avatar pictures (`avatars`, versioned by `users.avatar_at`).

use protocol::ids::UserId;
use protocol::names::{Bio, TimeZone};

use super::{PgStore, SqliteStore};
use crate::model::{Avatar, Millis, Profile, now_millis};
use crate::{StoreError, StoreResult};

macro_rules! profiles {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn profile(&self, user: UserId) -> StoreResult<Option<Profile>> {
                let row: Option<(String, String)> =
                    sqlx::query_as("select bio, time_zone from users where id = $1")
                        .bind(user.0)
                        .fetch_optional(&self.read)
                        .await?;
                Ok(row.map(|(bio, time_zone)| Profile { bio, time_zone }))
            }

            pub(super) async fn set_profile(
                &self,
                user: UserId,
                bio: Option<&Bio>,
                time_zone: Option<&TimeZone>,
            ) -> StoreResult<bool> {
                let bio = bio.map_or("", |b| b.as_ref());
                let time_zone = time_zone.map_or("", |z| z.as_ref());
                let done = sqlx::query(
                    "update users set bio = $2, time_zone = $3 \
                     where id = $1 and (bio <> $2 or time_zone <> $3)",
                )
                .bind(user.0)
                .bind(bio)
                .bind(time_zone)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn set_avatar(
                &self,
                user: UserId,
                avatar: Option<&Avatar>,
            ) -> StoreResult<Option<Millis>> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                // A new picture's time is later than the one it replaces, so its URL differs
                // even within one millisecond.
                let at = match avatar {
                    Some(_) => Some(
                        sqlx::query_scalar::<_, Option<i64>>(
                            "select avatar_at from users where id = $1",
                        )
                        .bind(user.0)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound { what: "user" })?
                        .map_or(now_millis(), |was| now_millis().max(was + 1)),
                    ),
                    None => None,
                };
                let done = sqlx::query("update users set avatar_at = $2 where id = $1")
                    .bind(user.0)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound { what: "user" });
                }
                sqlx::query("delete from avatars where user_id = $1")
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?;
                if let Some(avatar) = avatar {
                    sqlx::query(
                        "insert into avatars (user_id, content_type, bytes) values ($1, $2, $3)",
                    )
                    .bind(user.0)
                    .bind(&avatar.content_type)
                    .bind(&avatar.bytes)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(at)
            }

            pub(super) async fn avatar(&self, user: UserId) -> StoreResult<Option<Avatar>> {
                let row: Option<(String, Vec<u8>)> =
                    sqlx::query_as("select content_type, bytes from avatars where user_id = $1")
                        .bind(user.0)
                        .fetch_optional(&self.read)
                        .await?;
                Ok(row.map(|(content_type, bytes)| Avatar {
                    content_type,
                    bytes,
                }))
            }
        }
    };
}

for_each_backend!(profiles);
