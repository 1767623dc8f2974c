//! The readiness write probe on both engines: a fresh store (never written) can tell that
//! it writes, by the probe, which commits and leaves its table empty; a store whose last
//! commit is recent answers without a probe. (A store that cannot write is the fault
//! test's: `server/tests/faults/full_disk.rs`.)

use std::sync::Arc;
use store::Store;

async fn a_fresh_store_proves_it_can_write(store: Arc<dyn Store>, url: &str) {
    store
        .check_writes()
        .await
        .expect("the probe commits on a fresh store");
    // The probe leaves nothing behind: read its table straight from the database.
    let left: i64 = if url.starts_with("postgres") {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar("select count(*) from write_probe")
            .fetch_one(&mut c)
            .await
            .unwrap()
    } else {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar("select count(*) from write_probe")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(left, 0, "the probe's row is deleted in its own transaction");
    // Asked again at once, the last answer stands.
    store.check_writes().await.expect("still writable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_probe() {
    let db = store::testing::sqlite().await;
    a_fresh_store_proves_it_can_write(db.store.clone(), &db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_probe() {
    let Some(db) = store::testing::postgres().await else {
        return;
    };
    a_fresh_store_proves_it_can_write(db.store.clone(), &db.url).await;
}
