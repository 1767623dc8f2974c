//! Messages this browser has written but the server has not acknowledged yet, in the
//! order they were written. Each carries its `client_msg_id`, so sending it again after
//! a reconnect (or a page reload) can never post it twice: the server acks a retry with
//! the original. Pure logic; the live client persists it in `localStorage`.

use protocol::ReqId;
use protocol::ids::RoomId;
use serde::{Deserialize, Serialize};

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

/// One message on its way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    pub room: RoomId,
    pub client_msg_id: String,
    pub body: String,
    /// Unix milliseconds when it was written.
    pub created_at: i64,
    pub state: SendState,
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

    /// Items of one room, oldest first.
    pub fn in_room(&self, room: RoomId) -> impl Iterator<Item = &Outgoing> {
        self.items.iter().filter(move |o| o.room == room)
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

    /// The message sent as `req` was acked: it leaves the outbox.
    pub fn acked(&mut self, req: ReqId) -> Option<Outgoing> {
        let at = self
            .items
            .iter()
            .position(|o| matches!(o.state, SendState::InFlight { req: r, .. } if r == req))?;
        Some(self.items.remove(at))
    }

    /// The event of our own message `client_msg_id` in `room` arrived: it is stored, so
    /// it leaves the outbox whatever its state (its ack may still be on its way, or lost
    /// with a dropped connection). Without this, the page would show the stored message
    /// and its pending copy side by side until the ack came.
    pub fn stored(&mut self, room: RoomId, client_msg_id: &str) -> Option<Outgoing> {
        let at = self
            .items
            .iter()
            .position(|o| o.room == room && o.client_msg_id == client_msg_id)?;
        Some(self.items.remove(at))
    }

    /// The message sent as `req` was refused.
    pub fn refused(&mut self, req: ReqId, reason: &str) -> bool {
        match self
            .items
            .iter_mut()
            .find(|o| matches!(o.state, SendState::InFlight { req: r, .. } if r == req))
        {
            Some(item) => {
                item.state = SendState::Failed {
                    reason: reason.to_string(),
                };
                true
            }
            None => false,
        }
    }

    /// Marks as failed whatever has waited for its ack longer than `timeout_ms`.
    pub fn expire(&mut self, now_ms: f64, timeout_ms: f64) -> bool {
        let mut changed = false;
        for item in &mut self.items {
            if let SendState::InFlight { since_ms, .. } = item.state
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
        }
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
        o.refused(2, "forbidden");
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
        assert!(o.refused(1, "no"));
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
}
