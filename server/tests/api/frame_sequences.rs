//! Property test: random sequences of frames from three clients — requests on rooms they
//! may and may not read, on rooms that do not exist, and junk — against the real server.
//!
//! For every sequence: every request gets exactly one reply; the server never panics nor
//! hangs (each reply comes within the usual wait, and the last ping is answered); within
//! one subscription a client's events of a room come in seq order without gaps; and no
//! event, snapshot, history page, typing or unread notice of a room ever reaches someone
//! who was not allowed to read it. Allowed is decided by a model of the memberships that
//! is updated from the replies: a member of a room at the moment a message is acked may
//! receive it live; only a member (or anyone, for a public room) may subscribe or read
//! history, and subscribing opens the room's past (a replay up to the room's last seq at
//! that moment). On one node with the in-process broker, an acked event is already in every
//! subscriber's queue when the ack is sent, so "members at the ack" is exact.
//!
//! Cases: `PROPTEST_CASES` (default 64); shrinking finds a minimal failing sequence.

use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use protocol::ids::{MessageId, RoomId, Seq};
use protocol::{ErrorCode, PersonalEvent, ServerFrame};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use store::RoomKind;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, TestUser, WAIT, Ws, send_text, spawn_app_with};
use crate::wsclient::reply_req;

const CLIENTS: usize = 3;

/// Totals over every case, so that the test can show it was not vacuous.
static EVENTS_CHECKED: AtomicU64 = AtomicU64::new(0);
static REFUSALS: AtomicU64 = AtomicU64::new(0);
static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Rooms 0–2 exist (public, private of clients 0 and 1, DM of clients 1 and 2); room 3
/// does not.
const ROOMS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Subscribe {
        room: usize,
        resume: bool,
    },
    Unsubscribe {
        room: usize,
    },
    Send {
        room: usize,
        body: String,
    },
    Edit {
        target: usize,
        body: String,
    },
    Delete {
        target: usize,
    },
    Typing {
        room: usize,
    },
    History {
        room: usize,
    },
    MarkRead {
        room: usize,
        seq: u64,
    },
    Leave {
        room: usize,
    },
    Invite {
        room: usize,
        user: usize,
    },
    OpenDm {
        user: usize,
    },
    /// Text that is no frame at all.
    Junk(String),
    /// A known frame type with its fields missing.
    Incomplete(&'static str),
}

fn op() -> impl Strategy<Value = Op> {
    let room = 0..ROOMS;
    let body = "[a-z '\";%_\\\\]{1,24}";
    prop_oneof![
        4 => (room.clone(), any::<bool>()).prop_map(|(room, resume)| Op::Subscribe { room, resume }),
        1 => room.clone().prop_map(|room| Op::Unsubscribe { room }),
        6 => (room.clone(), body).prop_map(|(room, body)| Op::Send { room, body }),
        1 => (0..8usize, body).prop_map(|(target, body)| Op::Edit { target, body }),
        1 => (0..8usize).prop_map(|target| Op::Delete { target }),
        1 => room.clone().prop_map(|room| Op::Typing { room }),
        2 => room.clone().prop_map(|room| Op::History { room }),
        1 => (room.clone(), 0..40u64).prop_map(|(room, seq)| Op::MarkRead { room, seq }),
        1 => room.clone().prop_map(|room| Op::Leave { room }),
        1 => (room, 0..CLIENTS).prop_map(|(room, user)| Op::Invite { room, user }),
        1 => (0..CLIENTS).prop_map(|user| Op::OpenDm { user }),
        1 => "[ -~]{0,40}".prop_map(Op::Junk),
        1 => prop::sample::select(vec!["subscribe", "send", "edit", "history", "invite", "create_room"])
            .prop_map(Op::Incomplete),
    ]
}

fn sequence() -> impl Strategy<Value = Vec<(usize, Op)>> {
    prop::collection::vec((0..CLIENTS, op()), 1..32)
}

/// Fails the case (so that proptest can shrink it) unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}

/// What the test believes about one case's rooms.
struct Model {
    rooms: Vec<RoomId>,
    /// Room index 0 is public: subscribing joins it.
    members: Vec<HashSet<usize>>,
    /// Who was a member of a room when the event with that seq was acked.
    members_at: HashMap<(usize, Seq), HashSet<usize>>,
    /// Rooms a client has ever been subscribed to (for typing and presence).
    ever_subscribed: HashSet<(usize, usize)>,
    /// Messages acked so far: id, author, room.
    messages: Vec<(MessageId, usize, usize)>,
    /// The highest seq acked per room.
    last_seq: HashMap<usize, Seq>,
}

impl Model {
    fn room_index(&self, id: RoomId) -> Option<usize> {
        self.rooms.iter().position(|r| *r == id)
    }

    fn may_read(&self, client: usize, room: usize) -> bool {
        room == 0 || self.members.get(room).is_some_and(|m| m.contains(&client))
    }
}

/// One client's socket and what it has seen of each room.
struct Conn {
    ws: Ws,
    next_req: u64,
    /// The last seq seen per room (events only go forward).
    last: HashMap<usize, Seq>,
    /// Within the current subscription, the seq the next event must have minus one.
    run: HashMap<usize, Option<Seq>>,
    /// The room's last seq when this connection's current subscription began: history up
    /// to there is the room's past, which a member (or anyone, in a public room) may read.
    replay_upto: HashMap<usize, Seq>,
}

impl Conn {
    async fn open(app: &TestApp, user: &TestUser) -> Conn {
        let mut ws = app
            .connect_headers(
                Some(protocol::SUBPROTOCOL),
                &[("authorization", &format!("Bearer {}", user.token))],
            )
            .await;
        let welcome = read(&mut ws).await.expect("welcome");
        assert!(matches!(welcome, ServerFrame::Welcome { .. }));
        Conn {
            ws,
            next_req: 1_000_000,
            last: HashMap::new(),
            run: HashMap::new(),
            replay_upto: HashMap::new(),
        }
    }

    /// Sends `frame` with a fresh `req`; returns its reply and the pushes before it.
    async fn exchange(
        &mut self,
        mut frame: serde_json::Value,
    ) -> Result<(ServerFrame, Vec<ServerFrame>), TestCaseError> {
        let req = self.next_req;
        self.next_req += 1;
        frame["req"] = req.into();
        send_text(&mut self.ws, &frame.to_string()).await;
        self.until_reply(req).await
    }

    async fn until_reply(
        &mut self,
        req: u64,
    ) -> Result<(ServerFrame, Vec<ServerFrame>), TestCaseError> {
        let mut pushes = Vec::new();
        loop {
            let frame = read(&mut self.ws)
                .await
                .map_err(|e| TestCaseError::fail(format!("waiting for reply {req}: {e}")))?;
            if reply_req(&frame) == Some(req) {
                return Ok((frame, pushes));
            }
            pushes.push(frame);
        }
    }
}

/// The next frame from the server, or why there is none.
async fn read(ws: &mut Ws) -> Result<ServerFrame, String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err("no frame in time (the server hangs?)".into()),
            Ok(None) => return Err("the connection ended".into()),
            Ok(Some(Err(e))) => return Err(format!("read failed: {e}")),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("undecodable frame {text}: {e}"));
            }
            Ok(Some(Ok(Message::Close(frame)))) => return Err(format!("closed: {frame:?}")),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Checks the pushes `client` received against the model.
fn check_pushes(
    model: &Model,
    conn: &mut Conn,
    client: usize,
    pushes: Vec<ServerFrame>,
) -> Result<(), TestCaseError> {
    for push in pushes {
        match &push {
            ServerFrame::Event { room, seq, .. } => {
                let r = model.room_index(*room);
                ensure!(r.is_some(), "an event of a room nobody made: {push:?}");
                let r = r.unwrap();
                // Live, it needs membership when it was acked; replayed on subscribing, it
                // is the room's past, open to whoever may subscribe.
                let allowed = model.members_at.get(&(r, *seq));
                let past = conn.replay_upto.get(&r).is_some_and(|upto| seq <= upto);
                ensure!(
                    past || allowed.is_some_and(|m| m.contains(&client)),
                    "client {client} got event {seq} of room {r}; members then: {allowed:?}"
                );
                if let Some(last) = conn.last.get(&r) {
                    ensure!(seq > last, "room {r}: event {seq} after {last}");
                }
                if let Some(Some(run)) = conn.run.get(&r) {
                    ensure!(*seq == run + 1, "room {r}: gap, {seq} after {run}");
                }
                conn.last.insert(r, *seq);
                conn.run.insert(r, Some(*seq));
                EVENTS_CHECKED.fetch_add(1, Ordering::Relaxed);
            }
            ServerFrame::Snapshot {
                room,
                last_seq,
                messages,
                ..
            } => {
                let r = model.room_index(*room);
                ensure!(
                    r.is_some_and(|r| model.ever_subscribed.contains(&(client, r))),
                    "client {client} got a snapshot of a room it never subscribed: {push:?}"
                );
                let r = r.unwrap();
                ensure!(
                    messages.windows(2).all(|w| w[0].seq < w[1].seq)
                        && messages.iter().all(|m| m.seq <= *last_seq),
                    "snapshot out of order: {push:?}"
                );
                if let Some(last) = conn.last.get(&r) {
                    ensure!(
                        last_seq >= last,
                        "room {r}: snapshot at {last_seq} after {last}"
                    );
                }
                conn.last.insert(r, *last_seq);
                conn.run.insert(r, Some(*last_seq));
            }
            ServerFrame::Typing { room, .. }
            | ServerFrame::Presence { room, .. }
            | ServerFrame::PresenceDiff { room, .. }
            | ServerFrame::Receipts { room, .. } => {
                let r = model.room_index(*room);
                ensure!(
                    r.is_some_and(|r| model.ever_subscribed.contains(&(client, r))),
                    "client {client} got {push:?} of a room it never subscribed"
                );
            }
            ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, .. },
            } => {
                let r = model.room_index(*room);
                let allowed = r.and_then(|r| model.members_at.get(&(r, *seq)));
                ensure!(
                    allowed.is_some_and(|m| m.contains(&client)),
                    "client {client} was told of unread {seq} in {room}; members then: {allowed:?}"
                );
            }
            ServerFrame::Personal { .. } => {}
            ServerFrame::Error { req: None, .. } => {
                return Err(TestCaseError::fail(format!(
                    "an error nobody asked for: {push:?}"
                )));
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "client {client}: unexpected push {other:?} (a second reply?)"
                )));
            }
        }
    }
    Ok(())
}

fn room_json(model: &Model, room: usize) -> serde_json::Value {
    serde_json::json!(model.rooms[room])
}

/// The acked message an edit or delete aims at (its id, author and room), if any.
fn target_message(model: &Model, target: usize) -> Option<(MessageId, usize, usize)> {
    if model.messages.is_empty() {
        return None;
    }
    Some(model.messages[target % model.messages.len()])
}

/// Runs one sequence against `app` with fresh users and rooms (case number `n`); a
/// failure carries the transcript of requests and replies that led to it.
async fn run_case(app: &TestApp, n: u32, ops: Vec<(usize, Op)>) -> Result<(), TestCaseError> {
    let mut transcript = Vec::new();
    run_ops(app, n, ops, &mut transcript).await.map_err(|e| {
        TestCaseError::fail(format!("{e}\ntranscript:\n  {}", transcript.join("\n  ")))
    })
}

async fn run_ops(
    app: &TestApp,
    n: u32,
    ops: Vec<(usize, Op)>,
    transcript: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    let mut users = Vec::new();
    for c in 0..CLIENTS {
        users.push(app.user(&format!("p{n}u{c}")).await);
    }
    let public = app.public_room(&users[0], &format!("pub-{n}")).await;
    let private = app
        .room(&users[0], RoomKind::Private, &format!("priv-{n}"))
        .await;
    app.store
        .invite(private, users[0].user.id, users[1].user.id)
        .await
        .unwrap();
    let dm = app
        .store
        .open_dm(users[1].user.id, users[2].user.id)
        .await
        .unwrap()
        .id;
    let unknown = RoomId(uuid::Uuid::now_v7());
    let mut model = Model {
        // Index 3 is the room that does not exist; DMs opened during the case follow it.
        rooms: vec![public, private, dm, unknown],
        members: vec![
            HashSet::from([0]),
            HashSet::from([0, 1]),
            HashSet::from([1, 2]),
            HashSet::new(),
        ],
        members_at: HashMap::new(),
        ever_subscribed: HashSet::new(),
        messages: Vec::new(),
        last_seq: HashMap::new(),
    };
    let mut conns = Vec::new();
    for user in &users {
        conns.push(Conn::open(app, user).await);
    }

    // Everyone starts subscribed to what they may read, so that most random requests
    // meet a live room; the random part may then unsubscribe, leave, resume, and so on.
    let start = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 2)].map(|(c, room)| {
        (
            c,
            Op::Subscribe {
                room,
                resume: false,
            },
        )
    });
    for (i, (c, op)) in start.into_iter().chain(ops).enumerate() {
        let conn = &mut conns[c];
        let frame = match &op {
            Op::Subscribe { room, resume } => {
                let mut f =
                    serde_json::json!({"type": "subscribe", "room": room_json(&model, *room)});
                if *resume && let Some(last) = conn.last.get(room) {
                    f["since_seq"] = (*last).into();
                }
                f
            }
            Op::Unsubscribe { room } => {
                serde_json::json!({"type": "unsubscribe", "room": room_json(&model, *room)})
            }
            Op::Send { room, body } => serde_json::json!({
                "type": "send", "room": room_json(&model, *room),
                "client_msg_id": format!("p{n}-{i}"), "body": body,
            }),
            Op::Edit { target, body } => {
                let (id, _, room) = target_message(&model, *target).unwrap_or((
                    MessageId(uuid::Uuid::now_v7()),
                    0,
                    3,
                ));
                serde_json::json!({"type": "edit", "room": room_json(&model, room), "message_id": id, "body": body})
            }
            Op::Delete { target } => {
                let (id, _, room) = target_message(&model, *target).unwrap_or((
                    MessageId(uuid::Uuid::now_v7()),
                    0,
                    3,
                ));
                serde_json::json!({"type": "delete", "room": room_json(&model, room), "message_id": id})
            }
            Op::Typing { room } => {
                serde_json::json!({"type": "typing", "room": room_json(&model, *room)})
            }
            Op::History { room } => {
                serde_json::json!({"type": "history", "room": room_json(&model, *room)})
            }
            Op::MarkRead { room, seq } => {
                serde_json::json!({"type": "mark_read", "room": room_json(&model, *room), "seq": seq})
            }
            Op::Leave { room } => {
                serde_json::json!({"type": "leave", "room": room_json(&model, *room)})
            }
            Op::Invite { room, user } => serde_json::json!({
                "type": "invite", "room": room_json(&model, *room), "user": users[*user].user.id,
            }),
            Op::OpenDm { user } => {
                serde_json::json!({"type": "open_dm", "user": users[*user].user.id})
            }
            Op::Junk(text) => {
                // Junk has no req of ours: its error comes before the pong of a ping.
                send_text(&mut conn.ws, text).await;
                let (pong, pushes) = conn.exchange(serde_json::json!({"type": "ping"})).await?;
                ensure!(matches!(pong, ServerFrame::Pong { .. }), "{pong:?}");
                let (errors, rest): (Vec<_>, Vec<_>) = pushes
                    .into_iter()
                    .partition(|f| matches!(f, ServerFrame::Error { .. }));
                ensure!(
                    errors.len() == 1,
                    "junk {text:?} must get exactly one error, got {errors:?}"
                );
                check_pushes(&model, conn, c, rest)?;
                continue;
            }
            Op::Incomplete(kind) => serde_json::json!({"type": kind}),
        };
        let (reply, pushes) = conn.exchange(frame).await?;
        transcript.push(format!("{c}: {op:?} → {reply:?} (after pushes {pushes:?})"));
        let acked = matches!(reply, ServerFrame::Ack { .. });
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        if matches!(
            reply,
            ServerFrame::Error {
                code: ErrorCode::Forbidden | ErrorCode::NotSubscribed | ErrorCode::NotFound,
                ..
            }
        ) {
            REFUSALS.fetch_add(1, Ordering::Relaxed);
        }
        match (&op, &reply) {
            (Op::Subscribe { room, resume }, _) => {
                let allowed = model.may_read(c, *room);
                ensure!(
                    acked == allowed,
                    "client {c} subscribing to room {room} (allowed: {allowed}) got {reply:?}"
                );
                if *room == 3 {
                    crate::wsclient::assert_error(&reply, ErrorCode::NotFound);
                }
                if acked {
                    if *room == 0 {
                        model.members[0].insert(c);
                    }
                    model.ever_subscribed.insert((c, *room));
                    let resumed = if *resume {
                        conn.last.get(room).copied()
                    } else {
                        None
                    };
                    conn.run.insert(*room, resumed);
                    let upto = model.last_seq.get(room).copied().unwrap_or(0);
                    conn.replay_upto.insert(*room, upto);
                }
            }
            (Op::Send { room, .. }, _) if acked => {
                ensure!(
                    model.members[*room].contains(&c),
                    "client {c} (not a member) was acked {op:?}: {reply:?}"
                );
            }
            (Op::Typing { room } | Op::MarkRead { room, .. }, _) if acked => {
                ensure!(
                    model.may_read(c, *room),
                    "client {c} (not a member) was acked {op:?}: {reply:?}"
                );
            }
            (Op::Edit { target, .. } | Op::Delete { target }, _) if acked => {
                let (_, author, _) =
                    target_message(&model, *target).expect("an acked change has a target");
                ensure!(
                    author == c,
                    "client {c} changed client {author}'s message: {op:?}"
                );
            }
            (Op::History { room }, ServerFrame::History { messages, .. }) => {
                ensure!(
                    model.may_read(c, *room) && *room != 3,
                    "client {c} read the history of room {room}"
                );
                ensure!(
                    messages.windows(2).all(|w| w[0].seq < w[1].seq),
                    "history out of order"
                );
            }
            (Op::Leave { room }, _) if acked => {
                model.members[*room].remove(&c);
                conn.run.insert(*room, None);
            }
            (Op::Invite { room, user }, _) if acked => {
                ensure!(
                    model.members[*room].contains(&c),
                    "client {c}, not a member of room {room}, invited someone"
                );
                model.members[*room].insert(*user);
            }
            (Op::OpenDm { user }, ServerFrame::Ack { info, .. }) => {
                let room = info.room.expect("open_dm acks with the room");
                if model.room_index(room).is_none() {
                    model.rooms.push(room);
                    model.members.push(HashSet::from([c, *user]));
                }
            }
            (Op::Incomplete(_), _) => {
                crate::wsclient::assert_error(&reply, ErrorCode::InvalidField);
            }
            _ => {}
        }
        // Every acked change of a room records who could read it then.
        if let ServerFrame::Ack { info, .. } = &reply
            && let (Some(room), Some(seq)) = (info.room, info.seq)
            && !info.duplicate
        {
            let r = model.room_index(room).expect("an acked room is known");
            model.members_at.insert((r, seq), model.members[r].clone());
            let last = model.last_seq.entry(r).or_insert(0);
            *last = (*last).max(seq);
            if let (Op::Send { .. }, Some(id)) = (&op, info.message_id) {
                model.messages.push((id, c, r));
            }
        }
        check_pushes(&model, conn, c, pushes)?;
    }
    // Everyone is still served, and nothing more arrived than allowed.
    for (c, conn) in conns.iter_mut().enumerate() {
        let (pong, pushes) = conn.exchange(serde_json::json!({"type": "ping"})).await?;
        ensure!(matches!(pong, ServerFrame::Pong { .. }), "{pong:?}");
        check_pushes(&model, conn, c, pushes)?;
    }
    Ok(())
}

#[test]
fn random_frame_sequences_keep_order_and_never_reach_outsiders() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(spawn_app_with(|s| {
        s.rate_per_sec = 100_000;
        s.rate_burst = 100_000;
    }));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let case = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&sequence(), |ops| {
        let n = case.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(run_case(&app, n, ops))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // Every case ran on one server, which is still healthy.
    let health = runtime.block_on(app.get_text("/healthz"));
    assert_eq!(health, r#"{"status":"ok"}"#);
    let (events, refusals, requests) = (
        EVENTS_CHECKED.load(Ordering::Relaxed),
        REFUSALS.load(Ordering::Relaxed),
        REQUESTS.load(Ordering::Relaxed),
    );
    println!(
        "{} random sequences held: {requests} requests, {refusals} refused, {events} events checked",
        case.load(Ordering::Relaxed)
    );
    assert!(
        events > 0 && refusals > 0,
        "the sequences must deliver events and try forbidden things"
    );
}
