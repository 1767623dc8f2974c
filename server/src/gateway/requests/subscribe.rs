//! Subscribing: the access check (the one room rule, with the gateway's member cache in
//! front), registration with the hub, the resume handed to the sender, and the presence
//! list and receipts that follow; unsubscribing and leaving a room's delivery.

use protocol::ids::{RoomId, Seq};
use protocol::{AckInfo, ErrorCode, ReqId, ServerFrame};
use store::access::{RoomAccess, room_access};

use super::Session;
use super::failure::{Failure, error, fail};
use crate::gateway::encode::text;
use crate::gateway::outbound::{Outbound, Stuck};

impl Session {
    /// Whether this connection is subscribed to `room`.
    pub(super) fn subscribed(&self, room: RoomId) -> Result<(), Failure> {
        if self.subscribed.contains(&room) {
            Ok(())
        } else {
            Err(fail(
                ErrorCode::NotSubscribed,
                "subscribe to the room first",
            ))
        }
    }

    /// Subscribed here and still a member (a leave on another device ends membership).
    pub(super) async fn member_here(&self, room: RoomId) -> Result<(), Failure> {
        self.subscribed(room)?;
        if self.gateway.is_member(room, self.me.id).await? {
            Ok(())
        } else {
            Err(fail(
                ErrorCode::Forbidden,
                "you are no longer a member of this room",
            ))
        }
    }

    /// Subscribes and queues, in this order: the ack, the replay or snapshot (through the
    /// sender's resume), the presence list, and the read receipts (small rooms). Returns
    /// `None`: the ack is already queued.
    pub(super) async fn subscribe(
        &mut self,
        req: ReqId,
        room: RoomId,
        since: Option<Seq>,
    ) -> Result<Option<ServerFrame>, Stuck> {
        let ack = ServerFrame::Ack {
            req,
            info: AckInfo {
                room: Some(room),
                ..AckInfo::default()
            },
        };
        if self.subscribed.contains(&room) {
            if self.gateway.hub().is_subscribed(room, self.handle.id) {
                return Ok(Some(ack));
            }
            // A leave on another device or a moderator's removal cut this connection off
            // the room: it subscribes afresh, if it still may.
            self.leave_room(room);
        }
        if self.subscribed.len() >= self.gateway.settings().max_rooms as usize {
            let f = fail(
                ErrorCode::TooManyRooms,
                "this connection has subscribed to the most rooms it may",
            );
            return Ok(Some(error(req, f)));
        }
        if let Err(f) = self.admit(room).await {
            return Ok(Some(error(req, f)));
        }
        self.subscribed.insert(room, ());
        let gw = &self.gateway;
        // Register first, then ask the sender to resume: events published from now on are
        // queued, and anything before the resume point is read from the Store.
        gw.subscribe_local(room, &self.handle);
        self.handle.push(Outbound::frame(text(&ack)))?;
        self.handle.push(Outbound::resume(room, since))?;
        gw.presence().join(room, self.me.clone());
        let list = gw
            .presence()
            .roster_text(room, gw.settings().presence_roster_max as usize)
            .await;
        self.handle.push(Outbound::frame(list))?;
        // Read after registering: a marker that moves from now on arrives after this.
        if let Some(receipts) = gw.receipts_frame(room, self.me.id).await {
            self.handle.push(Outbound::frame(text(&receipts)))?;
        }
        Ok(None)
    }

    /// Whether this user may subscribe to `room` (see [`store::access`]); a visitor of a
    /// public room joins it.
    pub(super) async fn admit(&self, room: RoomId) -> Result<(), Failure> {
        // A member of a room whose members are cached needs nothing from the Store (a
        // reconnect storm subscribes thousands of members at once).
        if self
            .gateway
            .inner
            .members
            .get(room)
            .is_some_and(|members| members.contains(&self.me.id))
        {
            return Ok(());
        }
        let store = self.gateway.store();
        let (_, _, access) = room_access(&*store, room, self.me.id).await?;
        if access == RoomAccess::Visitor && store.join_public(room, self.me.id).await? {
            self.gateway.membership_changed(room, self.me.id, true);
        }
        Ok(())
    }

    pub(super) fn unsubscribe(&mut self, room: RoomId) -> Result<AckInfo, Failure> {
        self.subscribed(room)?;
        self.leave_room(room);
        Ok(AckInfo {
            room: Some(room),
            ..AckInfo::default()
        })
    }

    /// Stops delivering `room` to this connection and updates presence and typing. A
    /// connection a leave or a removal already cut off was taken out of presence then.
    pub(in crate::gateway) fn leave_room(&mut self, room: RoomId) {
        self.subscribed.remove(&room);
        let gw = self.gateway.clone();
        if !gw.unsubscribe_local(room, self.handle.id) {
            return;
        }
        let _ = self.handle.push(Outbound::forget(room));
        gw.stop_typing(room, self.me.id);
        gw.presence()
            .leave(room, self.me.id, gw.settings().presence_grace());
    }
}
