//! Moderation requests (docs/moderation.md): pin and unpin, remove (and ban) a member,
//! unban, change a role. Whether the user may is decided by the Store, inside the
//! transaction that makes the change, against the roles as they are then; so these need
//! no subscription and no membership here (a site admin moderates rooms they are not in).
//! A removal is also told to every node, which ends the removed member's subscriptions
//! to the room on all their devices, as a leave does.

use protocol::ids::{MessageId, RoomId, UserId};
use protocol::{AckInfo, RoleName};
use store::{Role, WriteCommand};

use super::Session;
use super::failure::Failure;
use super::messages::ack_of;

impl Session {
    pub(super) async fn pin(
        &self,
        room: RoomId,
        message: MessageId,
        pin: bool,
    ) -> Result<AckInfo, Failure> {
        let command = WriteCommand::Pin {
            moderator: self.me.id,
            message,
            pin,
        };
        let outcome = self.gateway.group_commit().write(room, command).await;
        ack_of(&self.gateway, room, outcome)
    }

    pub(super) async fn remove_member(
        &self,
        room: RoomId,
        member: UserId,
        ban: bool,
    ) -> Result<AckInfo, Failure> {
        let command = WriteCommand::RemoveMember {
            moderator: self.me.id,
            member,
            ban,
        };
        let outcome = self.gateway.group_commit().write(room, command).await;
        let info = ack_of(&self.gateway, room, outcome)?;
        self.gateway.membership_changed(room, member, false);
        Ok(info)
    }

    pub(super) async fn unban(&self, room: RoomId, user: UserId) -> Result<AckInfo, Failure> {
        self.gateway.store().unban(room, self.me.id, user).await?;
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    pub(super) async fn set_role(
        &self,
        room: RoomId,
        member: UserId,
        role: RoleName,
    ) -> Result<AckInfo, Failure> {
        let role = match role {
            RoleName::Owner => Role::Owner,
            RoleName::Admin => Role::Admin,
            RoleName::Member => Role::Member,
        };
        self.gateway
            .store()
            .set_role(room, self.me.id, member, role)
            .await?;
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }
}
