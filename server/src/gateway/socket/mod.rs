//! The gateway's end of a WebSocket: the opening handshake (HTTP, here) and the two halves
//! of the connection it hands over. Everything after the `101` — frames, the reader, the
//! writer — is the `confab-websocket` crate (`websocket/`), which knows no HTTP.
//!
//! - `handshake`: the upgrade request's checks and the `101` answer → a [`Socket`].
//!
//! The two halves are used by two tasks (the connection's reader loop and its sender);
//! only the sender writes, so a ping's pong and a close's echo go through its queue. They
//! are the TCP stream's own halves, taken back from hyper after the upgrade: no lock per
//! read or write, and no boxed stream. Dropping the writing half (the sender has ended)
//! half-closes the stream, as RFC 6455 asks of the server after its close frame; the
//! reader may still read the client's reply.

mod handshake;

pub use confab_websocket::{Incoming, SocketReader, SocketWriter};
pub use handshake::Upgrade;

use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The reading half of an accepted connection.
pub type UpgradedReader = SocketReader<OwnedReadHalf>;
/// The writing half of an accepted connection.
pub type UpgradedWriter = SocketWriter<OwnedWriteHalf>;

/// An accepted WebSocket connection.
pub struct Socket {
    pub reader: UpgradedReader,
    pub writer: UpgradedWriter,
}
