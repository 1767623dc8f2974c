//! Group direct messages over real sockets: opened for up to eight people, each of them
//! (on every device) hears of it with the others' names, the same people find the same
//! room, only they read it, and a group too large or naming someone twice is refused.

use protocol::{ErrorCode, PersonalEvent, ServerFrame};
use std::time::Duration;

use crate::helpers::TestApp;
use crate::wsclient::{Client, assert_error, send, subscribe};

fn open_group(users: &[protocol::ids::UserId]) -> serde_json::Value {
    serde_json::json!({"type": "open_group", "users": users})
}

async fn a_group_dm_reaches_its_people_only(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let cy = app.user("cy").await;
    let di = app.user("di").await;
    let mut a = Client::new(app.connect_as(&ana).await);
    let mut a2 = Client::new(app.connect_as(&ana).await);
    let mut b = Client::new(app.connect_as(&bo).await);
    let mut c = Client::new(app.connect_as(&cy).await);
    let mut d = Client::new(app.connect_as(&di).await);

    let room = match a.ok(open_group(&[bo.user.id, cy.user.id])).await {
        ServerFrame::Ack { info, .. } => info.room.unwrap(),
        _ => unreachable!(),
    };
    // Everyone in it hears of it, with the others' names; Ana's other device too.
    for (client, me) in [(&mut a2, &ana), (&mut b, &bo), (&mut c, &cy)] {
        match client
            .push_where(|f| matches!(f, ServerFrame::Personal { .. }))
            .await
        {
            ServerFrame::Personal {
                event: PersonalEvent::GroupOpened { room: r, with },
            } => {
                assert_eq!(r, room);
                let mut names: Vec<String> = with.iter().map(|u| u.handle.clone()).collect();
                names.sort();
                let mut expected: Vec<String> = [&ana, &bo, &cy]
                    .iter()
                    .filter(|u| u.user.id != me.user.id)
                    .map(|u| u.user.handle.to_string())
                    .collect();
                expected.sort();
                assert_eq!(names, expected);
            }
            other => panic!("{other:?}"),
        }
    }
    d.none_within(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Personal { .. })
    })
    .await;

    // The same people, whoever asks, find the same room.
    match c.ok(open_group(&[bo.user.id, ana.user.id])).await {
        ServerFrame::Ack { info, .. } => assert_eq!(info.room, Some(room)),
        _ => unreachable!(),
    }

    for client in [&mut a, &mut b, &mut c] {
        client.ok(subscribe(room, None)).await;
    }
    a.ok(send(room, "g1", "hello all")).await;
    assert_eq!(b.events(room, 1).await, vec![(1, "hello all".into())]);
    assert_eq!(c.events(room, 1).await, vec![(1, "hello all".into())]);
    assert_error(
        &d.request(subscribe(room, None)).await,
        ErrorCode::Forbidden,
    );
    // Unsubscribed (it was refused), so a send is refused before anything is stored.
    assert_error(
        &d.request(send(room, "x", "let me in")).await,
        ErrorCode::NotSubscribed,
    );
    assert_eq!(
        app.store.room(room).await.unwrap().unwrap().last_seq,
        1,
        "only Ana's message"
    );

    // Too many people, too few, someone twice, oneself: refused in words.
    let mut many = Vec::new();
    for n in 0..8 {
        many.push(app.user(&format!("p{n}")).await.user.id);
    }
    for bad in [
        many.clone(),
        vec![bo.user.id],
        vec![bo.user.id, bo.user.id],
        vec![bo.user.id, ana.user.id],
    ] {
        let refused = a.request(open_group(&bad)).await;
        assert_error(&refused, ErrorCode::InvalidField);
    }
    // Seven others: eight people, the most a group holds.
    match a.ok(open_group(&many[..7])).await {
        ServerFrame::Ack { info, .. } => {
            let members = app.store.members(info.room.unwrap()).await.unwrap();
            assert_eq!(members.len(), 8);
        }
        _ => unreachable!(),
    }
}

on_both_backends!(a_group_dm_reaches_its_people_only);
