//! The scrolling message list of a room: confirmed messages in seq order, then this
//! browser's pending and failed sends. Keeps the view at the bottom only when the
//! reader was at the bottom (otherwise a "new messages" marker appears), loads older
//! pages when scrolled to the top (keeping the reader's place), and marks the room read.
//! With `?at=SEQ` (a search hit) it scrolls to that message instead, loading older pages
//! until it is there, and marks it.
//! Each stored message has its reactions under it, and in DMs and small rooms the
//! "seen by" line of those who have read up to it. A separator names each day
//! ("Today", "Yesterday", a date) before its first message, and a timestamp's hover says
//! the full date and time ([`crate::chat::dates`]). A "New messages" divider marks the
//! first message the reader had not read when the room opened, with a jump to it while
//! it is above the view ([`crate::chat::unread::first_unread`]). Rows are
//! [`super::message_row`]; the lines between them [`super::dividers`].

use leptos::html::Div;
use leptos::prelude::*;
use protocol::ids::RoomId;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::JsCast;

use super::composer::Editing;
use super::dividers::{DaySeparator, UnreadDivider};
use super::jump::jump_target;
use super::message_row::{MessageRow, PendingRow};
use crate::chat::api::RoomPage;
use crate::chat::avatar;
use crate::chat::dates;
use crate::chat::outbox::{Outgoing, SendState};
use crate::chat::receipts;
use crate::chat::roles::Rights;
use crate::chat::state::use_chat;
use crate::chat::timeline::Timeline;
use crate::chat::unread;

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
    /// What the reader may do here (moderators pin, and delete anyone's message).
    rights: Rights,
) -> impl IntoView {
    let chat = use_chat();
    // Where the "New messages" divider goes: fixed when the room opens, so it stays put
    // while the reader reads on.
    let me = chat.me.with_untracked(|m| m.as_ref().map(|m| m.id));
    let divider = unread::first_unread(&page.messages, page.read_seq, page.has_more, me);
    let first = Timeline::from_page(page.messages, page.last_seq, page.has_more);
    let first_lines = first.lines.clone();
    let first_more = first.has_more;
    let lines = Memo::new(move |_| {
        chat.timelines
            .with(|t| t.get(&room).map(|tl| tl.lines.clone()))
            .unwrap_or_else(|| first_lines.clone())
    });
    // Each line, with the local day it starts when it is its day's first (a separator),
    // and whether it continues the group of its author's message before it (no avatar
    // or name again).
    let rows = Memo::new(move |_| {
        let offset = chat.utc_offset_min.get();
        lines.with(|l| {
            let times: Vec<i64> = l.iter().map(|x| x.message.created_at).collect();
            let mut previous: Option<(protocol::ids::UserId, i64)> = None;
            l.iter()
                .cloned()
                .zip(dates::day_starts(&times, offset))
                .map(|(line, day)| {
                    let m = &line.message;
                    let notice = m.notice.is_some();
                    let separated = notice || day.is_some() || Some(m.seq) == divider;
                    let grouped = avatar::continues(previous, m.author.id, m.created_at, separated);
                    previous = (!notice).then_some((m.author.id, m.created_at));
                    (line, day, grouped)
                })
                .collect::<Vec<_>>()
        })
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
    // Cleared when the list is taken down: a frame callback that was asked for just
    // before (the room's timeline changed as the reader was taken out of it) then does
    // nothing, instead of reading values that are gone.
    let alive = Arc::new(AtomicBool::new(true));
    on_cleanup({
        let alive = alive.clone();
        move || alive.store(false, Ordering::Relaxed)
    });
    let (alive_for_jump, alive_for_list) = (alive.clone(), alive);
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
            let alive = alive_for_jump.clone();
            request_animation_frame(move || {
                if !alive.load(Ordering::Relaxed) {
                    return;
                }
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

    // Whether the divider is above what the list shows (a jump to it is offered).
    let divider_above = RwSignal::new(false);
    let divider_el = move || {
        scroller
            .get_untracked()?
            .query_selector("[data-testid=unread-divider]")
            .ok()
            .flatten()
    };
    let check_divider = move || {
        let (Some(list), Some(line)) = (scroller.get_untracked(), divider_el()) else {
            return divider_above.set(false);
        };
        // Both offsets are from the conversation box, the list's nearest positioned parent.
        let Ok(line) = line.dyn_into::<web_sys::HtmlElement>() else {
            return;
        };
        let above = line.offset_top() - list.offset_top() < list.scroll_top();
        if divider_above.get_untracked() != above {
            divider_above.set(above);
        }
    };
    let to_divider = move || {
        if let Some(line) = divider_el() {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Start);
            line.scroll_into_view_with_scroll_into_view_options(&options);
        }
        divider_above.set(false);
    };
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
        let alive = alive_for_list.clone();
        request_animation_frame(move || {
            if !alive.load(Ordering::Relaxed) {
                return;
            }
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
            if divider.is_some() {
                check_divider();
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
        if divider.is_some() {
            check_divider();
        }
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
            <For each=move || rows.get() key=|(l, day, grouped)| (l.message.id, l.rev, *day, *grouped) let:row>
                {row.1.map(|day| view! { <DaySeparator day /> })}
                {(Some(row.0.message.seq) == divider).then(|| view! { <UnreadDivider /> })}
                <MessageRow line=row.0 grouped=row.2 room editing target seen dm thread rights />
            </For>
            <For
                each=move || pending.get()
                key=|o| (o.client_msg_id.clone(), state_key(&o.state))
                let:item
            >
                <PendingRow item />
            </For>
        </div>
        <Show when=move || divider_above.get()>
            <button class="jump-unread" data-testid="jump-unread" on:click=move |_| to_divider()>
                "↑ Jump to new messages"
            </button>
        </Show>
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
