//! Tests of a room's timeline: event order, gaps, snapshots, history merges, local
//! changes and threads.

use super::*;
use protocol::UserView;
use protocol::ids::UserId;
use uuid::Uuid;

pub fn msg(seq: Seq, body: &str) -> MessageView {
    MessageView {
        id: MessageId(Uuid::from_u128(seq as u128)),
        seq,
        author: UserView {
            id: UserId(Uuid::from_u128(1)),
            handle: "ana".into(),
            name: "Ana".into(),
            avatar: None,
        },
        body: body.into(),
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
    }
}

fn bodies(t: &Timeline) -> Vec<String> {
    t.lines.iter().map(|l| l.message.body.clone()).collect()
}

#[test]
fn events_apply_in_order_and_replays_are_ignored() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    assert_eq!(
        t.apply(2, EventKind::Message, msg(2, "b")),
        Applied::Applied
    );
    assert_eq!(
        t.apply(2, EventKind::Message, msg(2, "b")),
        Applied::Duplicate
    );
    assert_eq!(
        t.apply(1, EventKind::Message, msg(1, "a")),
        Applied::Duplicate
    );
    assert_eq!(bodies(&t), ["a", "b"]);
    assert_eq!(t.last_seq, 2);
}

fn reply_to(seq: Seq, body: &str, root: &MessageView) -> MessageView {
    MessageView {
        thread_root: Some(root.id),
        created_at: seq as i64 * 10,
        ..msg(seq, body)
    }
}

fn replies_of(t: &Timeline) -> Option<u32> {
    t.lines[0].message.thread.map(|t| t.replies)
}

#[test]
fn replies_count_on_their_root_and_stay_out_of_the_list() {
    let root = msg(1, "root");
    let mut t = Timeline::from_page(vec![root.clone()], 1, false);
    assert_eq!(
        t.apply(2, EventKind::Message, reply_to(2, "r1", &root)),
        Applied::Applied
    );
    assert_eq!(bodies(&t), ["root"], "a reply is not a line of the room");
    assert_eq!(t.last_seq, 2, "but it takes its seq");
    let summary = t.lines[0].message.thread.unwrap();
    assert_eq!(
        (
            summary.replies,
            summary.last_reply_seq,
            summary.last_reply_at
        ),
        (1, 2, 20)
    );
    // A replay changes nothing; an edit of the root keeps the summary.
    assert_eq!(
        t.apply(2, EventKind::Message, reply_to(2, "r1", &root)),
        Applied::Duplicate
    );
    t.apply(3, EventKind::Edited, msg(1, "root!"));
    assert_eq!(
        (bodies(&t), replies_of(&t)),
        (vec!["root!".to_string()], Some(1))
    );
    // A deleted reply stops counting.
    let mut gone = reply_to(2, "", &root);
    gone.deleted = true;
    t.apply(4, EventKind::Deleted, gone);
    assert_eq!(replies_of(&t), Some(0));
}

#[test]
fn a_loaded_thread_takes_live_replies_once() {
    let root = msg(1, "root");
    let mut t = Timeline::from_page(vec![root.clone()], 1, false);
    let mut loaded_root = root.clone();
    loaded_root.thread = Some(protocol::ThreadView {
        replies: 1,
        last_reply_seq: 2,
        last_reply_at: 20,
    });
    // The thread was read after reply 2 was committed but before its event arrived.
    t.load_thread(loaded_root, vec![reply_to(2, "r1", &root)]);
    t.apply(2, EventKind::Message, reply_to(2, "r1", &root));
    t.apply(3, EventKind::Message, reply_to(3, "r2", &root));
    let thread: Vec<&str> = t.threads[&root.id]
        .iter()
        .map(|m| m.body.as_str())
        .collect();
    assert_eq!(thread, ["r1", "r2"]);
    assert_eq!(
        replies_of(&t),
        Some(2),
        "the reply in the loaded page is not counted twice"
    );
}

#[test]
fn a_skipped_seq_is_reported_as_a_gap_and_not_applied() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    assert_eq!(
        t.apply(3, EventKind::Message, msg(3, "c")),
        Applied::Gap { last_seq: 1 }
    );
    assert_eq!(bodies(&t), ["a"]);
    assert_eq!(t.last_seq, 1);
}

#[test]
fn an_ack_before_its_event_shows_the_message_once() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    t.confirm_send(msg(2, "mine"));
    assert_eq!(t.last_seq, 1, "only events move last_seq");
    assert_eq!(
        t.apply(2, EventKind::Message, msg(2, "mine")),
        Applied::Applied
    );
    assert_eq!(bodies(&t), ["a", "mine"]);
}

#[test]
fn edits_and_deletes_replace_the_message_and_bump_its_rev() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    let mut edited = msg(1, "a2");
    edited.edited_at = Some(5);
    t.apply(2, EventKind::Edited, edited);
    assert_eq!(bodies(&t), ["a2"]);
    assert_eq!(t.lines[0].rev, 1);
    let mut gone = msg(1, "");
    gone.deleted = true;
    t.apply(3, EventKind::Deleted, gone);
    assert!(t.lines[0].message.deleted);
    assert_eq!(t.last_seq, 3);
}

#[test]
fn a_reaction_event_replaces_the_reactions_and_moves_last_seq_only() {
    let mut t = Timeline::from_page(vec![msg(1, "a"), msg(2, "b")], 2, false);
    let mut reacted = msg(1, "a");
    reacted.reactions.push(protocol::ReactionView {
        emoji: "👍".into(),
        count: 1,
        users: vec![reacted.author.clone()],
    });
    assert_eq!(
        t.apply(3, EventKind::Reaction, reacted.clone()),
        Applied::Applied
    );
    assert_eq!(bodies(&t), ["a", "b"], "no new line");
    assert_eq!(t.lines[0].message.reactions, reacted.reactions);
    assert_eq!(t.lines[0].rev, 1);
    assert_eq!(t.last_seq, 3);
    // A reaction on a message not held (scrolled out) adds nothing.
    assert_eq!(
        t.apply(4, EventKind::Reaction, msg(9, "old")),
        Applied::Applied
    );
    assert_eq!(bodies(&t), ["a", "b"]);
    // Our own send acked after a later event keeps what the events said.
    t.confirm_send(msg(1, "a"));
    assert_eq!(t.lines[0].message.reactions.len(), 1);
}

#[test]
fn a_refused_edit_or_delete_rolls_back() {
    let mut t = Timeline::from_page(vec![msg(1, "original")], 1, false);
    let id = t.lines[0].message.id;
    assert!(t.begin_edit(id, "changed"));
    assert_eq!(bodies(&t), ["changed"]);
    assert!(!t.begin_delete(id), "one local change at a time");
    t.roll_back(id);
    assert_eq!(bodies(&t), ["original"]);
    assert!(t.begin_delete(id));
    assert!(t.lines[0].message.deleted);
    t.roll_back(id);
    assert!(!t.lines[0].message.deleted);
    assert_eq!(bodies(&t), ["original"]);
}

#[test]
fn an_accepted_edit_keeps_the_servers_version() {
    let mut t = Timeline::from_page(vec![msg(1, "original")], 1, false);
    let id = t.lines[0].message.id;
    t.begin_edit(id, "changed");
    let mut edited = msg(1, "changed");
    edited.edited_at = Some(9);
    t.apply(2, EventKind::Edited, edited);
    t.settle(id);
    assert_eq!(t.lines[0].local, None);
    assert_eq!(t.lines[0].message.edited_at, Some(9));
}

#[test]
fn history_merges_by_id_and_keeps_seq_order() {
    let mut t = Timeline::from_page(vec![msg(3, "c"), msg(4, "d")], 4, true);
    t.merge_older(vec![msg(1, "a"), msg(2, "b"), msg(3, "c")], false);
    assert_eq!(bodies(&t), ["a", "b", "c", "d"]);
    assert!(!t.has_more);
    assert_eq!(t.oldest_seq(), Some(1));
}

#[test]
fn trimming_keeps_the_newest_and_remembers_there_is_more() {
    let page: Vec<_> = (1..=10).map(|s| msg(s, "x")).collect();
    let mut t = Timeline::from_page(page, 10, false);
    t.trim_to(4);
    assert_eq!(t.oldest_seq(), Some(7));
    assert!(t.has_more);
}

#[test]
fn a_snapshot_replaces_everything() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    t.reset(vec![msg(50, "new")], 50, true);
    assert_eq!(bodies(&t), ["new"]);
    assert_eq!(t.last_seq, 50);
    assert!(t.has_more);
}

#[test]
fn pins_follow_the_rooms_events_and_survive_a_snapshot() {
    let mut t = Timeline::from_page(vec![msg(1, "a"), msg(2, "b")], 2, false);
    let mut pinned = msg(1, "a");
    pinned.pinned = Some(protocol::PinView {
        by: pinned.author.id,
        at: 5,
    });
    assert_eq!(
        t.apply(3, EventKind::Pinned, pinned.clone()),
        Applied::Applied
    );
    assert!(t.pins.contains(pinned.id));
    // A replay of the same event changes nothing.
    assert_eq!(
        t.apply(3, EventKind::Pinned, pinned.clone()),
        Applied::Duplicate
    );
    assert_eq!(t.pins.len(), 1);
    // A snapshot keeps the list, and what its messages show of their pins wins.
    t.reset(vec![msg(1, "a")], 10, true);
    assert!(t.pins.is_empty(), "the snapshot shows message 1 unpinned");
    t.reset(vec![pinned.clone()], 11, true);
    assert!(t.pins.contains(pinned.id));
    let mut gone = pinned.clone();
    gone.deleted = true;
    assert_eq!(t.apply(12, EventKind::Deleted, gone), Applied::Applied);
    assert!(t.pins.is_empty());
}

#[test]
fn room_settings_notices_are_kept_for_the_header() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    let notice = |seq: Seq, changes: protocol::RoomChanges| {
        let mut m = msg(seq, "");
        m.notice = Some(Box::new(protocol::NoticeView::RoomUpdated { changes }));
        m
    };
    t.apply(
        2,
        EventKind::Message,
        notice(
            2,
            protocol::RoomChanges {
                name: Some("design".into()),
                ..Default::default()
            },
        ),
    );
    t.apply(
        3,
        EventKind::Message,
        notice(
            3,
            protocol::RoomChanges {
                topic: Some("pixels".into()),
                ..Default::default()
            },
        ),
    );
    assert_eq!(t.changed.name.as_deref(), Some("design"));
    assert_eq!(t.changed.topic.as_deref(), Some("pixels"));
    t.reset(vec![], 20, false);
    assert_eq!(
        t.changed.name.as_deref(),
        Some("design"),
        "kept across a snapshot"
    );
}

#[test]
fn role_notices_keep_each_members_newest_role() {
    let mut t = Timeline::from_page(vec![msg(1, "a")], 1, false);
    let bo = protocol::ids::UserId(protocol::ids::Uuid::from_u128(2));
    let notice = |seq: Seq, role: protocol::RoleName| {
        let mut m = msg(seq, "");
        m.notice = Some(Box::new(protocol::NoticeView::RoleChanged {
            user: bo,
            role,
        }));
        m
    };
    t.apply(2, EventKind::Message, notice(2, protocol::RoleName::Admin));
    assert_eq!(t.roles.get(&bo), Some(&protocol::RoleName::Admin));
    t.apply(3, EventKind::Message, notice(3, protocol::RoleName::Member));
    assert_eq!(t.roles.get(&bo), Some(&protocol::RoleName::Member));
    t.reset(vec![], 20, false);
    assert_eq!(
        t.roles.get(&bo),
        Some(&protocol::RoleName::Member),
        "kept across a snapshot"
    );
}
