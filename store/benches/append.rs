//! Durable append throughput through group commit ([`GroupCommit`]), on SQLite (a file in a
//! temporary folder, `synchronous=FULL`) and Postgres (a fresh database on the local
//! server), for one hot room and for 100 rooms. Every append is committed before its
//! sender continues: this is the rate of acked sends.
//!
//! Run: `cargo bench -p store --bench append` (Postgres from CONFAB_TEST_DATABASE_URL or
//! DATABASE_URL, else the local server; its cases are left out when it is unreachable).
//! Each iteration sends `SENDERS × PER_SENDER` messages; criterion reports elements/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use protocol::names::{Body, ClientMsgId, DisplayName, Handle, RoomName};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::group_commit::GroupCommitConfig;
use store::{GroupCommit, RoomKind, Store, WriteCommand};

/// Concurrent senders (think: connections sending at once).
const SENDERS: usize = 200;
/// Messages each sender sends, one after another, per iteration.
const PER_SENDER: usize = 5;

struct Fixture {
    store: Arc<dyn Store>,
    writer: GroupCommit,
    author: protocol::ids::UserId,
    rooms: Vec<protocol::ids::RoomId>,
    counter: Arc<AtomicU64>,
}

async fn fixture(store: Arc<dyn Store>, rooms: usize) -> Fixture {
    let author = store
        .create_user(
            &Handle::parse("bench").unwrap(),
            &DisplayName::parse("Bench").unwrap(),
            "x",
        )
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for i in 0..rooms {
        let name = RoomName::parse(&format!("bench-{rooms}-{i}")).unwrap();
        ids.push(
            store
                .create_room(author, RoomKind::Public, &name, "")
                .await
                .unwrap()
                .id,
        );
    }
    Fixture {
        writer: GroupCommit::new(store.clone(), GroupCommitConfig::default()),
        store,
        author,
        rooms: ids,
        counter: Arc::new(AtomicU64::new(0)),
    }
}

async fn burst(f: &Fixture) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(SENDERS);
    for s in 0..SENDERS {
        let writer = f.writer.clone();
        let room = f.rooms[s % f.rooms.len()];
        let author = f.author;
        let counter = f.counter.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..PER_SENDER {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let cmd = WriteCommand::Send {
                    author,
                    client_msg_id: ClientMsgId::parse(&format!("b{n}")).unwrap(),
                    body: Body::parse("a typical short chat message, about sixty bytes long")
                        .unwrap(),
                    files: Vec::new(),
                };
                writer.write(room, cmd).await.expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn bench_backend(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    open: &dyn Fn() -> Option<Arc<dyn Store>>,
) {
    let mut group = c.benchmark_group(format!("append/{name}"));
    group.throughput(Throughput::Elements((SENDERS * PER_SENDER) as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    for rooms in [1usize, 100] {
        let Some(store) = open() else {
            eprintln!("SKIPPED append/{name}: backend unreachable");
            return;
        };
        let f = rt.block_on(fixture(store, rooms));
        let label = if rooms == 1 {
            "one_hot_room".to_string()
        } else {
            format!("{rooms}_rooms")
        };
        group.bench_function(label, |b| {
            b.to_async(rt).iter_custom(|iters| {
                let f = &f;
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += burst(f).await;
                    }
                    total
                }
            })
        });
        drop(f.store.clone());
    }
    group.finish();
}

fn appends(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let keep = std::sync::Mutex::new(Vec::new());
    let sqlite = || {
        let db = rt.block_on(store::testing::sqlite());
        let store = db.store.clone();
        keep.lock().unwrap().push(db);
        Some(store)
    };
    bench_backend(c, &rt, "sqlite", &sqlite);
    let postgres = || {
        let db = rt.block_on(store::testing::postgres())?;
        let store = db.store.clone();
        keep.lock().unwrap().push(db);
        Some(store)
    };
    bench_backend(c, &rt, "postgres", &postgres);
    drop(keep);
}

criterion_group!(benches, appends);
criterion_main!(benches);
