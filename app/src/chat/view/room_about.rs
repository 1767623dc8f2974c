//! The room's "About" dialog, opened from its header: its name, topic, description and
//! visibility for everyone; for moderators the same as a form (rename, topic,
//! description, private or public) and a button that archives the room or opens it
//! again, and the list of who is banned with *Unban*. Only what differs is sent (`update_room`); the change comes back as a notice
//! in the room's order, which updates the header on every screen
//! ([`crate::chat::room_info`]).

use leptos::prelude::*;
use protocol::UserView;
use protocol::ids::RoomId;
use protocol::names::RoomName;

use super::modal::Modal;
use crate::chat::link::RequestKind;
use crate::chat::room_info::RoomInfo;
use crate::chat::state::use_chat;

/// Sends the settings that differ between `now` and `wanted`; `done` hears the outcome.
fn update(
    room: RoomId,
    now: &RoomInfo,
    wanted: &RoomInfo,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let changes = now.changes_to(wanted);
    if changes.is_empty() {
        return done(Ok(()));
    }
    let name = match changes.name.as_deref().map(RoomName::parse) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => return done(Err(e.message)),
    };
    use_chat().request(
        RequestKind::UpdateRoom {
            room,
            name,
            topic: changes.topic,
            description: changes.description,
            private: changes.private,
            archived: changes.archived,
        },
        move |reply| done(reply.map(|_| ())),
    );
}

#[component]
pub fn AboutDialog(
    room: RoomId,
    open: RwSignal<bool>,
    /// The room's settings now.
    info: Memo<RoomInfo>,
    moderates: bool,
    /// Who is banned (moderators see the list, and let people back).
    banned: RwSignal<Vec<UserView>>,
) -> impl IntoView {
    let close = move || open.set(false);
    move || {
        open.get().then(|| {
            let body = if moderates {
                view! { <SettingsForm room info close /> <Banned room banned /> }.into_any()
            } else {
                view! { <About info /> }.into_any()
            };
            view! { <Modal title="About this room" close>{body}</Modal> }
        })
    }
}

/// The settings, read only.
#[component]
fn About(info: Memo<RoomInfo>) -> impl IntoView {
    let shown = move |text: String, none: &'static str| {
        if text.is_empty() {
            none.to_string()
        } else {
            text
        }
    };
    view! {
        <dl class="about" data-testid="room-about">
            <dt>"Name"</dt>
            <dd>{move || info.with(|i| i.name.clone())}</dd>
            <dt>"Topic"</dt>
            <dd>{move || shown(info.with(|i| i.topic.clone()), "No topic")}</dd>
            <dt>"Description"</dt>
            <dd class="about__description" data-testid="room-description">
                {move || shown(info.with(|i| i.description.clone()), "No description")}
            </dd>
            <dt>"Who can join"</dt>
            <dd>{move || if info.with(|i| i.private) { "Members invite others (private)" } else { "Anyone signed in (public)" }}</dd>
        </dl>
        {move || info.with(|i| i.archived).then(|| view! {
            <p class="about__archived">"This room is archived: it can be read, not written to."</p>
        })}
    }
}

/// The settings as a moderator edits them.
#[component]
fn SettingsForm(
    room: RoomId,
    info: Memo<RoomInfo>,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let chat = use_chat();
    let start = info.get_untracked();
    let name = RwSignal::new(start.name.clone());
    let topic = RwSignal::new(start.topic.clone());
    let description = RwSignal::new(start.description.clone());
    let private = RwSignal::new(start.private);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let finish = move |outcome: Result<(), String>, saved: &'static str| {
        busy.set(false);
        match outcome {
            Ok(()) => {
                close();
                chat.notify(saved);
            }
            Err(e) => problem.set(Some(e)),
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let now = info.get_untracked();
        let wanted = RoomInfo {
            name: name.get_untracked(),
            topic: topic.get_untracked(),
            description: description.get_untracked(),
            private: private.get_untracked(),
            archived: now.archived,
        };
        busy.set(true);
        update(room, &now, &wanted, move |o| {
            finish(o, "Room settings saved.")
        });
    };
    let archive = move |_| {
        let now = info.get_untracked();
        let wanted = RoomInfo {
            archived: !now.archived,
            ..now.clone()
        };
        let said = if wanted.archived {
            "Room archived."
        } else {
            "Room reopened."
        };
        busy.set(true);
        update(room, &now, &wanted, move |o| finish(o, said));
    };
    view! {
        <form class="form" on:submit=submit data-testid="room-settings">
            <label class="field">
                <span>"Name"</span>
                <input type="text" required maxlength="48" data-autofocus="true" data-testid="room-settings-name"
                    on:input=move |ev| name.set(event_target_value(&ev)) prop:value=move || name.get() />
            </label>
            <label class="field">
                <span>"Topic"</span>
                <input type="text" maxlength="250" placeholder="What the room is for" data-testid="room-settings-topic"
                    on:input=move |ev| topic.set(event_target_value(&ev)) prop:value=move || topic.get() />
            </label>
            <label class="field">
                <span>"Description"</span>
                <textarea rows="4" maxlength=protocol::ROOM_DESCRIPTION_MAX_CHARS data-testid="room-settings-description"
                    placeholder="More about the room: what belongs here, links, who to ask"
                    on:input=move |ev| description.set(event_target_value(&ev)) prop:value=move || description.get()></textarea>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="room-settings-private" prop:checked=move || private.get()
                    on:change=move |ev| private.set(event_target_checked(&ev)) />
                <span>"Private: only people invited can see it"</span>
            </label>
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
            <div class="dialog__actions">
                <button type="button" class="button button--quiet" data-testid="room-archive"
                    disabled=move || busy.get() on:click=archive>
                    {move || if info.with(|i| i.archived) { "Reopen the room" } else { "Archive the room" }}
                </button>
                <button type="submit" class="button" data-testid="room-settings-save" disabled=move || busy.get()>"Save"</button>
            </div>
        </form>
    }
}

/// The users banned from the room, each with *Unban*.
#[component]
fn Banned(room: RoomId, banned: RwSignal<Vec<UserView>>) -> impl IntoView {
    let chat = use_chat();
    let unban = move |user: UserView| {
        chat.request(
            RequestKind::Unban {
                room,
                user: user.id,
            },
            move |reply| match reply {
                Ok(_) => {
                    banned.update(|b| b.retain(|u| u.id != user.id));
                    chat.notify(format!("{} may come back.", user.name));
                }
                Err(e) => chat.notify(format!("Could not unban {}: {e}", user.name)),
            },
        );
    };
    view! {
        <Show when=move || banned.with(|b| !b.is_empty())>
            <section class="about__banned" data-testid="banned">
                <h3>"Banned"</h3>
                <ul class="settings__list">
                    <For each=move || banned.get() key=|u| u.id let:user>
                        {
                            let shown = user.clone();
                            view! {
                                <li class="settings__row" data-testid="banned-user" data-handle=user.handle.clone()>
                                    <span>{user.name.clone()}<span class="muted">" @"{user.handle.clone()}</span></span>
                                    <button class="button button--quiet" data-testid="unban"
                                        on:click=move |_| unban(shown.clone())>"Unban"</button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </section>
        </Show>
    }
}
