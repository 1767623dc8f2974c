//! The outbox's order, resends, refusals and saved form.

use super::*;
use protocol::ids::Uuid;

fn item(n: u32) -> Outgoing {
    Outgoing {
        room: RoomId(Uuid::from_u128(1)),
        client_msg_id: format!("c{n}"),
        body: format!("message {n}"),
        created_at: 0,
        state: SendState::Queued,
        change: Change::Message,
        files: Vec::new(),
    }
}

fn change(n: u32, change: Change) -> Outgoing {
    Outgoing {
        change,
        body: String::new(),
        ..item(n)
    }
}

fn msg(n: u128) -> MessageId {
    MessageId(Uuid::from_u128(n))
}

fn counter() -> impl FnMut() -> ReqId {
    let mut n = 0;
    move || {
        n += 1;
        n
    }
}

#[test]
fn queued_messages_go_out_in_order_once() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.push(item(2));
    let sent = o.take_queued(0.0, counter());
    assert_eq!(
        sent.iter()
            .map(|(r, i)| (*r, i.client_msg_id.as_str()))
            .collect::<Vec<_>>(),
        [(1, "c1"), (2, "c2")]
    );
    assert!(
        o.take_queued(0.0, counter()).is_empty(),
        "in flight is not resent"
    );
    assert_eq!(o.acked(1).unwrap().client_msg_id, "c1");
    assert_eq!(o.items().len(), 1);
}

#[test]
fn a_dropped_connection_resends_with_the_same_ids_in_the_same_order() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.take_queued(0.0, counter());
    o.push(item(2));
    o.requeue_in_flight();
    let again: Vec<_> = o
        .take_queued(0.0, counter())
        .into_iter()
        .map(|(_, i)| i.client_msg_id)
        .collect();
    assert_eq!(again, ["c1", "c2"]);
}

#[test]
fn a_reload_restores_the_queue_and_resends_what_was_in_flight() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.push(item(2));
    o.take_queued(0.0, counter());
    assert!(o.refused(2, "forbidden").is_some());
    let back = Outbox::restore(&o.to_json());
    assert_eq!(back.items()[0].state, SendState::Queued);
    assert!(matches!(back.items()[1].state, SendState::Failed { .. }));
    assert_eq!(Outbox::restore("not json"), Outbox::default());
}

#[test]
fn an_event_of_our_own_message_takes_it_out_before_its_ack() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.push(item(2));
    o.take_queued(0.0, counter());
    let other_room = RoomId(Uuid::from_u128(2));
    assert!(o.stored(other_room, "c1").is_none(), "ids are per room");
    assert_eq!(o.stored(item(1).room, "c1").unwrap().body, "message 1");
    assert!(o.acked(1).is_none(), "the late ack finds nothing to do");
    assert_eq!(o.items().len(), 1);
    assert_eq!(o.acked(2).unwrap().client_msg_id, "c2");
}

#[test]
fn refusals_and_timeouts_fail_then_retry_or_discard() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.push(item(2));
    o.take_queued(1000.0, counter());
    assert!(o.refused(1, "no").is_some());
    assert!(!o.expire(5000.0, 10_000.0));
    assert!(o.expire(12_000.0, 10_000.0));
    assert!(
        o.items()
            .iter()
            .all(|i| matches!(i.state, SendState::Failed { .. }))
    );
    o.retry("c1");
    assert_eq!(o.items()[0].state, SendState::Queued);
    o.discard("c1");
    assert_eq!(o.items().len(), 2, "only failed items can be discarded");
    o.discard("c2");
    assert_eq!(o.items().len(), 1);
}

#[test]
fn edits_deletes_and_reactions_queue_with_messages_and_go_out_in_order() {
    let mut o = Outbox::default();
    o.push(item(1));
    o.push(change(2, Change::Edit { message: msg(7) }));
    o.push(change(3, Change::Delete { message: msg(8) }));
    o.push(change(
        4,
        Change::React {
            message: msg(9),
            emoji: "👍".into(),
            add: true,
        },
    ));
    o.push(change(5, Change::Reply { root: msg(9) }));
    let order: Vec<_> = o
        .take_queued(0.0, counter())
        .into_iter()
        .map(|(_, i)| i.client_msg_id)
        .collect();
    assert_eq!(order, ["c1", "c2", "c3", "c4", "c5"]);
    assert_eq!(
        o.in_room(item(1).room).count(),
        1,
        "only new messages show as pending lines"
    );
    assert_eq!(o.changes_in_room(item(1).room).count(), 2);
}

#[test]
fn queued_changes_survive_a_reload_and_older_saved_outboxes_still_load() {
    let mut o = Outbox::default();
    o.push(change(1, Change::Delete { message: msg(8) }));
    o.take_queued(0.0, counter());
    let back = Outbox::restore(&o.to_json());
    assert_eq!(back.items()[0].change, Change::Delete { message: msg(8) });
    assert_eq!(back.items()[0].state, SendState::Queued);
    let old = r#"{"items":[{"room":"00000000-0000-0000-0000-000000000001","client_msg_id":"c1","body":"hi","created_at":0,"state":"Queued"}]}"#;
    assert_eq!(Outbox::restore(old).items()[0].change, Change::Message);
}

#[test]
fn a_refused_change_leaves_while_a_refused_message_stays_failed() {
    let mut o = Outbox::default();
    o.push(change(1, Change::Edit { message: msg(7) }));
    o.push(item(2));
    o.take_queued(0.0, counter());
    let edit = o.refused(1, "not yours").unwrap();
    assert_eq!(edit.change, Change::Edit { message: msg(7) });
    assert_eq!(o.items().len(), 1);
    assert!(o.refused(2, "no").is_some());
    assert!(matches!(o.items()[0].state, SendState::Failed { .. }));
    assert!(o.refused(9, "no").is_none());
}

#[test]
fn only_new_messages_time_out_and_only_messages_and_replies_match_their_events() {
    let mut o = Outbox::default();
    o.push(change(1, Change::Delete { message: msg(8) }));
    o.push(change(2, Change::Reply { root: msg(9) }));
    o.take_queued(0.0, counter());
    assert!(!o.expire(60_000.0, 10_000.0));
    assert!(o.stored(item(1).room, "c1").is_none());
    assert!(o.stored(item(2).room, "c2").is_some());
}

#[test]
fn a_pending_line_says_when_it_waits_for_the_network() {
    let mut i = item(1);
    assert_eq!(i.status(false).1, "Sending…");
    assert_eq!(
        i.status(true),
        ("pending", "Waiting for the network…".into())
    );
    i.state = SendState::Failed {
        reason: "no".into(),
    };
    assert_eq!(i.status(true).0, "failed");
}

#[test]
fn a_message_resends_the_same_files_after_a_drop_and_a_reload() {
    let file = FileView {
        id: protocol::ids::FileId(Uuid::from_u128(42)),
        name: "cat.png".into(),
        size: 1234,
        content_type: "image/png".into(),
        image: Some(protocol::ImageSize {
            width: 4,
            height: 3,
        }),
    };
    let mut o = Outbox::default();
    o.push(Outgoing {
        files: vec![file.clone()],
        ..item(1)
    });
    o.take_queued(0.0, counter());
    o.requeue_in_flight();
    let again = o.take_queued(0.0, counter());
    assert_eq!(again[0].1.file_ids(), [file.id]);
    let back = Outbox::restore(&o.to_json());
    assert_eq!(back.items()[0].files, [file]);
    assert_eq!(back.items()[0].state, SendState::Queued);
    assert!(
        !Outbox::restore(&{
            let mut plain = Outbox::default();
            plain.push(item(2));
            plain.to_json()
        })
        .to_json()
        .contains("files"),
        "a message without files saves as before"
    );
}

#[test]
fn refusals_are_retried_settled_or_final_by_their_code() {
    let delete = Change::Delete { message: msg(1) };
    let edit = Change::Edit { message: msg(1) };
    assert_eq!(delete.refusal(ErrorCode::Deleted), Refusal::Done);
    assert_eq!(edit.refusal(ErrorCode::Deleted), Refusal::Final);
    assert_eq!(
        Change::Message.refusal(ErrorCode::RateLimited),
        Refusal::Retry
    );
    assert_eq!(edit.refusal(ErrorCode::NotSubscribed), Refusal::Retry);
    assert_eq!(edit.refusal(ErrorCode::NotAuthor), Refusal::Final);
}
