//! A room's pinned messages as the header's list shows them: read with the room's page,
//! then kept current by the room's events (a `pinned` event pins or unpins, a delete
//! takes a message off the list, an edit or a reaction updates it). Newest pin first.
//! Pure logic, no I/O.

use protocol::ids::MessageId;
use protocol::{EventKind, MessageView};

/// The pinned messages of one room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    list: Vec<MessageView>,
}

impl Pins {
    /// The list as the room's page read it (newest pin first).
    pub fn new(list: Vec<MessageView>) -> Pins {
        let mut pins = Pins::default();
        for m in list {
            pins.put(m);
        }
        pins
    }

    /// Newest pin first.
    pub fn list(&self) -> &[MessageView] {
        &self.list
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `id` is pinned.
    pub fn contains(&self, id: MessageId) -> bool {
        self.list.iter().any(|m| m.id == id)
    }

    /// One event of the room, in order.
    pub fn apply(&mut self, kind: EventKind, message: &MessageView) {
        match kind {
            EventKind::Pinned => self.seen(message),
            EventKind::Deleted => self.remove(message.id),
            EventKind::Edited | EventKind::Reaction => self.refresh(message),
            EventKind::Message => {}
        }
    }

    /// A message as some page or snapshot shows it now: on the list if it carries a pin,
    /// off it if not.
    pub fn seen(&mut self, message: &MessageView) {
        if message.pinned.is_some() && !message.deleted {
            self.put(message.clone());
        } else {
            self.remove(message.id);
        }
    }

    /// Puts `message` (pinned) in its place by pin time, replacing an older copy.
    fn put(&mut self, message: MessageView) {
        self.remove(message.id);
        let at = message.pinned.as_ref().map_or(0, |p| p.at);
        let place = self
            .list
            .partition_point(|m| m.pinned.as_ref().map_or(0, |p| p.at) >= at);
        self.list.insert(place, message);
    }

    fn refresh(&mut self, message: &MessageView) {
        if let Some(held) = self.list.iter_mut().find(|m| m.id == message.id) {
            *held = message.clone();
        }
    }

    fn remove(&mut self, id: MessageId) {
        self.list.retain(|m| m.id != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::timeline::tests::msg;
    use protocol::ids::Uuid;

    fn message(n: u64, pinned_at: Option<i64>) -> MessageView {
        let mut m = msg(n, &format!("message {n}"));
        m.pinned = pinned_at.map(|at| protocol::PinView {
            by: m.author.id,
            at,
        });
        m
    }

    fn ids(pins: &Pins) -> Vec<u64> {
        pins.list().iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_pin_goes_first_and_an_unpin_takes_it_off() {
        let mut pins = Pins::new(vec![message(1, Some(10))]);
        pins.apply(EventKind::Pinned, &message(2, Some(20)));
        assert_eq!(ids(&pins), vec![2, 1]);
        pins.apply(EventKind::Pinned, &message(1, None));
        assert_eq!(ids(&pins), vec![2]);
        assert!(!pins.contains(MessageId(Uuid::from_u128(1))));
    }

    #[test]
    fn the_page_order_is_kept_newest_pin_first() {
        let pins = Pins::new(vec![
            message(3, Some(5)),
            message(1, Some(30)),
            message(2, Some(20)),
        ]);
        assert_eq!(ids(&pins), vec![1, 2, 3]);
    }

    #[test]
    fn a_deleted_message_leaves_the_list() {
        let mut pins = Pins::new(vec![message(1, Some(10)), message(2, Some(20))]);
        let mut gone = message(1, Some(10));
        gone.deleted = true;
        pins.apply(EventKind::Deleted, &gone);
        assert_eq!(ids(&pins), vec![2]);
    }

    #[test]
    fn an_edit_of_a_pinned_message_shows_in_the_list_and_others_are_ignored() {
        let mut pins = Pins::new(vec![message(1, Some(10))]);
        let mut edited = message(1, Some(10));
        edited.body = "changed".into();
        pins.apply(EventKind::Edited, &edited);
        assert_eq!(pins.list()[0].body, "changed");
        pins.apply(EventKind::Edited, &message(2, None));
        pins.apply(EventKind::Message, &message(3, None));
        assert_eq!(ids(&pins), vec![1]);
    }

    #[test]
    fn a_pin_seen_twice_is_listed_once() {
        let mut pins = Pins::default();
        pins.apply(EventKind::Pinned, &message(1, Some(10)));
        pins.seen(&message(1, Some(10)));
        assert_eq!(pins.len(), 1);
        pins.seen(&message(1, None));
        assert!(pins.is_empty());
    }
}
