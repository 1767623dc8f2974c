//! The page shown for an unknown path.

use leptos::prelude::*;

/// Rendered by the router when no route matches; the server answers 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http_status_not_found());
        }
    }
    view! {
        <main class="page page--narrow">
            <h1>"Not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Back to Confab"</a></p>
        </main>
    }
}

#[cfg(feature = "ssr")]
fn http_status_not_found() -> http::StatusCode {
    http::StatusCode::NOT_FOUND
}
