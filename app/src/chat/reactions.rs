//! Reactions as the message list shows them: the emoji the picker offers, whether a
//! reaction is one's own (so its chip takes it back off), and the line that says who
//! reacted. Pure functions of a message's [`ReactionView`]s.

use protocol::ReactionView;
use protocol::ids::UserId;

/// The emoji the picker offers (any other valid emoji can be sent by other clients and
/// shows as a chip all the same).
pub const PICKER: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

/// Whether `me` is among those who reacted. A reaction names only its first
/// [`protocol::REACTORS_LISTED`] people: past that, one's own may not be listed, and the
/// chip then adds rather than removes (which changes nothing).
pub fn is_mine(reaction: &ReactionView, me: Option<UserId>) -> bool {
    me.is_some_and(|me| reaction.users.iter().any(|u| u.id == me))
}

/// "Ana and Bo reacted with 👍", "You, Ana and 3 others reacted with 🎉".
pub fn who_reacted(reaction: &ReactionView, me: Option<UserId>) -> String {
    // One's own reaction comes first ("You, …"), wherever it fell in time.
    let mut users: Vec<&protocol::UserView> = reaction.users.iter().collect();
    if let Some(at) = users.iter().position(|u| Some(u.id) == me) {
        let you = users.remove(at);
        users.insert(0, you);
    }
    let mut names: Vec<String> = users
        .iter()
        .map(|u| {
            if Some(u.id) == me {
                "You".to_string()
            } else {
                u.name.clone()
            }
        })
        .collect();
    let others = (reaction.count as usize).saturating_sub(names.len());
    if others > 0 {
        names.push(if others == 1 {
            "1 other".to_string()
        } else {
            format!("{others} others")
        });
    }
    let who = match names.as_slice() {
        [] => "Nobody".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    format!("{who} reacted with {}", reaction.emoji)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::UserView;
    use protocol::ids::Uuid;

    fn person(n: u128, name: &str) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: name.to_lowercase(),
            name: name.into(),
            avatar: None,
        }
    }

    fn reaction(count: u32, users: Vec<UserView>) -> ReactionView {
        ReactionView {
            emoji: "👍".into(),
            count,
            users,
        }
    }

    #[test]
    fn the_line_names_people_and_counts_the_rest() {
        let ana = person(1, "Ana");
        let bo = person(2, "Bo");
        let cy = person(3, "Cy");
        let nobody_signed_in = None;
        assert_eq!(
            who_reacted(&reaction(1, vec![ana.clone()]), nobody_signed_in),
            "Ana reacted with 👍"
        );
        assert_eq!(
            who_reacted(&reaction(2, vec![ana.clone(), bo.clone()]), None),
            "Ana and Bo reacted with 👍"
        );
        assert_eq!(
            who_reacted(
                &reaction(3, vec![ana.clone(), bo.clone(), cy.clone()]),
                None
            ),
            "Ana, Bo and Cy reacted with 👍"
        );
        assert_eq!(
            who_reacted(&reaction(53, vec![ana.clone(), bo.clone()]), None),
            "Ana, Bo and 51 others reacted with 👍"
        );
        assert_eq!(
            who_reacted(&reaction(2, vec![ana.clone()]), None),
            "Ana and 1 other reacted with 👍"
        );
    }

    #[test]
    fn one_s_own_reaction_reads_you_and_comes_first() {
        let ana = person(1, "Ana");
        let bo = person(2, "Bo");
        let r = reaction(2, vec![ana.clone(), bo.clone()]);
        assert_eq!(who_reacted(&r, Some(bo.id)), "You and Ana reacted with 👍");
        assert!(is_mine(&r, Some(bo.id)));
        assert!(!is_mine(&r, Some(UserId(Uuid::from_u128(9)))));
        assert!(!is_mine(&r, None));
        // Someone whose display name is "You" is not oneself.
        let you = person(3, "You");
        let r = reaction(2, vec![ana.clone(), you]);
        assert_eq!(who_reacted(&r, Some(ana.id)), "You and You reacted with 👍");
    }

    #[test]
    fn the_picker_offers_only_valid_emoji() {
        for e in PICKER {
            assert!(protocol::names::Emoji::parse(e).is_ok(), "{e}");
        }
    }
}
