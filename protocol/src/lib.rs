//! Confab's wire contract, shared by the server and the browser.
//!
//! Everything that crosses the WebSocket is a JSON text frame holding one tagged object
//! (`{"type": "...", ...}`). The protocol version is negotiated as the WebSocket
//! subprotocol [`SUBPROTOCOL`]. This crate does no I/O and depends on serde only, so it
//! builds for `wasm32-unknown-unknown` as well as for the server.
//!
//! # Layout
//! - [`frames`]: [`ClientFrame`] (client → server requests, each with a `req` id),
//!   [`ServerFrame`] (replies and pushes) and the views both carry.
//! - [`errors`]: [`ErrorCode`], the codes carried by `error` frames.
//! - [`close`]: [`CloseCode`], WebSocket close codes and what a client must do after each.
//! - [`ids`]: typed UUID ids (users, rooms, messages, tokens, files) and [`ids::Seq`].
//! - [`names`]: validated user-typed values (handles, room names, bodies, …).
//! - [`handles`]: what [`names`] and [`mentions`] both know of a handle (its length
//!   bounds, the reserved `room`), so neither depends on the other.
//! - [`codec`]: decoding a text frame into a [`ClientFrame`] with a typed failure.
//! - [`mentions`]: who a message body calls out (`@handle`, `@room`), shared by the
//!   server's unread counts and the browser's highlighting.
//! - [`search`]: the words of a message search (shared by the server's query and the
//!   browser's highlighting).
//! - [`unread`]: counting `unread` notices once per `(room, seq)` (a notice may come
//!   again).
//!
//! `docs/protocol.md` describes every frame with an example; keep the two in step.

pub mod close;
pub mod codec;
pub mod errors;
pub mod frames;
pub mod handles;
pub mod ids;
pub mod mentions;
pub mod names;
pub mod search;
pub mod unread;

pub use close::{CloseCode, ReconnectAdvice};
pub use codec::{DecodeError, decode_client_frame};
pub use errors::ErrorCode;
pub use frames::{
    AckInfo, ClientFrame, EventKind, FILES_PATH, FILES_PER_MESSAGE_MAX, FileView, GROUP_DM_MAX,
    ImageSize, MessageView, NoticeView, PersonalEvent, PinView, PresenceEntry,
    REACTIONS_PER_MESSAGE_MAX, REACTORS_LISTED, RECEIPTS_MEMBERS_MAX, ROOM_DESCRIPTION_MAX_CHARS,
    ReactionView, ReadReceipt, ReqId, RoleName, RoomChanges, ServerFrame, SnapshotReason, Status,
    ThreadView, UserView,
};

/// The WebSocket subprotocol a client must offer; the server selects it or refuses.
pub const SUBPROTOCOL: &str = "confab.v1";

/// The path of the WebSocket endpoint.
pub const WS_PATH: &str = "/ws";
