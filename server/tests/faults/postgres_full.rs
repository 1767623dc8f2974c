//! Postgres out of space under a running server, for real: a PostgreSQL server of the
//! test's own runs in a mount namespace with a small tmpfs, Confab's database keeps its
//! tables and indexes in a tablespace there (`default_tablespace`), and the test fills the
//! tmpfs with a file (through `/proc/<postmaster>/root`) until the kernel says ENOSPC.
//! Postgres then fails every write that needs a new block with `53100 disk_full`. Sends go
//! on until one is refused; from then on every send is refused with `unavailable` and none
//! is acked, `/readyz` says 503, and a new connection still logs in, reads the history and
//! sees presence. The test deletes the file and, with nobody sending, `/readyz` must come
//! back to 200 by itself; the refused sends retried with their ids take the next seqs, and
//! the room's history is every acked message once, gap-free.
//!
//! The WAL stays on the ordinary disk: a full `pg_wal` makes Postgres PANIC and stop,
//! which is a crash (the `postgres_restart` test's subject), not a refusal.

use std::path::PathBuf;
use std::time::Duration;

use crate::full_disk::{fill, mount_namespace};
use crate::helpers::{TestApp, spawn_app_with};
use crate::own_postgres::OwnPostgres;
use crate::storage_fault::{
    assert_reads_go_on, assert_retries_take_the_next_seqs, refusals, start_writing, until_ready,
};
use crate::wsclient::Client;

/// The tablespace's file system.
const TMPFS_SIZE: &str = "8m";
/// Sends tried after the disk filled before one must have been refused (rows fit into
/// the free space of pages already there until those are full).
const MOST_SENDS_UNTIL_REFUSED: usize = 5000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_space_refuses_sends_keeps_reads_and_recovers_by_itself() {
    let Some(unshare) = mount_namespace() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the Postgres full-disk test needs `unshare --mount` (root or user namespaces)"
        );
        eprintln!("skipped: no mount namespace here (needs unshare --mount)");
        return;
    };
    let mount = tempfile::tempdir().unwrap();
    let mount = mount.path().join("small").to_string_lossy().to_string();
    let Some(pg) = OwnPostgres::start_with_tmpfs(unshare, &mount, TMPFS_SIZE).await else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(180), out_of_space(&pg, &mount))
        .await
        .expect("the test finishes within 180 s");
}

async fn out_of_space(pg: &OwnPostgres, mount: &str) {
    for statement in [
        format!("create tablespace small location '{mount}/ts'"),
        "create database confab".to_string(),
        "alter database confab set default_tablespace = small".to_string(),
    ] {
        pg.psql("postgres", &statement)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", pg.log()));
    }
    let url = pg.url_of("confab");
    let app = spawn_app_with(move |s| {
        s.database_url = Some(url);
        s.rate_per_sec = 100_000;
        s.rate_burst = 100_000;
    })
    .await;
    let writer_user = app.user("pgfull-writer").await;
    let reader_user = app.user("pgfull-reader").await;
    let room = app.public_room(&writer_user, "general").await;
    app.store
        .join_public(room, reader_user.user.id)
        .await
        .unwrap();
    let in_tablespace = pg
        .psql(
            "confab",
            "select count(*) from pg_class c join pg_tablespace t on t.oid = c.reltablespace \
             where t.spcname = 'small' and c.relname = 'messages'",
        )
        .await
        .unwrap();
    assert_eq!(
        in_tablespace, "1",
        "the messages table is on the small disk"
    );
    assert_eq!(readyz(&app).await.0, 200, "ready before the fault");

    let (mut writer, mut acked) = start_writing(app.connect_as(&writer_user).await, room).await;

    let filler = PathBuf::from(format!("/proc/{}/root{mount}", pg.pid())).join("filler");
    let filled = fill(&filler);
    eprintln!("filled the tablespace's tmpfs with {filled} bytes");

    let refused = refusals(
        &mut writer,
        room,
        &mut acked,
        MOST_SENDS_UNTIL_REFUSED,
        || readyz(&app),
        || pg.log(),
    )
    .await;
    let acked_on_full = acked.len() - 10;
    assert!(
        pg.log().contains("No space left on device"),
        "Postgres said why:\n{}",
        pg.log()
    );

    // Reads and presence during the fault.
    let mut reader = Client::new(app.connect_as(&reader_user).await);
    assert_reads_go_on(&mut reader, room, writer_user.user.id, &acked).await;

    // Space returns; nobody sends. Readiness recovers by itself (the write probe).
    std::fs::remove_file(&filler).expect("remove the filler");
    until_ready(|| readyz(&app), || pg.log()).await;
    assert_retries_take_the_next_seqs(&mut writer, &mut reader, room, &mut acked, &refused).await;
    eprintln!(
        "Postgres out of space: {acked_on_full} sends acked after the fill, {} refused, all retried and acked; {} messages gap-free",
        refused.len(),
        acked.len()
    );
}

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let r = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    (r.status().as_u16(), r.json().await.expect("a JSON body"))
}
