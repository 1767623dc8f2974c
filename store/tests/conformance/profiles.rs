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
