//! The invite dialog's link ([`InviteLinkMaker`]): besides picking people one by one, a
//! member may make a link to the room (valid for a week; docs/moderation.md) and share it.
//! Whoever opens it signed in joins the room and lands in it. The link is shown in full,
//! selected when focused, with a button that copies it.

use leptos::prelude::*;
use protocol::ids::RoomId;

use super::clipboard::{absolute, copy};
use crate::chat::api::{InviteLink, make_invite_link};

/// "Create an invite link", then the link itself.
#[component]
pub fn InviteLinkMaker(room: RoomId) -> impl IntoView {
    let made = RwSignal::new(None::<InviteLink>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let make = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match make_invite_link(room).await {
                Ok(link) => {
                    made.set(Some(link));
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="invite-link" data-testid="invite-link-section">
            <h3 class="invite-link__title">"Or share a link"</h3>
            <p class="hint">"Anyone signed in who opens it joins this room. It works for a week."</p>
            {move || match made.get() {
                None => view! {
                    <button class="button" data-testid="invite-link-create" disabled=move || busy.get()
                        on:click=make>"Create an invite link"</button>
                }.into_any(),
                Some(link) => {
                    let url = absolute(&link.path);
                    let to_copy = url.clone();
                    view! {
                        <div class="invite-link__row">
                            <input class="invite-link__url" readonly data-testid="invite-link"
                                aria-label="Invite link" prop:value=url
                                on:focus=move |ev| select_all(&ev) />
                            <button class="button" data-testid="invite-link-copy"
                                on:click=move |_| { copy(&to_copy); copied.set(true); }>
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </div>
                    }.into_any()
                }
            }}
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
        </section>
    }
}

/// Selects the whole of the focused input, ready to copy by hand.
fn select_all(ev: &leptos::ev::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.select();
    }
}
