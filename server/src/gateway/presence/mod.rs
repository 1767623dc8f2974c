//! Presence, statuses and typing: the ephemeral state of who is where, never stored.
//!
//! [`Presence`] is what the rest of the gateway talks to. It keeps this node's devices per
//! room and user ([`local`]), everyone's status ([`statuses`]), the changes waiting for
//! the next `presence_diff` tick ([`diffs`]) and the rosters encoded for subscribers
//! ([`roster_cache`] on one process, [`roster_flights`] on a cluster). It reaches beyond
//! this node through one seam, [`Reach`]: [`NodeOnly`] on a single process,
//! [`cluster::ClusterReach`] on a cluster (shared presence in Redis, [`redis`]). Typing
//! (`gateway/typing.rs`) lives beside it.
//!
//! The rule either way: a user is present in a room while any of their devices is, on any
//! node; a leave is announced after the grace period unless they came back; a node that
//! dies takes its users with it within a heartbeat or so (cluster only).

pub mod cluster;
pub mod diffs;
pub mod local;
pub mod redis;
pub mod roster_cache;
pub mod roster_flights;
pub mod statuses;

pub use diffs::Diff;
pub use redis::{HEARTBEAT, NODE_TTL, RedisPresence};
pub use statuses::Statuses;

use async_trait::async_trait;
use confab_websocket::FrameText;
use protocol::ids::{RoomId, UserId};
use protocol::{PresenceEntry, ServerFrame, UserView};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gateway::encode::text;
use diffs::PresenceDiffs;
use local::LocalPresence;
use roster_cache::{RosterCache, Stamp};
use roster_flights::RosterFlights;

/// How presence reaches past this node: the part that differs between one process and a
/// cluster. Everything else about presence is the same code for both.
#[async_trait]
pub trait Reach: Send + Sync {
    /// `user` became present in `room` through this node.
    fn joined(&self, room: RoomId, user: UserView, diffs: &PresenceDiffs);
    /// `user`'s last device here left `room` and the grace period passed.
    fn left(&self, room: RoomId, user: UserId, diffs: &PresenceDiffs);
    /// `user`, present in `room` here, has a new status.
    fn restated(&self, room: RoomId, user: UserView);
    /// Everyone present in `room` anywhere, given this node's presence: the total and the
    /// first `max` by handle.
    async fn roster(
        &self,
        room: RoomId,
        here: &LocalPresence,
        entry: &(dyn Fn(UserView, u32) -> PresenceEntry + Sync),
        max: usize,
    ) -> (usize, Vec<PresenceEntry>);
    /// How many users are present in `room` anywhere.
    async fn total(&self, room: RoomId, here: &LocalPresence) -> u32;
    /// Whether this node's presence is everyone's, so that a roster may be cached for as
    /// long as this node's versions say it holds.
    fn rosters_are_local(&self) -> bool {
        false
    }
    /// How often [`Reach::heartbeat`] must run, if at all.
    fn heartbeat_every(&self) -> Option<Duration>;
    /// Keeps this node alive in the cluster and announces the leaves of dead nodes' users.
    async fn heartbeat(&self, here: &LocalPresence, diffs: &PresenceDiffs);
    /// This node stops: its users leave elsewhere soon.
    async fn retire(&self);
}

/// A single process: presence reaches no further than this node.
pub struct NodeOnly;

#[async_trait]
impl Reach for NodeOnly {
    fn joined(&self, room: RoomId, user: UserView, diffs: &PresenceDiffs) {
        diffs.joined(room, user);
    }

    fn left(&self, room: RoomId, user: UserId, diffs: &PresenceDiffs) {
        diffs.left(room, user);
    }

    fn restated(&self, _room: RoomId, _user: UserView) {}

    /// This node is everyone: only the listed users are copied (a room of n filling up
    /// would otherwise copy and sort O(n²) entries in all).
    async fn roster(
        &self,
        room: RoomId,
        here: &LocalPresence,
        entry: &(dyn Fn(UserView, u32) -> PresenceEntry + Sync),
        max: usize,
    ) -> (usize, Vec<PresenceEntry>) {
        let (total, listed) = here.first_members(room, max);
        let listed = listed
            .into_iter()
            .map(|(user, devices)| entry(user, devices))
            .collect();
        (total, listed)
    }

    async fn total(&self, room: RoomId, here: &LocalPresence) -> u32 {
        here.count(room) as u32
    }

    fn rosters_are_local(&self) -> bool {
        true
    }

    fn heartbeat_every(&self) -> Option<Duration> {
        None
    }

    async fn heartbeat(&self, _here: &LocalPresence, _diffs: &PresenceDiffs) {}

    async fn retire(&self) {}
}

/// Presence as the gateway sees it (see the module doc).
pub struct Presence {
    here: LocalPresence,
    statuses: Arc<Statuses>,
    diffs: Arc<PresenceDiffs>,
    rosters: RosterCache,
    flights: RosterFlights,
    reach: Box<dyn Reach>,
}

impl Presence {
    /// Presence of one process, or of a cluster node when `cluster` is given.
    pub fn new(cluster: Option<RedisPresence>) -> Presence {
        let statuses = Arc::new(Statuses::default());
        let diffs = Arc::new(PresenceDiffs::default());
        let reach: Box<dyn Reach> = match cluster {
            Some(redis) => Box::new(cluster::ClusterReach::start(
                redis,
                statuses.clone(),
                diffs.clone(),
            )),
            None => Box::new(NodeOnly),
        };
        Presence {
            here: LocalPresence::default(),
            statuses,
            diffs,
            rosters: RosterCache::default(),
            flights: RosterFlights::default(),
            reach,
        }
    }

    /// Users' statuses.
    pub fn statuses(&self) -> &Statuses {
        &self.statuses
    }

    /// One more device of `user` in `room`; the room hears of a user new to it with the
    /// next tick.
    pub fn join(&self, room: RoomId, user: Arc<UserView>) {
        if self.here.join(room, user.clone()) {
            self.reach.joined(room, UserView::clone(&user), &self.diffs);
        }
    }

    /// One device of `user` left `room`. When it was their last, the room hears of the
    /// leave after `grace`, unless they came back meanwhile.
    pub fn leave(self: &Arc<Self>, room: RoomId, user: UserId, grace: Duration) {
        let Some(pending) = self.here.leave(room, user) else {
            return;
        };
        let presence = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            if presence.here.finish_leave(pending) {
                presence
                    .reach
                    .left(pending.room, pending.user, &presence.diffs);
            }
        });
    }

    /// `user` is no longer in `room` on this node, on any device (a leave or a removal cut
    /// every connection off): the room hears of it with the next tick, with no grace.
    pub fn remove(&self, room: RoomId, user: UserId) {
        if self.here.remove(room, user) {
            self.reach.left(room, user, &self.diffs);
        }
    }

    /// A presence entry: the user, their devices in the room, their status.
    fn entry(statuses: &Statuses, user: UserView, devices: u32) -> PresenceEntry {
        let (status, text) = statuses.current(user.id);
        PresenceEntry {
            user,
            devices,
            status,
            text,
        }
    }

    /// The `presence` frame for `room`, encoded: everyone present with their statuses, or
    /// the first `max` of them (by handle) in a bigger room. On a single process it is
    /// encoded once for everyone who asks until it changes ([`roster_cache`]); on a cluster
    /// one read at a time serves everyone who asked before it began ([`roster_flights`]).
    pub async fn roster_text(&self, room: RoomId, max: usize) -> FrameText {
        if !self.reach.rosters_are_local() {
            return self
                .flights
                .read(room, max, || async { text(&self.frame(room, max).await) })
                .await;
        }
        // The epoch is read before the statuses it stands for, and the room's version with
        // the list itself: the text is never older than its stamp.
        let statuses = self.statuses.epoch();
        let current = Stamp {
            room: self.here.version(room),
            statuses,
            max,
        };
        if let Some(cached) = self.rosters.get(room, current) {
            return cached;
        }
        let (version, total, listed) = self.here.versioned_first_members(room, max);
        let users = listed
            .into_iter()
            .map(|(user, devices)| Presence::entry(&self.statuses, user, devices))
            .collect();
        let encoded = text(&Presence::roster_frame(room, total, users));
        let stamp = Stamp {
            room: version,
            ..current
        };
        self.rosters.put(room, stamp, encoded.clone());
        encoded
    }

    /// The `presence` frame for `room`, built afresh (see [`Presence::roster_text`]).
    pub async fn frame(&self, room: RoomId, max: usize) -> ServerFrame {
        let statuses = &self.statuses;
        let entry = move |user, devices| Presence::entry(statuses, user, devices);
        let (total, users) = self.reach.roster(room, &self.here, &entry, max).await;
        Presence::roster_frame(room, total, users)
    }

    fn roster_frame(room: RoomId, total: usize, users: Vec<PresenceEntry>) -> ServerFrame {
        ServerFrame::Presence {
            room,
            truncated: users.len() < total,
            users,
            total: total as u32,
        }
    }

    /// Drops the cached rosters nobody asked for since the last sweep.
    pub fn sweep_rosters(&self) {
        self.rosters.sweep();
        self.flights.sweep();
    }

    /// How many users are present in `room` (cluster-wide on a cluster).
    pub async fn total(&self, room: RoomId) -> u32 {
        self.reach.total(room, &self.here).await
    }

    /// The changes gathered since each room's last diff, one per room whose next diff is
    /// due (see [`diffs::pace`]).
    pub fn drain(&self) -> Vec<Diff> {
        self.diffs.drain(Instant::now())
    }

    /// A diff just went to the `present` people of `room`: its next one is paced by their
    /// number (see [`diffs::pace`]); `tick` is how often diffs are sent anyway.
    pub fn pace_diffs(&self, room: RoomId, present: u32, tick: Duration) {
        let wait = diffs::pace(present);
        if wait > tick {
            self.diffs.hold(room, Instant::now() + wait);
        }
    }

    /// Tells every room where `user` is present (their own connections included) about
    /// their status.
    pub fn restate(&self, user: UserId) {
        for (room, view, devices) in self.here.rooms_of(user) {
            self.reach.restated(room, view.clone());
            self.diffs
                .updated(room, Presence::entry(&self.statuses, view, devices));
        }
    }

    /// `user` made a request: an automatic away ends.
    pub fn activity(&self, user: UserId) {
        if self.statuses.activity(user, Instant::now()) {
            self.restate(user);
        }
    }

    /// Users idle for `idle_after` turn away.
    pub fn sweep_idle(&self, idle_after: Duration) {
        for user in self.statuses.sweep(Instant::now(), idle_after) {
            self.restate(user);
        }
    }

    /// How often [`Presence::heartbeat`] must run, if at all.
    pub fn heartbeat_every(&self) -> Option<Duration> {
        self.reach.heartbeat_every()
    }

    /// See [`Reach::heartbeat`].
    pub async fn heartbeat(&self) {
        self.reach.heartbeat(&self.here, &self.diffs).await
    }

    /// This node stops (see [`Reach::retire`]).
    pub async fn retire(&self) {
        self.reach.retire().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use protocol::Status;
    use uuid::Uuid;

    #[derive(Debug, Clone)]
    enum Op {
        /// A device of user n subscribes (its connection opens first).
        Join(u8),
        /// A device of user n unsubscribes (its connection closes after).
        Leave(u8),
        /// Grace periods run out.
        Wait,
        /// User n chooses a status (dnd, or back to automatic).
        Choose(u8, bool),
        /// Everyone on automatic turns away.
        Idle,
        /// User n does something.
        Active(u8),
        /// User n is cut off the room on every device (a leave elsewhere, a removal).
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..4).prop_map(Op::Join),
            3 => (0u8..4).prop_map(Op::Leave),
            1 => Just(Op::Wait),
            1 => ((0u8..4), any::<bool>()).prop_map(|(u, d)| Op::Choose(u, d)),
            1 => Just(Op::Idle),
            1 => (0u8..4).prop_map(Op::Active),
            1 => (0u8..4).prop_map(Op::Remove),
        ]
    }

    fn user(n: u8) -> UserView {
        UserView {
            id: UserId(Uuid::from_u128(n as u128 + 1)),
            handle: format!("u{n}"),
            name: format!("U{n}"),
            avatar: None,
        }
    }

    proptest! {
        /// Whatever happens, the cached roster is the one built afresh, whole or cut short.
        #[test]
        fn the_cached_roster_is_always_the_fresh_one(
            ops in proptest::collection::vec(op(), 1..40),
            max in prop_oneof![Just(2usize), Just(100)],
        ) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(async move {
                let presence = Arc::new(Presence::new(None));
                let room = RoomId(Uuid::from_u128(99));
                let grace = Duration::from_millis(1);
                let mut devices = [0u32; 4];
                for op in ops {
                    let now = Instant::now();
                    match op {
                        Op::Join(n) => {
                            presence.statuses().connect(user(n).id, now);
                            presence.join(room, user(n).into());
                            devices[n as usize] += 1;
                        }
                        Op::Leave(n) if devices[n as usize] > 0 => {
                            devices[n as usize] -= 1;
                            presence.leave(room, user(n).id, grace);
                            presence.statuses().disconnect(user(n).id);
                        }
                        Op::Leave(_) => {}
                        Op::Wait => tokio::time::sleep(grace * 5).await,
                        Op::Choose(n, dnd) => {
                            let status = if dnd { Status::Dnd } else { Status::Active };
                            if presence.statuses().set(user(n).id, status, None, now) {
                                presence.restate(user(n).id);
                            }
                        }
                        Op::Idle => presence.sweep_idle(Duration::ZERO),
                        Op::Active(n) => presence.activity(user(n).id),
                        Op::Remove(n) => {
                            // Cut-off devices never leave by themselves.
                            presence.remove(room, user(n).id);
                            devices[n as usize] = 0;
                        }
                    }
                    let cached = presence.roster_text(room, max).await;
                    let fresh = text(&presence.frame(room, max).await);
                    prop_assert_eq!(cached.as_str(), fresh.as_str());
                }
                Ok(())
            })?;
        }
    }
}
