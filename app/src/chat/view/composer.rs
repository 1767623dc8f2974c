//! Writing and editing. Enter sends, Shift+Enter starts a new line, Up in an empty
//! composer edits one's last message, Esc cancels an edit. Typing tells the room (the
//! live client throttles it). Text is checked against the protocol's rules before it
//! leaves, so the person sees a problem at once.

use leptos::html::Textarea;
use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId};
use protocol::names::Body;

use crate::chat::state::use_chat;

/// The message being edited in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editing {
    pub id: MessageId,
    pub body: String,
}

#[component]
pub fn Composer(room: RoomId, title: String, editing: RwSignal<Option<Editing>>) -> impl IntoView {
    let chat = use_chat();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let input = NodeRef::<Textarea>::new();

    // Starting an edit puts the message's text in the composer.
    Effect::new(move |_| {
        if let Some(e) = editing.get() {
            text.set(e.body.clone());
            if let Some(el) = input.get_untracked() {
                el.set_value(&e.body);
                let _ = el.focus();
            }
        }
    });

    let clear = move || {
        text.set(String::new());
        if let Some(el) = input.get_untracked() {
            el.set_value("");
        }
        problem.set(None);
    };
    let submit = move || {
        let raw = text.get_untracked();
        if raw.trim().is_empty() {
            return;
        }
        if let Err(e) = Body::parse(&raw) {
            problem.set(Some(e.message));
            return;
        }
        match editing.get_untracked() {
            Some(e) => {
                if e.body != raw {
                    chat.edit(room, e.id, raw);
                }
                editing.set(None);
            }
            None => chat.send(room, raw),
        }
        clear();
    };
    let last_own = move || {
        let me = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id))?;
        chat.timelines.with_untracked(|t| {
            t.get(&room)?
                .lines
                .iter()
                .rev()
                .find(|l| l.message.author.id == me && !l.message.deleted && l.local.is_none())
                .map(|l| Editing {
                    id: l.message.id,
                    body: l.message.body.clone(),
                })
        })
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" if !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            submit();
        }
        "ArrowUp" if text.get_untracked().is_empty() && editing.get_untracked().is_none() => {
            if let Some(e) = last_own() {
                ev.prevent_default();
                editing.set(Some(e));
            }
        }
        "Escape" if editing.get_untracked().is_some() => {
            ev.prevent_default();
            editing.set(None);
            clear();
        }
        _ => {}
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        problem.set(None);
        chat.typing(room);
    };
    let placeholder = format!("Message {title}");

    view! {
        <form class="composer" data-testid="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <Show when=move || editing.get().is_some()>
                <p class="composer__editing" data-testid="editing">
                    "Editing your message — Enter to save, Esc to cancel"
                </p>
            </Show>
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
            <div class="composer__row">
                <textarea
                    node_ref=input
                    class="composer__input"
                    rows="1"
                    aria-label="Message"
                    placeholder=placeholder
                    on:keydown=on_keydown
                    on:input=on_input
                    prop:value=move || text.get()
                ></textarea>
                <button type="submit" class="button" aria-label=move || if editing.get().is_some() { "Save edit" } else { "Send" }>
                    {move || if editing.get().is_some() { "Save" } else { "Send" }}
                </button>
            </div>
        </form>
    }
    .into_any()
}
