//! The site admin's page (`/admin`) from the browser: find accounts by handle and
//! deactivate one (signed out everywhere, its tokens revoked, its connections closed on
//! every node, its messages kept), as `confab user deactivate` does. Site admins are
//! made from the command line only (`confab user admin`). Each is a server function
//! under `/api/admin/*` that checks, on every call, that the caller is a site admin.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Most accounts one search lists.
pub const ACCOUNTS_LISTED: u32 = 50;

/// An account as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: String,
    pub handle: String,
    pub name: String,
    pub site_admin: bool,
    /// The admin looking at the page.
    pub me: bool,
}

/// Why an admin request failed; each message is fit to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AdminError {
    #[error("Please sign in.")]
    SignedOut,
    #[error("This page is for site admins.")]
    NotAdmin,
    #[error("There is no such account.")]
    NotFound,
    #[error("Deactivate your own account from Settings.")]
    Yourself,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("The request failed: {0}")]
    Request(String),
}

impl AdminError {
    /// The HTTP status for this error (the one place where that mapping lives).
    pub fn status(&self) -> u16 {
        match self {
            AdminError::SignedOut => 401,
            AdminError::NotAdmin => 403,
            AdminError::NotFound => 404,
            AdminError::Yourself => 409,
            AdminError::Internal => 500,
            AdminError::Request(_) => 400,
        }
    }
}

impl FromServerFnError for AdminError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AdminError::Request(value.to_string())
    }
}

/// Active accounts whose handle starts with `prefix` (all, for an empty one), by handle.
#[server(endpoint = "admin/accounts")]
pub async fn admin_accounts(prefix: String) -> Result<Vec<AccountRow>, AdminError> {
    use self::server::*;
    let result = async {
        let (store, me) = site_admin().await?;
        let prefix = prefix.trim().trim_start_matches('@').to_ascii_lowercase();
        let found = store
            .search_users(&prefix, ACCOUNTS_LISTED)
            .await
            .map_err(internal)?;
        let mut rows = Vec::with_capacity(found.len());
        for u in found {
            rows.push(AccountRow {
                site_admin: store.is_site_admin(u.id).await.map_err(internal)?,
                me: u.id == me.id,
                id: u.id.to_string(),
                handle: u.handle.to_string(),
                name: u.display_name.to_string(),
            });
        }
        Ok(rows)
    }
    .await;
    result.map_err(respond)
}

/// Deactivates the account `user` (not one's own: that is done from Settings, with a
/// password).
#[server(endpoint = "admin/deactivate")]
pub async fn admin_deactivate(user: String) -> Result<(), AdminError> {
    use self::server::*;
    let result = async {
        let (store, me) = site_admin().await?;
        let id = protocol::ids::UserId(user.parse().map_err(|_| AdminError::NotFound)?);
        if id == me.id {
            return Err(AdminError::Yourself);
        }
        store
            .user(id)
            .await
            .map_err(internal)?
            .filter(store::User::is_active)
            .ok_or(AdminError::NotFound)?;
        store.deactivate_user(id).await.map_err(internal)?;
        store.delete_sessions_of(id, None).await.map_err(internal)?;
        tracing::info!(admin = %me.handle, user = %id, "site admin deactivated an account");
        Ok(())
    }
    .await;
    result.map_err(respond)
}

#[cfg(feature = "ssr")]
mod server {
    //! What the admin server functions share: the signed-in site admin, and errors.
    use super::AdminError;
    use crate::ssr::{app_context, sessions};

    /// Logs an internal failure and returns the opaque error.
    pub fn internal(err: impl std::fmt::Display) -> AdminError {
        tracing::error!(cause = %err, "admin request failed");
        AdminError::Internal
    }

    /// Sets the response status for `err` and returns it.
    pub fn respond(err: AdminError) -> AdminError {
        crate::ssr::set_status(err.status());
        err
    }

    /// The store and the signed-in user, who must be a site admin (checked now, so a
    /// revoked admin is refused at once).
    pub async fn site_admin() -> Result<(std::sync::Arc<dyn store::Store>, store::User), AdminError>
    {
        let ctx = app_context().map_err(internal)?;
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(internal)?;
        let user = sessions::current_user(&session, &*ctx.store)
            .await
            .map_err(internal)?
            .ok_or(AdminError::SignedOut)?;
        if !ctx.store.is_site_admin(user.id).await.map_err(internal)? {
            return Err(AdminError::NotAdmin);
        }
        Ok((ctx.store, user))
    }
}
