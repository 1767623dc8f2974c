//! A person's avatar: their picture when they set one (`/avatars/{id}?v={version}`, a URL
//! that changes with each new picture), else their initials on one of the palette's
//! colours, picked from their id ([`crate::chat::avatar`]), so it is the same on every
//! screen. Decorative beside a name (hidden from screen readers, which read the name).

use leptos::prelude::*;
use protocol::UserView;

use crate::chat::avatar::{colour, initials, picture_url};

#[component]
pub fn Avatar(
    user: UserView,
    /// `avatar--large` on a profile card and the settings page; small beside messages
    /// otherwise.
    #[prop(optional)]
    large: bool,
) -> impl IntoView {
    let size = if large { " avatar--large" } else { "" };
    match user.avatar {
        Some(version) => {
            let class = format!("avatar avatar--picture{size}");
            view! {
                <img class=class src=picture_url(user.id, version) alt="" aria-hidden="true"
                    data-testid="avatar" loading="lazy" />
            }
            .into_any()
        }
        None => {
            let class = format!("avatar avatar--c{}{size}", colour(user.id));
            view! { <span class=class aria-hidden="true" data-testid="avatar">{initials(&user.name)}</span> }
                .into_any()
        }
    }
}
