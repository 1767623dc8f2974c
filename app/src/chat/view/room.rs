//! One open room: its header (name, kind, members online, invite and leave), the
//! message list, the typing line, the composer and the member list. Files dropped
//! anywhere on the conversation attach to the composer's next message. The first page is
//! server-rendered from [`load_room`]; once hydrated the room is opened in the live
//! state, which subscribes from the page's last seq.

use leptos::prelude::*;
use protocol::ids::RoomId;
use protocol::{Status, UserView};

use super::composer::{Composer, Editing};
use super::dialogs::Dialog;
use super::jump::jump_target;
use super::messages::MessageList;
use super::status::{describe, status_key, status_label};
use super::thread::ThreadPane;
use super::uploads::DropZone;
use crate::chat::api::{RoomKind, RoomPage, load_room};
use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;
use crate::chat::text::typing_line;
use crate::chat::uploads::Tray;

#[component]
pub fn RoomView(room: RoomId, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let chat = use_chat();
    // `?at=SEQ` (a search hit): the page reaches back to that message. Read once: the
    // message list follows later changes of it itself.
    let query = leptos_router::hooks::use_query_map();
    let page = Resource::new(
        move || room,
        move |room| load_room(room, query.with_untracked(jump_target)),
    );
    Effect::new(move |_| {
        if let Some(Ok(p)) = page.get() {
            chat.open(&p);
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="room__loading">"Loading the room…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <OpenRoom page=p dialog /> }.into_any(),
                    Err(e) => view! {
                        <section class="empty" data-testid="room-error">
                            <h2>"This room cannot be shown"</h2>
                            <p>{e.to_string()}</p>
                            <a href="/">"Back to your rooms"</a>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn OpenRoom(page: RoomPage, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let chat = use_chat();
    let room = page.room.id;
    let kind = page.room.kind;
    let title = page.room.title.clone();
    let show_members = RwSignal::new(false);
    let members_toggle = NodeRef::<leptos::html::Button>::new();
    let editing = RwSignal::new(None::<Editing>);
    // The files waiting to go with the composer's next message.
    let tray = RwSignal::new(Tray::default());
    // The thread open beside the room, by its root.
    let thread = RwSignal::new(None::<protocol::ids::MessageId>);
    let navigate = leptos_router::hooks::use_navigate();
    let leave = move |_| {
        let navigate = navigate.clone();
        chat.request(RequestKind::Leave { room }, move |reply| match reply {
            Ok(_) => {
                chat.refresh_rooms();
                navigate("/", Default::default());
            }
            Err(e) => chat.notify(format!("Could not leave: {e}")),
        });
    };
    let typing = move || {
        let names: Vec<String> = chat.typing.with(|t| t.names(room));
        typing_line(&names)
    };
    // What the drop zone's contents take (its children are built apart from the rest).
    let (conversation_page, composer_title) = (page.clone(), title.clone());
    let prefix = match kind {
        RoomKind::Public => "#",
        RoomKind::Private => "🔒 ",
        RoomKind::Dm => "@",
    };
    view! {
        <section class="room" data-testid="room" data-room=room.to_string() aria-label=title.clone()>
            <header class="room__header">
                <a class="room__back" href="/" aria-label="All rooms">"←"</a>
                <div class="room__heading">
                    <h1 class="room__title" data-testid="room-title">{prefix}{title.clone()}</h1>
                    {(!page.topic.is_empty()).then(|| view! {
                        <p class="room__topic" data-testid="room-topic" title=page.topic.clone()>{page.topic.clone()}</p>
                    })}
                </div>
                <div class="room__actions">
                    // Below desktop widths the member list is a drawer this opens (CSS hides
                    // the toggle where the list is always beside the room).
                    <button class="button button--quiet room__members-toggle" data-testid="members-toggle"
                        node_ref=members_toggle
                        aria-controls=format!("members-{room}")
                        aria-expanded=move || show_members.get().to_string()
                        on:click=move |_| show_members.update(|s| *s = !*s)>
                        {move || format!("Members ({})", online_count(room))}
                    </button>
                    {(kind != RoomKind::Dm).then(|| view! {
                        <button class="button button--quiet" on:click=move |_| dialog.set(Some(Dialog::Invite(room)))>"Invite"</button>
                        <button class="button button--quiet" on:click=leave.clone()>"Leave"</button>
                    })}
                </div>
            </header>
            <div class="room__body">
                <DropZone room tray class_name="room__conversation">
                    <MessageList room page=conversation_page.clone() editing thread />
                    <p class="typing" data-testid="typing">{typing}</p>
                    <Composer room title=composer_title editing members=conversation_page.members tray />
                </DropZone>
                {move || thread.get().map(|root| view! { <ThreadPane room root open=thread /> })}
                <Members room members=page.members.clone() total=page.member_count shown=show_members toggle=members_toggle />
            </div>
        </section>
    }
    .into_any()
}

/// How many are online in `room`: the server's `total`, which counts everyone present
/// even when the roster it sends names only the first of them.
fn online_count(room: RoomId) -> usize {
    use_chat()
        .presence
        .with(|p| p.get(&room).map(|r| r.total as usize).unwrap_or(0))
}

/// A member's status and status line while they are online.
type Here = (Status, Option<String>);

/// Members, online first; "online" means connected to this room right now. The list
/// starts from the page's members; anyone seen present since (a public room is joined by
/// opening it) is added and stays listed, offline, after they go.
#[component]
fn Members(
    room: RoomId,
    members: Vec<UserView>,
    total: u32,
    shown: RwSignal<bool>,
    /// The button that opens the drawer: focus goes back to it when the drawer closes.
    toggle: NodeRef<leptos::html::Button>,
) -> impl IntoView {
    let chat = use_chat();
    let known = StoredValue::new(members);
    let close_button = NodeRef::<leptos::html::Button>::new();
    // Opening the drawer moves focus into it; closing it gives focus back to the toggle
    // (where the list is always shown the close button is hidden, and focus stays put).
    Effect::new(move |was_open: Option<bool>| {
        let open = shown.get();
        if open {
            if let Some(b) = close_button.get_untracked() {
                let _ = b.focus();
            }
        } else if was_open == Some(true)
            && let Some(t) = toggle.get_untracked()
        {
            let _ = t.focus();
        }
        open
    });
    let rows = move || {
        let online = chat
            .presence
            .with(|p| p.get(&room).map(|r| r.users.clone()).unwrap_or_default());
        known.update_value(|k| {
            for (id, entry) in &online {
                if !k.iter().any(|u| u.id == *id) {
                    k.push(entry.user.clone());
                }
            }
        });
        // Each member, with their status and status line while online.
        let mut list: Vec<(UserView, Option<Here>)> = known.with_value(|k| {
            k.iter()
                .map(|u| {
                    let here = online.get(&u.id).map(|e| (e.status, e.text.clone()));
                    (u.clone(), here)
                })
                .collect()
        });
        list.sort_by(|a, b| {
            b.1.is_some()
                .cmp(&a.1.is_some())
                .then_with(|| a.0.handle.cmp(&b.0.handle))
        });
        list
    };
    let listed = move || {
        let newcomers = chat.presence.with(|p| {
            p.get(&room).map_or(0, |r| {
                known.with_value(|k| {
                    r.users
                        .keys()
                        .filter(|id| !k.iter().any(|u| u.id == **id))
                        .count()
                })
            })
        });
        (total as usize).max(known.with_value(|k| k.len()) + newcomers)
    };
    // While reconnecting the list is the last known one, marked as such.
    let stale = move || {
        chat.presence
            .with(|p| p.get(&room).is_some_and(|r| r.stale))
    };
    view! {
        <aside class="members" class:members--shown=move || shown.get() aria-label="Members" data-testid="members"
            class:members--stale=stale data-stale=move || stale().to_string()
            id=format!("members-{room}")
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" && shown.get_untracked() {
                shown.set(false)
            }>
            <div class="members__head">
                <h2 class="members__title">"Members"
                    <span class="members__count">{move || format!(" · {} online of {}", online_count(room), listed())}</span>
                    {move || stale().then(|| view! { <span class="members__stale" data-testid="members-stale">" (last known)"</span> })}
                </h2>
                <button class="tool members__close" data-testid="members-close" aria-label="Close the member list"
                    node_ref=close_button on:click=move |_| shown.set(false)>"✕"</button>
            </div>
            <ul>
                <For each=rows key=|(u, here)| (u.id, here.clone()) let:row>
                    {
                        let on = row.1.is_some();
                        let status = row.1.as_ref().map(|(s, _)| *s);
                        let line = row.1.as_ref().and_then(|(_, t)| t.clone());
                        // Shown on hover of the name: who, and what they are up to.
                        let hover = describe(&row.0, status, line.as_deref());
                        view! {
                            <li class="member" data-testid="member" data-handle=row.0.handle.clone()
                                data-online=on.to_string() data-status=status.map(status_key) title=hover>
                                <span class="dot" class:dot--on=on data-status=status.map(status_key) aria-hidden="true"></span>
                                <span class="member__name">{row.0.name.clone()}</span>
                                <span class="member__handle">"@"{row.0.handle.clone()}</span>
                                <span class="visually-hidden">{match status {
                                    None => " (offline)".to_string(),
                                    Some(s) => format!(" ({})", status_label(s).to_lowercase()),
                                }}</span>
                                {line.map(|t| view! { <span class="member__status" data-testid="member-status">{t}</span> })}
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
    .into_any()
}
