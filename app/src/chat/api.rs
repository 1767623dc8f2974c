//! What the chat pages read over HTTP: the room list, a room's latest page with its
//! members (reaching back to a message being jumped to), the public rooms, the user
//! directory and message search. Each is a server function (a public
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
    /// The room's name, or for a DM the other person's display name.
    pub title: String,
    /// For a DM, the other person.
    pub peer: Option<UserView>,
    /// Messages after the read marker, not one's own.
    pub unread: u64,
    /// Those of the unread messages that mention the reader (`@handle`, `@room`).
    #[serde(default)]
    pub mentions: u64,
}

/// A room as first shown: its latest page and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub room: RoomItem,
    /// Whether the reader is a member (a public room may be previewed before joining).
    pub member: bool,
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

#[cfg(feature = "ssr")]
mod server {
    //! The signed-in user and the store, for the chat server functions.
    use super::ChatError;
    use crate::ssr::{app_context, sessions};

    /// Logs an internal failure and returns the opaque error.
    pub fn internal(err: impl std::fmt::Display) -> ChatError {
        tracing::error!(cause = %err, "chat request failed");
        ChatError::Internal
    }

    /// Sets the response status for `err` and returns it.
    pub fn respond(err: ChatError) -> ChatError {
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(
                http::StatusCode::from_u16(err.status())
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
        err
    }

    /// Whether `user` may read `room`: a member, or anyone for a public room.
    pub async fn may_read(
        store: &dyn store::Store,
        room: protocol::ids::RoomId,
        user: protocol::ids::UserId,
    ) -> Result<(), ChatError> {
        let found = store
            .room(room)
            .await
            .map_err(internal)?
            .ok_or(ChatError::NotFound)?;
        let member = store.membership(room, user).await.map_err(internal)?;
        if member.is_none() && found.kind != store::RoomKind::Public {
            return Err(ChatError::Forbidden);
        }
        Ok(())
    }

    /// The store and the signed-in user, or [`ChatError::SignedOut`].
    pub async fn signed_in() -> Result<(std::sync::Arc<dyn store::Store>, store::User), ChatError> {
        let ctx = app_context().map_err(internal)?;
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(internal)?;
        match sessions::current_user(&session, &*ctx.store).await {
            Ok(Some(user)) => Ok((ctx.store, user)),
            Ok(None) => Err(ChatError::SignedOut),
            Err(e) => Err(internal(e)),
        }
    }

    /// The author of a message as shown: from `known` (filled as it goes), else looked
    /// up once; an account that is gone shows as "Deleted user".
    pub async fn author(
        store: &dyn store::Store,
        known: &mut std::collections::HashMap<protocol::ids::UserId, protocol::UserView>,
        id: protocol::ids::UserId,
    ) -> Result<protocol::UserView, ChatError> {
        if let Some(v) = known.get(&id) {
            return Ok(v.clone());
        }
        let v = match store.user(id).await.map_err(internal)? {
            Some(u) => u.view(),
            None => protocol::UserView {
                id,
                handle: "deleted".into(),
                name: "Deleted user".into(),
            },
        };
        known.insert(id, v.clone());
        Ok(v)
    }

    pub fn item(summary: &store::RoomSummary) -> super::RoomItem {
        super::RoomItem {
            mentions: summary.mentions,
            ..item_of(&summary.room, summary.dm_peer.as_ref(), summary.unread)
        }
    }

    pub fn item_of(room: &store::Room, peer: Option<&store::User>, unread: u64) -> super::RoomItem {
        super::RoomItem {
            id: room.id,
            kind: match room.kind {
                store::RoomKind::Public => super::RoomKind::Public,
                store::RoomKind::Private => super::RoomKind::Private,
                store::RoomKind::Dm => super::RoomKind::Dm,
            },
            title: match (&room.name, peer) {
                (Some(name), _) => name.to_string(),
                (None, Some(p)) => p.display_name.to_string(),
                (None, None) => "direct message".to_string(),
            },
            peer: peer.map(store::User::view),
            unread,
            mentions: 0,
        }
    }
}

/// The signed-in user's rooms and DMs, with unread counts: rooms by name, then DMs.
#[server(prefix = "/api/chat", endpoint = "rooms")]
pub async fn my_rooms() -> Result<Vec<RoomItem>, ChatError> {
    use self::server::*;
    let result = async {
        let (store, me) = signed_in().await?;
        let rooms = store.rooms_of(me.id).await.map_err(internal)?;
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
        let found = store
            .room(room)
            .await
            .map_err(internal)?
            .ok_or(ChatError::NotFound)?;
        let membership = store.membership(room, me.id).await.map_err(internal)?;
        if membership.is_none() && found.kind != store::RoomKind::Public {
            return Err(ChatError::Forbidden);
        }
        // The room (and its last seq) is read before the page: an event that lands in
        // between is replayed on subscribe rather than missed.
        let mut page = store.latest(room, FIRST_PAGE).await.map_err(internal)?;
        if let (Some(target), Some(oldest)) = (at, page.messages.first().map(|m| m.seq))
            && page.has_more
            && target < oldest
            && oldest - target <= JUMP_REACH
        {
            // Messages are at most one per seq: this many reach the target.
            let reach = (oldest - target) as u32;
            let older = store.before(room, oldest, reach).await.map_err(internal)?;
            page.has_more = older.has_more;
            page.messages.splice(0..0, older.messages);
        }
        let members = store.members(room).await.map_err(internal)?;
        let peer = if found.kind == store::RoomKind::Dm {
            members.iter().find(|u| u.id != me.id).cloned()
        } else {
            None
        };
        let mut authors: std::collections::HashMap<protocol::ids::UserId, UserView> =
            members.iter().map(|u| (u.id, u.view())).collect();
        let mut messages = Vec::with_capacity(page.messages.len());
        for m in &page.messages {
            messages.push(m.view(author(&*store, &mut authors, m.author_id).await?));
        }
        let unread = 0;
        Ok(RoomPage {
            room: item_of(&found, peer.as_ref(), unread),
            member: membership.is_some(),
            messages,
            last_seq: found.last_seq,
            has_more: page.has_more,
            member_count: members.len() as u32,
            members: members
                .iter()
                .take(MEMBERS_LISTED)
                .map(|u| u.view())
                .collect(),
            thread_reads: if membership.is_some() {
                store.thread_reads(room, me.id).await.map_err(internal)?
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
        may_read(&*store, room, me.id).await?;
        let thread = store
            .thread(room, root, THREAD_PAGE)
            .await
            .map_err(internal)?
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
        if store
            .membership(room, me.id)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Err(ChatError::Forbidden);
        }
        match store.message(root).await.map_err(internal)? {
            Some(m) if m.room_id == room && m.thread_root.is_none() => {}
            _ => return Err(ChatError::NotFound),
        }
        store
            .mark_thread_read(root, me.id, seq)
            .await
            .map_err(internal)
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
        let found = store
            .search(me.id, &query, SEARCH_HITS)
            .await
            .map_err(internal)?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let rooms: std::collections::HashMap<RoomId, RoomItem> = store
            .rooms_of(me.id)
            .await
            .map_err(internal)?
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
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| s.room.id)
            .collect();
        Ok(store
            .public_rooms()
            .await
            .map_err(internal)?
            .into_iter()
            .map(|r| PublicRoom {
                id: r.id,
                name: r.name.map(|n| n.to_string()).unwrap_or_default(),
                topic: r.topic,
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
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|u| u.id != me.id)
            .take(20)
            .map(|u| u.view())
            .collect())
    }
    .await;
    result.map_err(respond)
}
