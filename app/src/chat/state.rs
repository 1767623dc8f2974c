//! The page's chat state, shared by every chat view through context: the room list,
//! one [`Timeline`] per room, the [`Outbox`], presence, typing, notices and the
//! connection. Views read these signals; the browser's socket
//! (`live_socket`) writes them, and views ask for changes through the methods
//! here, which go through the [`Live`] handle (on the server, a stand-in that does
//! nothing).

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId, UserId};
use protocol::{PresenceEntry, UserView};
use std::collections::HashMap;

use super::api::RoomItem;
use super::link::{Live, Reply, RequestKind};
use super::notify::Permission;
use super::outbox::Outbox;
use super::pins::Pins;
use super::timeline::Timeline;
use super::typists::Typists;
use crate::live::Connection;

/// Who is in a room right now (connected to it), by user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomPresence {
    pub users: HashMap<UserId, PresenceEntry>,
    pub total: u32,
    /// The connection dropped: this is the last known state, kept (and shown as such)
    /// until the room's next `presence` frame replaces it.
    pub stale: bool,
}

impl RoomPresence {
    /// Marks every room's presence as last known (the connection dropped).
    pub fn mark_stale(all: &mut HashMap<RoomId, RoomPresence>) {
        for p in all.values_mut() {
            p.stale = true;
        }
    }
}

/// A short message to the person (an edit refused, a room that could not be opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: u64,
    pub text: String,
}

/// Handles on the chat state; `Copy`, so every closure can hold one.
#[derive(Clone, Copy)]
pub struct Chat {
    pub me: RwSignal<Option<UserView>>,
    pub connection: RwSignal<Connection>,
    /// `None` until the list was read once.
    pub rooms: RwSignal<Option<Vec<RoomItem>>>,
    pub timelines: RwSignal<HashMap<RoomId, Timeline>>,
    /// Rooms with a history request in flight.
    pub loading_older: RwSignal<Vec<RoomId>>,
    pub outbox: RwSignal<Outbox>,
    pub presence: RwSignal<HashMap<RoomId, RoomPresence>>,
    /// How far the reader has read each thread, by root (from the room page, then moved
    /// here as threads are read).
    pub thread_reads: RwSignal<HashMap<MessageId, u64>>,
    /// Read receipts of small rooms and DMs: each other member's marker, by room.
    pub receipts: RwSignal<HashMap<RoomId, HashMap<UserId, protocol::ReadReceipt>>>,
    /// Who is typing where (never oneself).
    pub typing: RwSignal<Typists>,
    /// Each person's newest look, which names and avatars on screen follow.
    pub people: RwSignal<super::people::People>,
    pub notices: RwSignal<Vec<Notice>>,
    /// The room on screen.
    pub open_room: RwSignal<Option<RoomId>>,
    /// A room the reader stopped being a member of while it was on screen (left on
    /// another device, or removed by a moderator): the room's view takes them away.
    pub lost_room: RwSignal<Option<RoomId>>,
    /// The browser's offset from UTC in minutes, for clock times (0, UTC, until hydrated,
    /// so that the server's HTML and the first browser render agree).
    pub utc_offset_min: RwSignal<i64>,
    /// Whether browser notifications may be shown (`Unsupported` until hydrated).
    pub notifications: RwSignal<Permission>,
    /// Whether the page applies incoming frames less often than it could (under load).
    pub catching_up: RwSignal<bool>,
    /// What the screen reader's polite status line says of the open room ([`announce`]).
    ///
    /// [`announce`]: super::announce
    pub announcement: RwSignal<String>,
    pub announcer: StoredValue<super::announce::Announcer>,
    /// The live connection (the browser's socket; on the server, a stand-in).
    pub live: Live,
    next_notice: StoredValue<u64>,
}

impl Chat {
    fn new() -> Chat {
        Chat {
            me: RwSignal::new(None),
            connection: RwSignal::new(Connection::Connecting),
            rooms: RwSignal::new(None),
            timelines: RwSignal::new(HashMap::new()),
            loading_older: RwSignal::new(Vec::new()),
            outbox: RwSignal::new(Outbox::default()),
            presence: RwSignal::new(HashMap::new()),
            typing: RwSignal::new(Typists::default()),
            people: RwSignal::new(Default::default()),
            receipts: RwSignal::new(HashMap::new()),
            thread_reads: RwSignal::new(HashMap::new()),
            notices: RwSignal::new(Vec::new()),
            open_room: RwSignal::new(None),
            lost_room: RwSignal::new(None),
            utc_offset_min: RwSignal::new(0),
            notifications: RwSignal::new(Permission::Unsupported),
            catching_up: RwSignal::new(false),
            announcement: RwSignal::new(String::new()),
            announcer: StoredValue::new(Default::default()),
            live: Live::idle(),
            next_notice: StoredValue::new(0),
        }
    }

    /// Puts `text` in the screen reader's status line. The same words twice in a row
    /// are made to differ (by a no-break space) so that they are said again.
    pub fn announce(&self, text: String) {
        self.announcement.update(|said| {
            *said = if *said == text {
                format!("{text}\u{a0}")
            } else {
                text
            };
        });
    }

    /// Shows a notice for a few seconds.
    pub fn notify(&self, text: impl Into<String>) {
        let id = self.next_notice.get_value() + 1;
        self.next_notice.set_value(id);
        self.notices.update(|n| {
            n.push(Notice {
                id,
                text: text.into(),
            })
        });
        let notices = self.notices;
        set_timeout(
            move || notices.update(|n| n.retain(|x| x.id != id)),
            std::time::Duration::from_secs(6),
        );
    }

    /// Reads the room list again (joined, left, invited, a new DM). Browser only; the
    /// answer replaces the list, unread counts included (the server's are authoritative).
    pub fn refresh_rooms(&self) {
        let rooms = self.rooms;
        let open = self.open_room;
        self.live.spawn(async move {
            if let Ok(mut list) = super::api::my_rooms().await {
                if let Some(room) = open.get_untracked()
                    && let Some(item) = list.iter_mut().find(|r| r.id == room)
                {
                    item.unread = 0;
                    item.mentions = 0;
                }
                rooms.set(Some(list));
            }
        });
    }

    /// Starts the live connection for `me` (browser only; once per page).
    pub fn start(&self, me: UserView) {
        self.know(me);
        self.live.start();
    }

    /// Asks the browser for permission to show notifications (from a click).
    pub fn ask_for_notifications(&self) {
        let notifications = self.notifications;
        self.live
            .ask_for_notifications(move |answer| notifications.set(answer));
    }

    /// Records who is signed in, so that rendering (on the server too) can tell one's own
    /// messages from others'.
    pub fn know(&self, me: UserView) {
        if self.me.get_untracked().as_ref() != Some(&me) {
            self.me.set(Some(me));
        }
    }

    /// Ends the live connection and forgets everything held (the user signed out).
    pub fn stop(&self) {
        if self.me.get_untracked().is_none() {
            return;
        }
        self.live.stop();
        self.me.set(None);
        self.rooms.set(None);
        self.timelines.set(HashMap::new());
        self.outbox.set(Outbox::default());
        self.presence.set(HashMap::new());
        self.typing.set(Typists::default());
        self.receipts.set(HashMap::new());
        self.open_room.set(None);
        self.connection.set(Connection::Connecting);
    }

    /// Shows a room: seeds its timeline from a server-rendered page (if none is held)
    /// and subscribes from the page's last seq, so nothing between the two is missed.
    pub fn open(&self, page: &super::api::RoomPage) {
        let room = page.room.id;
        if self.open_room.get_untracked() != Some(room) {
            self.announcer.update_value(|a| a.clear());
        }
        self.open_room.set(Some(room));
        // A timeline starts from the page; one held already takes the page's pins and
        // settings only when the page is at least as new as it.
        self.timelines.maybe_update(|t| match t.get_mut(&room) {
            None => {
                let mut tl =
                    Timeline::from_page(page.messages.clone(), page.last_seq, page.has_more);
                tl.pins = Pins::new(page.pins.clone());
                t.insert(room, tl);
                true
            }
            Some(tl) if page.last_seq >= tl.last_seq => {
                tl.pins = Pins::new(page.pins.clone());
                tl.changed = Default::default();
                true
            }
            Some(_) => false,
        });
        self.read_through(room, page.last_seq);
        self.thread_reads.update(|held| {
            for (root, seq) in &page.thread_reads {
                let at = held.entry(*root).or_default();
                *at = (*at).max(*seq);
            }
        });
        self.show_pending_changes(room);
        self.live.watch(room);
    }

    /// Shows the edits and deletes of `room` still in the outbox (made offline, perhaps
    /// before a reload) on its timeline, as they will be once sent.
    pub(crate) fn show_pending_changes(&self, room: RoomId) {
        let changes: Vec<_> = self
            .outbox
            .with_untracked(|o| o.changes_in_room(room).cloned().collect());
        if changes.is_empty() {
            return;
        }
        self.timelines.update(|t| {
            let Some(tl) = t.get_mut(&room) else {
                return;
            };
            for item in changes {
                match item.change {
                    super::outbox::Change::Edit { message } => {
                        tl.begin_edit(message, &item.body);
                    }
                    super::outbox::Change::Delete { message } => {
                        tl.begin_delete(message);
                    }
                    _ => {}
                }
            }
        });
    }

    /// During a reconnect wait, tries again at once.
    pub fn reconnect_now(&self) {
        self.live.reconnect_now();
    }

    /// Posts a message naming `files` (uploaded already; at once as pending, sent when
    /// connected).
    pub fn send(&self, room: RoomId, body: String, files: Vec<protocol::FileView>) {
        self.live.send(room, body, files);
    }

    /// Edits one's own message, showing the change at once.
    pub fn edit(&self, room: RoomId, message: MessageId, body: String) {
        self.live.edit(room, message, body);
    }

    /// Deletes a message (one's own, or as a moderator anyone's), showing the tombstone
    /// at once.
    pub fn delete(&self, room: RoomId, message: MessageId) {
        self.live.delete(room, message);
    }

    /// Tells the room one is typing (throttled).
    pub fn typing(&self, room: RoomId) {
        self.live.typing(room);
    }

    /// Loads the page before the oldest message held.
    pub fn load_older(&self, room: RoomId) {
        self.live.load_older(room);
    }

    /// Moves the read marker to the newest message held in `room`.
    pub fn mark_read(&self, room: RoomId) {
        self.live.mark_read(room);
    }

    /// Tries a failed message again.
    pub fn retry(&self, client_msg_id: &str) {
        self.outbox.update(|o| o.retry(client_msg_id));
        self.live.pump();
    }

    /// Gives up on a failed message.
    pub fn discard(&self, client_msg_id: &str) {
        self.outbox.update(|o| o.discard(client_msg_id));
        self.live.save_outbox();
    }

    /// Sends a request whose answer `done` handles (create a room, open a DM, invite,
    /// leave). Without a connection it fails at once.
    pub fn request(&self, frame: RequestKind, done: impl FnOnce(Reply) + 'static) {
        self.live.request(frame, done);
    }

    /// Adds (`add`) or removes one's reaction on a message. The change shows when its
    /// event arrives (for everyone at once, oneself included); a refusal is a notice.
    /// Made while disconnected, it waits in the outbox.
    pub fn react(
        &self,
        room: RoomId,
        message: MessageId,
        emoji: protocol::names::Emoji,
        add: bool,
    ) {
        let chat = *self;
        self.request(
            RequestKind::React {
                room,
                message,
                emoji,
                add,
            },
            move |reply| {
                if let Err(reason) = reply {
                    chat.notify(format!("Your reaction was refused: {reason}"));
                }
            },
        );
    }

    /// Loads the thread of `root` into the room's timeline (browser only).
    pub fn open_thread(&self, room: RoomId, root: MessageId) {
        let chat = *self;
        self.live.spawn(async move {
            match super::api::load_thread(room, root).await {
                Ok(page) => chat.timelines.update(|t| {
                    t.entry(room)
                        .or_default()
                        .load_thread(page.root, page.replies)
                }),
                Err(e) => chat.notify(format!("Could not open the thread: {e}")),
            }
        });
    }

    /// Marks the thread of `root` read up to `seq` (its newest reply), here and on the
    /// server.
    pub fn read_thread(&self, room: RoomId, root: MessageId, seq: u64) {
        if self
            .thread_reads
            .with_untracked(|r| r.get(&root).is_some_and(|&s| s >= seq))
        {
            return;
        }
        self.thread_reads.update(|r| {
            r.insert(root, seq);
        });
        self.live.spawn(async move {
            let _ = super::api::mark_thread_read(room, root, seq).await;
        });
    }

    /// A fresh id for a send or reply (retrying one reuses it).
    pub fn fresh_client_msg_id(&self) -> protocol::names::ClientMsgId {
        let raw = self.live.new_client_msg_id();
        protocol::names::ClientMsgId::parse(&raw).expect("generated ids are valid")
    }

    /// The reader has read `room` through `seq` (here or on another device).
    pub(crate) fn read_through(&self, room: RoomId, seq: protocol::ids::Seq) {
        self.rooms.update(|rooms| {
            if let Some(rooms) = rooms {
                super::unread::read_through(rooms, room, seq);
            }
        });
    }

    pub(crate) fn set_unread(&self, room: RoomId, unread: u64) {
        self.rooms.update(|rooms| {
            if let Some(item) = rooms.iter_mut().flatten().find(|r| r.id == room) {
                item.unread = unread;
                item.mentions = item.mentions.min(unread);
            }
        });
    }
}

/// Creates the chat state, with an idle [`Live`] handle, and puts it in context (once,
/// through [`super::provide_chat`], which plugs in the browser's socket).
pub(super) fn provide_chat() -> Chat {
    let chat = Chat::new();
    provide_context(chat);
    let session = crate::session_ui::use_session();
    Effect::new(move |_| {
        if matches!(session.me.get(), Some(Ok(None))) {
            chat.stop();
        }
    });
    chat
}

/// The chat state; panics only if used outside [`crate::App`].
pub fn use_chat() -> Chat {
    expect_context::<Chat>()
}
