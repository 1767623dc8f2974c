//! The newest look (name, avatar) of each person the page has heard from. Every event
//! carries its author as the server held them when it was sent, so when someone changes
//! their name or picture, their next message brings the new look; names and avatars
//! already on screen (earlier messages, the member list, cards) follow it from here
//! rather than keep the look their own frame carried. Pure logic.

use protocol::UserView;
use protocol::ids::UserId;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct People {
    newest: HashMap<UserId, UserView>,
}

impl People {
    /// Records `user` as they look now; whether that changes what is held (a person
    /// heard from for the first time changes nothing on screen, so it is not a change).
    pub fn saw(&mut self, user: &UserView) -> bool {
        match self.newest.get(&user.id) {
            Some(held) if held == user => false,
            Some(_) => {
                self.newest.insert(user.id, user.clone());
                true
            }
            None => {
                self.newest.insert(user.id, user.clone());
                false
            }
        }
    }

    /// Whether recording `user` would change anything (read before [`People::saw`], so
    /// an unchanged look costs no update).
    pub fn is_news(&self, user: &UserView) -> bool {
        self.newest.get(&user.id) != Some(user)
    }

    /// How `user` (as some frame carried them) looks now.
    pub fn look(&self, user: &UserView) -> UserView {
        self.newest.get(&user.id).unwrap_or(user).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn ana(name: &str, avatar: Option<i64>) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(1)),
            handle: "ana".into(),
            name: name.into(),
            avatar,
        }
    }

    #[test]
    fn the_newest_look_replaces_what_earlier_frames_carried() {
        let mut people = People::default();
        let old = ana("Ana", None);
        assert_eq!(people.look(&old), old, "unknown: as carried");
        assert!(people.is_news(&old));
        assert!(
            !people.saw(&old),
            "first heard of: nothing on screen changes"
        );
        assert!(!people.is_news(&old));
        assert!(!people.saw(&old));

        let new = ana("Ana Lima", Some(1_700_000_000_000));
        assert!(people.is_news(&new));
        assert!(people.saw(&new), "a new look changes what is shown");
        assert_eq!(
            people.look(&old),
            new,
            "an earlier message shows the new look"
        );

        let bo = UserView {
            id: UserId(Uuid::from_u128(2)),
            handle: "bo".into(),
            name: "Bo".into(),
            avatar: None,
        };
        assert_eq!(people.look(&bo), bo, "others are untouched");
    }
}
