//! The search dialog: a query box, then the hits (best first), each showing its room,
//! author, time and body with the matched words marked. A hit links to its room at that
//! message (`/r/{room}?at={seq}`), where the message list scrolls to it.

use leptos::prelude::*;

use crate::chat::api::{SearchHit, search_messages};
use crate::chat::search::marked;
use crate::chat::state::use_chat;
use crate::chat::text::clock;

#[component]
pub fn Search(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    // The query last submitted; nothing is searched before the first.
    let submitted = RwSignal::new(None::<String>);
    let hits = Resource::new(
        move || submitted.get(),
        |query| async move {
            match query {
                Some(q) => search_messages(q.clone()).await.map(|hits| Some((q, hits))),
                None => Ok(None),
            }
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = typed.get_untracked();
        if !q.trim().is_empty() {
            submitted.set(Some(q));
        }
    };
    view! {
        <form class="form search-form" role="search" on:submit=submit>
            <input type="search" required data-autofocus="true" maxlength="200" placeholder="Search messages"
                aria-label="Search messages" data-testid="search-input"
                on:input=move |ev| typed.set(event_target_value(&ev)) prop:value=move || typed.get() />
            <button type="submit" class="button">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                match hits.await {
                    Ok(None) => view! { <p class="search__hint">"Every word must match the start of a word. Only your rooms are searched."</p> }.into_any(),
                    Ok(Some((q, list))) if list.is_empty() => view! {
                        <p data-testid="search-empty">{format!("No messages match “{q}”.")}</p>
                    }.into_any(),
                    Ok(Some((q, list))) => {
                        let terms = protocol::search::terms(&q);
                        view! {
                            <ul class="pick-list search-hits" data-testid="search-hits">
                                {list.into_iter().map(|hit| view! { <Hit hit terms=terms.clone() close /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Hit(
    hit: SearchHit,
    terms: Vec<String>,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let chat = use_chat();
    let m = hit.message;
    let href = format!("/r/{}?at={}", hit.room.id, m.seq);
    let created = m.created_at;
    let runs = marked(&m.body, &terms);
    view! {
        <li>
            <a class="pick search-hit" href=href data-testid="search-hit" data-room=hit.room.id.to_string()
                on:click=move |_| close()>
                <span class="search-hit__where">
                    <span class="search-hit__room">{hit.room.kind.sigil()}{hit.room.title.clone()}</span>
                    " · "{m.author.name.clone()}" · "
                    <time>{move || clock(created, chat.utc_offset_min.get())}</time>
                </span>
                <span class="search-hit__body" data-testid="search-hit-body">
                    {runs.into_iter().map(|r| if r.hit {
                        view! { <mark>{r.text}</mark> }.into_any()
                    } else {
                        r.text.into_any()
                    }).collect_view()}
                </span>
            </a>
        </li>
    }
}
