//! What the reader may do in a room, as the buttons show it: who moderates, which
//! actions a member's row offers, whose messages may be deleted. The server decides
//! again inside the transaction of every change (docs/moderation.md); this module only
//! keeps the browser from offering what would be refused. Pure logic, no I/O.

use protocol::RoleName;
use protocol::ids::UserId;
use serde::{Deserialize, Serialize};

/// The reader's standing in one room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    /// Their role, if a member.
    pub role: Option<RoleName>,
    /// A site admin moderates every room as its owner would.
    pub site_admin: bool,
    /// A direct message: nothing to moderate.
    pub dm: bool,
}

/// What a moderator can do to a member from the member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    MakeAdmin,
    MakeMember,
    Remove,
    Ban,
}

impl MemberAction {
    /// The menu entry's words.
    pub fn label(self) -> &'static str {
        match self {
            MemberAction::MakeAdmin => "Make admin",
            MemberAction::MakeMember => "Make member",
            MemberAction::Remove => "Remove from room",
            MemberAction::Ban => "Remove and ban",
        }
    }

    /// A short key for tests and styling.
    pub fn key(self) -> &'static str {
        match self {
            MemberAction::MakeAdmin => "make-admin",
            MemberAction::MakeMember => "make-member",
            MemberAction::Remove => "remove",
            MemberAction::Ban => "ban",
        }
    }
}

impl Rights {
    /// Whether the reader moderates the room: its owner or an admin, or a site admin.
    pub fn moderates(&self) -> bool {
        !self.dm
            && (self.site_admin || matches!(self.role, Some(RoleName::Owner | RoleName::Admin)))
    }

    /// Whether the reader acts with the owner's power: the owner, or a site admin.
    fn owns(&self) -> bool {
        !self.dm && (self.site_admin || self.role == Some(RoleName::Owner))
    }

    /// Whether the reader may delete a message by `author`: their own, or anyone's when
    /// they moderate.
    pub fn may_delete(&self, me: Option<UserId>, author: UserId) -> bool {
        me == Some(author) || self.moderates()
    }

    /// What the reader may do to `target`, whose role is `role`. Nothing to oneself (one
    /// leaves instead) or to the owner; an admin acts only on members; the owner and site
    /// admins also demote and remove admins.
    pub fn member_actions(
        &self,
        me: Option<UserId>,
        target: UserId,
        role: RoleName,
    ) -> Vec<MemberAction> {
        if !self.moderates() || me == Some(target) {
            return Vec::new();
        }
        match role {
            RoleName::Owner => Vec::new(),
            RoleName::Admin if self.owns() => vec![
                MemberAction::MakeMember,
                MemberAction::Remove,
                MemberAction::Ban,
            ],
            RoleName::Admin => Vec::new(),
            RoleName::Member => vec![
                MemberAction::MakeAdmin,
                MemberAction::Remove,
                MemberAction::Ban,
            ],
        }
    }
}

/// The badge a member's row shows for `role` (none for a plain member).
pub fn badge(role: RoleName) -> Option<&'static str> {
    match role {
        RoleName::Owner => Some("owner"),
        RoleName::Admin => Some("admin"),
        RoleName::Member => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rights(role: Option<RoleName>) -> Rights {
        Rights {
            role,
            site_admin: false,
            dm: false,
        }
    }

    const ME: UserId = UserId(protocol::ids::Uuid::from_u128(1));
    const THEM: UserId = UserId(protocol::ids::Uuid::from_u128(2));

    #[test]
    fn owners_and_admins_moderate_members_do_not() {
        assert!(rights(Some(RoleName::Owner)).moderates());
        assert!(rights(Some(RoleName::Admin)).moderates());
        assert!(!rights(Some(RoleName::Member)).moderates());
        assert!(!rights(None).moderates());
        let site = Rights {
            site_admin: true,
            ..rights(None)
        };
        assert!(
            site.moderates(),
            "a site admin moderates rooms they are not in"
        );
    }

    #[test]
    fn nobody_moderates_a_direct_message() {
        let dm = Rights {
            role: Some(RoleName::Owner),
            site_admin: true,
            dm: true,
        };
        assert!(!dm.moderates());
        assert!(
            dm.member_actions(Some(ME), THEM, RoleName::Member)
                .is_empty()
        );
        assert!(!dm.may_delete(Some(ME), THEM));
    }

    #[test]
    fn an_admin_acts_on_members_only() {
        let admin = rights(Some(RoleName::Admin));
        assert_eq!(
            admin.member_actions(Some(ME), THEM, RoleName::Member),
            vec![
                MemberAction::MakeAdmin,
                MemberAction::Remove,
                MemberAction::Ban
            ]
        );
        assert!(
            admin
                .member_actions(Some(ME), THEM, RoleName::Admin)
                .is_empty()
        );
        assert!(
            admin
                .member_actions(Some(ME), THEM, RoleName::Owner)
                .is_empty()
        );
    }

    #[test]
    fn the_owner_and_site_admins_also_demote_and_remove_admins() {
        let site = Rights {
            site_admin: true,
            ..rights(Some(RoleName::Member))
        };
        for who in [rights(Some(RoleName::Owner)), site] {
            assert_eq!(
                who.member_actions(Some(ME), THEM, RoleName::Admin),
                vec![
                    MemberAction::MakeMember,
                    MemberAction::Remove,
                    MemberAction::Ban
                ]
            );
            assert!(
                who.member_actions(Some(ME), THEM, RoleName::Owner)
                    .is_empty(),
                "nobody touches the owner"
            );
        }
    }

    #[test]
    fn nobody_acts_on_themselves_and_members_act_on_nobody() {
        let owner = rights(Some(RoleName::Owner));
        assert!(
            owner
                .member_actions(Some(ME), ME, RoleName::Owner)
                .is_empty()
        );
        let admin = rights(Some(RoleName::Admin));
        assert!(
            admin
                .member_actions(Some(ME), ME, RoleName::Admin)
                .is_empty()
        );
        let member = rights(Some(RoleName::Member));
        assert!(
            member
                .member_actions(Some(ME), THEM, RoleName::Member)
                .is_empty()
        );
    }

    #[test]
    fn one_deletes_ones_own_messages_and_moderators_anyones() {
        let member = rights(Some(RoleName::Member));
        assert!(member.may_delete(Some(ME), ME));
        assert!(!member.may_delete(Some(ME), THEM));
        assert!(!member.may_delete(None, THEM));
        assert!(rights(Some(RoleName::Admin)).may_delete(Some(ME), THEM));
    }

    #[test]
    fn only_owners_and_admins_wear_a_badge() {
        assert_eq!(badge(RoleName::Owner), Some("owner"));
        assert_eq!(badge(RoleName::Admin), Some("admin"));
        assert_eq!(badge(RoleName::Member), None);
    }
}
