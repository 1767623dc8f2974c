//! How users look to others ([`UserView`]), cached: events name their author, and the
//! author of a live event is always a connected user, so the fan-out can look them up
//! without waiting. Replays load unknown authors from the Store.
//!
//! A person's name and avatar can change: whoever changes them calls
//! [`Gateway::person_changed`], every node reads the person again into its cache (a
//! `Person` envelope), and the events they send from then on carry the new look. Until a
//! node has read them again (a moment, or never if the broker lost the envelope) it shows
//! the old one; each connection also reads its user afresh when it opens.
//!
//! A view is kept once, behind an `Arc`, and shared by the cache, the sessions of the
//! user's connections and the presence of each room they are in: an idle connection holds
//! a pointer to it, not a copy of its strings.

use protocol::UserView;
use protocol::ids::UserId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::{Store, StoreResult, User};

use super::{Gateway, broker};

/// Users seen by this process.
#[derive(Default)]
pub struct UserCache {
    users: RwLock<HashMap<UserId, Arc<UserView>>>,
}

/// The view of a stored user.
pub fn view(user: &User) -> UserView {
    user.view()
}

impl UserCache {
    /// Remembers a user; the view is shared with whoever holds it already when it has
    /// not changed.
    pub fn insert(&self, user: &User) -> Arc<UserView> {
        let v = view(user);
        let mut users = self.users.write().expect("user cache lock");
        match users.get(&user.id) {
            Some(known) if **known == v => known.clone(),
            _ => {
                let v = Arc::new(v);
                users.insert(user.id, v.clone());
                v
            }
        }
    }

    /// A cached user.
    pub fn get(&self, id: UserId) -> Option<Arc<UserView>> {
        self.users
            .read()
            .expect("user cache lock")
            .get(&id)
            .cloned()
    }

    /// A user from the cache, or loaded from the Store (a deleted user is shown as such).
    pub async fn load(&self, store: &dyn Store, id: UserId) -> StoreResult<UserView> {
        if let Some(v) = self.get(id) {
            return Ok(UserView::clone(&v));
        }
        Ok(match store.user(id).await? {
            Some(user) => UserView::clone(&self.insert(&user)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::names::{DisplayName, Handle};

    fn user(name: &str) -> User {
        User {
            id: UserId(uuid::Uuid::from_u128(7)),
            handle: Handle::parse("ada").unwrap(),
            display_name: DisplayName::parse(name).unwrap(),
            created_at: 0,
            deactivated_at: None,
            avatar_at: None,
        }
    }

    #[test]
    fn a_view_is_shared_until_the_person_changes() {
        let cache = UserCache::default();
        let first = cache.insert(&user("Ada"));
        let again = cache.insert(&user("Ada"));
        assert!(
            Arc::ptr_eq(&first, &again),
            "an unchanged person is one view"
        );
        assert!(Arc::ptr_eq(&first, &cache.get(first.id).unwrap()));
        let renamed = cache.insert(&user("Ada L."));
        assert_eq!(renamed.name, "Ada L.");
        assert_eq!(first.name, "Ada", "who holds the old view keeps it");
        assert!(Arc::ptr_eq(&renamed, &cache.get(first.id).unwrap()));
    }
}
