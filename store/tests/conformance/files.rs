//! Conformance cases of files: storing an upload with its bytes, attaching uploads by the
//! send that names them (and only the author's own, waiting, in the same room), every read
//! of messages carrying their files, and removal: a deleted message's files are gone at
//! once and their bytes purged later, as are uploads no message ever named.

use super::*;

pub(crate) async fn upload(store: &dyn Store, room: RoomId, who: UserId, name: &str) -> StoredFile {
    store
        .create_file(
            &NewFile {
                room,
                uploader: who,
                name: name.into(),
                content_type: "text/plain".into(),
                image: None,
            },
            format!("the bytes of {name}").as_bytes(),
            None,
        )
        .await
        .unwrap()
}

pub(crate) fn send_with(
    author: UserId,
    cmid: &str,
    body: &str,
    files: &[&StoredFile],
) -> WriteCommand {
    WriteCommand::Send {
        author,
        client_msg_id: ClientMsgId::parse(cmid).unwrap(),
        body: Body::parse(body).unwrap(),
        files: files.iter().map(|f| f.id).collect(),
    }
}

fn names(m: &Message) -> Vec<&str> {
    m.files.iter().map(|f| f.name.as_str()).collect()
}

pub(crate) async fn uploads_are_stored_whole_and_attached_by_the_send_that_names_them(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let photo = store
        .create_file(
            &NewFile {
                room: general.id,
                uploader: ana.id,
                name: "photo.png".into(),
                content_type: "image/png".into(),
                image: Some(protocol::ImageSize {
                    width: 640,
                    height: 480,
                }),
            },
            &big,
            Some(b"thumbnail bytes"),
        )
        .await
        .unwrap();
    assert_eq!(photo.size, big.len() as u64);
    assert_eq!(photo.message_id, None);
    assert_eq!(store.file(photo.id).await.unwrap(), Some(photo.clone()));
    assert_eq!(
        store
            .file_bytes(photo.id, FilePart::Original)
            .await
            .unwrap(),
        Some(big.clone()),
        "the bytes come back whole"
    );
    assert_eq!(
        store
            .file_bytes(photo.id, FilePart::Thumb)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"thumbnail bytes"[..])
    );
    let log = upload(&*store, general.id, ana.id, "server.log").await;
    assert_eq!(
        store.file_bytes(log.id, FilePart::Thumb).await.unwrap(),
        None,
        "a file that is not an image has no thumbnail"
    );

    let sent = applied(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "c1", "look", &[&log, &photo]),
        )
        .await,
    );
    assert_eq!(sent.seq, 1);
    assert_eq!(
        names(&sent.message),
        ["server.log", "photo.png"],
        "in the order the send named them"
    );
    assert_eq!(sent.message.files[1].image, photo.image);
    assert_eq!(sent.message.files[1].content_type, "image/png");
    assert_eq!(
        store.file(photo.id).await.unwrap().unwrap().message_id,
        Some(sent.message.id)
    );

    // A retry is the original, files included, and attaches nothing again.
    let again = write_one(
        &*store,
        general.id,
        send_with(ana.id, "c1", "look", &[&log, &photo]),
    )
    .await;
    match again {
        Ok(WriteOutcome::Duplicate(e)) => {
            assert_eq!(e.message.id, sent.message.id);
            assert_eq!(names(&e.message), ["server.log", "photo.png"]);
        }
        other => panic!("a retried send is a duplicate: {other:?}"),
    }
    // A plain send in the same batch as one with files keeps the room's order.
    let notes = upload(&*store, general.id, ana.id, "notes.txt").await;
    let out = store
        .write_batch(
            general.id,
            &[
                send(ana.id, "c2", "plain"),
                send_with(ana.id, "c3", "with a file", &[&notes]),
                send(ana.id, "c4", "plain again"),
            ],
        )
        .await
        .unwrap();
    let seqs: Vec<u64> = out.into_iter().map(|r| applied(r).seq).collect();
    assert_eq!(seqs, [2, 3, 4]);
    let page = store.latest(general.id, 10).await.unwrap();
    let listed: Vec<(u64, Vec<&str>)> = page.messages.iter().map(|m| (m.seq, names(m))).collect();
    assert_eq!(
        listed,
        [
            (1, vec!["server.log", "photo.png"]),
            (2, vec![]),
            (3, vec!["notes.txt"]),
            (4, vec![])
        ]
    );
}

pub(crate) async fn a_send_may_attach_only_its_author_s_waiting_uploads_to_its_room(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let bo = user(&*store, "bo").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let other = room(&*store, ana.id, RoomKind::Public, "other").await;
    store.join_public(general.id, bo.id).await.unwrap();
    let anas = upload(&*store, general.id, ana.id, "ana.txt").await;
    let elsewhere = upload(&*store, other.id, ana.id, "other.txt").await;
    let unknown = StoredFile {
        id: protocol::ids::FileId(Uuid::now_v7()),
        ..anas.clone()
    };

    let refused = [
        (
            send_with(bo.id, "b1", "mine now", &[&anas]),
            "another person's upload",
        ),
        (
            send_with(ana.id, "a1", "here", &[&elsewhere]),
            "an upload to another room",
        ),
        (
            send_with(ana.id, "a2", "ghost", &[&unknown]),
            "a file that does not exist",
        ),
        (
            send_with(ana.id, "a3", "twice", &[&anas, &anas]),
            "one file named twice",
        ),
    ];
    for (command, why) in refused {
        assert_eq!(
            write_one(&*store, general.id, command).await,
            Err(WriteError::NoSuchFile),
            "{why}"
        );
    }
    assert_eq!(
        store.latest(general.id, 10).await.unwrap().messages.len(),
        0
    );
    assert_eq!(
        store.room(general.id).await.unwrap().unwrap().last_seq,
        0,
        "refusals take no seq"
    );
    assert_eq!(
        store.file(anas.id).await.unwrap().unwrap().message_id,
        None,
        "nothing was attached"
    );

    let first = applied(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "a4", "mine", &[&anas]),
        )
        .await,
    );
    assert_eq!(first.seq, 1);
    assert_eq!(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "a5", "again", &[&anas])
        )
        .await,
        Err(WriteError::NoSuchFile),
        "a file already attached to another message"
    );
    // A reply takes files too, under the same rule.
    let notes = upload(&*store, general.id, bo.id, "notes.txt").await;
    let answer = applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Reply {
                author: bo.id,
                client_msg_id: ClientMsgId::parse("r1").unwrap(),
                body: Body::parse("notes attached").unwrap(),
                root: first.message.id,
                files: vec![notes.id],
            },
        )
        .await,
    );
    assert_eq!(answer.message.thread_root, Some(first.message.id));
    assert_eq!(names(&answer.message), ["notes.txt"]);
    let thread = store
        .thread(general.id, first.message.id, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(names(&thread.replies[0]), ["notes.txt"]);
    assert_eq!(names(&thread.root), ["ana.txt"]);
}

pub(crate) async fn every_read_of_messages_carries_their_files(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let a = upload(&*store, general.id, ana.id, "a.txt").await;
    let sent =
        applied(write_one(&*store, general.id, send_with(ana.id, "c1", "files", &[&a])).await);
    write_one(&*store, general.id, send(ana.id, "c2", "plain"))
        .await
        .unwrap();
    let edited = applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Edit {
                author: ana.id,
                message: sent.message.id,
                body: Body::parse("files, edited").unwrap(),
            },
        )
        .await,
    );
    assert_eq!(
        names(&edited.message),
        ["a.txt"],
        "an edit's event keeps the files"
    );
    let reacted = applied(
        write_one(
            &*store,
            general.id,
            react(ana.id, sent.message.id, "👍", true),
        )
        .await,
    );
    assert_eq!(
        names(&reacted.message),
        ["a.txt"],
        "a reaction's event keeps the files"
    );

    let events = store.events_after(general.id, 0, 10).await.unwrap();
    let carried: Vec<(u64, Vec<&str>)> =
        events.iter().map(|e| (e.seq, names(&e.message))).collect();
    assert_eq!(
        carried,
        [
            (1, vec!["a.txt"]),
            (2, vec![]),
            (3, vec!["a.txt"]),
            (4, vec!["a.txt"])
        ]
    );
    let one = store.message(sent.message.id).await.unwrap().unwrap();
    assert_eq!(names(&one), ["a.txt"]);
    let older = store.before(general.id, 2, 10).await.unwrap();
    assert_eq!(names(&older.messages[0]), ["a.txt"]);
}

pub(crate) async fn a_deleted_message_s_files_are_gone_at_once_and_purged_later(
    store: Arc<dyn Store>,
) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let a = upload(&*store, general.id, ana.id, "a.txt").await;
    let kept = upload(&*store, general.id, ana.id, "kept.txt").await;
    let sent = applied(write_one(&*store, general.id, send_with(ana.id, "c1", "bye", &[&a])).await);
    applied(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "c2", "stays", &[&kept]),
        )
        .await,
    );
    let deleted = applied(
        write_one(
            &*store,
            general.id,
            WriteCommand::Delete {
                author: ana.id,
                message: sent.message.id,
            },
        )
        .await,
    );
    assert!(
        deleted.message.files.is_empty(),
        "a tombstone carries no files"
    );
    assert_eq!(
        store.file(a.id).await.unwrap(),
        None,
        "gone from the delete's commit on"
    );
    assert_eq!(
        store.file_bytes(a.id, FilePart::Original).await.unwrap(),
        None
    );
    let page = store.latest(general.id, 10).await.unwrap();
    assert!(page.messages[0].files.is_empty());
    assert_eq!(names(&page.messages[1]), ["kept.txt"]);
    let replay = store.events_after(general.id, 0, 10).await.unwrap();
    assert!(
        replay
            .iter()
            .all(|e| e.message.id != sent.message.id || e.message.files.is_empty())
    );

    assert_eq!(
        store.purge_files(0).await.unwrap(),
        1,
        "the deleted message's file"
    );
    assert_eq!(store.purge_files(0).await.unwrap(), 0, "nothing twice");
    assert_eq!(
        store.file(kept.id).await.unwrap().map(|f| f.name),
        Some("kept.txt".into())
    );
    assert!(
        store
            .file_bytes(kept.id, FilePart::Original)
            .await
            .unwrap()
            .is_some()
    );
}

pub(crate) async fn uploads_never_attached_are_purged_after_a_while(store: Arc<dyn Store>) {
    let ana = user(&*store, "ana").await;
    let general = room(&*store, ana.id, RoomKind::Public, "general").await;
    let waiting = upload(&*store, general.id, ana.id, "waiting.txt").await;
    let attached = upload(&*store, general.id, ana.id, "attached.txt").await;
    applied(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "c1", "here", &[&attached]),
        )
        .await,
    );
    assert_eq!(
        store.purge_files(waiting.created_at).await.unwrap(),
        0,
        "an upload younger than the cut-off stays"
    );
    assert!(store.file(waiting.id).await.unwrap().is_some());
    assert_eq!(store.purge_files(waiting.created_at + 1).await.unwrap(), 1);
    assert_eq!(store.file(waiting.id).await.unwrap(), None);
    assert_eq!(
        store
            .file_bytes(waiting.id, FilePart::Original)
            .await
            .unwrap(),
        None
    );
    assert!(
        store.file(attached.id).await.unwrap().is_some(),
        "an attached file is never stale"
    );
    assert_eq!(
        write_one(
            &*store,
            general.id,
            send_with(ana.id, "c2", "late", &[&waiting])
        )
        .await,
        Err(WriteError::NoSuchFile),
        "a purged upload cannot be attached"
    );
}
