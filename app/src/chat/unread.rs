//! The room list's unread counts as notices and live events arrive: each message counts
//! once, whichever way it came and however often (a notice may arrive again for the same
//! seq; see [`protocol::unread`]). What the list's count already covers — the room's
//! last seq when the list was read, raised as the reader reads — is not counted again.
//! Also where an opened room's "New messages" divider goes ([`first_unread`]).

use protocol::ids::{RoomId, Seq};
use protocol::unread::NoticeSeqs;

use super::api::RoomItem;

/// Counts the message at `seq` in `room` as one more unread (and one more mention, if it
/// is one), unless it was counted before or the count already covers it. True when it
/// counted (so an alert is due), false when the room is not listed.
pub fn count(
    rooms: &mut [RoomItem],
    counted: &mut NoticeSeqs,
    room: RoomId,
    seq: Seq,
    mention: bool,
) -> bool {
    let Some(item) = rooms.iter_mut().find(|r| r.id == room) else {
        return false;
    };
    counted.covered_through(room, item.last_seq);
    if !counted.first_time(room, seq) {
        return false;
    }
    item.unread += 1;
    if mention {
        item.mentions += 1;
    }
    true
}

/// The reader has read `room` through `seq`: nothing unread, and nothing through `seq`
/// counts again.
pub fn read_through(rooms: &mut [RoomItem], room: RoomId, seq: Seq) {
    if let Some(item) = rooms.iter_mut().find(|r| r.id == room) {
        item.unread = 0;
        item.mentions = 0;
        item.last_seq = item.last_seq.max(seq);
    }
}

/// The seq of the first message of a room's page that the reader had not read when it
/// was read (after `read_seq`, by someone else, not a notice), if the page reaches back
/// to it: with older messages unloaded (`has_more`), a page all unread starts nowhere
/// sure, and has no divider.
pub fn first_unread(
    messages: &[protocol::MessageView],
    read_seq: Seq,
    has_more: bool,
    me: Option<protocol::ids::UserId>,
) -> Option<Seq> {
    let reaches = !has_more || messages.first().is_some_and(|m| m.seq <= read_seq);
    if !reaches {
        return None;
    }
    messages
        .iter()
        .find(|m| m.seq > read_seq && Some(m.author.id) != me && m.notice.is_none() && !m.deleted)
        .map(|m| m.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::api::RoomKind;

    fn item(n: u128, last_seq: Seq, unread: u64) -> RoomItem {
        RoomItem {
            id: RoomId(uuid::Uuid::from_u128(n)),
            kind: RoomKind::Public,
            title: format!("room-{n}"),
            peers: Vec::new(),
            unread,
            mentions: 0,
            last_seq,
        }
    }

    #[test]
    fn a_notice_sent_again_for_the_same_seq_counts_once() {
        let mut rooms = vec![item(1, 10, 0)];
        let mut counted = NoticeSeqs::default();
        let room = rooms[0].id;
        assert!(count(&mut rooms, &mut counted, room, 11, false));
        assert!(!count(&mut rooms, &mut counted, room, 11, false));
        assert!(count(&mut rooms, &mut counted, room, 12, true));
        assert!(!count(&mut rooms, &mut counted, room, 12, true));
        assert_eq!((rooms[0].unread, rooms[0].mentions), (2, 1));
    }

    #[test]
    fn a_notice_the_list_already_counted_is_not_counted_again() {
        // Read with 3 unread through seq 10: a notice for 9 (sent again) changes nothing.
        let mut rooms = vec![item(1, 10, 3)];
        let mut counted = NoticeSeqs::default();
        let room = rooms[0].id;
        assert!(!count(&mut rooms, &mut counted, room, 9, false));
        assert!(!count(&mut rooms, &mut counted, room, 10, false));
        assert_eq!(rooms[0].unread, 3);
        assert!(count(&mut rooms, &mut counted, room, 11, false));
        assert_eq!(rooms[0].unread, 4);
    }

    #[test]
    fn once_read_through_a_seq_its_notice_is_no_news() {
        let mut rooms = vec![item(1, 0, 0), item(2, 0, 0)];
        let mut counted = NoticeSeqs::default();
        let (a, b) = (rooms[0].id, rooms[1].id);
        assert!(count(&mut rooms, &mut counted, a, 1, true));
        read_through(&mut rooms, a, 5);
        assert_eq!((rooms[0].unread, rooms[0].mentions), (0, 0));
        assert!(!count(&mut rooms, &mut counted, a, 4, false));
        assert!(count(&mut rooms, &mut counted, a, 6, false));
        // Another room is untouched, and a room not listed counts nothing.
        assert!(count(&mut rooms, &mut counted, b, 4, false));
        let unknown = RoomId(uuid::Uuid::from_u128(9));
        assert!(!count(&mut rooms, &mut counted, unknown, 1, false));
        assert_eq!((rooms[0].unread, rooms[1].unread), (1, 1));
    }

    #[test]
    fn a_refreshed_list_sets_the_floor_again() {
        let mut rooms = vec![item(1, 4, 0)];
        let mut counted = NoticeSeqs::default();
        let room = rooms[0].id;
        assert!(count(&mut rooms, &mut counted, room, 5, false));
        // The list read again counts 5 and 6 as unread, through 6.
        rooms = vec![item(1, 6, 2)];
        assert!(!count(&mut rooms, &mut counted, room, 6, false));
        assert!(count(&mut rooms, &mut counted, room, 7, false));
        assert_eq!(rooms[0].unread, 3);
    }

    #[test]
    fn the_divider_goes_before_the_first_message_of_someone_else_after_the_marker() {
        use crate::chat::timeline::tests::msg;
        let ana = msg(1, "").author.id;
        let mut page: Vec<_> = (1..=5).map(|s| msg(s, "x")).collect();
        let bo = protocol::UserView {
            id: protocol::ids::UserId(uuid::Uuid::from_u128(2)),
            handle: "bo".into(),
            name: "Bo".into(),
            avatar: None,
        };
        page[3].author = bo.clone(); // seq 4
        page[4].author = bo; // seq 5
        // Ana read up to 2; 3 is her own: the divider is at 4.
        assert_eq!(first_unread(&page, 2, false, Some(ana)), Some(4));
        // All read: none.
        assert_eq!(first_unread(&page, 5, false, Some(ana)), None);
        // Someone else reading the same page read nothing of Ana's after 2: 3.
        assert_eq!(first_unread(&page, 2, false, None), Some(3));
        // Older messages not loaded and the marker before the page: not sure where.
        assert_eq!(first_unread(&page[2..], 1, true, Some(ana)), None);
        // The marker inside the page: sure.
        assert_eq!(first_unread(&page[1..], 2, true, Some(ana)), Some(4));
    }
}
