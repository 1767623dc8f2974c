//! Frames on the wire: JSON shapes, round trips and decoding-time validation.

use super::*;
use crate::errors::ErrorCode;
use crate::ids::{MessageId, RoomId, UserId};
use uuid::Uuid;

fn room() -> RoomId {
    RoomId(Uuid::from_u128(7))
}

#[test]
fn ping_round_trips_through_json() {
    let frame = ClientFrame::Ping { req: 7 };
    let text = serde_json::to_string(&frame).unwrap();
    assert_eq!(text, r#"{"type":"ping","req":7}"#);
    assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
}

#[test]
fn send_validates_its_body_while_decoding() {
    let ok = format!(
        r#"{{"type":"send","req":1,"room":"{}","client_msg_id":"c1","body":"hi"}}"#,
        room()
    );
    assert!(serde_json::from_str::<ClientFrame>(&ok).is_ok());
    let blank = ok.replace(r#""body":"hi""#, r#""body":"  ""#);
    assert!(serde_json::from_str::<ClientFrame>(&blank).is_err());
}

#[test]
fn reaction_frames_validate_their_emoji() {
    let ok = format!(
        r#"{{"type":"add_reaction","req":1,"room":"{r}","message_id":"{r}","emoji":"👍"}}"#,
        r = room()
    );
    let frame = serde_json::from_str::<ClientFrame>(&ok).unwrap();
    assert_eq!((frame.req(), frame.kind()), (1, "add_reaction"));
    let text = ok.replace("👍", "lol");
    assert!(serde_json::from_str::<ClientFrame>(&text).is_err());
    let remove = ok.replace("add_reaction", "remove_reaction");
    assert_eq!(
        serde_json::from_str::<ClientFrame>(&remove).unwrap().kind(),
        "remove_reaction"
    );
}

#[test]
fn reactions_are_left_out_of_a_message_without_any() {
    let user = UserView {
        id: UserId(Uuid::from_u128(1)),
        handle: "ana".into(),
        name: "Ana".into(),
        avatar: None,
    };
    let mut message = MessageView {
        id: MessageId(Uuid::from_u128(2)),
        seq: 1,
        author: user.clone(),
        body: "hi".into(),
        client_msg_id: "c1".into(),
        created_at: 0,
        edited_at: None,
        deleted: false,
        reactions: vec![],
        thread_root: None,
        thread: None,
        files: vec![],
        removed_by_admin: false,
        pinned: None,
        notice: None,
    };
    let json = serde_json::to_string(&message).unwrap();
    assert!(!json.contains("reactions"), "{json}");
    assert!(!json.contains("thread"), "{json}");
    for absent in ["files", "removed_by_admin", "pinned", "notice"] {
        assert!(
            !json.contains(absent),
            "a plain message carries no {absent}: {json}"
        );
    }
    message.reactions.push(ReactionView {
        emoji: "🎉".into(),
        count: 1,
        users: vec![user],
    });
    let json = serde_json::to_string(&message).unwrap();
    assert!(
        json.contains(r#""reactions":[{"emoji":"🎉","count":1,"users""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<MessageView>(&json).unwrap(), message);
}

#[test]
fn error_without_req_omits_the_field() {
    let frame = ServerFrame::Error {
        req: None,
        code: ErrorCode::BadFrame,
        message: "not JSON".into(),
    };
    assert_eq!(
        frame.to_json(),
        r#"{"type":"error","code":"bad_frame","message":"not JSON"}"#
    );
}

#[test]
fn ack_flattens_its_fields_and_omits_empty_ones() {
    let frame = ServerFrame::Ack {
        req: 3,
        info: AckInfo {
            seq: Some(9),
            ..AckInfo::default()
        },
    };
    assert_eq!(frame.to_json(), r#"{"type":"ack","req":3,"seq":9}"#);
    assert_eq!(
        serde_json::from_str::<ServerFrame>(&frame.to_json()).unwrap(),
        frame
    );
}

#[test]
fn personal_events_carry_their_kind() {
    let frame = ServerFrame::Personal {
        event: PersonalEvent::Read {
            room: room(),
            seq: 4,
        },
    };
    let value: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
    assert_eq!(value["type"], "personal");
    assert_eq!(value["kind"], "read");
    assert_eq!(serde_json::from_value::<ServerFrame>(value).unwrap(), frame);
}
