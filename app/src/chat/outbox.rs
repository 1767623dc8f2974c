//! Every change this browser has made but the server has not acknowledged yet, in the
//! order they were made: new messages, and (queued while the socket is down, or always
//! for edits and deletes) replies, edits, deletes and reactions ([`Change`]). They go
//! out in that order once connected. A message or reply carries its `client_msg_id`, so
//! sending it again after a reconnect (or a page reload) can never post it twice: the
//! server acks a retry with the original; an edit, a delete or a reaction sent twice
//! ends in the same state. A message or reply carries the files it names (uploaded
//! beforehand), so a resend names the same ones and its pending line shows them. Pure
//! logic; the live client persists it in `localStorage`.
//!
//! A new message the server refuses stays, failed, for the person to retry or discard;
//! any other change it refuses leaves the outbox (the page rolls it back and says why).

use protocol::ids::{FileId, MessageId, RoomId};
use protocol::{ErrorCode, FileView, ReqId};
use serde::{Deserialize, Serialize};

/// What an item asks of the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// A new message (`body`), shown as pending until acked.
    #[default]
    Message,
    /// A reply (`body`) in the thread of `root`.
    Reply { root: MessageId },
    /// One's message `message` now reads `body`.
    Edit { message: MessageId },
    /// Delete one's message `message`.
    Delete { message: MessageId },
    /// Add (`add`) or remove one's reaction `emoji` on `message`.
    React {
        message: MessageId,
        emoji: String,
        add: bool,
    },
}

/// Where an outgoing message stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SendState {
    /// Waiting for a connection (or its turn).
    Queued,
    /// Sent as request `req`; waiting for the ack since `since_ms` (page clock).
    InFlight { req: ReqId, since_ms: f64 },
    /// Refused, or not answered in time; the person may retry or discard it.
    Failed { reason: String },
}

/// What a refusal of an item means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Temporary (too fast, the store away, the room not subscribed yet): send it again.
    Retry,
    /// What it asked is already so (a delete sent again after its ack was lost).
    Done,
    /// Refused for good.
    Final,
}

impl Change {
    /// What the server's refusal `code` of this change means.
    pub fn refusal(&self, code: ErrorCode) -> Refusal {
        match (self, code) {
            (_, ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::NotSubscribed) => {
                Refusal::Retry
            }
            (Change::Delete { .. }, ErrorCode::Deleted) => Refusal::Done,
            _ => Refusal::Final,
        }
    }
}

/// One change on its way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    pub room: RoomId,
    /// The message's id for the server (messages, replies); the item's key for others.
    pub client_msg_id: String,
    /// The text of a message, reply or edit; empty for the others.
    pub body: String,
    /// Unix milliseconds when it was written.
    pub created_at: i64,
    pub state: SendState,
    /// What it asks (saved outboxes of older pages hold messages only).
    #[serde(default)]
    pub change: Change,
    /// The files a message or reply names, as their uploads answered (kept whole, so its
    /// pending line can show them); empty for other changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileView>,
}

impl Outgoing {
    /// Whether this is a new message (shown as a pending line of its own).
    pub fn is_message(&self) -> bool {
        self.change == Change::Message
    }

    /// The ids of its files, for the frame (the same on every resend).
    pub fn file_ids(&self) -> Vec<FileId> {
        self.files.iter().map(|f| f.id).collect()
    }

    /// What its pending line says: `(state, status)`, `state` `pending` or `failed`;
    /// without a network it waits for one, and says so (not "Sending…").
    pub fn status(&self, no_network: bool) -> (&'static str, String) {
        match &self.state {
            SendState::Failed { reason } => ("failed", format!("Not sent: {reason}")),
            _ if no_network => ("pending", "Waiting for the network…".to_string()),
            _ => ("pending", "Sending…".to_string()),
        }
    }
}

/// The queue, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    items: Vec<Outgoing>,
}

impl Outbox {
    /// Restores a saved outbox. Anything that was in flight when the page went away is
    /// queued again (its ack, if any, was lost with the page).
    pub fn restore(json: &str) -> Outbox {
        let mut outbox: Outbox = serde_json::from_str(json).unwrap_or_default();
        outbox.requeue_in_flight();
        outbox
    }

    /// The saved form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"items\":[]}".into())
    }

    /// Adds a message at the end.
    pub fn push(&mut self, item: Outgoing) {
        self.items.push(item);
    }

    /// Every item, oldest first.
    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    /// New messages of one room, oldest first (other changes show in their messages).
    pub fn in_room(&self, room: RoomId) -> impl Iterator<Item = &Outgoing> {
        self.items
            .iter()
            .filter(move |o| o.room == room && o.is_message())
    }

    /// Edits and deletes of one room not yet acknowledged, oldest first: a page that
    /// loads the room again shows them at once.
    pub fn changes_in_room(&self, room: RoomId) -> impl Iterator<Item = &Outgoing> {
        self.items.iter().filter(move |o| {
            o.room == room && matches!(o.change, Change::Edit { .. } | Change::Delete { .. })
        })
    }

    /// The queued items to send now, oldest first; marks them in flight with the request
    /// ids `next_req` hands out.
    pub fn take_queued(
        &mut self,
        now_ms: f64,
        mut next_req: impl FnMut() -> ReqId,
    ) -> Vec<(ReqId, Outgoing)> {
        let mut out = Vec::new();
        for item in &mut self.items {
            if item.state == SendState::Queued {
                let req = next_req();
                item.state = SendState::InFlight {
                    req,
                    since_ms: now_ms,
                };
                out.push((req, item.clone()));
            }
        }
        out
    }

    /// The connection dropped: whatever was in flight goes back to the queue, in place.
    pub fn requeue_in_flight(&mut self) {
        for item in &mut self.items {
            if matches!(item.state, SendState::InFlight { .. }) {
                item.state = SendState::Queued;
            }
        }
    }

    /// The item in flight as request `req`.
    pub fn in_flight(&self, req: ReqId) -> Option<&Outgoing> {
        self.items
            .iter()
            .find(|o| matches!(o.state, SendState::InFlight { req: r, .. } if r == req))
    }

    /// The message sent as `req` was acked: it leaves the outbox.
    pub fn acked(&mut self, req: ReqId) -> Option<Outgoing> {
        let at = self
            .items
            .iter()
            .position(|o| matches!(o.state, SendState::InFlight { req: r, .. } if r == req))?;
        Some(self.items.remove(at))
    }

    /// The event of our own message or reply `client_msg_id` in `room` arrived: it is stored, so
    /// it leaves the outbox whatever its state (its ack may still be on its way, or lost
    /// with a dropped connection). Without this, the page would show the stored message
    /// and its pending copy side by side until the ack came.
    pub fn stored(&mut self, room: RoomId, client_msg_id: &str) -> Option<Outgoing> {
        let at = self.items.iter().position(|o| {
            o.room == room
                && o.client_msg_id == client_msg_id
                && matches!(o.change, Change::Message | Change::Reply { .. })
        })?;
        Some(self.items.remove(at))
    }

    /// The change sent as `req` was refused: a new message stays, failed; any other
    /// change leaves the outbox. The item as it was, if it was in flight.
    pub fn refused(&mut self, req: ReqId, reason: &str) -> Option<Outgoing> {
        let at = self
            .items
            .iter()
            .position(|o| matches!(o.state, SendState::InFlight { req: r, .. } if r == req))?;
        if !self.items[at].is_message() {
            return Some(self.items.remove(at));
        }
        let item = &mut self.items[at];
        let before = item.clone();
        item.state = SendState::Failed {
            reason: reason.to_string(),
        };
        Some(before)
    }

    /// Marks as failed the new messages that have waited for their ack longer than
    /// `timeout_ms` (other changes wait: they are shown applied, and settle on reconnect).
    pub fn expire(&mut self, now_ms: f64, timeout_ms: f64) -> bool {
        let mut changed = false;
        for item in &mut self.items {
            if let SendState::InFlight { since_ms, .. } = item.state
                && item.change == Change::Message
                && now_ms - since_ms > timeout_ms
            {
                item.state = SendState::Failed {
                    reason: "The server did not answer in time.".into(),
                };
                changed = true;
            }
        }
        changed
    }

    /// The person asked to try a failed message again.
    pub fn retry(&mut self, client_msg_id: &str) {
        if let Some(item) = self
            .items
            .iter_mut()
            .find(|o| o.client_msg_id == client_msg_id)
            && matches!(item.state, SendState::Failed { .. })
        {
            item.state = SendState::Queued;
        }
    }

    /// The person gave up on a failed message.
    pub fn discard(&mut self, client_msg_id: &str) {
        self.items.retain(|o| {
            o.client_msg_id != client_msg_id || !matches!(o.state, SendState::Failed { .. })
        });
    }

    /// Forgets the messages of a room one no longer belongs to.
    pub fn drop_room(&mut self, room: RoomId) {
        self.items.retain(|o| o.room != room);
    }
}

#[cfg(test)]
mod tests;
