//! The inbox: frames received but not yet applied to the page (they are applied
//! together, once per rendered frame). Bounded by coalescing, never by losing a room
//! event:
//!
//! - **Latest wins** for state that each frame restates: a typing frame per room and
//!   person, a room's full presence list (which also makes the changes queued before it
//!   moot), a room's read receipts (merged: each person's highest marker). An older copy
//!   is taken out, the newest queued at the end, so no stale intermediate state is
//!   rendered and the order against room events still holds.
//! - **Room events are never dropped silently.** A room with [`ROOM_EVENTS_MAX`] events
//!   waiting takes no more; it is reported as *behind* when the batch is taken, and the
//!   page resubscribes it from the last seq it applied, so the server replays (or
//!   snapshots) what was not kept — the way the server treats a slow socket.
//!
//! Everything else (answers to requests, personal events, pages of history) is kept as
//! it came. Pure logic.

use protocol::ServerFrame;
use protocol::ids::{RoomId, UserId};
use std::collections::{BTreeSet, HashMap};

/// Room events held per room before the room is caught up by a resubscribe instead.
pub const ROOM_EVENTS_MAX: usize = 500;

/// What is superseded by a newer frame of the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Typing(RoomId, UserId),
    Presence(RoomId),
    Receipts(RoomId),
}

/// What a flush applies: the frames in order, and the rooms to resubscribe.
#[derive(Debug, Default)]
pub struct Batch {
    pub frames: Vec<ServerFrame>,
    /// Rooms whose later events were not kept: resubscribe each from its last seq.
    pub behind: Vec<RoomId>,
}

/// The frames waiting, oldest first (`None`: taken out, superseded).
#[derive(Debug, Default)]
pub struct Inbox {
    slots: Vec<Option<ServerFrame>>,
    latest: HashMap<Key, usize>,
    /// Slots of each room's presence changes since its last full list.
    diffs: HashMap<RoomId, Vec<usize>>,
    events: HashMap<RoomId, usize>,
    behind: BTreeSet<RoomId>,
    held: usize,
}

impl Inbox {
    /// Queues `frame`, coalescing it with what it supersedes.
    pub fn push(&mut self, frame: ServerFrame) {
        match &frame {
            ServerFrame::Event { room, .. } => {
                let room = *room;
                if self.behind.contains(&room) {
                    return;
                }
                let n = self.events.entry(room).or_default();
                if *n >= ROOM_EVENTS_MAX {
                    self.behind.insert(room);
                    return;
                }
                *n += 1;
                self.put(frame);
            }
            ServerFrame::Typing { room, user, .. } => {
                let key = Key::Typing(*room, user.id);
                self.take_out(key);
                let at = self.put(frame);
                self.latest.insert(key, at);
            }
            ServerFrame::Presence { room, .. } => {
                let room = *room;
                for at in self.diffs.remove(&room).unwrap_or_default() {
                    self.clear(at);
                }
                self.take_out(Key::Presence(room));
                let at = self.put(frame);
                self.latest.insert(Key::Presence(room), at);
            }
            ServerFrame::PresenceDiff { room, .. } => {
                let room = *room;
                let at = self.put(frame);
                self.diffs.entry(room).or_default().push(at);
            }
            ServerFrame::Receipts { room, receipts } => {
                let key = Key::Receipts(*room);
                let mut merged: HashMap<UserId, protocol::ReadReceipt> = HashMap::new();
                let older = self.take_out(key);
                if let Some(ServerFrame::Receipts { receipts: old, .. }) = older {
                    for r in old {
                        crate::chat::receipts::merge(&mut merged, r);
                    }
                }
                for r in receipts.iter().cloned() {
                    crate::chat::receipts::merge(&mut merged, r);
                }
                let mut receipts: Vec<_> = merged.into_values().collect();
                receipts.sort_by_key(|r| r.user.id);
                let at = self.put(ServerFrame::Receipts {
                    room: *room,
                    receipts,
                });
                self.latest.insert(key, at);
            }
            _ => {
                self.put(frame);
            }
        }
    }

    fn put(&mut self, frame: ServerFrame) -> usize {
        self.slots.push(Some(frame));
        self.held += 1;
        self.slots.len() - 1
    }

    fn clear(&mut self, at: usize) -> Option<ServerFrame> {
        let taken = self.slots.get_mut(at).and_then(Option::take);
        if taken.is_some() {
            self.held -= 1;
        }
        taken
    }

    fn take_out(&mut self, key: Key) -> Option<ServerFrame> {
        let at = self.latest.remove(&key)?;
        self.clear(at)
    }

    /// How many frames wait.
    pub fn len(&self) -> usize {
        self.held
    }

    pub fn is_empty(&self) -> bool {
        self.held == 0 && self.behind.is_empty()
    }

    /// Everything waiting, in order, and the rooms that fell behind; the inbox is empty after.
    pub fn take(&mut self) -> Batch {
        let frames = std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect();
        let behind = std::mem::take(&mut self.behind).into_iter().collect();
        self.latest.clear();
        self.diffs.clear();
        self.events.clear();
        self.held = 0;
        Batch { frames, behind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::{MessageId, Uuid};
    use protocol::{EventKind, MessageView, PresenceEntry, ReadReceipt, Status, UserView};

    fn user(n: u128) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n)),
            handle: format!("u{n}"),
            name: format!("U{n}"),
            avatar: None,
        }
    }

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(1000 + n))
    }

    fn event(r: u128, seq: u64) -> ServerFrame {
        ServerFrame::Event {
            room: room(r),
            seq,
            kind: EventKind::Message,
            message: MessageView {
                id: MessageId(Uuid::from_u128(u128::from(seq))),
                seq,
                author: user(1),
                body: format!("m{seq}"),
                client_msg_id: format!("c{seq}"),
                created_at: 0,
                edited_at: None,
                deleted: false,
                reactions: Vec::new(),
                thread_root: None,
                thread: None,
                files: Vec::new(),
                removed_by_admin: false,
                pinned: None,
                notice: None,
            },
        }
    }

    fn typing(r: u128, u: u128, active: bool) -> ServerFrame {
        ServerFrame::Typing {
            room: room(r),
            user: user(u),
            active,
            ttl_ms: active.then_some(5_000),
        }
    }

    fn presence(r: u128, users: &[u128]) -> ServerFrame {
        ServerFrame::Presence {
            room: room(r),
            users: users
                .iter()
                .map(|u| PresenceEntry {
                    user: user(*u),
                    devices: 1,
                    status: Status::Active,
                    text: None,
                })
                .collect(),
            total: users.len() as u32,
            truncated: false,
        }
    }

    fn diff(r: u128, joined: u128) -> ServerFrame {
        ServerFrame::PresenceDiff {
            room: room(r),
            joined: vec![user(joined)],
            left: Vec::new(),
            updated: Vec::new(),
            total: 1,
        }
    }

    fn receipt(r: u128, u: u128, seq: u64) -> ServerFrame {
        ServerFrame::Receipts {
            room: room(r),
            receipts: vec![ReadReceipt { user: user(u), seq }],
        }
    }

    fn seqs(frames: &[ServerFrame]) -> Vec<u64> {
        frames
            .iter()
            .filter_map(|f| match f {
                ServerFrame::Event { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_latest_typing_frame_per_room_and_person_wins_in_order() {
        let mut inbox = Inbox::default();
        inbox.push(typing(1, 2, true));
        inbox.push(event(1, 1));
        inbox.push(typing(1, 3, true));
        inbox.push(typing(1, 2, false));
        inbox.push(typing(1, 2, true));
        assert_eq!(inbox.len(), 3);
        let batch = inbox.take();
        assert!(matches!(batch.frames[0], ServerFrame::Event { .. }));
        assert!(matches!(
            &batch.frames[2],
            ServerFrame::Typing { user, active: true, .. } if user.id == user_id(2)
        ));
        assert!(inbox.is_empty());
    }

    fn user_id(n: u128) -> UserId {
        user(n).id
    }

    #[test]
    fn a_full_presence_list_supersedes_the_changes_and_lists_before_it() {
        let mut inbox = Inbox::default();
        inbox.push(presence(1, &[1]));
        inbox.push(diff(1, 2));
        inbox.push(diff(2, 5));
        inbox.push(presence(1, &[1, 2, 3]));
        inbox.push(diff(1, 4));
        let frames = inbox.take().frames;
        assert_eq!(frames.len(), 3);
        assert!(matches!(&frames[0], ServerFrame::PresenceDiff { room: r, .. } if *r == room(2)));
        assert!(matches!(&frames[1], ServerFrame::Presence { users, .. } if users.len() == 3));
        assert!(matches!(&frames[2], ServerFrame::PresenceDiff { room: r, .. } if *r == room(1)));
    }

    #[test]
    fn receipts_merge_to_each_persons_highest_marker() {
        let mut inbox = Inbox::default();
        inbox.push(receipt(1, 2, 5));
        inbox.push(receipt(1, 3, 7));
        inbox.push(receipt(1, 2, 9));
        inbox.push(receipt(1, 2, 8));
        let frames = inbox.take().frames;
        assert_eq!(frames.len(), 1);
        let ServerFrame::Receipts { receipts, .. } = &frames[0] else {
            panic!("receipts expected");
        };
        let mut got: Vec<_> = receipts.iter().map(|r| (r.user.id, r.seq)).collect();
        got.sort();
        let mut want = vec![(user_id(2), 9), (user_id(3), 7)];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_room_too_far_behind_keeps_its_first_events_and_is_caught_up_by_a_resubscribe() {
        let mut inbox = Inbox::default();
        for seq in 1..=(ROOM_EVENTS_MAX as u64 + 300) {
            inbox.push(event(1, seq));
            inbox.push(typing(1, 2, true));
        }
        inbox.push(event(2, 1));
        // Bounded: the room's first events, one typing frame, the other room's event.
        assert_eq!(inbox.len(), ROOM_EVENTS_MAX + 2);
        let batch = inbox.take();
        assert_eq!(batch.behind, [room(1)]);
        let kept = seqs(&batch.frames);
        assert_eq!(kept.len(), ROOM_EVENTS_MAX + 1);
        assert_eq!(
            kept[..ROOM_EVENTS_MAX],
            (1..=ROOM_EVENTS_MAX as u64).collect::<Vec<_>>()[..],
            "a gap-free prefix, so the resubscribe resumes right after it"
        );
        // The next batch starts afresh.
        inbox.push(event(1, 900));
        assert!(inbox.take().behind.is_empty());
    }

    #[test]
    fn other_frames_pass_as_they_came() {
        let mut inbox = Inbox::default();
        inbox.push(ServerFrame::Pong { req: 1 });
        inbox.push(ServerFrame::Pong { req: 2 });
        let frames = inbox.take().frames;
        assert_eq!(frames.len(), 2);
    }
}
