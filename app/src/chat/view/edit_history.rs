//! A message's "(edited)" mark, a button that opens its edit history in a dialog: every
//! version, newest first, each with the time it was written in full
//! ([`crate::chat::edit_history`]). The earlier bodies are read when the dialog opens
//! (`/api/chat/edit_history`), so the list is never older than the click.

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId};

use super::formatted::Formatted;
use super::modal::Modal;
use crate::chat::api::edit_history;
use crate::chat::dates::full_time;
use crate::chat::edit_history::versions;
use crate::chat::state::use_chat;

#[component]
pub fn EditedMark(
    room: RoomId,
    message: MessageId,
    body: String,
    created_at: i64,
    edited_at: i64,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let body = StoredValue::new(body);
    view! {
        <button class="message__edited link-button" data-testid="edited"
            title="Show the earlier versions" on:click=move |_| open.set(true)>"(edited)"</button>
        {move || open.get().then(|| view! {
            <History room message body=body.get_value() created_at edited_at close=move || open.set(false) />
        })}
    }
}

#[component]
fn History(
    room: RoomId,
    message: MessageId,
    body: String,
    created_at: i64,
    edited_at: i64,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let chat = use_chat();
    let earlier = LocalResource::new(move || edit_history(room, message));
    view! {
        <Modal title="Edit history" close>
            <Suspense fallback=|| view! { <p>"Loading the earlier versions…"</p> }>
                {move || {
                    let body = body.clone();
                    earlier.get().map(|found| match found {
                        Ok(list) => {
                            let offset = chat.utc_offset_min.get_untracked();
                            view! {
                                <ol class="history" data-testid="edit-history">
                                    {versions(&body, created_at, edited_at, &list).into_iter().map(|v| view! {
                                        <li class="history__version" data-testid="version">
                                            <p class="history__when">
                                                <strong>{v.label}</strong>" · "{full_time(v.since, offset)}
                                            </p>
                                            <div class="message__body"><Formatted text=v.body /></div>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Suspense>
        </Modal>
    }
}
