//! Silent deaths of a client: a connection that goes quiet without a FIN (the peer stops
//! reading and writing and never answers) on a two-node cluster whose nodes run a short
//! heartbeat. The server closes it with 4100 after twice the heartbeat; the user leaves
//! presence on both nodes within the grace period after that; and the connection's sender
//! ends, freeing its queued frames and its socket — also when the peer's receive buffer
//! is full and the server's writes are blocked (then long before the stuck bound).

use futures_util::{SinkExt, StreamExt};
use protocol::ids::RoomId;
use protocol::{CloseCode, ServerFrame};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Cluster, TestApp, TestUser, WAIT, Ws, expect_close, spawn_cluster_with};
use crate::roster::{View, keep_alive};
use crate::wsclient::{Client, subscribe};

/// The nodes' heartbeat: a connection silent for twice this long is closed.
const HEARTBEAT_SECS: u64 = 3;
const GRACE_MS: u64 = 1_000;
/// Far past anything these tests wait for: a sender that ends did not end by this bound.
const STUCK_SECS: u64 = 120;

/// From the last frame of a silent client to its leave on every node: the idle deadline,
/// the close's linger, the grace, a presence tick, and a wide margin for a loaded machine.
fn leave_bound() -> Duration {
    Duration::from_secs(2 * HEARTBEAT_SECS + 2) + Duration::from_millis(GRACE_MS) + WAIT
}

async fn cluster() -> Option<Cluster> {
    spawn_cluster_with(2, |s| {
        s.heartbeat_secs = HEARTBEAT_SECS;
        s.presence_grace_ms = GRACE_MS;
        s.stuck_secs = STUCK_SECS;
        // The smallest queue, so a peer that does not read fills it soon.
        s.queue_frames = 128;
    })
    .await
}

/// Ana on the first node and Bo on the second watch `room`; each sees the other.
struct Watchers {
    ana: (Client, View),
    bo: (Client, View),
}

impl Watchers {
    async fn start(a: &TestApp, b: &TestApp, ana: &TestUser, bo: &TestUser, room: RoomId) -> Self {
        let mut w = Watchers {
            ana: (Client::new(a.connect_as(ana).await), View::new(room)),
            bo: (Client::new(b.connect_as(bo).await), View::new(room)),
        };
        w.ana.0.ok(subscribe(room, None)).await;
        w.bo.0.ok(subscribe(room, None)).await;
        w.see(&[ana, bo], "the watchers see each other").await;
        w
    }

    /// Both views become `users`, within [`leave_bound`]; both clients keep pinging
    /// meanwhile (the heartbeat is short).
    async fn see(&mut self, users: &[&TestUser], what: &str) {
        let ids: Vec<_> = users.iter().map(|u| u.user.id).collect();
        let deadline = Instant::now() + leave_bound();
        while !(self.ana.1.is(&ids) && self.bo.1.is(&ids)) {
            assert!(
                Instant::now() < deadline,
                "{what}: after {:?} Ana sees {:?}, Bo sees {:?}, not {ids:?}",
                leave_bound(),
                self.ana.1.present,
                self.bo.1.present
            );
            let soon = (Instant::now() + Duration::from_millis(300)).min(deadline);
            for (client, view) in [&mut self.ana, &mut self.bo] {
                view.poll(client, soon).await;
            }
        }
    }
}

/// Waits until `a` runs `n` senders (polled, with a deadline), keeping the watchers alive.
async fn senders_back_to(a: &TestApp, n: usize, watchers: &mut Watchers, since: Instant) {
    let deadline = Instant::now() + WAIT;
    while a.gateway.senders_running() != n {
        assert!(
            Instant::now() < deadline,
            "the silent connection's sender still runs ({} running, {n} expected)",
            a.gateway.senders_running()
        );
        keep_alive(&mut watchers.ana.0).await;
        keep_alive(&mut watchers.bo.0).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "the silent connection's sender ended {:?} after its last frame",
        since.elapsed()
    );
    assert!(
        since.elapsed() < Duration::from_secs(STUCK_SECS),
        "freed by the heartbeat, not by the stuck bound"
    );
}

#[tokio::test]
async fn a_silent_subscriber_is_closed_with_4100_and_leaves_presence_on_every_node() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("si-ana").await;
    let bo = a.user("si-bo").await;
    let sil = a.user("si-sil").await;
    let room = a.public_room(&ana, "silent-plain").await;
    let mut watchers = Watchers::start(a, b, &ana, &bo, room).await;
    let senders = a.gateway.senders_running();

    let mut silent = Client::new(a.connect_as(&sil).await);
    silent.ok(subscribe(room, None)).await;
    watchers
        .see(&[&ana, &bo, &sil], "the silent one arrives")
        .await;
    // From here it neither reads nor writes, and its socket stays open (no FIN).
    let quiet_since = Instant::now();
    watchers.see(&[&ana, &bo], "the silent one leaves").await;
    let left_after = quiet_since.elapsed();
    eprintln!("a silent client left presence on both nodes {left_after:?} after its last frame");
    assert!(left_after >= Duration::from_secs(2 * HEARTBEAT_SECS));
    senders_back_to(a, senders, &mut watchers, quiet_since).await;

    // What the server last wrote to it, once it reads again: the 4100 close, then the end.
    let close = expect_close(&mut silent.ws).await;
    assert_eq!(u16::from(close.code), CloseCode::HeartbeatTimeout.code());
    assert!(
        tokio::time::timeout(WAIT, silent.ws.next())
            .await
            .expect("the server ended the TCP connection")
            .is_none_or(|m| m.is_err()),
    );
}

/// Bytes the kernel holds unsent (or unacknowledged) on the server's socket from
/// `server_port` to the client at `client_port` on the loopback (`/proc/net/tcp`).
fn kernel_send_queue(server_port: u16, client_port: u16) -> u64 {
    let local = format!("0100007F:{server_port:04X}");
    let remote = format!("0100007F:{client_port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 4 && f[1] == local && f[2] == remote)
        .and_then(|f| {
            f[4].split_once(':')
                .map(|(tx, _)| u64::from_str_radix(tx, 16).unwrap())
        })
        .expect("the server's socket to the silent client")
}

/// Sends `n` messages of `body_len` bytes to `room`, pipelined (all written, then every
/// ack read).
async fn burst(writer: &mut Ws, room: RoomId, from: usize, n: usize, body_len: usize) {
    let body = "x".repeat(body_len);
    for i in from..from + n {
        let frame = serde_json::json!({
            "type": "send", "req": 1_000 + i, "room": room,
            "client_msg_id": format!("flood-{i}"), "body": body,
        });
        writer.send(Message::text(frame.to_string())).await.unwrap();
    }
    let mut acked = 0;
    while acked < n {
        if let ServerFrame::Ack { .. } = crate::helpers::next_frame(writer).await {
            acked += 1;
        }
    }
}

#[tokio::test]
async fn a_silent_subscriber_with_a_full_receive_buffer_is_dropped_and_its_queue_freed() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("sf-ana").await;
    let bo = a.user("sf-bo").await;
    let sil = a.user("sf-sil").await;
    let wri = a.user("sf-wri").await;
    let lobby = a.public_room(&ana, "silent-lobby").await;
    let flood = a.public_room(&wri, "silent-flood").await;
    let mut watchers = Watchers::start(a, b, &ana, &bo, lobby).await;
    let mut writer = Client::new(a.connect_as(&wri).await);
    writer.ok(subscribe(flood, None)).await;
    let senders = a.gateway.senders_running();

    // The silent one's socket has a tiny receive buffer; it subscribes, then stops reading.
    let mut silent = Client::new(a.connect_slow(&sil).await);
    silent.ok(subscribe(lobby, None)).await;
    silent.ok(subscribe(flood, None)).await;
    watchers
        .see(&[&ana, &bo, &sil], "the silent one arrives")
        .await;

    // Messages pour into the flood room until the server's writes to it are blocked: the
    // kernel's send queue towards it stops growing while messages keep coming (its
    // receive window is shut), and its queue overflowed (the room switched to catch-up).
    // Meanwhile it still pings, so the heartbeat does not stop it yet; the writer reads
    // its own events as it goes.
    let server_port = a.addr.port();
    let client_port = match silent.ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(t) => t.local_addr().unwrap().port(),
        _ => unreachable!(),
    };
    let catch_ups = a.gateway.catch_ups();
    let deadline = Instant::now() + WAIT * 6;
    let (mut sent, mut queued, mut still) = (0, 0, 0);
    while still < 2 || a.gateway.catch_ups() == catch_ups {
        assert!(
            Instant::now() < deadline,
            "the server's writes never blocked ({queued} bytes queued in the kernel)"
        );
        keep_alive(&mut silent).await;
        keep_alive(&mut watchers.ana.0).await;
        keep_alive(&mut watchers.bo.0).await;
        burst(&mut writer.ws, flood, sent, 32, 4_000).await;
        sent += 32;
        let now = kernel_send_queue(server_port, client_port);
        still = if now > 0 && now == queued {
            still + 1
        } else {
            0
        };
        queued = now;
    }
    eprintln!(
        "the server's writes to the silent client blocked after {sent} messages, \
         {queued} bytes in the kernel's send queue"
    );

    // Now it is silent too, while messages keep coming, so the server's writes to it stay
    // blocked: closed by the heartbeat, gone from presence everywhere, and its sender —
    // in the middle of a blocked write — ends with it, long before the stuck bound.
    let quiet_since = Instant::now();
    let pouring = tokio::spawn(async move {
        let mut sent = sent;
        loop {
            burst(&mut writer.ws, flood, sent, 8, 4_000).await;
            sent += 8;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    watchers.see(&[&ana, &bo], "the silent one leaves").await;
    let left_after = quiet_since.elapsed();
    eprintln!(
        "a silent, blocked client left presence on both nodes {left_after:?} after its last frame"
    );
    senders_back_to(a, senders, &mut watchers, quiet_since).await;
    pouring.abort();
    assert!(
        pouring.await.unwrap_err().is_cancelled(),
        "the writer poured on until stopped"
    );

    // Reading again, it finds what the server managed to write, then the end of the
    // connection (the close frame could not get through a full socket).
    let deadline = Instant::now() + WAIT * 3;
    loop {
        let next = tokio::time::timeout_at(deadline, silent.ws.next())
            .await
            .expect("the server ended the TCP connection");
        match next {
            Some(Ok(Message::Close(frame))) => {
                if let Some(f) = frame {
                    assert_eq!(u16::from(f.code), CloseCode::HeartbeatTimeout.code());
                }
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        }
    }
}
