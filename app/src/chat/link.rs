//! The page's handle on its live connection ([`Live`]), which the chat state calls
//! through: the browser's socket (`live_socket`) once hydrated, and on the
//! server a stand-in that does nothing. Also the requests views make through it
//! ([`RequestKind`]) and what those answer ([`Reply`]).
//!
//! This module knows nothing of the chat state, so the state depends on it and not the
//! other way; the socket, which does need the state, plugs itself in here.

use leptos::prelude::*;
use protocol::ids::{MessageId, RoomId, UserId};
use protocol::{AckInfo, FileView};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::notify::Permission;

/// What a request answered: its ack, or the server's (or the connection's) reason.
pub type Reply = Result<AckInfo, String>;

/// Requests made from dialogs, answered through a callback.
#[derive(Debug, Clone)]
pub enum RequestKind {
    CreateRoom {
        name: protocol::names::RoomName,
        private: bool,
        topic: Option<protocol::names::RoomTopic>,
    },
    OpenDm {
        user: UserId,
    },
    /// A group DM of oneself and `users` (2 to 7 others).
    OpenGroup {
        users: Vec<UserId>,
    },
    Invite {
        room: RoomId,
        user: UserId,
    },
    Leave {
        room: RoomId,
    },
    /// A reply in the thread of `root`, naming `files` (uploaded already).
    Reply {
        room: RoomId,
        root: MessageId,
        client_msg_id: protocol::names::ClientMsgId,
        body: protocol::names::Body,
        files: Vec<FileView>,
    },
    /// Delete a reply: one's own, or as a moderator anyone's (shown when its event
    /// arrives, not before).
    DeleteReply {
        room: RoomId,
        message: MessageId,
    },
    /// Set one's status on all devices; `Active` with no line hands it back to automatic.
    SetStatus {
        status: protocol::Status,
        text: Option<protocol::names::StatusText>,
    },
    /// Add or remove one's reaction.
    React {
        room: RoomId,
        message: MessageId,
        emoji: protocol::names::Emoji,
        add: bool,
    },
    /// Moderators: pin (`pin: true`) or unpin a message.
    Pin {
        room: RoomId,
        message: MessageId,
        pin: bool,
    },
    /// Moderators: remove a member, banning them with `ban`.
    RemoveMember {
        room: RoomId,
        user: UserId,
        ban: bool,
    },
    /// Moderators: let a banned user back.
    Unban {
        room: RoomId,
        user: UserId,
    },
    /// Make a member an admin, or an admin a member again.
    SetRole {
        room: RoomId,
        user: UserId,
        role: protocol::RoleName,
    },
    /// Moderators: change the room's settings; what is `None` stays as it is.
    UpdateRoom {
        room: RoomId,
        name: Option<protocol::names::RoomName>,
        topic: Option<String>,
        description: Option<String>,
        private: Option<bool>,
        archived: Option<bool>,
    },
}

/// What the live side of a page does: the browser's socket implements it, and
/// [`Idle`] stands in for it on the server.
pub trait LiveLink: Send + Sync {
    /// Starts the live side (once per page): reads the browser's clock offset and
    /// notification permission, restores the outbox and opens the socket.
    fn start(&self);
    /// Closes the connection for good (the user signed out).
    fn stop(&self);
    /// Follows a room: subscribes now if connected, and after every reconnect.
    fn watch(&self, room: RoomId);
    /// Queues a message naming `files` (uploaded already) and sends it when possible.
    fn send(&self, room: RoomId, body: String, files: Vec<FileView>);
    /// Edits one's own message, showing the change at once.
    fn edit(&self, room: RoomId, message: MessageId, body: String);
    /// Deletes one's own message, showing the tombstone at once.
    fn delete(&self, room: RoomId, message: MessageId);
    /// Tells the room one is typing (throttled).
    fn typing(&self, room: RoomId);
    /// Asks for the page before the oldest message held.
    fn load_older(&self, room: RoomId);
    /// Moves the read marker to the newest message held in `room`.
    fn mark_read(&self, room: RoomId);
    /// Sends whatever is queued, if connected.
    fn pump(&self);
    /// During a reconnect wait, tries again at once.
    fn reconnect_now(&self);
    /// Saves the outbox after a change made outside the socket.
    fn save_outbox(&self);
    /// Sends a request whose answer `done` handles. Without a connection a reply or a
    /// reaction waits in the outbox (`done` hears `Ok` at once); anything else fails.
    fn request(&self, kind: RequestKind, done: Box<dyn FnOnce(Reply)>);
    /// A fresh client id for a send or reply.
    fn new_client_msg_id(&self) -> String;
    /// Runs `task` (a server function call and what follows it) in the browser.
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()>>>);
    /// Asks the browser for permission to show notifications; `done` gets the answer.
    fn ask_for_notifications(&self, done: Box<dyn FnOnce(Permission)>);
}

/// The server's stand-in: rendering has no connection, so every call does nothing
/// (callbacks are dropped unanswered, tasks are dropped unrun).
pub struct Idle;

impl LiveLink for Idle {
    fn start(&self) {}
    fn stop(&self) {}
    fn watch(&self, _: RoomId) {}
    fn send(&self, _: RoomId, _: String, _: Vec<FileView>) {}
    fn edit(&self, _: RoomId, _: MessageId, _: String) {}
    fn delete(&self, _: RoomId, _: MessageId) {}
    fn typing(&self, _: RoomId) {}
    fn load_older(&self, _: RoomId) {}
    fn mark_read(&self, _: RoomId) {}
    fn pump(&self) {}
    fn reconnect_now(&self) {}
    fn save_outbox(&self) {}
    fn request(&self, _: RequestKind, _: Box<dyn FnOnce(Reply)>) {}
    fn new_client_msg_id(&self) -> String {
        "server".to_string()
    }
    fn spawn(&self, _: Pin<Box<dyn Future<Output = ()>>>) {}
    fn ask_for_notifications(&self, _: Box<dyn FnOnce(Permission)>) {}
}

/// The handle on the live connection; `Copy`, so the chat state (and every closure)
/// can hold one. It starts as [`Idle`]; the browser plugs its socket in when a chat page
/// first shows (the socket's code is in the part of the bundle that only chat pages
/// load: `crate::pages::split`).
#[derive(Clone, Copy)]
pub struct Live {
    link: StoredValue<Arc<dyn LiveLink>>,
    plugged: StoredValue<bool>,
}

impl Live {
    /// A handle that does nothing until something is plugged in.
    pub fn idle() -> Live {
        Live {
            link: StoredValue::new(Arc::new(Idle)),
            plugged: StoredValue::new(false),
        }
    }

    /// Makes `make()` the live side of the page, unless one was plugged in already (a
    /// chat page shown again).
    pub fn plug_once<L: LiveLink + 'static>(&self, make: impl FnOnce() -> L) {
        if !self.plugged.get_value() {
            self.plugged.set_value(true);
            self.link.set_value(Arc::new(make()));
        }
    }

    /// The current link, taken out of the store so that a call may reach the handle again.
    fn link(&self) -> Arc<dyn LiveLink> {
        self.link.try_get_value().unwrap_or_else(|| Arc::new(Idle))
    }

    pub fn start(&self) {
        self.link().start();
    }
    pub fn stop(&self) {
        self.link().stop();
    }
    pub fn watch(&self, room: RoomId) {
        self.link().watch(room);
    }
    pub fn send(&self, room: RoomId, body: String, files: Vec<FileView>) {
        self.link().send(room, body, files);
    }
    pub fn edit(&self, room: RoomId, message: MessageId, body: String) {
        self.link().edit(room, message, body);
    }
    pub fn delete(&self, room: RoomId, message: MessageId) {
        self.link().delete(room, message);
    }
    pub fn typing(&self, room: RoomId) {
        self.link().typing(room);
    }
    pub fn load_older(&self, room: RoomId) {
        self.link().load_older(room);
    }
    pub fn mark_read(&self, room: RoomId) {
        self.link().mark_read(room);
    }
    pub fn pump(&self) {
        self.link().pump();
    }
    pub fn reconnect_now(&self) {
        self.link().reconnect_now();
    }
    pub fn save_outbox(&self) {
        self.link().save_outbox();
    }
    pub fn request(&self, kind: RequestKind, done: impl FnOnce(Reply) + 'static) {
        self.link().request(kind, Box::new(done));
    }
    pub fn new_client_msg_id(&self) -> String {
        self.link().new_client_msg_id()
    }
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.link().spawn(Box::pin(task));
    }
    pub fn ask_for_notifications(&self, done: impl FnOnce(Permission) + 'static) {
        self.link().ask_for_notifications(Box::new(done));
    }
}
