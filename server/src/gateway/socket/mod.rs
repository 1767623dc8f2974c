//! The gateway's own WebSocket transport (RFC 6455, server side, no extensions).
//!
//! Why not a library's: a WebSocket library keeps, per connection, a write buffer that
//! grows to the largest burst it ever wrote and never shrinks. A subscriber to a room of
//! 100 is sent the room's presence list and its neighbours' joins at once, so every idle
//! connection kept several KB it would never use again; and every delivery was copied
//! into that buffer. Here a frame is its header and the shared bytes of the encoded event,
//! written with vectored writes and released after each burst.
//!
//! - `handshake`: the upgrade request's checks and the `101` answer → a [`Socket`].
//! - `frame`: frame headers, masks and close payloads (pure).
//! - `reader`: client messages: reassembly, limits, errors with their close codes.
//! - `writer`: server frames: batched vectored writes of shared bytes.
//!
//! The two halves are used by two tasks (the connection's reader loop and its sender);
//! only the sender writes, so a ping's pong and a close's echo go through its queue.

mod frame;
mod handshake;
mod reader;
mod writer;

pub use handshake::Upgrade;
pub use reader::{Incoming, ReadError, SocketReader};
pub use writer::SocketWriter;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{ReadHalf, WriteHalf};

/// The reading half of an accepted connection.
pub type UpgradedReader = SocketReader<ReadHalf<TokioIo<Upgraded>>>;
/// The writing half of an accepted connection.
pub type UpgradedWriter = SocketWriter<WriteHalf<TokioIo<Upgraded>>>;

/// An accepted WebSocket connection.
pub struct Socket {
    pub reader: UpgradedReader,
    pub writer: UpgradedWriter,
}

impl ReadError {
    /// The close code (a number, as RFC 6455 defines them) owed to the client after this
    /// error, if the socket can still take one: a protocol error can be answered; a failed
    /// socket cannot.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ReadError::Frame(err) => Some(err.close_code()),
            ReadError::Io(_) => None,
        }
    }
}
