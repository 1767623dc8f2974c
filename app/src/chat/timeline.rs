//! One room's messages as the browser holds them: confirmed messages in seq order, plus
//! the local, not-yet-confirmed changes of this user (an edit or delete waiting for its
//! ack). Pure logic, no I/O: the live client feeds it frames, the views render it.
//!
//! Ordering rules: an `event` with `seq <= last_seq` was already applied (a resume may
//! replay it) and is ignored; `seq == last_seq + 1` is applied; a larger seq is a gap,
//! which the caller repairs by resubscribing from `last_seq`. Snapshots replace
//! everything. Pages of history are merged by message id, so nothing is shown twice.

use protocol::ids::{MessageId, Seq};
use protocol::{EventKind, MessageView};

/// Most messages kept for a room while the reader is at the bottom; older ones are
/// dropped (and can be loaded again by scrolling up), so a busy room stays light.
pub const KEEP_AT_BOTTOM: usize = 300;

/// A change of our own that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalChange {
    /// We sent an edit; `previous` is the body to restore if it is refused.
    Editing { previous: String },
    /// We sent a delete; `previous` is the body to restore if it is refused.
    Deleting { previous: String },
}

/// A confirmed message and what we are doing to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub message: MessageView,
    /// Bumped on every change, so keyed lists re-render exactly the changed line.
    pub rev: u32,
    pub local: Option<LocalChange>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event was new and is now shown (or it concerned a message not loaded).
    Applied,
    /// Already applied (a replay); nothing changed.
    Duplicate,
    /// Events between `last_seq` and this one are missing: resubscribe from `last_seq`.
    Gap { last_seq: Seq },
}

/// One room's timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Oldest first, ordered by `message.seq`.
    pub lines: Vec<Line>,
    /// Seq of the newest event applied (messages, edits and deletes all count).
    pub last_seq: Seq,
    /// Older messages exist on the server before the first line.
    pub has_more: bool,
    /// The replies of the threads opened here, by root, oldest first. A thread not held
    /// is loaded when opened; live replies to it only update its root's summary.
    pub threads: std::collections::HashMap<MessageId, Vec<MessageView>>,
}

impl Timeline {
    /// A timeline starting from a page: the newest messages, and the room's last seq.
    pub fn from_page(messages: Vec<MessageView>, last_seq: Seq, has_more: bool) -> Timeline {
        let mut t = Timeline {
            lines: Vec::with_capacity(messages.len()),
            last_seq,
            has_more,
            threads: Default::default(),
        };
        t.merge_older(messages, has_more);
        t.has_more = has_more;
        t
    }

    /// Replaces everything with a snapshot (a fresh start, or a gap too large to replay).
    pub fn reset(&mut self, messages: Vec<MessageView>, last_seq: Seq, has_more: bool) {
        *self = Timeline::from_page(messages, last_seq, has_more);
    }

    /// Applies one live or replayed event.
    pub fn apply(&mut self, seq: Seq, kind: EventKind, message: MessageView) -> Applied {
        if seq <= self.last_seq {
            return Applied::Duplicate;
        }
        if seq > self.last_seq + 1 {
            return Applied::Gap {
                last_seq: self.last_seq,
            };
        }
        self.last_seq = seq;
        if let Some(root) = message.thread_root {
            self.apply_reply(root, kind, message);
            return Applied::Applied;
        }
        match kind {
            EventKind::Message => self.upsert(message),
            EventKind::Edited | EventKind::Deleted | EventKind::Reaction => self.replace(message),
        }
        Applied::Applied
    }

    /// A thread's replies as loaded (`load_thread`): they replace what is held for it, and
    /// its root (if held) takes the summary the page came with.
    pub fn load_thread(&mut self, root: MessageView, replies: Vec<MessageView>) {
        let id = root.id;
        self.replace_existing(&root);
        self.threads.insert(id, replies);
    }

    /// A reply event: into its thread if held, and counted on its root if held.
    fn apply_reply(&mut self, root: MessageId, kind: EventKind, reply: MessageView) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.message.id == root) {
            let held = self
                .threads
                .get(&root)
                .and_then(|t| t.iter().find(|r| r.id == reply.id));
            let summary = &mut line.message.thread;
            match kind {
                EventKind::Message if held.is_none() => {
                    let t = summary.get_or_insert(protocol::ThreadView {
                        replies: 0,
                        last_reply_seq: 0,
                        last_reply_at: 0,
                    });
                    t.replies += 1;
                    t.last_reply_seq = t.last_reply_seq.max(reply.seq);
                    t.last_reply_at = t.last_reply_at.max(reply.created_at);
                    line.rev += 1;
                }
                EventKind::Deleted if !held.is_some_and(|r| r.deleted) => {
                    if let Some(t) = summary {
                        t.replies = t.replies.saturating_sub(1);
                        line.rev += 1;
                    }
                }
                _ => {}
            }
        }
        if let Some(replies) = self.threads.get_mut(&root) {
            match replies.iter_mut().find(|r| r.id == reply.id) {
                Some(held) => *held = reply,
                None if kind == EventKind::Message => {
                    let at = replies.partition_point(|r| r.seq < reply.seq);
                    replies.insert(at, reply);
                }
                None => {}
            }
        }
    }

    /// Our own send was acked before (or after) its event arrived: show it as confirmed.
    /// Does not move `last_seq`: only events do, so a gap is still noticed. A message
    /// already held stays as it is: its events (an edit, a reaction since) are newer than
    /// what the ack knows, and a retried send acked as a duplicate may have changed too.
    pub fn confirm_send(&mut self, message: MessageView) {
        if self.get(message.id).is_none() {
            self.upsert(message);
        }
    }

    /// Older messages (a history page): merged in by id, oldest first.
    pub fn merge_older(&mut self, messages: Vec<MessageView>, has_more: bool) {
        for m in messages {
            self.upsert(m);
        }
        self.has_more = has_more;
    }

    /// The seq of the oldest message held (the `before_seq` of the next history page).
    pub fn oldest_seq(&self) -> Option<Seq> {
        self.lines.first().map(|l| l.message.seq)
    }

    /// A message held by id.
    pub fn get(&self, id: MessageId) -> Option<&Line> {
        self.lines.iter().find(|l| l.message.id == id)
    }

    /// Shows our edit at once; returns false if the message is not held or is deleted.
    pub fn begin_edit(&mut self, id: MessageId, body: &str) -> bool {
        self.change_locally(id, |line| {
            let previous = std::mem::replace(&mut line.message.body, body.to_string());
            line.local = Some(LocalChange::Editing { previous });
        })
    }

    /// Shows our delete at once; returns false if the message is not held or is deleted.
    pub fn begin_delete(&mut self, id: MessageId) -> bool {
        self.change_locally(id, |line| {
            let previous = std::mem::take(&mut line.message.body);
            line.message.deleted = true;
            line.local = Some(LocalChange::Deleting { previous });
        })
    }

    /// The server accepted our edit or delete; its event carries the final state.
    pub fn settle(&mut self, id: MessageId) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.message.id == id)
            && line.local.take().is_some()
        {
            line.rev += 1;
        }
    }

    /// The server refused our edit or delete: put the message back as it was.
    pub fn roll_back(&mut self, id: MessageId) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.message.id == id) {
            match line.local.take() {
                Some(LocalChange::Editing { previous }) => line.message.body = previous,
                Some(LocalChange::Deleting { previous }) => {
                    line.message.body = previous;
                    line.message.deleted = false;
                }
                None => return,
            }
            line.rev += 1;
        }
    }

    /// Keeps at most `keep` newest lines (used while the reader is at the bottom).
    pub fn trim_to(&mut self, keep: usize) {
        if self.lines.len() > keep {
            self.lines.drain(..self.lines.len() - keep);
            self.has_more = true;
        }
    }

    fn change_locally(&mut self, id: MessageId, f: impl FnOnce(&mut Line)) -> bool {
        match self
            .lines
            .iter_mut()
            .find(|l| l.message.id == id && !l.message.deleted && l.local.is_none())
        {
            Some(line) => {
                f(line);
                line.rev += 1;
                true
            }
            None => false,
        }
    }

    /// Inserts a message at its place by seq, or replaces the one with its id.
    fn upsert(&mut self, message: MessageView) {
        if self.replace_existing(&message) {
            return;
        }
        let at = self.lines.partition_point(|l| l.message.seq < message.seq);
        self.lines.insert(
            at,
            Line {
                message,
                rev: 0,
                local: None,
            },
        );
    }

    /// An edit, delete or reaction: only messages held are updated (older ones load in their
    /// current state when scrolled to).
    fn replace(&mut self, message: MessageView) {
        self.replace_existing(&message);
    }

    fn replace_existing(&mut self, message: &MessageView) -> bool {
        match self.lines.iter_mut().find(|l| l.message.id == message.id) {
            Some(line) => {
                // Live events of a root carry no thread summary: keep the one held.
                let mut message = message.clone();
                if message.thread.is_none() {
                    message.thread = line.message.thread;
                }
                if line.message != message || line.local.is_some() {
                    line.message = message;
                    line.local = None;
                    line.rev += 1;
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use protocol::UserView;
    use protocol::ids::UserId;
    use uuid::Uuid;

    pub fn msg(seq: Seq, body: &str) -> MessageView {
        MessageView {
            id: MessageId(Uuid::from_u128(seq as u128)),
            seq,
            author: UserView {
                id: UserId(Uuid::from_u128(1)),
                handle: "ana".into(),
                name: "Ana".into(),
            },
            body: body.into(),
            client_msg_id: format!("c{seq}"),
            created_at: 0,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            thread_root: None,
            thread: None,
        }
    }

    fn bodies(t: &Timeline) -> Vec<String> {
        t.lines.iter().map(|l| l.message.body.clone()).collect()
    }

    #[test]
    fn events_apply_in_order_and_replays_are_ignored() {
        let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
        assert_eq!(
            t.apply(2, EventKind::Message, msg(2, "b")),
            Applied::Applied
        );
        assert_eq!(
            t.apply(2, EventKind::Message, msg(2, "b")),
            Applied::Duplicate
        );
        assert_eq!(
            t.apply(1, EventKind::Message, msg(1, "a")),
            Applied::Duplicate
        );
        assert_eq!(bodies(&t), ["a", "b"]);
        assert_eq!(t.last_seq, 2);
    }

    fn reply_to(seq: Seq, body: &str, root: &MessageView) -> MessageView {
        MessageView {
            thread_root: Some(root.id),
            created_at: seq as i64 * 10,
            ..msg(seq, body)
        }
    }

    fn replies_of(t: &Timeline) -> Option<u32> {
        t.lines[0].message.thread.map(|t| t.replies)
    }

    #[test]
    fn replies_count_on_their_root_and_stay_out_of_the_list() {
        let root = msg(1, "root");
        let mut t = Timeline::from_page(vec![root.clone()], 1, false);
        assert_eq!(
            t.apply(2, EventKind::Message, reply_to(2, "r1", &root)),
            Applied::Applied
        );
        assert_eq!(bodies(&t), ["root"], "a reply is not a line of the room");
        assert_eq!(t.last_seq, 2, "but it takes its seq");
        let summary = t.lines[0].message.thread.unwrap();
        assert_eq!(
            (
                summary.replies,
                summary.last_reply_seq,
                summary.last_reply_at
            ),
            (1, 2, 20)
        );
        // A replay changes nothing; an edit of the root keeps the summary.
        assert_eq!(
            t.apply(2, EventKind::Message, reply_to(2, "r1", &root)),
            Applied::Duplicate
        );
        t.apply(3, EventKind::Edited, msg(1, "root!"));
        assert_eq!(
            (bodies(&t), replies_of(&t)),
            (vec!["root!".to_string()], Some(1))
        );
        // A deleted reply stops counting.
        let mut gone = reply_to(2, "", &root);
        gone.deleted = true;
        t.apply(4, EventKind::Deleted, gone);
        assert_eq!(replies_of(&t), Some(0));
    }

    #[test]
    fn a_loaded_thread_takes_live_replies_once() {
        let root = msg(1, "root");
        let mut t = Timeline::from_page(vec![root.clone()], 1, false);
        let mut loaded_root = root.clone();
        loaded_root.thread = Some(protocol::ThreadView {
            replies: 1,
            last_reply_seq: 2,
            last_reply_at: 20,
        });
        // The thread was read after reply 2 was committed but before its event arrived.
        t.load_thread(loaded_root, vec![reply_to(2, "r1", &root)]);
        t.apply(2, EventKind::Message, reply_to(2, "r1", &root));
        t.apply(3, EventKind::Message, reply_to(3, "r2", &root));
        let thread: Vec<&str> = t.threads[&root.id]
            .iter()
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(thread, ["r1", "r2"]);
        assert_eq!(
            replies_of(&t),
            Some(2),
            "the reply in the loaded page is not counted twice"
        );
    }

    #[test]
    fn a_skipped_seq_is_reported_as_a_gap_and_not_applied() {
        let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
        assert_eq!(
            t.apply(3, EventKind::Message, msg(3, "c")),
            Applied::Gap { last_seq: 1 }
        );
        assert_eq!(bodies(&t), ["a"]);
        assert_eq!(t.last_seq, 1);
    }

    #[test]
    fn an_ack_before_its_event_shows_the_message_once() {
        let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
        t.confirm_send(msg(2, "mine"));
        assert_eq!(t.last_seq, 1, "only events move last_seq");
        assert_eq!(
            t.apply(2, EventKind::Message, msg(2, "mine")),
            Applied::Applied
        );
        assert_eq!(bodies(&t), ["a", "mine"]);
    }

    #[test]
    fn edits_and_deletes_replace_the_message_and_bump_its_rev() {
        let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
        let mut edited = msg(1, "a2");
        edited.edited_at = Some(5);
        t.apply(2, EventKind::Edited, edited);
        assert_eq!(bodies(&t), ["a2"]);
        assert_eq!(t.lines[0].rev, 1);
        let mut gone = msg(1, "");
        gone.deleted = true;
        t.apply(3, EventKind::Deleted, gone);
        assert!(t.lines[0].message.deleted);
        assert_eq!(t.last_seq, 3);
    }

    #[test]
    fn a_reaction_event_replaces_the_reactions_and_moves_last_seq_only() {
        let mut t = Timeline::from_page(vec![msg(1, "a"), msg(2, "b")], 2, false);
        let mut reacted = msg(1, "a");
        reacted.reactions.push(protocol::ReactionView {
            emoji: "👍".into(),
            count: 1,
            users: vec![reacted.author.clone()],
        });
        assert_eq!(
            t.apply(3, EventKind::Reaction, reacted.clone()),
            Applied::Applied
        );
        assert_eq!(bodies(&t), ["a", "b"], "no new line");
        assert_eq!(t.lines[0].message.reactions, reacted.reactions);
        assert_eq!(t.lines[0].rev, 1);
        assert_eq!(t.last_seq, 3);
        // A reaction on a message not held (scrolled out) adds nothing.
        assert_eq!(
            t.apply(4, EventKind::Reaction, msg(9, "old")),
            Applied::Applied
        );
        assert_eq!(bodies(&t), ["a", "b"]);
        // Our own send acked after a later event keeps what the events said.
        t.confirm_send(msg(1, "a"));
        assert_eq!(t.lines[0].message.reactions.len(), 1);
    }

    #[test]
    fn a_refused_edit_or_delete_rolls_back() {
        let mut t = Timeline::from_page(vec![msg(1, "original")], 1, false);
        let id = t.lines[0].message.id;
        assert!(t.begin_edit(id, "changed"));
        assert_eq!(bodies(&t), ["changed"]);
        assert!(!t.begin_delete(id), "one local change at a time");
        t.roll_back(id);
        assert_eq!(bodies(&t), ["original"]);
        assert!(t.begin_delete(id));
        assert!(t.lines[0].message.deleted);
        t.roll_back(id);
        assert!(!t.lines[0].message.deleted);
        assert_eq!(bodies(&t), ["original"]);
    }

    #[test]
    fn an_accepted_edit_keeps_the_servers_version() {
        let mut t = Timeline::from_page(vec![msg(1, "original")], 1, false);
        let id = t.lines[0].message.id;
        t.begin_edit(id, "changed");
        let mut edited = msg(1, "changed");
        edited.edited_at = Some(9);
        t.apply(2, EventKind::Edited, edited);
        t.settle(id);
        assert_eq!(t.lines[0].local, None);
        assert_eq!(t.lines[0].message.edited_at, Some(9));
    }

    #[test]
    fn history_merges_by_id_and_keeps_seq_order() {
        let mut t = Timeline::from_page(vec![msg(3, "c"), msg(4, "d")], 4, true);
        t.merge_older(vec![msg(1, "a"), msg(2, "b"), msg(3, "c")], false);
        assert_eq!(bodies(&t), ["a", "b", "c", "d"]);
        assert!(!t.has_more);
        assert_eq!(t.oldest_seq(), Some(1));
    }

    #[test]
    fn trimming_keeps_the_newest_and_remembers_there_is_more() {
        let page: Vec<_> = (1..=10).map(|s| msg(s, "x")).collect();
        let mut t = Timeline::from_page(page, 10, false);
        t.trim_to(4);
        assert_eq!(t.oldest_seq(), Some(7));
        assert!(t.has_more);
    }

    #[test]
    fn a_snapshot_replaces_everything() {
        let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
        t.reset(vec![msg(50, "new")], 50, true);
        assert_eq!(bodies(&t), ["new"]);
        assert_eq!(t.last_seq, 50);
        assert!(t.has_more);
    }
}
