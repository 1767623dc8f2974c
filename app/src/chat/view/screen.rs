//! The chat screen: a top bar (brand, connection state, account), the sidebar, the open
//! room, the dialogs (and the delete question) and the notices. Starts the live client
//! once the page is hydrated. Without JavaScript the buttons that open dialogs stay
//! disabled and a `<noscript>` line says that JavaScript is needed.

use leptos::prelude::*;
use protocol::ids::RoomId;

use super::confirm::{ConfirmDelete, provide_confirm};
use super::dialogs::{Dialog, Dialogs};
use super::room::RoomView;
use super::sidebar::Sidebar;
use super::status::{my_status, status_key, status_label};
use crate::auth::Me;
use crate::chat::state::use_chat;
use crate::hydration::use_hydrated;
use crate::live::ConnectionBadge;

/// The whole chat for a signed-in user; `room` is the open room, if any.
#[component]
pub fn ChatScreen(me: Me, room: Signal<Option<RoomId>>) -> impl IntoView {
    let chat = use_chat();
    crate::chat::go_live(chat);
    let dialog = RwSignal::new(None::<Dialog>);
    let confirm = provide_confirm();
    let hydrated = use_hydrated();
    if let Some(view) = me.view() {
        // Known while rendering (server and hydration alike), so one's own messages get
        // their tools from the first paint; the connection starts once hydrated.
        chat.know(view.clone());
        Effect::new(move |_| chat.start(view.clone()));
    }
    Effect::new(move |_| {
        if room.get().is_none() {
            chat.open_room.set(None);
        }
    });
    let connection = Signal::derive(move || chat.connection.get());

    view! {
        <div class="chat" class:chat--room-open=move || room.get().is_some() data-testid="chat">
            <header class="chat__top">
                <a class="brand" href="/">"Confab"</a>
                <ConnectionBadge state=connection reconnect=Callback::new(move |_| chat.reconnect_now())
                    catching_up=chat.catching_up />
                <noscript class="nojs" data-testid="nojs">"Live updates and sending need JavaScript."</noscript>
                <button class="button button--quiet chat__search" data-testid="open-search"
                    disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::Search))>"Search"</button>
                <button class="button button--quiet chat__status" data-testid="open-status"
                    disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::Status))>
                    {move || {
                        let (s, _) = my_status();
                        view! {
                            <span class="dot dot--on" data-status=status_key(s) aria-hidden="true"></span>
                            <span class="visually-hidden">"Status: "</span>
                            {status_label(s)}
                        }
                    }}
                </button>
                <NotificationsToggle />
                <div class="chat__account">
                    <span class="chat__who" data-testid="me">{me.display_name.clone()}</span>
                    <a class="icon-button" href="/settings" aria-label="Settings" title="Settings"
                        data-testid="settings-link">
                        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"
                            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                            <circle cx="12" cy="12" r="3"></circle>
                            <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"></path>
                        </svg>
                    </a>
                    // A plain form post: the server ends the session and redirects to `/`,
                    // and the page starts afresh (nothing of the chat survives it).
                    <form action="/api/auth/logout" method="post" class="inline-form">
                        <button type="submit" class="button button--quiet">"Log out"</button>
                    </form>
                </div>
            </header>
            <Sidebar open=room dialog />
            <main class="chat__main">
                {move || match room.get() {
                    Some(id) => view! { <RoomView room=id dialog /> }.into_any(),
                    None => view! { <NoRoom dialog /> }.into_any(),
                }}
            </main>
            <Dialogs dialog />
            <ConfirmDelete confirm />
            <Notices />
        </div>
    }
    .into_any()
}

/// Shown when no room is open.
#[component]
fn NoRoom(dialog: RwSignal<Option<Dialog>>) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <section class="empty" aria-labelledby="empty-title">
            <h2 id="empty-title">"Pick a room"</h2>
            <p>"Choose a room or a conversation on the left, or start something new."</p>
            <div class="empty__actions">
                <button class="button" disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::Browse))>"Browse rooms"</button>
                <button class="button button--quiet" disabled=move || !hydrated.get()
                    on:click=move |_| dialog.set(Some(Dialog::NewRoom))>"Create a room"</button>
            </div>
            <noscript class="nojs" data-testid="empty-nojs">"Browsing and creating rooms need JavaScript: turn it on to use them."</noscript>
        </section>
    }
}

/// Offers to turn on browser notifications (for mentions and DMs while the tab is hidden)
/// until the person decides; says so when the browser blocks them.
#[component]
fn NotificationsToggle() -> impl IntoView {
    use crate::chat::notify::Permission;
    let chat = use_chat();
    move || {
        match chat.notifications.get() {
        Permission::Ask => view! {
            <button class="button button--quiet" data-testid="enable-notifications"
                title="Be alerted to mentions and direct messages while Confab is in the background"
                on:click=move |_| chat.ask_for_notifications()>"Turn on notifications"</button>
        }
        .into_any(),
        Permission::Denied => view! {
            <span class="chat__hint" data-testid="notifications-blocked"
                title="Allow notifications for this site in the browser to be alerted">"Notifications blocked"</span>
        }
        .into_any(),
        Permission::Granted | Permission::Unsupported => ().into_any(),
    }
    }
}

/// Short-lived messages to the person.
#[component]
fn Notices() -> impl IntoView {
    let chat = use_chat();
    view! {
        <div class="notices" role="status" aria-live="polite" data-testid="notices">
            <For each=move || chat.notices.get() key=|n| n.id let:n>
                <p class="notice">{n.text}</p>
            </For>
        </div>
        // New messages in the open room, for screen readers only (crate::chat::announce).
        <p class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"
            data-testid="announcer">{move || chat.announcement.get()}</p>
    }
}
