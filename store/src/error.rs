//! Store errors. [`StoreError`] fails a whole call; [`WriteError`] refuses one command of
//! a batch. What a client is told about either is decided here, once:
//! [`StoreError::client_error`] and [`WriteError::client_error`] give the protocol
//! [`ErrorCode`] and message; the code gives the HTTP status ([`ErrorCode::http_status`]).

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
        matches!(self, StoreError::Unavailable(_))
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
            StoreError::Unavailable(_) => (ErrorCode::Unavailable, UNAVAILABLE_MESSAGE.into()),
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
            _ => StoreError::Unavailable(err),
        }
    }
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
}

impl WriteError {
    /// What a client is told when this command is refused: the protocol code and message.
    pub fn client_error(&self) -> (ErrorCode, Cow<'static, str>) {
        let code = match self {
            WriteError::NotAuthor => ErrorCode::NotAuthor,
            WriteError::Deleted => ErrorCode::Deleted,
            WriteError::NoSuchMessage | WriteError::NoSuchRoom => ErrorCode::NotFound,
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
    fn only_an_unreachable_database_is_temporary() {
        let down = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        assert!(down.is_temporary());
        assert_eq!(down.client_error().0, ErrorCode::Unavailable);
        assert!(!StoreError::Forbidden { reason: "no" }.is_temporary());
    }
}
