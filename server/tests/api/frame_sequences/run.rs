//! One case: fresh users and rooms on the topology, the three clients connected, the
//! sequence played one request at a time with every reply and push checked against the
//! model, then a wait until every subscription has caught up with its room (delivery to
//! other nodes is asynchronous, so what arrives late is checked too, and nothing owed is
//! lost).

use proptest::test_runner::TestCaseError;
use protocol::ids::{MessageId, RoomId};
use protocol::{ErrorCode, ServerFrame};
use std::sync::atomic::Ordering;
use store::RoomKind;

use super::conn::{Conn, check_pushes, ensure};
use super::model::Model;
use super::ops::Op;
use super::topology::Topology;
use super::{CLIENTS, Counts};
use crate::helpers::{WAIT, send_text};

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

/// Runs one sequence on `topology` with fresh users and rooms (case number `n`); a
/// failure carries the transcript of requests and replies that led to it.
pub async fn run_case(
    topology: &Topology,
    counts: &Counts,
    n: u32,
    ops: Vec<(usize, Op)>,
) -> Result<(), TestCaseError> {
    let mut transcript = Vec::new();
    run_ops(topology, counts, n, ops, &mut transcript)
        .await
        .map_err(|e| {
            TestCaseError::fail(format!("{e}\ntranscript:\n  {}", transcript.join("\n  ")))
        })
}

async fn run_ops(
    topology: &Topology,
    counts: &Counts,
    n: u32,
    ops: Vec<(usize, Op)>,
    transcript: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    let app = topology.node(0);
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
    // Index 3 is the room that does not exist; DMs opened during the case follow it.
    let mut model = Model::new(topology.rule(), vec![public, private, dm, unknown]);
    // Client 0 made rooms 0 and 1 and owns them (a moderator: it may delete anyone's
    // message there) until it leaves; rejoining makes it a plain member.
    let mut owners: std::collections::HashSet<(usize, usize)> = [(0, 0), (0, 1)].into();
    let mut conns = Vec::new();
    for (c, user) in users.iter().enumerate() {
        conns.push(Conn::open(topology.node(c), user).await);
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
        model.step = i as u64;
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
                check_pushes(&model, conn, c, rest, counts)?;
                continue;
            }
            Op::Incomplete(kind) => serde_json::json!({"type": kind}),
        };
        let (reply, pushes) = conn.exchange(frame).await?;
        transcript.push(format!("{c}: {op:?} → {reply:?} (after pushes {pushes:?})"));
        let acked = matches!(reply, ServerFrame::Ack { .. });
        // A subscription ends after what came before its end's reply.
        let mut ended = None;
        counts.requests.fetch_add(1, Ordering::Relaxed);
        if matches!(
            reply,
            ServerFrame::Error {
                code: ErrorCode::Forbidden | ErrorCode::NotSubscribed | ErrorCode::NotFound,
                ..
            }
        ) {
            counts.refusals.fetch_add(1, Ordering::Relaxed);
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
                        model.join(0, c);
                    }
                    model.ever_subscribed.insert((c, *room));
                    model.subscribed.insert((c, *room));
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
            (Op::Unsubscribe { room }, _) if acked => {
                ended = Some(*room);
            }
            (Op::Send { room, body }, _) => {
                // Subscribed means a member here (leaves end subscriptions), and a
                // member's send of a body that is not blank is never refused, on
                // whichever node the join was made.
                let allowed = model.subscribed.contains(&(c, *room)) && !body.trim().is_empty();
                ensure!(
                    acked == allowed && (!acked || model.members[*room].contains(&c)),
                    "client {c} (may send: {allowed}) sent to room {room}: {reply:?}"
                );
            }
            (Op::Typing { room } | Op::MarkRead { room, .. }, _) if acked => {
                ensure!(
                    model.may_read(c, *room),
                    "client {c} (not a member) was acked {op:?}: {reply:?}"
                );
            }
            (Op::Edit { target, .. } | Op::Delete { target }, _) if acked => {
                let (_, author, room) =
                    target_message(&model, *target).expect("an acked change has a target");
                let moderates = matches!(op, Op::Delete { .. }) && owners.contains(&(c, room));
                ensure!(
                    author == c || moderates,
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
                owners.remove(&(c, *room));
                ended = Some(*room);
                conn.run.insert(*room, None);
            }
            (Op::Invite { room, user }, _) if acked => {
                ensure!(
                    model.members[*room].contains(&c),
                    "client {c}, not a member of room {room}, invited someone"
                );
                model.join(*room, *user);
            }
            (Op::OpenDm { user }, ServerFrame::Ack { info, .. }) => {
                let room = info.room.expect("open_dm acks with the room");
                if model.room_index(room).is_none() {
                    model.add_room(room, &[c, *user]);
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
            model.acked(r, seq);
            if let (Op::Send { .. }, Some(id)) = (&op, info.message_id) {
                model.messages.push((id, c, r));
            }
        }
        check_pushes(&model, conn, c, pushes, counts)?;
        if let Some(room) = ended {
            model.subscribed.remove(&(c, room));
        }
    }
    model.step += 1;
    settle(&model, &mut conns, counts).await
}

/// Waits until every client has received each room it is subscribed to up to the room's
/// last acked seq, checking everything that arrives meanwhile; fails after a generous
/// deadline (a lost or stuck delivery). Also shows every client is still served.
async fn settle(model: &Model, conns: &mut [Conn], counts: &Counts) -> Result<(), TestCaseError> {
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    for (c, conn) in conns.iter_mut().enumerate() {
        loop {
            let (pong, pushes) = conn.exchange(serde_json::json!({"type": "ping"})).await?;
            ensure!(matches!(pong, ServerFrame::Pong { .. }), "{pong:?}");
            check_pushes(model, conn, c, pushes, counts)?;
            let behind: Vec<(usize, u64, u64)> = model
                .subscribed
                .iter()
                .filter(|(sc, _)| *sc == c)
                .filter_map(|(_, r)| {
                    let last = *model.last_seq.get(r)?;
                    let seen = conn.last.get(r).copied().unwrap_or(0);
                    (seen < last).then_some((*r, seen, last))
                })
                .collect();
            if behind.is_empty() {
                break;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "client {c} never caught up (room, seen, last acked): {behind:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
    Ok(())
}
