//! One open room: its header (name, kind and topic as the room's notices keep them,
//! members online, pinned messages, about and settings, invite and leave), the message
//! list, the typing line, the composer (a note instead while the room is archived) and
//! the member list ([`super::members`]). Files dropped anywhere on the conversation
//! attach to the composer's next message. The first page is server-rendered from
//! [`load_room`]; once hydrated the room is opened in the live state, which subscribes
//! from the page's last seq. If the reader stops being a member while the room is on
//! screen (removed, or left on another device), they are taken back to their rooms.
//! Role notices update the member list's badges at once; one that changes the reader's
//! own role reads the page again, so the buttons they get follow their new rights.

use leptos::prelude::*;
use protocol::RoleName;
use protocol::ids::{RoomId, UserId};
use std::collections::HashMap;

use super::composer::{Composer, Editing};
use super::dialogs::Dialog;
use super::jump::jump_target;
use super::member_menu::Roles;
use super::members::{Members, online_count};
use super::messages::MessageList;
use super::pins::{PinsButton, PinsDialog};
use super::room_about::AboutDialog;
use super::thread::ThreadPane;
use super::uploads::DropZone;
use crate::chat::api::{RoomKind, RoomPage, load_room};
use crate::chat::link::RequestKind;
use crate::chat::room_info::RoomInfo;
use crate::chat::state::use_chat;
use crate::chat::text::typing_line;
use crate::chat::uploads::Tray;

#[component]
pub fn RoomView(room: RoomId, dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let chat = use_chat();
    // `?at=SEQ` (a search hit): the page reaches back to that message. Read once: the
    // message list follows later changes of it itself.
    let query = leptos_router::hooks::use_query_map();
    // Bumped to read the page again (the reader's role changed).
    let reread = RwSignal::new(0u32);
    let page = Resource::new(
        move || (room, reread.get()),
        move |(room, _)| load_room(room, query.with_untracked(jump_target)),
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
                    Ok(p) => view! { <OpenRoom page=p dialog reread /> }.into_any(),
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
fn OpenRoom(
    page: RoomPage,
    dialog: RwSignal<Option<Dialog>>,
    reread: RwSignal<u32>,
) -> impl IntoView {
    let chat = use_chat();
    let room = page.room.id;
    let kind = page.room.kind;
    let title = page.room.title.clone();
    let rights = page.rights;
    let moderates = rights.moderates();
    // The room's settings: the page's, then what its notices changed since.
    let read = RoomInfo {
        name: title.clone(),
        topic: page.topic.clone(),
        description: page.description.clone(),
        private: kind == RoomKind::Private,
        archived: page.archived,
    };
    let info = Memo::new(move |_| {
        chat.timelines.with(|t| match t.get(&room) {
            Some(tl) => read.with(&tl.changed),
            None => read.clone(),
        })
    });
    let roles = RwSignal::new(page.moderators.iter().copied().collect());
    follow_role_notices(room, rights.role, roles, reread);
    let banned = RwSignal::new(page.banned.clone());
    let show_members = RwSignal::new(false);
    let show_pins = RwSignal::new(false);
    let show_about = RwSignal::new(false);
    let members_toggle = NodeRef::<leptos::html::Button>::new();
    let editing = RwSignal::new(None::<Editing>);
    // The files waiting to go with the composer's next message.
    let tray = RwSignal::new(Tray::default());
    // The thread open beside the room, by its root.
    let thread = RwSignal::new(None::<protocol::ids::MessageId>);
    // Set while this page leaves the room itself (it then says nothing more of it).
    let leaving = StoredValue::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let go_home = navigate.clone();
    Effect::new(move |_| {
        if chat.lost_room.get() == Some(room) {
            chat.lost_room.set(None);
            if !leaving.get_value() {
                let name = info.with_untracked(|i| i.name.clone());
                chat.notify(format!("You are no longer a member of {name}."));
                // After this turn: leaving disposes this view, which must not happen
                // while one of its own effects runs.
                let go_home = go_home.clone();
                leptos::task::spawn_local(async move { go_home("/", Default::default()) });
            }
        }
    });
    let leave = move |_| {
        let navigate = navigate.clone();
        leaving.set_value(true);
        chat.request(RequestKind::Leave { room }, move |reply| match reply {
            Ok(_) => {
                chat.refresh_rooms();
                navigate("/", Default::default());
            }
            Err(e) => {
                leaving.set_value(false);
                chat.notify(format!("Could not leave: {e}"));
            }
        });
    };
    let typing = move || {
        let names: Vec<String> = chat.typing.with(|t| t.names(room));
        typing_line(&names)
    };
    // What the drop zone's contents take (its children are built apart from the rest).
    let (conversation_page, composer_title) = (page.clone(), title.clone());
    let members = conversation_page.members.clone();
    let prefix = move || match kind {
        RoomKind::Dm => "@",
        _ if info.with(|i| i.private) => "🔒 ",
        _ => "#",
    };
    let topic = move || info.with(|i| i.topic.clone());
    let archived = move || info.with(|i| i.archived);
    let composer = move || {
        if archived() {
            view! {
                <p class="room__archived" data-testid="room-archived" role="status">
                    "This room is archived: its history stays readable, and nothing new can be written."
                </p>
            }
            .into_any()
        } else {
            view! { <Composer room title=composer_title.clone() editing members=members.clone() tray /> }.into_any()
        }
    };
    view! {
        <section class="room" data-testid="room" data-room=room.to_string() aria-label=title.clone()>
            <header class="room__header">
                <a class="room__back" href="/" aria-label="All rooms">"←"</a>
                <div class="room__heading">
                    <h1 class="room__title" data-testid="room-title">{prefix}{move || info.with(|i| i.name.clone())}</h1>
                    <Show when=move || !topic().is_empty()>
                        <p class="room__topic" data-testid="room-topic" title=topic>{topic}</p>
                    </Show>
                </div>
                <div class="room__actions">
                    // Below desktop widths the member list is a drawer this opens (CSS hides
                    // the toggle where the list is always beside the room).
                    <button class="button button--quiet room__members-toggle" data-testid="members-toggle"
                        node_ref=members_toggle
                        aria-controls=format!("members-{room}")
                        aria-expanded=move || show_members.get().to_string()
                        on:click=move |_| show_members.update(|s| *s = !*s)>
                        {move || format!("Members ({})", online_count(chat, room))}
                    </button>
                    {(kind != RoomKind::Dm).then(|| view! {
                        <PinsButton room open=show_pins />
                        <button class="button button--quiet" data-testid="room-about-open"
                            on:click=move |_| show_about.set(true)>{if moderates { "Settings" } else { "About" }}</button>
                        <button class="button button--quiet" on:click=move |_| dialog.set(Some(Dialog::Invite(room)))>"Invite"</button>
                        <button class="button button--quiet" on:click=leave.clone()>"Leave"</button>
                    })}
                </div>
            </header>
            <div class="room__body">
                <DropZone room tray class_name="room__conversation">
                    <MessageList room page=conversation_page.clone() editing thread rights />
                    <p class="typing" data-testid="typing">{typing}</p>
                    {composer}
                </DropZone>
                {move || thread.get().map(|root| view! { <ThreadPane room root open=thread /> })}
                <Members room members=page.members.clone() total=page.member_count shown=show_members toggle=members_toggle rights roles banned />
            </div>
            <PinsDialog room open=show_pins moderates />
            <AboutDialog room open=show_about info moderates banned />
        </section>
    }
    .into_any()
}

/// Applies the role notices that arrive to the member list's `roles`; when one changes
/// the reader's own role from `mine` (the page's), asks for the page again (`reread`).
fn follow_role_notices(room: RoomId, mine: Option<RoleName>, roles: Roles, reread: RwSignal<u32>) {
    let chat = use_chat();
    Effect::new(move |_| {
        let changed = chat
            .timelines
            .with(|t| t.get(&room).map(|tl| tl.roles.clone()).unwrap_or_default());
        if changed.is_empty() {
            return;
        }
        let held = |r: &HashMap<UserId, RoleName>, user, role: RoleName| match role {
            RoleName::Member => !r.contains_key(&user),
            _ => r.get(&user) == Some(&role),
        };
        if !roles.with_untracked(|r| changed.iter().all(|(u, role)| held(r, *u, *role))) {
            roles.update(|r| {
                for (user, role) in &changed {
                    match role {
                        RoleName::Member => r.remove(user),
                        _ => r.insert(*user, *role),
                    };
                }
            });
        }
        let me = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id));
        let now = me.and_then(|me| changed.get(&me).copied());
        if now.is_some_and(|now| Some(now) != mine) {
            reread.update(|v| *v += 1);
        }
    });
}
