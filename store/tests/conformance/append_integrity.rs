//! The append path's references hold without foreign keys. Postgres has none on it
//! (migration 0013); the write path must still never write a message of no room or by no
//! user, an event of no message, or a message without the event that created it. A mixed
//! concurrent workload goes through the group-commit writer on each engine, and then the
//! database is read directly ([`store::testing::TestDb::append_path_orphans`]). Part of the
//! conformance suite's binary, for its helpers; each case needs its database's URL, so
//! it has its own tests instead of a line in `conformance!`.

use super::*;
use store::testing::TestDb;

/// Concurrent sends, retries, replies, edits, deletes and reactions in several rooms by
/// several authors, and writes to a room that does not exist; then nothing is orphaned.
async fn a_mixed_workload_leaves_no_orphans(db: TestDb) {
    let store = db.store.clone();
    let mut people = Vec::new();
    for handle in ["ana", "bo", "cy"] {
        people.push(user(&*store, handle).await);
    }
    let mut rooms = Vec::new();
    for i in 0..4 {
        let name = RoomName::parse(&format!("room-{i}")).unwrap();
        let room = store
            .create_room(people[0].id, RoomKind::Public, &name, "")
            .await
            .unwrap();
        for person in &people[1..] {
            store.join_public(room.id, person.id).await.unwrap();
        }
        rooms.push(room.id);
    }
    let writer = GroupCommit::new(
        store.clone(),
        GroupCommitConfig {
            max_batch: 16,
            ..GroupCommitConfig::default()
        },
    );
    let nowhere = RoomId(uuid::Uuid::now_v7());

    // Sends from every author to every room at once, each sent twice (a retry), and some
    // to a room that does not exist.
    let mut tasks = Vec::new();
    for i in 0..240 {
        let writer = writer.clone();
        let author = people[i % 3].id;
        let room = if i % 40 == 39 { nowhere } else { rooms[i % 4] };
        tasks.push(tokio::spawn(async move {
            let command = send(author, &format!("c{i}"), "hello");
            let first = writer.write(room, command.clone()).await;
            let again = writer.write(room, command).await;
            (room, first, again)
        }));
    }
    let mut posted: Vec<(RoomId, UserId, MessageId)> = Vec::new();
    for task in tasks {
        let (room, first, again) = task.await.unwrap();
        if room == nowhere {
            assert!(
                first.is_err() && again.is_err(),
                "a room that does not exist"
            );
            continue;
        }
        let event = first.unwrap().event().expect("an applied send").clone();
        assert!(matches!(again.unwrap(), WriteOutcome::Duplicate(_)));
        posted.push((room, event.message.author_id, event.message.id));
    }
    assert_eq!(posted.len(), 234);

    // Replies, edits, deletes and reactions on what was posted, at once.
    let mut tasks = Vec::new();
    for (i, &(room, author, message)) in posted.iter().enumerate().take(60) {
        let writer = writer.clone();
        let reactor = people[(i + 1) % 3].id;
        tasks.push(tokio::spawn(async move {
            let command = match i % 4 {
                0 => WriteCommand::Reply {
                    author: reactor,
                    client_msg_id: ClientMsgId::parse(&format!("r{i}")).unwrap(),
                    body: Body::parse("a reply").unwrap(),
                    root: message,
                    files: Vec::new(),
                },
                1 => WriteCommand::Edit {
                    author,
                    message,
                    body: Body::parse("edited").unwrap(),
                },
                2 => WriteCommand::Delete { author, message },
                _ => WriteCommand::reaction(reactor, message, Emoji::parse("👍").unwrap(), true),
            };
            writer.write(room, command).await
        }));
    }
    for task in tasks {
        let outcome = task.await.unwrap().expect("every change applies");
        assert!(outcome.event().is_some(), "each change is an event");
    }

    assert_eq!(db.append_path_orphans().await, Vec::new());
    // Every room's log is whole: its last seq is its number of events.
    for room in rooms {
        let last = store.room(room).await.unwrap().unwrap().last_seq;
        let events = store.events_after(room, 0, 10_000).await.unwrap();
        assert_eq!(events.len() as u64, last, "room {room}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_mixed_workload_leaves_no_orphans() {
    a_mixed_workload_leaves_no_orphans(store::testing::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_mixed_workload_leaves_no_orphans() {
    let Some(db) = store::testing::postgres().await else {
        return;
    };
    a_mixed_workload_leaves_no_orphans(db).await;
}

/// The check is not vacuous: rows written behind the store's back, naming a room and a
/// message that do not exist, are found (Postgres has no foreign key to refuse them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_orphans_written_behind_the_store_s_back_are_found() {
    use sqlx::Connection;
    let Some(db) = store::testing::postgres().await else {
        return;
    };
    let ana = user(&*db.store, "ana").await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (ghost_room, ghost_message) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    sqlx::query(
        "insert into messages (id, room_id, seq, author_id, body, client_msg_id, created_at) \
         values ($1, $2, 1, $3, 'x', 'c1', 0)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(ghost_room)
    .bind(ana.id.0)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "insert into room_events (room_id, seq, kind, message_id, created_at) \
         values ($1, 2, 'message', $2, 0)",
    )
    .bind(ghost_room)
    .bind(ghost_message)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        db.append_path_orphans().await,
        vec![
            ("messages of no room", 1),
            ("events of no room", 1),
            ("events of no message", 1),
            ("messages without the event that created them", 1),
        ]
    );
}
