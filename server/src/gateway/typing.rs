//! Typing indicators: who is typing where, until when. A repeat within the time-to-live
//! only extends it (no broadcast: that is the throttle); expiry, a send, or leaving the
//! room ends it. Never stored. [`Typing`] keeps the state; the gateway's
//! `start_typing`/`stop_typing` (below) broadcast the starts and stops it reports, and the
//! typing sweep (`sweeps.rs`) the expiries.

use protocol::ids::{RoomId, UserId};
use protocol::{ServerFrame, UserView};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::encode::text;
use super::{Gateway, broker};

/// Who is typing in one room, and until when.
type Typists = HashMap<UserId, (UserView, Instant)>;

/// Typing state of every room.
#[derive(Default)]
pub struct Typing {
    rooms: Mutex<HashMap<RoomId, Typists>>,
}

impl Typing {
    /// `user` typed in `room` at `now`. True when they were not typing (announce it).
    pub fn touch(&self, room: RoomId, user: UserView, now: Instant, ttl: Duration) -> bool {
        let mut rooms = self.rooms.lock().expect("typing lock");
        let typists = rooms.entry(room).or_default();
        let until = now + ttl;
        match typists.get_mut(&user.id) {
            Some(entry) if entry.1 > now => {
                entry.1 = until;
                false
            }
            _ => {
                typists.insert(user.id, (user, until));
                true
            }
        }
    }

    /// `user` stopped typing in `room` (sent a message, left). Their view if they were typing.
    pub fn stop(&self, room: RoomId, user: UserId) -> Option<UserView> {
        let mut rooms = self.rooms.lock().expect("typing lock");
        let typists = rooms.get_mut(&room)?;
        let (view, _) = typists.remove(&user)?;
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
            typists.retain(|_, (view, until)| {
                let keep = *until > now;
                if !keep {
                    expired.push((*room, view.clone()));
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

    /// Tells `room`'s subscribers on every node, except the typist's own connections.
    pub(super) fn announce_typing(&self, room: RoomId, user: UserView, active: bool) {
        let skip = user.id;
        let frame = ServerFrame::Typing { room, user, active };
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
        };
        let ttl = Duration::from_secs(5);
        let t0 = Instant::now();
        assert!(t.touch(room, ana.clone(), t0, ttl));
        assert!(!t.touch(room, ana.clone(), t0 + Duration::from_secs(3), ttl));
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
}
