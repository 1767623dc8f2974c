//! A cluster node paused (SIGSTOP) past the presence deadline, then resumed (SIGCONT).
//! While it is stopped the other nodes take it for dead and announce its users' leaves;
//! once it runs again it must rejoin cleanly: its users still connected are present again
//! everywhere, once each, and a user whose connection died during the pause is not shown
//! again, on any node — no ghosts.

use confab::gateway::presence::{HEARTBEAT, NODE_TTL};
use std::time::Duration;

use crate::child_node::ChildNode;
use crate::helpers::{WAIT, connect_user, spawn_cluster_with};
use crate::roster::View;
use crate::wsclient::{Client, send, subscribe};

#[tokio::test]
async fn a_node_paused_past_the_deadline_rejoins_without_ghosts() {
    // Connections stay open across the pause: a heartbeat far longer than the test.
    let Some(cluster) = spawn_cluster_with(1, |s| s.heartbeat_secs = 300).await else {
        return;
    };
    let a = &cluster.nodes[0];
    let b = ChildNode::start_with(&cluster, &[("CONFAB_HEARTBEAT_SECS", "300")]).await;
    let ana = a.user("pz-ana").await;
    let bo = a.user("pz-bo").await;
    let cy = a.user("pz-cy").await;
    let di = a.user("pz-di").await;
    let room = a.public_room(&ana, "cluster-pause").await;
    let everyone = [ana.user.id, bo.user.id, cy.user.id, di.user.id];

    // Ana watches on A; Bo, Cy and Di are on B, Di watching too.
    let mut on_a = (Client::new(a.connect_as(&ana).await), View::new(room));
    on_a.0.ok(subscribe(room, None)).await;
    let mut on_b = Vec::new();
    for user in [&bo, &cy, &di] {
        let mut c = Client::new(connect_user(b.addr, user).await);
        c.ok(subscribe(room, None)).await;
        on_b.push(c);
    }
    let mut cy_conn = on_b.remove(1);
    let mut di_view = (on_b.pop().unwrap(), View::new(room));
    let mut bo_conn = on_b.pop().unwrap();
    on_a.1
        .until(&mut on_a.0, &everyone, WAIT, "all four present, seen on A")
        .await;
    di_view
        .1
        .until(
            &mut di_view.0,
            &everyone,
            WAIT,
            "all four present, seen on B",
        )
        .await;

    // B stops. Past the deadline, A takes it for dead: B's users leave, seen on A.
    b.signal("STOP");
    let stopped = std::time::Instant::now();
    let reaped = NODE_TTL + HEARTBEAT * 2 + WAIT;
    on_a.1
        .until(
            &mut on_a.0,
            &[ana.user.id],
            reaped,
            "B's users reaped, seen on A",
        )
        .await;
    eprintln!(
        "a stopped node's users left on A {:?} after SIGSTOP",
        stopped.elapsed()
    );

    // Cy's connection dies while B is stopped (its kernel takes the FIN; B does not run).
    drop(cy_conn.ws.close(None).await);
    drop(cy_conn);
    // Well past the deadline, a heartbeat more.
    tokio::time::sleep(HEARTBEAT * 2).await;
    b.signal("CONT");
    let resumed = std::time::Instant::now();
    on_a.1.joins.clear();

    // B rejoins: Bo and Di are present again everywhere, Cy is not (never listed again),
    // and nothing changes after that.
    let settled = HEARTBEAT * 2 + Duration::from_millis(3_000) + WAIT;
    let expected = [ana.user.id, bo.user.id, di.user.id];
    on_a.1
        .until(
            &mut on_a.0,
            &expected,
            settled,
            "B's live users back, seen on A",
        )
        .await;
    eprintln!(
        "B's users were back on A {:?} after SIGCONT",
        resumed.elapsed()
    );
    di_view
        .1
        .until(&mut di_view.0, &expected, settled, "the same, seen on B")
        .await;
    on_a.1
        .stays(&mut on_a.0, HEARTBEAT * 3, "A's view after the rejoin")
        .await;
    di_view
        .1
        .stays(&mut di_view.0, HEARTBEAT, "B's view after the rejoin")
        .await;
    assert!(
        !on_a.1.joins.contains(&cy.user.id),
        "the user whose connection died in the pause was never listed again"
    );

    // A fresh roster on either node lists each of them once, with one device.
    for (addr, who) in [(a.addr, &ana), (b.addr, &di)] {
        let mut fresh = Client::new(connect_user(addr, who).await);
        fresh.ok(subscribe(room, None)).await;
        match fresh
            .push_where(|f| matches!(f, protocol::ServerFrame::Presence { .. }))
            .await
        {
            protocol::ServerFrame::Presence { users, total, .. } => {
                let mut listed: Vec<_> = users.iter().map(|e| (e.user.id, e.devices)).collect();
                listed.sort();
                let want_devices = |u| if u == who.user.id { 2 } else { 1 };
                let mut want: Vec<_> = expected.iter().map(|&u| (u, want_devices(u))).collect();
                want.sort();
                assert_eq!((listed, total), (want, 3));
            }
            _ => unreachable!(),
        }
    }

    // Bo's connection on B lived through it: what he sends reaches Ana.
    bo_conn.ok(send(room, "after-pause", "still here")).await;
    let got = on_a.0.events(room, 1).await;
    assert_eq!(got[0].1, "still here");
}
