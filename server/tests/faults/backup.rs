//! A backup a user can trust, end to end with the real binary: a `confab` server on SQLite
//! takes sends over the WebSocket while `confab backup PATH` copies its database; `confab
//! restore` refuses while that server runs; after it stops, the copy is restored into a
//! fresh data folder and a new server started on it. Its history, read through the API,
//! must be a consistent prefix of what was acked: every acked message up to some seq, at
//! the seq its ack named, no gap, none after; and that seq must be at least the acks in
//! before the backup began. The restored server then takes new sends at the next seq,
//! and serves the files uploaded before the backup (an attachment and an image with its
//! thumbnail), byte for byte, from the backup's files folder.

use protocol::ids::{RoomId, Seq};
use protocol::{FileView, ServerFrame};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::child::ChildServer;
use crate::helpers::{TestUser, WAIT, connect_user, png, upload_to};
use crate::room_log::api_history;
use crate::seed;
use crate::wsclient::{Client, send, subscribe};

const FAST: [(&str, &str); 2] = [
    ("CONFAB_RATE_PER_SEC", "100000"),
    ("CONFAB_RATE_BURST", "100000"),
];
/// Acks in before the backup starts.
const ACKS_BEFORE_BACKUP: u64 = 200;
/// Acks in after the backup ended, before the server stops.
const ACKS_AFTER_BACKUP: u64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_sends_restores_a_consistent_prefix() {
    tokio::time::timeout(Duration::from_secs(240), round_trip())
        .await
        .expect("the test finishes within 240 s");
}

async fn round_trip() {
    let data = tempfile::tempdir().unwrap();
    let handles = ["backup-writer".to_string(), "backup-reader".to_string()];
    let (users, room) = seed::users_and_room(data.path(), &handles, "general").await;
    let mut server = ChildServer::start(data.path(), &FAST).await;

    // One sender, one send at a time: its acks come in seq order.
    let acks = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = Client::new(connect_user(server.addr, &users[0]).await);
    writer.ok(subscribe(room, None)).await;

    // Files first: an attachment and an image, sent in the room's first message.
    let base = format!("http://{}", server.addr);
    let text = b"what the backup must keep".to_vec();
    let image = png(32, 24);
    let note = upload(&base, &users[0], room, "note.txt", text.clone()).await;
    let picture = upload(&base, &users[0], room, "picture.png", image.clone()).await;
    let with_files = serde_json::json!({
        "type": "send", "room": room, "client_msg_id": "files-1", "body": "two files",
        "files": [note.id, picture.id],
    });
    let first = match writer.request(with_files).await {
        ServerFrame::Ack { info, .. } => info.seq.expect("a seq"),
        other => panic!("the send with files: {other:?}"),
    };

    let sender = {
        let (acks, stop) = (acks.clone(), stop.clone());
        tokio::spawn(async move {
            let mut acked: Vec<(String, Seq)> = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let cmid = format!("m{i}");
                let seq = expect_ack(&mut writer, room, &cmid).await;
                acked.push((cmid, seq));
                acks.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
            acked
        })
    };
    wait_for(&acks, ACKS_BEFORE_BACKUP).await;
    let before_backup = acks.load(Ordering::SeqCst);

    let backups = tempfile::tempdir().unwrap();
    let copy = backups.path().join("confab-backup.db");
    let out = confab(&["backup", copy.to_str().unwrap()], data.path()).await;
    assert!(out.status.success(), "confab backup failed: {out:?}");
    let during_backup = acks.load(Ordering::SeqCst) - before_backup;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("backed up to"), "{said}");
    assert!(
        said.contains(" 2 files, "),
        "both files are in the copy: {said}"
    );
    assert!(
        copy.with_file_name("confab-backup.db.files").is_dir(),
        "the files folder is beside the copy"
    );
    // The copy is never overwritten.
    let again = confab(&["backup", copy.to_str().unwrap()], data.path()).await;
    assert!(
        !again.status.success(),
        "a second backup to the same path must refuse"
    );

    let mark = acks.load(Ordering::SeqCst);
    wait_for(&acks, mark + ACKS_AFTER_BACKUP).await;

    // No restore over a database a server is using.
    let refused = confab(&["restore", copy.to_str().unwrap()], data.path()).await;
    assert!(
        !refused.status.success(),
        "restore must refuse while the server runs"
    );
    let why = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(why.contains("in use by another confab process"), "{why}");

    stop.store(true, Ordering::SeqCst);
    let mut acked = vec![("files-1".to_string(), first)];
    acked.extend(sender.await.expect("the sender"));
    server.kill();

    // Restore into a fresh folder and serve it.
    let fresh = tempfile::tempdir().unwrap();
    let out = confab(&["restore", copy.to_str().unwrap()], fresh.path()).await;
    assert!(out.status.success(), "confab restore failed: {out:?}");
    let restored_server = ChildServer::start(fresh.path(), &FAST).await;
    let mut reader = Client::new(connect_user(restored_server.addr, &users[1]).await);
    reader.ok(subscribe(room, None)).await;
    let restored = api_history(&mut reader, room).await;

    let k = restored.len();
    assert!(
        k as u64 >= before_backup,
        "the copy holds {k} messages, fewer than the {before_backup} acked before it began"
    );
    assert!(k <= acked.len(), "the copy holds more than was acked");
    assert_eq!(
        restored,
        acked[..k],
        "the restored history is exactly the first {k} acked messages, seqs 1..={k}"
    );
    assert!(
        restored
            .iter()
            .enumerate()
            .all(|(i, (_, seq))| *seq == i as u64 + 1),
        "seqs are gap-free from 1"
    );
    // The files came back with it.
    let base = format!("http://{}", restored_server.addr);
    let got = fetch(&base, &users[1], &format!("/files/{}", note.id)).await;
    assert_eq!(got, text, "the attachment, byte for byte");
    let got = fetch(&base, &users[1], &format!("/files/{}", picture.id)).await;
    assert_eq!(got, image, "the image, byte for byte");
    let thumb = fetch(&base, &users[1], &format!("/files/{}/thumb", picture.id)).await;
    assert!(
        image::load_from_memory(&thumb).is_ok(),
        "the thumbnail is an image"
    );
    // The restored server goes on from there.
    let mut writer = Client::new(connect_user(restored_server.addr, &users[0]).await);
    writer.ok(subscribe(room, None)).await;
    assert_eq!(
        expect_ack(&mut writer, room, "after-restore").await,
        k as u64 + 1
    );
    eprintln!(
        "backup: {before_backup} acked before it, {during_backup} during it, {} in all; the copy holds 1..={k}",
        acked.len()
    );
}

async fn wait_for(acks: &AtomicU64, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT * 6;
    while acks.load(Ordering::SeqCst) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} acks of {n}",
            acks.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `confab ARGS` on the data folder `data` (a process of its own, beside the server).
async fn confab(args: &[&str], data: &Path) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_confab"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("CONFAB_DATA_DIR", data)
        .env("CONFAB_LOG", "warn");
    tokio::task::spawn_blocking(move || command.output().expect("run confab"))
        .await
        .unwrap()
}

async fn expect_ack(client: &mut Client, room: RoomId, cmid: &str) -> Seq {
    match client
        .request(send(room, cmid, &format!("message {cmid}")))
        .await
    {
        ServerFrame::Ack { info, .. } => info.seq.expect("a send's ack names its seq"),
        other => panic!("{cmid}: expected an ack, got {other:?}"),
    }
}

/// `POST /files` as `user`: the stored file.
async fn upload(base: &str, user: &TestUser, room: RoomId, name: &str, bytes: Vec<u8>) -> FileView {
    let resp = upload_to(base, user, room, name, bytes).await;
    assert_eq!(resp.status(), 201, "upload {name}");
    resp.json().await.unwrap()
}

/// `GET path` as `user`: the body of a 200.
async fn fetch(base: &str, user: &TestUser, path: &str) -> Vec<u8> {
    let resp = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.bytes().await.unwrap().to_vec()
}
