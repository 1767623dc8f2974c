//! Frame types: what a client may send and what the server sends back.
//!
//! Requests carry a client-chosen `req` id; the server answers each request exactly once,
//! with `ack` (or the request's own reply: `pong`, `history`) or an `error` frame carrying
//! the same `req`. Everything else the server sends (events, presence, typing, snapshots,
//! personal notices) is a push without `req`.
//!
//! # Layout
//! - [`client`]: [`ClientFrame`], the requests.
//! - [`server`]: [`ServerFrame`], the replies and pushes.
//! - [`views`]: the values both carry (users, messages, reactions, receipts, presence,
//!   personal events) and their limits.

mod client;
mod server;
mod views;

pub use client::ClientFrame;
pub use server::ServerFrame;
pub use views::{
    AckInfo, EventKind, FILES_PATH, FILES_PER_MESSAGE_MAX, FileView, GROUP_DM_MAX, ImageSize,
    MessageView, NoticeView, PersonalEvent, PinView, PresenceEntry, REACTIONS_PER_MESSAGE_MAX,
    REACTORS_LISTED, RECEIPTS_MEMBERS_MAX, ROOM_DESCRIPTION_MAX_CHARS, ReactionView, ReadReceipt,
    RoleName, RoomChanges, SnapshotReason, Status, ThreadView, UserView,
};

/// A client-chosen request id, echoed in the reply to that request.
pub type ReqId = u64;

#[cfg(test)]
mod tests;
