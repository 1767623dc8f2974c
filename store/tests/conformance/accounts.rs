//! Conformance cases of accounts: users and handles, API tokens, browser sessions,
//! deactivation, and the lookups that authenticate a connection made many at once (they
//! are asked in batches; each must still get its own answer).

use super::*;

pub(crate) async fn handles_are_unique_and_credentials_come_back(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let err = store
        .create_user(
            &Handle::parse("ANA").unwrap(),
            &DisplayName::parse("x").unwrap(),
            "h",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "handle" }),
        "{err:?}"
    );
    let creds = store
        .credentials(&Handle::parse("ana").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user, ana);
    assert_eq!(creds.password_hash, "$argon2id$fake");
    assert_eq!(store.user(ana.id).await.unwrap(), Some(ana.clone()));
    assert_eq!(store.user_by_handle(&ana.handle).await.unwrap(), Some(ana));
    assert_eq!(
        store
            .credentials(&Handle::parse("nobody").unwrap())
            .await
            .unwrap()
            .map(|c| c.user),
        None
    );
}

pub(crate) async fn api_tokens_resolve_until_revoked(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let secret = [7u8; 32];
    let token = store
        .create_api_token(ana.id, "bot", &secret)
        .await
        .unwrap();
    assert_eq!(
        store.user_by_token_hash(&secret).await.unwrap(),
        Some(ana.clone())
    );
    assert_eq!(store.user_by_token_hash(&[8u8; 32]).await.unwrap(), None);
    // The use is written in the background, within about a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let listed = loop {
        let listed = store.api_tokens(ana.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        if listed[0].last_used_at.is_some() || std::time::Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(listed[0].last_used_at.is_some(), "use time recorded");
    assert!(
        !store.revoke_api_token(bo.id, token.id).await.unwrap(),
        "not bo's token"
    );
    assert!(store.revoke_api_token(ana.id, token.id).await.unwrap());
    assert!(
        !store.revoke_api_token(ana.id, token.id).await.unwrap(),
        "already revoked"
    );
    assert_eq!(store.user_by_token_hash(&secret).await.unwrap(), None);
    assert!(
        store.api_tokens(ana.id).await.unwrap()[0]
            .revoked_at
            .is_some()
    );
}

pub(crate) async fn sessions_expire_and_ids_are_not_reused(store: Arc<dyn Store>) {
    assert!(
        store
            .session_create("s1", b"one", 1_000, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .session_create("s1", b"other", 1_000, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session_load("s1", 999).await.unwrap(),
        Some(b"one".to_vec())
    );
    assert_eq!(
        store.session_load("s1", 1_000).await.unwrap(),
        None,
        "expired"
    );
    store.session_save("s1", b"two", 2_000, None).await.unwrap();
    assert_eq!(
        store.session_load("s1", 1_500).await.unwrap(),
        Some(b"two".to_vec())
    );
    store.session_save("s2", b"x", 10, None).await.unwrap();
    assert_eq!(store.session_delete_expired(1_500).await.unwrap(), 1);
    store.session_delete("s1").await.unwrap();
    assert_eq!(store.session_load("s1", 0).await.unwrap(), None);
}

pub(crate) async fn users_are_found_by_handle_prefix(store: Arc<dyn Store>) {
    for h in ["ana", "anabel", "an_x", "anxious", "bo"] {
        user(&*store, h).await;
    }
    let handles = |users: Vec<User>| -> Vec<String> {
        users.into_iter().map(|u| u.handle.to_string()).collect()
    };
    assert_eq!(
        handles(store.search_users("ana", 10).await.unwrap()),
        ["ana", "anabel"]
    );
    // `_` is a literal underscore, not "any character".
    assert_eq!(
        handles(store.search_users("an_", 10).await.unwrap()),
        ["an_x"]
    );
    assert_eq!(handles(store.search_users("an", 2).await.unwrap()).len(), 2);
    assert_eq!(handles(store.search_users("", 10).await.unwrap()).len(), 5);
    assert!(store.search_users("zed", 10).await.unwrap().is_empty());
}

pub(crate) async fn deactivated_accounts_lose_every_way_in_and_keep_their_messages(
    store: Arc<dyn Store>,
) {
    let before = now_millis();
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    applied(write_one(&*store, general.id, send(ana.id, "c1", "hello")).await);
    let hash = [7u8; 32];
    store.create_api_token(ana.id, "bot", &hash).await.unwrap();
    assert!(store.deactivated_since(before).await.unwrap().is_empty());

    assert!(store.deactivate_user(ana.id).await.unwrap());
    assert!(!store.deactivate_user(ana.id).await.unwrap(), "only once");
    let handle = Handle::parse("ana").unwrap();
    assert!(
        store.credentials(&handle).await.unwrap().is_none(),
        "no log-in"
    );
    assert!(
        store.user_by_token_hash(&hash).await.unwrap().is_none(),
        "no token"
    );
    assert!(
        store.api_tokens(ana.id).await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    let found = store.search_users("a", 10).await.unwrap();
    assert!(found.iter().all(|u| u.id != ana.id), "not in search");
    // The account itself stays, marked, and so do its messages.
    let stored = store.user(ana.id).await.unwrap().expect("still there");
    assert!(!stored.is_active());
    assert!(store.user(bo.id).await.unwrap().unwrap().is_active());
    let page = store.latest(general.id, 10).await.unwrap();
    assert_eq!(page.messages[0].author_id, ana.id);
    assert_eq!(store.deactivated_since(before).await.unwrap(), vec![ana.id]);
    assert!(
        store
            .deactivated_since(now_millis() + 60_000)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Lookups made at once share queries; each gets its own row, a revoked token none, an
/// expired session none, and an unknown key none.
pub(crate) async fn many_lookups_at_once_each_get_their_own_answer(store: Arc<dyn Store>) {
    let mut owners = Vec::new();
    for i in 0..40u8 {
        let owner = user(&*store, &format!("bot{i}")).await;
        let token = store
            .create_api_token(owner.id, "bot", &[i; 32])
            .await
            .unwrap();
        if i % 10 == 3 {
            assert!(store.revoke_api_token(owner.id, token.id).await.unwrap());
        }
        store
            .session_save(
                &format!("s{i}"),
                &[i],
                if i % 10 == 5 { 10 } else { 2_000 },
                None,
            )
            .await
            .unwrap();
        owners.push(owner);
    }
    let asks: Vec<_> = (0..48u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let session_id = format!("s{i}");
                let hash = [i; 32];
                let (by_token, session, by_id) = tokio::join!(
                    store.user_by_token_hash(&hash),
                    store.session_load(&session_id, 1_000),
                    store.user(UserId(Uuid::from_u128(u128::from(i) + 1))),
                );
                (i, by_token.unwrap(), session.unwrap(), by_id.unwrap())
            })
        })
        .collect();
    for ask in asks {
        let (i, by_token, session, by_id) = ask.await.unwrap();
        let expected_owner = match i {
            40.. => None,
            i if i % 10 == 3 => None,
            i => Some(owners[i as usize].clone()),
        };
        assert_eq!(by_token, expected_owner, "token {i}");
        let expected_session = match i {
            40.. => None,
            i if i % 10 == 5 => None,
            i => Some(vec![i]),
        };
        assert_eq!(session, expected_session, "session {i}");
        assert_eq!(by_id, None, "no user has id {i}");
    }
    for owner in &owners {
        assert_eq!(store.user(owner.id).await.unwrap().as_ref(), Some(owner));
    }
}

pub(crate) async fn a_person_lists_and_ends_their_sessions_and_changes_name_and_password(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    store
        .session_create("phone", b"p", 3_000, Some(ana.id))
        .await
        .unwrap();
    store
        .session_save("laptop", b"l", 4_000, Some(ana.id))
        .await
        .unwrap();
    store
        .session_save("old", b"o", 100, Some(ana.id))
        .await
        .unwrap();
    store
        .session_save("bos", b"b", 4_000, Some(bo.id))
        .await
        .unwrap();
    store
        .session_save("anonymous", b"a", 4_000, None)
        .await
        .unwrap();
    let listed: Vec<String> = store
        .sessions_of(ana.id, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ["laptop", "phone"], "live ones, latest-used first");
    assert_eq!(
        store
            .delete_sessions_of(ana.id, Some("laptop"))
            .await
            .unwrap(),
        2
    );
    assert!(store.session_load("laptop", 1_000).await.unwrap().is_some());
    assert!(store.session_load("phone", 1_000).await.unwrap().is_none());
    assert!(
        store.session_load("bos", 1_000).await.unwrap().is_some(),
        "only hers"
    );
    assert_eq!(store.delete_sessions_of(ana.id, None).await.unwrap(), 1);

    assert!(
        store
            .set_display_name(ana.id, &DisplayName::parse("Ana Lima").unwrap())
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_display_name(ana.id, &DisplayName::parse("Ana Lima").unwrap())
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user(ana.id)
            .await
            .unwrap()
            .unwrap()
            .display_name
            .as_str(),
        "Ana Lima"
    );
    assert!(
        store
            .set_password_hash(ana.id, "$argon2id$new")
            .await
            .unwrap()
    );
    let creds = store.credentials(&ana.handle).await.unwrap().unwrap();
    assert_eq!(creds.password_hash, "$argon2id$new");
}
