//! The people picked for a group direct message in the *New direct message* dialog: each
//! once, never oneself, at most [`protocol::GROUP_DM_MAX`] − 1 of them (the group has
//! the picker too). Two or more make a group; one is an ordinary DM. Pure logic.

use protocol::UserView;
use protocol::ids::UserId;

/// Most people one picks besides oneself.
pub const OTHERS_MAX: usize = protocol::GROUP_DM_MAX - 1;

/// The picked people, in the order picked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPick {
    people: Vec<UserView>,
}

impl GroupPick {
    /// Adds `user` unless they are `me`, picked already, or the group is full; whether
    /// they were added.
    pub fn add(&mut self, user: UserView, me: Option<UserId>) -> bool {
        if Some(user.id) == me || self.has(user.id) || self.is_full() {
            return false;
        }
        self.people.push(user);
        true
    }

    pub fn remove(&mut self, user: UserId) {
        self.people.retain(|u| u.id != user);
    }

    pub fn has(&self, user: UserId) -> bool {
        self.people.iter().any(|u| u.id == user)
    }

    pub fn is_full(&self) -> bool {
        self.people.len() >= OTHERS_MAX
    }

    pub fn people(&self) -> &[UserView] {
        &self.people
    }

    /// The ids to open a group with: `Some` once two or more are picked.
    pub fn group(&self) -> Option<Vec<UserId>> {
        (self.people.len() >= 2).then(|| self.people.iter().map(|u| u.id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn user(n: u128) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: format!("u{n}"),
            name: format!("U{n}"),
            avatar: None,
        }
    }

    #[test]
    fn a_group_is_two_to_seven_others_each_once_never_oneself() {
        let me = Some(user(0).id);
        let mut pick = GroupPick::default();
        assert!(!pick.add(user(0), me), "not oneself");
        assert!(pick.add(user(1), me));
        assert_eq!(pick.group(), None, "one other is a plain DM");
        assert!(!pick.add(user(1), me), "each once");
        assert!(pick.add(user(2), me));
        assert_eq!(pick.group(), Some(vec![user(1).id, user(2).id]));
        for n in 3..=7 {
            assert!(pick.add(user(n), me));
        }
        assert!(pick.is_full());
        assert!(
            !pick.add(user(8), me),
            "eight people in all, oneself included"
        );
        assert_eq!(pick.people().len(), OTHERS_MAX);
        pick.remove(user(3).id);
        assert!(!pick.has(user(3).id));
        assert!(pick.add(user(8), me));
        assert_eq!(pick.group().unwrap().len(), 7);
    }
}
