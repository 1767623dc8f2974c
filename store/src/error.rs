//! Store errors. [`StoreError`] fails a whole call; [`WriteError`] refuses one command of
//! a batch. The server maps both to protocol error codes and HTTP statuses in one place.

use thiserror::Error;

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
