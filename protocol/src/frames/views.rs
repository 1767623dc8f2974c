//! The values frames carry, in both directions: users, messages and their threads and
//! reactions, read receipts, acks, presence and personal events; and the limits on them.

use serde::{Deserialize, Serialize};

use crate::ids::{FileId, MessageId, RoomId, Seq, UserId};

/// A user as other users see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub handle: String,
    pub name: String,
    /// When their avatar picture was set (Unix ms): the picture is
    /// `/avatars/{id}?v={avatar}`. Absent while their initials are their avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<i64>,
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
    /// A moderator pinned or unpinned the message; it carries its pin now.
    Pinned,
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
    /// The files attached to it, in the order they were named; absent when none (and on a
    /// deleted message, always).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileView>,
    /// On a deleted message: a moderator removed it, not its author.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed_by_admin: bool,
    /// Pinned to the room: by whom and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<PinView>,
    /// A notice of a moderation action, shown instead of a body (which is empty); its
    /// author is the moderator.
    /// Boxed: notices are rare, and every message and event frame would otherwise carry
    /// its room changes' worth of space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Box<NoticeView>>,
}

/// A message's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinView {
    /// The moderator who pinned it.
    pub by: UserId,
    /// Unix milliseconds.
    pub at: i64,
}

/// What a notice message records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeView {
    /// The author removed `user` from the room.
    MemberRemoved { user: UserId },
    /// The author removed `user` and banned them from coming back.
    MemberBanned { user: UserId },
    /// The author changed the room: what is set here is the new value.
    RoomUpdated { changes: RoomChanges },
    /// The author made `user` an admin, or a member again.
    RoleChanged { user: UserId, role: RoleName },
}

/// A change to a room's settings (`update_room`, and the notice recording it): each field
/// present is set to its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

impl RoomChanges {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == RoomChanges::default()
    }
}

/// Most characters a room's description has.
pub const ROOM_DESCRIPTION_MAX_CHARS: usize = 1000;

/// A member's role in a room (docs/moderation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Owner,
    Admin,
    Member,
}

/// Most files one message may carry.
pub const FILES_PER_MESSAGE_MAX: usize = 10;

/// An uploaded file as messages carry it: a reference, never its bytes. Its bytes are at
/// [`FileView::url`], an image's thumbnail at [`FileView::thumb_url`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub id: FileId,
    /// The name it was uploaded with.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Sniffed from the bytes by the server (never the uploader's word).
    pub content_type: String,
    /// For an image the server decoded: its size in pixels (it then has a thumbnail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSize>,
}

/// An image's width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

impl FileView {
    /// Where the file's bytes are served.
    pub fn url(&self) -> String {
        format!("{}/{}", FILES_PATH, self.id)
    }

    /// Where an image's thumbnail is served (`None` for other files).
    pub fn thumb_url(&self) -> Option<String> {
        self.image
            .map(|_| format!("{}/{}/thumb", FILES_PATH, self.id))
    }
}

/// The HTTP path files are uploaded to (`POST`) and served under (`GET {FILES_PATH}/{id}`).
pub const FILES_PATH: &str = "/files";

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

/// Most people a group direct message may have, its creator included (`open_group`).
pub const GROUP_DM_MAX: usize = 8;

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
    /// A group direct message exists (new, or opened from another device), with these
    /// people besides the user.
    GroupOpened { room: RoomId, with: Vec<UserView> },
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
