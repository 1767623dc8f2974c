//! Moderation requests (docs/moderation.md): pin and unpin, remove (and ban) a member,
//! unban, change a role, change the room's settings. Whether the user may is decided by the Store, inside the
//! transaction that makes the change, against the roles as they are then; so these need
//! no subscription and no membership here (a site admin moderates rooms they are not in).
//! A removal is also told to every node, which ends the removed member's subscriptions
//! to the room on all their devices, as a leave does.

use protocol::ids::{MessageId, RoomId, UserId};
use protocol::names::{RoomName, RoomTopic};
use protocol::{AckInfo, ErrorCode, RoleName, RoomChanges};
use store::{Role, RoomUpdate, WriteCommand};

use super::Session;
use super::failure::{Failure, fail};
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
        let command = WriteCommand::SetRole {
            moderator: self.me.id,
            member,
            role: Role::from(role),
        };
        let outcome = self.gateway.group_commit().write(room, command).await;
        ack_of(&self.gateway, room, outcome)
    }
}

impl Session {
    /// Changes the room's settings: each value is checked as when the room is created
    /// (an empty topic or description clears it).
    pub(super) async fn update_room(
        &self,
        room: RoomId,
        wanted: RoomChanges,
    ) -> Result<AckInfo, Failure> {
        let changes = room_update(wanted)?;
        let command = WriteCommand::UpdateRoom {
            moderator: self.me.id,
            changes,
        };
        let outcome = self.gateway.group_commit().write(room, command).await;
        ack_of(&self.gateway, room, outcome)
    }
}

/// The checked form of a room change, or why it is refused.
fn room_update(wanted: RoomChanges) -> Result<RoomUpdate, Failure> {
    let invalid = |message: String| fail(ErrorCode::InvalidField, message);
    if wanted.is_empty() {
        return Err(invalid("nothing to change".into()));
    }
    let name = match wanted.name {
        Some(n) => Some(RoomName::parse(&n).map_err(|e| invalid(e.message))?),
        None => None,
    };
    let topic = match wanted.topic {
        Some(t) if t.trim().is_empty() => Some(String::new()),
        Some(t) => Some(
            RoomTopic::parse(&t)
                .map_err(|e| invalid(e.message))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let description = match wanted.description {
        Some(d) => {
            let d = d.trim().to_string();
            if d.chars().count() > protocol::ROOM_DESCRIPTION_MAX_CHARS {
                return Err(invalid(format!(
                    "a description has at most {} characters",
                    protocol::ROOM_DESCRIPTION_MAX_CHARS
                )));
            }
            if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(invalid(
                    "a description has no control characters but newlines and tabs".into(),
                ));
            }
            Some(d)
        }
        None => None,
    };
    Ok(RoomUpdate {
        name,
        topic,
        description,
        private: wanted.private,
        archived: wanted.archived,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_changes_are_checked_like_new_rooms() {
        let ok = room_update(RoomChanges {
            name: Some(" Design Team ".into()),
            topic: Some("  ".into()),
            description: Some("line one\nline two".into()),
            ..RoomChanges::default()
        })
        .unwrap();
        assert_eq!(ok.name.unwrap().as_str(), "design-team");
        assert_eq!(ok.topic.as_deref(), Some(""), "a blank topic clears it");
        assert_eq!(ok.description.as_deref(), Some("line one\nline two"));
        for bad in [
            RoomChanges::default(),
            RoomChanges {
                name: Some("no/slashes".into()),
                ..RoomChanges::default()
            },
            RoomChanges {
                description: Some("x".repeat(1001)),
                ..RoomChanges::default()
            },
            RoomChanges {
                description: Some("bell\u{7}".into()),
                ..RoomChanges::default()
            },
        ] {
            let refused = room_update(bad.clone()).unwrap_err();
            assert_eq!(refused.code, ErrorCode::InvalidField, "{bad:?}");
        }
    }
}
