//! Accounts from the browser: sign up, log in, log out, and who is signed in. Each is a
//! server function, so it is a public HTTP endpoint under `/api/auth/*`: validation,
//! rate limits and session handling all happen inside it. Forms post to them directly,
//! so they work before hydration too (errors come back through the redirect's
//! `__err` query parameter, which `ServerAction` reads during SSR).

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The signed-in user, as the UI sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub handle: String,
    pub display_name: String,
    /// When their avatar picture was set (`UserView::avatar`); `None`: initials.
    #[serde(default)]
    pub avatar: Option<i64>,
}

/// Why an account request failed. Each variant's message is fit to show on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// A field broke its rules (`field` names it).
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("That handle is already taken.")]
    HandleTaken,
    /// Deliberately vague: never says whether the handle exists.
    #[error("Wrong handle or password.")]
    WrongCredentials,
    #[error("Too many attempts. Please wait {retry_after_secs} s and try again.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request itself failed (network, encoding); carries server_fn's description.
    #[error("The request failed: {0}")]
    Request(String),
}

impl AuthError {
    /// The HTTP status for this error (the one place where that mapping lives).
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Invalid { .. } => 422,
            AuthError::HandleTaken => 409,
            AuthError::WrongCredentials => 401,
            AuthError::RateLimited { .. } => 429,
            AuthError::Internal => 500,
            AuthError::Request(_) => 400,
        }
    }

    /// The form field the error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AuthError::Invalid { field, .. } => Some(field),
            AuthError::HandleTaken => Some("handle"),
            _ => None,
        }
    }
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AuthError::Request(value.to_string())
    }
}

impl From<protocol::names::InvalidValue> for AuthError {
    fn from(err: protocol::names::InvalidValue) -> Self {
        AuthError::Invalid {
            field: err.field.to_string(),
            message: err.message,
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    //! Helpers shared by the auth server functions.
    use super::AuthError;
    use crate::ssr::limits::RetryAfter;
    use axum::extract::ConnectInfo;
    use std::net::{IpAddr, SocketAddr};

    impl From<RetryAfter> for AuthError {
        fn from(r: RetryAfter) -> Self {
            AuthError::RateLimited {
                retry_after_secs: r.secs(),
            }
        }
    }

    /// Logs the detail of an internal failure and returns the opaque error.
    pub fn internal(what: &str, err: impl std::fmt::Display) -> AuthError {
        tracing::error!(cause = %err, "{what}");
        AuthError::Internal
    }

    /// The client's address, when the server runs with connection info.
    pub async fn client_addr() -> Option<IpAddr> {
        leptos_axum::extract::<ConnectInfo<SocketAddr>>()
            .await
            .ok()
            .map(|ConnectInfo(addr)| addr.ip())
    }

    /// Sets the HTTP status for `err` unless the request is a plain form post, which
    /// must stay a redirect back to the form.
    pub async fn respond_with(err: AuthError) -> AuthError {
        let form_post = leptos_axum::extract::<http::HeaderMap>()
            .await
            .ok()
            .and_then(|h| {
                h.get(http::header::ACCEPT)?
                    .to_str()
                    .ok()
                    .map(|a| a.contains("text/html"))
            })
            .unwrap_or(false);
        if form_post {
            return err;
        }
        crate::ssr::set_status(err.status());
        if let AuthError::RateLimited { retry_after_secs } = &err
            && let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
        {
            res.insert_header(http::header::RETRY_AFTER, v);
        }
        err
    }

    /// Ends an account form: on success, redirect to `/`; on failure, report the error
    /// (with its HTTP status, unless it is a plain form post).
    pub async fn home_or_report(result: Result<(), AuthError>) -> Result<(), AuthError> {
        match result {
            Ok(()) => {
                leptos_axum::redirect("/");
                Ok(())
            }
            Err(err) => Err(respond_with(err).await),
        }
    }

    pub async fn session() -> Result<tower_sessions::Session, AuthError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| internal("no session layer", e))
    }

    pub fn me(user: &store::User) -> super::Me {
        super::Me {
            id: user.id.to_string(),
            handle: user.handle.to_string(),
            display_name: user.display_name.to_string(),
            avatar: user.avatar_at,
        }
    }
}

/// Creates an account and signs it in, then redirects to `/`.
#[server(endpoint = "auth/signup")]
pub async fn sign_up(
    handle: String,
    display_name: String,
    password: String,
) -> Result<(), AuthError> {
    use self::server::*;
    use crate::ssr::{app_context, passwords, sessions};
    use protocol::names::{DisplayName, Handle, Password};

    let result = async {
        let ctx = app_context().map_err(|e| internal("context", e))?;
        let handle = Handle::parse(&handle)?;
        let display_name = DisplayName::parse(&display_name)?;
        let password = Password::parse_new(&password)?;
        ctx.limits.signup(client_addr().await)?;
        let hash = passwords::hash(&password)
            .await
            .map_err(|e| internal("hashing", e))?;
        let user = match ctx.store.create_user(&handle, &display_name, &hash).await {
            Ok(user) => user,
            Err(store::StoreError::Conflict { .. }) => return Err(AuthError::HandleTaken),
            Err(e) => return Err(internal("creating a user", e)),
        };
        let session = session().await?;
        sessions::sign_in(&session, user.id)
            .await
            .map_err(|e| internal("session", e))?;
        tracing::info!(user = %user.id, "signed up");
        Ok(())
    }
    .await;
    home_or_report(result).await
}

/// Signs in with a handle and password, then redirects to `/`.
#[server(endpoint = "auth/login")]
pub async fn log_in(handle: String, password: String) -> Result<(), AuthError> {
    use self::server::*;
    use crate::ssr::{app_context, passwords, sessions};
    use protocol::names::{Handle, Password};

    let result = async {
        let ctx = app_context().map_err(|e| internal("context", e))?;
        // Malformed input is simply a wrong credential: say nothing about handle rules.
        let handle = Handle::parse(&handle).map_err(|_| AuthError::WrongCredentials)?;
        let password = Password::for_login(&password).map_err(|_| AuthError::WrongCredentials)?;
        ctx.limits.login(handle.as_str(), client_addr().await)?;
        let creds = ctx
            .store
            .credentials(&handle)
            .await
            .map_err(|e| internal("reading credentials", e))?;
        let Some(creds) = creds else {
            passwords::verify_against_dummy(&password).await;
            return Err(AuthError::WrongCredentials);
        };
        if !passwords::verify(&password, &creds.password_hash).await {
            return Err(AuthError::WrongCredentials);
        }
        let session = session().await?;
        sessions::sign_in(&session, creds.user.id)
            .await
            .map_err(|e| internal("session", e))?;
        Ok(())
    }
    .await;
    home_or_report(result).await
}

/// Signs out, then redirects to `/`.
#[server(endpoint = "auth/logout")]
pub async fn log_out() -> Result<(), AuthError> {
    use self::server::*;
    let session = session().await?;
    crate::ssr::sessions::sign_out(&session)
        .await
        .map_err(|e| internal("ending a session", e))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<Me>, AuthError> {
    use self::server::*;
    use crate::ssr::{app_context, sessions};
    let ctx = app_context().map_err(|e| internal("context", e))?;
    let session = session().await?;
    let user = sessions::current_user(&session, &*ctx.store)
        .await
        .map_err(|e| internal("reading the session", e))?;
    Ok(user.as_ref().map(me))
}

impl Me {
    /// How the signed-in user looks on the wire (`None` only if the id is malformed).
    pub fn view(&self) -> Option<protocol::UserView> {
        Some(protocol::UserView {
            id: self.id.parse().ok()?,
            handle: self.handle.clone(),
            name: self.display_name.clone(),
            avatar: self.avatar,
        })
    }
}
