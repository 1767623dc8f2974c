//! The allocator the real binary runs on: jemalloc, with the background thread that gives
//! freed pages back to the system while the server is quiet (`server/src/main.rs`). The
//! idle-memory benchmark depends on both; a build that silently fell back to the system
//! allocator, or lost the option, would still pass every other test.

use crate::child::ChildServer;

#[tokio::test]
async fn the_server_runs_on_jemalloc_with_its_background_purge() {
    let data = tempfile::tempdir().unwrap();
    let server = ChildServer::start(data.path(), &[]).await;
    let threads = server.thread_names();
    let purgers = threads.iter().filter(|t| *t == "jemalloc_bg_thd").count();
    assert_eq!(
        purgers, 1,
        "one jemalloc background thread (max_background_threads:1), threads: {threads:?}"
    );
}
