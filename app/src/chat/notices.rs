//! What a notice message says (a moderator removed or banned someone, changed someone's
//! role, or changed the room's settings; `docs/moderation.md`), in words for the message list. Pure: the
//! caller says how to name a user from their id.

use protocol::ids::UserId;
use protocol::{NoticeView, RoleName, RoomChanges};

/// The sentence a notice shows after its author's name: "removed @bo from the room".
pub fn describe(notice: &NoticeView, name_of: impl Fn(UserId) -> Option<String>) -> String {
    let who = |user: UserId| name_of(user).unwrap_or_else(|| "someone".to_string());
    match notice {
        NoticeView::MemberRemoved { user } => format!("removed {} from the room", who(*user)),
        NoticeView::MemberBanned { user } => {
            format!("removed {} from the room and banned them", who(*user))
        }
        NoticeView::RoomUpdated { changes } => room_changes(changes),
        NoticeView::RoleChanged { user, role } => match role {
            RoleName::Admin => format!("made {} an admin", who(*user)),
            RoleName::Owner => format!("made {} the owner", who(*user)),
            RoleName::Member => format!("made {} a member again", who(*user)),
        },
    }
}

/// "renamed the room to #design, set the topic to “pixels”": each change, joined.
fn room_changes(c: &RoomChanges) -> String {
    let mut parts = Vec::new();
    if let Some(name) = &c.name {
        parts.push(format!("renamed the room to #{name}"));
    }
    match c.topic.as_deref() {
        Some("") => parts.push("cleared the topic".to_string()),
        Some(topic) => parts.push(format!("set the topic to “{topic}”")),
        None => {}
    }
    match c.description.as_deref() {
        Some("") => parts.push("cleared the description".to_string()),
        Some(_) => parts.push("changed the description".to_string()),
        None => {}
    }
    match c.private {
        Some(true) => parts.push("made the room private".to_string()),
        Some(false) => parts.push("made the room public".to_string()),
        None => {}
    }
    match c.archived {
        Some(true) => parts.push("archived the room".to_string()),
        Some(false) => parts.push("reopened the room".to_string()),
        None => {}
    }
    if parts.is_empty() {
        "changed the room".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn bo() -> UserId {
        UserId(Uuid::from_u128(2))
    }

    fn names(user: UserId) -> Option<String> {
        (user == bo()).then(|| "Bo".to_string())
    }

    #[test]
    fn removals_name_the_member_or_say_someone() {
        assert_eq!(
            describe(&NoticeView::MemberRemoved { user: bo() }, names),
            "removed Bo from the room"
        );
        assert_eq!(
            describe(
                &NoticeView::MemberBanned {
                    user: UserId(Uuid::from_u128(9))
                },
                names
            ),
            "removed someone from the room and banned them"
        );
    }

    #[test]
    fn role_changes_say_what_the_member_became() {
        let admin = NoticeView::RoleChanged {
            user: bo(),
            role: RoleName::Admin,
        };
        assert_eq!(describe(&admin, names), "made Bo an admin");
        let member = NoticeView::RoleChanged {
            user: bo(),
            role: RoleName::Member,
        };
        assert_eq!(describe(&member, names), "made Bo a member again");
    }

    #[test]
    fn room_changes_list_what_changed() {
        let changes = RoomChanges {
            name: Some("design".into()),
            topic: Some(String::new()),
            archived: Some(true),
            ..RoomChanges::default()
        };
        assert_eq!(
            describe(&NoticeView::RoomUpdated { changes }, names),
            "renamed the room to #design, cleared the topic, archived the room"
        );
        let private = RoomChanges {
            private: Some(true),
            topic: Some("pixels".into()),
            ..RoomChanges::default()
        };
        assert_eq!(
            describe(&NoticeView::RoomUpdated { changes: private }, names),
            "set the topic to “pixels”, made the room private"
        );
    }
}
