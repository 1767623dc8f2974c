//! Confab's durable state: users, API tokens, browser sessions, rooms, memberships,
//! messages and each room's ordered event log, behind one [`Store`] trait.
//!
//! Two backends implement it from the same SQL (`sql/`, each concern written once and
//! expanded per database): [`SqliteStore`] (the embedded default, a file under the data
//! folder) and [`PgStore`] (Postgres). Both run the migrations in
//! `migrations/{sqlite,postgres}/` at start-up and pass the one conformance suite in
//! `tests/conformance.rs`.
//!
//! [`Store`] stays one public trait (its declaration grouped by concern below) rather
//! than one trait per concern behind an umbrella: callers hold `Arc<dyn Store>` and
//! `use store::Store`, and would otherwise have to import several traits. The split by
//! concern is in the implementation (`sql/`).
//!
//! # Layout
//! - `lib.rs`: the [`Store`] trait, [`LanePolicy`], [`StoreResult`].
//! - [`model`]: the domain types the trait takes and returns.
//! - [`access`]: who may read a room, the one rule every caller uses.
//! - [`error`]: [`StoreError`] (the backend failed or refused) and [`WriteError`] (one
//!   write command was refused inside an otherwise good batch), and what a client is
//!   told about each.
//! - [`group_commit`]: [`GroupCommit`], which batches concurrent writes into one
//!   transaction per lane; callers get their seq only after commit.
//! - `batch.rs`: [`SendPlan`](batch::SendPlan), a group commit's sends decided in memory
//!   (shared by both write paths), and the `Outcomes` a group commit answers.
//! - `sql/`: the SQL implementation, generic over the two databases:
//!   - `sql/mod.rs`: how the folder fits together (one macro per concern, expanded for
//!     each backend);
//!   - `sql/accounts.rs`: users, API tokens, deactivation, browser sessions;
//!   - `sql/rooms.rs`: rooms, direct messages, membership, room lists, read markers;
//!   - `sql/reads.rs`: message pages, events, one message, threads, with reactions;
//!   - `sql/search.rs`: full-text search;
//!   - `sql/writes.rs`: the group-commit write path (`write_rooms` and its transaction);
//!   - `sql/changes.rs`: replies, edits, deletes and reactions inside that path;
//!   - `sql/files.rs`: uploaded files (records, attaching, purge); their bytes in
//!     `sql/sqlite_files.rs` (on disk) or Postgres's `file_blobs`;
//!   - `sql/moderation.rs`: roles, pins, member removals, bans, site admins;
//!   - `sql/invites.rs`: invite links;
//!   - `sql/rows.rs`: row types, column lists, seq and limit conversions;
//!   - `sql/sqlite.rs`, `sql/postgres.rs`: the two backends and every way their SQL
//!     differs;
//!   - `sql/sqlite_sends.rs`: SQLite's send thread for batches of plain sends;
//!   - `sql/store_impl.rs`: the one `impl Store` per backend, one line per method.
//! - `token_uses.rs`: when each API token was last used, written in the background.
//! - `batched_reads.rs`: point reads many callers make at once (authentication), asked
//!   in one query per batch.
//! - `batched_writes.rs`: small writes many callers make at once (joining a public room),
//!   applied in one transaction per batch.
//! - [`write_health`]: whether the store can write (readiness), kept from the writes'
//!   ends and a small write probe.
//! - [`backup`]: consistent copies of the SQLite database while it is in use, and
//!   restoring one.
//! - [`open`](open()): picks the backend from a URL and runs migrations.
//! - `testing` (feature `test-support`): fresh SQLite and Postgres databases for tests.
//!
//! # Ordering and atomicity
//! Every room has `last_seq`, and every write (new message, reply, edit, delete, reaction)
//! takes the room's next seq inside the transaction that records its event, so seqs are
//! gap-free and totally ordered per room.
//!
//! Writes go through [`GroupCommit`], which queues them on lanes as the backend's
//! [`LanePolicy`] says: one lane for every room on SQLite, a fixed number on Postgres with
//! each room always on the same lane (so its writes stay in queue order). A lane takes
//! everything waiting (up to a bound) and applies it with [`Store::write_rooms`] in one
//! transaction, which:
//! 1. locks the batch's rooms and reads their `last_seq` in one statement (Postgres:
//!    `select … for update`, in id order, so two transactions never deadlock, on any
//!    number of server processes; SQLite: the transaction begins `immediate`, holding the
//!    database's one write lock);
//! 2. gives seqs in memory, counting up from each room's `last_seq`: sends are decided by
//!    [`SendPlan`](batch::SendPlan) and written with multi-row inserts; replies, edits,
//!    deletes and reactions are applied one by one in their place; a refused command, a
//!    retried send and a reaction that changes nothing take no seq;
//! 3. stores each advanced room's new `last_seq` in one statement, and commits.
//!
//! On SQLite a batch made only of new sends is applied by a send thread on its own
//! connection ([`SqliteStore`]), the same steps in one `immediate` transaction; when it
//! meets a retried send it rolls back and the batch goes the general way.

pub mod access;
pub mod backup;
mod batch;
mod batched_reads;
mod batched_writes;
pub mod error;
pub mod group_commit;
pub mod model;
mod open;
mod sql;
mod token_uses;
pub mod write_health;

#[cfg(feature = "test-support")]
pub mod testing;

pub use access::{RoomAccess, room_access};
pub use error::{StoreError, WriteError};
pub use group_commit::{Committing, GroupCommit};
pub use model::*;
pub use open::{StoreConfig, open};
pub use sql::{PgStore, SqliteStore};

use async_trait::async_trait;
use protocol::ids::{FileId, MessageId, RoomId, TokenId, UserId};
use protocol::names::{DisplayName, Handle, RoomName};

/// How [`GroupCommit`] batches writes for a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanePolicy {
    /// One lane for every room: writes to all rooms share transactions (SQLite, which
    /// takes one writer at a time anyway, pays one fsync per batch instead of per room).
    Single,
    /// Rooms are spread over this many lanes by id (a room always uses the same one, which
    /// keeps its order); the lanes commit in parallel and each transaction takes whatever
    /// its rooms have waiting (Postgres: enough commits in flight to use its group commit,
    /// few enough that each carries many sends).
    Sharded { lanes: u16 },
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Durable state. Every method is one transaction (or one statement); none leaves partial
/// state behind on error.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn engine(&self) -> &'static str;

    /// Cheap reachability check (for readiness probes).
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the store can write (for readiness probes): known from the last write when
    /// it is recent, otherwise found by a small real write; [`StoreError::Storage`] while
    /// the database cannot write (disk full, read-only, I/O error). See [`write_health`].
    async fn check_writes(&self) -> StoreResult<()>;

    // --- users -------------------------------------------------------------------------

    /// Creates a user. [`StoreError::Conflict`] if the handle is taken.
    async fn create_user(
        &self,
        handle: &Handle,
        display_name: &DisplayName,
        password_hash: &str,
    ) -> StoreResult<User>;

    /// The user and password hash for a handle, for log-in.
    async fn credentials(&self, handle: &Handle) -> StoreResult<Option<Credentials>>;

    /// A user by id.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;

    /// Users whose handle starts with `prefix` (already a lower-case handle fragment), by
    /// handle, at most `limit`. `_`, `%` and a backslash in the
    /// prefix match themselves.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>>;

    /// A user by handle.
    async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>>;

    /// `user`'s bio and time zone; `None` if there is no such user.
    async fn profile(&self, user: UserId) -> StoreResult<Option<Profile>>;

    /// Sets `user`'s bio and time zone (`None` clears one). `false` if they were so already.
    async fn set_profile(
        &self,
        user: UserId,
        bio: Option<&protocol::names::Bio>,
        time_zone: Option<&protocol::names::TimeZone>,
    ) -> StoreResult<bool>;

    /// Sets `user`'s avatar picture, or removes it (`None`), and returns when the one now
    /// shown was set (`User::avatar_at`; `None` once removed). Each new picture gets a
    /// later time than the one before. `NotFound` if there is no such user.
    async fn set_avatar(
        &self,
        user: UserId,
        avatar: Option<&Avatar>,
    ) -> StoreResult<Option<Millis>>;

    /// `user`'s avatar picture, if they set one.
    async fn avatar(&self, user: UserId) -> StoreResult<Option<Avatar>>;

    // --- API tokens --------------------------------------------------------------------

    /// Records a token by the SHA-256 of its secret (the secret itself is never stored).
    async fn create_api_token(
        &self,
        user: UserId,
        name: &str,
        secret_hash: &[u8; 32],
    ) -> StoreResult<ApiToken>;

    /// The owner of an unrevoked token, by secret hash (a read: every lookup sees a
    /// revocation as soon as it commits). The use time is recorded within about a second.
    async fn user_by_token_hash(&self, secret_hash: &[u8; 32]) -> StoreResult<Option<User>>;

    /// A user's tokens, newest first (revoked ones included, marked).
    async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;

    /// Revokes one of `user`'s tokens. `false` if there is no such unrevoked token of theirs.
    async fn revoke_api_token(&self, user: UserId, token: TokenId) -> StoreResult<bool>;

    // --- deactivation ------------------------------------------------------------------

    /// Deactivates an account: it can no longer log in, its tokens are revoked, it leaves
    /// people search, and sessions holding it resolve to no one. Its messages stay.
    /// `false` if it was deactivated already.
    async fn deactivate_user(&self, user: UserId) -> StoreResult<bool>;

    /// Users deactivated at or after `since` (Unix milliseconds), so that every node can
    /// close their live connections.
    async fn deactivated_since(&self, since: Millis) -> StoreResult<Vec<UserId>>;

    // --- browser sessions (the tower-sessions store) -------------------------------------

    /// Inserts or replaces a session record, signed in as `user` or not. `expires_at` is
    /// in Unix seconds.
    async fn session_save(
        &self,
        id: &str,
        data: &[u8],
        expires_at: i64,
        user: Option<UserId>,
    ) -> StoreResult<()>;

    /// Inserts a session record only if the id is unused; `false` if it was taken.
    async fn session_create(
        &self,
        id: &str,
        data: &[u8],
        expires_at: i64,
        user: Option<UserId>,
    ) -> StoreResult<bool>;

    /// `user`'s sessions that have not expired at `now` (Unix seconds), the latest-used
    /// first.
    async fn sessions_of(&self, user: UserId, now: i64) -> StoreResult<Vec<StoredSession>>;

    /// Ends every session of `user` but `keep`; returns how many.
    async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64>;

    /// Changes a user's display name. `false` if it was so already.
    async fn set_display_name(&self, user: UserId, name: &DisplayName) -> StoreResult<bool>;

    /// Replaces a user's password hash (an argon2 PHC string).
    async fn set_password_hash(&self, user: UserId, password_hash: &str) -> StoreResult<bool>;

    /// A session record that has not expired at `now` (Unix seconds).
    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<Vec<u8>>>;

    /// Deletes a session record (absent is fine).
    async fn session_delete(&self, id: &str) -> StoreResult<()>;

    /// Deletes every record expired at `now`; returns how many.
    async fn session_delete_expired(&self, now: i64) -> StoreResult<u64>;

    // --- rooms and membership ------------------------------------------------------------

    /// Creates a public or private room with `creator` as its first member.
    /// [`StoreError::Conflict`] if the name is taken; [`StoreError::Invalid`] for `Dm`.
    async fn create_room(
        &self,
        creator: UserId,
        kind: RoomKind,
        name: &RoomName,
        topic: &str,
    ) -> StoreResult<Room>;

    /// The direct-message room of two distinct users, created (with both as members) on
    /// first use. The same room whichever of the two asks.
    async fn open_dm(&self, a: UserId, b: UserId) -> StoreResult<Room>;

    /// The group direct message of `creator` and `others` (2 to
    /// [`protocol::GROUP_DM_MAX`] − 1 distinct users besides the creator), created with
    /// all of them as members on first use: one room per set of people, whoever of them
    /// asks. `Invalid` for too few or too many people or a repeated one; `NotFound` for an
    /// unknown one.
    async fn open_group_dm(&self, creator: UserId, others: &[UserId]) -> StoreResult<Room>;

    /// A room by id.
    async fn room(&self, id: RoomId) -> StoreResult<Option<Room>>;

    /// A public or private room by name.
    async fn room_by_name(&self, name: &RoomName) -> StoreResult<Option<Room>>;

    /// Every public room, by name.
    async fn public_rooms(&self) -> StoreResult<Vec<Room>>;

    /// Joins a public room. `Ok(true)` if newly joined, `Ok(false)` if already a member;
    /// [`StoreError::Forbidden`] for a private or DM room.
    async fn join_public(&self, room: RoomId, user: UserId) -> StoreResult<bool>;

    /// `inviter` (a member) adds `invitee` to a private room. `Ok(false)` if already a
    /// member; [`StoreError::Forbidden`] if the inviter is not a member or the room is a DM.
    async fn invite(&self, room: RoomId, inviter: UserId, invitee: UserId) -> StoreResult<bool>;

    /// Leaves a room (not a DM). `false` if not a member.
    async fn leave(&self, room: RoomId, user: UserId) -> StoreResult<bool>;

    /// The membership of `user` in `room`, if any.
    async fn membership(&self, room: RoomId, user: UserId) -> StoreResult<Option<Membership>>;

    /// Every member of a room, by handle.
    async fn members(&self, room: RoomId) -> StoreResult<Vec<User>>;

    /// The rooms `user` belongs to with unread and mention counts, DMs naming the other
    /// user.
    async fn rooms_of(&self, user: UserId) -> StoreResult<Vec<RoomSummary>>;

    /// Every member's read marker in `room` (for read receipts), by user id.
    async fn read_markers(&self, room: RoomId) -> StoreResult<Vec<(UserId, u64)>>;

    /// Moves the read marker forward to `seq` (never backwards, never past the room's last
    /// seq). Returns the marker after the call. [`StoreError::NotFound`] if not a member.
    async fn mark_read(&self, room: RoomId, user: UserId, seq: u64) -> StoreResult<u64>;

    // --- messages --------------------------------------------------------------------------

    /// Applies write commands to one room in one transaction, in order, each taking the
    /// room's next seq. A refused command ([`WriteError`]) takes no seq and does not
    /// affect the others. A send whose `(author, client_msg_id)` already exists in the room
    /// is not applied again: its original event comes back as [`WriteOutcome::Duplicate`].
    /// A reaction that changes nothing (added twice, removed when absent) takes no seq
    /// either: [`WriteOutcome::Unchanged`].
    /// Callers normally go through [`GroupCommit`], which batches concurrent commands.
    async fn write_batch(
        &self,
        room: RoomId,
        commands: &[WriteCommand],
    ) -> StoreResult<Vec<Result<WriteOutcome, WriteError>>>;

    /// [`Store::write_batch`] for several rooms in one transaction (one commit, one
    /// fsync): results come back in the order of `batches`. A backend with a single
    /// writer (SQLite) is fastest this way; see [`Store::lane_policy`].
    async fn write_rooms(
        &self,
        batches: &[(RoomId, Vec<WriteCommand>)],
    ) -> StoreResult<Vec<Vec<Result<WriteOutcome, WriteError>>>>;

    /// How [`GroupCommit`] should group writes into transactions for this backend.
    fn lane_policy(&self) -> LanePolicy;

    /// The newest `limit` messages of a room, oldest first. Every read of messages (pages,
    /// events, one message) gives each its current reactions.
    async fn latest(&self, room: RoomId, limit: u32) -> StoreResult<Page>;

    /// The `limit` messages just before `before_seq`, oldest first (scrollback).
    async fn before(&self, room: RoomId, before_seq: u64, limit: u32) -> StoreResult<Page>;

    /// Events with seq > `after_seq`, oldest first, at most `limit` (resume). Each carries
    /// the message's current state.
    async fn events_after(
        &self,
        room: RoomId,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;

    /// One message by id.
    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>>;

    /// The earlier bodies of `message` of `room`, oldest first (each edit keeps the body it
    /// replaced); none for a message never edited, deleted, or not of `room`.
    async fn edit_history(&self, room: RoomId, message: MessageId) -> StoreResult<Vec<Revision>>;

    /// The thread of `root` in `room`: the root and up to `limit` of its newest replies,
    /// oldest first; `None` if `root` is not a message of `room` that starts threads.
    async fn thread(
        &self,
        room: RoomId,
        root: MessageId,
        limit: u32,
    ) -> StoreResult<Option<Thread>>;

    /// Moves `user`'s read marker in the thread of `root` forward to `seq` (never back).
    /// Returns the marker after the call.
    async fn mark_thread_read(&self, root: MessageId, user: UserId, seq: u64) -> StoreResult<u64>;

    /// `user`'s read markers in the threads of `room`, by root.
    async fn thread_reads(&self, room: RoomId, user: UserId) -> StoreResult<Vec<(MessageId, u64)>>;

    // --- search ----------------------------------------------------------------------------

    /// Full-text search: messages holding every word of `query` (each as a prefix, any
    /// case; the words are [`protocol::search::terms`], so no query syntax reaches the
    /// database) in the rooms `reader` is a member of, best match first and newer first
    /// among equals, at most `limit`. Never a deleted message, never one of a room the
    /// reader is not in. A query without words finds nothing. Hits carry no reactions
    /// (the one read of messages that does not: a hit shows its text).
    async fn search(&self, reader: UserId, query: &str, limit: u32) -> StoreResult<Vec<Message>>;

    // --- moderation (docs/moderation.md) ------------------------------------------------
    // Pins and removals are write commands ([`WriteCommand::Pin`],
    // [`WriteCommand::RemoveMember`]), in the room's order; a moderator's delete is
    // [`WriteCommand::Delete`].

    /// `actor` makes `member` an admin or a member again ([`Role::Owner`] is refused:
    /// [`StoreError::Invalid`]). Any moderator makes admins; only the owner or a site
    /// admin demotes one; nobody changes the owner ([`StoreError::Forbidden`]).
    /// [`StoreError::NotFound`] if `member` is not a member. `false` if it was so already.
    /// [`WriteCommand::SetRole`] written alone: a change is a notice in the room's order
    /// (servers send it through [`GroupCommit`], which announces it).
    async fn set_role(
        &self,
        room: RoomId,
        actor: UserId,
        member: UserId,
        role: Role,
    ) -> StoreResult<bool>;

    /// A moderator lets a banned user back. `false` if they were not banned.
    async fn unban(&self, room: RoomId, actor: UserId, user: UserId) -> StoreResult<bool>;

    /// The users banned from `room`, by handle.
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<User>>;

    /// Makes `user` a site admin or takes it back. `false` if it was so already.
    async fn set_site_admin(&self, user: UserId, admin: bool) -> StoreResult<bool>;

    /// Whether `user` is a site admin.
    async fn is_site_admin(&self, user: UserId) -> StoreResult<bool>;

    /// Every member's role in `room`.
    async fn roles(&self, room: RoomId) -> StoreResult<Vec<(UserId, Role)>>;

    /// The room's pinned messages (not deleted), newest pin first, at most 100.
    async fn pins(&self, room: RoomId) -> StoreResult<Vec<Message>>;

    // --- invite links --------------------------------------------------------------------

    /// A member of `room` (not a DM, not archived) makes an invite link whose secret has
    /// this SHA-256, valid until `expires_at` (Unix ms).
    async fn create_invite(
        &self,
        room: RoomId,
        creator: UserId,
        secret_hash: &[u8; 32],
        expires_at: Millis,
    ) -> StoreResult<()>;

    /// `user` joins the room of the link whose secret has this SHA-256: the room, and
    /// whether they were not a member yet. [`StoreError::NotFound`] for no such link;
    /// [`StoreError::Forbidden`] when it expired before `now`, the room is archived or
    /// the user is banned from it.
    async fn redeem_invite(
        &self,
        secret_hash: &[u8; 32],
        user: UserId,
        now: Millis,
    ) -> StoreResult<(Room, bool)>;

    // --- files -----------------------------------------------------------------------------

    /// Stores an upload: its record and its bytes (and an image's thumbnail), durably,
    /// before it returns. The file waits for the send that names it
    /// ([`WriteCommand::Send`]'s `files`); one never attached is purged after a while.
    async fn create_file(
        &self,
        file: &NewFile,
        original: &[u8],
        thumb: Option<&[u8]>,
    ) -> StoreResult<StoredFile>;

    /// A file's record; `None` if there is no such file or its message was deleted.
    async fn file(&self, id: FileId) -> StoreResult<Option<StoredFile>>;

    /// A file's bytes, or its thumbnail's; `None` where [`Store::file`] is `None` or the
    /// file has no such part.
    async fn file_bytes(&self, id: FileId, part: FilePart) -> StoreResult<Option<Vec<u8>>>;

    /// Removes, bytes and records, the files of deleted messages and the uploads created
    /// before `stale_before` (Unix ms) that no message names; at most a few hundred a
    /// call. Returns how many.
    async fn purge_files(&self, stale_before: Millis) -> StoreResult<u64>;
}
