//! Accounts, for both backends: users (sign-up, log-in credentials, lookup, people
//! search), display names and passwords, API tokens, deactivation, and the browser sessions
//! of the tower-sessions store (each naming its user, so a person can list and end theirs).

use protocol::ids::{TokenId, UserId};
use protocol::names::{DisplayName, Handle};
use uuid::Uuid;

use super::rows::{CredentialsRow, TokenRow, UserRow, user_cols};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::model::{ApiToken, Credentials, StoredSession, User, now_millis};
use crate::token_uses::TokenUses;

macro_rules! accounts {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn create_user(
                &self,
                handle: &Handle,
                display_name: &DisplayName,
                password_hash: &str,
            ) -> StoreResult<User> {
                let user = User {
                    id: UserId(Uuid::now_v7()),
                    handle: handle.clone(),
                    display_name: display_name.clone(),
                    created_at: now_millis(),
                    deactivated_at: None,
                    avatar_at: None,
                };
                sqlx::query(
                    "insert into users (id, handle, display_name, password_hash, created_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(user.id.0)
                .bind(handle.as_str())
                .bind(display_name.as_str())
                .bind(password_hash)
                .bind(user.created_at)
                .execute(&self.write)
                .await?;
                Ok(user)
            }

            pub(super) async fn credentials(&self, handle: &Handle) -> StoreResult<Option<Credentials>> {
                let row = sqlx::query_as::<_, CredentialsRow>(concat!("select ", user_cols!(), ", password_hash from users where handle = $1 and deactivated_at is null"))
                .bind(handle.as_str())
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| {
                    Ok(Credentials {
                        user: r.user.into_user()?,
                        password_hash: r.password_hash,
                    })
                })
                .transpose()
            }

            pub(super) async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
                let mut pattern = String::with_capacity(prefix.len() + 1);
                for c in prefix.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                sqlx::query_as::<_, UserRow>(concat!(
                    "select ", user_cols!(),
                    " from users where handle like $1 escape '\\' and deactivated_at is null \
                      order by handle limit $2"
                ))
                .bind(pattern)
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(UserRow::into_user)
                .collect()
            }

            pub(super) async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>> {
                sqlx::query_as::<_, UserRow>(concat!("select ", user_cols!(), " from users where handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(&self.read)
                    .await?
                    .map(UserRow::into_user)
                    .transpose()
            }

            pub(super) async fn create_api_token(
                &self,
                user: UserId,
                name: &str,
                secret_hash: &[u8; 32],
            ) -> StoreResult<ApiToken> {
                let token = ApiToken {
                    id: TokenId(Uuid::now_v7()),
                    user_id: user,
                    name: name.to_string(),
                    created_at: now_millis(),
                    last_used_at: None,
                    revoked_at: None,
                };
                sqlx::query(
                    "insert into api_tokens (id, user_id, name, token_hash, created_at) \
                     values ($1, $2, $3, $4, $5)",
                )
                .bind(token.id.0)
                .bind(user.0)
                .bind(name)
                .bind(&secret_hash[..])
                .bind(token.created_at)
                .execute(&self.write)
                .await?;
                Ok(token)
            }

            /// The [`TokenUses`] of a store whose writes go to `write`.
            pub(super) fn token_use_writer(write: sqlx::Pool<super::$dialect::Db>) -> TokenUses {
                TokenUses::start(Box::new(move |hashes, at| {
                    let write = write.clone();
                    Box::pin(async move {
                        let mut query = sqlx::QueryBuilder::<super::$dialect::Db>::new(
                            "update api_tokens set last_used_at = ",
                        );
                        query.push_bind(at);
                        query.push(" where token_hash in (");
                        let mut list = query.separated(", ");
                        for hash in &hashes {
                            list.push_bind(hash.to_vec());
                        }
                        query.push(")");
                        query.build().persistent(false).execute(&write).await?;
                        Ok(())
                    })
                }))
            }

            pub(super) async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
                let rows = sqlx::query_as::<_, TokenRow>(
                    "select id, user_id, name, created_at, last_used_at, revoked_at \
                     from api_tokens where user_id = $1 order by created_at desc, id desc",
                )
                .bind(user.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(ApiToken::from).collect())
            }

            pub(super) async fn revoke_api_token(&self, user: UserId, token: TokenId) -> StoreResult<bool> {
                let done = sqlx::query(
                    "update api_tokens set revoked_at = $3 \
                     where id = $1 and user_id = $2 and revoked_at is null",
                )
                .bind(token.0)
                .bind(user.0)
                .bind(now_millis())
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn deactivate_user(&self, user: UserId) -> StoreResult<bool> {
                let now = now_millis();
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                let done = sqlx::query(
                    "update users set deactivated_at = $2 where id = $1 and deactivated_at is null",
                )
                .bind(user.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "update api_tokens set revoked_at = $2 where user_id = $1 and revoked_at is null",
                )
                .bind(user.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn deactivated_since(&self, since: i64) -> StoreResult<Vec<UserId>> {
                let rows: Vec<(Uuid,)> = sqlx::query_as(
                    "select id from users where deactivated_at >= $1 order by deactivated_at",
                )
                .bind(since)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
            }

            pub(super) async fn session_save(&self, id: &str, data: &[u8], expires_at: i64, user: Option<UserId>) -> StoreResult<()> {
                sqlx::query(
                    "insert into sessions (id, data, expiry_date, user_id) values ($1, $2, $3, $4) \
                     on conflict (id) do update set data = excluded.data, expiry_date = excluded.expiry_date, \
                     user_id = excluded.user_id",
                )
                .bind(id)
                .bind(data)
                .bind(expires_at)
                .bind(user.map(|u| u.0))
                .execute(&self.write)
                .await?;
                Ok(())
            }

            pub(super) async fn session_create(&self, id: &str, data: &[u8], expires_at: i64, user: Option<UserId>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "insert into sessions (id, data, expiry_date, user_id) values ($1, $2, $3, $4) \
                     on conflict (id) do nothing",
                )
                .bind(id)
                .bind(data)
                .bind(expires_at)
                .bind(user.map(|u| u.0))
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn sessions_of(&self, user: UserId, now: i64) -> StoreResult<Vec<StoredSession>> {
                let rows: Vec<(String, Vec<u8>, i64)> = sqlx::query_as(
                    "select id, data, expiry_date from sessions where user_id = $1 and expiry_date > $2 \
                     order by expiry_date desc",
                )
                .bind(user.0)
                .bind(now)
                .fetch_all(&self.read)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, data, expires_at)| StoredSession { id, data, expires_at })
                    .collect())
            }

            pub(super) async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64> {
                let done = sqlx::query("delete from sessions where user_id = $1 and ($2 is null or id <> $2)")
                    .bind(user.0)
                    .bind(keep)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected())
            }

            pub(super) async fn set_display_name(&self, user: UserId, name: &DisplayName) -> StoreResult<bool> {
                let done = sqlx::query("update users set display_name = $2 where id = $1 and display_name <> $2")
                    .bind(user.0)
                    .bind(name.as_str())
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn set_password_hash(&self, user: UserId, password_hash: &str) -> StoreResult<bool> {
                let done = sqlx::query("update users set password_hash = $2 where id = $1")
                    .bind(user.0)
                    .bind(password_hash)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn session_delete(&self, id: &str) -> StoreResult<()> {
                sqlx::query("delete from sessions where id = $1")
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            pub(super) async fn session_delete_expired(&self, now: i64) -> StoreResult<u64> {
                let done = sqlx::query("delete from sessions where expiry_date <= $1")
                    .bind(now)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

for_each_backend!(accounts);
