//! The group commit's pipelining contract, on both engines: commands submitted one after
//! another before any outcome is awaited commit in submission order, and those queued
//! while the lane had not yet run share one commit. The tests run on a current-thread
//! runtime, so the lane cannot start before the test yields: every submission is queued
//! first, deterministically.

use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};
use std::sync::Arc;
use store::group_commit::GroupCommitConfig;
use store::{GroupCommit, RoomKind, Store, WriteCommand};

async fn submitted_writes_commit_in_order_and_together(store: Arc<dyn Store>) {
    let ana = store
        .create_user(
            &Handle::parse("ana").unwrap(),
            &DisplayName::parse("Ana").unwrap(),
            "$argon2id$fake",
        )
        .await
        .unwrap();
    let hot = store
        .create_room(
            ana.id,
            RoomKind::Public,
            &RoomName::parse("hot").unwrap(),
            "",
        )
        .await
        .unwrap();
    let writer = GroupCommit::new(store.clone(), GroupCommitConfig::default());
    let mut committing = Vec::new();
    for i in 0..5 {
        let send = WriteCommand::Send {
            author: ana.id,
            client_msg_id: ClientMsgId::parse(&format!("s{i}")).unwrap(),
            body: Body::parse(&format!("message {i}")).unwrap(),
            files: Vec::new(),
        };
        committing.push(writer.submit(hot.id, send).await);
    }
    let mut outcomes = committing.into_iter();
    let first = outcomes.next().unwrap().outcome().await.unwrap();
    assert_eq!(first.event().unwrap().seq, 1);
    for (i, rest) in outcomes.enumerate() {
        // A zero timeout polls the outcome once: it is there already, or the test fails.
        let outcome = tokio::time::timeout(std::time::Duration::ZERO, rest.outcome())
            .await
            .expect("committed with the first")
            .unwrap();
        assert_eq!(
            outcome.event().unwrap().seq,
            2 + i as u64,
            "in submission order"
        );
    }
    assert_eq!(store.room(hot.id).await.unwrap().unwrap().last_seq, 5);
}

#[tokio::test]
async fn sqlite_submitted_writes_commit_in_order_and_together() {
    let db = store::testing::sqlite().await;
    submitted_writes_commit_in_order_and_together(db.store.clone()).await;
}

#[tokio::test]
async fn postgres_submitted_writes_commit_in_order_and_together() {
    let Some(db) = store::testing::postgres().await else {
        return;
    };
    submitted_writes_commit_in_order_and_together(db.store.clone()).await;
}
