//! The scrolling message list of a room: confirmed messages in seq order, then this
//! browser's pending and failed sends. Keeps the view at the bottom only when the
//! reader was at the bottom (otherwise a "new messages" marker appears), loads older
//! pages when scrolled to the top (keeping the reader's place), and marks the room read.
//! With `?at=SEQ` (a search hit) it scrolls to that message instead, loading older pages
//! until it is there, and marks it.
//! Each stored message has its reactions under it, and in DMs and small rooms the
//! "seen by" line of those who have read up to it. Bodies are shown through
//! [`MessageBody`] (the text, then the files).

use leptos::html::Div;
use leptos::prelude::*;
use protocol::ids::RoomId;

use super::attachments::MessageBody;
use super::composer::Editing;
use super::confirm::{Deletion, use_confirm};
use super::jump::jump_target;
use super::reactions::Reactions;
use crate::chat::api::RoomPage;
use crate::chat::outbox::{Outgoing, SendState};
use crate::chat::receipts;
use crate::chat::state::use_chat;
use crate::chat::text::clock;
use crate::chat::timeline::{Line, LocalChange, Timeline};

/// Within this many pixels of the end counts as "at the bottom".
const BOTTOM_SLACK: i32 = 48;
/// Within this many pixels of the top, older messages are loaded.
const TOP_SLACK: i32 = 120;

#[component]
pub fn MessageList(
    room: RoomId,
    page: RoomPage,
    editing: RwSignal<Option<Editing>>,
    /// The thread open beside the room.
    thread: RwSignal<Option<protocol::ids::MessageId>>,
) -> impl IntoView {
    let chat = use_chat();
    let first = Timeline::from_page(page.messages, page.last_seq, page.has_more);
    let first_lines = first.lines.clone();
    let first_more = first.has_more;
    let lines = Memo::new(move |_| {
        chat.timelines
            .with(|t| t.get(&room).map(|tl| tl.lines.clone()))
            .unwrap_or_else(|| first_lines.clone())
    });
    let has_more = move || {
        chat.timelines
            .with(|t| t.get(&room).map(|tl| tl.has_more))
            .unwrap_or(first_more)
    };
    // A pending send whose stored message is already shown (restored from storage after
    // a reload, say, while the page came with it) is not shown twice.
    let pending = Memo::new(move |_| {
        let items: Vec<Outgoing> = chat.outbox.with(|o| o.in_room(room).cloned().collect());
        if items.is_empty() {
            return items;
        }
        let me = chat.me.with(|m| m.as_ref().map(|m| m.id));
        lines.with(|lines| {
            items
                .into_iter()
                .filter(|o| {
                    !lines.iter().any(|l| {
                        Some(l.message.author.id) == me
                            && l.message.client_msg_id == o.client_msg_id
                    })
                })
                .collect()
        })
    });
    let loading = move || chat.loading_older.with(|l| l.contains(&room));
    let dm = page.room.kind == crate::chat::api::RoomKind::Dm;
    // Who has read up to which message (DMs and small rooms: the server sends receipts).
    let seen = Memo::new(move |_| {
        let me = chat.me.with(|m| m.as_ref().map(|m| m.id));
        chat.receipts
            .with(|r| {
                r.get(&room).map(|held| {
                    let seqs: Vec<u64> = lines.with(|l| l.iter().map(|x| x.message.seq).collect());
                    receipts::seen_by(&seqs, held.values(), me)
                })
            })
            .unwrap_or_default()
    });

    let scroller = NodeRef::<Div>::new();
    let at_bottom = RwSignal::new(true);
    let query = leptos_router::hooks::use_query_map();
    let target = Memo::new(move |_| query.with(jump_target));
    // The target last scrolled to: a jump happens once, not again on every new message.
    let jumped = StoredValue::new(None::<u64>);
    Effect::new(move |_| {
        let Some(seq) = target.get() else {
            return;
        };
        if jumped.get_value() == Some(seq) {
            return;
        }
        // Read so that scrollback, which needs the connection, is tried again once it is up.
        let _ = chat.connection.get();
        let (present, oldest) = lines.with(|l| {
            (
                l.iter().any(|x| x.message.seq == seq),
                l.first().map(|x| x.message.seq),
            )
        });
        if present {
            jumped.set_value(Some(seq));
            at_bottom.set(false);
            request_animation_frame(move || {
                let row = scroller.get_untracked().and_then(|el| {
                    el.query_selector(&format!("[data-testid=message][data-seq=\"{seq}\"]"))
                        .ok()
                        .flatten()
                });
                if let Some(row) = row {
                    let options = web_sys::ScrollIntoViewOptions::new();
                    options.set_block(web_sys::ScrollLogicalPosition::Center);
                    row.scroll_into_view_with_scroll_into_view_options(&options);
                }
            });
        } else if oldest.is_some_and(|o| o > seq) && has_more() && !loading() {
            chat.load_older(room);
        }
    });
    let unseen = RwSignal::new(false);
    // Before an older page is asked for: (scroll height, scroll top), to keep the place.
    let anchor = StoredValue::new(None::<(i32, i32)>);

    let to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        unseen.set(false);
    };
    // After every change of the list: stick to the bottom, keep the place after an older
    // page, or show the marker.
    Effect::new(move |prev: Option<(usize, Option<u64>, usize)>| {
        let (count, newest, pend) = (
            lines.with(|l| l.len()),
            lines.with(|l| l.last().map(|x| x.message.seq)),
            pending.with(|p| p.len()),
        );
        let now = (count, newest, pend);
        request_animation_frame(move || {
            let Some(el) = scroller.get_untracked() else {
                return;
            };
            if let Some((height, top)) = anchor.get_value()
                && !loading_now(room)
            {
                anchor.set_value(None);
                el.set_scroll_top(top + el.scroll_height() - height);
                return;
            }
            let grew_at_end = prev.is_none_or(|(_, n, p)| n != newest || p != pend);
            if at_bottom.get_untracked() {
                el.set_scroll_top(el.scroll_height());
                chat.mark_read(room);
            } else if grew_at_end && prev.is_some() {
                unseen.set(true);
            }
        });
        now
    });
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() <= BOTTOM_SLACK;
        at_bottom.set(bottom);
        if bottom {
            unseen.set(false);
            chat.mark_read(room);
        }
        if el.scroll_top() <= TOP_SLACK && anchor.get_value().is_none() && has_more() && !loading()
        {
            anchor.set_value(Some((el.scroll_height(), el.scroll_top())));
            chat.load_older(room);
        }
    };

    view! {
        <div class="messages" node_ref=scroller on:scroll=on_scroll data-testid="messages" tabindex="0"
            role="region" aria-label="Messages">
            <p class="messages__start">
                {move || if loading() {
                    "Loading older messages…"
                } else if has_more() {
                    "Scroll up for older messages"
                } else {
                    "This is the start of the conversation."
                }}
            </p>
            <For each=move || lines.get() key=|l| (l.message.id, l.rev) let:line>
                <MessageRow line room editing target seen dm thread />
            </For>
            <For
                each=move || pending.get()
                key=|o| (o.client_msg_id.clone(), state_key(&o.state))
                let:item
            >
                <PendingRow item />
            </For>
        </div>
        <Show when=move || unseen.get()>
            <button class="new-messages" data-testid="new-messages" on:click=move |_| to_bottom()>
                "New messages ↓"
            </button>
        </Show>
    }
    .into_any()
}

fn loading_now(room: RoomId) -> bool {
    use_chat()
        .loading_older
        .with_untracked(|l| l.contains(&room))
}

fn state_key(s: &SendState) -> u8 {
    match s {
        SendState::Queued => 0,
        SendState::InFlight { .. } => 1,
        SendState::Failed { .. } => 2,
    }
}

#[component]
fn MessageRow(
    line: Line,
    room: RoomId,
    editing: RwSignal<Option<Editing>>,
    /// The seq being jumped to, which is marked.
    target: Memo<Option<u64>>,
    /// Names of those whose read receipt sits under each message, by seq.
    seen: Memo<std::collections::HashMap<u64, Vec<String>>>,
    dm: bool,
    thread: RwSignal<Option<protocol::ids::MessageId>>,
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
    let tools = move || {
        let body = body.clone();
        (!deleted && settled).then(|| {
            view! {
                <div class="message__tools">
                    <button class="tool" aria-label="Reply in thread"
                        on:click=move |_| thread.set(Some(id))>"Reply"</button>
                    {mine().then(|| view! {
                        <button class="tool" aria-label="Edit message"
                            on:click=move |_| editing.set(Some(Editing { id, body: body.clone() }))>"Edit"</button>
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
    let pinned = m.pinned.is_some();
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
            class:message--target=move || target.get() == Some(seq)
            class:message--mentions-me=mentions_me
            data-testid="message" data-id=id.to_string() data-seq=m.seq data-state=state>
            <header class="message__meta">
                <span class="message__author">{m.author.name.clone()}</span>
                <time class="message__time">{when}</time>
                {pinned.then(|| view! { <span class="message__pin" aria-label="Pinned" data-testid="pinned">"📌"</span> })}
                {m.edited_at.filter(|_| !deleted).map(|_| view! { <span class="message__edited" data-testid="edited">"(edited)"</span> })}
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
fn PendingRow(item: Outgoing) -> impl IntoView {
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
