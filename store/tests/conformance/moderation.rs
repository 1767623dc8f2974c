//! Conformance cases of roles and moderation (docs/moderation.md): the creator owns their
//! room and roles change only as the rules say; moderators delete anyone's message (the
//! tombstone says so), pin and unpin (events in the room's order), remove and ban members
//! (a notice in the room's order; a banned user cannot come back until unbanned); site
//! admins moderate every room.

use super::*;

fn pin(moderator: UserId, message: MessageId, pin: bool) -> WriteCommand {
    WriteCommand::Pin {
        moderator,
        message,
        pin,
    }
}

fn remove(moderator: UserId, member: UserId, ban: bool) -> WriteCommand {
    WriteCommand::RemoveMember {
        moderator,
        member,
        ban,
    }
}

async fn role_of(store: &dyn Store, room: RoomId, user: UserId) -> Option<Role> {
    store.membership(room, user).await.unwrap().map(|m| m.role)
}

/// A public room of ana's with bo and cy as members.
async fn team(store: &dyn Store) -> (User, User, User, Room) {
    let ana = user(store, "ana").await;
    let bo = user(store, "bo").await;
    let cy = user(store, "cy").await;
    let general = room(store, ana.id, RoomKind::Public, "general").await;
    store.join_public(general.id, bo.id).await.unwrap();
    store.join_public(general.id, cy.id).await.unwrap();
    (ana, bo, cy, general)
}

pub(crate) async fn the_creator_owns_their_room_and_roles_change_as_the_rules_say(
    store: Arc<dyn Store>,
) {
    let (ana, bo, cy, general) = team(&*store).await;
    assert_eq!(
        role_of(&*store, general.id, ana.id).await,
        Some(Role::Owner)
    );
    assert_eq!(
        role_of(&*store, general.id, bo.id).await,
        Some(Role::Member)
    );
    let dee = user(&*store, "dee").await;
    let dm = store.open_dm(ana.id, dee.id).await.unwrap();
    assert_eq!(
        role_of(&*store, dm.id, ana.id).await,
        Some(Role::Member),
        "nobody owns a DM"
    );

    assert!(
        matches!(
            store.set_role(general.id, bo.id, cy.id, Role::Admin).await,
            Err(StoreError::Forbidden { .. })
        ),
        "a member makes no admins"
    );
    assert!(
        store
            .set_role(general.id, ana.id, bo.id, Role::Admin)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_role(general.id, ana.id, bo.id, Role::Admin)
            .await
            .unwrap(),
        "already"
    );
    assert!(
        store
            .set_role(general.id, bo.id, cy.id, Role::Admin)
            .await
            .unwrap(),
        "an admin makes admins"
    );
    assert!(
        matches!(
            store.set_role(general.id, bo.id, cy.id, Role::Member).await,
            Err(StoreError::Forbidden { .. })
        ),
        "only the owner demotes an admin"
    );
    assert!(
        matches!(
            store
                .set_role(general.id, bo.id, ana.id, Role::Member)
                .await,
            Err(StoreError::Forbidden { .. })
        ),
        "nobody changes the owner"
    );
    assert!(matches!(
        store.set_role(general.id, ana.id, bo.id, Role::Owner).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(
        matches!(
            store
                .set_role(general.id, ana.id, dee.id, Role::Admin)
                .await,
            Err(StoreError::NotFound { .. })
        ),
        "not a member"
    );
    assert!(
        store
            .set_role(general.id, ana.id, cy.id, Role::Member)
            .await
            .unwrap()
    );
    let mut roles = store.roles(general.id).await.unwrap();
    roles.sort_by_key(|(u, _)| *u);
    let mut want = vec![
        (ana.id, Role::Owner),
        (bo.id, Role::Admin),
        (cy.id, Role::Member),
    ];
    want.sort_by_key(|(u, _)| *u);
    assert_eq!(roles, want);

    // Each change is a notice in the room's order, by who made it; a refused one and one
    // that changed nothing take no seq.
    let notices: Vec<(UserId, Notice)> = store
        .events_after(general.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.message.notice.map(|n| (e.message.author_id, n)))
        .collect();
    assert_eq!(
        notices,
        [
            (
                ana.id,
                Notice::RoleChanged {
                    user: bo.id,
                    role: Role::Admin
                }
            ),
            (
                bo.id,
                Notice::RoleChanged {
                    user: cy.id,
                    role: Role::Admin
                }
            ),
            (
                ana.id,
                Notice::RoleChanged {
                    user: cy.id,
                    role: Role::Member
                }
            ),
        ]
    );
}

pub(crate) async fn moderators_delete_anyone_s_message_and_the_tombstone_says_so(
    store: Arc<dyn Store>,
) {
    let (ana, bo, cy, general) = team(&*store).await;
    let by_cy = applied(write_one(&*store, general.id, send(cy.id, "c1", "spam")).await);
    let by_ana = applied(write_one(&*store, general.id, send(ana.id, "a1", "rules")).await);
    let delete = |author: UserId, message: MessageId| WriteCommand::Delete { author, message };
    assert_eq!(
        write_one(&*store, general.id, delete(bo.id, by_ana.message.id)).await,
        Err(WriteError::NotAuthor),
        "a member deletes only their own"
    );
    store
        .set_role(general.id, ana.id, bo.id, Role::Admin)
        .await
        .unwrap();
    let removed = applied(write_one(&*store, general.id, delete(bo.id, by_cy.message.id)).await);
    assert_eq!(removed.kind, EventKind::Deleted);
    assert!(removed.message.deleted && removed.message.removed_by_admin);
    assert_eq!(removed.message.body, "");
    let own = applied(write_one(&*store, general.id, send(cy.id, "c2", "oops")).await);
    let by_author = applied(write_one(&*store, general.id, delete(cy.id, own.message.id)).await);
    assert!(!by_author.message.removed_by_admin, "deleted by its author");
    let replay = store.events_after(general.id, 0, 10).await.unwrap();
    let flags: Vec<(u64, bool)> = replay
        .iter()
        .filter(|e| e.kind == EventKind::Deleted)
        .map(|e| (e.seq, e.message.removed_by_admin))
        .collect();
    // Seq 3 is the notice of Bo's new role.
    assert_eq!(flags, [(4, true), (6, false)]);
    assert_eq!(
        write_one(&*store, general.id, delete(bo.id, by_cy.message.id)).await,
        Err(WriteError::Deleted)
    );
}

pub(crate) async fn pins_are_events_and_only_moderators_pin(store: Arc<dyn Store>) {
    let (ana, bo, _cy, general) = team(&*store).await;
    let first = applied(write_one(&*store, general.id, send(bo.id, "b1", "agenda")).await);
    let second = applied(write_one(&*store, general.id, send(bo.id, "b2", "notes")).await);
    assert_eq!(
        write_one(&*store, general.id, pin(bo.id, first.message.id, true)).await,
        Err(WriteError::NotModerator)
    );
    let pinned = applied(write_one(&*store, general.id, pin(ana.id, first.message.id, true)).await);
    assert_eq!(pinned.kind, EventKind::Pinned);
    assert_eq!(pinned.seq, 3);
    assert_eq!(pinned.message.pinned.map(|p| p.by), Some(ana.id));
    assert!(
        matches!(
            write_one(&*store, general.id, pin(ana.id, first.message.id, true)).await,
            Ok(WriteOutcome::Unchanged(_))
        ),
        "pinned already: no seq"
    );
    applied(write_one(&*store, general.id, pin(ana.id, second.message.id, true)).await);
    let pins = store.pins(general.id).await.unwrap();
    let listed: Vec<&str> = pins.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(listed, ["notes", "agenda"], "newest pin first");
    let unpinned =
        applied(write_one(&*store, general.id, pin(ana.id, first.message.id, false)).await);
    assert_eq!(unpinned.message.pinned, None);
    assert_eq!(store.pins(general.id).await.unwrap().len(), 1);
    let page = store.latest(general.id, 10).await.unwrap();
    assert!(page.messages[0].pinned.is_none() && page.messages[1].pinned.is_some());
    let replay = store.events_after(general.id, 2, 10).await.unwrap();
    assert_eq!(
        replay.iter().map(|e| (e.seq, e.kind)).collect::<Vec<_>>(),
        [
            (3, EventKind::Pinned),
            (4, EventKind::Pinned),
            (5, EventKind::Pinned)
        ]
    );
    // A deleted message leaves the pinned list.
    applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Delete {
                author: bo.id,
                message: second.message.id,
            },
        )
        .await,
    );
    assert!(store.pins(general.id).await.unwrap().is_empty());
    assert_eq!(
        write_one(&*store, general.id, pin(ana.id, second.message.id, true)).await,
        Err(WriteError::Deleted)
    );
}

pub(crate) async fn a_removed_member_is_gone_and_a_banned_one_cannot_come_back(
    store: Arc<dyn Store>,
) {
    let (ana, bo, cy, general) = team(&*store).await;
    store
        .set_role(general.id, ana.id, bo.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        write_one(&*store, general.id, remove(cy.id, bo.id, false)).await,
        Err(WriteError::NotModerator)
    );
    assert_eq!(
        write_one(&*store, general.id, remove(bo.id, ana.id, false)).await,
        Err(WriteError::Protected),
        "nobody removes the owner"
    );
    let removal = applied(write_one(&*store, general.id, remove(bo.id, cy.id, false)).await);
    assert_eq!(removal.seq, 2, "after the notice of Bo's role");
    assert_eq!(
        removal.message.notice,
        Some(Notice::MemberRemoved { user: cy.id })
    );
    assert_eq!(removal.message.author_id, bo.id);
    assert_eq!(store.membership(general.id, cy.id).await.unwrap(), None);
    assert_eq!(
        write_one(&*store, general.id, remove(bo.id, cy.id, false)).await,
        Err(WriteError::NoSuchMember)
    );
    // Removed without a ban: may come back.
    assert!(store.join_public(general.id, cy.id).await.unwrap());
    let ban = applied(write_one(&*store, general.id, remove(ana.id, cy.id, true)).await);
    assert_eq!(
        ban.message.notice,
        Some(Notice::MemberBanned { user: cy.id })
    );
    assert!(matches!(
        store.join_public(general.id, cy.id).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        store.invite(general.id, bo.id, cy.id).await,
        Err(StoreError::Forbidden { .. })
    ));
    let banned: Vec<UserId> = store
        .bans(general.id)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(banned, [cy.id], "the ban is listed");
    // Notices are in the room's order, for every reader, and are not unread news.
    let page = store.latest(general.id, 10).await.unwrap();
    assert_eq!(page.messages.len(), 3, "a role, a removal, a ban");
    assert!(
        page.messages
            .iter()
            .all(|m| m.notice.is_some() && m.body.is_empty())
    );
    let bo_rooms = store.rooms_of(bo.id).await.unwrap();
    assert_eq!(
        bo_rooms
            .iter()
            .find(|r| r.room.id == general.id)
            .unwrap()
            .unread,
        0
    );

    assert!(matches!(
        store.unban(general.id, cy.id, cy.id).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(store.unban(general.id, bo.id, cy.id).await.unwrap());
    assert!(store.bans(general.id).await.unwrap().is_empty());
    assert!(
        !store.unban(general.id, bo.id, cy.id).await.unwrap(),
        "not banned any more"
    );
    assert!(store.join_public(general.id, cy.id).await.unwrap());
    // An admin is removed only by the owner.
    store
        .set_role(general.id, ana.id, cy.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        write_one(&*store, general.id, remove(bo.id, cy.id, false)).await,
        Err(WriteError::Protected)
    );
    applied(write_one(&*store, general.id, remove(ana.id, cy.id, false)).await);
}

pub(crate) async fn site_admins_moderate_every_room(store: Arc<dyn Store>) {
    let (ana, bo, cy, general) = team(&*store).await;
    let root = user(&*store, "root").await;
    assert!(!store.is_site_admin(root.id).await.unwrap());
    let by_bo = applied(write_one(&*store, general.id, send(bo.id, "b1", "hi")).await);
    assert_eq!(
        write_one(&*store, general.id, pin(root.id, by_bo.message.id, true)).await,
        Err(WriteError::NotModerator)
    );
    assert!(store.set_site_admin(root.id, true).await.unwrap());
    assert!(store.is_site_admin(root.id).await.unwrap());
    applied(write_one(&*store, general.id, pin(root.id, by_bo.message.id, true)).await);
    store
        .set_role(general.id, ana.id, cy.id, Role::Admin)
        .await
        .unwrap();
    assert!(
        store
            .set_role(general.id, root.id, cy.id, Role::Member)
            .await
            .unwrap(),
        "site admins demote"
    );
    applied(write_one(&*store, general.id, remove(root.id, bo.id, true)).await);
    assert_eq!(
        write_one(&*store, general.id, remove(root.id, ana.id, false)).await,
        Err(WriteError::Protected),
        "not even a site admin removes the owner"
    );
    assert!(store.set_site_admin(root.id, false).await.unwrap());
    assert_eq!(
        write_one(&*store, general.id, remove(root.id, cy.id, false)).await,
        Err(WriteError::NotModerator)
    );
}
