//! The chat client: what a signed-in person sees and does.
//!
//! # Design
//! - The first paint is server-rendered: the room list ([`api::my_rooms`]) and the open
//!   room's latest page ([`api::load_room`]) are in the HTML. After hydration the page's
//!   [`state::Chat`] takes over: it seeds the room's [`timeline::Timeline`] from the page
//!   and subscribes from the page's last seq, so nothing in between is missed or doubled.
//! - One WebSocket per page ([`live_socket`], browser only) carries everything live. Sends go
//!   through the [`outbox::Outbox`] (pending at once, acked into real messages, failed
//!   with retry and discard; saved in `localStorage` so a reload sends them once), and so
//!   do edits and deletes (applied at once, rolled back when refused) and, made while the
//!   socket is down, replies and reactions. The page keeps the rooms it shows, and a few
//!   recent ones, subscribed ([`watched`]).
//! - Pure logic (timeline order and merges, the outbox, typing lines, links, formatting) is plain
//!   Rust with unit tests; the views only render signals.
//!
//! # Layout
//! - [`api`]: server functions and the types they return.
//! - [`state`]: the reactive state and the actions views call.
//! - [`link`]: the state's handle on the live connection ([`link::Live`]), the requests
//!   sent through it, and the server's stand-in that does nothing.
//! - `live_socket`: the browser's WebSocket behind that handle (hydrate only); it
//!   writes what arrives into the state. Dependencies go one way: views → state →
//!   link, and live_socket → state.
//! - [`announce`]: what a screen reader hears of the open room (new messages, politely).
//! - [`attachments`] (how a message's files are shown: sizes, thumbnails' boxes, kinds,
//!   the body of a message of files alone) and [`uploads`] (a composer's files on their
//!   way, and what an upload's answer means): pure; [`uploader`]: the browser's uploads
//!   (`XMLHttpRequest`, for the progress) feeding them.
//! - [`timeline`], [`outbox`], [`text`], [`format`] (message formatting and mentions),
//!   [`typists`] (who is typing, with expiry), [`watched`] (which rooms stay subscribed), [`unread`] (counting each message once), [`reactions`], [`receipts`] ("seen by"), [`search`] (marking a hit's words), [`notify`] (when to alert, and the
//!   browser's notifications), [`autocomplete`] (`@` suggestions in the composer),
//!   [`avatar`] (a picture's URL, initials on a colour, and which messages share one),
//!   [`group_dm`] (the people picked for a group DM), [`people`] (each person's newest
//!   look, which names and avatars on screen follow),
//!   [`drafts`] (unsent text per room, kept across reloads), [`edit_history`] (a
//!   message's versions), [`emoji`] (the composer's
//!   picker), [`dates`] (day separators,
//!   full times): pure
//!   logic, but for the browser calls. [`notices`]: what a moderation notice says; [`room_info`]: a room's settings as notices
//!   change them; [`pins`]: a room's pinned list;
//!   [`roles`]: what the reader may do in a room (which moderation buttons show).
//! - [`view`]: the components.

pub mod announce;
pub mod api;
pub mod attachments;
pub mod autocomplete;
pub mod avatar;
pub mod dates;
pub mod drafts;
pub mod edit_history;
pub mod emoji;
pub mod format;
pub mod group_dm;
pub mod link;
#[cfg(feature = "hydrate")]
mod live_socket;
pub mod notices;
pub mod notify;
pub mod outbox;
pub mod people;
pub mod pins;
pub mod reactions;
pub mod receipts;
pub mod roles;
pub mod room_info;
pub mod search;
pub mod state;
pub mod text;
pub mod timeline;
pub mod typists;
pub mod unread;
pub mod uploader;
pub mod uploads;
pub mod view;
pub mod watched;

/// Creates the chat state and puts it in context (once, in the root component). Its live
/// side stays idle until [`go_live`].
pub fn provide_chat() -> state::Chat {
    state::provide_chat()
}

/// In the browser, plugs the page's socket into the chat state (once: the chat screen
/// calls it each time it shows). On the server the state stays idle. Called from the chat
/// screen, not the root, so that the socket's code is in the chat's part of the bundle.
pub fn go_live(chat: state::Chat) {
    #[cfg(feature = "hydrate")]
    chat.live.plug_once(|| live_socket::Socket::new(chat));
    #[cfg(not(feature = "hydrate"))]
    let _ = chat;
}
