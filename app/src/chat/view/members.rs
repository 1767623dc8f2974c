//! A room's member list: online first, each with their status, and a badge for owners
//! and admins. Below desktop widths it is a drawer the header's button opens (focus
//! moves into it and back). A moderator gets a menu on each row they may act on
//! ([`super::member_menu`]).

use leptos::prelude::*;
use protocol::ids::{RoomId, UserId};
use protocol::{Status, UserView};

use super::member_menu::{MemberMenu, Roles};
use super::profile_card::PersonName;
use super::status::{describe, status_key, status_label};
use crate::chat::roles::{Rights, badge};
use crate::chat::state::{Chat, use_chat};

/// How many are online in `room`: the server's `total`, which counts everyone present
/// even when the roster it sends names only the first of them.
pub fn online_count(chat: Chat, room: RoomId) -> usize {
    chat.presence
        .with(|p| p.get(&room).map(|r| r.total as usize).unwrap_or(0))
}

/// A member's status and status line while they are online.
type Here = (Status, Option<String>);

/// Members, online first; "online" means connected to this room right now. The list
/// starts from the page's members; anyone seen present since (a public room is joined by
/// opening it) is added and stays listed, offline, after they go.
#[component]
pub fn Members(
    room: RoomId,
    members: Vec<UserView>,
    total: u32,
    shown: RwSignal<bool>,
    /// The button that opens the drawer: focus goes back to it when the drawer closes.
    toggle: NodeRef<leptos::html::Button>,
    rights: Rights,
    roles: Roles,
    /// Who is banned (a ban made here joins it).
    banned: RwSignal<Vec<UserView>>,
) -> impl IntoView {
    let chat = use_chat();
    let known = StoredValue::new(members);
    // Members removed from here: off the list, even while their presence lingers; once
    // it is gone they may show again (rejoining a public room, say).
    let gone = StoredValue::new(std::collections::HashSet::<UserId>::new());
    let removals = RwSignal::new(0u32);
    let removed = move |user: UserId, ban: bool| {
        if ban && let Some(u) = known.with_value(|k| k.iter().find(|u| u.id == user).cloned()) {
            banned.update(|b| b.push(u));
        }
        known.update_value(|k| k.retain(|u| u.id != user));
        gone.update_value(|g| {
            g.insert(user);
        });
        removals.update(|n| *n += 1);
    };
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
        removals.track();
        let online = chat
            .presence
            .with(|p| p.get(&room).map(|r| r.users.clone()).unwrap_or_default());
        gone.update_value(|g| g.retain(|id| online.contains_key(id)));
        known.update_value(|k| {
            for (id, entry) in &online {
                if !k.iter().any(|u| u.id == *id) && !gone.with_value(|g| g.contains(id)) {
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
                    <span class="members__count">{move || format!(" · {} online of {}", online_count(chat, room), listed())}</span>
                    {move || stale().then(|| view! { <span class="members__stale" data-testid="members-stale">" (last known)"</span> })}
                </h2>
                <button class="tool members__close" data-testid="members-close" aria-label="Close the member list"
                    node_ref=close_button on:click=move |_| shown.set(false)>"✕"</button>
            </div>
            <ul>
                <For each=rows key=|(u, here)| (u.id, here.clone()) let:row>
                    {
                        let user = row.0.id;
                        let role = move || roles.with(|r| r.get(&user).copied().and_then(badge));
                        let on = row.1.is_some();
                        let status = row.1.as_ref().map(|(s, _)| *s);
                        let line = row.1.as_ref().and_then(|(_, t)| t.clone());
                        // Shown on hover of the name: who, and what they are up to.
                        let hover = describe(&row.0, status, line.as_deref());
                        view! {
                            <li class="member" data-testid="member" data-handle=row.0.handle.clone()
                                data-online=on.to_string() data-status=status.map(status_key) title=hover>
                                <span class="dot" class:dot--on=on data-status=status.map(status_key) aria-hidden="true"></span>
                                <PersonName user=row.0.clone() class="member__name" />
                                <span class="member__handle">"@"{row.0.handle.clone()}</span>
                                {move || role().map(|b| view! { <span class="member__role" data-testid="member-role">{b}</span> })}
                                <span class="visually-hidden">{match status {
                                    None => " (offline)".to_string(),
                                    Some(s) => format!(" ({})", status_label(s).to_lowercase()),
                                }}</span>
                                {line.map(|t| view! { <span class="member__status" data-testid="member-status">{t}</span> })}
                                <MemberMenu room user name=row.0.name.clone() rights roles removed />
                            </li>
                        }
                    }
                </For>
            </ul>
        </aside>
    }
    .into_any()
}
