//! Store errors. [`StoreError`] fails a whole call; [`WriteError`] refuses one command of
//! a batch. What a client is told about either is decided here, once:
//! [`StoreError::client_error`] and [`WriteError::client_error`] give the protocol
//! [`ErrorCode`] and message; the code gives the HTTP status ([`ErrorCode::http_status`]).
//!
//! A database that cannot write (disk full, read-only file system, I/O error; Postgres out
//! of space or in recovery) is [`StoreError::Storage`], told apart here from every engine's
//! codes ([`storage_fault`] for sqlx, [`StoreError::from_rusqlite`] for the SQLite send
//! thread): it is `unavailable` to clients like a database that is down, and it is what
//! makes the store report that it cannot write ([`crate::write_health`]).

use protocol::errors::ErrorCode;
use std::borrow::Cow;
use thiserror::Error;

/// What an `unavailable` error says. When the store fails during a commit, the write may
/// still have been stored; a retry with the same `client_msg_id` is acked with it (and
/// never stores it twice), so that is what the client is told to do.
pub const UNAVAILABLE_MESSAGE: &str =
    "the store is unavailable; retry later with the same client_msg_id (never stored twice)";

/// A store call failed or was refused.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique value is taken (`what` names it: `handle`, `room name`, …).
    #[error("{what} is already taken")]
    Conflict { what: &'static str },
    /// The thing acted on does not exist.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The caller may not do this.
    #[error("forbidden: {reason}")]
    Forbidden { reason: &'static str },
    /// The arguments make no sense (e.g. a DM with oneself).
    #[error("invalid: {reason}")]
    Invalid { reason: &'static str },
    /// The database failed or is unreachable; nothing was written.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database cannot write: disk full, read-only file system or an I/O error
    /// (SQLite `SQLITE_FULL`/`SQLITE_IOERR`/`SQLITE_READONLY`; Postgres `53100`, `53000`,
    /// `58030`, `25006`). Nothing of the failed transaction was written.
    #[error("the database cannot write: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Stored data could not be read back (corrupt or from a newer version).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Applying migrations failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether trying the same call later may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Storage(_))
    }

    /// Whether the database failed to write for lack of space or a storage fault.
    pub fn is_storage_fault(&self) -> bool {
        matches!(self, StoreError::Storage(_))
    }

    /// An error of the same kind and message, for when one failure answers several
    /// callers (a batched read): `is_temporary`, `is_storage_fault` and what a client is
    /// told are the same as for `self`.
    pub(crate) fn same_kind(&self) -> StoreError {
        match self {
            StoreError::Conflict { what } => StoreError::Conflict { what },
            StoreError::NotFound { what } => StoreError::NotFound { what },
            StoreError::Forbidden { reason } => StoreError::Forbidden { reason },
            StoreError::Invalid { reason } => StoreError::Invalid { reason },
            StoreError::Unavailable(err) => {
                StoreError::Unavailable(sqlx::Error::Protocol(err.to_string()))
            }
            StoreError::Storage(err) => {
                StoreError::Storage(Box::new(std::io::Error::other(err.to_string())))
            }
            StoreError::Corrupt(what) => StoreError::Corrupt(what.clone()),
            StoreError::Migrate(err) => StoreError::Corrupt(err.to_string()),
        }
    }

    /// The error of the SQLite send thread's connection (rusqlite): a storage fault is
    /// [`StoreError::Storage`]; anything else `None` (the caller retries the batch the
    /// general way, which reports it through sqlx).
    pub(crate) fn from_rusqlite(err: rusqlite::Error) -> Option<StoreError> {
        use rusqlite::ErrorCode as C;
        match err.sqlite_error_code() {
            Some(C::DiskFull | C::SystemIoFailure | C::ReadOnly) => {
                Some(StoreError::Storage(Box::new(err)))
            }
            _ => None,
        }
    }

    /// What a client is told: the protocol code and a message that names no internals.
    pub fn client_error(&self) -> (ErrorCode, Cow<'static, str>) {
        match self {
            StoreError::Conflict { what } => (
                ErrorCode::InvalidField,
                format!("{what} is already taken").into(),
            ),
            StoreError::NotFound { what } => {
                (ErrorCode::NotFound, format!("no such {what}").into())
            }
            StoreError::Forbidden { reason } => (ErrorCode::Forbidden, (*reason).into()),
            StoreError::Invalid { reason } => (ErrorCode::InvalidField, (*reason).into()),
            StoreError::Unavailable(_) | StoreError::Storage(_) => {
                (ErrorCode::Unavailable, UNAVAILABLE_MESSAGE.into())
            }
            StoreError::Corrupt(_) | StoreError::Migrate(_) => {
                (ErrorCode::Internal, "the server failed".into())
            }
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let what = match db.constraint().unwrap_or_default() {
                    c if c.contains("handle") => "handle",
                    c if c.contains("name") => "room name",
                    _ if db.message().contains("handle") => "handle",
                    _ if db.message().contains("rooms.name") => "room name",
                    _ => "value",
                };
                StoreError::Conflict { what }
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(err.to_string())
            }
            _ if storage_fault(&err) => StoreError::Storage(Box::new(err)),
            _ => StoreError::Unavailable(err),
        }
    }
}

/// SQLite's primary result codes that mean the file cannot be written.
const SQLITE_STORAGE_CODES: [i32; 3] = [
    8,  // SQLITE_READONLY
    10, // SQLITE_IOERR
    13, // SQLITE_FULL
];

/// Postgres SQLSTATEs that mean the server cannot write: `53000` insufficient resources,
/// `53100` disk full, `58030` I/O error, `25006` read-only transaction (a standby).
const POSTGRES_STORAGE_STATES: [&str; 4] = ["53000", "53100", "58030", "25006"];

/// Whether `err` says the database cannot write (for lack of space, a read-only file
/// system or an I/O error), on either engine. An I/O error of the connection itself
/// (a socket) is not one: that database is unreachable, not full.
pub fn storage_fault(err: &sqlx::Error) -> bool {
    use sqlx::error::DatabaseError;
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    if let Some(lite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        return lite
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|code| SQLITE_STORAGE_CODES.contains(&(code & 0xff)));
    }
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return POSTGRES_STORAGE_STATES.contains(&pg.code());
    }
    false
}

/// One write command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WriteError {
    /// The message does not exist in this room.
    #[error("no such message in this room")]
    NoSuchMessage,
    /// Only the author may edit or delete a message.
    #[error("only the author may change a message")]
    NotAuthor,
    /// The message was deleted; it cannot be edited or deleted again.
    #[error("the message was deleted")]
    Deleted,
    /// The room does not exist.
    #[error("no such room")]
    NoSuchRoom,
    /// A reply to a reply: threads are one level deep.
    #[error("a reply cannot start a thread of its own; reply to the thread's first message")]
    NotARoot,
    /// A new emoji on a message that has the most different ones it may.
    #[error(
        "a message takes at most {} different reactions",
        protocol::REACTIONS_PER_MESSAGE_MAX
    )]
    TooManyReactions,
    /// A file a message names is not the sender's own upload to this room waiting to be
    /// attached (unknown, another person's or room's, removed, or attached already).
    #[error("no such file to attach: upload it to this room first")]
    NoSuchFile,
    /// Only the room's owner, its admins and site admins may do this.
    #[error("only the room's owner and admins may do this")]
    NotModerator,
    /// The member to remove is not a member.
    #[error("they are not a member of this room")]
    NoSuchMember,
    /// The owner cannot be removed, and an admin cannot remove another admin.
    #[error("the owner cannot be removed, and admins are removed only by the owner")]
    Protected,
    /// A role change to owner: a room has one, who created it.
    #[error("a room has one owner, who created it")]
    OneOwner,
    /// A role change the moderator may not make: nobody changes the owner's role, and only
    /// the owner (or a site admin) demotes an admin.
    #[error("nobody changes the owner's role, and only the owner demotes admins")]
    RoleProtected,
    /// The room is archived: read-only until a moderator opens it again.
    #[error("this room is archived: it is read-only")]
    Archived,
    /// A rename to a name another room has.
    #[error("another room has that name")]
    NameTaken,
    /// A direct message has no settings to change.
    #[error("a direct message has no name, topic or visibility to change")]
    NotARoom,
    /// A room update that would change nothing.
    #[error("nothing to change: the room is already so")]
    NothingToChange,
}

impl WriteError {
    /// What a client is told when this command is refused: the protocol code and message.
    pub fn client_error(&self) -> (ErrorCode, Cow<'static, str>) {
        let code = match self {
            WriteError::NotAuthor => ErrorCode::NotAuthor,
            WriteError::Deleted => ErrorCode::Deleted,
            WriteError::NoSuchMessage
            | WriteError::NoSuchRoom
            | WriteError::NoSuchFile
            | WriteError::NoSuchMember => ErrorCode::NotFound,
            WriteError::NotModerator
            | WriteError::Protected
            | WriteError::RoleProtected
            | WriteError::Archived => ErrorCode::Forbidden,
            WriteError::NameTaken
            | WriteError::NotARoom
            | WriteError::NothingToChange
            | WriteError::OneOwner => ErrorCode::InvalidField,
            WriteError::NotARoot => ErrorCode::InvalidField,
            WriteError::TooManyReactions => ErrorCode::Forbidden,
        };
        (code, self.to_string().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_meaning_on_the_wire() {
        assert_eq!(
            StoreError::NotFound { what: "room" }.client_error(),
            (ErrorCode::NotFound, "no such room".into())
        );
        assert_eq!(
            StoreError::Conflict { what: "handle" }.client_error(),
            (ErrorCode::InvalidField, "handle is already taken".into())
        );
        assert_eq!(
            StoreError::Corrupt("bad row".into()).client_error().0,
            ErrorCode::Internal
        );
        assert_eq!(
            WriteError::NotAuthor.client_error(),
            (
                ErrorCode::NotAuthor,
                "only the author may change a message".into()
            )
        );
        assert_eq!(WriteError::NoSuchRoom.client_error().0, ErrorCode::NotFound);
        assert_eq!(
            WriteError::TooManyReactions.client_error().0,
            ErrorCode::Forbidden
        );
    }

    #[test]
    fn a_database_that_cannot_write_is_unavailable_and_temporary() {
        use rusqlite::ffi;
        for (code, fault) in [
            (ffi::SQLITE_FULL, true),
            (ffi::SQLITE_IOERR_WRITE, true),
            (ffi::SQLITE_IOERR_FSYNC, true),
            (ffi::SQLITE_READONLY, true),
            (ffi::SQLITE_CONSTRAINT_UNIQUE, false),
            (ffi::SQLITE_BUSY, false),
        ] {
            let err = rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
            match StoreError::from_rusqlite(err) {
                Some(e) => {
                    assert!(fault, "code {code} is not a storage fault");
                    assert!(e.is_storage_fault() && e.is_temporary());
                    assert_eq!(e.client_error().0, ErrorCode::Unavailable);
                }
                None => assert!(!fault, "code {code} is a storage fault"),
            }
        }
        assert!(!storage_fault(&sqlx::Error::PoolTimedOut));
    }

    #[tokio::test]
    async fn sqlx_reports_a_full_sqlite_database_as_a_storage_fault() {
        // SQLITE_FULL for real: a database that may not grow past its pages.
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("create table t (b blob)")
            .execute(&mut conn)
            .await
            .unwrap();
        let pages: i64 = sqlx::query_scalar("pragma page_count")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "pragma max_page_count = {pages}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let err = sqlx::query("insert into t values (zeroblob(100000))")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(storage_fault(&err), "{err}");
        let err = StoreError::from(err);
        assert!(err.is_storage_fault());
        assert_eq!(err.client_error().0, ErrorCode::Unavailable);
    }

    #[test]
    fn only_an_unreachable_database_is_temporary() {
        let down = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        assert!(down.is_temporary());
        assert_eq!(down.client_error().0, ErrorCode::Unavailable);
        assert!(!StoreError::Forbidden { reason: "no" }.is_temporary());
    }
}
