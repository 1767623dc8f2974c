//! A room's pinned messages: the header's "📌 N" button, and the list it opens in a
//! dialog, newest pin first. Each pin shows its author, time and text, a link to the
//! message in the room (`?at=`), and for moderators an Unpin button. The list is the
//! room's [`crate::chat::pins::Pins`], kept current by its events.

use leptos::prelude::*;
use protocol::MessageView;
use protocol::ids::{MessageId, RoomId};

use super::attachments::MessageBody;
use super::modal::Modal;
use crate::chat::link::RequestKind;
use crate::chat::state::{Chat, use_chat};
use crate::chat::text::clock;

/// The room's pins, newest first (`chat` is passed in: reactive closures that call this
/// may run while their view is being taken down, when context can no longer be found).
fn pins_of(chat: Chat, room: RoomId) -> Vec<MessageView> {
    chat.timelines.with(|t| {
        t.get(&room)
            .map(|tl| tl.pins.list().to_vec())
            .unwrap_or_default()
    })
}

/// Asks the server to pin or unpin `message`; a refusal is shown as a notice.
pub fn set_pin(room: RoomId, message: MessageId, pin: bool) {
    let chat = use_chat();
    chat.request(RequestKind::Pin { room, message, pin }, move |reply| {
        if let Err(e) = reply {
            let what = if pin { "pin" } else { "unpin" };
            chat.notify(format!("Could not {what} the message: {e}"));
        }
    });
}

/// The header's button: how many messages are pinned; opens the list.
#[component]
pub fn PinsButton(room: RoomId, open: RwSignal<bool>) -> impl IntoView {
    let chat = use_chat();
    let count = move || pins_of(chat, room).len();
    view! {
        <button class="button button--quiet" data-testid="pins-toggle"
            aria-label=move || format!("Pinned messages ({})", count())
            on:click=move |_| open.set(true)>
            {move || format!("📌 {}", count())}
        </button>
    }
}

/// The list, in a dialog while `open`.
#[component]
pub fn PinsDialog(room: RoomId, open: RwSignal<bool>, moderates: bool) -> impl IntoView {
    let chat = use_chat();
    let close = move || open.set(false);
    move || {
        open.get().then(|| {
            let pins = move || pins_of(chat, room);
            view! {
                <Modal title="Pinned messages" close>
                    <Show when=move || !pins().is_empty()
                        fallback=move || view! {
                            <p class="pins__empty" data-testid="pins-empty">
                                {if moderates { "Nothing is pinned yet. Pin a message from its tools." } else { "Nothing is pinned yet." }}
                            </p>
                        }>
                        <ul class="pins" data-testid="pins">
                            <For each=pins key=|m| (m.id, m.edited_at, m.reactions.len()) let:m>
                                {
                                    let id = m.id;
                                    let at = m.created_at;
                                    let href = format!("/r/{room}?at={}", m.seq);
                                    view! {
                                        <li class="pin" data-testid="pin">
                                            <p class="pin__meta">
                                                <span class="message__author">{m.author.name.clone()}</span>
                                                " "
                                                <time class="message__time">{move || clock(at, chat.utc_offset_min.get())}</time>
                                            </p>
                                            <MessageBody body=m.body.clone() files=m.files.clone() />
                                            <div class="pin__actions">
                                                <a class="button button--quiet" href=href on:click=move |_| close()>"Go to message"</a>
                                                {moderates.then(|| view! {
                                                    <button class="button button--quiet" data-testid="unpin"
                                                        on:click=move |_| set_pin(room, id, false)>"Unpin"</button>
                                                })}
                                            </div>
                                        </li>
                                    }
                                }
                            </For>
                        </ul>
                    </Show>
                </Modal>
            }
        })
    }
}
