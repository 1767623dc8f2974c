//! Counting unread notices by seq: the one rule every consumer of `personal` `unread`
//! notices follows (the browser's room list, the event stream's resume).
//!
//! A notice may arrive more than once for the same message: a send whose commit was in
//! doubt is retried and acked as a duplicate, and the server then sends the notice again
//! (the first may never have gone out); an event-stream resume replays notices from just
//! before the disconnect. So a counter counts a `(room, seq)` once. Per room it keeps a
//! floor (every seq at or below it is already accounted for: the room list's count was
//! read through it, or the reader has read through it) and the seqs above the floor it
//! has counted — the newest [`WINDOW`] of them; notices of one room can arrive out of seq
//! order across cluster nodes, so "past the newest counted" alone would drop some.

use crate::ids::{RoomId, Seq};
use std::collections::{BTreeSet, HashMap};

/// Counted seqs kept per room above its floor; past this the floor rises to the oldest.
pub const WINDOW: usize = 64;

/// Which notices have been counted, per room.
#[derive(Debug, Default, Clone)]
pub struct NoticeSeqs {
    rooms: HashMap<RoomId, Counted>,
}

#[derive(Debug, Default, Clone)]
struct Counted {
    floor: Seq,
    above: BTreeSet<Seq>,
}

impl Counted {
    fn raise_floor(&mut self, through: Seq) {
        if through > self.floor {
            self.floor = through;
            self.above = self.above.split_off(&(through + 1));
        }
    }
}

impl NoticeSeqs {
    /// Whether the notice for `seq` in `room` is news, recording it if so: false for a seq
    /// already counted or at or below the room's floor.
    pub fn first_time(&mut self, room: RoomId, seq: Seq) -> bool {
        let counted = self.rooms.entry(room).or_default();
        if seq <= counted.floor || !counted.above.insert(seq) {
            return false;
        }
        while counted.above.len() > WINDOW {
            let oldest = counted
                .above
                .pop_first()
                .expect("over the window, so not empty");
            counted.floor = oldest;
        }
        true
    }

    /// Everything in `room` through `seq` is accounted for (a count read through it, or
    /// the reader read that far): notices at or below it are not news.
    pub fn covered_through(&mut self, room: RoomId, seq: Seq) {
        self.rooms.entry(room).or_default().raise_floor(seq);
    }

    /// Forgets `room` (left, or no longer listed).
    pub fn forget(&mut self, room: RoomId) {
        self.rooms.remove(&room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(n: u128) -> RoomId {
        RoomId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_notice_sent_again_counts_once() {
        let mut seqs = NoticeSeqs::default();
        assert!(seqs.first_time(room(1), 7));
        assert!(!seqs.first_time(room(1), 7));
        assert!(seqs.first_time(room(1), 8));
        assert!(!seqs.first_time(room(1), 7));
        // Rooms are counted apart.
        assert!(seqs.first_time(room(2), 7));
    }

    #[test]
    fn notices_out_of_order_each_count_once() {
        let mut seqs = NoticeSeqs::default();
        for seq in [5, 3, 4, 3, 5, 4] {
            seqs.first_time(room(1), seq);
        }
        let counted: Vec<bool> = [3, 4, 5, 6]
            .into_iter()
            .map(|s| seqs.first_time(room(1), s))
            .collect();
        assert_eq!(counted, [false, false, false, true]);
    }

    #[test]
    fn what_a_count_or_a_read_covers_is_not_news() {
        let mut seqs = NoticeSeqs::default();
        assert!(seqs.first_time(room(1), 12));
        seqs.covered_through(room(1), 10);
        assert!(!seqs.first_time(room(1), 9), "below the floor");
        assert!(!seqs.first_time(room(1), 10), "at the floor");
        assert!(!seqs.first_time(room(1), 12), "counted above the floor");
        assert!(seqs.first_time(room(1), 11));
        // A floor never goes back.
        seqs.covered_through(room(1), 4);
        assert!(!seqs.first_time(room(1), 5));
    }

    #[test]
    fn the_window_is_bounded_and_older_seqs_fall_under_the_floor() {
        let mut seqs = NoticeSeqs::default();
        for seq in 1..=(WINDOW as u64 + 10) {
            assert!(seqs.first_time(room(1), seq));
        }
        assert_eq!(seqs.rooms[&room(1)].above.len(), WINDOW);
        assert!(!seqs.first_time(room(1), 1));
        assert!(!seqs.first_time(room(1), WINDOW as u64 + 10));
        assert!(seqs.first_time(room(1), WINDOW as u64 + 11));
    }

    #[test]
    fn a_forgotten_room_starts_over() {
        let mut seqs = NoticeSeqs::default();
        seqs.covered_through(room(1), 20);
        seqs.forget(room(1));
        assert!(seqs.first_time(room(1), 3));
    }
}
