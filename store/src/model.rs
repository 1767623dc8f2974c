//! Domain types taken and returned by the [`Store`](crate::Store); those of uploaded
//! files are in `model/files.rs`, the writes to a room's log in `model/writes.rs`.

mod files;
mod writes;
pub use files::{FilePart, NewFile, StoredFile};
pub use writes::{RoomUpdate, WriteCommand, WriteOutcome};

use protocol::ids::{MessageId, RoomId, TokenId, UserId};
use protocol::names::{DisplayName, Handle, RoomName};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in Unix milliseconds.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub handle: Handle,
    pub display_name: DisplayName,
    pub created_at: Millis,
    /// When the account was deactivated; `None` while it is active.
    pub deactivated_at: Option<Millis>,
    /// When the current avatar picture was set; `None` while the initials show.
    pub avatar_at: Option<Millis>,
}

/// An avatar picture as stored: already square and small (the server made it so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What a profile holds beside the name: each empty when not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub bio: String,
    /// An IANA time zone name (`Europe/Lisbon`).
    pub time_zone: String,
}

impl User {
    /// Whether the account may still act (log in, connect, use its tokens).
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    /// How the user looks to others on the wire.
    pub fn view(&self) -> protocol::UserView {
        protocol::UserView {
            id: self.id,
            handle: self.handle.to_string(),
            name: self.display_name.to_string(),
            avatar: self.avatar_at,
        }
    }
}

/// A user with their password hash, for log-in only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    /// An argon2 PHC string.
    pub password_hash: String,
}

/// An API token record (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// What kind of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomKind {
    /// Anyone signed in may see and join it.
    Public,
    /// Members only; members invite others.
    Private,
    /// Exactly two members, found by the pair.
    Dm,
}

impl RoomKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Private => "private",
            RoomKind::Dm => "dm",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<RoomKind> {
        match s {
            "public" => Some(RoomKind::Public),
            "private" => Some(RoomKind::Private),
            "dm" => Some(RoomKind::Dm),
            _ => None,
        }
    }
}

/// A room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub kind: RoomKind,
    /// `None` for direct-message rooms.
    pub name: Option<RoomName>,
    pub topic: String,
    /// A longer text about the room (empty when none).
    pub description: String,
    pub created_by: UserId,
    pub created_at: Millis,
    /// Seq of the room's newest event (0 when it has none).
    pub last_seq: u64,
    /// When it was archived (read-only, hidden from Browse); `None` while it is open.
    pub archived_at: Option<Millis>,
}

/// A user's membership of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub joined_at: Millis,
    pub last_read_seq: u64,
    pub role: Role,
}

/// What a member may do in their room (docs/moderation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Created the room; moderates it, and only they (or a site admin) demote admins.
    Owner,
    /// Moderates the room.
    Admin,
    Member,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Whether the role moderates its room.
    pub fn moderates(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl From<protocol::RoleName> for Role {
    fn from(name: protocol::RoleName) -> Role {
        match name {
            protocol::RoleName::Owner => Role::Owner,
            protocol::RoleName::Admin => Role::Admin,
            protocol::RoleName::Member => Role::Member,
        }
    }
}

impl From<Role> for protocol::RoleName {
    fn from(role: Role) -> protocol::RoleName {
        match role {
            Role::Owner => protocol::RoleName::Owner,
            Role::Admin => protocol::RoleName::Admin,
            Role::Member => protocol::RoleName::Member,
        }
    }
}

/// An earlier body of an edited message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The seq of the edit that replaced it.
    pub seq: u64,
    /// When that edit replaced it.
    pub replaced_at: Millis,
    pub body: String,
}

/// A message's pin: who pinned it and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub by: UserId,
    pub at: Millis,
}

/// What a notice message says (it has no body of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Its author, a moderator, removed `user` from the room.
    MemberRemoved { user: UserId },
    /// Removed and banned: `user` cannot come back until unbanned.
    MemberBanned { user: UserId },
    /// Its author, a moderator, changed the room's settings to these.
    RoomUpdated(protocol::RoomChanges),
    /// Its author, a moderator, made `user` an admin or a member again.
    RoleChanged { user: UserId, role: Role },
}

/// A room as listed for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub room: Room,
    pub last_read_seq: u64,
    /// Messages (not edits or deletes) after the read marker, not written by the member,
    /// and not deleted: the room's own (not thread replies), and the thread replies that
    /// mention the member.
    pub unread: u64,
    /// Those of the unread messages that mention the member (`@handle` or `@room`, as
    /// [`protocol::mentions::scan`] reads a body), in the room or in its threads.
    pub mentions: u64,
    /// For a DM, the other members (one; up to seven in a group DM), by handle.
    pub dm_peers: Vec<User>,
}

/// A message in its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    /// Seq of the event that created it.
    pub seq: u64,
    pub author_id: UserId,
    /// Empty once deleted.
    pub body: String,
    pub client_msg_id: String,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted: bool,
    /// Reactions by emoji, in the order each emoji was first used (none once deleted).
    pub reactions: Vec<Reaction>,
    /// For a reply, the root of its thread.
    pub thread_root: Option<MessageId>,
    /// For a thread's root, its replies so far (attached by reads, like reactions).
    pub thread: Option<ThreadSummary>,
    /// Its files, in the order the send named them (attached by reads, like reactions;
    /// none once deleted).
    pub files: Vec<protocol::FileView>,
    /// Deleted by a moderator rather than its author.
    pub removed_by_admin: bool,
    /// Pinned to its room, by whom and when.
    pub pinned: Option<Pin>,
    /// A notice of a moderation action (then `body` is empty and the author is the
    /// moderator).
    pub notice: Option<Notice>,
}

/// A thread: its root and its newest replies, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub root: Message,
    pub replies: Vec<Message>,
    /// Older replies exist beyond those returned.
    pub has_more: bool,
}

/// A thread as its root shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSummary {
    /// Replies not deleted.
    pub replies: u32,
    /// The seq and time of the newest reply (deleted or not).
    pub last_reply_seq: u64,
    pub last_reply_at: Millis,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    /// How many people reacted with it.
    pub count: u32,
    /// Who, in the order they reacted: the first [`protocol::REACTORS_LISTED`].
    pub users: Vec<protocol::UserView>,
}

impl Message {
    /// The message as delivered, given its author's view.
    pub fn view(&self, author: protocol::UserView) -> protocol::MessageView {
        protocol::MessageView {
            id: self.id,
            seq: self.seq,
            author,
            body: self.body.clone(),
            client_msg_id: self.client_msg_id.clone(),
            created_at: self.created_at,
            edited_at: self.edited_at,
            deleted: self.deleted,
            reactions: self
                .reactions
                .iter()
                .map(|r| protocol::ReactionView {
                    emoji: r.emoji.clone(),
                    count: r.count,
                    users: r.users.clone(),
                })
                .collect(),
            thread_root: self.thread_root,
            thread: self.thread.map(|t| protocol::ThreadView {
                replies: t.replies,
                last_reply_seq: t.last_reply_seq,
                last_reply_at: t.last_reply_at,
            }),
            files: self.files.clone(),
            removed_by_admin: self.removed_by_admin,
            pinned: self
                .pinned
                .map(|p| protocol::PinView { by: p.by, at: p.at }),
            notice: self.notice.as_ref().map(|n| {
                Box::new(match n {
                    Notice::MemberRemoved { user } => {
                        protocol::NoticeView::MemberRemoved { user: *user }
                    }
                    Notice::MemberBanned { user } => {
                        protocol::NoticeView::MemberBanned { user: *user }
                    }
                    Notice::RoomUpdated(changes) => protocol::NoticeView::RoomUpdated {
                        changes: changes.clone(),
                    },
                    Notice::RoleChanged { user, role } => protocol::NoticeView::RoleChanged {
                        user: *user,
                        role: (*role).into(),
                    },
                })
            }),
        }
    }
}

/// What an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Message,
    Edited,
    Deleted,
    /// A reaction was added to or removed from the message.
    Reaction,
    /// The message was pinned or unpinned.
    Pinned,
}

impl EventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Edited => "edited",
            EventKind::Deleted => "deleted",
            EventKind::Reaction => "reaction",
            EventKind::Pinned => "pinned",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "message" => Some(EventKind::Message),
            "edited" => Some(EventKind::Edited),
            "deleted" => Some(EventKind::Deleted),
            "reaction" => Some(EventKind::Reaction),
            "pinned" => Some(EventKind::Pinned),
            _ => None,
        }
    }
}

/// One entry of a room's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub room_id: RoomId,
    pub seq: u64,
    pub kind: EventKind,
    pub created_at: Millis,
    /// The message the event is about, in its state as of the read (resume) or as of the
    /// write (when returned by a write).
    pub message: Message,
}

/// A page of messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    /// Whether older messages exist before the first one.
    pub has_more: bool,
}

/// A browser session's record, as listed for its user (`Store::sessions_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session id (the cookie's value): secret, never shown whole.
    pub id: String,
    /// The tower-sessions record.
    pub data: Vec<u8>,
    /// Unix seconds.
    pub expires_at: i64,
}
