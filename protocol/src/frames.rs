//! Frame types: what a client may send and what the server sends back.
//!
//! Requests carry a client-chosen `req` id; the server answers each request exactly once,
//! with `ack` (or the request's own reply: `pong`, `history`) or an `error` frame carrying
//! the same `req`. Everything else the server sends (events, presence, typing, snapshots,
//! personal notices) is a push without `req`.

use serde::{Deserialize, Serialize};

use crate::errors::ErrorCode;
use crate::ids::{MessageId, RoomId, Seq, UserId};
use crate::names::{Body, ClientMsgId, Emoji, RoomName, StatusText};

/// A client-chosen request id, echoed in the reply to that request.
pub type ReqId = u64;

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
    /// Add `user` to a private room one is a member of (or to a public room).
    Invite {
        req: ReqId,
        room: RoomId,
        user: UserId,
    },
    /// Leave a room (not a direct message); also unsubscribes this connection.
    Leave { req: ReqId, room: RoomId },
    /// Create a public (default) or private room with oneself as its first member; the
    /// ack carries the new room's id. A taken name is refused with `invalid_field`.
    CreateRoom {
        req: ReqId,
        name: RoomName,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        private: bool,
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
            | ClientFrame::SetStatus { req, .. }
            | ClientFrame::Invite { req, .. }
            | ClientFrame::Leave { req, .. }
            | ClientFrame::CreateRoom { req, .. } => *req,
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
            ClientFrame::SetStatus { .. } => "set_status",
            ClientFrame::Invite { .. } => "invite",
            ClientFrame::Leave { .. } => "leave",
            ClientFrame::CreateRoom { .. } => "create_room",
        }
    }
}

/// A user as other users see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub handle: String,
    pub name: String,
}

/// What an event did to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Message,
    Edited,
    Deleted,
    /// Someone added or removed a reaction; the message carries its reactions now.
    Reaction,
}

/// Most different emoji one message can have as reactions.
pub const REACTIONS_PER_MESSAGE_MAX: usize = 20;
/// Most people a [`ReactionView`] names (its `count` is always exact).
pub const REACTORS_LISTED: usize = 50;

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionView {
    pub emoji: String,
    /// How many people reacted with it.
    pub count: u32,
    /// Who, in the order they reacted: the first [`REACTORS_LISTED`] of them.
    pub users: Vec<UserView>,
}

/// A message as delivered, in its current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    /// The seq of the event that created it (its place in the room).
    pub seq: Seq,
    pub author: UserView,
    /// Empty when deleted.
    pub body: String,
    pub client_msg_id: String,
    /// Unix milliseconds.
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    pub deleted: bool,
    /// Reactions, by emoji in the order each was first used; absent when none (and on a
    /// deleted message, always).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionView>,
    /// For a reply: the root message of its thread (a reply is not shown in the room's
    /// own list, but in its thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_root: Option<MessageId>,
    /// For a thread's root: its replies (absent when it has none, and in live events of
    /// the root itself: a client keeps the summary it holds and counts live replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<ThreadView>,
}

/// A thread as its root shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    /// Replies not deleted.
    pub replies: u32,
    /// The seq and time (Unix ms) of the newest reply.
    pub last_reply_seq: Seq,
    pub last_reply_at: i64,
}

/// Most members a room may have for its read receipts to be shared (DMs and small rooms;
/// in a bigger room "seen by" would say little and cost a frame per read).
pub const RECEIPTS_MEMBERS_MAX: usize = 20;

/// How far one member has read a room: their read marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    pub user: UserView,
    /// The last seq they have read (messages up to it, and any event up to it).
    pub seq: Seq,
}

/// Why a snapshot replaced a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotReason {
    /// A subscribe without `since_seq`: here is the latest page.
    Initial,
    /// More events happened since `since_seq` than a resume replays: the client must
    /// drop what it holds for the room and start from this page.
    GapTooLarge,
}

/// Fields of an `ack` that some requests fill in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckInfo {
    /// The room a request created or found (`open_dm`), or acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    /// The seq of the event a write produced (for a retried send: the original's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// The message a send created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// True when a send was a retry of one already stored (nothing new was written).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// What a present user is up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Here (the default).
    #[default]
    Active,
    /// Away: chosen, or automatic after a while without activity.
    Away,
    /// Do not disturb.
    Dnd,
}

/// A user's presence in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user: UserView,
    /// How many of the user's connections are in the room (tabs, devices).
    pub devices: u32,
    pub status: Status,
    /// The user's status line, if they set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Something that concerns one user on all of their connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PersonalEvent {
    /// A direct-message room with `with` exists (new, or opened from another device).
    DmOpened { room: RoomId, with: UserView },
    /// The read marker of a room moved (on any of the user's devices).
    Read { room: RoomId, seq: Seq },
    /// Someone added the user to a room.
    Invited { room: RoomId, by: UserView },
    /// The user joined (`joined: true`) or left a room, on some device or by invitation.
    Membership { room: RoomId, joined: bool },
    /// A new message at `seq` in a room the user belongs to but this connection is not
    /// subscribed to (count it as unread). `mention` is true when the message calls the
    /// user out (`@handle` or `@room`, see [`crate::mentions`]).
    Unread {
        room: RoomId,
        seq: Seq,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        mention: bool,
    },
}

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
    /// their typing expires (a few seconds after their last `typing`). Never sent to the
    /// typist's own connections.
    Typing {
        room: RoomId,
        user: UserView,
        active: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn room() -> RoomId {
        RoomId(Uuid::from_u128(7))
    }

    #[test]
    fn ping_round_trips_through_json() {
        let frame = ClientFrame::Ping { req: 7 };
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(text, r#"{"type":"ping","req":7}"#);
        assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
    }

    #[test]
    fn send_validates_its_body_while_decoding() {
        let ok = format!(
            r#"{{"type":"send","req":1,"room":"{}","client_msg_id":"c1","body":"hi"}}"#,
            room()
        );
        assert!(serde_json::from_str::<ClientFrame>(&ok).is_ok());
        let blank = ok.replace(r#""body":"hi""#, r#""body":"  ""#);
        assert!(serde_json::from_str::<ClientFrame>(&blank).is_err());
    }

    #[test]
    fn reaction_frames_validate_their_emoji() {
        let ok = format!(
            r#"{{"type":"add_reaction","req":1,"room":"{r}","message_id":"{r}","emoji":"👍"}}"#,
            r = room()
        );
        let frame = serde_json::from_str::<ClientFrame>(&ok).unwrap();
        assert_eq!((frame.req(), frame.kind()), (1, "add_reaction"));
        let text = ok.replace("👍", "lol");
        assert!(serde_json::from_str::<ClientFrame>(&text).is_err());
        let remove = ok.replace("add_reaction", "remove_reaction");
        assert_eq!(
            serde_json::from_str::<ClientFrame>(&remove).unwrap().kind(),
            "remove_reaction"
        );
    }

    #[test]
    fn reactions_are_left_out_of_a_message_without_any() {
        let user = UserView {
            id: UserId(Uuid::from_u128(1)),
            handle: "ana".into(),
            name: "Ana".into(),
        };
        let mut message = MessageView {
            id: MessageId(Uuid::from_u128(2)),
            seq: 1,
            author: user.clone(),
            body: "hi".into(),
            client_msg_id: "c1".into(),
            created_at: 0,
            edited_at: None,
            deleted: false,
            reactions: vec![],
            thread_root: None,
            thread: None,
        };
        let json = serde_json::to_string(&message).unwrap();
        assert!(!json.contains("reactions"), "{json}");
        assert!(!json.contains("thread"), "{json}");
        message.reactions.push(ReactionView {
            emoji: "🎉".into(),
            count: 1,
            users: vec![user],
        });
        let json = serde_json::to_string(&message).unwrap();
        assert!(
            json.contains(r#""reactions":[{"emoji":"🎉","count":1,"users""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<MessageView>(&json).unwrap(), message);
    }

    #[test]
    fn error_without_req_omits_the_field() {
        let frame = ServerFrame::Error {
            req: None,
            code: ErrorCode::BadFrame,
            message: "not JSON".into(),
        };
        assert_eq!(
            frame.to_json(),
            r#"{"type":"error","code":"bad_frame","message":"not JSON"}"#
        );
    }

    #[test]
    fn ack_flattens_its_fields_and_omits_empty_ones() {
        let frame = ServerFrame::Ack {
            req: 3,
            info: AckInfo {
                seq: Some(9),
                ..AckInfo::default()
            },
        };
        assert_eq!(frame.to_json(), r#"{"type":"ack","req":3,"seq":9}"#);
        assert_eq!(
            serde_json::from_str::<ServerFrame>(&frame.to_json()).unwrap(),
            frame
        );
    }

    #[test]
    fn personal_events_carry_their_kind() {
        let frame = ServerFrame::Personal {
            event: PersonalEvent::Read {
                room: room(),
                seq: 4,
            },
        };
        let value: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_eq!(value["type"], "personal");
        assert_eq!(value["kind"], "read");
        assert_eq!(serde_json::from_value::<ServerFrame>(value).unwrap(), frame);
    }
}
