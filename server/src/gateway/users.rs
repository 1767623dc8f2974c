//! How users look to others ([`UserView`]), cached: events name their author, and the
//! author of a live event is always a connected user, so the fan-out can look them up
//! without waiting. Replays load unknown authors from the Store.

use protocol::UserView;
use protocol::ids::UserId;
use std::collections::HashMap;
use std::sync::RwLock;
use store::{Store, StoreResult, User};

/// Users seen by this process. Display names do not change (there is no API for it yet),
/// so entries never go stale.
#[derive(Default)]
pub struct UserCache {
    users: RwLock<HashMap<UserId, UserView>>,
}

/// The view of a stored user.
pub fn view(user: &User) -> UserView {
    user.view()
}

impl UserCache {
    /// Remembers a user.
    pub fn insert(&self, user: &User) -> UserView {
        let v = view(user);
        self.users
            .write()
            .expect("user cache lock")
            .insert(user.id, v.clone());
        v
    }

    /// A cached user.
    pub fn get(&self, id: UserId) -> Option<UserView> {
        self.users
            .read()
            .expect("user cache lock")
            .get(&id)
            .cloned()
    }

    /// A user from the cache, or loaded from the Store (a deleted user is shown as such).
    pub async fn load(&self, store: &dyn Store, id: UserId) -> StoreResult<UserView> {
        if let Some(v) = self.get(id) {
            return Ok(v);
        }
        Ok(match store.user(id).await? {
            Some(user) => self.insert(&user),
            None => UserView {
                id,
                handle: "deleted".into(),
                name: "Deleted user".into(),
            },
        })
    }
}
