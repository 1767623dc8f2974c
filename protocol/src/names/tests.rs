//! The name rules, case by case.
use super::*;

#[test]
fn handles_are_lower_cased_and_checked() {
    assert_eq!(Handle::parse("  Ana ").unwrap().as_str(), "ana");
    assert_eq!(Handle::parse("bo.r-2_x").unwrap().as_str(), "bo.r-2_x");
    for bad in [
        "a",
        "",
        "has space",
        "émile",
        "_lead",
        &"x".repeat(33),
        "semi;colon",
        "Room",
    ] {
        assert!(Handle::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn display_names_are_trimmed_and_bounded() {
    assert_eq!(
        DisplayName::parse("  Ana Lima ").unwrap().as_str(),
        "Ana Lima"
    );
    assert!(DisplayName::parse("   ").is_err());
    assert!(DisplayName::parse(&"é".repeat(65)).is_err());
    assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
    assert!(DisplayName::parse("bell\u{7}").is_err());
}

#[test]
fn room_names_turn_spaces_into_dashes() {
    assert_eq!(
        RoomName::parse(" Team Chat ").unwrap().as_str(),
        "team-chat"
    );
    assert!(RoomName::parse("x").is_err());
    assert!(RoomName::parse("drop table;").is_err());
}

#[test]
fn bodies_keep_newlines_and_refuse_blank() {
    assert_eq!(Body::parse("a\n b").unwrap().as_str(), "a\n b");
    assert!(Body::parse(" \n\t").is_err());
    assert!(Body::parse(&"x".repeat(BODY_MAX_CHARS + 1)).is_err());
    assert!(Body::parse(&"x".repeat(BODY_MAX_CHARS)).is_ok());
    assert!(Body::parse("nul\0").is_err());
    // docs/protocol.md: no carriage return, even as part of a CRLF line end.
    assert!(Body::parse("line\r\nnext").is_err());
    assert!(Body::parse("a\tb").is_ok());
}

#[test]
fn client_msg_ids_are_visible_ascii_without_spaces() {
    // docs/protocol.md: `!` to `~` (0x21–0x7E); a space is refused.
    assert!(ClientMsgId::parse("!~azAZ09-_.:").is_ok());
    for bad in ["c 1", " ", "c-\u{7f}", "c-é", "c\t1"] {
        assert!(ClientMsgId::parse(bad).is_err(), "{bad:?}");
    }
    assert!(ClientMsgId::parse(&"c".repeat(64)).is_ok());
    assert!(ClientMsgId::parse(&"c".repeat(65)).is_err());
}

#[test]
fn emoji_take_symbols_with_their_modifiers_and_refuse_text() {
    for good in ["👍", "❤️", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇵🇹", "1️⃣", "#️⃣", "✅"]
    {
        assert_eq!(Emoji::parse(good).unwrap().as_str(), good);
    }
    for bad in [
        "",
        "a",
        "ok",
        "1",
        "<b>",
        " 👍",
        "👍 ",
        "👍\n",
        "日本",
        "é",
        "٣",
        "\u{202E}👍",
        "\u{7}",
        &"👍".repeat(9),
    ] {
        assert!(Emoji::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(serde_json::from_str::<Emoji>("\"x\"").is_err());
}

#[test]
fn passwords_have_bounds_and_hide_in_debug() {
    assert!(Password::parse_new("short").is_err());
    assert!(Password::parse_new(&"p".repeat(129)).is_err());
    let p = Password::parse_new("correct horse").unwrap();
    assert_eq!(format!("{p:?}"), "Password(…)");
}

#[test]
fn newtypes_validate_when_deserialised() {
    assert!(serde_json::from_str::<Handle>("\"ok_name\"").is_ok());
    assert!(serde_json::from_str::<Handle>("\"no way\"").is_err());
    assert!(serde_json::from_str::<ClientMsgId>("\"\"").is_err());
    assert!(serde_json::from_str::<ClientMsgId>("\"c-1\"").is_ok());
}

#[test]
fn room_topics_are_one_trimmed_line() {
    assert_eq!(
        RoomTopic::parse("  Plans for the spring release ")
            .unwrap()
            .as_ref(),
        "Plans for the spring release"
    );
    assert_eq!(RoomTopic::parse("").unwrap_err().field, "topic");
    assert_eq!(RoomTopic::parse("   ").unwrap_err().field, "topic");
    assert!(RoomTopic::parse("two\nlines").is_err());
    assert!(RoomTopic::parse(&"é".repeat(ROOM_TOPIC_MAX_CHARS)).is_ok());
    assert!(RoomTopic::parse(&"é".repeat(ROOM_TOPIC_MAX_CHARS + 1)).is_err());
    // As a frame field it is checked the same way.
    assert!(serde_json::from_str::<RoomTopic>("\"a\\u0007b\"").is_err());
}
