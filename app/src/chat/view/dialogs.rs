//! The dialogs: create a room, browse public rooms, start a direct message (with one
//! person, or a group: [`super::group_dm`]), invite
//! someone to a room (by name, or with a link: [`super::invite_link`]), search messages ([`super::search`]), set one's status
//! ([`super::status`]). One at a time, in a [`Modal`] (focus kept inside, given back on
//! close); Esc or "Close" dismisses it.

use leptos::prelude::*;
use protocol::UserView;
use protocol::ids::RoomId;
use protocol::names::{RoomName, RoomTopic};

use super::group_dm::GroupTray;
use super::invite_link::InviteLinkMaker;
use super::modal::Modal;
use super::status::StatusForm;
use crate::chat::api::{find_users, public_rooms};
use crate::chat::group_dm::GroupPick;
use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;

/// Which dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    NewRoom,
    Browse,
    NewDm,
    Invite(RoomId),
    Search,
    Status,
}

#[component]
pub fn Dialogs(dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let close = move || dialog.set(None);
    view! {
        {move || dialog.get().map(|d| {
            let (title, body) = match d {
                Dialog::NewRoom => ("Create a room", view! { <NewRoom close /> }.into_any()),
                Dialog::Browse => ("Browse rooms", view! { <Browse close /> }.into_any()),
                Dialog::NewDm => ("New direct message", view! { <PickUser close action=PickAction::Dm /> }.into_any()),
                Dialog::Invite(room) => ("Invite someone", view! {
                    <PickUser close action=PickAction::Invite(room) />
                    <InviteLinkMaker room />
                }.into_any()),
                Dialog::Search => ("Search messages", view! { <super::search::Search close /> }.into_any()),
                Dialog::Status => ("Set your status", view! { <StatusForm close /> }.into_any()),
            };
            view! { <Modal title close>{body}</Modal> }
        })}
    }
}

#[component]
fn NewRoom(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let chat = use_chat();
    let name = RwSignal::new(String::new());
    let topic = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed = match RoomName::parse(&name.get_untracked()) {
            Ok(n) => n,
            Err(e) => return problem.set(Some(e.message)),
        };
        let topic = match topic.get_untracked() {
            t if t.trim().is_empty() => None,
            t => match RoomTopic::parse(&t) {
                Ok(t) => Some(t),
                Err(e) => return problem.set(Some(e.message)),
            },
        };
        busy.set(true);
        let navigate = navigate.clone();
        chat.request(
            RequestKind::CreateRoom {
                name: parsed,
                private: private.get_untracked(),
                topic,
            },
            move |reply| {
                busy.set(false);
                match reply {
                    Ok(info) => {
                        close();
                        chat.refresh_rooms();
                        if let Some(room) = info.room {
                            navigate(&format!("/r/{room}"), Default::default());
                        }
                    }
                    Err(e) => problem.set(Some(e)),
                }
            },
        );
    };
    view! {
        <form class="form" on:submit=submit>
            <label class="field">
                <span>"Name"</span>
                <input type="text" required data-autofocus="true" maxlength="48"
                    on:input=move |ev| name.set(event_target_value(&ev)) prop:value=move || name.get() />
            </label>
            <label class="field">
                <span>"Topic (optional)"</span>
                <input type="text" maxlength="250" placeholder="What the room is for"
                    on:input=move |ev| topic.set(event_target_value(&ev)) prop:value=move || topic.get() />
            </label>
            <label class="check">
                <input type="checkbox" on:change=move |ev| private.set(event_target_checked(&ev)) />
                <span>"Private: only people you invite can see it"</span>
            </label>
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" class="button" disabled=move || busy.get()>"Create room"</button>
        </form>
    }
}

#[component]
fn Browse(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let rooms = Resource::new(|| (), |_| public_rooms());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rooms.await {
                    Ok(list) if list.is_empty() => view! { <p>"No public rooms yet. Create the first one!"</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="pick-list" data-testid="public-rooms">
                            {list.into_iter().map(|r| view! {
                                <li>
                                    <a class="pick" href=format!("/r/{}", r.id) on:click=move |_| close()>
                                        <span class="pick__name">"#"{r.name.clone()}</span>
                                        {(!r.topic.is_empty()).then(|| view! {
                                            <span class="pick__topic" data-testid="public-room-topic">{r.topic.clone()}</span>
                                        })}
                                        {(!r.description.is_empty()).then(|| view! {
                                            <span class="pick__description" data-testid="public-room-description">{r.description.clone()}</span>
                                        })}
                                        <span class="pick__note">{if r.joined { "joined" } else { "join" }}</span>
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What picking a user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PickAction {
    Dm,
    Invite(RoomId),
}

#[component]
fn PickUser(close: impl Fn() + Copy + Send + Sync + 'static, action: PickAction) -> impl IntoView {
    let chat = use_chat();
    let query = RwSignal::new(String::new());
    let found = Resource::new(
        move || query.get(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                find_users(q).await
            }
        },
    );
    let problem = RwSignal::new(None::<String>);
    let group = RwSignal::new(GroupPick::default());
    let navigate = leptos_router::hooks::use_navigate();
    let request = move |kind: RequestKind, name: String| {
        let navigate = navigate.clone();
        chat.request(kind, move |reply| match (reply, action) {
            (Ok(info), PickAction::Dm) => {
                close();
                chat.refresh_rooms();
                if let Some(room) = info.room {
                    navigate(&format!("/r/{room}"), Default::default());
                }
            }
            (Ok(_), PickAction::Invite(_)) => {
                close();
                chat.notify(format!("{name} was added to the room."));
            }
            (Err(e), _) => problem.set(Some(e)),
        });
    };
    let pick = {
        let request = request.clone();
        move |user: UserView| {
            let kind = match action {
                PickAction::Dm => RequestKind::OpenDm { user: user.id },
                PickAction::Invite(room) => RequestKind::Invite {
                    room,
                    user: user.id,
                },
            };
            request(kind, user.name.clone());
        }
    };
    let start_group = Callback::new(move |()| {
        if let Some(users) = group.with_untracked(GroupPick::group) {
            request(RequestKind::OpenGroup { users }, String::new());
        }
    });
    let me = move || chat.me.with_untracked(|me| me.as_ref().map(|me| me.id));
    view! {
        <label class="field">
            <span>"Find people by handle"</span>
            <input type="search" data-autofocus="true" placeholder="@handle" data-testid="user-search"
                on:input=move |ev| query.set(event_target_value(&ev)) />
        </label>
        <Show when=move || problem.get().is_some()>
            <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
        </Show>
        {(action == PickAction::Dm).then(|| view! { <GroupTray group start=start_group /> })}
        <Transition fallback=|| ()>
            {move || {
                let pick = pick.clone();
                Suspend::new(async move {
                    let users = found.await.unwrap_or_default();
                    view! {
                        <ul class="pick-list" data-testid="user-results">
                            {users.into_iter().map(|u| {
                                let pick = pick.clone();
                                let label = format!("{} @{}", u.name, u.handle);
                                let id = u.id;
                                let add = (action == PickAction::Dm && me() != Some(id)).then(|| {
                                    let person = u.clone();
                                    let label = format!("Add {} to a group message", u.name);
                                    view! {
                                        <button type="button" class="button button--quiet pick__add" aria-label=label
                                            disabled=move || group.with(|g| g.has(id) || g.is_full())
                                            on:click=move |_| { group.update(|g| { g.add(person.clone(), me()); }); }>
                                            "+ Group"
                                        </button>
                                    }
                                });
                                view! {
                                    <li class="pick-row">
                                        <button class="pick" aria-label=label on:click=move |_| pick(u.clone())>
                                            <span class="pick__name">{u.name.clone()}</span>
                                            <span class="pick__note">"@"{u.handle.clone()}</span>
                                        </button>
                                        {add}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }
                })
            }}
        </Transition>
    }
}
