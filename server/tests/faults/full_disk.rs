//! A full disk under a running server, for real: `confab` on SQLite runs in a mount
//! namespace of its own whose data folder is a small tmpfs (4 MiB), and the test fills
//! that file system with a file (through `/proc/PID/root`) until the kernel says ENOSPC.
//! Sends go on until one is refused; from then on every send is refused with
//! `unavailable` and none is acked, `/readyz` says 503, and a new connection still logs in,
//! reads history and sees presence. The test then deletes the file and, with nobody
//! sending, `/readyz` must come back to 200 by itself (the write probe); the refused sends
//! retried with their ids are acked at the next seqs, and the room's history is every acked
//! message once, gap-free.
//!
//! Why a tmpfs and not `PRAGMA max_page_count`: the pragma is per connection, and the
//! server's connections are its own; a file system that is really full fails every
//! connection the way a disk does (the WAL's growth, the checkpoint, the commit). Mounting
//! needs `unshare` (root, or an unprivileged user namespace); where neither works the test
//! says so and passes only outside CI (with `CI` set it fails).

use protocol::ids::{RoomId, Seq};
use protocol::{ErrorCode, ServerFrame};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::ChildServer;
use crate::helpers::{WAIT, connect_user};
use crate::room_log::api_history;
use crate::seed;
use crate::wsclient::{Client, send, subscribe};

/// The data folder's file system.
const TMPFS_SIZE: &str = "4m";
/// Sends tried after the disk filled before one must have been refused (the WAL may have
/// room left inside its file for some).
const MOST_SENDS_UNTIL_REFUSED: usize = 5000;
/// Sends after the first refusal, each of which must be refused too.
const REFUSED_AFTER: usize = 3;

const FAST: [(&str, &str); 2] = [
    ("CONFAB_RATE_PER_SEC", "100000"),
    ("CONFAB_RATE_BURST", "100000"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_sends_keeps_reads_and_recovers_by_itself() {
    let Some(unshare) = mount_namespace() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the full-disk test needs `unshare --mount` (root or user namespaces)"
        );
        eprintln!("skipped: no mount namespace here (needs unshare --mount)");
        return;
    };
    tokio::time::timeout(Duration::from_secs(240), full_disk(unshare))
        .await
        .expect("the test finishes within 240 s");
}

/// The `unshare` arguments that give a private mount namespace here, if any.
pub(crate) fn mount_namespace() -> Option<Vec<&'static str>> {
    [
        vec!["unshare", "--mount", "--propagation", "private"],
        vec![
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
        ],
    ]
    .into_iter()
    .find(|args| {
        std::process::Command::new(args[0])
            .args(&args[1..])
            .args(["sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
            .status()
            .is_ok_and(|s| s.success())
    })
}

async fn full_disk(unshare: Vec<&'static str>) {
    // The database is made in a staging folder and copied onto the tmpfs at start.
    let stage = tempfile::tempdir().unwrap();
    let handles = ["disk-writer".to_string(), "disk-reader".to_string()];
    let (users, room) = seed::users_and_room(stage.path(), &handles, "general").await;
    let mount = tempfile::tempdir().unwrap();
    let script = format!(
        "mount -t tmpfs -o size={TMPFS_SIZE} tmpfs \"$0\" && cp -a \"$1\"/. \"$0\"/ && exec \"$2\""
    );
    let mut wrapper: Vec<&str> = unshare.clone();
    wrapper.extend(["sh", "-c", &script]);
    let (mount_s, stage_s) = (
        mount.path().to_str().unwrap().to_owned(),
        stage.path().to_str().unwrap().to_owned(),
    );
    wrapper.extend([mount_s.as_str(), stage_s.as_str()]);
    let server = ChildServer::start_wrapped(&wrapper, mount.path(), &FAST).await;
    let http = reqwest::Client::new();
    assert_eq!(
        readyz(&http, &server).await.0,
        200,
        "ready before the fault"
    );

    let mut writer = Client::new(connect_user(server.addr, &users[0]).await);
    writer.ok(subscribe(room, None)).await;
    let mut acked: Vec<(String, Seq)> = Vec::new();
    for i in 0..10 {
        let cmid = format!("before-{i}");
        let seq = expect_ack(&mut writer, room, &cmid).await;
        acked.push((cmid, seq));
    }

    // Fill the file system the server writes to (its view of the mount point).
    let filler = PathBuf::from(format!("/proc/{}/root{}", server.pid(), mount_s)).join("filler");
    let filled = fill(&filler);
    eprintln!("filled the data folder's tmpfs with {filled} bytes");

    // Send until a send is refused; every reply is an ack or `unavailable`.
    let mut refused: Vec<String> = Vec::new();
    for i in 0..MOST_SENDS_UNTIL_REFUSED {
        let cmid = format!("full-{i}");
        match writer.request(send(room, &cmid, &body(&cmid))).await {
            ServerFrame::Ack { info, .. } => acked.push((cmid, info.seq.expect("a seq"))),
            ServerFrame::Error { code, .. } => {
                assert_eq!(code, ErrorCode::Unavailable, "a full disk is `unavailable`");
                refused.push(cmid);
                break;
            }
            other => panic!("a send answered {other:?}"),
        }
    }
    assert_eq!(
        refused.len(),
        1,
        "no send refused in {MOST_SENDS_UNTIL_REFUSED} after the disk filled:\n{}",
        server.log_text()
    );
    let acked_on_full = acked.len() - 10;
    for i in 0..REFUSED_AFTER {
        let cmid = format!("refused-{i}");
        match writer.request(send(room, &cmid, &body(&cmid))).await {
            ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::Unavailable),
            other => panic!("a send on a full disk answered {other:?}"),
        }
        refused.push(cmid);
    }
    let (status, ready) = readyz(&http, &server).await;
    assert_eq!(status, 503, "not ready while the disk is full: {ready}");
    assert_eq!(ready["store_writable"], false, "{ready}");
    assert_eq!(ready["store_ok"], true, "reads still work: {ready}");

    // Reads and presence during the fault: a new connection logs in (its token's use time
    // cannot be written), subscribes, sees who is here and reads the history.
    let mut reader = Client::new(connect_user(server.addr, &users[1]).await);
    reader.ok(subscribe(room, None)).await;
    let presence = reader
        .push_where(|f| matches!(f, ServerFrame::Presence { .. }))
        .await;
    let ServerFrame::Presence { users: here, .. } = presence else {
        unreachable!()
    };
    assert!(
        here.iter().any(|p| p.user.id == users[0].user.id),
        "the writer is present: {here:?}"
    );
    let during = api_history(&mut reader, room).await;
    assert_eq!(
        during, acked,
        "history during the fault is every acked message, in order"
    );

    // Space returns; nobody sends. Readiness recovers by itself (the write probe).
    std::fs::remove_file(&filler).expect("remove the filler");
    let deadline = tokio::time::Instant::now() + WAIT * 3;
    loop {
        let (status, ready) = readyz(&http, &server).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still {status} {ready} after space returned:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The refused sends, retried with their ids, take the next seqs; new ones follow.
    let first = acked.last().unwrap().1 + 1;
    let retried = refused
        .iter()
        .cloned()
        .chain((0..5).map(|i| format!("after-{i}")));
    for (next, cmid) in (first..).zip(retried) {
        let seq = expect_ack(&mut writer, room, &cmid).await;
        assert_eq!(
            seq, next,
            "{cmid} takes the next seq: nothing refused was stored"
        );
        acked.push((cmid, seq));
    }
    let after = api_history(&mut reader, room).await;
    assert_eq!(
        after, acked,
        "the room's history is every acked message once"
    );
    eprintln!(
        "full disk: {acked_on_full} sends acked after the fill, {} refused, all retried and acked; {} messages gap-free",
        refused.len(),
        acked.len()
    );
}

fn body(cmid: &str) -> String {
    format!("message {cmid}")
}

async fn expect_ack(client: &mut Client, room: RoomId, cmid: &str) -> Seq {
    match client.request(send(room, cmid, &body(cmid))).await {
        ServerFrame::Ack { info, .. } => info.seq.expect("a send's ack names its seq"),
        other => panic!("{cmid}: expected an ack, got {other:?}"),
    }
}

/// `/readyz`'s status and body.
async fn readyz(http: &reqwest::Client, server: &ChildServer) -> (u16, serde_json::Value) {
    let r = http
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await
        .expect("GET /readyz");
    (r.status().as_u16(), r.json().await.expect("a JSON body"))
}

/// Writes `path` until its file system has no byte left; returns how many it took.
pub(crate) fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let mut written = 0u64;
    for chunk in [65536usize, 4096, 512, 1] {
        let bytes = vec![0x5a; chunk];
        loop {
            match file.write(&bytes) {
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(libc_enospc()) => break,
                Err(e) => panic!("filling: {e}"),
            }
        }
    }
    file.sync_all().ok();
    written
}

/// ENOSPC on Linux.
fn libc_enospc() -> i32 {
    28
}
