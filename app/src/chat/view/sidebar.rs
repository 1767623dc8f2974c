//! The sidebar: the reader's rooms, then their direct messages, each with an unread
//! count, and the buttons that open the dialogs. Server-rendered from [`my_rooms`];
//! after hydration it follows the live state (unread counts, joins, leaves).

use leptos::prelude::*;
use protocol::ids::RoomId;

use super::dialogs::Dialog;
use crate::chat::api::{RoomItem, RoomKind, my_rooms};
use crate::chat::state::use_chat;
use crate::hydration::use_hydrated;

#[component]
pub fn Sidebar(open: Signal<Option<RoomId>>, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let chat = use_chat();
    // Read once (server-rendered); afterwards the live state keeps the list, and
    // `Chat::refresh_rooms` reads it again when memberships change. This resource is never
    // refetched on purpose: the views inside the suspense below hold state of their own.
    let fetched = Resource::new(|| (), |_| my_rooms());
    Effect::new(move |_| {
        if let Some(Ok(list)) = fetched.get()
            && chat.rooms.get_untracked().is_none()
        {
            chat.rooms.set(Some(list));
            if let Some(room) = chat.open_room.get_untracked() {
                chat.set_unread(room, 0);
            }
        }
    });

    view! {
        <nav class="sidebar" aria-label="Rooms">
            <Transition fallback=|| view! { <p class="sidebar__loading">"Loading rooms…"</p> }>
                {move || Suspend::new(async move {
                    let first = fetched.await.unwrap_or_default();
                    view! { <RoomLinks first open dialog /> }
                })}
            </Transition>
        </nav>
    }
}

#[component]
fn RoomLinks(
    first: Vec<RoomItem>,
    open: Signal<Option<RoomId>>,
    dialog: RwSignal<Option<Dialog>>,
) -> impl IntoView {
    let chat = use_chat();
    let hydrated = use_hydrated();
    // The live list once the browser has it; the server-rendered one until then.
    let list = Memo::new(move |_| chat.rooms.get().unwrap_or_else(|| first.clone()));
    let rooms = move || {
        list.get()
            .into_iter()
            .filter(|r| r.kind != RoomKind::Dm)
            .collect::<Vec<_>>()
    };
    let dms = move || {
        list.get()
            .into_iter()
            .filter(|r| r.kind == RoomKind::Dm)
            .collect::<Vec<_>>()
    };
    view! {
        <div class="sidebar__section">
            <div class="sidebar__heading">
                <h2>"Rooms"</h2>
                <button class="icon-button" aria-label="Create a room" title="Create a room"
                    disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::NewRoom))>"+"</button>
            </div>
            <ul class="room-list" data-testid="rooms">
                <For each=rooms key=|r| (r.id, r.unread, r.mentions, r.title.clone()) let:r>
                    <RoomLink item=r open />
                </For>
            </ul>
            <button class="link-button" disabled=move || !hydrated.get()
                on:click=move |_| dialog.set(Some(Dialog::Browse))>"Browse rooms"</button>
            <noscript class="nojs sidebar__nojs" data-testid="rooms-nojs">"Creating and browsing rooms and starting direct messages need JavaScript."</noscript>
        </div>
        <div class="sidebar__section">
            <div class="sidebar__heading">
                <h2>"Direct messages"</h2>
                <button class="icon-button" aria-label="New direct message" title="New direct message"
                    disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::NewDm))>"+"</button>
            </div>
            <ul class="room-list" data-testid="dms">
                <For each=dms key=|r| (r.id, r.unread, r.mentions, r.title.clone()) let:r>
                    <RoomLink item=r open />
                </For>
            </ul>
        </div>
    }
    .into_any()
}

#[component]
fn RoomLink(item: RoomItem, open: Signal<Option<RoomId>>) -> impl IntoView {
    let id = item.id;
    let href = format!("/r/{id}");
    let prefix = item.kind.sigil();
    let unread = item.unread;
    let mentions = item.mentions;
    let label = match (unread, mentions) {
        (0, _) => item.title.clone(),
        (n, 0) => format!("{}, {n} unread", item.title),
        (n, 1) => format!("{}, {n} unread, 1 mention", item.title),
        (n, m) => format!("{}, {n} unread, {m} mentions", item.title),
    };
    view! {
        <li>
            <a
                href=href
                class="room-link"
                class:room-link--open=move || open.get() == Some(id)
                class:room-link--unread={unread > 0}
                aria-current=move || (open.get() == Some(id)).then_some("page")
                aria-label=label
                data-testid="room-link"
                data-room=id.to_string()
            >
                <span class="room-link__prefix" aria-hidden="true">{prefix}</span>
                <span class="room-link__title">{item.title.clone()}</span>
                {(mentions > 0).then(|| view! {
                    <span class="unread unread--mention" data-testid="mentions" aria-hidden="true">
                        {format!("@{mentions}")}
                    </span>
                })}
                {(unread > 0).then(|| view! {
                    <span class="unread" data-testid="unread" aria-hidden="true">{unread}</span>
                })}
            </a>
        </li>
    }
}
