//! How users look to others ([`UserView`]), cached: events name their author, and the
//! author of a live event is always a connected user, so the fan-out can look them up
//! without waiting. Replays load unknown authors from the Store.
//!
//! A person's name and avatar can change: whoever changes them calls
//! [`Gateway::person_changed`], every node reads the person again into its cache (a
//! `Person` envelope), and the events they send from then on carry the new look. Until a
//! node has read them again (a moment, or never if the broker lost the envelope) it shows
//! the old one; each connection also reads its user afresh when it opens.

use protocol::UserView;
use protocol::ids::UserId;
use std::collections::HashMap;
use std::sync::RwLock;
use store::{Store, StoreResult, User};

use super::{Gateway, broker};

/// Users seen by this process.
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
                avatar: None,
            },
        })
    }
}

impl Gateway {
    /// How `user` looks to others changed (their name, their avatar) to `now`: this node
    /// holds it at once (their next message here carries it), and every node reads them
    /// again.
    pub fn person_changed(&self, now: &User) {
        if self.users().get(now.id).is_some() {
            self.users().insert(now);
        }
        self.publish(broker::Envelope::Person { user: now.id });
    }

    /// Reads `user` again into this node's cache, if it holds them (in the background:
    /// the broker's handler must not wait on the Store).
    pub(super) fn reread_person(&self, user: UserId) {
        if self.users().get(user).is_none() {
            return;
        }
        let gateway = self.clone();
        tokio::spawn(async move {
            match gateway.store().user(user).await {
                Ok(Some(found)) => {
                    gateway.users().insert(&found);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(cause = %err, %user, "re-reading a changed person failed")
                }
            }
        });
    }
}
