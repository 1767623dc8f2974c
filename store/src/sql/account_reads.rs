//! The reads that authenticate a connection, for both backends, asked in batches
//! ([`BatchedReads`]): a user by the hash of an API token, a browser session's record, and
//! a user by id (what a session names). A reconnect storm asks thousands of them at once;
//! each batch is one `… in (…)` query on the read pool.

use protocol::ids::UserId;
use uuid::Uuid;

use super::rows::{UserRow, user_cols};
use super::{PgStore, SqliteStore};
use crate::batched_reads::BatchedReads;
use crate::model::User;

/// A session's record: its data and when it expires (Unix ms).
pub(crate) type SessionRecord = (Vec<u8>, i64);

/// The batched lookups of one store.
#[derive(Clone)]
pub(crate) struct AccountReads {
    /// Token hash → its owner, for tokens not revoked.
    pub(crate) token_owner: BatchedReads<[u8; 32], User>,
    /// Session id → its record, expired or not (the caller compares the expiry).
    pub(crate) session: BatchedReads<String, SessionRecord>,
    /// User id → the user.
    pub(crate) user: BatchedReads<Uuid, User>,
}

#[derive(sqlx::FromRow)]
struct TokenOwnerRow {
    token_hash: Vec<u8>,
    #[sqlx(flatten)]
    user: UserRow,
}

macro_rules! account_reads {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// Starts the batched lookups of a store that reads from `read`.
            pub(super) fn account_reads(read: sqlx::Pool<super::$dialect::Db>) -> AccountReads {
                let pool = read.clone();
                let token_owner = BatchedReads::start(Box::new(move |hashes: Vec<[u8; 32]>| {
                    let pool = pool.clone();
                    Box::pin(async move {
                        let hashes = hashes.iter().map(|h| h.to_vec());
                        let rows: Vec<TokenOwnerRow> = Self::select_in(
                            "select t.token_hash, u.id, u.handle, u.display_name, u.created_at, \
                             u.deactivated_at, u.avatar_at from api_tokens t join users u on u.id = t.user_id \
                             where t.revoked_at is null and t.token_hash in (",
                            hashes,
                            &pool,
                        )
                        .await?;
                        let mut found = Vec::with_capacity(rows.len());
                        for row in rows {
                            let Ok(hash) = <[u8; 32]>::try_from(row.token_hash.as_slice()) else {
                                continue;
                            };
                            found.push((hash, row.user.into_user()?));
                        }
                        Ok(found)
                    })
                }));
                let pool = read.clone();
                let session = BatchedReads::start(Box::new(move |ids: Vec<String>| {
                    let pool = pool.clone();
                    Box::pin(async move {
                        let rows: Vec<(String, Vec<u8>, i64)> = Self::select_in(
                            "select id, data, expiry_date from sessions where id in (",
                            ids,
                            &pool,
                        )
                        .await?;
                        Ok(rows.into_iter().map(|(id, data, expiry)| (id, (data, expiry))).collect())
                    })
                }));
                let pool = read;
                let user = BatchedReads::start(Box::new(move |ids: Vec<Uuid>| {
                    let pool = pool.clone();
                    Box::pin(async move {
                        let rows: Vec<UserRow> = Self::select_in(
                            concat!("select ", user_cols!(), " from users where id in ("),
                            ids,
                            &pool,
                        )
                        .await?;
                        let mut found = Vec::with_capacity(rows.len());
                        for row in rows {
                            let user = row.into_user()?;
                            found.push((user.id.0, user));
                        }
                        Ok(found)
                    })
                }));
                AccountReads { token_owner, session, user }
            }

            /// The rows `select` (a query ending in `in (`) finds for `keys`: one query.
            async fn select_in<K, R>(
                select: &'static str,
                keys: impl IntoIterator<Item = K>,
                pool: &sqlx::Pool<super::$dialect::Db>,
            ) -> crate::StoreResult<Vec<R>>
            where
                K: for<'q> sqlx::Encode<'q, super::$dialect::Db> + sqlx::Type<super::$dialect::Db> + Send + 'static,
                R: for<'r> sqlx::FromRow<'r, <super::$dialect::Db as sqlx::Database>::Row> + Send + Unpin,
            {
                let mut query = sqlx::QueryBuilder::<super::$dialect::Db>::new(select);
                let mut list = query.separated(", ");
                for key in keys {
                    list.push_bind(key);
                }
                query.push(")");
                Ok(query.build_query_as().persistent(false).fetch_all(pool).await?)
            }

            /// The user `id`, active or not.
            pub(super) async fn user(&self, id: UserId) -> crate::StoreResult<Option<User>> {
                self.account_reads.user.get(id.0).await
            }

            /// A read: the use is noted for the token-use writer to write later, so a
            /// storm of reconnecting bots queues nothing on the writer.
            pub(super) async fn user_by_token_hash(&self, secret_hash: &[u8; 32]) -> crate::StoreResult<Option<User>> {
                let Some(owner) = self.account_reads.token_owner.get(*secret_hash).await? else {
                    return Ok(None);
                };
                self.token_uses.note(secret_hash);
                Ok(Some(owner).filter(User::is_active))
            }

            pub(super) async fn session_load(&self, id: &str, now: i64) -> crate::StoreResult<Option<Vec<u8>>> {
                let record = self.account_reads.session.get(id.to_owned()).await?;
                Ok(record.filter(|(_, expires)| *expires > now).map(|(data, _)| data))
            }
        }
    };
}

for_each_backend!(account_reads);
