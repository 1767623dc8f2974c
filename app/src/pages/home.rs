//! `/`: the chat for a signed-in person; for everyone else, the landing page, which also
//! proves the whole chain (server rendering, hydration, client-side state, a server
//! function round trip).

use leptos::prelude::*;

use crate::chat::view::ChatScreen;
use crate::session_ui::{AccountMenu, use_session};
use crate::status::StatusReport;

/// The chat, or the landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) => view! { <ChatScreen me room=Signal::derive(|| None) /> }.into_any(),
                    _ => view! { <Landing /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The landing page for visitors.
#[component]
fn Landing() -> impl IntoView {
    view! {
        <main class="page">
            <header class="topbar">
                <h1 class="brand">"Confab"</h1>
                <AccountMenu />
            </header>
            <p class="lede">"Real-time team chat. One binary, nothing lost."</p>
            <section class="card" aria-labelledby="counter-title">
                <h2 id="counter-title">"Client-side state"</h2>
                <Counter />
            </section>
            <section class="card" aria-labelledby="server-title">
                <h2 id="server-title">"Server function"</h2>
                <StatusReportProbe />
            </section>
        </main>
    }
}

/// A button whose count lives only in the browser.
#[component]
fn Counter() -> impl IntoView {
    let count = RwSignal::new(0u32);
    view! {
        <button class="button" data-testid="counter" on:click=move |_| *count.write() += 1>
            "Clicked " {count} " times"
        </button>
    }
}

/// Asks the server for its status through a server function.
#[component]
fn StatusReportProbe() -> impl IntoView {
    let ask = Action::new(|_: &()| crate::status::server_status());
    let answer = move || match ask.value().get() {
        None => "Not asked yet.".to_string(),
        Some(Ok(status)) => describe(&status),
        Some(Err(err)) => format!("The server did not answer: {err}"),
    };
    view! {
        <button
            class="button"
            data-testid="ask-server"
            disabled=move || ask.pending().get()
            on:click=move |_| {
                ask.dispatch(());
            }
        >
            "Ask the server"
        </button>
        <p data-testid="server-answer" aria-live="polite">{answer}</p>
    }
}

fn describe(status: &StatusReport) -> String {
    format!(
        "{} answered; up for {} s.",
        status.server, status.uptime_secs
    )
}
