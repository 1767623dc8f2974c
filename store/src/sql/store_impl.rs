//! The one `impl Store` of each backend. Every method is one line: it calls the inherent
//! method of the same name that a concern file generates ([`super::accounts`],
//! [`super::rooms`], [`super::reads`], [`super::search`], [`super::writes`]); inherent
//! methods take precedence over trait methods, so `self.user(id)` here is the inherent
//! one. Only `engine`, `ping`, `check_writes` and `lane_policy` are written here.

use async_trait::async_trait;
use protocol::ids::{FileId, MessageId, RoomId, TokenId, UserId};
use protocol::names::{DisplayName, Handle, RoomName};

use super::{PgStore, SqliteStore};
use crate::error::WriteError;
use crate::model::*;
use crate::{LanePolicy, Store, StoreResult};

macro_rules! store_impl {
    ($store:ident, $dialect:ident) => {
        #[async_trait]
        impl Store for $store {
            fn engine(&self) -> &'static str {
                super::$dialect::ENGINE
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("select 1").execute(&self.read).await?;
                Ok(())
            }

            async fn check_writes(&self) -> StoreResult<()> {
                self.health.check(self.probe_write()).await
            }

            fn lane_policy(&self) -> LanePolicy {
                super::$dialect::LANE_POLICY
            }

            async fn create_user(
                &self,
                handle: &Handle,
                display_name: &DisplayName,
                password_hash: &str,
            ) -> StoreResult<User> {
                self.create_user(handle, display_name, password_hash).await
            }

            async fn credentials(&self, handle: &Handle) -> StoreResult<Option<Credentials>> {
                self.credentials(handle).await
            }

            async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
                self.user(id).await
            }

            async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
                self.search_users(prefix, limit).await
            }

            async fn user_by_handle(&self, handle: &Handle) -> StoreResult<Option<User>> {
                self.user_by_handle(handle).await
            }

            async fn create_api_token(
                &self,
                user: UserId,
                name: &str,
                secret_hash: &[u8; 32],
            ) -> StoreResult<ApiToken> {
                self.create_api_token(user, name, secret_hash).await
            }

            async fn user_by_token_hash(
                &self,
                secret_hash: &[u8; 32],
            ) -> StoreResult<Option<User>> {
                self.user_by_token_hash(secret_hash).await
            }

            async fn deactivate_user(&self, user: UserId) -> StoreResult<bool> {
                self.deactivate_user(user).await
            }

            async fn deactivated_since(&self, since: i64) -> StoreResult<Vec<UserId>> {
                self.deactivated_since(since).await
            }

            async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
                self.api_tokens(user).await
            }

            async fn revoke_api_token(&self, user: UserId, token: TokenId) -> StoreResult<bool> {
                self.revoke_api_token(user, token).await
            }

            async fn session_save(
                &self,
                id: &str,
                data: &[u8],
                expires_at: i64,
                user: Option<UserId>,
            ) -> StoreResult<()> {
                self.session_save(id, data, expires_at, user).await
            }

            async fn session_create(
                &self,
                id: &str,
                data: &[u8],
                expires_at: i64,
                user: Option<UserId>,
            ) -> StoreResult<bool> {
                self.session_create(id, data, expires_at, user).await
            }

            async fn sessions_of(&self, user: UserId, now: i64) -> StoreResult<Vec<StoredSession>> {
                self.sessions_of(user, now).await
            }

            async fn delete_sessions_of(
                &self,
                user: UserId,
                keep: Option<&str>,
            ) -> StoreResult<u64> {
                self.delete_sessions_of(user, keep).await
            }

            async fn set_display_name(
                &self,
                user: UserId,
                name: &DisplayName,
            ) -> StoreResult<bool> {
                self.set_display_name(user, name).await
            }

            async fn set_password_hash(
                &self,
                user: UserId,
                password_hash: &str,
            ) -> StoreResult<bool> {
                self.set_password_hash(user, password_hash).await
            }

            async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<Vec<u8>>> {
                self.session_load(id, now).await
            }

            async fn session_delete(&self, id: &str) -> StoreResult<()> {
                self.session_delete(id).await
            }

            async fn session_delete_expired(&self, now: i64) -> StoreResult<u64> {
                self.session_delete_expired(now).await
            }

            async fn create_room(
                &self,
                creator: UserId,
                kind: RoomKind,
                name: &RoomName,
                topic: &str,
            ) -> StoreResult<Room> {
                self.create_room(creator, kind, name, topic).await
            }

            async fn open_group_dm(&self, creator: UserId, others: &[UserId]) -> StoreResult<Room> {
                self.open_group_dm(creator, others).await
            }

            async fn open_dm(&self, a: UserId, b: UserId) -> StoreResult<Room> {
                self.open_dm(a, b).await
            }

            async fn room(&self, id: RoomId) -> StoreResult<Option<Room>> {
                self.room(id).await
            }

            async fn room_by_name(&self, name: &RoomName) -> StoreResult<Option<Room>> {
                self.room_by_name(name).await
            }

            async fn public_rooms(&self) -> StoreResult<Vec<Room>> {
                self.public_rooms().await
            }

            async fn join_public(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
                self.join_public(room, user).await
            }

            async fn invite(
                &self,
                room: RoomId,
                inviter: UserId,
                invitee: UserId,
            ) -> StoreResult<bool> {
                self.invite(room, inviter, invitee).await
            }

            async fn leave(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
                self.leave(room, user).await
            }

            async fn membership(
                &self,
                room: RoomId,
                user: UserId,
            ) -> StoreResult<Option<Membership>> {
                self.membership(room, user).await
            }

            async fn members(&self, room: RoomId) -> StoreResult<Vec<User>> {
                self.members(room).await
            }

            async fn rooms_of(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
                self.rooms_of(user).await
            }

            async fn read_markers(&self, room: RoomId) -> StoreResult<Vec<(UserId, u64)>> {
                self.read_markers(room).await
            }

            async fn mark_read(&self, room: RoomId, user: UserId, seq: u64) -> StoreResult<u64> {
                self.mark_read(room, user, seq).await
            }

            async fn write_batch(
                &self,
                room: RoomId,
                commands: &[WriteCommand],
            ) -> StoreResult<Vec<Result<WriteOutcome, WriteError>>> {
                self.write_batch(room, commands).await
            }

            async fn write_rooms(
                &self,
                batches: &[(RoomId, Vec<WriteCommand>)],
            ) -> StoreResult<Vec<Vec<Result<WriteOutcome, WriteError>>>> {
                self.write_rooms(batches).await
            }

            async fn latest(&self, room: RoomId, limit: u32) -> StoreResult<Page> {
                self.latest(room, limit).await
            }

            async fn before(&self, room: RoomId, before_seq: u64, limit: u32) -> StoreResult<Page> {
                self.before(room, before_seq, limit).await
            }

            async fn events_after(
                &self,
                room: RoomId,
                after_seq: u64,
                limit: u32,
            ) -> StoreResult<Vec<Event>> {
                self.events_after(room, after_seq, limit).await
            }

            async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
                self.message(id).await
            }

            async fn thread(
                &self,
                room: RoomId,
                root: MessageId,
                limit: u32,
            ) -> StoreResult<Option<Thread>> {
                self.thread(room, root, limit).await
            }

            async fn mark_thread_read(
                &self,
                root: MessageId,
                user: UserId,
                seq: u64,
            ) -> StoreResult<u64> {
                self.mark_thread_read(root, user, seq).await
            }

            async fn thread_reads(
                &self,
                room: RoomId,
                user: UserId,
            ) -> StoreResult<Vec<(MessageId, u64)>> {
                self.thread_reads(room, user).await
            }

            async fn search(
                &self,
                reader: UserId,
                query: &str,
                limit: u32,
            ) -> StoreResult<Vec<Message>> {
                self.search(reader, query, limit).await
            }

            async fn create_file(
                &self,
                file: &NewFile,
                original: &[u8],
                thumb: Option<&[u8]>,
            ) -> StoreResult<StoredFile> {
                self.create_file(file, original, thumb).await
            }

            async fn file(&self, id: FileId) -> StoreResult<Option<StoredFile>> {
                self.file(id).await
            }

            async fn file_bytes(&self, id: FileId, part: FilePart) -> StoreResult<Option<Vec<u8>>> {
                self.file_bytes(id, part).await
            }

            async fn purge_files(&self, stale_before: Millis) -> StoreResult<u64> {
                self.purge_files(stale_before).await
            }

            async fn set_role(
                &self,
                room: RoomId,
                actor: UserId,
                member: UserId,
                role: Role,
            ) -> StoreResult<bool> {
                self.set_role(room, actor, member, role).await
            }

            async fn unban(&self, room: RoomId, actor: UserId, user: UserId) -> StoreResult<bool> {
                self.unban(room, actor, user).await
            }

            async fn bans(&self, room: RoomId) -> StoreResult<Vec<User>> {
                self.bans(room).await
            }

            async fn set_site_admin(&self, user: UserId, admin: bool) -> StoreResult<bool> {
                self.set_site_admin(user, admin).await
            }

            async fn is_site_admin(&self, user: UserId) -> StoreResult<bool> {
                self.is_site_admin(user).await
            }

            async fn roles(&self, room: RoomId) -> StoreResult<Vec<(UserId, Role)>> {
                self.roles(room).await
            }

            async fn profile(&self, user: UserId) -> StoreResult<Option<Profile>> {
                self.profile(user).await
            }

            async fn set_profile(
                &self,
                user: UserId,
                bio: Option<&protocol::names::Bio>,
                time_zone: Option<&protocol::names::TimeZone>,
            ) -> StoreResult<bool> {
                self.set_profile(user, bio, time_zone).await
            }

            async fn set_avatar(
                &self,
                user: UserId,
                avatar: Option<&Avatar>,
            ) -> StoreResult<Option<Millis>> {
                self.set_avatar(user, avatar).await
            }

            async fn avatar(&self, user: UserId) -> StoreResult<Option<Avatar>> {
                self.avatar(user).await
            }

            async fn pins(&self, room: RoomId) -> StoreResult<Vec<Message>> {
                self.pins(room).await
            }

            async fn edit_history(
                &self,
                room: RoomId,
                message: MessageId,
            ) -> StoreResult<Vec<Revision>> {
                self.edit_history(room, message).await
            }

            async fn create_invite(
                &self,
                room: RoomId,
                creator: UserId,
                secret_hash: &[u8; 32],
                expires_at: Millis,
            ) -> StoreResult<()> {
                self.create_invite(room, creator, secret_hash, expires_at)
                    .await
            }

            async fn redeem_invite(
                &self,
                secret_hash: &[u8; 32],
                user: UserId,
                now: Millis,
            ) -> StoreResult<(Room, bool)> {
                self.redeem_invite(secret_hash, user, now).await
            }
        }
    };
}

for_each_backend!(store_impl);
