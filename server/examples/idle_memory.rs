//! Server memory per idle, subscribed connection.
//!
//! Seeds a SQLite data folder (one user with an API token, 100 public rooms), starts the
//! release `confab` binary on it as a separate process, opens N WebSocket connections that
//! each subscribe to one room and then stay quiet, and reads the server's resident memory
//! (VmRSS from /proc) before and after. The difference divided by N is the figure.
//!
//! ```sh
//! cargo build --release -p confab
//! cargo run --release -p confab --example idle_memory -- 10000
//! ```
//! The server binary is `$CARGO_TARGET_DIR/release/confab` (or `target/release/confab`);
//! set CONFAB_BIN to use another. Open files are capped per process on the machines this
//! was measured on (20,000), so one client process measures up to ~19,000 connections.

use futures_util::{SinkExt, StreamExt};
use protocol::names::{DisplayName, Handle, RoomName};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let data = tempfile::tempdir()?;
    let store = store::open(&store::StoreConfig {
        database_url: None,
        data_dir: data.path().into(),
    })
    .await?;
    let user = store
        .create_user(
            &Handle::parse("idle")?,
            &DisplayName::parse("Idle")?,
            "$argon2id$unused",
        )
        .await?;
    let token = app::ssr::tokens::generate();
    store
        .create_api_token(
            user.id,
            "idle",
            &app::ssr::tokens::lookup_hash(&token).expect("token"),
        )
        .await?;
    let mut rooms = Vec::new();
    for i in 0..100 {
        rooms.push(
            store
                .create_room(
                    user.id,
                    store::RoomKind::Public,
                    &RoomName::parse(&format!("idle-{i}"))?,
                    "",
                )
                .await?
                .id,
        );
    }
    drop(store);

    let bin = std::env::var("CONFAB_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/release/confab")
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = std::process::Command::new(&bin)
        .env("CONFAB_DATA_DIR", data.path())
        .env("CONFAB_BIND", format!("127.0.0.1:{port}"))
        .env("CONFAB_HEARTBEAT_SECS", "3600")
        .env("CONFAB_LOG", "warn")
        // Every connection comes from 127.0.0.1: lift the per-address cap (1,000 by default).
        .env("CONFAB_MAX_CONNS_PER_ADDR", "1000000")
        .env_remove("DATABASE_URL")
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting {bin}: {e}"))?;
    let pid = server.id();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let connect = |i: usize| {
        let url = url.clone();
        let token = token.clone();
        let room = rooms[i % rooms.len()];
        async move {
            let mut req = url.into_client_request()?;
            req.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static(protocol::SUBPROTOCOL),
            );
            req.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            );
            let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
            ws.next().await; // welcome
            let sub =
                serde_json::json!({"type": "subscribe", "req": 1, "room": room, "since_seq": 0});
            ws.send(Message::text(sub.to_string())).await?;
            ws.next().await; // ack
            Ok::<_, anyhow::Error>(ws)
        }
    };
    // Warm up: one connection, so that lazily built state does not count per connection.
    let warm = connect(0).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);

    let started = Instant::now();
    let mut sockets = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let batch = futures_util::future::join_all(chunk.iter().map(|&i| connect(i))).await;
        for ws in batch {
            sockets.push(ws?);
        }
    }
    let opened = started.elapsed();
    // Let the server settle (the snapshots and presence frames drain from the sockets).
    let mut settled = 0;
    for ws in sockets.iter_mut() {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await {
            settled += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let per_conn = (after.saturating_sub(before)) as f64 * 1024.0 / n as f64;
    println!(
        "{{\"connections\": {n}, \"rss_before_kib\": {before}, \"rss_after_kib\": {after}, \"bytes_per_connection\": {per_conn:.0}, \"open_secs\": {:.1}, \"frames_drained\": {settled}}}",
        opened.as_secs_f64()
    );
    drop(sockets);
    drop(warm);
    server.kill()?;
    server.wait()?;
    Ok(())
}
