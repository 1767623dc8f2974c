//! The Store conformance suite: every case is written once and run against each backend —
//! SQLite on a fresh temporary file, Postgres on a fresh database of the real local server
//! (`CONFAB_TEST_DATABASE_URL` / `DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`).
//! With `CI` set, an unreachable Postgres fails the tests; otherwise they say loudly that
//! they skipped.

use protocol::ids::{MessageId, RoomId, UserId};
use protocol::names::{Body, ClientMsgId, DisplayName, Emoji, Handle, RoomName};
use std::collections::HashSet;
use std::sync::Arc;
use store::group_commit::GroupCommitConfig;
use store::*;
use uuid::Uuid;

async fn user(store: &dyn Store, handle: &str) -> User {
    store
        .create_user(
            &Handle::parse(handle).unwrap(),
            &DisplayName::parse(&handle.to_uppercase()).unwrap(),
            "$argon2id$fake",
        )
        .await
        .unwrap()
}

async fn room(store: &dyn Store, creator: UserId, kind: RoomKind, name: &str) -> Room {
    store
        .create_room(creator, kind, &RoomName::parse(name).unwrap(), "")
        .await
        .unwrap()
}

fn send(author: UserId, cmid: &str, body: &str) -> WriteCommand {
    WriteCommand::Send {
        author,
        client_msg_id: ClientMsgId::parse(cmid).unwrap(),
        body: Body::parse(body).unwrap(),
        files: Vec::new(),
    }
}

async fn write_one(
    store: &dyn Store,
    room: RoomId,
    cmd: WriteCommand,
) -> Result<WriteOutcome, WriteError> {
    store
        .write_batch(room, &[cmd])
        .await
        .unwrap()
        .pop()
        .unwrap()
}

fn applied(r: Result<WriteOutcome, WriteError>) -> Event {
    match r {
        Ok(WriteOutcome::Applied(e)) => e,
        other => panic!("expected an applied write, got {other:?}"),
    }
}

#[path = "conformance/append_integrity.rs"]
mod append_integrity;

#[path = "conformance/accounts.rs"]
mod accounts;
use accounts::*;

#[path = "conformance/edit_history.rs"]
mod edit_history;
use edit_history::*;

#[path = "conformance/files.rs"]
mod files;
use files::*;

#[path = "conformance/moderation.rs"]
mod moderation;
use moderation::*;

#[path = "conformance/profiles.rs"]
mod profiles;
use profiles::*;

#[path = "conformance/public_joins.rs"]
mod public_joins;
use public_joins::*;

#[path = "conformance/room_settings.rs"]
mod room_settings;
use room_settings::*;

// --- cases ------------------------------------------------------------------------------

async fn room_names_are_unique_and_only_public_rooms_are_listed(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    room(&*store, ana.id, RoomKind::Private, "secret").await;
    let err = store
        .create_room(
            ana.id,
            RoomKind::Private,
            &RoomName::parse("General").unwrap(),
            "",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "room name" }),
        "{err:?}"
    );
    let public = store.public_rooms().await.unwrap();
    assert_eq!(public, vec![general.clone()]);
    assert_eq!(store.room(general.id).await.unwrap(), Some(general.clone()));
    assert_eq!(
        store
            .room_by_name(&RoomName::parse("general").unwrap())
            .await
            .unwrap(),
        Some(general.clone())
    );
    assert!(
        store
            .membership(general.id, ana.id)
            .await
            .unwrap()
            .is_some(),
        "creator is a member"
    );
    let err = store
        .create_room(ana.id, RoomKind::Dm, &RoomName::parse("dm-x").unwrap(), "")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }));
}

async fn private_rooms_admit_only_by_invitation_from_members(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let secret = room(&*store, ana.id, RoomKind::Private, "secret").await;
    let err = store.join_public(secret.id, bo.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Forbidden { .. }), "{err:?}");
    let err = store.invite(secret.id, bo.id, cy.id).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Forbidden { .. }),
        "non-member cannot invite: {err:?}"
    );
    assert!(store.invite(secret.id, ana.id, bo.id).await.unwrap());
    assert!(
        !store.invite(secret.id, ana.id, bo.id).await.unwrap(),
        "already a member"
    );
    assert!(
        store.invite(secret.id, bo.id, cy.id).await.unwrap(),
        "members invite too"
    );
    let err = store
        .invite(secret.id, ana.id, UserId(Uuid::now_v7()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "user" }),
        "{err:?}"
    );
    let handles: Vec<String> = store
        .members(secret.id)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.handle.to_string())
        .collect();
    assert_eq!(handles, ["ana", "bo", "cy"]);
    assert!(store.leave(secret.id, cy.id).await.unwrap());
    assert!(!store.leave(secret.id, cy.id).await.unwrap());
    assert!(store.membership(secret.id, cy.id).await.unwrap().is_none());
}

async fn public_rooms_can_be_joined_once(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    assert!(store.join_public(general.id, bo.id).await.unwrap());
    assert!(!store.join_public(general.id, bo.id).await.unwrap());
    let err = store
        .join_public(RoomId(Uuid::now_v7()), bo.id)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "room" }));
}

async fn a_dm_is_one_room_per_pair(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let dm = store.open_dm(ana.id, bo.id).await.unwrap();
    assert_eq!(dm.kind, RoomKind::Dm);
    assert_eq!(dm.name, None);
    assert_eq!(
        store.open_dm(bo.id, ana.id).await.unwrap().id,
        dm.id,
        "same room either way"
    );
    assert_ne!(store.open_dm(ana.id, cy.id).await.unwrap().id, dm.id);
    assert!(matches!(
        store.open_dm(ana.id, ana.id).await.unwrap_err(),
        StoreError::Invalid { .. }
    ));
    assert!(matches!(
        store
            .open_dm(ana.id, UserId(Uuid::now_v7()))
            .await
            .unwrap_err(),
        StoreError::NotFound { what: "user" }
    ));
    assert!(
        store.membership(dm.id, cy.id).await.unwrap().is_none(),
        "a third user is not in it"
    );
    assert!(matches!(
        store.invite(dm.id, ana.id, cy.id).await.unwrap_err(),
        StoreError::Forbidden { .. }
    ));
    assert!(matches!(
        store.leave(dm.id, ana.id).await.unwrap_err(),
        StoreError::Forbidden { .. }
    ));
    let rooms = store.rooms_of(ana.id).await.unwrap();
    let peers: Vec<String> = rooms
        .iter()
        .flat_map(|r| r.dm_peers.iter())
        .map(|u| u.handle.to_string())
        .collect();
    assert_eq!(peers, ["bo", "cy"]);
}

async fn a_group_dm_is_one_room_per_set_of_up_to_eight_people(store: Arc<dyn Store>) {
    let mut people = Vec::new();
    for handle in ["ana", "bo", "cy", "di", "ed", "fi", "gus", "hal", "ivy"] {
        people.push(user(&*store, handle).await);
    }
    let ids: Vec<UserId> = people.iter().map(|u| u.id).collect();
    let (ana, bo, cy) = (ids[0], ids[1], ids[2]);
    let group = store.open_group_dm(ana, &[bo, cy]).await.unwrap();
    assert_eq!(group.kind, RoomKind::Dm);
    assert_eq!(group.name, None);
    assert_eq!(
        store.open_group_dm(cy, &[bo, ana]).await.unwrap().id,
        group.id,
        "the same people find the same room, whoever asks"
    );
    assert_ne!(
        store.open_dm(ana, bo).await.unwrap().id,
        group.id,
        "two of them have their own DM"
    );
    for id in [ana, bo, cy] {
        assert!(store.membership(group.id, id).await.unwrap().is_some());
    }
    assert!(store.membership(group.id, ids[3]).await.unwrap().is_none());
    // Closed like any DM: no one else is invited in, no one leaves.
    assert!(matches!(
        store.invite(group.id, ana, ids[3]).await.unwrap_err(),
        StoreError::Forbidden { .. }
    ));
    assert!(matches!(
        store.leave(group.id, bo).await.unwrap_err(),
        StoreError::Forbidden { .. }
    ));

    // Eight people at most, three at least, each once.
    let eight = store.open_group_dm(ana, &ids[1..8]).await.unwrap();
    assert_eq!(store.members(eight.id).await.unwrap().len(), 8);
    let refused: [&[UserId]; 5] = [&ids[1..9], &ids[1..2], &[], &[bo, bo], &[bo, ana]];
    for bad in refused {
        assert!(
            matches!(
                store.open_group_dm(ana, bad).await.unwrap_err(),
                StoreError::Invalid { .. }
            ),
            "{} others",
            bad.len()
        );
    }
    assert!(matches!(
        store
            .open_group_dm(ana, &[bo, UserId(Uuid::now_v7())])
            .await
            .unwrap_err(),
        StoreError::NotFound { what: "user" }
    ));

    // Each member's room list shows the others, once per room.
    let rooms = store.rooms_of(bo).await.unwrap();
    let dms: Vec<Vec<String>> = rooms
        .iter()
        .filter(|r| r.room.kind == RoomKind::Dm)
        .map(|r| r.dm_peers.iter().map(|u| u.handle.to_string()).collect())
        .collect();
    assert_eq!(
        dms,
        [
            vec!["ana"],
            vec!["ana", "cy"],
            vec!["ana", "cy", "di", "ed", "fi", "gus", "hal"],
        ]
    );
}

async fn sends_take_consecutive_seqs_and_retries_are_idempotent(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let results = store
        .write_batch(
            r.id,
            &[
                send(ana.id, "c1", "one"),
                send(ana.id, "c2", "two"),
                send(ana.id, "c1", "one again"),
            ],
        )
        .await
        .unwrap();
    let seqs: Vec<u64> = results
        .iter()
        .map(|o| o.as_ref().unwrap().event().unwrap().seq)
        .collect();
    assert_eq!(seqs, [1, 2, 1], "the in-batch retry gets the original seq");
    assert!(matches!(results[2], Ok(WriteOutcome::Duplicate(_))));
    let again = write_one(&*store, r.id, send(ana.id, "c2", "changed"))
        .await
        .unwrap();
    match again {
        WriteOutcome::Duplicate(e) => {
            assert_eq!(e.seq, 2);
            assert_eq!(e.message.body, "two", "the original message comes back");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.room(r.id).await.unwrap().unwrap().last_seq, 2);
    let e = applied(write_one(&*store, r.id, send(ana.id, "c3", "three")).await);
    assert_eq!(e.seq, 3);
    assert_eq!(e.kind, EventKind::Message);
    assert_eq!(store.message(e.message.id).await.unwrap(), Some(e.message));
}

async fn the_same_client_id_in_two_rooms_or_by_two_authors_is_two_messages(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let a = room(&*store, ana.id, RoomKind::Public, "room-a").await;
    let b = room(&*store, ana.id, RoomKind::Public, "room-b").await;
    applied(write_one(&*store, a.id, send(ana.id, "same", "x")).await);
    applied(write_one(&*store, b.id, send(ana.id, "same", "x")).await);
    let e = applied(write_one(&*store, a.id, send(bo.id, "same", "x")).await);
    assert_eq!(e.seq, 2);
}

async fn edits_and_deletes_are_events_for_the_author_only(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let first = applied(write_one(&*store, r.id, send(ana.id, "c1", "helo")).await);
    let id = first.message.id;
    let edit = |author, body: &str| WriteCommand::Edit {
        author,
        message: id,
        body: Body::parse(body).unwrap(),
    };
    assert_eq!(
        write_one(&*store, r.id, edit(bo.id, "hijack")).await,
        Err(WriteError::NotAuthor)
    );
    let edited = applied(write_one(&*store, r.id, edit(ana.id, "hello")).await);
    assert_eq!((edited.seq, edited.kind), (2, EventKind::Edited));
    assert_eq!(edited.message.body, "hello");
    assert!(edited.message.edited_at.is_some());
    assert_eq!(edited.message.seq, 1, "the message keeps its own seq");
    let delete = |author| WriteCommand::Delete {
        author,
        message: id,
    };
    assert_eq!(
        write_one(&*store, r.id, delete(bo.id)).await,
        Err(WriteError::NotAuthor)
    );
    let deleted = applied(write_one(&*store, r.id, delete(ana.id)).await);
    assert_eq!((deleted.seq, deleted.kind), (3, EventKind::Deleted));
    assert!(deleted.message.deleted && deleted.message.body.is_empty());
    assert_eq!(
        write_one(&*store, r.id, edit(ana.id, "zombie")).await,
        Err(WriteError::Deleted)
    );
    assert_eq!(
        write_one(&*store, r.id, delete(ana.id)).await,
        Err(WriteError::Deleted)
    );
    let missing = WriteCommand::Delete {
        author: ana.id,
        message: MessageId(Uuid::now_v7()),
    };
    assert_eq!(
        write_one(&*store, r.id, missing).await,
        Err(WriteError::NoSuchMessage)
    );
    assert_eq!(
        store.room(r.id).await.unwrap().unwrap().last_seq,
        3,
        "refusals take no seq"
    );
    // The tombstone keeps its place in history.
    let page = store.latest(r.id, 10).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].deleted && page.messages[0].body.is_empty());
}

async fn a_message_cannot_be_changed_through_another_room(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let a = room(&*store, ana.id, RoomKind::Public, "room-a").await;
    let b = room(&*store, ana.id, RoomKind::Public, "room-b").await;
    let m = applied(write_one(&*store, a.id, send(ana.id, "c1", "x")).await);
    let cmd = WriteCommand::Delete {
        author: ana.id,
        message: m.message.id,
    };
    assert_eq!(
        write_one(&*store, b.id, cmd).await,
        Err(WriteError::NoSuchMessage)
    );
}

async fn writes_to_an_unknown_room_are_refused(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let r = write_one(&*store, RoomId(Uuid::now_v7()), send(ana.id, "c1", "x")).await;
    assert_eq!(r, Err(WriteError::NoSuchRoom));
}

async fn one_transaction_can_write_to_several_rooms(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let a = room(&*store, ana.id, RoomKind::Public, "room-a").await;
    let b = room(&*store, ana.id, RoomKind::Public, "room-b").await;
    let ghost = RoomId(Uuid::now_v7());
    let batches = vec![
        (b.id, vec![send(ana.id, "b1", "x"), send(ana.id, "b2", "y")]),
        (ghost, vec![send(ana.id, "g1", "lost")]),
        (a.id, vec![send(ana.id, "a1", "z")]),
    ];
    let results = store.write_rooms(&batches).await.unwrap();
    let seqs = |r: &Vec<Result<WriteOutcome, WriteError>>| -> Vec<Result<u64, WriteError>> {
        r.iter()
            .map(|o| {
                o.as_ref()
                    .map(|o| o.event().unwrap().seq)
                    .map_err(Clone::clone)
            })
            .collect()
    };
    assert_eq!(
        seqs(&results[0]),
        [Ok(1), Ok(2)],
        "results keep the order of the batches"
    );
    assert_eq!(seqs(&results[1]), [Err(WriteError::NoSuchRoom)]);
    assert_eq!(seqs(&results[2]), [Ok(1)]);
    assert_eq!(store.room(b.id).await.unwrap().unwrap().last_seq, 2);
}

async fn a_batch_mixing_sends_retries_and_changes_applies_in_order(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "mixed").await;
    let before = applied(write_one(&*store, r.id, send(ana.id, "old", "stored earlier")).await);
    let first = store
        .write_batch(
            r.id,
            &[
                send(ana.id, "a", "one"),
                send(bo.id, "a", "bo's own a"),
                send(ana.id, "old", "retry of a stored send"),
                send(ana.id, "a", "retry within the batch"),
            ],
        )
        .await
        .unwrap();
    let a = applied(first[0].clone());
    assert_eq!((a.seq, a.message.body.as_str()), (2, "one"));
    assert_eq!(
        applied(first[1].clone()).seq,
        3,
        "another author's id is another message"
    );
    assert_eq!(first[2], Ok(WriteOutcome::Duplicate(before.clone())));
    assert_eq!(first[3], Ok(WriteOutcome::Duplicate(a.clone())));

    // An edit of a message sent earlier in the same batch sees it; a retry after the
    // edit reports the edited message; a later send continues the seqs.
    let second = store
        .write_batch(
            r.id,
            &[
                send(ana.id, "b", "draft"),
                WriteCommand::Edit {
                    author: ana.id,
                    message: MessageId(Uuid::nil()),
                    body: Body::parse("refused: no such message").unwrap(),
                },
            ],
        )
        .await
        .unwrap();
    let b = applied(second[0].clone());
    assert_eq!(
        second[1],
        Err(WriteError::NoSuchMessage),
        "refusals take no seq"
    );
    let third = store
        .write_batch(
            r.id,
            &[
                WriteCommand::Edit {
                    author: ana.id,
                    message: b.message.id,
                    body: Body::parse("final").unwrap(),
                },
                send(ana.id, "b", "draft"),
                send(ana.id, "c", "after"),
            ],
        )
        .await
        .unwrap();
    let edit = applied(third[0].clone());
    assert_eq!((edit.seq, edit.kind), (b.seq + 1, EventKind::Edited));
    let Ok(WriteOutcome::Duplicate(retry)) = &third[1] else {
        panic!("a retry after the edit is a duplicate: {:?}", third[1]);
    };
    assert_eq!((retry.seq, retry.message.body.as_str()), (b.seq, "final"));
    assert_eq!(applied(third[2].clone()).seq, b.seq + 2);

    // What was stored is exactly what the outcomes said, with no gap.
    let events = store.events_after(r.id, 0, 100).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    assert_eq!(store.room(r.id).await.unwrap().unwrap().last_seq, 6);
    let page = store.latest(r.id, 10).await.unwrap();
    let bodies: Vec<&str> = page.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["stored earlier", "one", "bo's own a", "final", "after"]
    );
}

async fn resume_returns_every_event_after_a_seq_in_order(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(
            applied(
                write_one(
                    &*store,
                    r.id,
                    send(ana.id, &format!("c{i}"), &format!("m{i}")),
                )
                .await,
            )
            .message
            .id,
        );
    }
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Edit {
                author: ana.id,
                message: ids[1],
                body: Body::parse("m2!").unwrap(),
            },
        )
        .await,
    );
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Delete {
                author: ana.id,
                message: ids[3],
            },
        )
        .await,
    );
    let events = store.events_after(r.id, 3, 100).await.unwrap();
    let got: Vec<(u64, EventKind)> = events.iter().map(|e| (e.seq, e.kind)).collect();
    assert_eq!(
        got,
        [
            (4, EventKind::Message),
            (5, EventKind::Message),
            (6, EventKind::Edited),
            (7, EventKind::Deleted)
        ]
    );
    assert_eq!(events[2].message.body, "m2!");
    assert!(
        events[0].message.deleted,
        "a replayed message shows its current state: no deleted text leaks"
    );
    assert_eq!(
        store.events_after(r.id, 0, 2).await.unwrap().len(),
        2,
        "bounded"
    );
    assert!(store.events_after(r.id, 7, 100).await.unwrap().is_empty());
    assert!(
        store
            .events_after(r.id, 1_000, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn pages_walk_back_through_history(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let cmds: Vec<WriteCommand> = (1..=25)
        .map(|i| send(ana.id, &format!("c{i}"), &format!("m{i}")))
        .collect();
    store.write_batch(r.id, &cmds).await.unwrap();
    let latest = store.latest(r.id, 10).await.unwrap();
    let seqs: Vec<u64> = latest.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (16..=25).collect::<Vec<_>>());
    assert!(latest.has_more);
    let older = store.before(r.id, 16, 10).await.unwrap();
    assert_eq!(older.messages.first().unwrap().seq, 6);
    assert_eq!(older.messages.last().unwrap().seq, 15);
    assert!(older.has_more);
    let oldest = store.before(r.id, 6, 10).await.unwrap();
    assert_eq!(
        oldest.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(!oldest.has_more);
    let empty = store
        .latest(
            room(&*store, ana.id, RoomKind::Public, "empty").await.id,
            10,
        )
        .await
        .unwrap();
    assert!(empty.messages.is_empty() && !empty.has_more);
}

async fn read_markers_list_every_member(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    store.join_public(r.id, bo.id).await.unwrap();
    let cmds = [send(ana.id, "a1", "x"), send(ana.id, "a2", "y")];
    store.write_batch(r.id, &cmds).await.unwrap();
    store.mark_read(r.id, bo.id, 1).await.unwrap();
    let mut markers = store.read_markers(r.id).await.unwrap();
    markers.sort();
    let mut want = vec![(ana.id, 0), (bo.id, 1)];
    want.sort();
    assert_eq!(markers, want, "members only, each at their marker");
    assert!(!markers.iter().any(|(u, _)| *u == cy.id));
    store.mark_read(r.id, bo.id, 2).await.unwrap();
    assert!(
        store
            .read_markers(r.id)
            .await
            .unwrap()
            .contains(&(bo.id, 2))
    );
    let nobody = room(&*store, cy.id, RoomKind::Private, "solo").await;
    assert_eq!(
        store.read_markers(nobody.id).await.unwrap(),
        vec![(cy.id, 0)]
    );
}

async fn mentions_count_among_unread_messages(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let other = room(&*store, ana.id, RoomKind::Public, "other").await;
    store.join_public(r.id, bo.id).await.unwrap();
    store.join_public(other.id, bo.id).await.unwrap();
    let cmds = [
        send(ana.id, "a1", "hi @bo"),
        send(ana.id, "a2", "hi @bobby, not bo"),
        send(ana.id, "a3", "`@bo` in code, mail bo@example.com"),
        send(ana.id, "a4", "heads up @room"),
        send(bo.id, "b1", "me, @bo, by myself"),
        send(ana.id, "a5", "**@BO** again"),
    ];
    let results = store.write_batch(r.id, &cmds).await.unwrap();
    store
        .write_batch(other.id, &[send(ana.id, "o1", "nothing for you")])
        .await
        .unwrap();
    let counts = |rooms: Vec<RoomSummary>, id| {
        let s = rooms.into_iter().find(|s| s.room.id == id).unwrap();
        (s.unread, s.mentions)
    };
    assert_eq!(
        counts(store.rooms_of(bo.id).await.unwrap(), r.id),
        (5, 3),
        "@bo, @room and **@BO** mention bo; @bobby, code and an address do not; own messages never"
    );
    assert_eq!(
        counts(store.rooms_of(bo.id).await.unwrap(), other.id),
        (1, 0)
    );
    assert_eq!(
        counts(store.rooms_of(ana.id).await.unwrap(), r.id),
        (1, 0),
        "bo's message names bo, not ana"
    );
    // Reading past a mention stops counting it; so does deleting it.
    store.mark_read(r.id, bo.id, 1).await.unwrap();
    assert_eq!(counts(store.rooms_of(bo.id).await.unwrap(), r.id), (4, 2));
    let a5 = results[5].as_ref().unwrap().event().unwrap().message.id;
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Delete {
                author: ana.id,
                message: a5,
            },
        )
        .await,
    );
    assert_eq!(counts(store.rooms_of(bo.id).await.unwrap(), r.id), (3, 1));
    store.mark_read(r.id, bo.id, 99).await.unwrap();
    assert_eq!(counts(store.rooms_of(bo.id).await.unwrap(), r.id), (0, 0));
}

async fn unread_counts_follow_the_read_marker(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    store.join_public(r.id, bo.id).await.unwrap();
    let cmds = [
        send(ana.id, "a1", "x"),
        send(ana.id, "a2", "y"),
        send(bo.id, "b1", "mine"),
        send(ana.id, "a3", "z"),
    ];
    let results = store.write_batch(r.id, &cmds).await.unwrap();
    let unread_of = |rooms: Vec<RoomSummary>| {
        rooms
            .into_iter()
            .find(|s| s.room.id == r.id)
            .unwrap()
            .unread
    };
    assert_eq!(
        unread_of(store.rooms_of(bo.id).await.unwrap()),
        3,
        "own messages are not unread"
    );
    assert_eq!(store.mark_read(r.id, bo.id, 2).await.unwrap(), 2);
    assert_eq!(unread_of(store.rooms_of(bo.id).await.unwrap()), 1);
    assert_eq!(
        store.mark_read(r.id, bo.id, 1).await.unwrap(),
        2,
        "never backwards"
    );
    assert_eq!(
        store.mark_read(r.id, bo.id, 99).await.unwrap(),
        4,
        "never past the end"
    );
    assert_eq!(unread_of(store.rooms_of(bo.id).await.unwrap()), 0);
    // A deleted message stops counting.
    let a3 = results[3].as_ref().unwrap().event().unwrap().message.id;
    store.mark_read(r.id, ana.id, 0).await.unwrap();
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Delete {
                author: ana.id,
                message: a3,
            },
        )
        .await,
    );
    assert_eq!(
        unread_of(store.rooms_of(ana.id).await.unwrap()),
        1,
        "only bo's message is unread for ana"
    );
    let stranger = user(&*store, "cy").await;
    assert!(matches!(
        store.mark_read(r.id, stranger.id, 1).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
}

async fn the_writer_orders_concurrent_sends_without_gaps(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let hot = room(&*store, ana.id, RoomKind::Public, "hot").await;
    let mut others = Vec::new();
    for i in 0..5 {
        others.push(room(&*store, ana.id, RoomKind::Public, &format!("room-{i}")).await);
    }
    let writer = GroupCommit::new(
        store.clone(),
        GroupCommitConfig {
            max_batch: 16,
            ..GroupCommitConfig::default()
        },
    );
    let mut tasks = Vec::new();
    for i in 0..200 {
        let writer = writer.clone();
        let target = if i % 2 == 0 { hot.id } else { others[i % 5].id };
        tasks.push(tokio::spawn(async move {
            let out = writer
                .write(target, send(ana.id, &format!("c{i}"), "x"))
                .await
                .unwrap();
            (target, out.event().unwrap().seq)
        }));
    }
    let mut per_room: std::collections::HashMap<RoomId, Vec<u64>> = Default::default();
    for t in tasks {
        let (room, seq) = t.await.unwrap();
        per_room.entry(room).or_default().push(seq);
    }
    for (room, mut seqs) in per_room {
        seqs.sort();
        let n = seqs.len() as u64;
        assert_eq!(
            seqs,
            (1..=n).collect::<Vec<_>>(),
            "room {room}: gap-free and unique"
        );
        assert_eq!(store.room(room).await.unwrap().unwrap().last_seq, n);
    }
    // A retry through the writer is recognised.
    let again = writer.write(hot.id, send(ana.id, "c0", "x")).await.unwrap();
    assert!(matches!(again, WriteOutcome::Duplicate(_)));
    let unique: HashSet<u64> = store
        .events_after(hot.id, 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(unique.len(), 100);
}

/// Sends through the writer while other writes (accounts, rooms, joins, read markers) run
/// at the same moment: on SQLite they use two write connections, and none may fail.
async fn sends_and_other_writes_at_once_all_succeed(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let hot = room(&*store, ana.id, RoomKind::Public, "hot").await;
    let writer = GroupCommit::new(store.clone(), GroupCommitConfig::default());
    let mut sends = Vec::new();
    for i in 0..300 {
        let writer = writer.clone();
        sends.push(tokio::spawn(async move {
            writer
                .write(hot.id, send(ana.id, &format!("c{i}"), "x"))
                .await
                .map(|out| out.event().map(|e| e.seq))
        }));
    }
    let mut others = Vec::new();
    for i in 0..30 {
        let store = store.clone();
        others.push(tokio::spawn(async move {
            let who = user(&*store, &format!("user{i}")).await;
            assert!(store.join_public(hot.id, who.id).await.unwrap());
            store.mark_read(hot.id, who.id, 1).await.unwrap();
            room(&*store, who.id, RoomKind::Public, &format!("own-{i}")).await;
        }));
    }
    let mut seqs = Vec::new();
    for t in sends {
        seqs.push(
            t.await
                .unwrap()
                .expect("every send applied")
                .expect("an event"),
        );
    }
    for t in others {
        t.await.unwrap();
    }
    seqs.sort();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>(), "gap-free and unique");
    assert_eq!(store.room(hot.id).await.unwrap().unwrap().last_seq, 300);
    assert_eq!(store.members(hot.id).await.unwrap().len(), 31);
}

fn react(user: UserId, message: MessageId, emoji: &str, add: bool) -> WriteCommand {
    WriteCommand::reaction(user, message, Emoji::parse(emoji).unwrap(), add)
}

/// `(emoji, count, handles listed)` of a message's reactions.
fn summary(m: &Message) -> Vec<(String, u32, Vec<String>)> {
    m.reactions
        .iter()
        .map(|r| {
            let who = r.users.iter().map(|u| u.handle.clone()).collect();
            (r.emoji.clone(), r.count, who)
        })
        .collect()
}

fn row(emoji: &str, count: u32, who: &[&str]) -> (String, u32, Vec<String>) {
    (
        emoji.to_string(),
        count,
        who.iter().map(|h| h.to_string()).collect(),
    )
}

fn reply(author: UserId, cmid: &str, body: &str, root: MessageId) -> WriteCommand {
    WriteCommand::Reply {
        author,
        client_msg_id: ClientMsgId::parse(cmid).unwrap(),
        body: Body::parse(body).unwrap(),
        root,
        files: Vec::new(),
    }
}

async fn thread_replies_are_room_events_kept_out_of_room_pages(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    store.join_public(r.id, bo.id).await.unwrap();
    let root = applied(write_one(&*store, r.id, send(ana.id, "a1", "lunch?")).await).message;
    let r1 = applied(write_one(&*store, r.id, reply(bo.id, "b1", "yes", root.id)).await);
    assert_eq!((r1.seq, r1.message.thread_root), (2, Some(root.id)));
    applied(write_one(&*store, r.id, send(ana.id, "a2", "in the room")).await);
    let r2 = applied(write_one(&*store, r.id, reply(ana.id, "a3", "where?", root.id)).await);

    // A retried reply is the original, and writes nothing.
    match write_one(&*store, r.id, reply(bo.id, "b1", "yes", root.id)).await {
        Ok(WriteOutcome::Duplicate(e)) => assert_eq!(e.message.id, r1.message.id),
        other => panic!("{other:?}"),
    }
    // Room pages hold roots only, each with its summary.
    let page = store.latest(r.id, 10).await.unwrap();
    let bodies: Vec<&str> = page.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["lunch?", "in the room"]);
    let summary = page.messages[0].thread.expect("the root has a thread");
    assert_eq!((summary.replies, summary.last_reply_seq), (2, r2.seq));
    assert_eq!(summary.last_reply_at, r2.message.created_at);
    assert_eq!(page.messages[1].thread, None);
    let older = store.before(r.id, 3, 10).await.unwrap();
    assert_eq!(older.messages.len(), 1, "scrollback skips replies too");
    // Resume carries the replies with their root named.
    let events = store.events_after(r.id, 0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(events[1].message.thread_root, Some(root.id));
    assert_eq!(events[0].message.thread.map(|t| t.replies), Some(2));
    // The thread itself, oldest first; a deleted reply stays as a tombstone, uncounted.
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Delete {
                author: bo.id,
                message: r1.message.id,
            },
        )
        .await,
    );
    let thread = store.thread(r.id, root.id, 50).await.unwrap().unwrap();
    assert_eq!(thread.root.id, root.id);
    assert_eq!(thread.root.thread.map(|t| t.replies), Some(1));
    let replies: Vec<(&str, bool)> = thread
        .replies
        .iter()
        .map(|m| (m.body.as_str(), m.deleted))
        .collect();
    assert_eq!(replies, [("", true), ("where?", false)]);
    assert!(!thread.has_more);
    let newest = store.thread(r.id, root.id, 1).await.unwrap().unwrap();
    assert!(newest.has_more && newest.replies.len() == 1);
    // Replies are not the room's unread messages.
    let unread = store.rooms_of(bo.id).await.unwrap()[0].unread;
    assert_eq!(
        unread, 2,
        "ana's two room messages; her reply counts in its thread"
    );
    // Unless it mentions him: then it is unread in the room too, as a mention.
    applied(write_one(&*store, r.id, reply(ana.id, "a4", "@bo can you?", root.id)).await);
    let summary = store.rooms_of(bo.id).await.unwrap().remove(0);
    assert_eq!((summary.unread, summary.mentions), (3, 1));
}

async fn replies_need_a_live_root_of_the_room(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let other = room(&*store, ana.id, RoomKind::Public, "other").await;
    let root = applied(write_one(&*store, r.id, send(ana.id, "a1", "root")).await).message;
    let elsewhere = applied(write_one(&*store, other.id, send(ana.id, "o1", "x")).await).message;
    let r1 = applied(write_one(&*store, r.id, reply(ana.id, "a2", "reply", root.id)).await);
    assert_eq!(
        write_one(&*store, r.id, reply(ana.id, "a3", "x", elsewhere.id))
            .await
            .unwrap_err(),
        WriteError::NoSuchMessage,
        "a root of another room"
    );
    assert_eq!(
        write_one(&*store, r.id, reply(ana.id, "a4", "x", r1.message.id))
            .await
            .unwrap_err(),
        WriteError::NotARoot
    );
    applied(
        write_one(
            &*store,
            r.id,
            WriteCommand::Delete {
                author: ana.id,
                message: root.id,
            },
        )
        .await,
    );
    assert_eq!(
        write_one(&*store, r.id, reply(ana.id, "a5", "x", root.id))
            .await
            .unwrap_err(),
        WriteError::Deleted
    );
    assert!(
        store.thread(other.id, root.id, 10).await.unwrap().is_none(),
        "wrong room"
    );
    assert!(
        store
            .thread(r.id, r1.message.id, 10)
            .await
            .unwrap()
            .is_none(),
        "not a root"
    );
    // Refusals took no seq: the room's last seq is the root, the reply and the delete.
    assert_eq!(store.room(r.id).await.unwrap().unwrap().last_seq, 3);
}

async fn thread_read_markers_only_move_forward(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let root = applied(write_one(&*store, r.id, send(ana.id, "a1", "root")).await).message;
    assert!(store.thread_reads(r.id, bo.id).await.unwrap().is_empty());
    assert_eq!(store.mark_thread_read(root.id, bo.id, 5).await.unwrap(), 5);
    assert_eq!(
        store.mark_thread_read(root.id, bo.id, 3).await.unwrap(),
        5,
        "never back"
    );
    assert_eq!(store.mark_thread_read(root.id, bo.id, 7).await.unwrap(), 7);
    assert_eq!(
        store.thread_reads(r.id, bo.id).await.unwrap(),
        vec![(root.id, 7)]
    );
    assert!(store.thread_reads(r.id, ana.id).await.unwrap().is_empty());
}

async fn reactions_are_events_that_carry_counts_and_who(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    for u in [bo.id, cy.id] {
        store.join_public(general.id, u).await.unwrap();
    }
    let m = applied(write_one(&*store, general.id, send(ana.id, "c1", "hello")).await).message;
    assert!(m.reactions.is_empty());

    let e = applied(write_one(&*store, general.id, react(bo.id, m.id, "👍", true)).await);
    assert_eq!((e.seq, e.kind), (2, EventKind::Reaction));
    assert_eq!(e.message.id, m.id);
    assert_eq!(summary(&e.message), [row("👍", 1, &["bo"])]);
    applied(write_one(&*store, general.id, react(cy.id, m.id, "👍", true)).await);
    let e = applied(write_one(&*store, general.id, react(ana.id, m.id, "🎉", true)).await);
    assert_eq!(e.seq, 4);
    assert_eq!(
        summary(&e.message),
        [row("👍", 2, &["bo", "cy"]), row("🎉", 1, &["ana"])],
        "emoji in order of first use, people in order of reacting"
    );

    // Changing nothing takes no seq: a second add, a remove of what is not there.
    for cmd in [
        react(bo.id, m.id, "👍", true),
        react(bo.id, m.id, "🎉", false),
    ] {
        match write_one(&*store, general.id, cmd).await {
            Ok(WriteOutcome::Unchanged(now)) => assert_eq!(summary(&now).len(), 2),
            other => panic!("expected no change, got {other:?}"),
        }
    }
    assert_eq!(store.room(general.id).await.unwrap().unwrap().last_seq, 4);

    let e = applied(write_one(&*store, general.id, react(cy.id, m.id, "👍", false)).await);
    assert_eq!(e.seq, 5);
    let now = [row("👍", 1, &["bo"]), row("🎉", 1, &["ana"])];
    assert_eq!(summary(&e.message), now);

    // Every read carries the current reactions: pages, one message, and a replay (whose
    // events all show the message as it is now).
    let page = store.latest(general.id, 10).await.unwrap();
    assert_eq!(summary(&page.messages[0]), now);
    assert_eq!(summary(&store.message(m.id).await.unwrap().unwrap()), now);
    let events = store.events_after(general.id, 0, 100).await.unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Message,
            EventKind::Reaction,
            EventKind::Reaction,
            EventKind::Reaction,
            EventKind::Reaction
        ]
    );
    assert!(events.iter().all(|e| summary(&e.message) == now));
    let tail = store.events_after(general.id, 3, 100).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
    assert!(tail.iter().all(|e| summary(&e.message) == now));

    // An edit keeps the reactions; reactions are not unread messages.
    let edit = WriteCommand::Edit {
        author: ana.id,
        message: m.id,
        body: Body::parse("hello!").unwrap(),
    };
    let e = applied(write_one(&*store, general.id, edit).await);
    assert_eq!(summary(&e.message), now);
    let unread = store
        .rooms_of(bo.id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.room.id == general.id)
        .unwrap()
        .unread;
    assert_eq!(unread, 1, "one message, however many reactions");
}

async fn reactions_need_a_live_message_of_the_room_and_a_bounded_set_of_emoji(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let other = room(&*store, ana.id, RoomKind::Public, "other").await;
    let m = applied(write_one(&*store, general.id, send(ana.id, "c1", "hello")).await).message;
    let elsewhere =
        applied(write_one(&*store, other.id, send(ana.id, "c1", "there")).await).message;

    let unknown = MessageId(Uuid::now_v7());
    for (message, add) in [
        (unknown, true),
        (unknown, false),
        (elsewhere.id, true),
        (elsewhere.id, false),
    ] {
        assert_eq!(
            write_one(&*store, general.id, react(ana.id, message, "👍", add)).await,
            Err(WriteError::NoSuchMessage)
        );
    }
    assert_eq!(
        write_one(
            &*store,
            RoomId(Uuid::now_v7()),
            react(ana.id, m.id, "👍", true)
        )
        .await,
        Err(WriteError::NoSuchRoom)
    );

    // At most REACTIONS_PER_MESSAGE_MAX different emoji; more of one already there is fine.
    let emoji: Vec<String> = (0..protocol::REACTIONS_PER_MESSAGE_MAX as u32 + 1)
        .map(|i| char::from_u32(0x1F600 + i).unwrap().to_string())
        .collect();
    for e in &emoji[..protocol::REACTIONS_PER_MESSAGE_MAX] {
        applied(write_one(&*store, general.id, react(ana.id, m.id, e, true)).await);
    }
    let last = emoji.last().unwrap();
    assert_eq!(
        write_one(&*store, general.id, react(ana.id, m.id, last, true)).await,
        Err(WriteError::TooManyReactions)
    );
    let bo = user(&*store, "bo").await;
    let e = applied(write_one(&*store, general.id, react(bo.id, m.id, &emoji[0], true)).await);
    assert_eq!(e.message.reactions[0].count, 2);

    // A delete drops the reactions, everywhere, and refuses new ones.
    let seq_before = store.room(general.id).await.unwrap().unwrap().last_seq;
    let delete = WriteCommand::Delete {
        author: ana.id,
        message: m.id,
    };
    let gone = applied(write_one(&*store, general.id, delete).await);
    assert!(gone.message.reactions.is_empty());
    for add in [true, false] {
        assert_eq!(
            write_one(&*store, general.id, react(bo.id, m.id, &emoji[0], add)).await,
            Err(WriteError::Deleted)
        );
    }
    let replay = store.events_after(general.id, 0, 100).await.unwrap();
    assert!(replay.iter().all(|e| e.message.reactions.is_empty()));
    assert_eq!(
        store.room(general.id).await.unwrap().unwrap().last_seq,
        seq_before + 1,
        "refused reactions take no seq"
    );
}

// --- one test per case and backend ---------------------------------------------------------

fn bodies(hits: &[Message]) -> Vec<&str> {
    hits.iter().map(|m| m.body.as_str()).collect()
}

async fn search_matches_every_word_as_a_prefix_and_follows_edits_and_deletes(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let r = room(&*store, ana.id, RoomKind::Public, "general").await;
    let mut ids = Vec::new();
    for (i, body) in [
        "Deploying the new build tonight",
        "lunch at noon",
        "the build is green",
        "build BUILD Build, again",
    ]
    .into_iter()
    .enumerate()
    {
        let e = applied(write_one(&*store, r.id, send(ana.id, &format!("c{i}"), body)).await);
        ids.push(e.message.id);
    }
    let find = |q: &'static str, limit| {
        let store = store.clone();
        async move { store.search(ana.id, q, limit).await.unwrap() }
    };
    let hits = find("build", 10).await;
    assert_eq!(hits.len(), 3, "{:?}", bodies(&hits));
    assert_eq!(
        hits[0].body, "build BUILD Build, again",
        "most matches rank first"
    );
    assert!(hits.iter().all(|m| m.body.to_lowercase().contains("build")));
    assert_eq!(find("build", 1).await.len(), 1, "the limit holds");
    assert_eq!(
        bodies(&find("DEPL", 10).await),
        ["Deploying the new build tonight"]
    );
    assert_eq!(
        bodies(&find("build tonight", 10).await),
        ["Deploying the new build tonight"],
        "every word must match"
    );
    assert!(find("build lunch", 10).await.is_empty());
    assert!(
        find("uild", 10).await.is_empty(),
        "words match from their start"
    );
    // Query syntax is only separators: nothing to inject, nothing to break.
    assert_eq!(bodies(&find("\"lunch* ()", 10).await), ["lunch at noon"]);
    assert_eq!(
        bodies(&find("'lunch':* & !x", 10).await).len(),
        0,
        "x must match too"
    );
    assert!(find(" *** ", 10).await.is_empty(), "no words, no hits");

    let edit = WriteCommand::Edit {
        author: ana.id,
        message: ids[1],
        body: Body::parse("dinner at eight").unwrap(),
    };
    applied(write_one(&*store, r.id, edit).await);
    assert!(
        find("lunch", 10).await.is_empty(),
        "an edit replaces the indexed text"
    );
    let dinner = find("dinner", 10).await;
    assert_eq!((dinner.len(), dinner[0].id), (1, ids[1]));
    assert!(
        dinner[0].edited_at.is_some(),
        "a hit is the message as it is now"
    );
    let delete = WriteCommand::Delete {
        author: ana.id,
        message: ids[0],
    };
    applied(write_one(&*store, r.id, delete).await);
    assert!(
        find("deploying", 10).await.is_empty(),
        "deleted messages are never found"
    );
    assert_eq!(find("build", 10).await.len(), 2);
}

async fn search_never_returns_a_message_of_a_room_the_reader_is_not_in(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let cy = user(&*store, "cy").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let secret = room(&*store, ana.id, RoomKind::Private, "secret").await;
    let dm = store.open_dm(ana.id, bo.id).await.unwrap();
    let cys = room(&*store, cy.id, RoomKind::Private, "cys-corner").await;
    for (r, author, body) in [
        (general.id, ana.id, "falcon in general"),
        (secret.id, ana.id, "falcon in secret"),
        (dm.id, bo.id, "falcon in the dm"),
        (cys.id, cy.id, "falcon in cy's corner"),
    ] {
        applied(write_one(&*store, r, send(author, "f", body)).await);
    }
    let rooms_found = |reader: UserId| {
        let store = store.clone();
        async move {
            let mut rooms: Vec<RoomId> = store
                .search(reader, "falcon", 50)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.room_id)
                .collect();
            rooms.sort();
            rooms
        }
    };
    let sorted = |mut v: Vec<RoomId>| {
        v.sort();
        v
    };
    assert_eq!(
        rooms_found(ana.id).await,
        sorted(vec![general.id, secret.id, dm.id])
    );
    // A public room one has not joined is readable, but search covers one's own rooms.
    assert_eq!(rooms_found(bo.id).await, [dm.id]);
    assert_eq!(rooms_found(cy.id).await, [cys.id]);
    assert!(store.join_public(general.id, bo.id).await.unwrap());
    assert_eq!(rooms_found(bo.id).await, sorted(vec![general.id, dm.id]));
    assert!(store.leave(general.id, bo.id).await.unwrap());
    assert_eq!(
        rooms_found(bo.id).await,
        [dm.id],
        "leaving a room leaves its search"
    );
    assert!(store.invite(secret.id, ana.id, cy.id).await.unwrap());
    assert_eq!(rooms_found(cy.id).await, sorted(vec![secret.id, cys.id]));
    assert!(
        rooms_found(UserId(Uuid::now_v7())).await.is_empty(),
        "a stranger finds nothing"
    );
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = store::testing::sqlite().await;
                    super::$case(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = store::testing::postgres().await else { return };
                    super::$case(db.store.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    handles_are_unique_and_credentials_come_back,
    users_are_found_by_handle_prefix,
    api_tokens_resolve_until_revoked,
    sessions_expire_and_ids_are_not_reused,
    many_lookups_at_once_each_get_their_own_answer,
    a_person_lists_and_ends_their_sessions_and_changes_name_and_password,
    a_profile_keeps_a_bio_and_a_time_zone,
    an_avatar_is_set_replaced_and_removed_with_a_new_version_each_time,
    room_names_are_unique_and_only_public_rooms_are_listed,
    private_rooms_admit_only_by_invitation_from_members,
    public_rooms_can_be_joined_once,
    a_dm_is_one_room_per_pair,
    a_group_dm_is_one_room_per_set_of_up_to_eight_people,
    sends_take_consecutive_seqs_and_retries_are_idempotent,
    the_same_client_id_in_two_rooms_or_by_two_authors_is_two_messages,
    edits_and_deletes_are_events_for_the_author_only,
    an_edit_keeps_the_body_it_replaced_until_the_message_is_deleted,
    a_message_cannot_be_changed_through_another_room,
    writes_to_an_unknown_room_are_refused,
    one_transaction_can_write_to_several_rooms,
    a_batch_mixing_sends_retries_and_changes_applies_in_order,
    resume_returns_every_event_after_a_seq_in_order,
    pages_walk_back_through_history,
    unread_counts_follow_the_read_marker,
    mentions_count_among_unread_messages,
    read_markers_list_every_member,
    thread_replies_are_room_events_kept_out_of_room_pages,
    replies_need_a_live_root_of_the_room,
    thread_read_markers_only_move_forward,
    the_writer_orders_concurrent_sends_without_gaps,
    sends_and_other_writes_at_once_all_succeed,
    joins_at_once_are_each_answered_as_alone,
    deactivated_accounts_lose_every_way_in_and_keep_their_messages,
    reactions_are_events_that_carry_counts_and_who,
    reactions_need_a_live_message_of_the_room_and_a_bounded_set_of_emoji,
    search_matches_every_word_as_a_prefix_and_follows_edits_and_deletes,
    search_never_returns_a_message_of_a_room_the_reader_is_not_in,
    uploads_are_stored_whole_and_attached_by_the_send_that_names_them,
    a_send_may_attach_only_its_author_s_waiting_uploads_to_its_room,
    every_read_of_messages_carries_their_files,
    a_deleted_message_s_files_are_gone_at_once_and_purged_later,
    uploads_never_attached_are_purged_after_a_while,
    the_creator_owns_their_room_and_roles_change_as_the_rules_say,
    moderators_delete_anyone_s_message_and_the_tombstone_says_so,
    pins_are_events_and_only_moderators_pin,
    a_removed_member_is_gone_and_a_banned_one_cannot_come_back,
    site_admins_moderate_every_room,
    moderators_change_a_room_and_a_notice_records_it,
    an_archived_room_is_read_only_and_hidden_until_opened,
    invite_links_admit_until_they_expire,
);

/// SQLite cannot widen a check constraint, so migration 0003 rebuilds `room_events`: a
/// database made before it keeps its whole log, and takes reactions afterwards.
#[tokio::test]
async fn sqlite_databases_from_before_reactions_keep_their_log() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;

    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("migrations-before-0003");
    std::fs::create_dir(&before).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    for name in ["0001_initial.sql", "0002_deactivation.sql"] {
        std::fs::copy(all.join(name), before.join(name)).unwrap();
    }
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(before.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (user, room, message) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    sqlx::query("insert into users (id, handle, display_name, password_hash, created_at) values ($1, 'ana', 'Ana', 'h', 1)")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("insert into rooms (id, kind, name, created_by, created_at, last_seq) values ($1, 'public', 'general', $2, 1, 2)")
        .bind(room)
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at, edited_at) values ($1, $2, 1, $3, 'hi!', 'c1', 1, 2)")
        .bind(message)
        .bind(room)
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    for (seq, kind) in [(1, "message"), (2, "edited")] {
        sqlx::query("insert into room_events (room_id, seq, kind, message_id, created_at) values ($1, $2, $3, $4, $2)")
            .bind(room)
            .bind(seq)
            .bind(kind)
            .bind(message)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    let (room, message) = (RoomId(room), MessageId(message));
    let kinds = |events: Vec<Event>| {
        events
            .into_iter()
            .map(|e| (e.seq, e.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kinds(store.events_after(room, 0, 10).await.unwrap()),
        [(1, EventKind::Message), (2, EventKind::Edited)]
    );
    let e = applied(write_one(&store, room, react(UserId(user), message, "👍", true)).await);
    assert_eq!((e.seq, e.kind), (3, EventKind::Reaction));
    assert_eq!(e.message.body, "hi!");
}
