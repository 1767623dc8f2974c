//! A thread beside the room: its first message, its replies (live, from the room's own
//! subscription) and a box to reply. Opening it loads the replies; reading it (open, tab
//! visible) moves the reader's thread marker, which clears the root's "new replies" mark.
//! Replies are not optimistic: one shows when its event arrives, which on an acked reply
//! is at once; a refused one stays in the box with the reason. One's own replies can be
//! deleted (also shown when the event arrives); editing a reply is not offered yet.
//! Messages and replies show their files; a reply may carry files too (the paperclip,
//! a paste, or a drop on the pane), uploaded into the pane's own tray.

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId};
use protocol::names::Body;

use super::attachments::MessageBody;
use super::confirm::{Deletion, use_confirm};
use super::profile_card::PersonName;
use super::uploads::{AttachButton, DropZone, UploadTray, paste_files};
use crate::chat::attachments::message_body;
use crate::chat::link::RequestKind;
use crate::chat::state::use_chat;
use crate::chat::text::clock;
use crate::chat::uploader;
use crate::chat::uploads::Tray;

#[component]
pub fn ThreadPane(
    room: RoomId,
    root: MessageId,
    open: RwSignal<Option<MessageId>>,
) -> impl IntoView {
    let chat = use_chat();
    let confirm = use_confirm();
    let held = move || {
        chat.timelines.with(|t| {
            t.get(&room)
                .is_some_and(|tl| tl.threads.contains_key(&root))
        })
    };
    if !held() {
        chat.open_thread(room, root);
    }
    let first = move || {
        chat.timelines.with(|t| {
            t.get(&room)
                .and_then(|tl| tl.get(root))
                .map(|l| l.message.clone())
        })
    };
    let replies = Memo::new(move |_| {
        chat.timelines
            .with(|t| t.get(&room).and_then(|tl| tl.threads.get(&root).cloned()))
    });
    // Read while open: the newest reply is the thread's marker.
    Effect::new(move |_| {
        let newest = replies.with(|r| r.as_ref().and_then(|r| r.last().map(|m| m.seq)));
        if let Some(seq) = newest
            && visible()
        {
            chat.read_thread(room, root, seq);
        }
    });

    let text = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let draft_id = StoredValue::new(chat.fresh_client_msg_id());
    let tray = RwSignal::new(Tray::default());
    on_cleanup(move || {
        for key in tray.try_with_untracked(Tray::uploading).unwrap_or_default() {
            uploader::abort(key);
        }
    });
    let submit = move || {
        if sending.get_untracked() || tray.with_untracked(Tray::busy) {
            return;
        }
        let files = tray.with_untracked(Tray::files);
        let Some(typed) = message_body(&text.get_untracked(), &files) else {
            return;
        };
        let body = match Body::parse(&typed) {
            Ok(b) => b,
            Err(e) => return chat.notify(e.message),
        };
        sending.set(true);
        let kind = RequestKind::Reply {
            room,
            root,
            client_msg_id: draft_id.get_value(),
            body,
            files,
        };
        chat.request(kind, move |reply| {
            sending.set(false);
            match reply {
                Ok(_) => {
                    text.set(String::new());
                    tray.update(Tray::clear);
                    draft_id.set_value(chat.fresh_client_msg_id());
                }
                Err(e) => chat.notify(format!("Your reply was not sent: {e}")),
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        }
    };

    view! {
        <aside class="thread" aria-label="Thread" data-testid="thread">
            <DropZone room tray class_name="thread__zone">
                <header class="thread__header">
                    <h2 class="thread__title">"Thread"</h2>
                    <button class="tool" aria-label="Close thread" on:click=move |_| open.set(None)>"✕"</button>
                </header>
                <div class="thread__messages" data-testid="thread-messages">
                    {move || first().map(|m| view! {
                        <article class="message thread__root" data-testid="thread-root">
                            <header class="message__meta">
                                <PersonName user=m.author.clone() />
                                <time class="message__time">{clock(m.created_at, chat.utc_offset_min.get())}</time>
                            </header>
                            <MessageBody body=m.body.clone() files=m.files.clone() />
                        </article>
                    })}
                    {move || match replies.get() {
                        None => view! { <p class="thread__loading">"Loading replies…"</p> }.into_any(),
                        Some(list) => list.into_iter().map(|m| {
                            let created = m.created_at;
                            let id = m.id;
                            let own = !m.deleted
                                && chat.me.with_untracked(|me| me.as_ref().map(|me| me.id)) == Some(m.author.id);
                            let delete = move |_| confirm.ask(Deletion::Reply { room, message: id });
                            view! {
                                <article class="message" class:message--deleted=m.deleted data-testid="reply" data-seq=m.seq>
                                    <header class="message__meta">
                                        <PersonName user=m.author.clone() />
                                        <time class="message__time">{move || clock(created, chat.utc_offset_min.get())}</time>
                                    </header>
                                    {if m.deleted {
                                        view! { <p class="message__body message__body--gone" data-testid="body">"This reply was deleted."</p> }.into_any()
                                    } else {
                                        view! { <MessageBody body=m.body.clone() files=m.files.clone() /> }.into_any()
                                    }}
                                    {own.then(|| view! {
                                        <div class="message__tools">
                                            <button class="tool" aria-label="Delete reply" on:click=delete>"Delete"</button>
                                        </div>
                                    })}
                                </article>
                            }
                        }).collect_view().into_any(),
                    }}
                </div>
                <form class="composer thread__composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <UploadTray tray />
                    <div class="composer__row">
                        <AttachButton room tray />
                        <textarea class="composer__input" rows="1" aria-label="Reply" placeholder="Reply in thread"
                            data-testid="thread-input"
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))
                            on:paste=move |ev| paste_files(&ev, room, tray)
                            on:keydown=on_keydown></textarea>
                        <button type="submit" class="button"
                            prop:disabled=move || sending.get() || tray.with(Tray::busy)>"Reply"</button>
                    </div>
                </form>
            </DropZone>
        </aside>
    }
    .into_any()
}

fn visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}
