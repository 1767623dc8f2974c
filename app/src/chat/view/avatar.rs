//! A person's avatar: their picture when they set one (`/avatars/{id}?v={version}`, a URL
//! that changes with each new picture), else their initials on one of the palette's
//! colours, picked from their id ([`crate::chat::avatar`]), so it is the same on every
//! screen. In the chat it shows the person's newest look ([`crate::chat::people`]), not
//! only the one its frame carried. Decorative beside a name (hidden from screen readers,
//! which read the name).

use leptos::prelude::*;
use protocol::UserView;

use crate::chat::avatar::{colour, initials, picture_url};
use crate::chat::state::Chat;

#[component]
pub fn Avatar(
    user: UserView,
    /// `avatar--large` on a profile card and the settings page; small beside messages
    /// otherwise.
    #[prop(optional)]
    large: bool,
) -> impl IntoView {
    let size = if large { " avatar--large" } else { "" };
    // Outside the chat (the settings page) there is no newer look to follow.
    let chat = use_context::<Chat>();
    move || {
        let now = match chat {
            Some(chat) => chat.people.with(|p| p.look(&user)),
            None => user.clone(),
        };
        match now.avatar {
            Some(version) => {
                let class = format!("avatar avatar--picture{size}");
                view! {
                    <img class=class src=picture_url(now.id, version) alt="" aria-hidden="true"
                        data-testid="avatar" loading="lazy" />
                }
                .into_any()
            }
            None => {
                let class = format!("avatar avatar--c{}{size}", colour(now.id));
                view! { <span class=class aria-hidden="true" data-testid="avatar">{initials(&now.name)}</span> }
                    .into_any()
            }
        }
    }
}
