//! Tests of a session's pure parts: latency histograms, publish offsets and the event
//! scan.

use super::*;
use protocol::ids::{MessageId, RoomId, UserId};
use protocol::{EventKind, MessageView, UserView};

fn event(kind: EventKind, seq: Seq, body: &str) -> String {
    let nil = uuid_nil();
    ServerFrame::Event {
        room: RoomId(nil),
        seq,
        kind,
        message: MessageView {
            id: MessageId(nil),
            seq: 1,
            author: UserView {
                id: UserId(nil),
                handle: "lg0".into(),
                name: "lg0".into(),
                avatar: None,
            },
            body: body.into(),
            client_msg_id: "c".into(),
            created_at: 0,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            thread_root: None,
            thread: None,
            files: Vec::new(),
            removed_by_admin: false,
            pinned: None,
            notice: None,
        },
    }
    .to_json()
}

fn uuid_nil() -> protocol::ids::Uuid {
    protocol::ids::Uuid::nil()
}

#[test]
fn latency_histograms_start_small_and_take_any_latency() {
    let idle = latency_histogram();
    let mut busy = latency_histogram();
    busy.record(600_000_000).expect("ten minutes fits");
    busy.record(1).expect("a microsecond fits");
    assert!(
        idle.distinct_values() * 4 < busy.distinct_values(),
        "grows only when used"
    );
    let mut total = latency_histogram();
    total.add(&busy).expect("merges");
    total.add(&idle).expect("merges");
    assert_eq!(total.len(), 2);
    assert_eq!(total.max(), busy.max());
}

#[test]
fn publishers_are_spread_over_one_period_unless_in_lockstep() {
    let period = Duration::from_millis(100);
    let offsets: Vec<Duration> = (0..4)
        .map(|k| publish_offset(k, 4, period, false))
        .collect();
    assert_eq!(
        offsets,
        [0, 25, 50, 75].map(Duration::from_millis).to_vec(),
        "evenly spaced, all inside the first period"
    );
    assert!((0..4).all(|k| publish_offset(k, 4, period, true).is_zero()));
    assert!(publish_offset(0, 0, period, false).is_zero());
}

#[test]
fn events_are_read_without_parsing_and_agree_with_the_parser() {
    let text = event(EventKind::Message, 42, "lg 1234567");
    assert_eq!(
        scan_event(&text),
        Some(ScannedEvent {
            seq: 42,
            message: true,
            sent_nanos: Some(1234567)
        })
    );
    let edited = event(EventKind::Edited, 43, "\"seq\":7 lg 9");
    assert_eq!(
        scan_event(&edited),
        Some(ScannedEvent {
            seq: 43,
            message: false,
            sent_nanos: None
        })
    );
    assert_eq!(scan_event("{\"type\":\"ack\",\"req\":1}"), None);
    assert!(has_type("{\"type\":\"ack\",\"req\":1}", "ack"));
    assert!(!has_type("{\"type\":\"ackx\"}", "ack"));
    assert!(!has_type("{\"type\":\"presence\"}", "ack"));
}
