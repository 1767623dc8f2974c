//! Who may read a room: the one rule, used by the socket's subscribe, the event streams
//! and the chat pages' server functions.
//!
//! A member may read their room; anyone signed in may read a public room (as a
//! [`RoomAccess::Visitor`]: the socket then joins them, the pages and streams only show
//! it); nobody else may read it. Each caller finds out membership its own way (the
//! gateway from its member cache, the pages from the Store) and asks [`decide`];
//! [`room_access`] does both from the Store.

use protocol::ids::{RoomId, UserId};

use crate::model::{Membership, Room, RoomKind};
use crate::{Store, StoreError, StoreResult};

/// What a user may do with a room they may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomAccess {
    /// A member.
    Member,
    /// Not a member of this public room: may read it, and may join it.
    Visitor,
}

/// What [`StoreError::Forbidden`] says when a user may not read a room.
pub const NOT_A_MEMBER: &str = "you are not a member of this room";

/// The rule. `room` is `None` when no such room exists ([`StoreError::NotFound`]); a
/// private room or DM that `user` is not a member of is [`StoreError::Forbidden`].
///
/// Room ids are random UUIDs, so telling "no such room" from "not yours" leaks nothing
/// useful.
pub fn decide(room: Option<&Room>, is_member: bool) -> StoreResult<RoomAccess> {
    let room = room.ok_or(StoreError::NotFound { what: "room" })?;
    if is_member {
        Ok(RoomAccess::Member)
    } else if room.kind == RoomKind::Public {
        Ok(RoomAccess::Visitor)
    } else {
        Err(StoreError::Forbidden {
            reason: NOT_A_MEMBER,
        })
    }
}

/// The room, `user`'s membership of it and what they may do, read from the Store.
pub async fn room_access(
    store: &dyn Store,
    room: RoomId,
    user: UserId,
) -> StoreResult<(Room, Option<Membership>, RoomAccess)> {
    let found = store.room(room).await?;
    let membership = match &found {
        Some(_) => store.membership(room, user).await?,
        None => None,
    };
    let access = decide(found.as_ref(), membership.is_some())?;
    Ok((
        found.expect("decide refuses a missing room"),
        membership,
        access,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(kind: RoomKind) -> Room {
        Room {
            id: RoomId(uuid::Uuid::nil()),
            kind,
            name: None,
            topic: String::new(),
            description: String::new(),
            created_by: UserId(uuid::Uuid::nil()),
            created_at: 0,
            last_seq: 0,
            archived_at: None,
        }
    }

    #[test]
    fn members_read_every_kind_of_room() {
        for kind in [RoomKind::Public, RoomKind::Private, RoomKind::Dm] {
            assert_eq!(decide(Some(&room(kind)), true).unwrap(), RoomAccess::Member);
        }
    }

    #[test]
    fn others_read_only_public_rooms() {
        assert_eq!(
            decide(Some(&room(RoomKind::Public)), false).unwrap(),
            RoomAccess::Visitor
        );
        for kind in [RoomKind::Private, RoomKind::Dm] {
            assert!(matches!(
                decide(Some(&room(kind)), false),
                Err(StoreError::Forbidden {
                    reason: NOT_A_MEMBER
                })
            ));
        }
    }

    #[test]
    fn a_missing_room_is_not_found_for_members_and_others() {
        for member in [true, false] {
            assert!(matches!(
                decide(None, member),
                Err(StoreError::NotFound { what: "room" })
            ));
        }
    }
}
