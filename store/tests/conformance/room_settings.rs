//! Conformance cases of a room's settings: moderators rename a room and set its topic,
//! description and visibility, each change recorded by a notice in the room's order; an
//! archived room is read-only and hidden from Browse until it is opened again.

use super::*;

fn update(moderator: UserId, changes: RoomUpdate) -> WriteCommand {
    WriteCommand::UpdateRoom { moderator, changes }
}

pub(crate) async fn moderators_change_a_room_and_a_notice_records_it(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    room(&*store, ana.id, RoomKind::Public, "taken").await;
    store.join_public(general.id, bo.id).await.unwrap();
    let rename = RoomUpdate {
        name: Some(RoomName::parse("design").unwrap()),
        topic: Some("pixels".into()),
        ..RoomUpdate::default()
    };
    assert_eq!(
        write_one(&*store, general.id, update(bo.id, rename.clone())).await,
        Err(WriteError::NotModerator)
    );
    let done = applied(write_one(&*store, general.id, update(ana.id, rename.clone())).await);
    assert_eq!(done.seq, 1);
    let Some(Notice::RoomUpdated(changes)) = &done.message.notice else {
        panic!("a notice records the change: {:?}", done.message);
    };
    assert_eq!(changes.name.as_deref(), Some("design"));
    assert_eq!(changes.topic.as_deref(), Some("pixels"));
    assert_eq!(changes.private, None, "only what changed");
    let now = store.room(general.id).await.unwrap().unwrap();
    assert_eq!(now.name.as_ref().map(|n| n.as_str()), Some("design"));
    assert_eq!(now.topic, "pixels");
    assert_eq!(
        write_one(&*store, general.id, update(ana.id, rename)).await,
        Err(WriteError::NothingToChange),
        "the room is so already"
    );
    let clash = RoomUpdate {
        name: Some(RoomName::parse("taken").unwrap()),
        ..RoomUpdate::default()
    };
    assert_eq!(
        write_one(&*store, general.id, update(ana.id, clash)).await,
        Err(WriteError::NameTaken)
    );
    let private = RoomUpdate {
        private: Some(true),
        description: Some("Where the design team talks.\nAll welcome.".into()),
        ..RoomUpdate::default()
    };
    applied(write_one(&*store, general.id, update(ana.id, private)).await);
    let now = store.room(general.id).await.unwrap().unwrap();
    assert_eq!(now.kind, RoomKind::Private);
    assert_eq!(
        now.description,
        "Where the design team talks.\nAll welcome."
    );
    assert!(
        store
            .public_rooms()
            .await
            .unwrap()
            .iter()
            .all(|r| r.id != general.id)
    );
    let replay = store.events_after(general.id, 0, 10).await.unwrap();
    let recorded: Vec<Option<bool>> = replay
        .iter()
        .map(|e| match &e.message.notice {
            Some(Notice::RoomUpdated(c)) => c.private,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        recorded,
        [None, Some(true)],
        "every change is in the room's order"
    );
    let cy = user(&*store, "cy").await;
    let dm = store.open_dm(ana.id, cy.id).await.unwrap();
    let topic = RoomUpdate {
        topic: Some("us".into()),
        ..RoomUpdate::default()
    };
    let refused = write_one(&*store, dm.id, update(ana.id, topic)).await;
    assert!(
        matches!(
            refused,
            Err(WriteError::NotARoom) | Err(WriteError::NotModerator)
        ),
        "{refused:?}"
    );
}

pub(crate) async fn an_archived_room_is_read_only_and_hidden_until_opened(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    store.join_public(general.id, bo.id).await.unwrap();
    let kept = applied(write_one(&*store, general.id, send(bo.id, "b1", "before")).await);
    let archive = |on: bool| RoomUpdate {
        archived: Some(on),
        ..RoomUpdate::default()
    };
    applied(write_one(&*store, general.id, update(ana.id, archive(true))).await);
    assert!(
        store
            .room(general.id)
            .await
            .unwrap()
            .unwrap()
            .archived_at
            .is_some()
    );
    assert!(
        store.public_rooms().await.unwrap().is_empty(),
        "hidden from Browse"
    );
    // A batch of plain sends (SQLite's send thread) and every other write are refused.
    let out = store
        .write_batch(
            general.id,
            &[send(bo.id, "b2", "after"), send(ana.id, "a1", "too")],
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![Err(WriteError::Archived), Err(WriteError::Archived)]
    );
    assert_eq!(
        write_one(
            &*store,
            general.id,
            react(bo.id, kept.message.id, "👍", true)
        )
        .await,
        Err(WriteError::Archived)
    );
    assert_eq!(
        store.latest(general.id, 10).await.unwrap().messages.len(),
        2,
        "history stays readable"
    );
    assert_eq!(
        write_one(&*store, general.id, update(bo.id, archive(false))).await,
        Err(WriteError::NotModerator),
        "a member cannot open it"
    );
    // Opened again, in the same batch as a send that follows it.
    let out = store
        .write_batch(
            general.id,
            &[
                update(ana.id, archive(false)),
                send(bo.id, "b3", "we are back"),
            ],
        )
        .await
        .unwrap();
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(store.public_rooms().await.unwrap().len(), 1);
    applied(write_one(&*store, general.id, send(bo.id, "b4", "and on")).await);
}

pub(crate) async fn invite_links_admit_until_they_expire(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let secret = room(&*store, ana.id, RoomKind::Private, "secret").await;
    let link = [7u8; 32];
    let soon = now_millis() + 60_000;
    assert!(
        matches!(
            store.create_invite(secret.id, bo.id, &link, soon).await,
            Err(StoreError::Forbidden { .. })
        ),
        "only members make links"
    );
    store
        .create_invite(secret.id, ana.id, &link, soon)
        .await
        .unwrap();
    let (room_of_link, joined) = store
        .redeem_invite(&link, bo.id, now_millis())
        .await
        .unwrap();
    assert_eq!(room_of_link.id, secret.id);
    assert!(joined);
    assert!(store.membership(secret.id, bo.id).await.unwrap().is_some());
    let (_, again) = store
        .redeem_invite(&link, bo.id, now_millis())
        .await
        .unwrap();
    assert!(!again, "a member already");
    assert!(matches!(
        store.redeem_invite(&[8u8; 32], cy.id, now_millis()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        matches!(
            store.redeem_invite(&link, cy.id, soon).await,
            Err(StoreError::Forbidden { .. })
        ),
        "expired"
    );
    applied(
        write_one(
            &*store,
            secret.id,
            WriteCommand::RemoveMember {
                moderator: ana.id,
                member: bo.id,
                ban: true,
            },
        )
        .await,
    );
    assert!(
        matches!(
            store.redeem_invite(&link, bo.id, now_millis()).await,
            Err(StoreError::Forbidden { .. })
        ),
        "a ban beats a link"
    );
    let dee = user(&*store, "dee").await;
    let dm = store.open_dm(ana.id, dee.id).await.unwrap();
    assert!(matches!(
        store.create_invite(dm.id, ana.id, &[9u8; 32], soon).await,
        Err(StoreError::Forbidden { .. })
    ));
}
