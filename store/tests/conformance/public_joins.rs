//! Conformance cases of joining public rooms when many join at once (a room of thousands
//! filling up): the joins share transactions, and each is still answered as if alone.

use super::*;

/// Sixty people join a public room at once, each twice (two devices): each is added
/// exactly once, and every join asked in the same burst that may not succeed (a private
/// room, a missing room, a banned user) is refused alone.
pub(crate) async fn joins_at_once_are_each_answered_as_alone(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let cy = user(&*store, "cy").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let secret = room(&*store, ana.id, RoomKind::Private, "secret").await;
    assert!(store.join_public(general.id, cy.id).await.unwrap());
    let removal = WriteCommand::RemoveMember {
        moderator: ana.id,
        member: cy.id,
        ban: true,
    };
    applied(write_one(&*store, general.id, removal).await);

    let mut people = Vec::new();
    for i in 0..60 {
        people.push(user(&*store, &format!("joiner{i}")).await);
    }
    let mut joins = Vec::new();
    for who in &people {
        for _device in 0..2 {
            let (store, who) = (store.clone(), who.id);
            joins.push(tokio::spawn(async move {
                (who, store.join_public(general.id, who).await)
            }));
        }
    }
    let refused = [
        (secret.id, people[0].id),
        (RoomId(Uuid::now_v7()), people[1].id),
        (general.id, cy.id),
    ];
    let mut refusals = Vec::new();
    for (room, who) in refused {
        let store = store.clone();
        refusals.push(tokio::spawn(
            async move { store.join_public(room, who).await },
        ));
    }

    let mut added = std::collections::HashMap::<UserId, usize>::new();
    for join in joins {
        let (who, outcome) = join.await.unwrap();
        *added.entry(who).or_default() += usize::from(outcome.expect("a public room"));
    }
    assert_eq!(added.len(), 60);
    assert!(
        added.values().all(|n| *n == 1),
        "each person added by exactly one of their two joins: {added:?}"
    );
    let mut outcomes = Vec::new();
    for refusal in refusals {
        outcomes.push(refusal.await.unwrap());
    }
    assert!(
        matches!(outcomes[0], Err(StoreError::Forbidden { .. })),
        "a private room: {:?}",
        outcomes[0]
    );
    assert!(
        matches!(outcomes[1], Err(StoreError::NotFound { what: "room" })),
        "a missing room: {:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[2], Err(StoreError::Forbidden { .. })),
        "a banned user: {:?}",
        outcomes[2]
    );
    for who in &people {
        assert!(
            store
                .membership(general.id, who.id)
                .await
                .unwrap()
                .is_some(),
            "{} is a member",
            who.handle
        );
    }
    assert!(store.membership(general.id, cy.id).await.unwrap().is_none());
    assert!(
        store
            .membership(secret.id, people[0].id)
            .await
            .unwrap()
            .is_none()
    );
}
