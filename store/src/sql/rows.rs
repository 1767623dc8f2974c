//! The row types both databases read into, their conversions to the model, and the
//! column lists and fragments of SQL the reads share. Also the conversions of seqs and
//! limits between code (`u64`, `u32`) and the database (`bigint`).

use protocol::ids::{MessageId, RoomId, TokenId, UserId};
use protocol::names::{DisplayName, Handle, RoomName};
use sqlx::FromRow;
use std::collections::HashMap;
use uuid::Uuid;

use crate::model::{
    ApiToken, Event, EventKind, Message, Notice, Pin, Reaction, Role, Room, RoomKind, User,
};
use crate::{StoreError, StoreResult};

#[derive(FromRow)]
pub(super) struct UserRow {
    pub(super) id: Uuid,
    pub(super) handle: String,
    pub(super) display_name: String,
    pub(super) created_at: i64,
    pub(super) deactivated_at: Option<i64>,
    pub(super) avatar_at: Option<i64>,
}

impl UserRow {
    pub(super) fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: UserId(self.id),
            handle: Handle::parse(&self.handle).map_err(corrupt)?,
            display_name: DisplayName::parse(&self.display_name).map_err(corrupt)?,
            created_at: self.created_at,
            deactivated_at: self.deactivated_at,
            avatar_at: self.avatar_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct CredentialsRow {
    #[sqlx(flatten)]
    pub(super) user: UserRow,
    pub(super) password_hash: String,
}

#[derive(FromRow)]
pub(super) struct TokenRow {
    pub(super) id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) name: String,
    pub(super) created_at: i64,
    pub(super) last_used_at: Option<i64>,
    pub(super) revoked_at: Option<i64>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> ApiToken {
        ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(FromRow)]
pub(super) struct RoomRow {
    pub(super) id: Uuid,
    pub(super) kind: String,
    pub(super) name: Option<String>,
    pub(super) topic: String,
    pub(super) description: String,
    pub(super) created_by: Uuid,
    pub(super) created_at: i64,
    pub(super) last_seq: i64,
    pub(super) archived_at: Option<i64>,
}

impl RoomRow {
    pub(super) fn into_room(self) -> StoreResult<Room> {
        Ok(Room {
            id: RoomId(self.id),
            kind: RoomKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("room kind {:?}", self.kind)))?,
            name: self
                .name
                .as_deref()
                .map(RoomName::parse)
                .transpose()
                .map_err(corrupt)?,
            topic: self.topic,
            description: self.description,
            created_by: UserId(self.created_by),
            created_at: self.created_at,
            last_seq: seq_out(self.last_seq),
            archived_at: self.archived_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct SummaryRow {
    #[sqlx(flatten)]
    pub(super) room: RoomRow,
    pub(super) last_read_seq: i64,
    pub(super) unread: i64,
    pub(super) peer_id: Option<Uuid>,
    pub(super) peer_handle: Option<String>,
    pub(super) peer_display_name: Option<String>,
    pub(super) peer_created_at: Option<i64>,
    pub(super) peer_deactivated_at: Option<i64>,
    pub(super) peer_avatar_at: Option<i64>,
}

#[derive(FromRow)]
pub(super) struct MembershipRow {
    pub(super) room_id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) joined_at: i64,
    pub(super) last_read_seq: i64,
    pub(super) role: String,
}

#[derive(FromRow)]
pub(super) struct MessageRow {
    pub(super) id: Uuid,
    pub(super) room_id: Uuid,
    pub(super) seq: i64,
    pub(super) author_id: Uuid,
    pub(super) body: String,
    pub(super) client_msg_id: String,
    pub(super) created_at: i64,
    pub(super) edited_at: Option<i64>,
    pub(super) deleted: bool,
    pub(super) thread_root_id: Option<Uuid>,
    pub(super) removed_by: Option<Uuid>,
    pub(super) pinned_by: Option<Uuid>,
    pub(super) pinned_at: Option<i64>,
    pub(super) notice: Option<String>,
    pub(super) notice_user: Option<Uuid>,
    pub(super) notice_detail: Option<String>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Message {
        Message {
            id: MessageId(r.id),
            room_id: RoomId(r.room_id),
            seq: seq_out(r.seq),
            author_id: UserId(r.author_id),
            body: r.body,
            client_msg_id: r.client_msg_id,
            created_at: r.created_at,
            edited_at: r.edited_at,
            deleted: r.deleted,
            reactions: Vec::new(),
            thread_root: r.thread_root_id.map(MessageId),
            thread: None,
            files: Vec::new(),
            removed_by_admin: r.removed_by.is_some(),
            pinned: match (r.pinned_by, r.pinned_at) {
                (Some(by), Some(at)) => Some(Pin { by: UserId(by), at }),
                _ => None,
            },
            notice: match (r.notice.as_deref(), r.notice_user) {
                (Some("member_removed"), Some(user)) => {
                    Some(Notice::MemberRemoved { user: UserId(user) })
                }
                (Some("member_banned"), Some(user)) => {
                    Some(Notice::MemberBanned { user: UserId(user) })
                }
                (Some("role_changed"), Some(user)) => r
                    .notice_detail
                    .as_deref()
                    .and_then(Role::parse)
                    .map(|role| Notice::RoleChanged {
                        user: UserId(user),
                        role,
                    }),
                (Some("room_updated"), _) => Some(Notice::RoomUpdated(
                    r.notice_detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok())
                        .unwrap_or_default(),
                )),
                _ => None,
            },
        }
    }
}

#[derive(FromRow)]
pub(super) struct EventRow {
    pub(super) event_seq: i64,
    pub(super) event_kind: String,
    pub(super) event_created_at: i64,
    #[sqlx(flatten)]
    pub(super) message: MessageRow,
}

impl EventRow {
    pub(super) fn into_event(self) -> StoreResult<Event> {
        Ok(Event {
            room_id: RoomId(self.message.room_id),
            seq: seq_out(self.event_seq),
            kind: EventKind::parse(&self.event_kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event kind {:?}", self.event_kind)))?,
            created_at: self.event_created_at,
            message: self.message.into(),
        })
    }
}

/// One person's reaction, with how they look, for [`group_reactions`].
#[derive(FromRow)]
pub(super) struct ReactionRow {
    pub(super) message_id: Uuid,
    pub(super) emoji: String,
    pub(super) user_id: Uuid,
    pub(super) handle: String,
    pub(super) display_name: String,
}

/// Reactions per message from rows in reaction order: emoji in the order each was first
/// used, people in the order they reacted (the first [`protocol::REACTORS_LISTED`]).
pub(super) fn group_reactions(rows: Vec<ReactionRow>) -> HashMap<Uuid, Vec<Reaction>> {
    let mut out: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    for row in rows {
        let list = out.entry(row.message_id).or_default();
        let at = match list.iter().position(|r| r.emoji == row.emoji) {
            Some(at) => at,
            None => {
                list.push(Reaction {
                    emoji: row.emoji,
                    count: 0,
                    users: Vec::new(),
                });
                list.len() - 1
            }
        };
        let group = &mut list[at];
        group.count += 1;
        if group.users.len() < protocol::REACTORS_LISTED {
            group.users.push(protocol::UserView {
                id: UserId(row.user_id),
                handle: row.handle,
                name: row.display_name,
                avatar: None,
            });
        }
    }
    out
}

/// Gives each message its reactions from `grouped` (a message may appear more than
/// once: several events of one message).
pub(super) fn attach_reactions<'a>(
    messages: impl IntoIterator<Item = &'a mut Message>,
    grouped: &HashMap<Uuid, Vec<Reaction>>,
) {
    for m in messages {
        if let Some(list) = grouped.get(&m.id.0) {
            m.reactions = list.clone();
        }
    }
}

pub(super) fn corrupt(err: protocol::names::InvalidValue) -> StoreError {
    StoreError::Corrupt(format!("stored {} is invalid: {}", err.field, err.message))
}

/// Seqs are `bigint` in the database and `u64` in code; stored ones are never negative.
pub(super) fn seq_out(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A seq from a caller, clamped into the database's range.
pub(super) fn seq_in(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn limit_in(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000))
}

// Column lists as literal-producing macros: sqlx only takes `&'static str` SQL, so
// statements are assembled with `concat!` at compile time.
macro_rules! user_cols {
    () => {
        "id, handle, display_name, created_at, deactivated_at, avatar_at"
    };
}
pub(super) use user_cols;

macro_rules! room_cols {
    () => {
        "id, kind, name, topic, description, created_by, created_at, last_seq, archived_at"
    };
}
pub(super) use room_cols;

macro_rules! message_cols {
    () => {
        "id, room_id, seq, author_id, body, client_msg_id, created_at, edited_at, deleted, thread_root_id, \
         removed_by, pinned_by, pinned_at, notice, notice_user, notice_detail"
    };
}
pub(super) use message_cols;

/// `select` of events joined to their messages, for [`EventRow`].
macro_rules! event_select {
    () => {
        "select e.seq as event_seq, e.kind as event_kind, e.created_at as event_created_at, \
         m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, m.created_at, m.edited_at, m.deleted, \
         m.thread_root_id, m.removed_by, m.pinned_by, m.pinned_at, m.notice, m.notice_user, m.notice_detail \
         from room_events e join messages m on m.id = e.message_id"
    };
}
pub(super) use event_select;

/// `select` of reactions with their people, for [`ReactionRow`]; a `where` and
/// [`reaction_order!`] follow.
macro_rules! reaction_select {
    () => {
        "select r.message_id, r.emoji, r.user_id, u.handle, u.display_name \
         from reactions r join users u on u.id = r.user_id"
    };
}
pub(super) use reaction_select;

/// The order [`group_reactions`] needs: the order of reacting (by the seq of the event
/// that added each, so it is exact even within a millisecond).
macro_rules! reaction_order {
    () => {
        " order by r.seq"
    };
}
pub(super) use reaction_order;
