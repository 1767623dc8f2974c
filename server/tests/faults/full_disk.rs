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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::ChildServer;
use crate::helpers::connect_user;
use crate::seed;
use crate::storage_fault::{
    FAST, assert_reads_go_on, child_refusals, ready_writer, recovers_and_retries,
};
use crate::wsclient::Client;

/// The data folder's file system.
const TMPFS_SIZE: &str = "4m";
/// Sends tried after the disk filled before one must have been refused (the WAL may have
/// room left inside its file for some).
const MOST_SENDS_UNTIL_REFUSED: usize = 5000;

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
    let (mut writer, mut acked) = ready_writer(&server, &users[0], room).await;

    // Fill the file system the server writes to (its view of the mount point).
    let filler = PathBuf::from(format!("/proc/{}/root{}", server.pid(), mount_s)).join("filler");
    let filled = fill(&filler);
    eprintln!("filled the data folder's tmpfs with {filled} bytes");

    // Send until a send is refused; every reply is an ack or `unavailable`.
    let refused = child_refusals(
        &server,
        &mut writer,
        room,
        &mut acked,
        MOST_SENDS_UNTIL_REFUSED,
    )
    .await;
    let acked_on_full = acked.len() - 10;

    // Reads and presence during the fault: a new connection logs in (its token's use time
    // cannot be written), subscribes, sees who is here and reads the history.
    let mut reader = Client::new(connect_user(server.addr, &users[1]).await);
    assert_reads_go_on(&mut reader, room, users[0].user.id, &acked).await;

    // Space returns; nobody sends. Readiness recovers by itself (the write probe).
    std::fs::remove_file(&filler).expect("remove the filler");
    recovers_and_retries(
        &server,
        &mut writer,
        &mut reader,
        room,
        &mut acked,
        &refused,
    )
    .await;
    eprintln!(
        "full disk: {acked_on_full} sends acked after the fill, {} refused, all retried and acked; {} messages gap-free",
        refused.len(),
        acked.len()
    );
}

/// `/readyz`'s status and body.
pub(crate) async fn readyz(
    http: &reqwest::Client,
    server: &ChildServer,
) -> (u16, serde_json::Value) {
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
