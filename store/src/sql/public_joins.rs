//! Joining public rooms, for both backends, in batches ([`BatchedWrites`]): a room of
//! thousands filling up at once joins its members in a few transactions, one commit (and
//! on SQLite one fsync) each, instead of one each. Each join is decided on its own, as
//! alone: a missing room, a room that is not public and a ban refuse that join only.

use protocol::ids::{RoomId, UserId};
use std::collections::HashMap;

use super::rooms::BANNED;
use super::{PgStore, SqliteStore};
use crate::batched_writes::BatchedWrites;
use crate::model::RoomKind;
use crate::{StoreError, StoreResult};

/// The batched joins of one store: (room, user) → whether the user was newly added.
pub(crate) type PublicJoins = BatchedWrites<(RoomId, UserId), bool>;

macro_rules! public_joins {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// Starts the batched joins of a store that writes through `write`.
            pub(super) fn public_joins(write: sqlx::Pool<super::$dialect::Db>) -> PublicJoins {
                BatchedWrites::start(Box::new(move |joins: Vec<(RoomId, UserId)>| {
                    let pool = write.clone();
                    Box::pin(async move {
                        let mut tx = pool.begin_with(super::$dialect::BEGIN_WRITE).await?;
                        // Each room's kind, read once per transaction.
                        let mut kinds: HashMap<RoomId, Option<RoomKind>> = HashMap::new();
                        let mut outcomes = Vec::with_capacity(joins.len());
                        for (room, user) in joins {
                            let kind = match kinds.get(&room) {
                                Some(kind) => *kind,
                                None => {
                                    let kind =
                                        Self::fetch_room_row(&mut *tx, room).await?.map(|r| r.kind);
                                    kinds.insert(room, kind);
                                    kind
                                }
                            };
                            outcomes.push(match kind {
                                None => Err(StoreError::NotFound { what: "room" }),
                                Some(RoomKind::Public) => {
                                    if Self::is_banned(&mut *tx, room, user).await? {
                                        Err(StoreError::Forbidden { reason: BANNED })
                                    } else {
                                        Ok(Self::insert_member(&mut *tx, room, user).await?)
                                    }
                                }
                                Some(_) => Err(StoreError::Forbidden {
                                    reason: "only public rooms can be joined freely",
                                }),
                            });
                        }
                        tx.commit().await?;
                        Ok(outcomes)
                    })
                }))
            }

            /// Joins `room` if it is public and `user` is not banned from it: whether the
            /// user was newly added. Applied with the other joins waiting.
            pub(super) async fn join_public(
                &self,
                room: RoomId,
                user: UserId,
            ) -> StoreResult<bool> {
                self.public_joins.apply((room, user)).await
            }
        }
    };
}

for_each_backend!(public_joins);
