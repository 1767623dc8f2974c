//! Typing indicators: who is typing where, until when. A repeat within the time-to-live
//! extends it; it is broadcast again only once half the time-to-live has passed since the
//! room last heard of it (that is the throttle), so that other screens, which end an
//! indicator nobody renews by themselves, keep showing a person who keeps typing. Expiry,
//! a send, or leaving the room ends it. Never stored. [`Typing`] keeps the state; the gateway's
//! `start_typing`/`stop_typing` (below) broadcast the starts and stops it reports, and the
//! typing sweep (`sweeps.rs`) the expiries.

use protocol::ids::{RoomId, UserId};
use protocol::{ServerFrame, UserView};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::encode::text;
use super::{Gateway, broker};

/// One person typing in a room.
struct Typist {
    view: UserView,
    /// When their typing ends unless renewed.
    until: Instant,
    /// When the room last heard they are typing.
    announced: Instant,
}

/// Who is typing in one room.
type Typists = HashMap<UserId, Typist>;

/// Typing state of every room.
#[derive(Default)]
pub struct Typing {
    rooms: Mutex<HashMap<RoomId, Typists>>,
}

impl Typing {
    /// `user` typed in `room` at `now`. True when the room should hear of it: they were
    /// not typing, or it last heard of it half a time-to-live ago.
    pub fn touch(&self, room: RoomId, user: UserView, now: Instant, ttl: Duration) -> bool {
        let mut rooms = self.rooms.lock().expect("typing lock");
        let typists = rooms.entry(room).or_default();
        let until = now + ttl;
        match typists.get_mut(&user.id) {
            Some(entry) if entry.until > now => {
                entry.until = until;
                if now.saturating_duration_since(entry.announced) >= ttl / 2 {
                    entry.announced = now;
                    true
                } else {
                    false
                }
            }
            _ => {
                typists.insert(
                    user.id,
                    Typist {
                        view: user,
                        until,
                        announced: now,
                    },
                );
                true
            }
        }
    }

    /// `user` stopped typing in `room` (sent a message, left). Their view if they were typing.
    pub fn stop(&self, room: RoomId, user: UserId) -> Option<UserView> {
        let mut rooms = self.rooms.lock().expect("typing lock");
        let typists = rooms.get_mut(&room)?;
        let view = typists.remove(&user)?.view;
        if typists.is_empty() {
            rooms.remove(&room);
        }
        Some(view)
    }

    /// Removes and returns every entry expired at `now`.
    pub fn expire(&self, now: Instant) -> Vec<(RoomId, UserView)> {
        let mut rooms = self.rooms.lock().expect("typing lock");
        let mut expired = Vec::new();
        rooms.retain(|room, typists| {
            typists.retain(|_, typist| {
                let keep = typist.until > now;
                if !keep {
                    expired.push((*room, typist.view.clone()));
                }
                keep
            });
            !typists.is_empty()
        });
        expired
    }
}

impl Gateway {
    /// `user` is typing in `room`: the room hears of it unless it already has.
    pub(super) fn start_typing(&self, room: RoomId, user: UserView) {
        let ttl = self.settings().typing_ttl();
        if self
            .inner
            .typing
            .touch(room, user.clone(), Instant::now(), ttl)
        {
            self.announce_typing(room, user, true);
        }
    }

    /// `user` stopped typing in `room` (sent, left, or went away).
    pub(super) fn stop_typing(&self, room: RoomId, user: UserId) {
        if let Some(view) = self.inner.typing.stop(room, user) {
            self.announce_typing(room, view, false);
        }
    }

    /// Tells `room`'s subscribers on every node, except the typist's own connections; a
    /// start says how long to show it.
    pub(super) fn announce_typing(&self, room: RoomId, user: UserView, active: bool) {
        let skip = user.id;
        let ttl_ms = active.then(|| self.settings().typing_ttl_ms);
        let frame = ServerFrame::Typing {
            room,
            user,
            active,
            ttl_ms,
        };
        self.publish(broker::Envelope::Ephemeral {
            room,
            frame: text(&frame),
            skip: Some(skip),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn repeats_are_throttled_and_silence_expires() {
        let t = Typing::default();
        let room = RoomId(Uuid::from_u128(1));
        let ana = UserView {
            id: UserId(Uuid::from_u128(2)),
            handle: "ana".into(),
            name: "Ana".into(),
            avatar: None,
        };
        let ttl = Duration::from_secs(5);
        let t0 = Instant::now();
        assert!(t.touch(room, ana.clone(), t0, ttl));
        assert!(!t.touch(room, ana.clone(), t0 + Duration::from_secs(2), ttl));
        assert!(
            t.expire(t0 + Duration::from_secs(6)).is_empty(),
            "the repeat extended it"
        );
        let expired = t.expire(t0 + Duration::from_secs(9));
        assert_eq!(expired, vec![(room, ana.clone())]);
        assert!(
            t.touch(room, ana.clone(), t0 + Duration::from_secs(10), ttl),
            "typing again is news"
        );
        assert_eq!(t.stop(room, ana.id), Some(ana));
    }

    #[test]
    fn typing_on_is_announced_again_every_half_time_to_live() {
        let t = Typing::default();
        let room = RoomId(Uuid::from_u128(1));
        let bo = UserView {
            id: UserId(Uuid::from_u128(3)),
            handle: "bo".into(),
            name: "Bo".into(),
            avatar: None,
        };
        let ttl = Duration::from_secs(5);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        // Keystrokes every 1.5 s: announced at 0, then again once 2.5 s have passed.
        let announced: Vec<u64> = [0, 1_500, 3_000, 4_500, 6_000, 7_500]
            .into_iter()
            .filter(|&ms| t.touch(room, bo.clone(), at(ms), ttl))
            .collect();
        assert_eq!(announced, [0, 3_000, 6_000]);
        assert!(
            t.expire(at(12_000)).is_empty(),
            "the last keystroke lasts its time"
        );
        assert_eq!(t.expire(at(12_500)).len(), 1, "then silence ends it");
    }
}
