//! Writing and editing. Enter sends, Shift+Enter starts a new line, Up in an empty
//! composer edits one's last message, Esc cancels an edit. Typing tells the room (the
//! live client throttles it). Text is checked against the protocol's rules before it
//! leaves, so the person sees a problem at once.
//!
//! Typing `@` opens a list of the room's members that fits what follows it
//! ([`crate::chat::autocomplete`]): Up and Down move in it, Enter or Tab picks, Esc
//! closes it, and a click picks too.
//!
//! Files are attached with the paperclip, by pasting, or by dropping them on the room
//! (`uploads.rs`); each uploads at once and shows as a chip above the text box. A message
//! may be files alone: its body is then their names
//! ([`crate::chat::attachments::message_body`]: a body may not be empty). Send waits,
//! disabled, while a file is still uploading; the message then takes the stored files
//! (a failed one is left out) and the tray empties.
//!
//! The ☺ button beside the paperclip opens an emoji picker (`emoji_picker.rs`); a
//! picked emoji goes at the caret.
//!
//! What is typed and not sent is the room's draft ([`crate::chat::drafts`]): it is back
//! when the room is opened again, even after a reload, and goes when the message is sent.
//! An edit does not touch it; when the edit ends the draft is back in the box.
//!
//! Sending needs the live connection, so without JavaScript Send stays disabled and a
//! `<noscript>` line says that JavaScript is needed.

use leptos::html::Textarea;
use leptos::prelude::*;
use protocol::UserView;
use protocol::ids::{MessageId, RoomId};
use protocol::names::Body;

use super::emoji_picker::EmojiButton;
use super::uploads::{AttachButton, UploadTray, paste_files};
use crate::chat::attachments::message_body;
use crate::chat::autocomplete::{self, Suggestion, Typed};
use crate::chat::drafts;
use crate::chat::emoji;
use crate::chat::state::use_chat;
use crate::chat::uploader;
use crate::chat::uploads::Tray;
use crate::hydration::use_hydrated;

/// The message being edited in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editing {
    pub id: MessageId,
    pub body: String,
}

#[component]
pub fn Composer(
    room: RoomId,
    title: String,
    editing: RwSignal<Option<Editing>>,
    /// Who `@` may suggest (the room's members as the page listed them).
    members: Vec<UserView>,
    /// The files waiting to go with the next message (the room's drop zone adds to it too).
    tray: RwSignal<Tray>,
) -> impl IntoView {
    let chat = use_chat();
    let hydrated = use_hydrated();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let input = NodeRef::<Textarea>::new();
    let members = StoredValue::new(members);
    // The mention being typed and what fits it; the highlighted entry.
    let suggest = RwSignal::new(None::<(Typed, Vec<Suggestion>)>);
    let active = RwSignal::new(0usize);

    let caret = move || {
        let el = input.get_untracked()?;
        let units = el.selection_start().ok().flatten()? as usize;
        Some(autocomplete::byte_offset(&el.value(), units))
    };
    let refresh_suggestions = move || {
        let found = caret().and_then(|at| {
            let typed = autocomplete::typed(&text.get_untracked(), at)?;
            // Anyone seen present joins the page's list.
            let mut people = members.get_value();
            chat.presence.with_untracked(|p| {
                if let Some(r) = p.get(&room) {
                    people.extend(r.users.values().map(|e| e.user.clone()));
                }
            });
            let me = chat
                .me
                .with_untracked(|m| m.as_ref().map(|m| m.handle.clone()));
            let list = autocomplete::suggestions(&typed.prefix, &people, me.as_deref());
            (!list.is_empty()).then_some((typed, list))
        });
        if found.is_none() || suggest.with_untracked(|s| s.is_none()) {
            active.set(0);
        }
        suggest.set(found);
    };
    let pick = move |index: usize| {
        let Some((typed, list)) = suggest.get_untracked() else {
            return;
        };
        let (Some(choice), Some(at), Some(el)) = (list.get(index), caret(), input.get_untracked())
        else {
            return;
        };
        let (next, caret_at) =
            autocomplete::complete(&text.get_untracked(), &typed, at, &choice.handle);
        el.set_value(&next);
        let units = autocomplete::utf16_offset(&next, caret_at) as u32;
        let _ = el.set_selection_range(units, units);
        let _ = el.focus();
        text.set(next);
        suggest.set(None);
    };

    // Starting an edit puts the message's text in the composer.
    Effect::new(move |_| {
        if let Some(e) = editing.get() {
            text.set(e.body.clone());
            if let Some(el) = input.get_untracked() {
                el.set_value(&e.body);
                let _ = el.focus();
            }
        }
    });

    let clear = move || {
        text.set(String::new());
        if let Some(el) = input.get_untracked() {
            el.set_value("");
        }
        problem.set(None);
    };
    let me = move || chat.me.with_untracked(|m| m.as_ref().map(|m| m.id));
    // Keeps the box's text as the room's draft (not while editing a sent message).
    let keep_draft = move |typed: &str| {
        if let Some(me) = me() {
            let mut d = drafts::load(me);
            if d.set(room, typed) {
                drafts::save(me, &d);
            }
        }
    };
    // Puts the room's draft in the box.
    let restore_draft = move || {
        let Some(me) = me() else {
            return;
        };
        let draft = drafts::load(me).get(room).to_string();
        if let Some(el) = input.get_untracked() {
            el.set_value(&draft);
        }
        text.set(draft);
    };
    // An emoji from the picker goes at the caret (over a selection), and focus comes back.
    let put_emoji = move |emoji: &'static str| {
        let Some(el) = input.get_untracked() else {
            return;
        };
        let value = el.value();
        let at = |units: Option<u32>| {
            units.map_or(value.len(), |u| {
                autocomplete::byte_offset(&value, u as usize)
            })
        };
        let start = at(el.selection_start().ok().flatten());
        let end = at(el.selection_end().ok().flatten());
        let (next, caret) = emoji::insert(&value, start, end, emoji);
        el.set_value(&next);
        let units = autocomplete::utf16_offset(&next, caret) as u32;
        let _ = el.focus();
        let _ = el.set_selection_range(units, units);
        if editing.get_untracked().is_none() {
            keep_draft(&next);
        }
        text.set(next);
    };
    // Once the page knows who is signed in, the room's draft is back.
    Effect::new(move |restored: Option<bool>| {
        if restored == Some(true) {
            return true;
        }
        if chat.me.with(|m| m.is_none()) {
            return false;
        }
        if editing.get_untracked().is_none() && text.get_untracked().is_empty() {
            restore_draft();
        }
        true
    });
    // Leaving the room stops its uploads still on their way.
    on_cleanup(move || {
        for key in tray.try_with_untracked(Tray::uploading).unwrap_or_default() {
            uploader::abort(key);
        }
    });
    let submit = move || {
        let raw = text.get_untracked();
        let editing_now = editing.get_untracked();
        let files = if editing_now.is_some() {
            Vec::new()
        } else {
            if tray.with_untracked(Tray::busy) {
                problem.set(Some("Wait until the files have uploaded.".into()));
                return;
            }
            tray.with_untracked(Tray::files)
        };
        let Some(body) = message_body(&raw, &files) else {
            return;
        };
        if let Err(e) = Body::parse(&body) {
            problem.set(Some(e.message));
            return;
        }
        match editing_now {
            Some(e) => {
                if e.body != body {
                    chat.edit(room, e.id, body);
                }
                editing.set(None);
                clear();
                restore_draft();
            }
            None => {
                chat.send(room, body, files);
                tray.update(Tray::clear);
                clear();
                keep_draft("");
            }
        }
    };
    // "Wait until the files have uploaded" goes once they have.
    let busy = Memo::new(move |_| tray.with(Tray::busy));
    Effect::new(move |was: Option<bool>| {
        let now = busy.get();
        if was == Some(true) && !now {
            problem.set(None);
        }
        now
    });
    // Send is offered when there is something to send and no upload is still going.
    let can_send = move || hydrated.get() && (editing.with(|e| e.is_some()) || !busy.get());
    let last_own = move || {
        let me = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id))?;
        chat.timelines.with_untracked(|t| {
            t.get(&room)?
                .lines
                .iter()
                .rev()
                .find(|l| l.message.author.id == me && !l.message.deleted && l.local.is_none())
                .map(|l| Editing {
                    id: l.message.id,
                    body: l.message.body.clone(),
                })
        })
    };
    let listed = move || suggest.with_untracked(|s| s.as_ref().map_or(0, |(_, l)| l.len()));
    // On blur, which also fires as the composer is taken out of the page (leaving the room
    // while typing): only a list that is open is closed, so that nothing is woken in a
    // view that is going away.
    let close_suggestions = move || {
        if suggest.try_with_untracked(|s| s.is_some()).unwrap_or(false) {
            suggest.try_set(None);
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" | "ArrowUp" if listed() > 0 => {
            ev.prevent_default();
            let n = listed();
            let step = if ev.key() == "ArrowDown" { 1 } else { n - 1 };
            active.update(|a| *a = (*a + step) % n);
        }
        "Enter" | "Tab" if listed() > 0 && !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            pick(active.get_untracked());
        }
        "Escape" if listed() > 0 => {
            ev.prevent_default();
            suggest.set(None);
        }
        "Enter" if !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            submit();
        }
        "ArrowUp" if text.get_untracked().is_empty() && editing.get_untracked().is_none() => {
            if let Some(e) = last_own() {
                ev.prevent_default();
                editing.set(Some(e));
            }
        }
        "Escape" if editing.get_untracked().is_some() => {
            ev.prevent_default();
            editing.set(None);
            clear();
            restore_draft();
        }
        _ => {}
    };
    let on_input = move |ev: leptos::ev::Event| {
        let typed = event_target_value(&ev);
        if editing.get_untracked().is_none() {
            keep_draft(&typed);
        }
        text.set(typed);
        problem.set(None);
        chat.typing(room);
        refresh_suggestions();
    };
    let placeholder = format!("Message {title}");

    view! {
        <form class="composer" data-testid="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <Show when=move || editing.get().is_some()>
                <p class="composer__editing" data-testid="editing">
                    "Editing your message — Enter to save, Esc to cancel"
                </p>
            </Show>
            <Show when=move || problem.get().is_some()>
                <p class="form-error" role="alert">{move || problem.get().unwrap_or_default()}</p>
            </Show>
            {move || suggest.get().map(|(_, list)| view! {
                <ul class="mention-list" role="listbox" id=format!("mentions-{room}")
                    aria-label="People to mention" data-testid="mention-suggestions">
                    {list.into_iter().enumerate().map(|(i, s)| view! {
                        <li role="option" class="mention-list__option" data-testid="mention-option"
                            id=format!("mention-{room}-{i}")
                            class:mention-list__option--active=move || active.get() == i
                            aria-selected=move || (active.get() == i).to_string()
                            // Mousedown, not click: the composer keeps its focus and caret.
                            on:mousedown=move |ev| { ev.prevent_default(); pick(i); }>
                            <span class="mention-list__handle">{format!("@{}", s.handle)}</span>
                            <span class="mention-list__name">{s.label}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            // Without JavaScript nothing can be sent (Send stays disabled, so the form never
            // submits and typed text is never thrown away); this says so.
            <noscript class="nojs" data-testid="composer-nojs">"Sending messages needs JavaScript. Turn it on to take part; reading works without it."</noscript>
            <UploadTray tray />
            <div class="composer__row">
                <AttachButton room tray />
                <EmojiButton pick=put_emoji />
                <textarea
                    node_ref=input
                    class="composer__input"
                    rows="1"
                    aria-label="Message"
                    placeholder=placeholder
                    aria-autocomplete="list"
                    aria-controls=move || suggest.with(|s| s.is_some()).then(|| format!("mentions-{room}"))
                    aria-activedescendant=move || suggest.with(|s| s.is_some()).then(|| format!("mention-{room}-{}", active.get()))
                    on:keydown=on_keydown
                    on:input=on_input
                    on:blur=move |_| close_suggestions()
                    on:paste=move |ev| paste_files(&ev, room, tray)
                    prop:value=move || text.get()
                ></textarea>
                <button type="submit" class="button" disabled=move || !can_send()
                    title=move || busy.get().then_some("Waiting for the files to upload")
                    aria-label=move || if editing.get().is_some() { "Save edit" } else { "Send" }>
                    {move || if editing.get().is_some() { "Save" } else { "Send" }}
                </button>
            </div>
        </form>
    }
    .into_any()
}
