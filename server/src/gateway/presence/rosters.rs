//! The `presence` frame of each room on a single node, encoded once and kept until the
//! room's next `presence_diff` is drained.
//!
//! Every subscribe sends the room's roster. Built per subscribe, a room of n filling up
//! cost O(n²): each of its n joiners copied and sorted everyone already there. Kept here,
//! a room's roster is built at most once per presence tick however many join in it.
//!
//! Why a kept frame is never stale for a subscriber: a change of presence updates this
//! node's state and queues a diff at once. A frame built before a change is dropped when
//! the diff that carries the change is drained, and that diff is published after it is
//! drained, to every connection registered by then — including whoever was given the
//! frame, since a subscriber registers before it asks for the roster. A frame built after
//! the change contains it. (On a cluster the roster is read through Redis and other nodes'
//! changes do not pass through this node's drain, so a cluster builds it per subscribe.)

use protocol::ServerFrame;
use protocol::ids::RoomId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::gateway::encode::text;
use confab_websocket::FrameText;

/// Encoded rosters by room, with the roster cap each was built for.
#[derive(Default)]
pub struct Rosters {
    frames: Mutex<HashMap<RoomId, (usize, Arc<FrameText>)>>,
}

impl Rosters {
    /// `room`'s kept frame for `max`, or the one `build` makes, kept from now on.
    pub fn get_or_build(
        &self,
        room: RoomId,
        max: usize,
        build: impl FnOnce() -> ServerFrame,
    ) -> Arc<FrameText> {
        let mut frames = self.frames.lock().expect("roster lock");
        if let Some((built_for, frame)) = frames.get(&room)
            && *built_for == max
        {
            return frame.clone();
        }
        let frame = Arc::new(text(&build()));
        frames.insert(room, (max, frame.clone()));
        frame
    }

    /// Drops the frames of `rooms`, whose presence changed.
    pub fn forget(&self, rooms: impl IntoIterator<Item = RoomId>) {
        let mut frames = self.frames.lock().expect("roster lock");
        for room in rooms {
            frames.remove(&room);
        }
    }

    /// Rooms with a kept frame.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.frames.lock().expect("roster lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn roster(total: u32) -> ServerFrame {
        ServerFrame::Presence {
            room: RoomId(Uuid::from_u128(1)),
            users: Vec::new(),
            total,
            truncated: false,
        }
    }

    #[test]
    fn a_frame_is_built_once_until_its_room_is_forgotten() {
        let rosters = Rosters::default();
        let room = RoomId(Uuid::from_u128(1));
        let other = RoomId(Uuid::from_u128(2));
        let mut builds = 0;
        let first = rosters.get_or_build(room, 200, || {
            builds += 1;
            roster(1)
        });
        let again = rosters.get_or_build(room, 200, || {
            builds += 1;
            roster(2)
        });
        assert_eq!(builds, 1);
        assert!(Arc::ptr_eq(&first, &again));
        rosters.get_or_build(other, 200, || roster(7));
        // Another cap is another frame.
        let capped = rosters.get_or_build(room, 2, || roster(3));
        assert!(capped.as_str().contains("\"total\":3"));
        rosters.forget([room]);
        assert_eq!(rosters.len(), 1, "only the forgotten room's frame goes");
        let rebuilt = rosters.get_or_build(room, 200, || roster(4));
        assert!(rebuilt.as_str().contains("\"total\":4"));
    }
}
