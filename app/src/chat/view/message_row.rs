//! One row of a room's message list: a stored message (avatar and author, whose name opens
//! their profile card, both left out when it continues its author's group; time with its full date
//! on hover, pin, "(edited)" opening its history, body or tombstone, reactions, thread link, tools, "seen by"), a notice
//! of a moderation action, or one of this browser's sends still on its way. The tools
//! are Reply and Copy link for everyone, Edit for one's own, Pin and Delete for
//! moderators (Delete for one's own too).

use leptos::prelude::*;
use protocol::ids::RoomId;

use super::attachments::MessageBody;
use super::avatar::Avatar;
use super::clipboard::{absolute, copy};
use super::composer::Editing;
use super::confirm::{Deletion, use_confirm};
use super::edit_history::EditedMark;
use super::pins::set_pin;
use super::profile_card::PersonName;
use super::reactions::Reactions;
use crate::chat::dates;
use crate::chat::outbox::Outgoing;
use crate::chat::receipts;
use crate::chat::roles::Rights;
use crate::chat::state::use_chat;
use crate::chat::text::clock;
use crate::chat::timeline::{Line, LocalChange};

#[component]
pub fn MessageRow(
    line: Line,
    /// It continues its author's group: no avatar or name again.
    grouped: bool,
    room: RoomId,
    editing: RwSignal<Option<Editing>>,
    /// The seq being jumped to, which is marked.
    target: Memo<Option<u64>>,
    /// Names of those whose read receipt sits under each message, by seq.
    seen: Memo<std::collections::HashMap<u64, Vec<String>>>,
    dm: bool,
    thread: RwSignal<Option<protocol::ids::MessageId>>,
    rights: Rights,
) -> impl IntoView {
    let chat = use_chat();
    let m = line.message;
    let id = m.id;
    let author = m.author.id;
    let body = m.body.clone();
    let state = match &line.local {
        Some(LocalChange::Editing { .. }) => "editing",
        Some(LocalChange::Deleting { .. }) => "deleting",
        None => "sent",
    };
    let created = m.created_at;
    let seq = m.seq;
    let when = move || clock(created, chat.utc_offset_min.get());
    let deleted = m.deleted;
    let settled = line.local.is_none();
    let mine = move || chat.me.with(|me| me.as_ref().map(|me| me.id)) == Some(author);
    let mentions = (!deleted).then(|| protocol::mentions::scan(&m.body));
    let mentions_me = move || {
        !mine()
            && chat.me.with(|me| {
                me.as_ref()
                    .is_some_and(|me| mentions.as_ref().is_some_and(|m| m.includes(&me.handle)))
            })
    };
    let confirm = use_confirm();
    let pinned = m.pinned.is_some();
    let may_delete =
        move || rights.may_delete(chat.me.with(|me| me.as_ref().map(|me| me.id)), author);
    let tools = move || {
        let body = body.clone();
        (!deleted && settled).then(|| {
            view! {
                <div class="message__tools">
                    <button class="tool" aria-label="Reply in thread"
                        on:click=move |_| thread.set(Some(id))>"Reply"</button>
                    <button class="tool" aria-label="Copy link to message" data-testid="copy-link"
                        on:click=move |_| {
                            copy(&absolute(&format!("/r/{room}?at={seq}")));
                            chat.notify("Link to the message copied.");
                        }>"Copy link"</button>
                    {mine().then(|| view! {
                        <button class="tool" aria-label="Edit message"
                            on:click=move |_| editing.set(Some(Editing { id, body: body.clone() }))>"Edit"</button>
                    })}
                    {rights.moderates().then(|| {
                        let (label, tool) = if pinned { ("Unpin message", "Unpin") } else { ("Pin message", "Pin") };
                        view! {
                            <button class="tool" aria-label=label data-testid="pin-tool"
                                on:click=move |_| set_pin(room, id, !pinned)>{tool}</button>
                        }
                    })}
                    {may_delete().then(|| view! {
                        <button class="tool" aria-label="Delete message"
                            on:click=move |_| confirm.ask(Deletion::Message { room, message: id })>"Delete"</button>
                    })}
                </div>
            }
        })
    };
    if let Some(notice) = m.notice.as_deref() {
        return notice_row(&m.author.name, notice, room, when).into_any();
    }
    let removed_by_admin = m.removed_by_admin;
    let summary = m.thread.filter(|t| t.replies > 0);
    let thread_link = summary.map(|t| {
        let last = t.last_reply_seq;
        let unread = move || chat.thread_reads.with(|r| r.get(&id).is_none_or(|&seen| seen < last));
        let label = if t.replies == 1 { "1 reply".to_string() } else { format!("{} replies", t.replies) };
        let at = t.last_reply_at;
        view! {
            <button class="thread-link" class:thread-link--unread=unread data-testid="thread-link"
                data-unread=move || unread().to_string()
                on:click=move |_| thread.set(Some(id))>
                <span class="thread-link__count">{label}</span>
                <span class="thread-link__last">{move || format!("last {}", clock(at, chat.utc_offset_min.get()))}</span>
            </button>
        }
        .into_any()
    });
    view! {
        <article class="message" class:message--mine=mine class:message--deleted=deleted
            class:message--grouped=grouped
            class:message--target=move || target.get() == Some(seq)
            class:message--mentions-me=mentions_me
            data-testid="message" data-id=id.to_string() data-seq=m.seq data-state=state>
            {(!grouped).then(|| view! { <Avatar user=m.author.clone() /> })}
            <header class="message__meta">
                {if grouped {
                    view! { <span class="message__author visually-hidden">{m.author.name.clone()}</span> }.into_any()
                } else {
                    view! { <PersonName user=m.author.clone() /> }.into_any()
                }}
                <time class="message__time" title=move || dates::full_time(created, chat.utc_offset_min.get())>{when}</time>
                {pinned.then(|| view! { <span class="message__pin" aria-label="Pinned" data-testid="pinned">"📌"</span> })}
                {m.edited_at.filter(|_| !deleted).map(|edited_at| view! {
                    <EditedMark room message=id body=m.body.clone() created_at=created edited_at />
                })}
            </header>
            {if deleted {
                let gone = if removed_by_admin { "This message was removed by an admin." } else { "This message was deleted." };
                view! { <p class="message__body message__body--gone" data-testid="body">{gone}</p> }.into_any()
            } else {
                view! {
                    <MessageBody body=m.body.clone() files=m.files.clone() />
                    <Reactions room message=id reactions=m.reactions.clone() />
                }.into_any()
            }}
            {thread_link}
            {tools}
            {move || seen.with(|s| s.get(&seq).map(|names| {
                let line = receipts::seen_text(names, dm);
                let who = names.join(", ");
                view! { <p class="message__seen" data-testid="seen-by" title=who>{line}</p> }
            }))}
        </article>
    }
    // Erased: a row's full view type is deep enough to overflow the compiler's query depth
    // in release builds without `erase_components`.
    .into_any()
}

#[component]
pub fn PendingRow(item: Outgoing) -> impl IntoView {
    let chat = use_chat();
    let me = chat.me.get_untracked().map(|m| m.name).unwrap_or_default();
    let (state, _) = item.status(false);
    let failed = state == "failed";
    // Without a network a queued message says it waits for one.
    let shown = item.clone();
    let status = move || shown.status(chat.connection.with(|c| c.no_network())).1;
    let cmid = item.client_msg_id.clone();
    let cmid2 = cmid.clone();
    let cmid_attr = cmid.clone();
    view! {
        <article class="message message--mine message--pending" class:message--failed=failed
            data-testid="message" data-state=state data-client-id=cmid_attr>
            <header class="message__meta">
                <span class="message__author">{me}</span>
                <span class="message__status" data-testid="send-status">{status}</span>
            </header>
            <MessageBody body=item.body.clone() files=item.files.clone() />
            {failed.then(|| view! {
                <div class="message__tools message__tools--shown">
                    <button class="tool" on:click=move |_| chat.retry(&cmid)>"Retry"</button>
                    <button class="tool" on:click=move |_| chat.discard(&cmid2)>"Discard"</button>
                </div>
            })}
        </article>
    }
}

/// A notice of a moderation action: one muted line, "Ana removed Bo from the room". The
/// member it names is found among those present in the room or the authors shown.
fn notice_row(
    author: &str,
    notice: &protocol::NoticeView,
    room: RoomId,
    when: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    let chat = use_chat();
    let name_of = |user: protocol::ids::UserId| {
        let present = chat.presence.with_untracked(|p| {
            p.get(&room)
                .and_then(|r| r.users.get(&user).map(|e| e.user.name.clone()))
        });
        present.or_else(|| {
            chat.timelines.with_untracked(|t| {
                t.get(&room).and_then(|tl| {
                    tl.lines
                        .iter()
                        .find(|l| l.message.author.id == user)
                        .map(|l| l.message.author.name.clone())
                })
            })
        })
    };
    let text = format!(
        "{author} {}",
        crate::chat::notices::describe(notice, name_of)
    );
    view! {
        <p class="message-notice" data-testid="notice" role="note">
            <span>{text}</span>
            " "
            <time class="message__time">{when}</time>
        </p>
    }
}
