//! A message's edit history, for both backends: an edit keeps the body it replaces (in
//! the edit's transaction, under the edit's seq), a delete removes them all with the body,
//! and a read lists them oldest first, only through the message's own room.

use protocol::ids::{MessageId, RoomId};

use super::rows::seq_out;
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::model::Revision;

macro_rules! edit_history {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// Keeps `body`, which the edit at `seq` (at `now`) replaces.
            pub(super) async fn keep_revision(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                message: MessageId,
                seq: i64,
                now: i64,
                body: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "insert into message_edits (message_id, seq, replaced_at, body) values ($1, $2, $3, $4)",
                )
                .bind(message.0)
                .bind(seq)
                .bind(now)
                .bind(body)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Forgets every earlier body of a message being deleted.
            pub(super) async fn forget_revisions(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                message: MessageId,
            ) -> StoreResult<()> {
                sqlx::query("delete from message_edits where message_id = $1")
                    .bind(message.0)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            pub(super) async fn edit_history(
                &self,
                room: RoomId,
                message: MessageId,
            ) -> StoreResult<Vec<Revision>> {
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                    "select e.seq, e.replaced_at, e.body from message_edits e \
                     join messages m on m.id = e.message_id \
                     where e.message_id = $1 and m.room_id = $2 and not m.deleted \
                     order by e.seq",
                )
                .bind(message.0)
                .bind(room.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(seq, replaced_at, body)| Revision {
                        seq: seq_out(seq),
                        replaced_at,
                        body,
                    })
                    .collect())
            }
        }
    };
}

for_each_backend!(edit_history);
