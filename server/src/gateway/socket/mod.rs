//! The gateway's end of a WebSocket: the opening handshake (HTTP, here) and the two halves
//! of the connection it hands over. Everything after the `101` — frames, the reader, the
//! writer — is the `confab-websocket` crate (`websocket/`), which knows no HTTP.
//!
//! - `handshake`: the upgrade request's checks and the `101` answer → a [`Socket`].
//!
//! The two halves are used by two tasks (the connection's reader loop and its sender);
//! only the sender writes, so a ping's pong and a close's echo go through its queue.

mod handshake;

pub use confab_websocket::{Incoming, SocketReader, SocketWriter};
pub use handshake::Upgrade;

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
