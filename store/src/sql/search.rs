//! Full-text search of messages, for both backends. The query text and the terms syntax
//! differ by database: see `SEARCH` and `full_text_query` in [`super::sqlite`] and
//! [`super::postgres`].

use protocol::ids::UserId;

use super::rows::{MessageRow, limit_in};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::model::Message;

macro_rules! search {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn search(
                &self,
                reader: UserId,
                query: &str,
                limit: u32,
            ) -> StoreResult<Vec<Message>> {
                let terms = protocol::search::terms(query);
                if terms.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(sqlx::query_as::<_, MessageRow>(super::$dialect::SEARCH)
                    .bind(reader.0)
                    .bind(super::$dialect::full_text_query(&terms))
                    .bind(limit_in(limit))
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(Message::from)
                    .collect())
            }
        }
    };
}

for_each_backend!(search);
