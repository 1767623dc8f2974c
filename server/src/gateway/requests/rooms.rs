//! Room requests: open a direct message (of two, or a group), create a room, invite, leave. Each membership
//! change is told to every node (member caches, the user's devices) through the gateway.

use protocol::ids::{RoomId, UserId};
use protocol::names::{RoomName, RoomTopic};
use protocol::{AckInfo, PersonalEvent, ServerFrame};
use store::{RoomKind, StoreError};

use super::Session;
use super::failure::Failure;

impl Session {
    pub(super) async fn open_dm(&self, other: UserId) -> Result<AckInfo, Failure> {
        let store = self.gateway.store();
        let room = store.open_dm(self.me.id, other).await?;
        let them = self.gateway.users().load(&*store, other).await?;
        self.gateway.to_user(
            self.me.id,
            &ServerFrame::Personal {
                event: PersonalEvent::DmOpened {
                    room: room.id,
                    with: them,
                },
            },
        );
        if other != self.me.id {
            self.gateway.to_user(
                other,
                &ServerFrame::Personal {
                    event: PersonalEvent::DmOpened {
                        room: room.id,
                        with: (*self.me).clone(),
                    },
                },
            );
        }
        Ok(AckInfo {
            room: Some(room.id),
            ..AckInfo::default()
        })
    }

    /// Opens the group DM of this user and `users`; each member (on all their devices)
    /// hears of it with the others' names.
    pub(super) async fn open_group(&self, users: Vec<UserId>) -> Result<AckInfo, Failure> {
        let store = self.gateway.store();
        let room = store.open_group_dm(self.me.id, &users).await?;
        let mut everyone = vec![(*self.me).clone()];
        for &user in &users {
            everyone.push(self.gateway.users().load(&*store, user).await?);
        }
        for person in &everyone {
            let with = everyone
                .iter()
                .filter(|u| u.id != person.id)
                .cloned()
                .collect();
            self.gateway.to_user(
                person.id,
                &ServerFrame::Personal {
                    event: PersonalEvent::GroupOpened {
                        room: room.id,
                        with,
                    },
                },
            );
        }
        Ok(AckInfo {
            room: Some(room.id),
            ..AckInfo::default()
        })
    }

    pub(super) async fn invite(&self, room: RoomId, user: UserId) -> Result<AckInfo, Failure> {
        if self.gateway.store().invite(room, self.me.id, user).await? {
            self.gateway.membership_changed(room, user, true);
            let invited = ServerFrame::Personal {
                event: PersonalEvent::Invited {
                    room,
                    by: (*self.me).clone(),
                },
            };
            self.gateway.to_user(user, &invited);
        }
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    pub(super) async fn create_room(
        &self,
        name: RoomName,
        private: bool,
        topic: Option<RoomTopic>,
    ) -> Result<AckInfo, Failure> {
        let kind = if private {
            RoomKind::Private
        } else {
            RoomKind::Public
        };
        let room = self
            .gateway
            .store()
            .create_room(
                self.me.id,
                kind,
                &name,
                topic.as_ref().map_or("", RoomTopic::as_str),
            )
            .await?;
        self.gateway.membership_changed(room.id, self.me.id, true);
        Ok(AckInfo {
            room: Some(room.id),
            ..AckInfo::default()
        })
    }

    /// Leaves `room`. This connection stops delivering it before the Store forgets the
    /// membership (no event acked after the leave reaches it), so a leave the Store would
    /// refuse (a direct message, a room that does not exist) is refused first: a refused
    /// request changes nothing.
    pub(super) async fn leave(&mut self, room: RoomId) -> Result<AckInfo, Failure> {
        match self.gateway.store().room(room).await? {
            None => return Err(StoreError::NotFound { what: "room" }.into()),
            Some(r) if r.kind == RoomKind::Dm => {
                let reason = "a direct message cannot be left";
                return Err(StoreError::Forbidden { reason }.into());
            }
            Some(_) => {}
        }
        if self.subscribed.contains(&room) {
            self.leave_room(room);
        }
        if self.gateway.store().leave(room, self.me.id).await? {
            self.gateway.membership_changed(room, self.me.id, false);
        }
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }
}
