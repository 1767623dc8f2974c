//! What the chat server functions share on the server: the signed-in user and the
//! store, who may read a room (the store's one rule), store errors as [`ChatError`]s, and
//! rooms and authors as the pages show them.

use protocol::errors::ErrorCode;

use super::ChatError;
use crate::ssr::{app_context, sessions};

/// Logs an internal failure and returns the opaque error.
pub fn internal(err: impl std::fmt::Display) -> ChatError {
    tracing::error!(cause = %err, "chat request failed");
    ChatError::Internal
}

/// Sets the response status for `err` and returns it.
pub fn respond(err: ChatError) -> ChatError {
    crate::ssr::set_status(err.status());
    err
}

/// A store error as the pages say it, through the store's own client mapping: no such
/// thing and not allowed are the reader's to know; anything else is logged and opaque.
impl From<store::StoreError> for ChatError {
    fn from(err: store::StoreError) -> ChatError {
        match err.client_error().0 {
            ErrorCode::NotFound => ChatError::NotFound,
            ErrorCode::Forbidden => ChatError::Forbidden,
            _ => internal(err),
        }
    }
}

/// The room and `user`'s membership of it, if they may read it (a member, or anyone for
/// a public room; see [`store::access`]): otherwise [`ChatError::NotFound`] or
/// [`ChatError::Forbidden`].
pub async fn readable(
    store: &dyn store::Store,
    room: protocol::ids::RoomId,
    user: protocol::ids::UserId,
) -> Result<(store::Room, Option<store::Membership>), ChatError> {
    let (found, membership, _) = store::access::room_access(store, room, user).await?;
    Ok((found, membership))
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
    let v = match store.user(id).await? {
        Some(u) => u.view(),
        None => protocol::UserView {
            id,
            handle: "deleted".into(),
            name: "Deleted user".into(),
            avatar: None,
        },
    };
    known.insert(id, v.clone());
    Ok(v)
}

/// A room of the reader's list as the sidebar shows it.
pub fn item(summary: &store::RoomSummary) -> super::RoomItem {
    super::RoomItem {
        mentions: summary.mentions,
        ..item_of(&summary.room, &summary.dm_peers, summary.unread)
    }
}

/// A room as the sidebar shows it, with the other people of a DM (one, or a group's) and
/// an unread count.
pub fn item_of(room: &store::Room, peers: &[store::User], unread: u64) -> super::RoomItem {
    super::RoomItem {
        id: room.id,
        kind: match room.kind {
            store::RoomKind::Public => super::RoomKind::Public,
            store::RoomKind::Private => super::RoomKind::Private,
            store::RoomKind::Dm => super::RoomKind::Dm,
        },
        title: match (&room.name, peers) {
            (Some(name), _) => name.to_string(),
            (None, []) => "direct message".to_string(),
            (None, people) => people
                .iter()
                .map(|p| p.display_name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
        peers: peers.iter().map(store::User::view).collect(),
        unread,
        mentions: 0,
        last_seq: room.last_seq,
    }
}
