//! People's profiles, for both backends: a bio and a time zone beside the name (each
//! empty when not set), read for a profile card and set from the settings page.

use protocol::ids::UserId;
use protocol::names::{Bio, TimeZone};

use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::model::Profile;

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
        }
    };
}

for_each_backend!(profiles);
