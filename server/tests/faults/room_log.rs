//! A room's log as the store holds it after a fault, and the checks every fault test makes
//! against it: seqs gap-free from 1, each client_msg_id stored once, every ack true to
//! what is stored, every subscriber's view the log itself; and the log as a client reads it
//! through the API ([`api_history`]).

use protocol::ids::{RoomId, Seq};
use std::collections::{HashMap, HashSet};

/// One message event, as stored or as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: Seq,
    pub client_msg_id: String,
    pub body: String,
}

/// The body a fault test sends for `client_msg_id` (so resends carry the same body).
pub fn body_for(client_msg_id: &str) -> String {
    format!("message {client_msg_id}")
}

/// Every event of `room`, oldest first, after asserting that the seqs are exactly
/// 1..=last with last the room's `last_seq`, and that no client_msg_id is stored twice.
pub async fn stored(store: &dyn store::Store, room: RoomId) -> Vec<Entry> {
    let mut log: Vec<Entry> = Vec::new();
    loop {
        let after = log.last().map_or(0, |e| e.seq);
        let page = store
            .events_after(room, after, 500)
            .await
            .expect("read the room's events");
        if page.is_empty() {
            break;
        }
        log.extend(page.into_iter().map(|e| Entry {
            seq: e.seq,
            client_msg_id: e.message.client_msg_id,
            body: e.message.body,
        }));
    }
    let last = store
        .room(room)
        .await
        .expect("read the room")
        .expect("the room exists")
        .last_seq;
    let seqs: Vec<Seq> = log.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "the room's seqs must be exactly 1..={last}"
    );
    let mut ids = HashSet::new();
    for e in &log {
        assert!(
            ids.insert(e.client_msg_id.as_str()),
            "client_msg_id {} is stored twice",
            e.client_msg_id
        );
        assert_eq!(e.body, body_for(&e.client_msg_id), "body of seq {}", e.seq);
    }
    log
}

/// Asserts that every acked client_msg_id is stored once, at the seq its ack named.
pub fn assert_acks_stored(log: &[Entry], acked: &HashMap<String, Seq>) {
    let by_id: HashMap<&str, Seq> = log
        .iter()
        .map(|e| (e.client_msg_id.as_str(), e.seq))
        .collect();
    for (id, seq) in acked {
        assert_eq!(
            by_id.get(id.as_str()),
            Some(seq),
            "{id} was acked with seq {seq}; the store has it at {:?}",
            by_id.get(id.as_str())
        );
    }
}

/// Asserts that `seen` (what a subscriber received, over all its connections) is exactly
/// `log`: every event, in order, none twice.
pub fn assert_saw_exactly(who: &str, seen: &[Entry], log: &[Entry]) {
    if seen != log {
        let first_difference = seen
            .iter()
            .zip(log)
            .position(|(a, b)| a != b)
            .unwrap_or(seen.len().min(log.len()));
        panic!(
            "{who} saw {} events, the store holds {}; first difference at index \
             {first_difference}: saw {:?}, stored {:?}",
            seen.len(),
            log.len(),
            seen.get(first_difference),
            log.get(first_difference)
        );
    }
}

/// The room's whole history through the API, oldest first, as (client_msg_id, seq).
pub async fn api_history(client: &mut crate::wsclient::Client, room: RoomId) -> Vec<(String, Seq)> {
    let mut out: Vec<(String, Seq)> = Vec::new();
    let mut before: Option<Seq> = None;
    loop {
        let mut frame = serde_json::json!({"type": "history", "room": room, "limit": 100});
        if let Some(b) = before {
            frame["before_seq"] = b.into();
        }
        let protocol::ServerFrame::History {
            messages, has_more, ..
        } = client.request(frame).await
        else {
            panic!("history refused")
        };
        before = messages.first().map(|m| m.seq);
        let mut page: Vec<(String, Seq)> = messages
            .into_iter()
            .map(|m| (m.client_msg_id, m.seq))
            .collect();
        page.append(&mut out);
        out = page;
        if !has_more || before.is_none() {
            break;
        }
    }
    out
}
