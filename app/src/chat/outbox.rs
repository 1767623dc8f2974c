//! Every change this browser has made but the server has not acknowledged yet, in the
//! order they were made: new messages, and (queued while the socket is down, or always
//! for edits and deletes) replies, edits, deletes and reactions ([`Change`]). They go
//! out in that order once connected. A message or reply carries its `client_msg_id`, so
//! sending it again after a reconnect (or a page reload) can never post it twice: the
//! server acks a retry with the original; an edit, a delete or a reaction sent twice
//! ends in the same state. Pure logic; the live client persists it in `localStorage`.
//!
//! A new message the server refuses stays, failed, for the person to retry or discard;
//! any other change it refuses leaves the outbox (the page rolls it back and says why).

use protocol::ids::{MessageId, RoomId};
use protocol::{ErrorCode, ReqId};
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
}

impl Outgoing {
    /// Whether this is a new message (shown as a pending line of its own).
    pub fn is_message(&self) -> bool {
        self.change == Change::Message
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
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn item(n: u32) -> Outgoing {
        Outgoing {
            room: RoomId(Uuid::from_u128(1)),
            client_msg_id: format!("c{n}"),
            body: format!("message {n}"),
            created_at: 0,
            state: SendState::Queued,
            change: Change::Message,
        }
    }

    fn change(n: u32, change: Change) -> Outgoing {
        Outgoing {
            change,
            body: String::new(),
            ..item(n)
        }
    }

    fn msg(n: u128) -> MessageId {
        MessageId(Uuid::from_u128(n))
    }

    fn counter() -> impl FnMut() -> ReqId {
        let mut n = 0;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn queued_messages_go_out_in_order_once() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.push(item(2));
        let sent = o.take_queued(0.0, counter());
        assert_eq!(
            sent.iter()
                .map(|(r, i)| (*r, i.client_msg_id.as_str()))
                .collect::<Vec<_>>(),
            [(1, "c1"), (2, "c2")]
        );
        assert!(
            o.take_queued(0.0, counter()).is_empty(),
            "in flight is not resent"
        );
        assert_eq!(o.acked(1).unwrap().client_msg_id, "c1");
        assert_eq!(o.items().len(), 1);
    }

    #[test]
    fn a_dropped_connection_resends_with_the_same_ids_in_the_same_order() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.take_queued(0.0, counter());
        o.push(item(2));
        o.requeue_in_flight();
        let again: Vec<_> = o
            .take_queued(0.0, counter())
            .into_iter()
            .map(|(_, i)| i.client_msg_id)
            .collect();
        assert_eq!(again, ["c1", "c2"]);
    }

    #[test]
    fn a_reload_restores_the_queue_and_resends_what_was_in_flight() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.push(item(2));
        o.take_queued(0.0, counter());
        assert!(o.refused(2, "forbidden").is_some());
        let back = Outbox::restore(&o.to_json());
        assert_eq!(back.items()[0].state, SendState::Queued);
        assert!(matches!(back.items()[1].state, SendState::Failed { .. }));
        assert_eq!(Outbox::restore("not json"), Outbox::default());
    }

    #[test]
    fn an_event_of_our_own_message_takes_it_out_before_its_ack() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.push(item(2));
        o.take_queued(0.0, counter());
        let other_room = RoomId(Uuid::from_u128(2));
        assert!(o.stored(other_room, "c1").is_none(), "ids are per room");
        assert_eq!(o.stored(item(1).room, "c1").unwrap().body, "message 1");
        assert!(o.acked(1).is_none(), "the late ack finds nothing to do");
        assert_eq!(o.items().len(), 1);
        assert_eq!(o.acked(2).unwrap().client_msg_id, "c2");
    }

    #[test]
    fn refusals_and_timeouts_fail_then_retry_or_discard() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.push(item(2));
        o.take_queued(1000.0, counter());
        assert!(o.refused(1, "no").is_some());
        assert!(!o.expire(5000.0, 10_000.0));
        assert!(o.expire(12_000.0, 10_000.0));
        assert!(
            o.items()
                .iter()
                .all(|i| matches!(i.state, SendState::Failed { .. }))
        );
        o.retry("c1");
        assert_eq!(o.items()[0].state, SendState::Queued);
        o.discard("c1");
        assert_eq!(o.items().len(), 2, "only failed items can be discarded");
        o.discard("c2");
        assert_eq!(o.items().len(), 1);
    }

    #[test]
    fn edits_deletes_and_reactions_queue_with_messages_and_go_out_in_order() {
        let mut o = Outbox::default();
        o.push(item(1));
        o.push(change(2, Change::Edit { message: msg(7) }));
        o.push(change(3, Change::Delete { message: msg(8) }));
        o.push(change(
            4,
            Change::React {
                message: msg(9),
                emoji: "👍".into(),
                add: true,
            },
        ));
        o.push(change(5, Change::Reply { root: msg(9) }));
        let order: Vec<_> = o
            .take_queued(0.0, counter())
            .into_iter()
            .map(|(_, i)| i.client_msg_id)
            .collect();
        assert_eq!(order, ["c1", "c2", "c3", "c4", "c5"]);
        assert_eq!(
            o.in_room(item(1).room).count(),
            1,
            "only new messages show as pending lines"
        );
        assert_eq!(o.changes_in_room(item(1).room).count(), 2);
    }

    #[test]
    fn queued_changes_survive_a_reload_and_older_saved_outboxes_still_load() {
        let mut o = Outbox::default();
        o.push(change(1, Change::Delete { message: msg(8) }));
        o.take_queued(0.0, counter());
        let back = Outbox::restore(&o.to_json());
        assert_eq!(back.items()[0].change, Change::Delete { message: msg(8) });
        assert_eq!(back.items()[0].state, SendState::Queued);
        let old = r#"{"items":[{"room":"00000000-0000-0000-0000-000000000001","client_msg_id":"c1","body":"hi","created_at":0,"state":"Queued"}]}"#;
        assert_eq!(Outbox::restore(old).items()[0].change, Change::Message);
    }

    #[test]
    fn a_refused_change_leaves_while_a_refused_message_stays_failed() {
        let mut o = Outbox::default();
        o.push(change(1, Change::Edit { message: msg(7) }));
        o.push(item(2));
        o.take_queued(0.0, counter());
        let edit = o.refused(1, "not yours").unwrap();
        assert_eq!(edit.change, Change::Edit { message: msg(7) });
        assert_eq!(o.items().len(), 1);
        assert!(o.refused(2, "no").is_some());
        assert!(matches!(o.items()[0].state, SendState::Failed { .. }));
        assert!(o.refused(9, "no").is_none());
    }

    #[test]
    fn only_new_messages_time_out_and_only_messages_and_replies_match_their_events() {
        let mut o = Outbox::default();
        o.push(change(1, Change::Delete { message: msg(8) }));
        o.push(change(2, Change::Reply { root: msg(9) }));
        o.take_queued(0.0, counter());
        assert!(!o.expire(60_000.0, 10_000.0));
        assert!(o.stored(item(1).room, "c1").is_none());
        assert!(o.stored(item(2).room, "c2").is_some());
    }

    #[test]
    fn a_pending_line_says_when_it_waits_for_the_network() {
        let mut i = item(1);
        assert_eq!(i.status(false).1, "Sending…");
        assert_eq!(
            i.status(true),
            ("pending", "Waiting for the network…".into())
        );
        i.state = SendState::Failed {
            reason: "no".into(),
        };
        assert_eq!(i.status(true).0, "failed");
    }

    #[test]
    fn refusals_are_retried_settled_or_final_by_their_code() {
        let delete = Change::Delete { message: msg(1) };
        let edit = Change::Edit { message: msg(1) };
        assert_eq!(delete.refusal(ErrorCode::Deleted), Refusal::Done);
        assert_eq!(edit.refusal(ErrorCode::Deleted), Refusal::Final);
        assert_eq!(
            Change::Message.refusal(ErrorCode::RateLimited),
            Refusal::Retry
        );
        assert_eq!(edit.refusal(ErrorCode::NotSubscribed), Refusal::Retry);
        assert_eq!(edit.refusal(ErrorCode::NotAuthor), Refusal::Final);
    }
}
