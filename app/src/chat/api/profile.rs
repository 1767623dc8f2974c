//! A person's profile as their card shows it (name, handle, bio, time zone), read when
//! someone opens it: a server function under `/api/chat/profile` for anyone signed in,
//! like the people search; a deactivated account has none to show.

use leptos::prelude::*;
use protocol::UserView;
use protocol::ids::UserId;
use serde::{Deserialize, Serialize};

use super::ChatError;

/// What a profile card shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub user: UserView,
    /// "" when not set.
    pub bio: String,
    /// An IANA name ("" when not set); the card shows the local time there.
    pub time_zone: String,
}

/// `user`'s profile.
#[server(prefix = "/api/chat", endpoint = "profile")]
pub async fn load_profile(user: UserId) -> Result<Profile, ChatError> {
    use super::server::*;
    let result = async {
        let (store, _) = signed_in().await?;
        let found = store
            .user(user)
            .await?
            .filter(store::User::is_active)
            .ok_or(ChatError::NotFound)?;
        let profile = store.profile(user).await?.unwrap_or_default();
        Ok(Profile {
            user: found.view(),
            bio: profile.bio,
            time_zone: profile.time_zone,
        })
    }
    .await;
    result.map_err(respond)
}
