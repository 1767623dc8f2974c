//! One open room: its header (name, kind, members online, invite and leave), the
//! message list, the typing line, the composer and the member list. The first page is
//! server-rendered from [`load_room`]; once hydrated the room is opened in the live
//! state, which subscribes from the page's last seq.

use leptos::prelude::*;
use protocol::UserView;
use protocol::ids::RoomId;

use super::composer::{Composer, Editing};
use super::dialogs::Dialog;
use super::jump::jump_target;
use super::messages::MessageList;
use super::thread::ThreadPane;
use crate::chat::api::{RoomKind, RoomPage, load_room};
use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;
use crate::chat::text::typing_line;

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
    let editing = RwSignal::new(None::<Editing>);
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
    let prefix = match kind {
        RoomKind::Public => "#",
        RoomKind::Private => "🔒 ",
        RoomKind::Dm => "@",
    };
    view! {
        <section class="room" data-testid="room" data-room=room.to_string() aria-label=title.clone()>
            <header class="room__header">
                <a class="room__back" href="/" aria-label="All rooms">"←"</a>
                <h1 class="room__title" data-testid="room-title">{prefix}{title.clone()}</h1>
                <div class="room__actions">
                    <button class="button button--quiet" aria-expanded=move || show_members.get().to_string()
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
                <div class="room__conversation">
                    <MessageList room page=page.clone() editing thread />
                    <p class="typing" data-testid="typing" aria-live="polite">{typing}</p>
                    <Composer room title=title.clone() editing members=page.members.clone() />
                </div>
                {move || thread.get().map(|root| view! { <ThreadPane room root open=thread /> })}
                <Members room members=page.members.clone() total=page.member_count shown=show_members />
            </div>
        </section>
    }
    .into_any()
}

fn online_count(room: RoomId) -> usize {
    use_chat()
        .presence
        .with(|p| p.get(&room).map(|r| r.users.len()).unwrap_or(0))
}

/// Members, online first; "online" means connected to this room right now. The list
/// starts from the page's members; anyone seen present since (a public room is joined by
/// opening it) is added and stays listed, offline, after they go.
#[component]
fn Members(
    room: RoomId,
    members: Vec<UserView>,
    total: u32,
    shown: RwSignal<bool>,
) -> impl IntoView {
    let chat = use_chat();
    let known = StoredValue::new(members);
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
        let mut list: Vec<(UserView, bool)> = known.with_value(|k| {
            k.iter()
                .map(|u| (u.clone(), online.contains_key(&u.id)))
                .collect()
        });
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.handle.cmp(&b.0.handle)));
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
            class:members--stale=stale data-stale=move || stale().to_string()>
            <h2 class="members__title">"Members"
                <span class="members__count">{move || format!(" · {} online of {}", online_count(room), listed())}</span>
                {move || stale().then(|| view! { <span class="members__stale" data-testid="members-stale">" (last known)"</span> })}
            </h2>
            <ul>
                <For each=rows key=|(u, on)| (u.id, *on) let:row>
                    <li class="member" data-testid="member" data-handle=row.0.handle.clone() data-online=row.1.to_string()>
                        <span class="dot" class:dot--on=row.1 aria-hidden="true"></span>
                        <span class="member__name">{row.0.name.clone()}</span>
                        <span class="member__handle">"@"{row.0.handle.clone()}</span>
                        <span class="visually-hidden">{if row.1 { " (online)" } else { " (offline)" }}</span>
                    </li>
                </For>
            </ul>
        </aside>
    }
    .into_any()
}
