//! Resumes on a cluster node: answered from the node's recent events while it has
//! followed the room's channel throughout (its last subscriber gone for less than the
//! grace period), from the Store otherwise, and never showing a message as it was before
//! an edit made on another node.

use protocol::ServerFrame;
use protocol::ids::{RoomId, Seq};

use crate::helpers::{TestApp, TestUser, WAIT, spawn_cluster};
use crate::wsclient::{Client, send, subscribe};

async fn client(node: &TestApp, user: &TestUser) -> Client {
    Client::new(node.connect_as(user).await)
}

/// Waits until `node` knows the seq above which it receives all of `room`'s events.
async fn until_followed(node: &TestApp, room: RoomId) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while node.gateway.room_floor(room).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never read the room's floor"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Sends `n` messages on `writer`, tagged `tag`, each acked before the next.
async fn write(writer: &mut Client, room: RoomId, tag: &str, n: usize) {
    for i in 0..n {
        writer
            .ok(send(room, &format!("{tag}-{i}"), &format!("{tag} {i}")))
            .await;
    }
}

fn seqs(events: &[(Seq, String)]) -> Vec<Seq> {
    events.iter().map(|(s, _)| *s).collect()
}

#[tokio::test]
async fn a_node_that_kept_following_a_room_resumes_it_from_memory_and_others_from_the_store() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("cr-ana").await;
    let bo = b.user("cr-bo").await;
    let room = a.public_room(&ana, "cluster-resume").await;
    let mut writer = client(b, &bo).await;
    writer.ok(subscribe(room, None)).await;

    // Ana reads the room on A while Bo writes on B.
    let mut reader = client(a, &ana).await;
    reader.ok(subscribe(room, None)).await;
    until_followed(a, room).await;
    write(&mut writer, room, "first", 5).await;
    assert_eq!(seqs(&reader.events(room, 5).await), vec![1, 2, 3, 4, 5]);

    // Her connection drops; A has no subscriber of the room, but keeps following it.
    drop(reader);
    write(&mut writer, room, "away", 5).await;
    let (memory, store) = a.gateway.fills();
    let mut back = client(a, &ana).await;
    back.ok(subscribe(room, Some(5))).await;
    let resumed = back.events(room, 5).await;
    assert_eq!(seqs(&resumed), vec![6, 7, 8, 9, 10]);
    assert_eq!(resumed[0].1, "away 0");
    let (memory_after, store_after) = a.gateway.fills();
    assert!(memory_after > memory, "served from memory");
    assert_eq!(store_after, store, "the Store was not asked");
    // And live from there on.
    write(&mut writer, room, "live", 1).await;
    assert_eq!(seqs(&back.events(room, 1).await), vec![11]);

    // A room A never followed is resumed from the Store.
    let other = b.public_room(&bo, "cluster-resume-other").await;
    writer.ok(subscribe(other, None)).await;
    write(&mut writer, other, "other", 3).await;
    let (_, store) = a.gateway.fills();
    back.ok(subscribe(other, Some(1))).await;
    assert_eq!(seqs(&back.events(other, 2).await), vec![2, 3]);
    assert!(a.gateway.fills().1 > store, "read from the Store");
}

#[tokio::test]
async fn an_edit_on_another_node_is_never_replayed_from_the_old_text() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let [a, b] = &cluster.nodes[..] else {
        unreachable!()
    };
    let ana = a.user("ce-ana").await;
    let bo = b.user("ce-bo").await;
    let room = a.public_room(&ana, "cluster-edit").await;
    let mut reader = client(a, &ana).await;
    reader.ok(subscribe(room, None)).await;
    until_followed(a, room).await;
    let mut writer = client(b, &bo).await;
    writer.ok(subscribe(room, None)).await;
    write(&mut writer, room, "text", 2).await;
    let first = match reader
        .push_where(|f| matches!(f, ServerFrame::Event { seq: 1, .. }))
        .await
    {
        ServerFrame::Event { message, .. } => message,
        other => unreachable!("{other:?}"),
    };
    assert_eq!(first.body, "text 0");
    assert_eq!(seqs(&reader.events(room, 1).await), vec![2]);

    // Bo edits the first message on B; A holds the first event as it was.
    writer
        .ok(serde_json::json!({"type": "edit", "room": room, "message_id": first.id, "body": "edited"}))
        .await;
    reader
        .push_where(|f| matches!(f, ServerFrame::Event { seq: 3, .. }))
        .await;
    drop(reader);
    let mut back = client(a, &ana).await;
    back.ok(subscribe(room, Some(0))).await;
    let replayed = back.events(room, 3).await;
    assert_eq!(seqs(&replayed), vec![1, 2, 3]);
    assert_eq!(replayed[0].1, "edited", "the message as it is now");
}
