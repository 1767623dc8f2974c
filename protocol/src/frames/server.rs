//! [`ServerFrame`]: every reply and push the server sends, and their JSON encoding.

use serde::{Deserialize, Serialize};

use super::{
    AckInfo, EventKind, MessageView, PersonalEvent, PresenceEntry, ReadReceipt, ReqId,
    SnapshotReason, UserView,
};
use crate::errors::ErrorCode;
use crate::ids::{RoomId, Seq, UserId};

/// A frame sent by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame on every connection, sent right after the upgrade.
    Welcome {
        /// Protocol version in use (the negotiated subprotocol).
        protocol: String,
        /// Server-assigned id of this connection, for support and logs.
        conn_id: String,
        /// The client should send a `ping` at least this often (milliseconds); the server
        /// closes a connection that stays silent for twice this long.
        heartbeat_ms: u64,
        /// Server name and version, e.g. `confab/0.1.0`.
        server: String,
        /// Who the connection is authenticated as.
        user: UserView,
        /// The largest file `POST /files` takes, in bytes, so that a client can refuse a
        /// bigger one before sending it (absent from servers that do not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_upload_bytes: Option<u64>,
    },
    /// Reply to [`ClientFrame::Ping`].
    Pong { req: ReqId },
    /// A request succeeded.
    Ack {
        req: ReqId,
        #[serde(flatten)]
        info: AckInfo,
    },
    /// A request failed, or a frame could not be understood. `req` is absent when the
    /// failing frame carried no readable request id.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req: Option<ReqId>,
        code: ErrorCode,
        message: String,
    },
    /// A room event, in seq order per room.
    Event {
        room: RoomId,
        seq: Seq,
        kind: EventKind,
        message: MessageView,
    },
    /// Reply to [`ClientFrame::History`]: messages before the asked seq, oldest first.
    History {
        req: ReqId,
        room: RoomId,
        messages: Vec<MessageView>,
        has_more: bool,
    },
    /// The latest page of a room instead of a replay; the client replaces what it holds
    /// for the room. Live events continue after `last_seq`.
    Snapshot {
        room: RoomId,
        reason: SnapshotReason,
        last_seq: Seq,
        messages: Vec<MessageView>,
        has_more: bool,
    },
    /// Who is in a room now (sent on subscribe). In a big room `users` is only the first
    /// page (by handle) and `truncated` is true; `total` always counts everyone present.
    Presence {
        room: RoomId,
        users: Vec<PresenceEntry>,
        total: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// Changes to a room's presence since the last sync or diff, gathered over a short
    /// tick (so a burst of joins is one frame). `total` counts everyone present after them.
    PresenceDiff {
        room: RoomId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        joined: Vec<UserView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        left: Vec<UserId>,
        /// Present users whose status changed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        updated: Vec<PresenceEntry>,
        total: u32,
    },
    /// `user` started (`active: true`) or stopped typing in `room`. Stopping is sent when
    /// their typing expires (a few seconds after their last `typing`). An active frame
    /// says in `ttl_ms` how long to show it: it is sent again while the person keeps
    /// typing, and a client ends an indicator nobody renewed by itself (a stop can be lost
    /// with the node that would have sent it). Never sent to the typist's own connections.
    Typing {
        room: RoomId,
        user: UserView,
        active: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_ms: Option<u64>,
    },
    /// Read markers of a room's members, in a room of at most [`RECEIPTS_MEMBERS_MAX`]
    /// members: everyone's (but the reader's own) on subscribe, and then one member's each
    /// time theirs moves. Markers only move forward: keep the highest seq per user.
    Receipts {
        room: RoomId,
        receipts: Vec<ReadReceipt>,
    },
    /// Something that concerns the connection's user.
    Personal {
        #[serde(flatten)]
        event: PersonalEvent,
    },
}

impl ServerFrame {
    /// Encodes the frame as the JSON text sent on the socket.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every field is a string, number, bool,
        // list or plain enum, and no map has non-string keys.
        serde_json::to_string(self).expect("server frames always serialise")
    }
}
