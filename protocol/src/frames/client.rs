//! [`ClientFrame`]: every request a client may send, each with its `req` id.

use serde::{Deserialize, Serialize};

use super::{ReqId, RoleName, Status};
use crate::ids::{FileId, MessageId, RoomId, Seq, UserId};
use crate::names::{Body, ClientMsgId, Emoji, RoomName, RoomTopic, StatusText};

/// A frame sent by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Application-level heartbeat; answered by [`ServerFrame::Pong`].
    Ping { req: ReqId },
    /// Start receiving a room's events. With `since_seq`, every event after it is replayed
    /// first (or a [`ServerFrame::Snapshot`] is sent when the gap is too large); without it,
    /// the latest page comes as a snapshot. Subscribing to a public room joins it.
    Subscribe {
        req: ReqId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_seq: Option<Seq>,
    },
    /// Stop receiving a room's events.
    Unsubscribe { req: ReqId, room: RoomId },
    /// Post a message. Retrying with the same `client_msg_id` is safe: the original is acked.
    Send {
        req: ReqId,
        room: RoomId,
        client_msg_id: ClientMsgId,
        body: Body,
        /// Files uploaded to the room beforehand (`POST /files`), at most
        /// [`FILES_PER_MESSAGE_MAX`](crate::FILES_PER_MESSAGE_MAX).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<FileId>,
    },
    /// Reply in the thread of `thread`, a message of the room that is not itself a reply.
    /// Acked like a send (retrying with the same `client_msg_id` is safe); the reply is a
    /// room event with its own seq and `thread_root` set.
    Reply {
        req: ReqId,
        room: RoomId,
        thread: MessageId,
        client_msg_id: ClientMsgId,
        body: Body,
        /// Files, as for `send`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<FileId>,
    },
    /// Replace the body of one's own message.
    Edit {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
        body: Body,
    },
    /// Delete one's own message (a tombstone keeps its place).
    Delete {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
    },
    /// "I am typing" in a subscribed room; repeat every few seconds while typing.
    Typing { req: ReqId, room: RoomId },
    /// A page of older messages: up to `limit` before `before_seq` (or the latest page).
    History {
        req: ReqId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_seq: Option<Seq>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Move one's read marker in a room forward to `seq`.
    MarkRead { req: ReqId, room: RoomId, seq: Seq },
    /// Add one's reaction `emoji` to a message of a subscribed room (any author's). Adding
    /// one that is already there changes nothing (the ack has no seq).
    AddReaction {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
        emoji: Emoji,
    },
    /// Take one's reaction `emoji` off a message. Removing one that is not there changes
    /// nothing (the ack has no seq).
    RemoveReaction {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
        emoji: Emoji,
    },
    /// Find or create the direct-message room with another user.
    OpenDm { req: ReqId, user: UserId },
    /// Find or create the group direct message of oneself and `users` (2 to
    /// [`crate::GROUP_DM_MAX`] − 1 others, each once).
    OpenGroup { req: ReqId, users: Vec<UserId> },
    /// Add `user` to a private room one is a member of (or to a public room).
    Invite {
        req: ReqId,
        room: RoomId,
        user: UserId,
    },
    /// Leave a room (not a direct message); also unsubscribes this connection.
    Leave { req: ReqId, room: RoomId },
    /// Create a public (default) or private room with oneself as its first member, and
    /// optionally a topic; the ack carries the new room's id. A taken name is refused
    /// with `invalid_field`.
    CreateRoom {
        req: ReqId,
        name: RoomName,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        private: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<RoomTopic>,
    },
    /// Moderators: pin a live message of the room (a `pinned` event).
    Pin {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
    },
    /// Moderators: unpin a message (a `pinned` event without a pin).
    Unpin {
        req: ReqId,
        room: RoomId,
        message_id: MessageId,
    },
    /// Moderators: remove a member from the room; with `ban`, they cannot rejoin or be
    /// invited until unbanned. A notice message records it in the room's order.
    RemoveMember {
        req: ReqId,
        room: RoomId,
        user: UserId,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ban: bool,
    },
    /// Moderators: let a banned user back (they may join or be invited again).
    Unban {
        req: ReqId,
        room: RoomId,
        user: UserId,
    },
    /// Make a member an admin, or an admin a member again (docs/moderation.md says who
    /// may).
    SetRole {
        req: ReqId,
        room: RoomId,
        user: UserId,
        role: RoleName,
    },
    /// Moderators: change the room's name, topic, description, visibility (`private`) or
    /// archive it (read-only, hidden from Browse); a notice message records the change in
    /// the room's order. Not for direct messages.
    UpdateRoom {
        req: ReqId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<RoomName>,
        /// An empty topic clears it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// At most [`ROOM_DESCRIPTION_MAX_CHARS`](crate::ROOM_DESCRIPTION_MAX_CHARS); empty
        /// clears it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        private: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        archived: Option<bool>,
    },
    /// Set one's own status (on all devices), with an optional status line. `active`
    /// without a line hands the status back to automatic (away when idle).
    SetStatus {
        req: ReqId,
        status: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<StatusText>,
    },
}

impl ClientFrame {
    /// The request id of this frame.
    pub fn req(&self) -> ReqId {
        match self {
            ClientFrame::Ping { req }
            | ClientFrame::Subscribe { req, .. }
            | ClientFrame::Unsubscribe { req, .. }
            | ClientFrame::Send { req, .. }
            | ClientFrame::Reply { req, .. }
            | ClientFrame::Edit { req, .. }
            | ClientFrame::Delete { req, .. }
            | ClientFrame::Typing { req, .. }
            | ClientFrame::History { req, .. }
            | ClientFrame::MarkRead { req, .. }
            | ClientFrame::AddReaction { req, .. }
            | ClientFrame::RemoveReaction { req, .. }
            | ClientFrame::OpenDm { req, .. }
            | ClientFrame::OpenGroup { req, .. }
            | ClientFrame::SetStatus { req, .. }
            | ClientFrame::Invite { req, .. }
            | ClientFrame::Leave { req, .. }
            | ClientFrame::CreateRoom { req, .. }
            | ClientFrame::Pin { req, .. }
            | ClientFrame::Unpin { req, .. }
            | ClientFrame::RemoveMember { req, .. }
            | ClientFrame::Unban { req, .. }
            | ClientFrame::SetRole { req, .. }
            | ClientFrame::UpdateRoom { req, .. } => *req,
        }
    }

    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::Ping { .. } => "ping",
            ClientFrame::Subscribe { .. } => "subscribe",
            ClientFrame::Unsubscribe { .. } => "unsubscribe",
            ClientFrame::Send { .. } => "send",
            ClientFrame::Reply { .. } => "reply",
            ClientFrame::Edit { .. } => "edit",
            ClientFrame::Delete { .. } => "delete",
            ClientFrame::Typing { .. } => "typing",
            ClientFrame::History { .. } => "history",
            ClientFrame::MarkRead { .. } => "mark_read",
            ClientFrame::AddReaction { .. } => "add_reaction",
            ClientFrame::RemoveReaction { .. } => "remove_reaction",
            ClientFrame::OpenDm { .. } => "open_dm",
            ClientFrame::OpenGroup { .. } => "open_group",
            ClientFrame::SetStatus { .. } => "set_status",
            ClientFrame::Invite { .. } => "invite",
            ClientFrame::Leave { .. } => "leave",
            ClientFrame::CreateRoom { .. } => "create_room",
            ClientFrame::Pin { .. } => "pin",
            ClientFrame::Unpin { .. } => "unpin",
            ClientFrame::RemoveMember { .. } => "remove_member",
            ClientFrame::Unban { .. } => "unban",
            ClientFrame::SetRole { .. } => "set_role",
            ClientFrame::UpdateRoom { .. } => "update_room",
        }
    }
}
