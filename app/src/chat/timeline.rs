//! One room's messages as the browser holds them: confirmed messages in seq order, plus
//! the local, not-yet-confirmed changes of this user (an edit or delete waiting for its
//! ack). Pure logic, no I/O: the live socket feeds it frames, the views render it.
//!
//! Besides the messages it keeps what the room's events change about the room itself:
//! its pinned list ([`Pins`]), its settings as notices changed them since the page
//! was read ([`Timeline::changed`]), for the header, and the roles notices set since
//! ([`Timeline::roles`]), for the member list and the reader's own rights.
//!
//! Ordering rules: an `event` with `seq <= last_seq` was already applied (a resume may
//! replay it) and is ignored; `seq == last_seq + 1` is applied; a larger seq is a gap,
//! which the caller repairs by resubscribing from `last_seq`. Snapshots replace
//! everything. Pages of history are merged by message id, so nothing is shown twice.

use protocol::ids::{MessageId, Seq, UserId};
use protocol::{EventKind, MessageView, RoleName, RoomChanges};

use super::pins::Pins;

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
    /// The room's pinned messages.
    pub pins: Pins,
    /// The room's settings as `room_updated` notices changed them since the page was read
    /// (a field set is the newest value).
    pub changed: RoomChanges,
    /// The roles `role_changed` notices set since the page was read (the newest each).
    pub roles: std::collections::HashMap<UserId, RoleName>,
}

impl Timeline {
    /// A timeline starting from a page: the newest messages, and the room's last seq.
    pub fn from_page(messages: Vec<MessageView>, last_seq: Seq, has_more: bool) -> Timeline {
        let mut t = Timeline {
            lines: Vec::with_capacity(messages.len()),
            last_seq,
            has_more,
            threads: Default::default(),
            pins: Pins::default(),
            changed: RoomChanges::default(),
            roles: Default::default(),
        };
        t.merge_older(messages, has_more);
        t.has_more = has_more;
        t
    }

    /// Replaces everything with a snapshot (a fresh start, or a gap too large to replay).
    /// The pinned list and the settings changed are kept (a snapshot's messages update the
    /// pins they show).
    pub fn reset(&mut self, messages: Vec<MessageView>, last_seq: Seq, has_more: bool) {
        let mut pins = std::mem::take(&mut self.pins);
        for m in &messages {
            pins.seen(m);
        }
        let changed = std::mem::take(&mut self.changed);
        let roles = std::mem::take(&mut self.roles);
        *self = Timeline::from_page(messages, last_seq, has_more);
        self.pins = pins;
        self.changed = changed;
        self.roles = roles;
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
        self.pins.apply(kind, &message);
        match message.notice.as_deref() {
            Some(protocol::NoticeView::RoomUpdated { changes }) => {
                super::room_info::merge(&mut self.changed, changes);
            }
            Some(protocol::NoticeView::RoleChanged { user, role }) => {
                self.roles.insert(*user, *role);
            }
            _ => {}
        }
        if let Some(root) = message.thread_root {
            self.apply_reply(root, kind, message);
            return Applied::Applied;
        }
        match kind {
            EventKind::Message => self.upsert(message),
            EventKind::Edited | EventKind::Deleted | EventKind::Reaction | EventKind::Pinned => {
                self.replace(message)
            }
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
pub(crate) mod tests;
