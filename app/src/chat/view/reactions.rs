//! A message's reactions: a chip per emoji (emoji and count; its title says who; one's
//! own is pressed, and clicking it takes the reaction back), and a small picker of
//! [`PICKER`] emoji to add one (a menu: focus moves into it when it opens, the arrow
//! keys move between emoji, Escape closes it and gives focus back). Changes show when their event arrives, for everyone at
//! once; a refused one shows a notice (nothing was shown early, so nothing rolls back).

use leptos::prelude::*;
use protocol::ReactionView;
use protocol::ids::{MessageId, RoomId};
use protocol::names::Emoji;

use crate::chat::reactions::{PICKER, is_mine, who_reacted};
use crate::chat::state::use_chat;

#[component]
pub fn Reactions(room: RoomId, message: MessageId, reactions: Vec<ReactionView>) -> impl IntoView {
    let chat = use_chat();
    let me = move || chat.me.with(|m| m.as_ref().map(|m| m.id));
    let picking = RwSignal::new(false);
    let menu = NodeRef::<leptos::html::Div>::new();
    let opener = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if picking.get()
            && let Some(menu) = menu.get()
        {
            super::focus::focus_first(&menu);
        }
    });
    let on_menu_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            picking.set(false);
            if let Some(b) = opener.get_untracked() {
                let _ = b.focus();
            }
        } else if let Some(menu) = menu.get_untracked() {
            super::focus::move_in_menu(&ev, &menu);
        }
    };
    let react = move |emoji: &str, add: bool| {
        if let Ok(emoji) = Emoji::parse(emoji) {
            chat.react(room, message, emoji, add);
        }
    };
    let chips = reactions
        .into_iter()
        .map(|r| {
            let r = StoredValue::new(r);
            let mine = move || r.with_value(|r| is_mine(r, me()));
            let title = move || r.with_value(|r| who_reacted(r, me()));
            let emoji = r.with_value(|r| r.emoji.clone());
            let data_emoji = emoji.clone();
            let count = r.with_value(|r| r.count);
            let toggle = move |_| r.with_value(|r| react(&r.emoji, !is_mine(r, me())));
            view! {
                <button class="reaction" class:reaction--mine=mine data-testid="reaction"
                    data-emoji=data_emoji aria-pressed=move || mine().to_string() title=title
                    aria-label=title on:click=toggle>
                    <span class="reaction__emoji">{emoji}</span>
                    <span class="reaction__count" data-testid="reaction-count">{count}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="reactions" data-testid="reactions">
            {chips}
            <button class="reaction reaction--add" node_ref=opener aria-label="Add reaction"
                aria-haspopup="menu" aria-expanded=move || picking.get().to_string()
                title="Add reaction" on:click=move |_| picking.update(|p| *p = !*p)>"☺+"</button>
            <Show when=move || picking.get()>
                <div class="reaction-picker" role="menu" aria-label="Pick a reaction" node_ref=menu
                    on:keydown=on_menu_key>
                    {PICKER.into_iter().map(|e| view! {
                        <button class="reaction-picker__emoji" role="menuitem" aria-label=format!("React with {e}")
                            on:click=move |_| {
                                picking.set(false);
                                react(e, true);
                                if let Some(b) = opener.get_untracked() {
                                    let _ = b.focus();
                                }
                            }>{e}</button>
                    }).collect_view()}
                </div>
            </Show>
        </div>
    }
}
