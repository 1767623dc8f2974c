//! Where the member cache may be behind the Store, the Store decides.
//!
//! Joins and leaves made on other nodes reach this one as `membership` envelopes, a little
//! later than they are acked, and a networked broker may lose some. Two rules make up for
//! it:
//!
//! - **A refusal is confirmed by the Store.** The cache says "member" without a query
//!   (the hot path: every send); when it says "not a member", the Store is asked, so a
//!   user invited on another node a moment ago is not refused while the invitation's
//!   envelope is on its way. (A leave made on another node is the other way round: until
//!   its envelope arrives, the cache here still says "member" — docs/reliability.md.)
//! - **After a broker loss, everything is read again.** When the broker announces
//!   `Missed { room: None }`, a lost leave would leave the cache saying "member" and the
//!   user's connections here subscribed to a room they left. So the node forgets its
//!   member cache and, for every room with local subscribers, reads the members from the
//!   Store and applies the leave it missed to each subscriber who is no longer one. The
//!   cache is consulted again right before each unsubscribe, so a join that lands
//!   meanwhile (and updates the cache) keeps its subscription.

use protocol::ids::{RoomId, UserId};

use super::Gateway;

impl Gateway {
    /// Whether `user` belongs to `room`: yes from the member cache (loaded once per room),
    /// no only from the Store.
    pub(crate) async fn is_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> Result<bool, store::StoreError> {
        let store = self.store();
        if self
            .inner
            .members
            .load(&*store, room)
            .await?
            .contains(&user)
        {
            return Ok(true);
        }
        Ok(store.membership(room, user).await?.is_some())
    }

    /// Forgets the member cache and ends the local subscriptions of users who are no
    /// longer members (in the background: it reads the Store).
    pub(super) fn recheck_memberships(&self) {
        self.inner.members.forget_all();
        let gateway = self.clone();
        tokio::spawn(async move { gateway.end_stale_subscriptions().await });
    }

    async fn end_stale_subscriptions(&self) {
        let store = self.store();
        let mut ended = 0u64;
        for (room, users) in self.hub().subscribed_users() {
            if let Err(err) = self.inner.members.load(&*store, room).await {
                tracing::warn!(cause = %err, %room, "re-reading members after a broker loss failed");
                continue;
            }
            for user in users {
                // The cache as it is now: a join applied since the load is in it.
                let member = self
                    .inner
                    .members
                    .get(room)
                    .is_none_or(|members| members.contains(&user));
                if !member {
                    self.membership_here(room, user, false);
                    ended += 1;
                }
            }
        }
        if ended > 0 {
            tracing::info!(
                ended,
                "subscriptions of users who left while the broker was cut off ended"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use crate::gateway::Gateway;
    use crate::gateway::broker::{Delivery, Envelope};
    use crate::gateway::outbound::{ConnHandle, Outbound};
    use protocol::ids::{RoomId, UserId};
    use protocol::names::{DisplayName, Handle, RoomName};
    use std::sync::Arc;
    use std::time::Duration;
    use store::RoomKind;

    /// A join whose envelope has not come yet (written to the Store behind the gateway's
    /// back, as an invitation made on another node is) already counts: a refusal asks the
    /// Store. A non-member is still refused.
    #[tokio::test]
    async fn a_join_made_elsewhere_counts_before_its_envelope_arrives() {
        let db = store::testing::sqlite().await;
        let gateway = Gateway::new(Arc::new(Settings::defaults()), db.store.clone());
        let [ana, bo, cy] = users(&db, ["ana", "bo", "cy"]).await;
        let room = private_room(&db, ana).await;
        assert!(
            !gateway.is_member(room, bo).await.unwrap(),
            "cached without Bo"
        );
        db.store.invite(room, ana, bo).await.unwrap();
        assert!(gateway.is_member(room, bo).await.unwrap());
        assert!(!gateway.is_member(room, cy).await.unwrap());
    }

    async fn users<const N: usize>(db: &store::testing::TestDb, handles: [&str; N]) -> [UserId; N] {
        let mut ids = [UserId(uuid::Uuid::nil()); N];
        for (id, handle) in ids.iter_mut().zip(handles) {
            *id = db
                .store
                .create_user(
                    &Handle::parse(handle).unwrap(),
                    &DisplayName::parse(handle).unwrap(),
                    "not a real hash",
                )
                .await
                .unwrap()
                .id;
        }
        ids
    }

    async fn private_room(db: &store::testing::TestDb, owner: UserId) -> RoomId {
        db.store
            .create_room(
                owner,
                RoomKind::Private,
                &RoomName::parse("secret").unwrap(),
                "",
            )
            .await
            .unwrap()
            .id
    }

    /// A leave whose envelope never came (written to the Store behind the gateway's back,
    /// as another node's leave is when its envelope is lost) is applied after the broker
    /// says envelopes were missed: the cache drops the user and their connection here
    /// stops receiving the room; a member's connection keeps it.
    #[tokio::test]
    async fn a_leave_lost_by_the_broker_is_applied_after_the_loss_is_announced() {
        let db = store::testing::sqlite().await;
        let gateway = Gateway::new(Arc::new(Settings::defaults()), db.store.clone());
        let [ana, bo] = users(&db, ["ana", "bo"]).await;
        let room = private_room(&db, ana).await;
        db.store.invite(room, ana, bo).await.unwrap();
        let (ana_conn, mut ana_rx) = ConnHandle::new(1, ana, 64, Default::default());
        let (bo_conn, mut bo_rx) = ConnHandle::new(2, bo, 64, Default::default());
        gateway.subscribe_local(room, &ana_conn);
        gateway.subscribe_local(room, &bo_conn);
        assert!(gateway.is_member(room, bo).await.unwrap(), "cached");

        // Bo leaves elsewhere; the envelope is lost, so this node still thinks him a member.
        db.store.leave(room, bo).await.unwrap();
        assert!(gateway.is_member(room, bo).await.unwrap(), "stale");

        gateway.deliver(Delivery {
            envelope: Envelope::Missed { room: None },
            published_at_ms: crate::gateway::broker::now_ms(),
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let forgot = loop {
            match tokio::time::timeout_at(deadline, bo_rx.recv()).await {
                Ok(Some(Outbound::Forget(r))) => break *r,
                Ok(Some(_)) => continue,
                other => panic!("Bo's connection was never told to forget the room: {other:?}"),
            }
        };
        assert_eq!(forgot, room);
        assert!(!gateway.is_member(room, bo).await.unwrap(), "read again");
        assert!(gateway.is_member(room, ana).await.unwrap());
        let users = gateway.hub().subscribed_users();
        assert_eq!(users, vec![(room, vec![ana])], "Ana keeps her subscription");
        while let Ok(item) = ana_rx.try_recv() {
            assert!(!matches!(item, Outbound::Forget(_)), "Ana keeps the room");
        }
    }
}
