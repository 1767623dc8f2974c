//! The task that owns one connection during a run: it reads every frame (timing each
//! message event against the send time written in its body, and checking the room's seq
//! for gaps and repeats), publishes at its rate while the run is on, and pings so that a
//! long idle run is not closed for silence. In a storm it drops its connection, opens a
//! new one and resumes the room from the last seq it saw, as a real client would: a
//! failed attempt is tried again after a growing wait, for at most [`STORM_BOUND`].
//! Every send is timed until its answer (send → ack). A closed-loop publisher (`sends`)
//! has one send in flight and sends the next as soon as the answer comes.

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::ServerFrame;
use protocol::ids::{RoomId, Seq};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{ConnectSteps, Target, Ws, connect_timed, request};

mod scan;
#[cfg(test)]
mod tests;

use scan::has_type;
pub use scan::{ScannedEvent, scan_event};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Others are still being set up: read and ping only.
    Setup,
    /// Publishers publish.
    Run,
    /// Publishing has stopped; readers keep reading what is still on its way.
    Drain,
    /// Every connection drops at once, reconnects and resumes (publishers pause).
    Storm,
    /// Close and report.
    Stop,
}

/// How a publisher paces its sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// One message this often.
    Every(Duration),
    /// The next message as soon as the last one is answered (one in flight).
    ClosedLoop,
}

/// When publisher `k` of `total` first sends, for messages every `period`: spread evenly
/// over one period, so that the offered load is steady, as independent people typing
/// would make it; `lockstep` puts every publisher at zero, one burst of `total` sends per
/// period (a bursty load, kept to compare against).
pub fn publish_offset(k: usize, total: usize, period: Duration, lockstep: bool) -> Duration {
    if lockstep || total == 0 {
        return Duration::ZERO;
    }
    period.mul_f64(k as f64 / total as f64)
}

/// What one connection does during the run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub index: usize,
    pub room: RoomId,
    /// The room's place in [`Live::acked_by_room`].
    pub room_index: usize,
    /// The room's seq this connection has seen up to (its snapshot's `last_seq`).
    pub seen: Seq,
    /// How this connection publishes while the run is on (`None`: it only receives).
    pub pace: Option<Pace>,
    /// How long after the run starts a paced publisher sends its first message. Spread
    /// over one period across all publishers, so that they do not all fire in the same
    /// instant (see [`publish_offset`]).
    pub offset: Duration,
    /// How to connect again in a storm (`None`: this run has no storm).
    pub reconnect: Option<Reconnect>,
}

/// What a session needs to open a new connection.
#[derive(Debug, Clone)]
pub struct Reconnect {
    pub target: Arc<Target>,
    pub token: String,
}

/// Counters every session adds to, read while the run goes on.
#[derive(Debug, Default)]
pub struct Live {
    pub delivered: AtomicU64,
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub refused: AtomicU64,
    /// Acked sends per room: what every member of that room must receive.
    pub acked_by_room: Vec<AtomicU64>,
    /// Sessions that reconnected and resumed after the storm.
    pub resumed: AtomicU64,
    /// Sends whose connection dropped before their answer, sent again after the resume
    /// with the same client id (the server acks a stored one as a duplicate).
    pub resent: AtomicU64,
    /// Resume attempts that failed and were tried again.
    pub retries: AtomicU64,
}

/// What one connection saw.
#[derive(Debug)]
pub struct Outcome {
    pub room: RoomId,
    /// End-to-end latency of each message event, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Send → ack latency of each of this connection's acked sends, in microseconds.
    pub ack_us: Histogram<u64>,
    pub received: u64,
    pub lost: u64,
    pub duplicates: u64,
    /// Sends of this connection the server acked.
    pub acked: u64,
    /// Whether the server closed the connection (or it failed) before the end.
    pub dropped: bool,
    /// Whether it reconnected and resumed after a storm.
    pub resumed: bool,
    /// How long each step of its resume took (the last, successful attempt).
    pub storm_steps: Option<StormSteps>,
}

/// The steps of one client's resume in a storm.
#[derive(Debug, Clone, Copy)]
pub struct StormSteps {
    /// Closing the old connection (sending the close frame).
    pub close: Duration,
    /// The TCP handshake.
    pub tcp: Duration,
    /// The HTTP upgrade until `101` (the server authenticates first).
    pub upgrade: Duration,
    /// From `101` to `welcome`.
    pub welcome: Duration,
    /// The subscribe with `since_seq` until its ack.
    pub subscribe: Duration,
}

impl Outcome {
    /// Nothing seen yet, for a connection to `room`.
    pub fn new(room: RoomId) -> Outcome {
        Outcome {
            room,
            latency_us: latency_histogram(),
            ack_us: latency_histogram(),
            received: 0,
            lost: 0,
            duplicates: 0,
            acked: 0,
            dropped: false,
            resumed: false,
            storm_steps: None,
        }
    }
}

/// A fresh latency histogram in µs, 3 significant digits, for values up to 10 minutes.
///
/// It starts small and grows to the largest value recorded: every connection has two, and
/// at the full range (1 µs to 10 min, three significant digits) each would take about
/// 250 KB up front, 8 GB for 16,000 connections that may never record a thing.
pub fn latency_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 1_000, 3).expect("valid bounds");
    h.auto(true);
    h
}

pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Heartbeat interval: well inside the server's default (25 s, closed after 50 s).
const PING_EVERY: Duration = Duration::from_secs(20);

/// Runs one connection until the phase becomes [`Phase::Stop`].
pub async fn run(
    mut ws: Ws,
    plan: Plan,
    live: Arc<Live>,
    mut phase: watch::Receiver<Phase>,
) -> Outcome {
    let mut out = Outcome::new(plan.room);
    let mut last = plan.seen;
    let mut req: u64 = 1_000;
    let closed_loop = plan.pace == Some(Pace::ClosedLoop);
    // Only polled for `Pace::Every`.
    let mut publish = tokio::time::interval(match plan.pace {
        Some(Pace::Every(every)) => every,
        _ => Duration::from_secs(3600),
    });
    publish.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut current = *phase.borrow();
    let room = plan.room.to_string();
    // Sends not answered yet, by request id: (client id, body), to send again if the
    // connection drops before their answer.
    let mut outstanding: std::collections::HashMap<u64, (String, String)> = Default::default();
    // When each unanswered send left, by request id (sends only: pings are not timed).
    let mut sent_at: std::collections::HashMap<u64, Instant> = Default::default();
    let mut stormed = false;
    loop {
        if current == Phase::Storm && !stormed {
            stormed = true;
            let Some(r) = &plan.reconnect else {
                continue;
            };
            let began = Instant::now();
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
            let closed = began.elapsed();
            // The old connection is gone before the new one opens, as a dropped client's
            // is: holding both, 10,000 clients would need 20,000 descriptors at once.
            drop(ws);
            match resume_until(r, &plan, last, &live).await {
                Some((fresh, connected, subscribed)) => {
                    ws = fresh;
                    out.storm_steps = Some(StormSteps {
                        close: closed,
                        tcp: connected.tcp,
                        upgrade: connected.upgrade,
                        welcome: connected.welcome,
                        subscribe: subscribed,
                    });
                    out.resumed = true;
                    live.resumed.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    out.dropped = true;
                    return out;
                }
            }
            // What was in flight goes again, in order, with the same client ids.
            let mut unanswered: Vec<(u64, (String, String))> = outstanding.drain().collect();
            unanswered.sort_by_key(|(req, _)| *req);
            let mut failed = false;
            sent_at.clear();
            for (_, (cmid, body)) in unanswered {
                req += 1;
                let frame = send_frame(req, &room, &cmid, &body);
                if ws.send(Message::text(frame)).await.is_err() {
                    failed = true;
                    break;
                }
                live.resent.fetch_add(1, Ordering::Relaxed);
                sent_at.insert(req, Instant::now());
                outstanding.insert(req, (cmid, body));
            }
            if failed {
                out.dropped = true;
                break;
            }
        }
        let publishing = plan.pace.is_some() && current == Phase::Run;
        // A closed-loop publisher goes as soon as nothing of its own is unanswered.
        let go_now = publishing && closed_loop && sent_at.is_empty();
        tokio::select! {
            msg = ws.next() => {
                let Some(Ok(msg)) = msg else {
                    out.dropped = true;
                    break;
                };
                let Message::Text(text) = msg else {
                    if matches!(msg, Message::Close(_)) {
                        out.dropped = true;
                        break;
                    }
                    continue;
                };
                // Room events are nearly all the traffic: read them without parsing.
                if count_event(&mut out, &mut last, &live, text.as_str()) {
                    continue;
                }
                // Of the rest, only replies and snapshots matter here; presence and typing
                // (a lot of traffic in big rooms) are skipped unparsed.
                if !["ack", "error", "snapshot"].iter().any(|t| has_type(text.as_str(), t)) {
                    continue;
                }
                let Ok(frame) = serde_json::from_str::<ServerFrame>(text.as_str()) else {
                    continue;
                };
                match frame {
                    ServerFrame::Snapshot { last_seq, .. } => {
                        // Fell past the resume bound: what the snapshot skipped was never
                        // delivered as events.
                        out.lost += last_seq.saturating_sub(last);
                        last = last.max(last_seq);
                    }
                    ServerFrame::Ack { req: answered, .. } => {
                        outstanding.remove(&answered);
                        if let Some(at) = sent_at.remove(&answered) {
                            let _ = out.ack_us.record((at.elapsed().as_micros() as u64).max(1));
                        }
                        out.acked += 1;
                        live.acked.fetch_add(1, Ordering::Relaxed);
                        live.acked_by_room[plan.room_index].fetch_add(1, Ordering::Relaxed);
                    }
                    ServerFrame::Error { req: answered, .. } => {
                        if let Some(answered) = answered {
                            outstanding.remove(&answered);
                            sent_at.remove(&answered);
                        }
                        live.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
            _ = publish.tick(), if publishing && !closed_loop => {
                if !claim_send(&phase, &live) {
                    current = *phase.borrow();
                    continue;
                }
                req += 1;
                if publish_one(&mut ws, &plan, &room, req, &mut outstanding, &mut sent_at).await.is_err() {
                    out.dropped = true;
                    break;
                }
            }
            () = std::future::ready(()), if go_now => {
                if !claim_send(&phase, &live) {
                    current = *phase.borrow();
                    continue;
                }
                req += 1;
                if publish_one(&mut ws, &plan, &room, req, &mut outstanding, &mut sent_at).await.is_err() {
                    out.dropped = true;
                    break;
                }
            }
            _ = ping.tick() => {
                req += 1;
                let frame = serde_json::json!({"type": "ping", "req": req});
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    out.dropped = true;
                    break;
                }
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                let previous = current;
                current = *phase.borrow();
                if current == Phase::Stop {
                    break;
                }
                // The run begins: a paced publisher's first send comes at its offset.
                if previous == Phase::Setup && current == Phase::Run {
                    publish.reset_at(tokio::time::Instant::now() + plan.offset);
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    out
}

/// Whether a publisher may send now: only while the run is on. A send is counted here,
/// before it leaves (its deliveries may be counted before this task runs again), and
/// under the phase's read lock: the run moves to `Drain` only after every send that saw
/// `Run` has been counted, so the drain waits for each of them. (Otherwise a task that
/// has not yet seen the phase change could send once more after the drain settled, and
/// its deliveries, owed to nobody, would show as more delivered than expected.)
fn claim_send(phase: &watch::Receiver<Phase>, live: &Live) -> bool {
    let now = phase.borrow();
    if *now != Phase::Run {
        return false;
    }
    live.sent.fetch_add(1, Ordering::Relaxed);
    true
}

/// Sends one message of `plan`'s publisher as request `req` (counted by [`claim_send`]),
/// its body holding the time it left; keeps what a resume needs to send it again and when
/// it left.
async fn publish_one(
    ws: &mut Ws,
    plan: &Plan,
    room: &str,
    req: u64,
    outstanding: &mut std::collections::HashMap<u64, (String, String)>,
    sent_at: &mut std::collections::HashMap<u64, Instant>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let (cmid, body) = (
        format!("lg-{}-{req}", plan.index),
        format!("lg {}", now_nanos()),
    );
    sent_at.insert(req, Instant::now());
    ws.send(Message::text(send_frame(req, room, &cmid, &body)))
        .await?;
    if plan.reconnect.is_some() {
        outstanding.insert(req, (cmid, body));
    }
    Ok(())
}

/// Accounts for `text` if it is a room event: a repeat or a gap against `last`, and for a
/// new message its delivery and end-to-end latency. `false` if it is not an event. This is
/// the whole per-frame cost of the generator's hot path (`selftest` measures it).
pub fn count_event(out: &mut Outcome, last: &mut Seq, live: &Live, text: &str) -> bool {
    let Some(event) = scan_event(text) else {
        return false;
    };
    if event.seq <= *last {
        out.duplicates += 1;
        return true;
    }
    out.lost += event.seq - *last - 1;
    *last = event.seq;
    if !event.message {
        return true;
    }
    out.received += 1;
    live.delivered.fetch_add(1, Ordering::Relaxed);
    if let Some(sent) = event.sent_nanos {
        let us = now_nanos().saturating_sub(sent) / 1_000;
        let _ = out.latency_us.record(us.max(1));
    }
    true
}

/// A `send` request, encoded.
fn send_frame(req: u64, room: &str, cmid: &str, body: &str) -> String {
    serde_json::json!({
        "type": "send", "req": req, "room": room, "client_msg_id": cmid, "body": body,
    })
    .to_string()
}

/// How long a storm's client keeps trying to resume before it gives up (stranded).
pub const STORM_BOUND: Duration = Duration::from_secs(60);
/// A storm client's first wait after a failed attempt; doubled each time, to at most
/// [`RETRY_MAX`], with jitter, as the browser client does.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(4);

/// Resumes as a real client would: on a failed attempt (refused, closed, timed out) it
/// waits and tries again, until [`STORM_BOUND`] has passed. `None`: it gave up.
async fn resume_until(
    r: &Reconnect,
    plan: &Plan,
    last: Seq,
    live: &Live,
) -> Option<(Ws, ConnectSteps, Duration)> {
    let give_up = Instant::now() + STORM_BOUND;
    let mut wait = RETRY_FIRST;
    loop {
        let attempt =
            tokio::time::timeout_at(give_up.into(), resume(r, plan.index, plan.room, last)).await;
        match attempt {
            Ok(Ok(resumed)) => return Some(resumed),
            Ok(Err(err)) => {
                if live.retries.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("storm: a resume failed (retrying): {err:#}");
                }
            }
            Err(_) => return None,
        }
        // Jitter from the connection's index: spread, but repeatable.
        let jitter = wait.mul_f64((plan.index % 97) as f64 / 194.0);
        if Instant::now() + wait + jitter >= give_up {
            return None;
        }
        tokio::time::sleep(wait + jitter).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}

/// Opens a new connection and resumes `room` after `last`; the replay then arrives as
/// ordinary events.
async fn resume(
    r: &Reconnect,
    index: usize,
    room: protocol::ids::RoomId,
    last: Seq,
) -> anyhow::Result<(Ws, ConnectSteps, Duration)> {
    let began = Instant::now();
    let (mut ws, steps) = connect_timed(&r.target, &r.token, index).await?;
    let connected = began.elapsed();
    let frame = serde_json::json!({"type": "subscribe", "room": room, "since_seq": last});
    request(&mut ws, 1, frame).await?;
    Ok((ws, steps, began.elapsed() - connected))
}
