//! Rooms and membership, for both backends: creating rooms and direct messages, room
//! lookups, inviting, leaving, members, each user's room list with unread and mention
//! counts, and room read markers. Joining a public room is in `public_joins.rs`.

use protocol::ids::{RoomId, UserId};
use protocol::names::RoomName;
use uuid::Uuid;

use super::rows::{MembershipRow, RoomRow, SummaryRow, UserRow, room_cols, seq_in, seq_out};
use super::{PgStore, SqliteStore};
use crate::model::{Membership, Role, Room, RoomKind, RoomSummary, User, now_millis};
use crate::{StoreError, StoreResult};

/// The key of the direct message among `members` (distinct): their ids in order, so
/// whoever asks finds the same room. (For two people, `lo:hi`.)
fn dm_key(members: &[UserId]) -> String {
    let mut ids: Vec<String> = members.iter().map(|u| u.0.to_string()).collect();
    ids.sort();
    ids.join(":")
}

/// The members of a group DM: the creator and `others`, checked.
fn group_members(creator: UserId, others: &[UserId]) -> StoreResult<Vec<UserId>> {
    let mut members = vec![creator];
    for &other in others {
        if members.contains(&other) {
            return Err(StoreError::Invalid {
                reason: "a group message names each person once, not oneself",
            });
        }
        members.push(other);
    }
    if members.len() < 3 || members.len() > protocol::GROUP_DM_MAX {
        return Err(StoreError::Invalid {
            reason: "a group message has 3 to 8 people",
        });
    }
    Ok(members)
}

/// A member's unread mentions in one room: all of them, and those in thread replies
/// (which count as unread in the room only because they mention the member).
#[derive(Debug, Default, Clone, Copy)]
struct UnreadMentions {
    all: u64,
    in_threads: u64,
}

/// Most unread bodies with an `@` that [`Store::rooms_of`] reads to count mentions.
const MENTION_SCAN_MAX: i64 = 10_000;

/// Why a banned user may not join or be invited.
pub(super) const BANNED: &str = "banned from this room by its moderators";

macro_rules! rooms {
    ($store:ident, $dialect:ident) => {
        impl $store {
            pub(super) async fn create_room(
                &self,
                creator: UserId,
                kind: RoomKind,
                name: &RoomName,
                topic: &str,
            ) -> StoreResult<Room> {
                if kind == RoomKind::Dm {
                    return Err(StoreError::Invalid { reason: "use open_dm for direct messages" });
                }
                let room = Room {
                    id: RoomId(Uuid::now_v7()),
                    kind,
                    name: Some(name.clone()),
                    topic: topic.to_string(),
                    description: String::new(),
                    created_by: creator,
                    created_at: now_millis(),
                    last_seq: 0,
                    archived_at: None,
                };
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                sqlx::query(
                    "insert into rooms (id, kind, name, topic, created_by, created_at, last_seq) \
                     values ($1, $2, $3, $4, $5, $6, 0)",
                )
                .bind(room.id.0)
                .bind(kind.as_str())
                .bind(name.as_str())
                .bind(topic)
                .bind(creator.0)
                .bind(room.created_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_member(&mut *tx, room.id, creator).await?;
                sqlx::query("update memberships set role = 'owner' where room_id = $1 and user_id = $2")
                    .bind(room.id.0)
                    .bind(creator.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(room)
            }

            pub(super) async fn open_dm(&self, a: UserId, b: UserId) -> StoreResult<Room> {
                if a == b {
                    return Err(StoreError::Invalid { reason: "a direct message needs two different users" });
                }
                self.open_dm_among(a, &[a, b]).await
            }

            pub(super) async fn open_group_dm(&self, creator: UserId, others: &[UserId]) -> StoreResult<Room> {
                let members = group_members(creator, others)?;
                self.open_dm_among(creator, &members).await
            }

            /// Finds or creates the DM of `members` (distinct), opened by `creator`.
            async fn open_dm_among(&self, creator: UserId, members: &[UserId]) -> StoreResult<Room> {
                let key = dm_key(members);
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                for &user in members {
                    if !Self::user_exists(&mut *tx, user).await? {
                        return Err(StoreError::NotFound { what: "user" });
                    }
                }
                let id = Uuid::now_v7();
                let created = sqlx::query(
                    "insert into rooms (id, kind, name, topic, created_by, created_at, last_seq, dm_key) \
                     values ($1, 'dm', null, '', $2, $3, 0, $4) on conflict (dm_key) do nothing",
                )
                .bind(id)
                .bind(creator.0)
                .bind(now_millis())
                .bind(&key)
                .execute(&mut *tx)
                .await?;
                if created.rows_affected() == 1 {
                    for &user in members {
                        Self::insert_member(&mut *tx, RoomId(id), user).await?;
                    }
                }
                let room = sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where dm_key = $1"))
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await?
                    .into_room()?;
                tx.commit().await?;
                Ok(room)
            }

            pub(super) async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
                Self::fetch_room_row(&self.read, id).await
            }

            pub(super) async fn room_by_name(&self, name: &RoomName) -> StoreResult<Option<Room>> {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where name = $1"))
                    .bind(name.as_str())
                    .fetch_optional(&self.read)
                    .await?
                    .map(RoomRow::into_room)
                    .transpose()
            }

            pub(super) async fn public_rooms(&self) -> StoreResult<Vec<Room>> {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where kind = 'public' and archived_at is null order by name"))
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(RoomRow::into_room)
                .collect()
            }

            pub(super) async fn invite(&self, room: RoomId, inviter: UserId, invitee: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind == RoomKind::Dm {
                    return Err(StoreError::Forbidden { reason: "nobody can be added to a direct message" });
                }
                if !Self::is_member(&mut *tx, room, inviter).await? {
                    return Err(StoreError::Forbidden { reason: "only members can invite" });
                }
                if !Self::user_exists(&mut *tx, invitee).await? {
                    return Err(StoreError::NotFound { what: "user" });
                }
                if Self::is_banned(&mut *tx, room, invitee).await? {
                    return Err(StoreError::Forbidden { reason: BANNED });
                }
                let added = Self::insert_member(&mut *tx, room, invitee).await?;
                tx.commit().await?;
                Ok(added)
            }

            pub(super) async fn leave(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
                let mut tx = self.write.begin_with(super::$dialect::BEGIN_WRITE).await?;
                let Some(found) = Self::fetch_room_row(&mut *tx, room).await? else {
                    return Err(StoreError::NotFound { what: "room" });
                };
                if found.kind == RoomKind::Dm {
                    return Err(StoreError::Forbidden { reason: "a direct message cannot be left" });
                }
                let done = sqlx::query("delete from memberships where room_id = $1 and user_id = $2")
                    .bind(room.0)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            pub(super) async fn membership(&self, room: RoomId, user: UserId) -> StoreResult<Option<Membership>> {
                let row = sqlx::query_as::<_, MembershipRow>(
                    "select room_id, user_id, joined_at, last_read_seq, role from memberships \
                     where room_id = $1 and user_id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|r| Membership {
                    room_id: RoomId(r.room_id),
                    user_id: UserId(r.user_id),
                    joined_at: r.joined_at,
                    last_read_seq: seq_out(r.last_read_seq),
                    role: Role::parse(&r.role).unwrap_or(Role::Member),
                }))
            }

            pub(super) async fn members(&self, room: RoomId) -> StoreResult<Vec<User>> {
                sqlx::query_as::<_, UserRow>(
                    "select u.id, u.handle, u.display_name, u.created_at, u.deactivated_at, u.avatar_at from memberships m \
                     join users u on u.id = m.user_id where m.room_id = $1 order by u.handle",
                )
                .bind(room.0)
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(UserRow::into_user)
                .collect()
            }

            pub(super) async fn rooms_of(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
                let rows = sqlx::query_as::<_, SummaryRow>(
                    "select r.id, r.kind, r.name, r.topic, r.description, r.created_by, r.created_at, r.last_seq, r.archived_at, \
                       m.last_read_seq, \
                       (select count(*) from messages x where x.room_id = r.id and x.seq > m.last_read_seq \
                          and x.author_id <> $1 and not x.deleted and x.thread_root_id is null and x.notice is null) as unread, \
                       pu.id as peer_id, pu.handle as peer_handle, pu.display_name as peer_display_name, \
                       pu.created_at as peer_created_at, pu.deactivated_at as peer_deactivated_at, \
                       pu.avatar_at as peer_avatar_at \
                     from memberships m join rooms r on r.id = m.room_id \
                     left join memberships pm on r.kind = 'dm' and pm.room_id = r.id and pm.user_id <> $1 \
                     left join users pu on pu.id = pm.user_id \
                     where m.user_id = $1 \
                     order by case r.kind when 'dm' then 1 else 0 end, r.name, r.id, pu.handle",
                )
                .bind(user.0)
                .fetch_all(&self.read)
                .await?;
                let mentions = self.unread_mentions(user).await?;
                // A DM's row comes once per other member, its rows together (ordered by
                // room id): they fold into one summary.
                let mut out: Vec<RoomSummary> = Vec::new();
                for r in rows {
                    let peer = match (r.peer_id, r.peer_handle, r.peer_display_name, r.peer_created_at) {
                        (Some(id), Some(handle), Some(display_name), Some(created_at)) => Some(
                            UserRow {
                                id,
                                handle,
                                display_name,
                                created_at,
                                deactivated_at: r.peer_deactivated_at,
                                avatar_at: r.peer_avatar_at,
                            }
                            .into_user()?,
                        ),
                        _ => None,
                    };
                    if let Some(last) = out.last_mut()
                        && last.room.id.0 == r.room.id
                    {
                        last.dm_peers.extend(peer);
                        continue;
                    }
                    let room_mentions = mentions.get(&RoomId(r.room.id)).copied().unwrap_or_default();
                    out.push(RoomSummary {
                        room: r.room.into_room()?,
                        last_read_seq: seq_out(r.last_read_seq),
                        unread: seq_out(r.unread) + room_mentions.in_threads,
                        mentions: room_mentions.all,
                        dm_peers: peer.into_iter().collect(),
                    });
                }
                // Rooms by name, then DMs by their people's handles.
                out.sort_by(|a, b| {
                    let key = |s: &RoomSummary| {
                        (
                            s.room.kind == RoomKind::Dm,
                            s.room.name.as_ref().map(|n| n.to_string()),
                            s.dm_peers.iter().map(|u| u.handle.to_string()).collect::<Vec<_>>(),
                        )
                    };
                    key(a).cmp(&key(b))
                });
                Ok(out)
            }

            pub(super) async fn read_markers(&self, room: RoomId) -> StoreResult<Vec<(UserId, u64)>> {
                let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                    "select user_id, last_read_seq from memberships where room_id = $1 order by user_id",
                )
                .bind(room.0)
                .fetch_all(&self.read)
                .await?;
                Ok(rows.into_iter().map(|(u, seq)| (UserId(u), seq_out(seq))).collect())
            }

            pub(super) async fn mark_read(&self, room: RoomId, user: UserId, seq: u64) -> StoreResult<u64> {
                let row: Option<(i64,)> = sqlx::query_as(super::$dialect::MARK_READ)
                    .bind(room.0)
                    .bind(user.0)
                    .bind(seq_in(seq))
                    .fetch_optional(&self.write)
                    .await?;
                match row {
                    Some((marker,)) => Ok(seq_out(marker)),
                    None => Err(StoreError::NotFound { what: "membership" }),
                }
            }

            /// Per room, how many of `user`'s unread messages mention them: the bodies
            /// after the read marker that hold an `@` are read (at most
            /// [`MENTION_SCAN_MAX`] of them) and scanned as the browser reads them.
            async fn unread_mentions(
                &self,
                user: UserId,
            ) -> StoreResult<std::collections::HashMap<RoomId, UnreadMentions>> {
                let rows: Vec<(Uuid, String, String, Option<Uuid>)> = sqlx::query_as(
                    "select x.room_id, x.body, u.handle, x.thread_root_id from memberships m \
                       join users u on u.id = m.user_id \
                       join messages x on x.room_id = m.room_id and x.seq > m.last_read_seq \
                     where m.user_id = $1 and x.author_id <> $1 and not x.deleted \
                       and x.body like '%@%' \
                     limit $2",
                )
                .bind(user.0)
                .bind(MENTION_SCAN_MAX)
                .fetch_all(&self.read)
                .await?;
                let mut counts: std::collections::HashMap<RoomId, UnreadMentions> = std::collections::HashMap::new();
                for (room, body, handle, thread_root) in rows {
                    if protocol::mentions::scan(&body).includes(&handle) {
                        let c = counts.entry(RoomId(room)).or_default();
                        c.all += 1;
                        if thread_root.is_some() {
                            c.in_threads += 1;
                        }
                    }
                }
                Ok(counts)
            }

            pub(super) async fn fetch_room_row<'e, E>(exec: E, id: RoomId) -> StoreResult<Option<Room>>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                sqlx::query_as::<_, RoomRow>(concat!("select ", room_cols!(), " from rooms where id = $1"))
                    .bind(id.0)
                    .fetch_optional(exec)
                    .await?
                    .map(RoomRow::into_room)
                    .transpose()
            }

            async fn is_member<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from memberships where room_id = $1 and user_id = $2",
                )
                .bind(room.0)
                .bind(user.0)
                .fetch_one(exec)
                .await?;
                Ok(n > 0)
            }

            async fn user_exists<'e, E>(exec: E, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let (n,): (i64,) = sqlx::query_as("select count(*) from users where id = $1")
                    .bind(user.0)
                    .fetch_one(exec)
                    .await?;
                Ok(n > 0)
            }

            pub(super) async fn insert_member<'e, E>(exec: E, room: RoomId, user: UserId) -> StoreResult<bool>
            where
                E: sqlx::Executor<'e, Database = super::$dialect::Db>,
            {
                let done = sqlx::query(
                    "insert into memberships (room_id, user_id, joined_at, last_read_seq) \
                     values ($1, $2, $3, 0) on conflict (room_id, user_id) do nothing",
                )
                .bind(room.0)
                .bind(user.0)
                .bind(now_millis())
                .execute(exec)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

for_each_backend!(rooms);
