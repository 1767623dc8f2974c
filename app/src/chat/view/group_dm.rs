//! The group part of the *New direct message* dialog: the people picked so far (each
//! with a button to take them out) and *Start group message*, enabled from two of them;
//! the rules are [`crate::chat::group_dm`]'s.

use leptos::prelude::*;

use crate::chat::group_dm::{GroupPick, OTHERS_MAX};

#[component]
pub fn GroupTray(group: RwSignal<GroupPick>, start: Callback<()>) -> impl IntoView {
    view! {
        <Show when=move || group.with(|g| !g.people().is_empty())>
            <div class="group-pick" data-testid="group-pick">
                <p class="group-pick__label">"Group message with:"</p>
                <ul class="group-pick__people">
                    {move || group.with(|g| g.people().to_vec()).into_iter().map(|u| {
                        let id = u.id;
                        let label = format!("Take {} out of the group", u.name);
                        view! {
                            <li class="group-pick__person">
                                <span data-testid="group-person">{u.name.clone()}</span>
                                <button type="button" class="tool" aria-label=label
                                    on:click=move |_| group.update(|g| g.remove(id))>"✕"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <button type="button" class="button" data-testid="start-group"
                    disabled=move || group.with(|g| g.group().is_none())
                    on:click=move |_| start.run(())>"Start group message"</button>
                <p class="muted group-pick__note">{move || if group.with(GroupPick::is_full) {
                    format!("A group message has at most {} people, you included.", OTHERS_MAX + 1)
                } else {
                    format!("Pick 2 to {OTHERS_MAX} people.")
                }}</p>
            </div>
        </Show>
    }
}
