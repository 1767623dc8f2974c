//! The Content-Security-Policy of pages. Scripts run only from our own origin or when
//! they carry this response's nonce (the inline scripts Leptos writes for hydration and
//! streamed resources get it from the integration's `nonce` feature); wasm may be
//! compiled; styles, images, fonts and connections (the WebSocket included) stay on our
//! origin; nothing may frame the page, change its base URL or post forms elsewhere.
//! Responses that are not pages keep the router's plain `frame-ancestors 'none'`.

use leptos::prelude::use_context;

/// The policy for a page whose inline scripts carry `nonce`.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// Sets the policy on the response being rendered (a no-op outside a page render).
pub fn set_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&policy(&nonce.to_string())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::policy;

    #[test]
    fn scripts_need_our_origin_or_the_nonce() {
        let p = policy("abc123");
        assert!(p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!p.contains("unsafe-inline"));
        assert!(p.contains("frame-ancestors 'none'"));
    }
}
