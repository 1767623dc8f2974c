//! The chaos run's end checks that are not the room logs' (those are `room_log`'s):
//! presence — every node's roster of every room lists exactly the users connected to it —
//! polled until it holds; and leaks — a node's alive tasks, open descriptors and resident
//! memory after the run against its baseline before the chaos.

use protocol::ServerFrame;
use protocol::ids::{RoomId, UserId};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

use crate::helpers::TestUser;
use crate::nodes::{Addrs, Usage};
use crate::peer::{Incoming, Peer};
use crate::wsclient::subscribe;

/// A room, who follows it (all connected at the end), and the user who reads its roster.
pub struct RoomFollowers<'a> {
    pub room: RoomId,
    pub users: BTreeSet<UserId>,
    pub probe: &'a TestUser,
}

/// The roster `addr` gives a fresh connection of `probe` subscribing to `room`.
async fn roster(
    addr: SocketAddr,
    probe: &TestUser,
    room: RoomId,
) -> Result<BTreeSet<UserId>, String> {
    let mut peer = Peer::connect(addr, &probe.token).await?;
    peer.request(subscribe(room, None))
        .await
        .map_err(|_| "ended before subscribing".to_string())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let found = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match peer.next(left).await {
            Incoming::Frame(ServerFrame::Presence {
                room: r,
                users,
                truncated,
                ..
            }) if r == room => {
                assert!(!truncated, "a truncated roster");
                break Ok(users.iter().map(|e| e.user.id).collect());
            }
            Incoming::Frame(ServerFrame::Error { code, message, .. }) => {
                break Err(format!("subscribe refused: {code:?} {message}"));
            }
            Incoming::Frame(_) => continue,
            Incoming::Ended => break Err("ended before the roster".into()),
            Incoming::Silent => break Err("no roster within 5 s".into()),
        }
    };
    peer.close_cleanly().await;
    found
}

/// Polls every node's roster of every room until each lists exactly the room's
/// followers; `Ok` with when that was first seen, `Err` describing the last difference
/// once `deadline` has passed.
pub async fn presence_converges(
    addrs: &Addrs,
    rooms: &[RoomFollowers<'_>],
    deadline: Instant,
) -> Result<Instant, String> {
    loop {
        let nodes = addrs.lock().unwrap().clone();
        // Every node's roster of every room, read at once.
        let reads = nodes.iter().enumerate().flat_map(|(i, &addr)| {
            rooms
                .iter()
                .map(move |r| async move { (i, r, roster(addr, r.probe, r.room).await) })
        });
        let mut wrong = None;
        for (i, r, read) in futures_util::future::join_all(reads).await {
            match read {
                Ok(listed) if listed == r.users => {}
                Ok(listed) => {
                    let ghosts: Vec<_> = listed.difference(&r.users).collect();
                    let missing: Vec<_> = r.users.difference(&listed).collect();
                    wrong = Some(format!(
                        "node {i}, room {}: ghosts {ghosts:?}, missing {missing:?}",
                        r.room
                    ));
                }
                Err(why) => wrong = Some(format!("node {i}, room {}: {why}", r.room)),
            }
        }
        match wrong {
            None => return Ok(Instant::now()),
            Some(why) if Instant::now() >= deadline => return Err(why),
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Checks a node's usage at the end against its baseline, allowing for the connections
/// it holds more than then (clients of killed or paused nodes move): per extra connection
/// 4 tasks and 2 descriptors, `slack` of each more and 64 MiB of memory. `Err` says what
/// grew past its bound.
pub fn no_leak(node: usize, base: Usage, end: Usage, slack: f64) -> Result<String, String> {
    let extra = (end.connections - base.connections).max(0.0);
    let tasks_bound = base.tasks + 4.0 * extra + slack;
    let fds_bound = base.fds as f64 + 2.0 * extra + slack;
    let rss_bound = base.rss_kib + 64 * 1024;
    let line = format!(
        "node {node}: connections {} -> {}, tasks {} -> {} (bound {tasks_bound}), fds {} -> {} (bound {fds_bound}), RSS {} -> {} KiB (bound {rss_bound})",
        base.connections,
        end.connections,
        base.tasks,
        end.tasks,
        base.fds,
        end.fds,
        base.rss_kib,
        end.rss_kib
    );
    if end.tasks <= tasks_bound && end.fds as f64 <= fds_bound && end.rss_kib <= rss_bound {
        Ok(line)
    } else {
        Err(line)
    }
}
