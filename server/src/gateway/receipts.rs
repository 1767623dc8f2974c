//! Read receipts: in DMs and small rooms (at most [`RECEIPTS_MEMBERS_MAX`] members), each
//! subscriber learns how far the other members have read. A receipt is state, not an
//! event: the Store's read markers are the truth, a subscribe (first or resumed) sends all
//! of them in one `receipts` frame, and each marker move is sent to the room's subscribers
//! on every node as a one-entry frame. Markers only move forward, so a client keeps the
//! highest seq per member and a frame that arrives late changes nothing.

use protocol::ids::{RoomId, Seq, UserId};
use protocol::{RECEIPTS_MEMBERS_MAX, ReadReceipt, ServerFrame, UserView};

use super::encode::text;
use super::{Gateway, broker};

impl Gateway {
    /// Whether `room` is small enough to share receipts.
    async fn shares_receipts(&self, room: RoomId) -> bool {
        match self.inner.members.load(&*self.store(), room).await {
            Ok(members) => members.len() <= RECEIPTS_MEMBERS_MAX,
            Err(err) => {
                tracing::warn!(cause = %err, %room, "loading members for receipts failed");
                false
            }
        }
    }

    /// The `receipts` frame a subscriber `me` of `room` gets: every other member's marker,
    /// or `None` in a big room (or when the Store cannot say).
    pub(super) async fn receipts_frame(&self, room: RoomId, me: UserId) -> Option<ServerFrame> {
        if !self.shares_receipts(room).await {
            return None;
        }
        let store = self.store();
        let markers = match store.read_markers(room).await {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(cause = %err, %room, "reading markers for receipts failed");
                return None;
            }
        };
        let mut receipts = Vec::with_capacity(markers.len());
        for (user, seq) in markers.into_iter().filter(|(u, _)| *u != me) {
            match self.users().load(&*store, user).await {
                Ok(user) => receipts.push(ReadReceipt { user, seq }),
                Err(err) => tracing::warn!(cause = %err, %room, "loading a reader failed"),
            }
        }
        Some(ServerFrame::Receipts { room, receipts })
    }

    /// Tells `room`'s subscribers (on every node, but `reader`'s own connections, which get
    /// a personal `read`) that `reader` has read up to `seq`, if the room shares receipts.
    pub(super) async fn announce_receipt(&self, room: RoomId, reader: UserView, seq: Seq) {
        if !self.shares_receipts(room).await {
            return;
        }
        let skip = reader.id;
        let frame = ServerFrame::Receipts {
            room,
            receipts: vec![ReadReceipt { user: reader, seq }],
        };
        self.publish(broker::Envelope::Ephemeral {
            room,
            frame: text(&frame),
            skip: Some(skip),
        });
    }
}
