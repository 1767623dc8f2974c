//! The hub: which local connections are subscribed to which room, and which belong to
//! which user. Sharded by hash into plain `RwLock`s held only for short, non-async
//! critical sections. Publishing encodes nothing: callers hand over pre-encoded text,
//! and every subscriber gets a clone of the same bytes. Its keys are ids the server made
//! (rooms, users), hashed with `foldhash` (seeded per process): a room's fan-out and its
//! unread pass hash once per member.

use confab_websocket::FrameText;
use foldhash::fast::RandomState;
use protocol::ids::{RoomId, Seq, UserId};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::RwLock;

use super::outbound::{ConnHandle, RoomEvent};
use super::recent::RecentEvents;
use super::room_seqs::RoomSeqs;
use super::unwatched::Unwatched;

const SHARDS: usize = 32;

type Shard<K> = RwLock<HashMap<K, Vec<ConnHandle>, RandomState>>;

/// Local subscriptions and connections.
pub struct Hub {
    rooms: Vec<Shard<RoomId>>,
    users: Vec<Shard<UserId>>,
    hasher: RandomState,
    /// The highest seq published here per room, subscribers or not.
    seqs: RoomSeqs,
    /// Each active room's newest events published here, subscribers or not.
    recent: RecentEvents,
    /// Who gets each room's unread notices, between changes of the maps above.
    unwatched: Unwatched,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            rooms: (0..SHARDS).map(|_| RwLock::default()).collect(),
            users: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: Default::default(),
            seqs: RoomSeqs::default(),
            recent: RecentEvents::default(),
            unwatched: Unwatched::default(),
        }
    }
}

/// What [`Hub::unsubscribe`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The connection was among the room's subscribers until now.
    pub was_subscribed: bool,
    /// The room has no local subscriber left.
    pub room_emptied: bool,
}

impl Hub {
    fn shard<'a, K: Hash>(&self, shards: &'a [Shard<K>], key: &K) -> &'a Shard<K> {
        &shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// Adds `conn` to `room`'s subscribers (once). True when it is the room's first local
    /// subscriber (the broker must start receiving the room).
    pub fn subscribe(&self, room: RoomId, conn: &ConnHandle) -> bool {
        let mut shard = self.shard(&self.rooms, &room).write().expect("hub lock");
        let first = !shard.contains_key(&room);
        let subs = shard.entry(room).or_default();
        if !subs.iter().any(|c| c.id == conn.id) {
            subs.push(conn.clone());
            self.unwatched.changed();
        }
        first
    }

    /// Whether the connection `conn_id` is among `room`'s subscribers (a leave or a
    /// removal on another device takes it out without its session knowing).
    pub fn is_subscribed(&self, room: RoomId, conn_id: u64) -> bool {
        let shard = self.shard(&self.rooms, &room).read().expect("hub lock");
        shard
            .get(&room)
            .is_some_and(|subs| subs.iter().any(|c| c.id == conn_id))
    }

    /// Removes `conn` from `room`'s subscribers: whether it was one (a leave or a removal
    /// elsewhere may have taken it out already), and whether the room has no local
    /// subscriber left.
    pub fn unsubscribe(&self, room: RoomId, conn_id: u64) -> Unsubscribed {
        let mut shard = self.shard(&self.rooms, &room).write().expect("hub lock");
        let Some(subs) = shard.get_mut(&room) else {
            return Unsubscribed::default();
        };
        let before = subs.len();
        subs.retain(|c| c.id != conn_id);
        let was_subscribed = subs.len() < before;
        let room_emptied = subs.is_empty();
        if room_emptied {
            shard.remove(&room);
        }
        if was_subscribed {
            self.unwatched.changed();
        }
        Unsubscribed {
            was_subscribed,
            room_emptied,
        }
    }

    /// Removes every local connection of `user` from `room` and tells their senders to
    /// stop delivering it. True when that left the room without local subscribers.
    pub fn unsubscribe_user(&self, room: RoomId, user: UserId) -> bool {
        let mut shard = self.shard(&self.rooms, &room).write().expect("hub lock");
        let mut removed = false;
        let mut emptied = false;
        if let Some(subs) = shard.get_mut(&room) {
            subs.retain(|c| {
                let keep = c.user != user;
                if !keep {
                    removed = true;
                    let _ = c.push(super::outbound::Outbound::forget(room));
                }
                keep
            });
            if subs.is_empty() {
                shard.remove(&room);
                emptied = true;
            }
        }
        if removed {
            self.unwatched.changed();
        }
        emptied
    }

    /// Asks every local subscriber of `room` (of every room, for `None`) to read from the
    /// Store whatever it has not delivered: envelopes may have been lost on the way here.
    pub fn fill(&self, room: Option<RoomId>) {
        let ask = |room: RoomId, subs: &Vec<ConnHandle>| {
            for conn in subs {
                conn.ask_fill(room);
            }
        };
        match room {
            Some(room) => {
                let shard = self.shard(&self.rooms, &room).read().expect("hub lock");
                if let Some(subs) = shard.get(&room) {
                    ask(room, subs);
                }
            }
            None => {
                for shard in &self.rooms {
                    for (room, subs) in shard.read().expect("hub lock").iter() {
                        ask(*room, subs);
                    }
                }
            }
        }
    }

    /// Registers a connection of its user (for personal events).
    pub fn connect(&self, conn: &ConnHandle) {
        let mut shard = self
            .shard(&self.users, &conn.user)
            .write()
            .expect("hub lock");
        // Most users have one connection: a vector of one, not of the four a first push
        // makes room for.
        let conns = shard
            .entry(conn.user)
            .or_insert_with(|| Vec::with_capacity(1));
        conns.push(conn.clone());
        self.unwatched.changed();
    }

    /// Calls `f` with every connection registered here (each shard's lock is held while
    /// its connections are visited: `f` must not call back into the hub).
    pub fn each_connection(&self, mut f: impl FnMut(&ConnHandle)) {
        for shard in &self.users {
            let shard = shard.read().expect("hub lock");
            shard.values().flatten().for_each(&mut f);
        }
    }

    /// Forgets a connection of its user.
    pub fn disconnect(&self, conn: &ConnHandle) {
        let mut shard = self
            .shard(&self.users, &conn.user)
            .write()
            .expect("hub lock");
        if let Some(conns) = shard.get_mut(&conn.user) {
            conns.retain(|c| c.id != conn.id);
            if conns.is_empty() {
                shard.remove(&conn.user);
            }
        }
        self.unwatched.changed();
    }

    /// The highest seq of `room` published here, if any: the room has reached at least
    /// that in the Store.
    pub fn seen_seq(&self, room: RoomId) -> Option<Seq> {
        self.seqs.get(room)
    }

    /// The events of `room` published here after `cursor`, if this node still holds
    /// `cursor + 1` (see [`RecentEvents::after`]).
    pub fn recent_after(
        &self,
        room: RoomId,
        cursor: Seq,
    ) -> Option<Vec<std::sync::Arc<RoomEvent>>> {
        self.recent.after(room, cursor)
    }

    /// Frame text held for resumes, in bytes.
    pub fn recent_bytes(&self) -> usize {
        self.recent.bytes()
    }

    /// Offers a room event to every local subscriber of `room`, and keeps it for resumes
    /// (starting the room's recent events over when it `amends` an earlier message).
    pub fn publish_event(&self, room: RoomId, seq: Seq, text: &FrameText, amends: bool) {
        self.seqs.saw(room, seq);
        if amends {
            self.recent.forget(room);
        }
        let event = std::sync::Arc::new(RoomEvent {
            room,
            seq,
            text: text.clone(),
            committed: std::time::Instant::now(),
        });
        self.recent.push(&event);
        let shard = self.shard(&self.rooms, &room).read().expect("hub lock");
        for conn in shard.get(&room).into_iter().flatten() {
            conn.offer_event(&event);
        }
    }

    /// Offers an ephemeral frame to `room`'s subscribers, except `skip_user`'s connections.
    pub fn publish_ephemeral(&self, room: RoomId, text: &FrameText, skip_user: Option<UserId>) {
        let text = std::sync::Arc::new(text.clone());
        let shard = self.shard(&self.rooms, &room).read().expect("hub lock");
        for conn in shard.get(&room).into_iter().flatten() {
            if Some(conn.user) != skip_user {
                conn.offer_ephemeral(&text);
            }
        }
    }

    /// Offers a frame to every local connection of `user`.
    pub fn to_user(&self, user: UserId, text: &FrameText) {
        let text = std::sync::Arc::new(text.clone());
        let shard = self.shard(&self.users, &user).read().expect("hub lock");
        for conn in shard.get(&user).into_iter().flatten() {
            conn.offer_ephemeral(&text);
        }
    }

    /// Closes every local connection of `user` with `code`. A connection whose queue is
    /// full is stuck already and is closed by the slow-consumer rule.
    pub fn close_user(&self, user: UserId, code: protocol::CloseCode) -> usize {
        let shard = self.shard(&self.users, &user).read().expect("hub lock");
        let conns = shard.get(&user).map(Vec::as_slice).unwrap_or_default();
        for conn in conns {
            let _ = conn.push(super::outbound::Outbound::Close(code));
        }
        conns.len()
    }

    /// Offers each of `members` (except `skip`) its `notice_for` (if any) on its local
    /// connections that are not subscribed to `room`. Which connections those are is
    /// remembered between the hub's changes (`unwatched.rs`).
    pub fn to_members_not_watching<'n>(
        &self,
        room: RoomId,
        members: &std::sync::Arc<std::collections::HashSet<UserId>>,
        skip: UserId,
        notice_for: impl Fn(UserId) -> Option<&'n std::sync::Arc<FrameText>>,
    ) {
        let conns = self
            .unwatched
            .get(room, members, || self.members_not_watching(room, members));
        for conn in conns.iter().filter(|c| c.user != skip) {
            if let Some(notice) = notice_for(conn.user) {
                conn.offer_ephemeral(notice);
            }
        }
    }

    /// The local connections of `members` that are not subscribed to `room`.
    fn members_not_watching(
        &self,
        room: RoomId,
        members: &std::collections::HashSet<UserId>,
    ) -> Vec<ConnHandle> {
        // The room's subscribers here, sorted by connection id (a room's list is short).
        let watching: Vec<u64> = {
            let shard = self.shard(&self.rooms, &room).read().expect("hub lock");
            let mut ids: Vec<u64> = shard
                .get(&room)
                .into_iter()
                .flatten()
                .map(|c| c.id)
                .collect();
            ids.sort_unstable();
            ids
        };
        let mut out = Vec::new();
        for user in members {
            let shard = self.shard(&self.users, user).read().expect("hub lock");
            for conn in shard.get(user).into_iter().flatten() {
                if watching.binary_search(&conn.id).is_err() {
                    out.push(conn.clone());
                }
            }
        }
        out
    }

    /// Every room with local subscribers, and the users they belong to.
    pub fn subscribed_users(&self) -> Vec<(RoomId, Vec<UserId>)> {
        let mut out = Vec::new();
        for shard in &self.rooms {
            for (room, subs) in shard.read().expect("hub lock").iter() {
                let mut users: Vec<UserId> = subs.iter().map(|c| c.user).collect();
                users.sort();
                users.dedup();
                out.push((*room, users));
            }
        }
        out
    }

    /// Whether `room` has a local subscriber.
    pub fn has_subscribers(&self, room: RoomId) -> bool {
        self.shard(&self.rooms, &room)
            .read()
            .expect("hub lock")
            .contains_key(&room)
    }

    /// Number of rooms with at least one local subscriber.
    pub fn rooms(&self) -> usize {
        self.rooms
            .iter()
            .map(|s| s.read().expect("hub lock").len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::outbound::Outbound;
    use uuid::Uuid;

    #[test]
    fn one_encoded_event_reaches_every_subscriber_once() {
        let hub = Hub::default();
        let room = RoomId(Uuid::from_u128(1));
        let (a, mut ra) = ConnHandle::new(1, UserId(Uuid::from_u128(10)), 64, Default::default());
        let (b, mut rb) = ConnHandle::new(2, UserId(Uuid::from_u128(11)), 64, Default::default());
        hub.subscribe(room, &a);
        hub.subscribe(room, &a);
        hub.subscribe(room, &b);
        let text: FrameText = "{}".into();
        hub.publish_event(room, 1, &text, false);
        for rx in [&mut ra, &mut rb] {
            assert!(matches!(rx.try_recv(), Ok(Outbound::Event(e)) if e.seq == 1));
            assert!(rx.try_recv().is_err(), "delivered once");
        }
        hub.unsubscribe(room, 1);
        hub.publish_event(room, 2, &text, false);
        assert!(ra.try_recv().is_err());
        assert!(rb.try_recv().is_ok());
        assert_eq!(hub.seen_seq(room), Some(2));
        hub.unsubscribe(room, 2);
        assert_eq!(
            hub.seen_seq(room),
            Some(2),
            "remembered without subscribers"
        );
    }

    #[test]
    fn a_full_queue_marks_the_room_lagging_instead_of_blocking() {
        let hub = Hub::default();
        let room = RoomId(Uuid::from_u128(1));
        let (a, _ra) = ConnHandle::new(1, UserId(Uuid::from_u128(10)), 64, Default::default());
        hub.subscribe(room, &a);
        let text: FrameText = "{}".into();
        for seq in 1..=200 {
            hub.publish_event(room, seq, &text, false);
        }
        assert_eq!(a.shared.take_lagging(), vec![room]);
        // The reserve is still there for replies.
        assert!(a.push(Outbound::frame(text.clone())).is_ok());
    }

    #[test]
    fn ephemeral_frames_skip_the_sender() {
        let hub = Hub::default();
        let room = RoomId(Uuid::from_u128(1));
        let ana = UserId(Uuid::from_u128(10));
        let (a, mut ra) = ConnHandle::new(1, ana, 64, Default::default());
        let (b, mut rb) = ConnHandle::new(2, UserId(Uuid::from_u128(11)), 64, Default::default());
        hub.subscribe(room, &a);
        hub.subscribe(room, &b);
        hub.publish_ephemeral(room, &"{}".into(), Some(ana));
        assert!(ra.try_recv().is_err());
        assert!(rb.try_recv().is_ok());
    }

    #[test]
    fn unread_notices_follow_every_change_of_who_watches() {
        let hub = Hub::default();
        let room = RoomId(Uuid::from_u128(1));
        let (ana, bo, cy) = (
            UserId(Uuid::from_u128(10)),
            UserId(Uuid::from_u128(11)),
            UserId(Uuid::from_u128(12)),
        );
        let members = std::sync::Arc::new(std::collections::HashSet::from([ana, bo]));
        let notice = std::sync::Arc::new(FrameText::from("{}"));
        // Each pass: how many notices each connection got (the author, cy, gets none).
        let pass = |conns: &mut [&mut crate::gateway::queue::QueueRx<Outbound>]| -> Vec<usize> {
            hub.to_members_not_watching(room, &members, cy, |_| Some(&notice));
            conns
                .iter_mut()
                .map(|rx| std::iter::from_fn(|| rx.try_recv().ok()).count())
                .collect()
        };
        let (a, mut ra) = ConnHandle::new(1, ana, 64, Default::default());
        let (b, mut rb) = ConnHandle::new(2, bo, 64, Default::default());
        hub.connect(&a);
        hub.connect(&b);
        hub.subscribe(room, &a);
        assert_eq!(pass(&mut [&mut ra, &mut rb]), [0, 1], "bo is not watching");
        assert_eq!(pass(&mut [&mut ra, &mut rb]), [0, 1], "the same again");
        hub.subscribe(room, &b);
        assert_eq!(pass(&mut [&mut ra, &mut rb]), [0, 0], "bo now watches");
        // A second connection of ana's, elsewhere in the app.
        let (a2, mut ra2) = ConnHandle::new(3, ana, 64, Default::default());
        hub.connect(&a2);
        assert_eq!(pass(&mut [&mut ra, &mut rb, &mut ra2]), [0, 0, 1]);
        hub.unsubscribe(room, 1);
        assert_eq!(pass(&mut [&mut ra, &mut rb, &mut ra2]), [1, 0, 1]);
        hub.unsubscribe_user(room, bo);
        // (The forget item the unsubscription queued for bo counts as one.)
        assert_eq!(pass(&mut [&mut ra, &mut rb, &mut ra2]), [1, 2, 1]);
        hub.disconnect(&a2);
        assert_eq!(pass(&mut [&mut ra, &mut rb, &mut ra2]), [1, 1, 0]);
        // A new member set (cy joined) is read, not the one remembered.
        let (c, mut rc) = ConnHandle::new(4, cy, 64, Default::default());
        hub.connect(&c);
        let with_cy = std::sync::Arc::new(std::collections::HashSet::from([ana, bo, cy]));
        hub.to_members_not_watching(room, &with_cy, ana, |_| Some(&notice));
        assert_eq!(std::iter::from_fn(|| rc.try_recv().ok()).count(), 1);
        assert_eq!(
            std::iter::from_fn(|| ra.try_recv().ok()).count(),
            0,
            "the author"
        );
    }
}
