//! `/`: the chat for a signed-in person; for everyone else, the landing page: what
//! Confab is, a picture of the chat, and the ways in (sign up, log in). The chat's code is
//! loaded only for the first ([`super::split`]).

use leptos::prelude::*;

use super::split::chat_screen;
use crate::session_ui::{AccountMenu, use_session};

/// The chat, or the landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) => chat_screen(me, Signal::derive(|| None)).await,
                    _ => view! { <Landing /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What Confab does, in a few lines each.
const FEATURES: [(&str, &str); 4] = [
    (
        "Rooms, direct messages and threads",
        "Public rooms anyone can join, private rooms by invitation, one-to-one \
         conversations, replies in threads, reactions, mentions and search.",
    ),
    (
        "Live, and it tells you so",
        "Messages, typing, read receipts and who is online arrive as they happen; the \
         badge at the top says whether you are connected.",
    ),
    (
        "Nothing lost",
        "A message is confirmed only once it is stored. Lose the network and Confab keeps \
         what you wrote, reconnects and catches up where you left off.",
    ),
    (
        "Yours to run",
        "One program with its own database, or several behind a load balancer sharing \
         Postgres and Redis.",
    ),
];

/// The landing page for visitors.
#[component]
fn Landing() -> impl IntoView {
    view! {
        <div class="landing" data-testid="landing">
            <header class="topbar landing__top">
                <a class="brand" href="/">"Confab"</a>
                <AccountMenu />
            </header>
            <main>
                <section class="hero" aria-labelledby="hero-title">
                    <div class="hero__text">
                        <h1 id="hero-title" class="hero__title">"Team chat that keeps up."</h1>
                        <p class="lede">
                            "Confab is real-time chat for teams: rooms, direct messages and \
                             threads that stay in step on every screen, and never drop a message."
                        </p>
                        <div class="hero__actions">
                            <a class="button button--big" href="/signup">"Create an account"</a>
                            <a class="button button--quiet button--big" href="/login">"I already have an account"</a>
                        </div>
                    </div>
                    <figure class="hero__picture">
                        <img src="/screenshots/chat.png" width="1280" height="800"
                            alt="The Confab chat: the room list on the left, a conversation in the middle with its composer, and the room's members on the right." />
                    </figure>
                </section>
                <section class="features" aria-label="What Confab does">
                    {FEATURES.into_iter().map(|(title, text)| view! {
                        <article class="feature">
                            <h2>{title}</h2>
                            <p>{text}</p>
                        </article>
                    }).collect_view()}
                </section>
            </main>
        </div>
    }
}
