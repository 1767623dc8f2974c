//! What a first visit does not download: the chat's code. The chat screen is a part of
//! the browser bundle of its own ([`chat_screen`], a split point of
//! `cargo leptos build --split`), loaded only when a signed-in person's page shows it; the
//! landing, sign-up and log-in pages (and a room's "please log in") never load it. The
//! server renders every page in full and names that part in the page, so the browser
//! fetches it alongside the main bundle.
//!
//! Hydration takes the server's HTML as it is and hydrates a `Suspend` with what its
//! future gives at the first poll, so the chat's code must be there before the page
//! hydrates. The router awaits a route's `preload` before it hydrates (or shows) the
//! route (`leptos::mount::hydrate_lazy`), so the chat's routes ([`HomeRoute`],
//! [`RoomRoute`]) read the session and, for a signed-in person, load the chat's part
//! there; their views then find everything ready. On the server `preload` must finish at
//! once (and `choose` too: the router polls it from any thread), so there both do nothing
//! but build the view.

use leptos::prelude::*;
use leptos_router::ChooseView;
use protocol::ids::RoomId;

use crate::auth::Me;
#[cfg(feature = "hydrate")]
use crate::session_ui::use_session;

/// The chat screen, in the part of the bundle loaded on demand.
#[lazy]
pub fn chat_screen(me: Me, room: Signal<Option<RoomId>>) -> AnyView {
    view! { <crate::chat::view::ChatScreen me room /> }.into_any()
}

/// In the browser, reads the session and, if someone is signed in, loads the chat's part.
async fn preload_for_session() {
    #[cfg(feature = "hydrate")]
    if matches!(use_session().me.await, Ok(Some(_))) {
        __preload_chat_screen().await;
    }
}

/// `/`: the chat for a signed-in person, the landing page for everyone else.
#[derive(Debug, Clone, Copy)]
pub struct HomeRoute;

impl ChooseView for HomeRoute {
    async fn choose(self) -> AnyView {
        view! { <super::home::HomePage /> }.into_any()
    }

    async fn preload(&self) {
        preload_for_session().await;
    }
}

/// `/r/{room}`: a room, or for someone signed out the way to log in.
#[derive(Debug, Clone, Copy)]
pub struct RoomRoute;

impl ChooseView for RoomRoute {
    async fn choose(self) -> AnyView {
        view! { <super::chat::RoomPage /> }.into_any()
    }

    async fn preload(&self) {
        preload_for_session().await;
    }
}
