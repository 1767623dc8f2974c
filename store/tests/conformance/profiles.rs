//! Conformance cases of people's profiles: a bio and a time zone, set, changed, cleared.

use super::*;
use protocol::names::{Bio, TimeZone};

pub(crate) async fn a_profile_keeps_a_bio_and_a_time_zone(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let empty = Profile::default();
    assert_eq!(store.profile(ana.id).await.unwrap(), Some(empty.clone()));
    assert_eq!(store.profile(UserId(Uuid::now_v7())).await.unwrap(), None);

    let bio = Bio::parse("Designer.\nAsk me about fonts.").unwrap();
    let zone = TimeZone::parse("Europe/Lisbon").unwrap();
    assert!(
        store
            .set_profile(ana.id, Some(&bio), Some(&zone))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_profile(ana.id, Some(&bio), Some(&zone))
            .await
            .unwrap(),
        "the same profile again changes nothing"
    );
    let read = store.profile(ana.id).await.unwrap().unwrap();
    assert_eq!(read.bio, "Designer.\nAsk me about fonts.");
    assert_eq!(read.time_zone, "Europe/Lisbon");
    assert_eq!(
        store.profile(bo.id).await.unwrap(),
        Some(empty.clone()),
        "only hers"
    );

    assert!(store.set_profile(ana.id, None, Some(&zone)).await.unwrap());
    let read = store.profile(ana.id).await.unwrap().unwrap();
    assert_eq!(
        (read.bio.as_str(), read.time_zone.as_str()),
        ("", "Europe/Lisbon")
    );
    assert!(store.set_profile(ana.id, None, None).await.unwrap());
    assert_eq!(store.profile(ana.id).await.unwrap(), Some(empty));
}

pub(crate) async fn an_avatar_is_set_replaced_and_removed_with_a_new_version_each_time(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    assert_eq!(ana.avatar_at, None, "initials until a picture is set");
    assert_eq!(ana.view().avatar, None);
    assert_eq!(store.avatar(ana.id).await.unwrap(), None);

    let first = Avatar {
        content_type: "image/png".into(),
        bytes: vec![1, 2, 3],
    };
    let v1 = store
        .set_avatar(ana.id, Some(&first))
        .await
        .unwrap()
        .expect("a version");
    assert_eq!(store.avatar(ana.id).await.unwrap(), Some(first));
    let read = store.user(ana.id).await.unwrap().unwrap();
    assert_eq!(read.avatar_at, Some(v1));
    assert_eq!(read.view().avatar, Some(v1), "others see the version");

    // Replaced at once: a new version even within the same millisecond.
    let second = Avatar {
        content_type: "image/jpeg".into(),
        bytes: vec![9; 1000],
    };
    let v2 = store
        .set_avatar(ana.id, Some(&second))
        .await
        .unwrap()
        .unwrap();
    assert!(v2 > v1, "{v2} after {v1}");
    assert_eq!(store.avatar(ana.id).await.unwrap(), Some(second));

    // Every read of the user carries it: members, room lists.
    let room = store
        .create_room(
            ana.id,
            RoomKind::Public,
            &RoomName::parse("faces").unwrap(),
            "",
        )
        .await
        .unwrap();
    let members = store.members(room.id).await.unwrap();
    assert_eq!(members[0].avatar_at, Some(v2));
    store.open_dm(bo.id, ana.id).await.unwrap();
    let dm = store
        .rooms_of(bo.id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.room.kind == RoomKind::Dm)
        .unwrap();
    assert_eq!(dm.dm_peers[0].avatar_at, Some(v2));

    assert_eq!(store.avatar(bo.id).await.unwrap(), None, "only hers");
    assert_eq!(store.set_avatar(ana.id, None).await.unwrap(), None);
    assert_eq!(store.avatar(ana.id).await.unwrap(), None);
    assert_eq!(
        store.user(ana.id).await.unwrap().unwrap().avatar_at,
        None,
        "initials again"
    );
    assert!(matches!(
        store
            .set_avatar(
                UserId(Uuid::now_v7()),
                Some(&Avatar {
                    content_type: "image/png".into(),
                    bytes: vec![1],
                })
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
}
