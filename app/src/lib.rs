//! Confab's user interface: the HTML shell, the routes, the pages and the server
//! functions they call. Rendered on the server (`ssr`) and hydrated in the browser
//! (`hydrate`); code that needs the server's engines lives in [`ssr`] and inside
//! `#[server]` bodies only.
//!
//! # Layout
//! - [`pages`]: one module per page.
//! - [`chat`]: the chat client: state, live connection, server functions, components.
//! - [`hydration`]: whether the page is hydrated yet.
//! - [`live`]: the visible connection state and the reconnect backoff.
//! - [`status`]: the `server_status` server function.
//! - [`auth`]: account server functions (sign up, log in, log out, current user).
//! - [`account`]: account settings server functions (name, profile, password, sessions,
//!   tokens, deactivation), for the `/settings` page.
//! - [`admin`]: the site admin's server functions (find and deactivate accounts), for the
//!   `/admin` page.
//! - [`session_ui`]: the current user for every page, and the account menu.
//! - [`ssr`]: server-only context types the server provides to server functions.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

pub mod account;
pub mod admin;
pub mod auth;
pub mod chat;
pub mod hydration;
pub mod live;
pub mod pages;
pub mod session_ui;
pub mod status;

#[cfg(feature = "ssr")]
pub mod ssr;

/// The HTML document around the app, rendered on the server for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::csp::set_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: stylesheet, title and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session_ui::provide_session();
    chat::provide_chat();
    let hydrated = hydration::use_hydrated();

    view! {
        <Title text="Confab" />
        <div id="app" data-hydrated=move || hydrated.get().to_string()>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                // In-order streaming: every suspense is resolved in the HTML as sent, so a
                // page is complete before (and without) hydration.
                // The chat's routes load its code first (pages::split).
                <Route path=StaticSegment("") view=pages::split::HomeRoute ssr=SsrMode::InOrder />
                <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::InOrder />
                <Route path=StaticSegment("signup") view=pages::signup::SignupPage ssr=SsrMode::InOrder />
                <Route path=StaticSegment("settings") view=pages::settings::SettingsPage ssr=SsrMode::InOrder />
                <Route path=StaticSegment("admin") view=pages::admin::AdminPage ssr=SsrMode::InOrder />
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=pages::split::RoomRoute ssr=SsrMode::InOrder />
            </Routes>
        </Router>
        </div>
    }
}
