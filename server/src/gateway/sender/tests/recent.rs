//! Resumes served from the node's recent events, from the Store before them, and never
//! replaying a message as it was before an edit.

use super::*;

#[tokio::test]
async fn a_resume_within_the_recent_events_is_served_from_memory() {
    let mut f = Fixture::new(1_000).await;
    let mut third = None;
    for _ in 0..3 {
        third = Some(f.commit().await);
    }
    // Seq 4 exists only in this node's recent events: the Store has no such event, so
    // a resume that delivers it read memory, not the Store.
    let third = third.unwrap();
    let fourth: FrameText = third
        .text
        .as_str()
        .replace("\"seq\":3", "\"seq\":4")
        .replace("message 3", "only in memory")
        .into();
    f.gateway.hub().publish_event(f.room, 4, &fourth, false);
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(1))).unwrap();
    rec.until("events 2 to 4", |w| w.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![2, 3, 4]);
    assert!(matches!(
        &rec.written()[2],
        Written::Frame { frame, .. } if matches!(&**frame, ServerFrame::Event { message, .. } if message.body == "only in memory")
    ));
}

#[tokio::test]
async fn a_resume_older_than_the_recent_events_reads_the_store_then_memory() {
    let mut f = Fixture::new(1_000).await;
    let total = crate::gateway::recent::RING_EVENTS as Seq + 20;
    for _ in 0..total {
        f.commit().await;
    }
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(3))).unwrap();
    rec.until("every event after 3", |w| w.len() as Seq >= total - 3)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), (4..=total).collect::<Vec<Seq>>());
}

#[tokio::test]
async fn a_replay_after_an_edit_shows_the_message_as_it_is_now() {
    let mut f = Fixture::new(1_000).await;
    let first = f.commit().await;
    f.commit().await;
    let ServerFrame::Event { message, .. } = serde_json::from_str(first.text.as_str()).unwrap()
    else {
        panic!("an event frame")
    };
    let edit = WriteCommand::Edit {
        author: f.author,
        message: message.id,
        body: Body::parse("edited").unwrap(),
    };
    f.gateway.group_commit().write(f.room, edit).await.unwrap();
    let rec = Recorder::open();
    let (conn, _done) = f.connect(rec.clone());
    conn.push(Outbound::resume(f.room, Some(0))).unwrap();
    rec.until("events 1 to 3", |w| w.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rec.event_seqs(), vec![1, 2, 3]);
    // Event 1 was published with its first body; replayed, it carries the edited one.
    assert!(matches!(
        &rec.written()[0],
        Written::Frame { frame, .. } if matches!(&**frame, ServerFrame::Event { message, .. } if message.body == "edited")
    ));
}
