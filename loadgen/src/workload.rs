//! The workloads. All share one shape: connect every client, create the rooms (the first
//! member of each creates it, public) and subscribe everyone, then publish for the window,
//! drain until every acked message has reached every member (or the drain bound passes),
//! and report.
//!
//! - `fanout`: rooms of `room_size`, `publishers` per room at `rate` messages/s each.
//! - `bigroom`: the same with one room holding every client.
//! - `idle`: no publishers; everyone subscribed and quiet for the window; with the
//!   server's pid, reports its memory per connection.
//! - `sends`: durable sends as fast as the server acks them: every client of rooms of
//!   `room_size` publishes closed-loop (its next send as soon as the last is acked), so
//!   acked sends/s and send → ack latency are the figures; deliveries are still checked.
//! - `reconnect-storm`: `fanout`, but halfway through the window every connection drops
//!   at once, reconnects and resumes its room from the last seq it saw; reports how long
//!   until all had resumed, and (as always) what was lost or repeated.

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;
use protocol::ServerFrame;
use protocol::ids::{RoomId, Seq};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::bots::Bot;
use crate::conn::{Target, Ws, connect, next_frame, request, request_until_taken};
use crate::report::{Latency, Report, StepTimes, StormStepTimes};
use crate::session::{self, Live, Pace, Phase, Plan, Reconnect, STORM_BOUND};
use crate::sys;

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub workload: String,
    pub clients: usize,
    pub room_size: usize,
    pub publishers_per_room: usize,
    pub rate_per_publisher: f64,
    /// Publishers send their next message as soon as the last is acked (one in flight
    /// each) instead of at `rate_per_publisher`.
    pub closed_loop: bool,
    pub window: Duration,
    /// How long to wait after the window for deliveries still on their way.
    pub drain: Duration,
    /// Connections opened at the same time during set-up.
    pub parallel: usize,
    /// Every paced publisher sends at the same instant (one burst per period) instead of
    /// at its own offset within the period.
    pub lockstep: bool,
    pub server_pid: Option<u32>,
}

/// Rooms needed for `clients` in rooms of `room_size`.
pub fn room_count(clients: usize, room_size: usize) -> usize {
    clients.div_ceil(room_size.max(1))
}

/// A short id that keeps this run's room names apart from earlier runs'.
fn run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{ms:x}")
}

/// Subscribes and returns the room's seq from the snapshot that follows the ack.
async fn subscribe(ws: &mut Ws, room: RoomId) -> anyhow::Result<Seq> {
    request_until_taken(
        ws,
        2,
        serde_json::json!({"type": "subscribe", "room": room}),
    )
    .await?;
    loop {
        if let ServerFrame::Snapshot { last_seq, .. } = next_frame(ws).await? {
            return Ok(last_seq);
        }
    }
}

/// Deliveries missing per connection, split by whether the connection was there to
/// receive them: a resumed (or never dropped) connection that is short lost events; one
/// that gave up was stranded.
#[derive(Debug, Default)]
struct LossSplit {
    stranded: u64,
    short_connections: u64,
    short_connected: u64,
    short_stranded: u64,
}

impl LossSplit {
    fn add(&mut self, storm: bool, o: &session::Outcome, owed: u64) {
        let short = owed.saturating_sub(o.received);
        let stranded = storm && !o.resumed;
        self.stranded += u64::from(stranded);
        if short > 0 {
            self.short_connections += 1;
            if stranded {
                self.short_stranded += short;
            } else {
                self.short_connected += short;
            }
        }
    }
}

/// Runs `spec` against `target` as `bots` (at least `spec.clients` of them).
pub async fn run(target: &Target, bots: &[Bot], spec: &Spec) -> anyhow::Result<Report> {
    anyhow::ensure!(
        bots.len() >= spec.clients,
        "{} clients need {} bots; the bots file has {}",
        spec.clients,
        spec.clients,
        bots.len()
    );
    let rooms = room_count(spec.clients, spec.room_size);
    let room_of = |i: usize| i / spec.room_size.max(1);
    let rss_before = spec.server_pid.and_then(sys::rss_kib);

    let live = Arc::new(Live {
        acked_by_room: (0..rooms).map(|_| AtomicU64::new(0)).collect(),
        ..Live::default()
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let storm = spec.workload == "reconnect-storm";
    let shared_target = Arc::new(target.clone());
    let pace = if spec.closed_loop {
        Some(Pace::ClosedLoop)
    } else {
        (spec.rate_per_publisher > 0.0)
            .then(|| Pace::Every(Duration::from_secs_f64(1.0 / spec.rate_per_publisher)))
    };
    // Each client's session starts as soon as it is subscribed, so that it reads and
    // pings while the others are still being set up.
    let period = match pace {
        Some(Pace::Every(every)) => every,
        _ => Duration::ZERO,
    };
    let publishers = rooms * spec.publishers_per_room;
    let start = |i: usize, ws: Ws, room: RoomId, seen: Seq| {
        let r = room_of(i);
        // This client's place among the room's members, and among all publishers.
        let k = i - r * spec.room_size;
        let offset = session::publish_offset(
            r * spec.publishers_per_room + k,
            publishers,
            period,
            spec.lockstep,
        );
        let plan = Plan {
            index: i,
            room,
            room_index: r,
            seen,
            pace: pace.filter(|_| k < spec.publishers_per_room),
            offset,
            reconnect: storm.then(|| Reconnect {
                target: shared_target.clone(),
                token: bots[i].token.clone(),
            }),
        };
        tokio::spawn(session::run(ws, plan, live.clone(), phase_rx.clone()))
    };
    let mut tasks = Vec::with_capacity(spec.clients);

    // The first member of each room creates it (public) and subscribes.
    let tag = run_id();
    let mut room_ids: Vec<Option<RoomId>> = vec![None; rooms];
    {
        let mut created = stream::iter(0..rooms)
            .map(|r| {
                let name = format!("lg-{tag}-{r}");
                let i = r * spec.room_size;
                async move {
                    let mut ws = connect(target, &bots[i].token, i).await?;
                    let frame =
                        serde_json::json!({"type": "create_room", "name": name, "private": false});
                    let room = match request(&mut ws, 1, frame).await? {
                        ServerFrame::Ack { info, .. } => {
                            info.room.context("create_room acked without a room")?
                        }
                        other => anyhow::bail!("create_room answered {other:?}"),
                    };
                    let seen = subscribe(&mut ws, room).await?;
                    anyhow::Ok((r, i, ws, room, seen))
                }
            })
            .buffer_unordered(spec.parallel.max(1));
        while let Some(done) = created.next().await {
            let (r, i, ws, room, seen) = done.context("setting up a room")?;
            room_ids[r] = Some(room);
            tasks.push(start(i, ws, room, seen));
        }
    }
    let room_ids: Vec<RoomId> = room_ids
        .into_iter()
        .map(|r| r.context("a room was not created"))
        .collect::<anyhow::Result<_>>()?;
    // Everyone else connects and subscribes.
    {
        let room_ids = &room_ids;
        let mut joined = stream::iter((0..spec.clients).filter(|i| i % spec.room_size.max(1) != 0))
            .map(|i| async move {
                let room = room_ids[room_of(i)];
                let mut ws = connect(target, &bots[i].token, i)
                    .await
                    .with_context(|| format!("connecting client {i}"))?;
                let seen = subscribe(&mut ws, room)
                    .await
                    .with_context(|| format!("subscribing client {i}"))?;
                anyhow::Ok((i, ws, room, seen))
            })
            .buffer_unordered(spec.parallel.max(1));
        while let Some(done) = joined.next().await {
            let (i, ws, room, seen) = done?;
            tasks.push(start(i, ws, room, seen));
        }
    }
    // Let the server settle (presence ticks, buffers) before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = spec.server_pid.and_then(sys::rss_kib);

    // Run.
    let cpu_start = sys::cpu_seconds();
    let server_cpu_start = spec.server_pid.and_then(sys::cpu_seconds_of);
    let started = Instant::now();
    let _ = phase_tx.send(Phase::Run);
    let mut storm_resume = None;
    if storm {
        tokio::time::sleep(spec.window / 2).await;
        let began = Instant::now();
        let _ = phase_tx.send(Phase::Storm);
        let bound = began + STORM_BOUND;
        while live.resumed.load(Ordering::Relaxed) < spec.clients as u64 && Instant::now() < bound {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        storm_resume = Some(began.elapsed());
        let _ = phase_tx.send(Phase::Run);
        tokio::time::sleep(spec.window / 2).await;
    } else {
        tokio::time::sleep(spec.window).await;
    }
    let _ = phase_tx.send(Phase::Drain);
    let sizes: Vec<u64> = (0..rooms)
        .map(|r| (spec.clients - r * spec.room_size).min(spec.room_size) as u64)
        .collect();
    let expected = || -> u64 {
        live.acked_by_room
            .iter()
            .zip(&sizes)
            .map(|(a, s)| a.load(Ordering::Relaxed) * s)
            .sum()
    };
    let drain_until = Instant::now() + spec.drain;
    // Done when every send was answered and every acked message reached every member.
    let settled = || {
        let answered = live.acked.load(Ordering::Relaxed) + live.refused.load(Ordering::Relaxed);
        answered >= live.sent.load(Ordering::Relaxed)
            && live.delivered.load(Ordering::Relaxed) >= expected()
    };
    while !settled() && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let cpu = match (cpu_start, sys::cpu_seconds()) {
        (Some(a), Some(b)) => Some((b - a) / elapsed.as_secs_f64() * 100.0),
        _ => None,
    };
    let server_cpu = match (
        server_cpu_start,
        spec.server_pid.and_then(sys::cpu_seconds_of),
    ) {
        (Some(a), Some(b)) => Some((b - a) / elapsed.as_secs_f64() * 100.0),
        _ => None,
    };
    let _ = phase_tx.send(Phase::Stop);

    let mut latency = session::latency_histogram();
    let mut ack_latency = session::latency_histogram();
    let (mut delivered, mut lost, mut duplicates, mut dropped) = (0, 0, 0, 0);
    let mut split = LossSplit::default();
    let mut steps: [Vec<Duration>; 5] = Default::default();
    for t in tasks {
        let o = t.await.context("a session task panicked")?;
        latency.add(&o.latency_us).expect("same bounds");
        ack_latency.add(&o.ack_us).expect("same bounds");
        delivered += o.received;
        lost += o.lost;
        duplicates += o.duplicates;
        dropped += usize::from(o.dropped);
        let owed = room_ids
            .iter()
            .position(|r| *r == o.room)
            .map_or(0, |r| live.acked_by_room[r].load(Ordering::Relaxed));
        split.add(storm, &o, owed);
        if let Some(st) = o.storm_steps {
            steps[0].push(st.close);
            steps[1].push(st.tcp);
            steps[2].push(st.upgrade);
            steps[3].push(st.welcome);
            steps[4].push(st.subscribe);
        }
    }
    let expected = expected();
    // What never arrived counts as lost even when no later event showed the gap.
    lost = lost.max(expected.saturating_sub(delivered));
    let secs = elapsed.as_secs_f64();
    let acked = live.acked.load(Ordering::Relaxed);
    Ok(Report {
        storm_resume_s: storm_resume.map(|d| d.as_secs_f64()),
        storm_resumed: storm.then(|| live.resumed.load(Ordering::Relaxed)),
        storm_retries: storm.then(|| live.retries.load(Ordering::Relaxed)),
        storm_steps_ms: storm.then(|| {
            let [close, tcp, upgrade, welcome, subscribe] = steps.map(StepTimes::of);
            StormStepTimes {
                close,
                tcp,
                upgrade,
                welcome,
                subscribe,
            }
        }),
        storm_stranded: storm.then_some(split.stranded),
        short_connections: split.short_connections,
        short_deliveries_connected: split.short_connected,
        short_deliveries_stranded: split.short_stranded,
        resent: live.resent.load(Ordering::Relaxed),
        workload: spec.workload.clone(),
        clients: spec.clients,
        rooms,
        room_size: spec.room_size.min(spec.clients),
        publishers: rooms * spec.publishers_per_room.min(spec.room_size),
        rate_per_publisher: spec.rate_per_publisher,
        closed_loop: spec.closed_loop,
        lockstep: spec.lockstep,
        window_s: spec.window.as_secs_f64(),
        elapsed_s: secs,
        sent: live.sent.load(Ordering::Relaxed),
        acked,
        refused: live.refused.load(Ordering::Relaxed),
        expected,
        delivered,
        lost,
        duplicates,
        dropped,
        deliveries_per_s: delivered as f64 / secs,
        acked_per_s: acked as f64 / secs,
        latency_ms: Latency::of(&latency),
        ack_latency_ms: Latency::of(&ack_latency),
        generator_cpu_pct: cpu,
        server_cpu_pct: server_cpu,
        server_rss_kib_before: rss_before,
        server_rss_kib_connected: rss_connected,
        server_bytes_per_connection: match (rss_before, rss_connected) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) * 1024 / spec.clients.max(1) as u64),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_fill_rooms_in_order() {
        assert_eq!(room_count(2000, 100), 20);
        assert_eq!(room_count(2001, 100), 21);
        assert_eq!(room_count(5, 0), 5);
    }
}
