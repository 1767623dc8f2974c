//! What the chat pages read over HTTP: the room list, a room's latest page with its
//! members (reaching back to a message being jumped to), the public rooms, the user
//! directory, message search, a message's edit history, invite links and a person's
//! profile ([`profile`]). Each is a server function (a public
//! endpoint under `/api/chat/*`) that checks the session itself. Everything live —
//! messages, presence, typing, writes — goes over the WebSocket instead.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use protocol::ids::{MessageId, RoomId, Seq};
use protocol::{MessageView, UserView};
use serde::{Deserialize, Serialize};

/// Messages in the first page of a room.
pub const FIRST_PAGE: u32 = 50;
/// Most members listed with a room.
pub const MEMBERS_LISTED: usize = 200;
/// How far back (in seqs) a room page reaches for a message being jumped to; an older
/// one is reached by scrolling back from there.
pub const JUMP_REACH: u64 = 500;
/// Most hits a search returns.
pub const SEARCH_HITS: u32 = 30;
/// Longest query read, in characters.
pub const SEARCH_QUERY_MAX: usize = 200;

/// What kind of room, as the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomKind {
    Public,
    Private,
    Dm,
}

impl RoomKind {
    /// The mark shown before a room's title.
    pub fn sigil(self) -> &'static str {
        match self {
            RoomKind::Public => "#",
            RoomKind::Private => "🔒",
            RoomKind::Dm => "@",
        }
    }
}

/// A room in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomItem {
    pub id: RoomId,
    pub kind: RoomKind,
    /// The room's name, or for a DM the other people's display names ("Bo", "Bo, Cy").
    pub title: String,
    /// For a DM, the other people (one; up to seven in a group).
    #[serde(default)]
    pub peers: Vec<UserView>,
    /// Messages after the read marker, not one's own.
    pub unread: u64,
    /// Those of the unread messages that mention the reader (`@handle`, `@room`).
    #[serde(default)]
    pub mentions: u64,
    /// The room's last seq when the list was read: `unread` covers it and everything
    /// before it, so a notice at or below it is not counted again ([`super::unread`]).
    #[serde(default)]
    pub last_seq: Seq,
}

/// A room as first shown: its latest page and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub room: RoomItem,
    /// The room's topic ("" if none).
    #[serde(default)]
    pub topic: String,
    /// The room's longer description ("" if none).
    #[serde(default)]
    pub description: String,
    /// Archived: read-only until a moderator opens it again.
    #[serde(default)]
    pub archived: bool,
    /// Whether the reader is a member (a public room may be previewed before joining).
    pub member: bool,
    /// What the reader may do here ([`super::roles`]).
    #[serde(default)]
    pub rights: super::roles::Rights,
    /// The members who are owner or admin (everyone else is a member).
    #[serde(default)]
    pub moderators: Vec<(protocol::ids::UserId, protocol::RoleName)>,
    /// The pinned messages, newest pin first.
    #[serde(default)]
    pub pins: Vec<MessageView>,
    /// For a moderator, who is banned from the room (empty for anyone else).
    #[serde(default)]
    pub banned: Vec<UserView>,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// The room's last seq when the page was read: live events continue after it.
    pub last_seq: Seq,
    pub has_more: bool,
    /// Members by handle, at most [`MEMBERS_LISTED`].
    pub members: Vec<UserView>,
    pub member_count: u32,
    /// How far the reader has read each thread of the room they have opened, by root.
    #[serde(default)]
    pub thread_reads: Vec<(MessageId, Seq)>,
    /// The reader's read marker when the page was read (0 for a non-member): the list's
    /// "New messages" divider goes before the first message after it.
    #[serde(default)]
    pub read_seq: Seq,
}

/// Most replies a thread shows at once (the newest).
pub const THREAD_PAGE: u32 = 200;

/// A thread as first shown: its root and newest replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPage {
    pub root: MessageView,
    /// Oldest first.
    pub replies: Vec<MessageView>,
    /// Older replies exist than those listed.
    pub has_more: bool,
}

/// One message found by a search, with the room it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub room: RoomItem,
    pub message: MessageView,
}

/// A public room in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRoom {
    pub id: RoomId,
    pub name: String,
    pub topic: String,
    /// The room's description ("" if none).
    #[serde(default)]
    pub description: String,
    pub joined: bool,
}

/// Why a chat request failed; each message is fit to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChatError {
    #[error("Please sign in.")]
    SignedOut,
    #[error("There is no such room.")]
    NotFound,
    #[error("This room is private.")]
    Forbidden,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("The request failed: {0}")]
    Request(String),
}

impl ChatError {
    /// The HTTP status for this error (the one place where that mapping lives).
    pub fn status(&self) -> u16 {
        match self {
            ChatError::SignedOut => 401,
            ChatError::NotFound => 404,
            ChatError::Forbidden => 403,
            ChatError::Internal => 500,
            ChatError::Request(_) => 400,
        }
    }
}

impl FromServerFnError for ChatError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ChatError::Request(value.to_string())
    }
}

pub mod profile;
#[cfg(feature = "ssr")]
mod server;

/// The signed-in user's rooms and DMs, with unread counts: rooms by name, then DMs.
#[server(prefix = "/api/chat", endpoint = "rooms")]
pub async fn my_rooms() -> Result<Vec<RoomItem>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let rooms = store.rooms_of(me.id).await?;
        let mut items: Vec<RoomItem> = rooms.iter().map(item).collect();
        items.sort_by(|a, b| {
            (a.kind == RoomKind::Dm, a.title.to_lowercase())
                .cmp(&(b.kind == RoomKind::Dm, b.title.to_lowercase()))
        });
        Ok(items)
    }
    .await;
    result.map_err(respond)
}

/// A room's latest page and members. Members see any of their rooms; anyone signed in
/// may preview a public room; private rooms and DMs are refused to outsiders. With `at`
/// (a message's seq, from a search hit), the page reaches back to it when it is within
/// [`JUMP_REACH`] of the latest page.
#[server(prefix = "/api/chat", endpoint = "room")]
pub async fn load_room(room: RoomId, at: Option<Seq>) -> Result<RoomPage, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let (found, membership) = readable(&*store, room, me.id).await?;
        // The room (and its last seq) is read before the page: an event that lands in
        // between is replayed on subscribe rather than missed.
        let mut page = store.latest(room, FIRST_PAGE).await?;
        if let (Some(target), Some(oldest)) = (at, page.messages.first().map(|m| m.seq))
            && page.has_more
            && target < oldest
            && oldest - target <= JUMP_REACH
        {
            // Messages are at most one per seq: this many reach the target.
            let reach = (oldest - target) as u32;
            let older = store.before(room, oldest, reach).await?;
            page.has_more = older.has_more;
            page.messages.splice(0..0, older.messages);
        }
        let members = store.members(room).await?;
        let peers: Vec<store::User> = if found.kind == store::RoomKind::Dm {
            members.iter().filter(|u| u.id != me.id).cloned().collect()
        } else {
            Vec::new()
        };
        let mut authors: std::collections::HashMap<protocol::ids::UserId, UserView> =
            members.iter().map(|u| (u.id, u.view())).collect();
        let mut messages = Vec::with_capacity(page.messages.len());
        for m in &page.messages {
            messages.push(m.view(author(&*store, &mut authors, m.author_id).await?));
        }
        let unread = 0;
        let site_admin = store.is_site_admin(me.id).await?;
        let roles = store.roles(room).await?;
        let mut pins = Vec::new();
        for m in store.pins(room).await? {
            pins.push(m.view(author(&*store, &mut authors, m.author_id).await?));
        }
        let rights = super::roles::Rights {
            role: membership.as_ref().map(|m| m.role.into()),
            site_admin,
            dm: found.kind == store::RoomKind::Dm,
        };
        let banned = if rights.moderates() {
            store
                .bans(room)
                .await?
                .iter()
                .map(store::User::view)
                .collect()
        } else {
            Vec::new()
        };
        Ok(RoomPage {
            rights,
            banned,
            room: item_of(&found, &peers, unread),
            topic: found.topic.clone(),
            description: found.description.clone(),
            archived: found.archived_at.is_some(),
            member: membership.is_some(),
            moderators: roles
                .into_iter()
                .filter(|(_, r)| *r != store::Role::Member)
                .map(|(u, r)| (u, r.into()))
                .collect(),
            pins,
            messages,
            last_seq: found.last_seq,
            has_more: page.has_more,
            member_count: members.len() as u32,
            members: members
                .iter()
                .take(MEMBERS_LISTED)
                .map(|u| u.view())
                .collect(),
            read_seq: membership.as_ref().map_or(0, |m| m.last_read_seq),
            thread_reads: if membership.is_some() {
                store.thread_reads(room, me.id).await?
            } else {
                Vec::new()
            },
        })
    }
    .await;
    result.map_err(respond)
}

/// A thread of a room the reader may read (as for [`load_room`]): its root and newest
/// replies.
#[server(prefix = "/api/chat", endpoint = "thread")]
pub async fn load_thread(room: RoomId, root: MessageId) -> Result<ThreadPage, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        readable(&*store, room, me.id).await?;
        let thread = store
            .thread(room, root, THREAD_PAGE)
            .await?
            .ok_or(ChatError::NotFound)?;
        let mut authors = std::collections::HashMap::new();
        let root_view = thread
            .root
            .view(author(&*store, &mut authors, thread.root.author_id).await?);
        let mut replies = Vec::with_capacity(thread.replies.len());
        for m in &thread.replies {
            replies.push(m.view(author(&*store, &mut authors, m.author_id).await?));
        }
        Ok(ThreadPage {
            root: root_view,
            replies,
            has_more: thread.has_more,
        })
    }
    .await;
    result.map_err(respond)
}

/// Moves the reader's marker in a thread of one of their rooms forward to `seq`; returns
/// the marker after.
#[server(prefix = "/api/chat", endpoint = "thread_read")]
pub async fn mark_thread_read(room: RoomId, root: MessageId, seq: Seq) -> Result<Seq, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        // Only members keep thread markers: a visitor of a public room is refused.
        if store.membership(room, me.id).await?.is_none() {
            return Err(ChatError::Forbidden);
        }
        match store.message(root).await? {
            Some(m) if m.room_id == room && m.thread_root.is_none() => {}
            _ => return Err(ChatError::NotFound),
        }
        store
            .mark_thread_read(root, me.id, seq)
            .await
            .map_err(ChatError::from)
    }
    .await;
    result.map_err(respond)
}

/// Full-text search over the messages of the reader's rooms (see `Store::search`): at
/// most [`SEARCH_HITS`], best first, each with its room.
#[server(prefix = "/api/chat", endpoint = "search")]
pub async fn search_messages(query: String) -> Result<Vec<SearchHit>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let query: String = query.chars().take(SEARCH_QUERY_MAX).collect();
        let found = store.search(me.id, &query, SEARCH_HITS).await?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let rooms: std::collections::HashMap<RoomId, RoomItem> = store
            .rooms_of(me.id)
            .await?
            .iter()
            .map(|s| (s.room.id, item(s)))
            .collect();
        let mut authors = std::collections::HashMap::new();
        let mut hits = Vec::with_capacity(found.len());
        for m in &found {
            // A room left since the search read it is not shown.
            let Some(room) = rooms.get(&m.room_id) else {
                continue;
            };
            hits.push(SearchHit {
                room: room.clone(),
                message: m.view(author(&*store, &mut authors, m.author_id).await?),
            });
        }
        Ok(hits)
    }
    .await;
    result.map_err(respond)
}

/// Every public room, by name, with whether the reader has joined it.
#[server(prefix = "/api/chat", endpoint = "public_rooms")]
pub async fn public_rooms() -> Result<Vec<PublicRoom>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let mine: std::collections::HashSet<RoomId> = store
            .rooms_of(me.id)
            .await?
            .into_iter()
            .map(|s| s.room.id)
            .collect();
        Ok(store
            .public_rooms()
            .await?
            .into_iter()
            .map(|r| PublicRoom {
                id: r.id,
                name: r.name.map(|n| n.to_string()).unwrap_or_default(),
                topic: r.topic,
                description: r.description,
                joined: mine.contains(&r.id),
            })
            .collect())
    }
    .await;
    result.map_err(respond)
}

/// Users whose handle starts with `prefix` (at most 20), oneself excluded.
#[server(prefix = "/api/chat", endpoint = "users")]
pub async fn find_users(prefix: String) -> Result<Vec<UserView>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let prefix: String = prefix
            .trim()
            .trim_start_matches('@')
            .to_lowercase()
            .chars()
            .take(64)
            .collect();
        Ok(store
            .search_users(&prefix, 21)
            .await?
            .into_iter()
            .filter(|u| u.id != me.id)
            .take(20)
            .map(|u| u.view())
            .collect())
    }
    .await;
    result.map_err(respond)
}

/// An invite link made from the chat: its path (`/join/…`) and when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteLink {
    pub path: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// A new invite link to `room`, valid for a week, for a member of it (anyone else is
/// refused as for `POST /invites`).
#[server(prefix = "/api/chat", endpoint = "invite_link")]
pub async fn make_invite_link(room: RoomId) -> Result<InviteLink, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        Ok(crate::ssr::invites::create(&*store, room, me.id, None).await?)
    }
    .await;
    result.map_err(respond)
}

/// An earlier body of an edited message, as its history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    /// When an edit replaced it (Unix ms).
    pub replaced_at: i64,
}

/// The earlier bodies of `message`, oldest first, for anyone who may read its room (as
/// for [`load_room`]); none once it is deleted.
#[server(prefix = "/api/chat", endpoint = "edit_history")]
pub async fn edit_history(room: RoomId, message: MessageId) -> Result<Vec<Revision>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        readable(&*store, room, me.id).await?;
        Ok(store
            .edit_history(room, message)
            .await?
            .into_iter()
            .map(|r| Revision {
                body: r.body,
                replaced_at: r.replaced_at,
            })
            .collect())
    }
    .await;
    result.map_err(respond)
}
