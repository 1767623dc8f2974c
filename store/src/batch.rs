//! What a group commit's sends become before it touches the database.
//!
//! A batch's sends are decided here, in memory: a send whose `(author, client_msg_id)` is
//! already stored, or was sent earlier in the same batch, is a duplicate of that message;
//! any other send takes the room's next seq and joins [`SendPlan::new_rows`]. Both write
//! paths (the general one in `sql/writes.rs` and SQLite's send thread in
//! `sql/sqlite_sends.rs`) then write every new row with one multi-row insert per table
//! instead of three statements per send (each statement is a round trip to the
//! database), and look duplicates up with one query for the whole batch.

use protocol::ids::{MessageId, RoomId, UserId};
use std::collections::HashMap;
use uuid::Uuid;

use crate::error::WriteError;
use crate::model::{Event, EventKind, Message, WriteOutcome};

/// What a group commit answers: each room's outcomes, in the order of the batch.
pub(crate) type Outcomes = Vec<Vec<Result<WriteOutcome, WriteError>>>;

/// New messages per multi-row insert, on every write path: at 8 columns a row, far below
/// either database's limit on parameters (SQLite's is 32,766).
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// The sends of one transaction (any number of rooms), decided in memory.
#[derive(Debug, Default)]
pub(crate) struct SendPlan {
    /// Messages by `(room, author, client_msg_id)`: stored before the batch, or new in it.
    known: HashMap<(RoomId, UserId, String), Message>,
    /// New messages not yet written, in seq order.
    new_rows: Vec<Message>,
}

impl SendPlan {
    /// A plan that knows the already-stored messages among the batch's sends.
    pub(crate) fn new(stored: impl IntoIterator<Item = Message>) -> SendPlan {
        SendPlan {
            known: stored
                .into_iter()
                .map(|m| ((m.room_id, m.author_id, m.client_msg_id.clone()), m))
                .collect(),
            new_rows: Vec::new(),
        }
    }

    /// Decides one send to `room`, whose last seq so far is `*seq`: the original event if
    /// it is a retry, else a new message at `*seq + 1` (and `*seq` advances).
    pub(crate) fn send(
        &mut self,
        room: RoomId,
        seq: &mut u64,
        now: i64,
        author: UserId,
        client_msg_id: &str,
        body: &str,
    ) -> WriteOutcome {
        let key = (room, author, client_msg_id.to_string());
        if let Some(message) = self.known.get(&key) {
            return WriteOutcome::Duplicate(message_event(message.clone()));
        }
        *seq += 1;
        let message = Message {
            id: MessageId(Uuid::now_v7()),
            room_id: room,
            seq: *seq,
            author_id: author,
            body: body.to_string(),
            client_msg_id: client_msg_id.to_string(),
            created_at: now,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            thread_root: None,
            thread: None,
            files: Vec::new(),
            removed_by_admin: false,
            pinned: None,
            notice: None,
        };
        self.known.insert(key, message.clone());
        self.new_rows.push(message.clone());
        WriteOutcome::Applied(message_event(message))
    }

    /// The new rows to write now; the plan keeps knowing them (for later retries in the
    /// same batch).
    pub(crate) fn take_new_rows(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.new_rows)
    }

    /// A later command of the batch changed `message` (an edit or a delete): a retry of
    /// its send, later in the batch, reports its current state, as a stored one would.
    pub(crate) fn changed(&mut self, message: &Message) {
        if let Some(known) = self.known.get_mut(&(
            message.room_id,
            message.author_id,
            message.client_msg_id.clone(),
        )) {
            *known = message.clone();
        }
    }
}

/// The event that created `message`.
pub(crate) fn message_event(message: Message) -> Event {
    Event {
        room_id: message.room_id,
        seq: message.seq,
        kind: EventKind::Message,
        created_at: message.created_at,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> RoomId {
        RoomId(Uuid::from_u128(7))
    }

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    #[test]
    fn new_sends_take_consecutive_seqs_and_become_rows_in_order() {
        let mut plan = SendPlan::new([]);
        let mut seq = 10;
        let a = plan.send(room(), &mut seq, 5, user(1), "a", "hello");
        let b = plan.send(room(), &mut seq, 5, user(2), "a", "world");
        assert_eq!(seq, 12);
        assert!(matches!(&a, WriteOutcome::Applied(e) if e.seq == 11 && e.message.body == "hello"));
        assert!(
            matches!(&b, WriteOutcome::Applied(e) if e.seq == 12 && e.message.author_id == user(2))
        );
        let rows = plan.take_new_rows();
        assert_eq!(rows.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![11, 12]);
        assert!(plan.take_new_rows().is_empty(), "rows are handed out once");
    }

    #[test]
    fn a_stored_send_is_a_duplicate_and_takes_no_seq() {
        let mut first = SendPlan::new([]);
        let mut seq = 0;
        let WriteOutcome::Applied(original) = first.send(room(), &mut seq, 1, user(1), "c1", "x")
        else {
            panic!("first send applies");
        };
        let mut plan = SendPlan::new([original.message.clone()]);
        let mut seq = 40;
        let again = plan.send(room(), &mut seq, 2, user(1), "c1", "x, retried");
        assert_eq!(seq, 40);
        assert_eq!(again, WriteOutcome::Duplicate(original));
        assert!(plan.take_new_rows().is_empty());
    }

    #[test]
    fn a_retry_within_the_batch_is_a_duplicate_of_the_batch_s_own_send() {
        let mut plan = SendPlan::new([]);
        let mut seq = 0;
        let first = plan.send(room(), &mut seq, 1, user(1), "c1", "x");
        let _ = plan.take_new_rows();
        let retry = plan.send(room(), &mut seq, 1, user(1), "c1", "x");
        assert_eq!(seq, 1);
        assert_eq!(
            retry,
            WriteOutcome::Duplicate(first.event().expect("applied").clone())
        );
        // The same client id from another author is another message.
        let other = plan.send(room(), &mut seq, 1, user(2), "c1", "y");
        assert!(matches!(other, WriteOutcome::Applied(e) if e.seq == 2));
    }

    #[test]
    fn the_same_client_id_in_two_rooms_is_two_messages() {
        let other = RoomId(Uuid::from_u128(8));
        let mut plan = SendPlan::new([]);
        let (mut here, mut there) = (0, 5);
        plan.send(room(), &mut here, 1, user(1), "c1", "x");
        let elsewhere = plan.send(other, &mut there, 1, user(1), "c1", "x");
        assert!(matches!(elsewhere, WriteOutcome::Applied(e) if e.seq == 6 && e.room_id == other));
        assert_eq!(plan.take_new_rows().len(), 2);
    }

    #[test]
    fn a_retry_after_an_edit_in_the_batch_reports_the_current_state() {
        let mut plan = SendPlan::new([]);
        let mut seq = 0;
        let sent = plan.send(room(), &mut seq, 1, user(1), "c1", "draft");
        let mut edited = sent.event().expect("applied").message.clone();
        edited.body = "final".into();
        edited.edited_at = Some(2);
        plan.changed(&edited);
        let retry = plan.send(room(), &mut seq, 3, user(1), "c1", "draft");
        let WriteOutcome::Duplicate(event) = retry else {
            panic!("a retry is a duplicate");
        };
        assert_eq!(event.message.body, "final");
        assert_eq!(
            event.seq, 1,
            "the event is the one that created the message"
        );
    }
}
