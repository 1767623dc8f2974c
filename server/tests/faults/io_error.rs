//! An I/O error under a running server, for real: the kernel answers `confab`'s writes to
//! its SQLite files with EIO, as a failing disk does. The test attaches `strace` to the
//! running server and has it fail every write and sync to the database and its WAL
//! (`-P` limits the injection to those paths; reads and the socket are untouched). From
//! then on every send is refused with `unavailable` and none is acked, `/readyz` says 503,
//! and a new connection still logs in, reads the history and sees presence. When the disk
//! answers again (strace detaches), readiness comes back by itself (the write probe), the
//! refused sends retried with their ids take the next seqs, and the history is every
//! acked message once.
//!
//! Needs `strace` and the right to trace the server (root, or a `ptrace_scope` that allows
//! it); with `CI` set, not having them fails the test.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::ChildServer;
use crate::helpers::connect_user;
use crate::seed;
use crate::storage_fault::{
    FAST, assert_reads_go_on, child_refusals, ready_writer, recovers_and_retries,
};
use crate::wsclient::Client;

/// Sends tried after the fault began before one must have been refused (strace attaches
/// to every thread of the server first, which takes a moment).
const MOST_SENDS_UNTIL_REFUSED: usize = 5000;

/// The system calls that write or sync a file, failed with EIO while the fault lasts.
const WRITES: &str = "pwrite64,pwritev,pwritev2,write,writev,fsync,fdatasync,ftruncate";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_refuses_sends_keeps_reads_and_recovers_by_itself() {
    if !strace_can_inject() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the I/O error test needs `strace` with the right to trace a child (root)"
        );
        eprintln!("skipped: strace cannot inject faults here");
        return;
    }
    tokio::time::timeout(Duration::from_secs(240), io_error())
        .await
        .expect("the test finishes within 240 s");
}

/// Whether `strace` is here and may inject a fault into a process it starts.
fn strace_can_inject() -> bool {
    Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "-e", "inject=write:error=EIO"])
        .args(["sh", "-c", "echo x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        // `echo` fails on EIO: the injection worked.
        .is_ok_and(|s| !s.success())
}

/// `strace` attached to every thread of `pid`, failing its writes and syncs of `files`
/// with EIO until it is dropped.
struct FailingDisk {
    strace: Child,
}

impl FailingDisk {
    fn start(pid: u32, files: &[&Path]) -> FailingDisk {
        let mut command = Command::new("strace");
        command.args(["-f", "-qq", "-o", "/dev/null", "-p", &pid.to_string()]);
        for file in files {
            command.arg("-P").arg(file);
        }
        command
            .args(["-e", &format!("trace={WRITES}")])
            .args(["-e", &format!("inject={WRITES}:error=EIO")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        FailingDisk {
            strace: command.spawn().expect("start strace"),
        }
    }

    /// The disk answers again: strace detaches (on SIGTERM it lets the process go on).
    fn end(mut self) {
        let pid = self.strace.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.strace.wait();
    }
}

impl Drop for FailingDisk {
    fn drop(&mut self) {
        let _ = self.strace.kill();
        let _ = self.strace.wait();
    }
}

async fn io_error() {
    let dir = tempfile::tempdir().unwrap();
    let handles = ["eio-writer".to_string(), "eio-reader".to_string()];
    let (users, room) = seed::users_and_room(dir.path(), &handles, "general").await;
    let server = ChildServer::start(dir.path(), &FAST).await;
    let (mut writer, mut acked) = ready_writer(&server, &users[0], room).await;

    let (db, wal) = (
        dir.path().join("confab.db"),
        dir.path().join("confab.db-wal"),
    );
    let fault = FailingDisk::start(server.pid(), &[&db, &wal]);
    let refused = child_refusals(
        &server,
        &mut writer,
        room,
        &mut acked,
        MOST_SENDS_UNTIL_REFUSED,
    )
    .await;
    let acked_before_refused = acked.len() - 10;

    // Reads and presence during the fault.
    let mut reader = Client::new(connect_user(server.addr, &users[1]).await);
    assert_reads_go_on(&mut reader, room, users[0].user.id, &acked).await;

    // The disk answers again; nobody sends. Readiness recovers by itself.
    fault.end();
    recovers_and_retries(
        &server,
        &mut writer,
        &mut reader,
        room,
        &mut acked,
        &refused,
    )
    .await;
    let log = server.log_text();
    assert!(
        log.contains("the store cannot write") && log.contains("disk I/O error"),
        "the server logged SQLite's I/O error as a storage fault:\n{log}"
    );
    eprintln!(
        "I/O error: {acked_before_refused} sends acked while strace attached, {} refused, all \
         retried and acked; {} messages gap-free",
        refused.len(),
        acked.len()
    );
}
