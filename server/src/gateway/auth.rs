//! Who is connecting. A browser proves itself with its session cookie, and its page must
//! come from our own site (the `Origin` header): without that check any page on the web
//! could open a socket with the user's cookie (cross-site WebSocket hijacking). A bot or
//! tool sends `Authorization: Bearer <API token>` instead, and no cookie is looked at.
//!
//! A WebSocket upgrade from a browser always carries `Origin`, so there it is required.
//! A same-origin `EventSource` sends none, so the event streams accept a cookie without
//! one; a cross-site one (which does send it) is still refused.

use axum::http::{HeaderMap, header};
use protocol::CloseCode;
use store::User;
use tower_sessions::Session;

use super::Gateway;
use super::store_retry::read_retrying;
use crate::http::origin::origin_allowed;

/// Why an upgrade is refused; the socket is closed with this code right after upgrading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No valid credentials: 4001.
    Unauthorized,
    /// A cookie from a page of another site: 4003.
    ForeignOrigin,
    /// The store failed while checking: 1011.
    Unavailable,
    /// The peer's address holds the most connections it may: 4103.
    TooManyConnections,
}

impl Refusal {
    pub fn close_code(self) -> CloseCode {
        match self {
            Refusal::Unauthorized => CloseCode::Unauthorized,
            Refusal::ForeignOrigin => CloseCode::ForbiddenOrigin,
            Refusal::Unavailable => CloseCode::InternalError,
            Refusal::TooManyConnections => CloseCode::TooManyConnections,
        }
    }
}

/// How a request authenticated by cookie must show where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieOrigin {
    /// `Origin` must be present and ours (WebSocket upgrades).
    Required,
    /// `Origin`, when present, must be ours (event streams).
    IfPresent,
}

/// Authenticates a request by API token or session cookie.
pub async fn authenticate(
    gateway: &Gateway,
    headers: &HeaderMap,
    session: &Session,
    rule: CookieOrigin,
) -> Result<User, Refusal> {
    let store = gateway.store();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let secret = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Refusal::Unauthorized)?;
        let hash = app::ssr::tokens::lookup_hash(secret.trim()).ok_or(Refusal::Unauthorized)?;
        // A storm of reconnects can meet the pool's timeout: ask again rather than refuse.
        return match read_retrying(|| store.user_by_token_hash(&hash)).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(Refusal::Unauthorized),
            Err(err) => {
                tracing::warn!(cause = %err, "token lookup failed");
                Err(Refusal::Unavailable)
            }
        };
    }
    match app::ssr::sessions::current_user(session, &*store).await {
        // The cookie authenticates; it counts only if our own page sent it.
        Ok(Some(_)) if !cookie_origin_ok(rule, headers, &gateway.settings().origins) => {
            Err(Refusal::ForeignOrigin)
        }
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(Refusal::Unauthorized),
        Err(err) => {
            tracing::warn!(cause = %err, "session lookup failed");
            Err(Refusal::Unavailable)
        }
    }
}

/// Whether a request authenticated by cookie shows where it comes from as `rule` asks.
fn cookie_origin_ok(rule: CookieOrigin, headers: &HeaderMap, allowed: &[String]) -> bool {
    match rule {
        CookieOrigin::Required => origin_allowed(headers, allowed),
        CookieOrigin::IfPresent => {
            !headers.contains_key(header::ORIGIN) || origin_allowed(headers, allowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::origin::tests::headers;

    #[test]
    fn event_streams_take_a_cookie_without_origin_but_never_a_foreign_one() {
        let none = headers(None, "chat.example");
        let evil = headers(Some("https://evil.example"), "chat.example");
        assert!(cookie_origin_ok(CookieOrigin::IfPresent, &none, &[]));
        assert!(!cookie_origin_ok(CookieOrigin::Required, &none, &[]));
        assert!(!cookie_origin_ok(CookieOrigin::IfPresent, &evil, &[]));
    }
}
