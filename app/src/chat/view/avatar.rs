//! A person's avatar: their initials on one of the palette's colours, picked from their
//! id ([`crate::chat::avatar`]), so it is the same on every screen. Decorative beside a
//! name (hidden from screen readers, which read the name).

use leptos::prelude::*;
use protocol::UserView;

use crate::chat::avatar::{colour, initials};

#[component]
pub fn Avatar(
    user: UserView,
    /// `avatar--large` on a profile card; small beside messages otherwise.
    #[prop(optional)]
    large: bool,
) -> impl IntoView {
    let class = format!(
        "avatar avatar--c{}{}",
        colour(user.id),
        if large { " avatar--large" } else { "" }
    );
    view! { <span class=class aria-hidden="true" data-testid="avatar">{initials(&user.name)}</span> }
}
