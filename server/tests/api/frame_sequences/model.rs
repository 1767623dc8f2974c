//! What the test believes about one case's rooms: who is a member of what, who was a
//! member when each event was acked, what each connection is subscribed to — and the
//! rule, per topology, for who may be told what.
//!
//! The rule for room events is the same on one node and on a cluster as this test drives
//! it: a client receives a live event only if its user was a member when the event was
//! acked; a subscription also opens the room's past (up to the room's last seq when it
//! began). On one node that is exact because an acked event is already in every local
//! subscriber's queue when its ack leaves. On a cluster the event reaches other nodes
//! later, through Redis; it still holds because a client's own leave unsubscribes its
//! connection on its node before the leave is acked, and a join only opens a subscription
//! that starts from the Store. (A leave made on *another* node reaches a node through the
//! broker: docs/reliability.md states that lag; this test has one connection per user, so
//! it never makes one.)
//!
//! Unread notices differ. Each node decides them from its own member cache, which on a
//! cluster may be newer than the ack (a join made elsewhere whose envelope arrived first,
//! or a cache loaded from the Store after the ack). So on a cluster a notice of seq `s`
//! may reach a user who was a member at `s`'s ack *or joined between the ack and the
//! notice*; on one node only the former.

use protocol::ids::{MessageId, RoomId, Seq};
use std::collections::{HashMap, HashSet};

/// Which membership rule the model applies to unread notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// One node: a member at the ack, exactly.
    AtTheAck,
    /// A cluster: a member at the ack, or one who joined after it.
    AtTheAckOrJoinedSince,
}

pub struct Model {
    pub rule: Rule,
    pub rooms: Vec<RoomId>,
    /// Room index 0 is public: subscribing joins it.
    pub members: Vec<HashSet<usize>>,
    /// Who was a member of a room when the event with that seq was acked.
    pub members_at: HashMap<(usize, Seq), HashSet<usize>>,
    /// The step at which each event was acked.
    acked_at: HashMap<(usize, Seq), u64>,
    /// The step of each client's latest join of each room: (room, client) → step.
    joined_at: HashMap<(usize, usize), u64>,
    /// The step being run (the index of the request in the case).
    pub step: u64,
    /// Rooms a client has ever been subscribed to (for typing and presence).
    pub ever_subscribed: HashSet<(usize, usize)>,
    /// What each client is subscribed to now: (client, room).
    pub subscribed: HashSet<(usize, usize)>,
    /// Messages acked so far: id, author, room.
    pub messages: Vec<(MessageId, usize, usize)>,
    /// The highest seq acked per room.
    pub last_seq: HashMap<usize, Seq>,
}

impl Model {
    /// Rooms public, private (clients 0 and 1), DM (clients 1 and 2), unknown.
    pub fn new(rule: Rule, rooms: Vec<RoomId>) -> Model {
        Model {
            rule,
            rooms,
            members: vec![
                HashSet::from([0]),
                HashSet::from([0, 1]),
                HashSet::from([1, 2]),
                HashSet::new(),
            ],
            members_at: HashMap::new(),
            acked_at: HashMap::new(),
            joined_at: HashMap::new(),
            step: 0,
            ever_subscribed: HashSet::new(),
            subscribed: HashSet::new(),
            messages: Vec::new(),
            last_seq: HashMap::new(),
        }
    }

    pub fn room_index(&self, id: RoomId) -> Option<usize> {
        self.rooms.iter().position(|r| *r == id)
    }

    pub fn may_read(&self, client: usize, room: usize) -> bool {
        room == 0 || self.members.get(room).is_some_and(|m| m.contains(&client))
    }

    /// `client` is a member of `room` from this step on.
    pub fn join(&mut self, room: usize, client: usize) {
        if self.members[room].insert(client) {
            self.joined_at.insert((room, client), self.step);
        }
    }

    /// A new room (a DM opened during the case) with its members, from this step on.
    pub fn add_room(&mut self, id: RoomId, members: &[usize]) {
        self.rooms.push(id);
        self.members.push(HashSet::new());
        for &c in members {
            self.join(self.rooms.len() - 1, c);
        }
    }

    /// Records an acked event of `room` and who could read it then.
    pub fn acked(&mut self, room: usize, seq: Seq) {
        self.members_at
            .insert((room, seq), self.members[room].clone());
        self.acked_at.insert((room, seq), self.step);
        let last = self.last_seq.entry(room).or_insert(0);
        *last = (*last).max(seq);
    }

    /// Whether `client` may receive event `seq` of `room` live.
    pub fn may_receive_event(&self, client: usize, room: usize, seq: Seq) -> bool {
        self.members_at
            .get(&(room, seq))
            .is_some_and(|m| m.contains(&client))
    }

    /// Whether `client` may be told of unread `seq` in `room`, under the model's rule. (A
    /// client's own leave stops its notices at once on its node, so "joined since the
    /// ack" needs no "and not left again before the notice".)
    pub fn may_be_told_unread(&self, client: usize, room: usize, seq: Seq) -> bool {
        if self.may_receive_event(client, room, seq) {
            return true;
        }
        self.rule == Rule::AtTheAckOrJoinedSince
            && match (
                self.acked_at.get(&(room, seq)),
                self.joined_at.get(&(room, client)),
            ) {
                (Some(acked), Some(joined)) => joined >= acked,
                _ => false,
            }
    }
}
