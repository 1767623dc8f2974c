//! Conformance cases of a message's edit history: each edit keeps the body it replaced,
//! oldest first, read only through the message's own room; a delete takes the history
//! with the body.

use super::*;

fn edit(author: UserId, message: MessageId, body: &str) -> WriteCommand {
    WriteCommand::Edit {
        author,
        message,
        body: Body::parse(body).unwrap(),
    }
}

fn bodies(history: &[Revision]) -> Vec<&str> {
    history.iter().map(|r| r.body.as_str()).collect()
}

pub(crate) async fn an_edit_keeps_the_body_it_replaced_until_the_message_is_deleted(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let other = room(&*store, bo.id, RoomKind::Public, "other").await;
    store.join_public(general.id, bo.id).await.unwrap();
    let sent = applied(write_one(&*store, general.id, send(ana.id, "c1", "helo")).await);
    let id = sent.message.id;
    assert!(
        store.edit_history(general.id, id).await.unwrap().is_empty(),
        "a message never edited has no history"
    );

    let first = applied(write_one(&*store, general.id, edit(ana.id, id, "hello")).await);
    let second = applied(write_one(&*store, general.id, edit(ana.id, id, "hello!")).await);
    assert_eq!(
        write_one(&*store, general.id, edit(bo.id, id, "hijack")).await,
        Err(WriteError::NotAuthor)
    );
    let history = store.edit_history(general.id, id).await.unwrap();
    assert_eq!(
        bodies(&history),
        ["helo", "hello"],
        "oldest first; a refused edit adds nothing"
    );
    assert_eq!(
        history.iter().map(|r| r.replaced_at).collect::<Vec<_>>(),
        [first.created_at, second.created_at],
        "each body is dated by the edit that replaced it"
    );
    assert_eq!(
        store.message(id).await.unwrap().map(|m| m.body),
        Some("hello!".to_string()),
        "the message itself holds the newest body"
    );
    assert!(
        store.edit_history(other.id, id).await.unwrap().is_empty(),
        "another room's id reads nothing of it"
    );
    assert!(
        store
            .edit_history(general.id, MessageId(Uuid::now_v7()))
            .await
            .unwrap()
            .is_empty()
    );

    // A reply's edits are kept the same way.
    let reply = applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Reply {
                author: bo.id,
                client_msg_id: ClientMsgId::parse("r1").unwrap(),
                body: Body::parse("me too").unwrap(),
                root: id,
                files: Vec::new(),
            },
        )
        .await,
    );
    applied(
        write_one(
            &*store,
            general.id,
            edit(bo.id, reply.message.id, "me three"),
        )
        .await,
    );
    assert_eq!(
        bodies(
            &store
                .edit_history(general.id, reply.message.id)
                .await
                .unwrap()
        ),
        ["me too"]
    );

    // Deleted (by a moderator here), the message's earlier bodies are gone with it.
    applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Delete {
                author: ana.id,
                message: reply.message.id,
            },
        )
        .await,
    );
    applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Delete {
                author: ana.id,
                message: id,
            },
        )
        .await,
    );
    assert!(store.edit_history(general.id, id).await.unwrap().is_empty());
    assert!(
        store
            .edit_history(general.id, reply.message.id)
            .await
            .unwrap()
            .is_empty()
    );
}
