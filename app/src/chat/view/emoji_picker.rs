//! The composer's emoji button and its picker: a menu of emoji
//! ([`crate::chat::emoji::EMOJI`]) with a filter by name. Focus moves into the filter when
//! it opens; the arrow keys move between emoji; Escape closes it and gives focus back to
//! the button. A picked emoji goes to `pick` (the composer puts it at the caret and
//! takes the focus back).

use leptos::prelude::*;

use crate::chat::emoji::matching;

#[component]
pub fn EmojiButton(
    /// Called with the emoji picked.
    pick: impl Fn(&'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let menu = NodeRef::<leptos::html::Div>::new();
    let opener = NodeRef::<leptos::html::Button>::new();
    let dismiss = move || {
        open.set(false);
        query.set(String::new());
    };
    let close = move || {
        dismiss();
        if let Some(b) = opener.get_untracked() {
            let _ = b.focus();
        }
    };
    Effect::new(move |_| {
        if open.get()
            && let Some(menu) = menu.get()
        {
            super::focus::focus_first(&menu);
        }
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        } else if let Some(menu) = menu.get_untracked() {
            // In the filter, Left, Right, Home and End move the caret; Up and Down leave it.
            let in_filter = matches!(
                ev.key().as_str(),
                "ArrowLeft" | "ArrowRight" | "Home" | "End"
            ) && leptos::prelude::document()
                .active_element()
                .is_some_and(|el| el.tag_name() == "INPUT");
            if !in_filter {
                super::focus::move_in_menu(&ev, &menu);
            }
        }
    };
    view! {
        <div class="emoji-picker-anchor">
            <button type="button" class="icon-button composer__emoji" node_ref=opener aria-label="Insert emoji"
                title="Insert emoji" data-testid="emoji-open" aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>"☺"</button>
            <Show when=move || open.get()>
                <div class="emoji-picker" role="menu" aria-label="Emoji" node_ref=menu
                    data-testid="emoji-picker" on:keydown=on_key>
                    <input type="search" class="emoji-picker__filter" aria-label="Find an emoji"
                        placeholder="Find an emoji" data-testid="emoji-filter"
                        on:input=move |ev| query.set(event_target_value(&ev)) prop:value=move || query.get() />
                    <div class="emoji-picker__grid">
                        {move || {
                            let found = matching(&query.get());
                            if found.is_empty() {
                                return view! { <p class="emoji-picker__none">"No emoji by that name"</p> }.into_any();
                            }
                            found.into_iter().map(|(e, name)| view! {
                                <button type="button" class="emoji-picker__emoji" role="menuitem"
                                    aria-label=name title=name data-testid="emoji-option"
                                    on:click=move |_| { dismiss(); pick(e); }>{e}</button>
                            }).collect_view().into_any()
                        }}
                    </div>
                </div>
            </Show>
        </div>
    }
}
