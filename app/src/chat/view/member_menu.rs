//! A moderator's menu on a member's row: make admin or member again, remove from the
//! room, remove and ban. Which entries show is [`Rights::member_actions`]; a removal asks
//! first, in the menu itself. A role change shows in the list at once when acked; a
//! removal shows as the room's notice, and the member leaves the list.

use leptos::prelude::*;
use protocol::RoleName;
use protocol::ids::{RoomId, UserId};

use crate::chat::link::RequestKind;
use crate::chat::roles::{MemberAction, Rights};
use crate::chat::state::use_chat;

/// The roles the member list shows: owners and admins (anyone else is a member).
pub type Roles = RwSignal<std::collections::HashMap<UserId, RoleName>>;

/// Sends `action` for `user` in `room`; a refusal is a notice.
fn act(
    room: RoomId,
    user: UserId,
    name: String,
    action: MemberAction,
    roles: Roles,
    removed: impl Fn(UserId, bool) + 'static,
) {
    let chat = use_chat();
    let kind = match action {
        MemberAction::MakeAdmin | MemberAction::MakeMember => {
            let role = if action == MemberAction::MakeAdmin {
                RoleName::Admin
            } else {
                RoleName::Member
            };
            RequestKind::SetRole { room, user, role }
        }
        MemberAction::Remove | MemberAction::Ban => RequestKind::RemoveMember {
            room,
            user,
            ban: action == MemberAction::Ban,
        },
    };
    chat.request(kind, move |reply| match reply {
        Ok(_) => match action {
            MemberAction::MakeAdmin => {
                roles.update(|r| {
                    r.insert(user, RoleName::Admin);
                });
                chat.notify(format!("{name} is now an admin."));
            }
            MemberAction::MakeMember => {
                roles.update(|r| {
                    r.remove(&user);
                });
                chat.notify(format!("{name} is a member again."));
            }
            MemberAction::Remove | MemberAction::Ban => removed(user, action == MemberAction::Ban),
        },
        Err(e) => chat.notify(format!("Could not {}: {e}", action.label().to_lowercase())),
    });
}

#[component]
pub fn MemberMenu(
    room: RoomId,
    user: UserId,
    name: String,
    rights: Rights,
    roles: Roles,
    /// Called once a removal was acked (`true` with a ban): the row goes.
    removed: impl Fn(UserId, bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let chat = use_chat();
    let open = RwSignal::new(false);
    // A removal waiting for a yes.
    let asking = RwSignal::new(None::<MemberAction>);
    let actions = move || {
        let me = chat.me.with(|m| m.as_ref().map(|m| m.id));
        let role = roles.with(|r| r.get(&user).copied().unwrap_or(RoleName::Member));
        rights.member_actions(me, user, role)
    };
    let label = format!("Moderate {name}");
    let who = name.clone();
    view! {
        <Show when=move || !actions().is_empty()>
            <button class="tool member__menu-toggle" data-testid="member-menu" aria-label=label.clone()
                aria-expanded=move || open.get().to_string()
                on:click=move |_| { asking.set(None); open.update(|o| *o = !*o) }>"⋯"</button>
        </Show>
        {move || open.get().then(|| {
            let who = who.clone();
            match asking.get() {
                Some(action) => {
                    let question = match action {
                        MemberAction::Ban => format!("Remove {who} and ban them from coming back?"),
                        _ => format!("Remove {who} from the room?"),
                    };
                    let name = who.clone();
                    let label = question.clone();
                    view! {
                        <div class="member__menu" role="group" aria-label=label>
                            <p class="member__question">{question}</p>
                            <button class="button button--quiet" on:click=move |_| asking.set(None)>"Cancel"</button>
                            <button class="button button--danger" data-testid="member-action-confirm"
                                on:click=move |_| {
                                    act(room, user, name.clone(), action, roles, removed);
                                    open.set(false);
                                }>{action.label()}</button>
                        </div>
                    }.into_any()
                }
                None => view! {
                    <div class="member__menu" role="group" aria-label=format!("Moderate {who}")>
                        {actions().into_iter().map(|action| {
                            let name = who.clone();
                            view! {
                                <button class="button button--quiet" data-testid=format!("member-{}", action.key())
                                    on:click=move |_| match action {
                                        MemberAction::Remove | MemberAction::Ban => asking.set(Some(action)),
                                        _ => {
                                            act(room, user, name.clone(), action, roles, removed);
                                            open.set(false);
                                        }
                                    }>{action.label()}</button>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            }
        })}
    }
}
