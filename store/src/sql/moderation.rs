//! Roles and moderation, for both backends (docs/moderation.md): who moderates a room
//! (its owner and admins, and site admins), pins and member removals inside a group
//! commit's transaction (each an event in the room's order, the permission checked in
//! that transaction), and the reads and changes outside it: roles, bans, site admins,
//! a room's pinned messages.

use protocol::ids::{MessageId, RoomId, UserId};
use uuid::Uuid;

use super::rows::{MessageRow, UserRow, message_cols, seq_out, user_cols};
use super::{PgStore, SqliteStore};
use crate::StoreResult;
use crate::error::{StoreError, WriteError};
use crate::model::{Event, EventKind, Message, Notice, Pin, Role, User, WriteOutcome};

/// Most pinned messages a room lists.
const PINS_MAX: i64 = 100;

macro_rules! moderation {
    ($store:ident, $dialect:ident) => {
        impl $store {
            /// `user`'s role in `room` (`None`: not a member) and whether they are a site
            /// admin, read inside `exec`'s transaction.
            pub(super) async fn standing<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<(Option<Role>, bool)>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let row: Option<(Option<String>, bool)> = sqlx::query_as(
                    "select (select role from memberships where room_id = $1 and user_id = $2), site_admin \
                     from users where id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_optional(exec)
                .await?;
                Ok(match row {
                    Some((role, site_admin)) => (role.as_deref().and_then(Role::parse), site_admin),
                    None => (None, false),
                })
            }

            /// Whether `user` moderates `room` (its owner or an admin, or a site admin).
            pub(super) async fn moderates(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                user: UserId,
            ) -> StoreResult<bool> {
                let (role, site_admin) = Self::standing(&mut **tx, room, user).await?;
                Ok(site_admin || role.is_some_and(Role::moderates))
            }

            /// Pins or unpins a live message of `room`; nothing changes (no seq) when it is
            /// already so.
            pub(super) async fn apply_pin(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                moderator: UserId,
                message: MessageId,
                pin: bool,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                if !Self::moderates(tx, room, moderator).await? {
                    return Ok(Err(WriteError::NotModerator));
                }
                let row = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages where id = $1 and room_id = $2"))
                    .bind(message.0)
                    .bind(room.0)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(Err(WriteError::NoSuchMessage));
                };
                if row.deleted {
                    return Ok(Err(WriteError::Deleted));
                }
                let mut current = Message::from(row);
                current.reactions = Self::reactions_of(&mut **tx, message).await?;
                current.files = Self::files_of(&mut **tx, message).await?;
                if current.pinned.is_some() == pin {
                    return Ok(Ok(WriteOutcome::Unchanged(current)));
                }
                *seq += 1;
                let (by, at) = if pin { (Some(moderator.0), Some(now)) } else { (None, None) };
                sqlx::query("update messages set pinned_by = $1, pinned_at = $2 where id = $3")
                    .bind(by)
                    .bind(at)
                    .bind(message.0)
                    .execute(&mut **tx)
                    .await?;
                Self::append_event(tx, room, *seq, EventKind::Pinned, message.0, now).await?;
                current.pinned = pin.then_some(Pin { by: moderator, at: now });
                Ok(Ok(WriteOutcome::Applied(Event {
                    room_id: room,
                    seq: seq_out(*seq),
                    kind: EventKind::Pinned,
                    created_at: now,
                    message: current,
                })))
            }

            /// The standing of `moderator` (their role, whether a site admin) and the role of
            /// `member`, whom they act on: refused if `moderator` does not moderate the room
            /// or `member` is not a member.
            async fn acting_on(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                moderator: UserId,
                member: UserId,
            ) -> StoreResult<Result<(Option<Role>, bool, Role), WriteError>> {
                let (mod_role, site_admin) = Self::standing(&mut **tx, room, moderator).await?;
                if !(site_admin || mod_role.is_some_and(Role::moderates)) {
                    return Ok(Err(WriteError::NotModerator));
                }
                Ok(match Self::standing(&mut **tx, room, member).await?.0 {
                    Some(target) => Ok((mod_role, site_admin, target)),
                    None => Err(WriteError::NoSuchMember),
                })
            }

            /// Removes `member` from `room` (and bans them), recording it as a notice
            /// message at the room's next seq. The owner is never removed; an admin is
            /// removed only by the owner or a site admin.
            #[allow(clippy::too_many_arguments)]
            pub(super) async fn apply_remove_member(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                moderator: UserId,
                member: UserId,
                ban: bool,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                let (mod_role, site_admin, target) = match Self::acting_on(tx, room, moderator, member).await? {
                    Ok(found) => found,
                    Err(refused) => return Ok(Err(refused)),
                };
                let may = match target {
                    Role::Owner => false,
                    Role::Admin => site_admin || mod_role == Some(Role::Owner),
                    Role::Member => true,
                };
                if !may || member == moderator {
                    return Ok(Err(WriteError::Protected));
                }
                sqlx::query("delete from memberships where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(member.0)
                    .execute(&mut **tx)
                    .await?;
                if ban {
                    sqlx::query(
                        "insert into bans (room_id, user_id, banned_by, created_at) values ($1, $2, $3, $4) \
                         on conflict (room_id, user_id) do nothing",
                    )
                    .bind(room.0)
                    .bind(member.0)
                    .bind(moderator.0)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                let notice = if ban { Notice::MemberBanned { user: member } } else { Notice::MemberRemoved { user: member } };
                Self::record_notice(tx, room, seq, now, moderator, notice).await
            }

            /// Writes a notice message by `moderator` at the room's next seq, with its
            /// event: how every moderation action that changes the room is recorded in
            /// its order.
            pub(super) async fn record_notice(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                moderator: UserId,
                notice: Notice,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                let (kind, user, detail) = match &notice {
                    Notice::MemberRemoved { user } => ("member_removed", Some(user.0), None),
                    Notice::MemberBanned { user } => ("member_banned", Some(user.0), None),
                    Notice::RoomUpdated(changes) => (
                        "room_updated",
                        None,
                        Some(serde_json::to_string(changes).map_err(|e| StoreError::Corrupt(e.to_string()))?),
                    ),
                    Notice::RoleChanged { user, role } => ("role_changed", Some(user.0), Some(role.as_str().to_string())),
                };
                let id = MessageId(Uuid::now_v7());
                *seq += 1;
                let client_msg_id = format!("notice-{}", id.0.simple());
                sqlx::query(
                    "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, deleted, \
                     notice, notice_user, notice_detail) values ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $10)",
                )
                .bind(id.0)
                .bind(room.0)
                .bind(*seq)
                .bind(moderator.0)
                .bind(&client_msg_id)
                .bind(now)
                .bind(false)
                .bind(kind)
                .bind(user)
                .bind(detail)
                .execute(&mut **tx)
                .await?;
                Self::append_event(tx, room, *seq, EventKind::Message, id.0, now).await?;
                let message = Message {
                    id,
                    room_id: room,
                    seq: seq_out(*seq),
                    author_id: moderator,
                    body: String::new(),
                    client_msg_id,
                    created_at: now,
                    edited_at: None,
                    deleted: false,
                    reactions: Vec::new(),
                    thread_root: None,
                    thread: None,
                    files: Vec::new(),
                    removed_by_admin: false,
                    pinned: None,
                    notice: Some(notice),
                };
                Ok(Ok(WriteOutcome::Applied(crate::batch::message_event(message))))
            }

            /// Makes `member` an admin or a member again, recording it as a notice message
            /// at the room's next seq; nothing (no seq) if they are so already. Any
            /// moderator makes admins; only the owner or a site admin demotes one; nobody
            /// changes the owner.
            #[allow(clippy::too_many_arguments)]
            pub(super) async fn apply_set_role(
                tx: &mut sqlx::Transaction<'static, super::$dialect::Db>,
                room: RoomId,
                seq: &mut i64,
                now: i64,
                moderator: UserId,
                member: UserId,
                role: Role,
            ) -> StoreResult<Result<WriteOutcome, WriteError>> {
                if role == Role::Owner {
                    return Ok(Err(WriteError::OneOwner));
                }
                let (mod_role, site_admin, target) = match Self::acting_on(tx, room, moderator, member).await? {
                    Ok(found) => found,
                    Err(refused) => return Ok(Err(refused)),
                };
                let may = match (target, role) {
                    (Role::Owner, _) => false,
                    // Demoting an admin: the owner or a site admin.
                    (Role::Admin, Role::Member) => site_admin || mod_role == Some(Role::Owner),
                    _ => true,
                };
                if !may {
                    return Ok(Err(WriteError::RoleProtected));
                }
                if target == role {
                    return Ok(Ok(WriteOutcome::AlreadySo));
                }
                sqlx::query("update memberships set role = $3 where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(member.0)
                    .bind(role.as_str())
                    .execute(&mut **tx)
                    .await?;
                Self::record_notice(tx, room, seq, now, moderator, Notice::RoleChanged { user: member, role }).await
            }

            pub(super) async fn set_role(&self, room: RoomId, actor: UserId, member: UserId, role: Role) -> StoreResult<bool> {
                let command = crate::WriteCommand::SetRole { moderator: actor, member, role };
                let outcome = self.write_batch(room, std::slice::from_ref(&command)).await?.pop();
                match outcome {
                    Some(Ok(WriteOutcome::AlreadySo)) => Ok(false),
                    Some(Ok(_)) => Ok(true),
                    Some(Err(WriteError::OneOwner)) => Err(StoreError::Invalid { reason: "a room has one owner, who created it" }),
                    Some(Err(WriteError::NoSuchMember)) => Err(StoreError::NotFound { what: "member" }),
                    Some(Err(WriteError::NoSuchRoom)) => Err(StoreError::NotFound { what: "room" }),
                    Some(Err(WriteError::NotModerator)) => {
                        Err(StoreError::Forbidden { reason: "only the room's owner and admins may do this" })
                    }
                    Some(Err(WriteError::Archived)) => Err(StoreError::Forbidden { reason: "this room is archived: it is read-only" }),
                    Some(Err(_)) => {
                        Err(StoreError::Forbidden { reason: "nobody changes the owner's role, and only the owner demotes admins" })
                    }
                    None => Err(StoreError::Corrupt("a write batch answered nothing".into())),
                }
            }

            pub(super) async fn unban(&self, room: RoomId, actor: UserId, user: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                if !Self::moderates(&mut tx, room, actor).await? {
                    return Err(StoreError::Forbidden { reason: "only the room's owner and admins may do this" });
                }
                let done = sqlx::query("delete from bans where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            /// Whether `user` is banned from `room`.
            pub(super) async fn is_banned<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let row: Option<(i32,)> = sqlx::query_as("select 1 from bans where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(user.0)
                    .fetch_optional(exec)
                    .await?;
                Ok(row.is_some())
            }

            pub(super) async fn set_site_admin(&self, user: UserId, admin: bool) -> StoreResult<bool> {
                let done = sqlx::query("update users set site_admin = $2 where id = $1 and site_admin <> $2")
                    .bind(user.0)
                    .bind(admin)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn is_site_admin(&self, user: UserId) -> StoreResult<bool> {
                let row: Option<(bool,)> = sqlx::query_as("select site_admin from users where id = $1")
                    .bind(user.0)
                    .fetch_optional(&self.read)
                    .await?;
                Ok(row.is_some_and(|(a,)| a))
            }

            pub(super) async fn roles(&self, room: RoomId) -> StoreResult<Vec<(UserId, Role)>> {
                let rows: Vec<(Uuid, String)> = sqlx::query_as("select user_id, role from memberships where room_id = $1")
                    .bind(room.0)
                    .fetch_all(&self.read)
                    .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(user, role)| Role::parse(&role).map(|r| (UserId(user), r)))
                    .collect())
            }

            pub(super) async fn bans(&self, room: RoomId) -> StoreResult<Vec<User>> {
                let rows = sqlx::query_as::<_, UserRow>(concat!("select ", user_cols!(), " from users \
                     where id in (select user_id from bans where room_id = $1) order by handle"))
                    .bind(room.0)
                    .fetch_all(&self.read)
                    .await?;
                rows.into_iter().map(UserRow::into_user).collect()
            }

            pub(super) async fn pins(&self, room: RoomId) -> StoreResult<Vec<Message>> {
                let rows = sqlx::query_as::<_, MessageRow>(concat!("select ", message_cols!(), " from messages \
                     where room_id = $1 and pinned_at is not null and not deleted order by pinned_at desc limit $2"))
                    .bind(room.0)
                    .bind(PINS_MAX)
                    .fetch_all(&self.read)
                    .await?;
                let mut pinned: Vec<Message> = rows.into_iter().map(Message::from).collect();
                for m in &mut pinned {
                    m.reactions = Self::reactions_of(&self.read, m.id).await?;
                }
                let ids: Vec<MessageId> = pinned.iter().map(|m| m.id).collect();
                for id in ids {
                    let files = Self::files_of(&self.read, id).await?;
                    if let Some(m) = pinned.iter_mut().find(|m| m.id == id) {
                        m.files = files;
                    }
                }
                Ok(pinned)
            }
        }
    };
}

for_each_backend!(moderation);
