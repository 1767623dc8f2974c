//! Where a request comes from, and the CSRF rule built on it.
//!
//! A page of another site can make a browser send a request to us with the user's
//! cookie. For reads that is harmless (the other page cannot see the answer), for
//! writes it is cross-site request forgery. SameSite=Lax already keeps the session cookie
//! off cross-site POSTs in current browsers; this is the second, server-side guard:
//! a state-changing request (any method but GET, HEAD, OPTIONS) that a browser marks as
//! coming from another site — by `Origin`, or by `Sec-Fetch-Site` when there is no
//! `Origin` — is refused with 403 before it reaches a handler. Requests without either
//! header come from tools (curl, bots), not from a browser page, and pass.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Whether the request's `Origin` is allowed: one of `allowed`, or — when none are
/// configured — the very host the request was sent to. A missing Origin is refused
/// (browsers always send it on WebSocket upgrades).
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.trim_end_matches('/') == origin);
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host == Some(host)
}

/// Whether a state-changing request may proceed, by the rule in the module doc.
pub fn write_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    if headers.contains_key(header::ORIGIN) {
        return origin_allowed(headers, allowed);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none": typed into the address bar or opened from a bookmark.
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// Middleware: refuses cross-site state-changing requests with 403.
pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || write_allowed(request.headers(), &state.settings.origins) {
        return next.run(request).await;
    }
    metrics::counter!("confab_cross_site_refused_total").increment(1);
    tracing::info!(path = %request.uri().path(), "cross-site write refused");
    (
        StatusCode::FORBIDDEN,
        "cross-site request refused: this site's own pages may change things, other sites' may not",
    )
        .into_response()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Request headers with `Host` and, if given, `Origin`.
    pub(crate) fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_our_own_pages_may_use_the_cookie() {
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"),
            &[]
        ));
        assert!(origin_allowed(
            &headers(Some("https://chat.example"), "chat.example"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("https://evil.example"), "chat.example"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://chat.example.evil.example"), "chat.example"),
            &[]
        ));
        assert!(!origin_allowed(&headers(None, "chat.example"), &[]));
    }

    #[test]
    fn configured_origins_replace_the_host_rule() {
        let allowed = vec!["https://chat.example/".to_string()];
        assert!(origin_allowed(
            &headers(Some("https://chat.example"), "internal:3000"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://internal:3000"), "internal:3000"),
            &allowed
        ));
    }

    #[test]
    fn writes_need_our_origin_or_a_same_origin_fetch() {
        let ours = headers(Some("https://chat.example"), "chat.example");
        let evil = headers(Some("https://evil.example"), "chat.example");
        assert!(write_allowed(&ours, &[]));
        assert!(!write_allowed(&evil, &[]));
        let mut fetched = headers(None, "chat.example");
        assert!(write_allowed(&fetched, &[]), "a tool sends neither header");
        fetched.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!write_allowed(&fetched, &[]));
        fetched.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(
            !write_allowed(&fetched, &[]),
            "a sibling subdomain is another site"
        );
        fetched.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(write_allowed(&fetched, &[]));
    }
}
