//! Confab's own WebSocket transport (RFC 6455, server side, no extensions), from the
//! first byte after the `101` answer to the close frame. The opening handshake (HTTP) is
//! the server's (`server/src/gateway/socket/handshake.rs`); nothing here knows HTTP.
//!
//! Why not a library's: a WebSocket library keeps, per connection, a write buffer that
//! grows to the largest burst it ever wrote and never shrinks. A subscriber to a room of
//! 100 is sent the room's presence list and its neighbours' joins at once, so every idle
//! connection kept several KB it would never use again; and every delivery was copied
//! into that buffer. Here a frame is its header and the shared bytes of the encoded event,
//! written with vectored writes and released after each burst.
//!
//! - [`frame`]: frame headers and masks (pure).
//! - [`close`]: close frames: which codes may cross the wire, payloads both ways (pure).
//! - [`reader`]: client messages: reassembly, limits, errors with their close codes.
//! - [`writer`]: server frames: batched vectored writes of shared bytes.
//! - [`text`]: [`FrameText`], shared bytes known to be UTF-8.
//!
//! The crate is its own so that the frame reader can be fuzzed (`fuzz/`) without building
//! the server; it needs only `bytes` and tokio's I/O traits.

pub mod close;
pub mod frame;
pub mod reader;
pub mod text;
pub mod writer;

pub use frame::FrameError;
pub use reader::{Incoming, ReadError, SocketReader};
pub use text::{FrameText, NotUtf8};
pub use writer::SocketWriter;
