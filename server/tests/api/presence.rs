//! Presence as each member sees it: the roster a subscribe brings plus the diffs after it
//! add up to who is there, however joins, second devices and leaves interleave with
//! subscribes and with presence ticks; a member cut off the room (removed, or leaving on
//! another device) leaves it at once, and a tab cut off earlier takes nobody away later.

use protocol::ServerFrame;
use protocol::ids::{RoomId, UserId};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::helpers::spawn_app_with;
use crate::wsclient::{Client, subscribe};

/// Applies every presence frame `c` received, until nothing came for a while: the
/// handles `c` shows as present in `room`.
async fn view(c: &mut Client, room: RoomId, names: &HashMap<UserId, String>) -> BTreeSet<String> {
    follow(c, room, names, BTreeSet::new(), false).await
}

/// [`view`] from what `c` showed before (`listed`: its roster came already).
async fn follow(
    c: &mut Client,
    room: RoomId,
    names: &HashMap<UserId, String>,
    mut present: BTreeSet<String>,
    mut listed: bool,
) -> BTreeSet<String> {
    while let Ok(frame) = tokio::time::timeout(Duration::from_millis(600), c.push()).await {
        match frame {
            ServerFrame::Presence { room: r, users, .. } if r == room => {
                present = users.into_iter().map(|e| e.user.handle).collect();
                listed = true;
            }
            ServerFrame::PresenceDiff {
                room: r,
                joined,
                left,
                updated,
                ..
            } if r == room => {
                assert!(listed, "a diff before the roster");
                present.extend(joined.into_iter().map(|u| u.handle));
                present.extend(updated.into_iter().map(|e| e.user.handle));
                for user in left {
                    present.remove(&names[&user]);
                }
            }
            _ => {}
        }
    }
    assert!(listed, "every subscriber gets the roster");
    present
}

#[tokio::test]
async fn rosters_and_diffs_add_up_to_who_is_there() {
    let app = spawn_app_with(|s| s.presence_grace_ms = 0).await;
    let owner = app.user("owner").await;
    let room = app.public_room(&owner, "lobby").await;
    let mut first = Client::new(app.connect_as(&owner).await);
    first.ok(subscribe(room, None)).await;
    let mut people = Vec::new();
    let mut clients = Vec::new();
    for i in 0..8 {
        let u = app.user(&format!("guest{i}")).await;
        let mut c = Client::new(app.connect_as(&u).await);
        c.ok(subscribe(room, None)).await;
        clients.push((format!("guest{i}"), c));
        people.push(u);
        if i == 2 {
            // A second device of someone already there, between two joins.
            let mut again = Client::new(app.connect_as(&people[0]).await);
            again.ok(subscribe(room, None)).await;
            clients.push(("guest0, second device".into(), again));
        }
        if i == 5 {
            // Someone leaves in the middle of the joins.
            let at = clients.iter().position(|(who, _)| who == "guest3").unwrap();
            let (_, mut leaver) = clients.remove(at);
            leaver
                .ok(serde_json::json!({"type": "unsubscribe", "room": room}))
                .await;
        }
        if i % 3 == 0 {
            // Let a presence tick pass now and then, so that some subscribes fall within a
            // tick of others' joins and some after.
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    let mut names: HashMap<UserId, String> = people
        .iter()
        .map(|p| (p.user.id, p.user.handle.to_string()))
        .collect();
    names.insert(owner.user.id, "owner".into());
    let mut expected: BTreeSet<String> = (0..8).map(|i| format!("guest{i}")).collect();
    expected.remove("guest3");
    expected.insert("owner".into());
    assert_eq!(
        view(&mut first, room, &names).await,
        expected,
        "the first subscriber"
    );
    for (who, c) in &mut clients {
        assert_eq!(view(c, room, &names).await, expected, "{who}");
    }
}

#[tokio::test]
async fn a_member_cut_off_leaves_presence_and_a_tab_cut_off_earlier_takes_nobody_away() {
    // No grace period: a stale tab's leave would be announced at once.
    let app = spawn_app_with(|s| s.presence_grace_ms = 0).await;
    let owner = app.user("owner").await;
    let cy = app.user("cy").await;
    let room = app.public_room(&owner, "lobby").await;
    let names: HashMap<UserId, String> = [(owner.user.id, "owner"), (cy.user.id, "cy")]
        .into_iter()
        .map(|(id, name)| (id, name.to_string()))
        .collect();
    let both: BTreeSet<String> = ["owner".to_string(), "cy".to_string()].into();
    let owner_only: BTreeSet<String> = ["owner".to_string()].into();
    let mut watcher = Client::new(app.connect_as(&owner).await);
    watcher.ok(subscribe(room, None)).await;
    let mut tab1 = Client::new(app.connect_as(&cy).await);
    let mut tab2 = Client::new(app.connect_as(&cy).await);
    tab1.ok(subscribe(room, None)).await;
    tab2.ok(subscribe(room, None)).await;
    let shown = view(&mut watcher, room, &names).await;
    assert_eq!(shown, both);

    // Removed by the room's owner: both tabs are cut off, and cy leaves presence.
    watcher
        .ok(serde_json::json!({"type": "remove_member", "room": room, "user": cy.user.id}))
        .await;
    let shown = follow(&mut watcher, room, &names, shown, true).await;
    assert_eq!(shown, owner_only, "a removed member leaves presence");

    // Back in the public room on one tab; then the other tab, cut off earlier, closes.
    tab1.ok(subscribe(room, None)).await;
    let shown = follow(&mut watcher, room, &names, shown, true).await;
    assert_eq!(shown, both, "back on one tab");
    drop(tab2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shown = follow(&mut watcher, room, &names, shown, true).await;
    assert_eq!(
        shown, both,
        "a tab cut off earlier takes nobody away when it closes"
    );

    // Leaving on one tab ends the room on the other too (same rule as a removal).
    let mut tab3 = Client::new(app.connect_as(&cy).await);
    tab3.ok(subscribe(room, None)).await;
    tab3.ok(serde_json::json!({"type": "leave", "room": room}))
        .await;
    let shown = follow(&mut watcher, room, &names, shown, true).await;
    assert_eq!(shown, owner_only, "a leave on one tab takes every tab out");
    drop(tab1);
}
