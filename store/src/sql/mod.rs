//! The SQL implementation of [`Store`](crate::Store), written once for SQLite and Postgres.
//!
//! Both databases take `$N` placeholders through sqlx and share the schema (times in Unix
//! milliseconds, UUID ids) and the row types ([`rows`]). Each concern file holds one macro
//! that generates a backend's inherent methods for that concern, expanded for both
//! backends by `for_each_backend!` below; [`store_impl`] is the one `impl Store` of each
//! backend, one line per method. Every way the two databases differ (pools, engine name,
//! lane policy, how a write transaction begins and locks rooms, statements whose SQL
//! differs, the SQLite send thread) is in the backend's own file, [`sqlite`] or
//! [`postgres`], which the concern files reach as `super::$dialect`.
//!
//! The public `Store` stays one trait rather than one trait per concern behind an
//! umbrella: callers hold `Arc<dyn Store>` and `use store::Store`, and concern traits
//! would make every one of them import (and every `dyn` name) several traits. The split
//! by concern is kept inside this module instead.
//!
//! Dependencies go one way: the concern files use [`rows`] and the backend files;
//! [`sqlite`] uses [`sqlite_sends`]; [`sqlite_sends`] uses only [`rows`] and
//! [`crate::batch`].
//!
//! - [`accounts`]: users, API tokens, deactivation, browser sessions.
//! - [`account_reads`]: the reads that authenticate a connection (a token's owner, a
//!   session, a user by id), asked in batches.
//! - [`rooms`]: rooms, direct messages, membership, room lists, room read markers.
//! - [`public_joins`]: joining public rooms, many joins in one transaction.
//! - [`reads`]: message pages, events, one message, threads and thread read markers,
//!   with reactions and thread summaries attached.
//! - [`search`]: full-text search.
//! - [`writes`]: the group-commit write path (`write_all`, `write_in`, `lock_rooms`,
//!   `insert_sends`, `store_last_seqs`).
//! - [`changes`]: replies, edits, deletes and reactions inside that path (`apply_change`,
//!   `append_event`).
//! - [`files`]: uploaded files: their records, attaching them to messages, the purge.
//! - [`invites`]: invite links (made by members, redeemed by signed-in people).
//! - [`moderation`]: roles, pins, member removals and bans, site admins.
//! - [`room_settings`]: a moderator's change of a room's name, topic, description,
//!   visibility or archive state.
//! - [`rows`]: row types, column lists, seq and limit conversions.
//! - [`sqlite`], [`postgres`]: the backends and their dialects.
//! - [`sqlite_sends`]: SQLite's send thread for batches of plain sends.
//! - [`sqlite_files`]: SQLite's file bytes, on disk beside the database.
//! - [`store_impl`]: `impl Store` for both backends.

/// Expands a concern's macro once per backend: `(store type, backend module)`. The
/// backend module is the dialect: its `Db` type, constants and functions.
macro_rules! for_each_backend {
    ($concern:ident) => {
        $concern!(SqliteStore, sqlite);
        $concern!(PgStore, postgres);
    };
}

mod account_reads;
mod accounts;
mod changes;
mod edit_history;
mod files;
mod invites;
mod moderation;
mod postgres;
mod profiles;
mod public_joins;
mod reads;
mod room_settings;
mod rooms;
mod rows;
mod search;
mod sqlite;
pub(crate) mod sqlite_files;
mod sqlite_sends;
mod store_impl;
mod writes;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
