//! The chat client: what a signed-in person sees and does.
//!
//! # Design
//! - The first paint is server-rendered: the room list ([`api::my_rooms`]) and the open
//!   room's latest page ([`api::load_room`]) are in the HTML. After hydration the page's
//!   [`state::Chat`] takes over: it seeds the room's [`timeline::Timeline`] from the page
//!   and subscribes from the page's last seq, so nothing in between is missed or doubled.
//! - One WebSocket per page ([`client`], browser only) carries everything live. Sends go
//!   through the [`outbox::Outbox`] (pending at once, acked into real messages, failed
//!   with retry and discard; saved in `localStorage` so a reload sends them once). Edits
//!   and deletes apply at once and roll back when refused.
//! - Pure logic (timeline order and merges, the outbox, typing lines, links, formatting) is plain
//!   Rust with unit tests; the views only render signals.
//!
//! # Layout
//! - [`api`]: server functions and the types they return.
//! - [`state`]: the reactive state and the actions views call.
//! - [`client`]: the live connection (hydrate only).
//! - [`timeline`], [`outbox`], [`text`], [`format`] (message formatting and mentions),
//!   [`reactions`], [`receipts`] ("seen by"), [`search`] (marking a hit's words), [`notify`] (when to alert, and the
//!   browser's notifications), [`autocomplete`] (`@` suggestions in the composer): pure
//!   logic, but for the browser calls.
//! - [`view`]: the components.

pub mod api;
pub mod autocomplete;
#[cfg(feature = "hydrate")]
mod client;
pub mod format;
pub mod notify;
pub mod outbox;
pub mod reactions;
pub mod receipts;
pub mod search;
pub mod state;
pub mod text;
pub mod timeline;
pub mod view;
