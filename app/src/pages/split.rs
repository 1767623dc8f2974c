//! What a first visit does not download: the chat's code. The routes that show the chat
//! choose their view asynchronously, loading the chat's part of the browser bundle first
//! ([`chat_page`], a split point of `cargo leptos build --split`); the landing, sign-up
//! and log-in pages never load it. The server renders the same views in full (and tells
//! the page to fetch that part early), and the browser hydrates a chat page only once its
//! code is there (`leptos::mount::hydrate_lazy`).
//!
//! The router awaits a route's `preload` before it hydrates (or shows) the route, but
//! hydrates its `choose` synchronously: so `preload` loads the chat's part (and, for `/`,
//! reads the session first), and `choose` then finds everything ready. On the server
//! `preload` must finish at once, and does nothing.

use leptos::prelude::*;
use leptos_router::ChooseView;

use crate::session_ui::use_session;

/// Which chat page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatPage {
    /// `/` for a signed-in person: the room list.
    Home,
    /// `/r/{room}`.
    Room,
}

/// The chat pages' views, in the part of the bundle loaded on demand.
#[lazy]
pub fn chat_page(page: ChatPage) -> AnyView {
    match page {
        ChatPage::Home => view! { <super::home::ChatHome /> }.into_any(),
        ChatPage::Room => view! { <super::chat::RoomPage /> }.into_any(),
    }
}

/// `/`: the chat for a signed-in person; for everyone else the landing page, without
/// loading the chat's code.
#[derive(Debug, Clone, Copy)]
pub struct HomeRoute;

impl ChooseView for HomeRoute {
    async fn choose(self) -> AnyView {
        match use_session().me.await {
            Ok(Some(_)) => chat_page(ChatPage::Home).await,
            _ => view! { <super::home::Landing /> }.into_any(),
        }
    }

    async fn preload(&self) {
        #[cfg(feature = "hydrate")]
        if matches!(use_session().me.await, Ok(Some(_))) {
            __preload_chat_page().await;
        }
    }
}

/// `/r/{room}`: a room (or, signed out, the way to log in).
#[derive(Debug, Clone, Copy)]
pub struct RoomRoute;

impl ChooseView for RoomRoute {
    async fn choose(self) -> AnyView {
        chat_page(ChatPage::Room).await
    }

    async fn preload(&self) {
        #[cfg(feature = "hydrate")]
        __preload_chat_page().await;
    }
}
