//! Leaving a room, on the connection that asks: a leave the Store refuses (a direct
//! message; a room that does not exist) changes nothing, so the connection keeps its
//! subscription. (What a leave does to the user's other devices is in `realtime.rs`; the
//! property test, `frame_sequences/`, found this one.)

use protocol::ErrorCode;

use crate::helpers::spawn_app;
use crate::wsclient::{Client, assert_error, send, subscribe};

#[tokio::test]
async fn a_refused_leave_keeps_the_subscription() {
    let app = spawn_app().await;
    let ana = app.user("lv-ana").await;
    let bo = app.user("lv-bo").await;
    let dm = app.store.open_dm(ana.user.id, bo.user.id).await.unwrap().id;
    let mut a = Client::new(app.connect_as(&ana).await);
    let mut b = Client::new(app.connect_as(&bo).await);
    a.ok(subscribe(dm, None)).await;
    b.ok(subscribe(dm, None)).await;

    let leave = serde_json::json!({"type": "leave", "room": dm});
    assert_error(&b.request(leave).await, ErrorCode::Forbidden);
    let nowhere = protocol::ids::RoomId(uuid::Uuid::now_v7());
    let leave = serde_json::json!({"type": "leave", "room": nowhere});
    assert_error(&b.request(leave).await, ErrorCode::NotFound);

    // Bo still receives the DM and may still write to it.
    a.ok(send(dm, "lv-1", "still there?")).await;
    assert_eq!(b.events(dm, 1).await, vec![(1, "still there?".into())]);
    b.ok(send(dm, "lv-2", "yes")).await;
    assert_eq!(a.events(dm, 2).await[1], (2, "yes".into()));
}
