//! Account settings from the browser (the `/settings` page): change one's display name,
//! bio and time zone, and password (the current one required; every other session is signed out), see and end
//! one's sessions, create and revoke API tokens, and deactivate one's own account. Each
//! is a server function under `/api/account/*`, acting only on the signed-in user.
//!
//! A session's id is the secret in its cookie, so it never leaves the server: sessions
//! are listed and ended by a short hash of the id ([`SessionView::key`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::AuthError;

/// A signed-in session, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// A short hash of the session's id: names it without revealing it.
    pub key: String,
    /// Whether it is the session of this page.
    pub current: bool,
    /// The day (UTC) it ends unless used again (each use extends it), `2026-12-06`.
    pub until: String,
}

/// An API token, as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// The days (UTC) it was made and last used, `2026-12-06`.
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// How others see them (for the avatar section).
    pub person: protocol::UserView,
    pub handle: String,
    pub display_name: String,
    /// "" when not set.
    pub bio: String,
    /// An IANA name, "" when not set.
    pub time_zone: String,
    /// A site admin gets a link to `/admin`.
    pub site_admin: bool,
    pub sessions: Vec<SessionView>,
    pub tokens: Vec<TokenView>,
}

/// The signed-in user's settings.
#[server(endpoint = "account/overview")]
pub async fn account_overview() -> Result<AccountSettings, AuthError> {
    use self::server::*;
    let (ctx, session, user) = match signed_in().await {
        Ok(found) => found,
        Err(err) => return Err(crate::auth::server::respond_with(err).await),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let current = session.id().map(|id| id.to_string());
    let sessions = ctx
        .store
        .sessions_of(user.id, now)
        .await
        .map_err(|e| internal("listing sessions", e))?
        .into_iter()
        .map(|s| SessionView {
            current: current.as_deref() == Some(s.id.as_str()),
            key: session_key(&s.id),
            until: day_of(s.expires_at * 1000),
        })
        .collect();
    let tokens = ctx
        .store
        .api_tokens(user.id)
        .await
        .map_err(|e| internal("listing tokens", e))?
        .into_iter()
        .map(|t| TokenView {
            id: t.id.to_string(),
            name: t.name,
            created: day_of(t.created_at),
            last_used: t.last_used_at.map(day_of),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let profile = ctx
        .store
        .profile(user.id)
        .await
        .map_err(|e| internal("reading a profile", e))?
        .unwrap_or_default();
    let site_admin = ctx
        .store
        .is_site_admin(user.id)
        .await
        .map_err(|e| internal("reading a role", e))?;
    Ok(AccountSettings {
        person: user.view(),
        site_admin,
        handle: user.handle.to_string(),
        display_name: user.display_name.to_string(),
        bio: profile.bio,
        time_zone: profile.time_zone,
        sessions,
        tokens,
    })
}

/// Changes the signed-in user's display name.
#[server(endpoint = "account/name")]
pub async fn change_display_name(display_name: String) -> Result<(), AuthError> {
    use self::server::*;
    let result = async {
        let (ctx, _, user) = signed_in().await?;
        let name = protocol::names::DisplayName::parse(&display_name)?;
        let changed = ctx
            .store
            .set_display_name(user.id, &name)
            .await
            .map_err(|e| internal("changing a name", e))?;
        if changed {
            (ctx.person_changed)(&store::User {
                display_name: name,
                ..user
            });
        }
        Ok(())
    }
    .await;
    settings_or_report(result).await
}

/// Sets the signed-in user's bio and time zone; an empty one clears it.
#[server(endpoint = "account/profile")]
pub async fn change_profile(bio: String, time_zone: String) -> Result<(), AuthError> {
    use self::server::*;
    let result = async {
        let (ctx, _, user) = signed_in().await?;
        let bio = (!bio.trim().is_empty())
            .then(|| protocol::names::Bio::parse(&bio))
            .transpose()?;
        let zone = (!time_zone.trim().is_empty())
            .then(|| protocol::names::TimeZone::parse(&time_zone))
            .transpose()?;
        ctx.store
            .set_profile(user.id, bio.as_ref(), zone.as_ref())
            .await
            .map_err(|e| internal("changing a profile", e))?;
        Ok(())
    }
    .await;
    settings_or_report(result).await
}

/// Changes the password after checking the current one; every other session of the
/// user is signed out.
#[server(endpoint = "account/password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), AuthError> {
    use self::server::*;
    use crate::ssr::passwords;
    use protocol::names::Password;
    let result = async {
        let (ctx, session, user) = signed_in().await?;
        check_password(&ctx, &user, &current).await?;
        let new_password = Password::parse_new(&new_password).map_err(|e| AuthError::Invalid {
            field: "new_password".into(),
            message: e.message,
        })?;
        let hash = passwords::hash(&new_password)
            .await
            .map_err(|e| internal("hashing", e))?;
        ctx.store
            .set_password_hash(user.id, &hash)
            .await
            .map_err(|e| internal("changing a password", e))?;
        let keep = session.id().map(|id| id.to_string());
        ctx.store
            .delete_sessions_of(user.id, keep.as_deref())
            .await
            .map_err(|e| internal("ending sessions", e))?;
        Ok(())
    }
    .await;
    settings_or_report(result).await
}

/// Ends one of the signed-in user's sessions, named by its [`SessionView::key`].
#[server(endpoint = "account/end-session")]
pub async fn end_session(key: String) -> Result<(), AuthError> {
    use self::server::*;
    let result = async {
        let (ctx, _, user) = signed_in().await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sessions = ctx
            .store
            .sessions_of(user.id, now)
            .await
            .map_err(|e| internal("listing sessions", e))?;
        for s in sessions.iter().filter(|s| session_key(&s.id) == key) {
            ctx.store
                .session_delete(&s.id)
                .await
                .map_err(|e| internal("ending a session", e))?;
        }
        Ok(())
    }
    .await;
    settings_or_report(result).await
}

/// Creates an API token for the signed-in user; its secret is returned once.
#[server(endpoint = "account/create-token")]
pub async fn create_token(name: String) -> Result<String, AuthError> {
    use self::server::*;
    let (ctx, _, user) = match signed_in().await {
        Ok(found) => found,
        Err(err) => return Err(crate::auth::server::respond_with(err).await),
    };
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        let err = AuthError::Invalid {
            field: "token_name".into(),
            message: "A token's name has 1 to 64 characters.".into(),
        };
        return Err(crate::auth::server::respond_with(err).await);
    }
    let secret = crate::ssr::tokens::generate();
    let hash = crate::ssr::tokens::lookup_hash(&secret)
        .ok_or_else(|| internal("token", "a new secret has no hash"))?;
    ctx.store
        .create_api_token(user.id, &name, &hash)
        .await
        .map_err(|e| internal("creating a token", e))?;
    Ok(secret)
}

/// Revokes one of the signed-in user's API tokens.
#[server(endpoint = "account/revoke-token")]
pub async fn revoke_token(id: String) -> Result<(), AuthError> {
    use self::server::*;
    let result = async {
        let (ctx, _, user) = signed_in().await?;
        let id: protocol::ids::TokenId = id.parse().map_err(|_| AuthError::Invalid {
            field: "token".into(),
            message: "No such token.".into(),
        })?;
        ctx.store
            .revoke_api_token(user.id, id)
            .await
            .map_err(|e| internal("revoking a token", e))?;
        Ok(())
    }
    .await;
    settings_or_report(result).await
}

/// Deactivates the signed-in user's own account (their password confirms it): they are
/// signed out everywhere and can no longer sign in; their messages stay.
#[server(endpoint = "account/deactivate")]
pub async fn deactivate_account(password: String) -> Result<(), AuthError> {
    use self::server::*;
    let result = async {
        let (ctx, session, user) = signed_in().await?;
        check_password(&ctx, &user, &password).await?;
        ctx.store
            .deactivate_user(user.id)
            .await
            .map_err(|e| internal("deactivating", e))?;
        ctx.store
            .delete_sessions_of(user.id, None)
            .await
            .map_err(|e| internal("ending sessions", e))?;
        crate::ssr::sessions::sign_out(&session)
            .await
            .map_err(|e| internal("ending a session", e))?;
        Ok(())
    }
    .await;
    crate::auth::server::home_or_report(result).await
}

#[cfg(feature = "ssr")]
mod server {
    //! What the account server functions share: the signed-in user, password checks,
    //! session keys, and the answer to a form post.
    use crate::auth::AuthError;
    pub use crate::auth::server::internal;
    use crate::ssr::AppContext;

    /// The app context, this request's session and its signed-in user (or
    /// [`AuthError::WrongCredentials`] when signed out).
    pub async fn signed_in() -> Result<(AppContext, tower_sessions::Session, store::User), AuthError>
    {
        let ctx = crate::ssr::app_context().map_err(|e| internal("context", e))?;
        let session = crate::auth::server::session().await?;
        let user = crate::ssr::sessions::current_user(&session, &*ctx.store)
            .await
            .map_err(|e| internal("reading the session", e))?
            .ok_or(AuthError::WrongCredentials)?;
        Ok((ctx, session, user))
    }

    /// Checks `given` against the user's password.
    pub async fn check_password(
        ctx: &AppContext,
        user: &store::User,
        given: &str,
    ) -> Result<(), AuthError> {
        let wrong = || AuthError::Invalid {
            field: "current".into(),
            message: "That is not your current password.".into(),
        };
        let password = protocol::names::Password::for_login(given).map_err(|_| wrong())?;
        let creds = ctx
            .store
            .credentials(&user.handle)
            .await
            .map_err(|e| internal("reading credentials", e))?
            .ok_or_else(wrong)?;
        if crate::ssr::passwords::verify(&password, &creds.password_hash).await {
            Ok(())
        } else {
            Err(wrong())
        }
    }

    /// A Unix-millisecond time as its UTC day, `2026-12-06`.
    pub fn day_of(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    }

    /// A short, stable name for a session id that does not reveal it.
    pub fn session_key(id: &str) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(id.as_bytes())
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A change that worked goes back to `/settings` (which shows it); a failure is
    /// reported as the auth forms report theirs.
    pub async fn settings_or_report(result: Result<(), AuthError>) -> Result<(), AuthError> {
        match result {
            Ok(()) => {
                leptos_axum::redirect("/settings");
                Ok(())
            }
            Err(err) => Err(crate::auth::server::respond_with(err).await),
        }
    }
}
