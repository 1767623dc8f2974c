//! Fan-out: from a committed event to every subscriber on every node.
//!
//! The group commit calls [`Gateway::on_commit`] for each committed event, in seq
//! order per room. It encodes the event once and publishes it to the [`Broker`](super::Broker)
//! (with, for a new message, an unread notice for members who are not watching). A send
//! retried after an outcome in doubt and acked as a duplicate is announced again, notice
//! included ([`Gateway::announce_again`]): its first announcement may never have happened,
//! and everyone downstream takes each seq once (senders by cursor, clients by
//! [`protocol::unread`]). Every
//! node's broker handler, [`Gateway::deliver_corked`], hands the bytes to its hub under a
//! cork, which offers them to each local subscriber: a parked sender's socket gets them
//! appended directly (`direct.rs`), any other's queue, and the sender writes them in seq
//! order.
//! Personal events, ephemeral frames (typing, presence diffs) and membership changes take
//! the same road.

use protocol::ids::{RoomId, UserId};
use protocol::{PersonalEvent, ServerFrame, UserView};
use std::sync::Arc;

use super::encode::{self, text};
use super::{Gateway, broker, direct, outbound, room_feeds};
use confab_websocket::FrameText;

/// The two unread notices of one message, and who gets the mention one. Each is shared by
/// every queue it is offered to.
struct UnreadNotices {
    /// `None` for a thread reply: only those it mentions are told.
    plain: Option<Arc<FrameText>>,
    /// `None` when the message mentions no one.
    mention: Option<Arc<FrameText>>,
    everyone: bool,
    mentions: Vec<String>,
}

impl Gateway {
    /// Called by the group commit with each committed batch, in seq order per room: encode
    /// each event once and publish it, so that every node fans it out (and tells members
    /// elsewhere about new messages). On this node the batch is fanned out under one cork:
    /// each subscriber whose sender is parked gets the batch's events for it appended to its
    /// socket, and the flusher writes them (`direct.rs`).
    pub(super) fn on_commit(&self, events: &[&store::Event]) {
        direct::corked(&self.inner.flusher, || {
            for event in events {
                self.publish_event(event);
                self.publish_unread(event);
            }
        });
    }

    /// Announces a stored event again: the retry of a send whose commit was in doubt
    /// found it stored (`WriteOutcome::Duplicate`), and whether it was announced when it
    /// committed is unknown (the store may have failed during the commit). Subscribers
    /// skip what they have by seq; clients count a notice once per seq.
    pub(super) fn announce_again(&self, event: &store::Event) {
        self.publish_event(event);
        if !event.message.deleted {
            self.publish_unread(event);
        }
    }

    /// For a new message, an unread notice for the room's members who are not watching
    /// it (of a thread reply, for those it mentions).
    fn publish_unread(&self, event: &store::Event) {
        // A notice (a member removed) is the room's record, not news for anyone.
        if event.kind == store::EventKind::Message && event.message.notice.is_none() {
            let mentions = protocol::mentions::scan(&event.message.body);
            // A thread reply is news in its thread, not in the room: only those it
            // mentions hear of it.
            let thread = event.message.thread_root.is_some();
            if thread && mentions.is_empty() {
                return;
            }
            self.publish(broker::Envelope::Unread {
                room: event.room_id,
                seq: event.seq,
                author: event.message.author_id,
                thread,
                everyone: mentions.everyone,
                // Only what could be someone's handle travels (`@x` names no one).
                mentions: mentions
                    .handles
                    .into_iter()
                    .filter(|h| protocol::names::Handle::parse(h).is_ok())
                    .collect(),
            });
        }
    }

    /// Encodes a stored event once and publishes it to every node's subscribers.
    pub(super) fn publish_event(&self, event: &store::Event) {
        // The author of a live event is connected, hence cached.
        let author = self
            .users()
            .get(event.message.author_id)
            .map(|author| (*author).clone())
            .unwrap_or_else(|| UserView {
                id: event.message.author_id,
                handle: String::new(),
                name: String::new(),
                avatar: None,
            });
        let frame = text(&encode::event_frame(event, author));
        // A replay shows each message as it is now (docs/protocol.md). An edit, a delete, a
        // reaction, or a reply (which moves its root's thread summary) changes an earlier
        // message, so the earlier events every node holds in memory for resumes would
        // replay it as it was: each node drops them, and the room's ring starts over with
        // this event.
        let amends = event.kind != store::EventKind::Message || event.message.thread_root.is_some();
        self.publish(broker::Envelope::Event {
            room: event.room_id,
            seq: event.seq,
            frame,
            amends,
        });
    }

    pub(super) fn publish(&self, envelope: broker::Envelope) {
        crate::metrics::broker().published(envelope.kind_index());
        self.inner.broker.publish(envelope);
    }

    /// The broker's handler: [`Gateway::deliver`] under a cork, so that a room event from
    /// another node reaches parked senders' sockets directly, as a local commit's does
    /// (`direct.rs`), and the flusher's writes carry every event that arrived meanwhile.
    /// A local publish is already inside its commit's cork, which this one joins.
    pub(super) fn deliver_corked(&self, delivery: broker::Delivery) {
        direct::corked(&self.inner.flusher, || self.deliver(delivery));
    }

    /// Applies one envelope to this node's connections.
    pub(crate) fn deliver(&self, delivery: broker::Delivery) {
        let envelope = delivery.envelope;
        let lag_ms = (broker::now_ms() - delivery.published_at_ms).max(0);
        crate::metrics::broker().received(envelope.kind_index(), lag_ms as f64 / 1000.0);
        match envelope {
            broker::Envelope::Event {
                room,
                seq,
                frame,
                amends,
            } => self.hub().publish_event(room, seq, &frame, amends),
            broker::Envelope::Unread {
                room,
                seq,
                author,
                thread,
                everyone,
                mentions,
            } => self.unread_notices(room, seq, author, thread, everyone, mentions),
            broker::Envelope::Missed { room } => {
                // What arrives here no longer proves the rings complete until the rooms'
                // last seqs are read again (`room_feeds.rs`).
                self.read_floors(match room {
                    Some(room) => self.inner.feeds.confirmed(room).into_iter().collect(),
                    None => self.inner.feeds.lost_all(),
                });
                self.hub().fill(room);
                // Lost envelopes may have been joins or leaves too.
                if room.is_none() {
                    self.recheck_memberships();
                }
            }
            broker::Envelope::Ephemeral { room, frame, skip } => {
                self.hub().publish_ephemeral(room, &frame, skip)
            }
            broker::Envelope::User { user, frame } => self.hub().to_user(user, &frame),
            broker::Envelope::Membership { room, user, joined } => {
                self.inner.members.changed(room, user, joined);
                self.membership_here(room, user, joined);
            }
            broker::Envelope::Person { user } => self.reread_person(user),
        }
    }

    /// Applies a membership change to this node's connections: on a leave, the user's
    /// connections here stop receiving the room at once, and the user leaves its presence
    /// and stops typing there (their sessions, cut off, will not); all of them are told.
    pub(super) fn membership_here(&self, room: RoomId, user: UserId, joined: bool) {
        if !joined {
            if self.hub().unsubscribe_user(room, user) {
                self.last_local_left(room);
            }
            self.presence().remove(room, user);
            self.stop_typing(room, user);
        }
        let frame = ServerFrame::Personal {
            event: PersonalEvent::Membership { room, joined },
        };
        self.hub().to_user(user, &text(&frame));
    }

    /// Tells this node's connections of `room`'s members (except the author) that are not
    /// watching the room that a new message arrived (a mention, for those it calls out);
    /// of a thread reply, only those it mentions.
    fn unread_notices(
        &self,
        room: RoomId,
        seq: protocol::ids::Seq,
        author: UserId,
        thread: bool,
        everyone: bool,
        mentions: Vec<String>,
    ) {
        let notice = |mention| {
            text(&ServerFrame::Personal {
                event: PersonalEvent::Unread { room, seq, mention },
            })
        };
        let notices = UnreadNotices {
            plain: (!thread).then(|| Arc::new(notice(false))),
            mention: (everyone || !mentions.is_empty()).then(|| Arc::new(notice(true))),
            everyone,
            mentions,
        };
        match self.inner.members.get(room) {
            Some(members) => self.send_unread_notices(room, &members, author, &notices),
            None => {
                let gateway = self.clone();
                tokio::spawn(async move {
                    match gateway.inner.members.load(&*gateway.store(), room).await {
                        Ok(members) => {
                            gateway.send_unread_notices(room, &members, author, &notices)
                        }
                        Err(err) => {
                            tracing::warn!(cause = %err, %room, "loading members for unread notices failed")
                        }
                    }
                });
            }
        }
    }

    fn send_unread_notices(
        &self,
        room: RoomId,
        members: &Arc<std::collections::HashSet<UserId>>,
        author: UserId,
        notices: &UnreadNotices,
    ) {
        let users = self.users();
        self.hub()
            .to_members_not_watching(room, members, author, |user| {
                match &notices.mention {
                    // Connected users are in the cache: their handle says if they are named.
                    Some(mention)
                        if notices.everyone
                            || users
                                .get(user)
                                .is_some_and(|u| notices.mentions.contains(&u.handle)) =>
                    {
                        Some(mention)
                    }
                    _ => notices.plain.as_ref(),
                }
            })
    }

    /// Makes `conn` a local subscriber of `room` (the broker follows the room while it has
    /// any).
    pub(super) fn subscribe_local(&self, room: RoomId, conn: &outbound::ConnHandle) {
        if self.hub().subscribe(room, conn) {
            self.inner.feeds.first_local(room, &*self.inner.broker);
        }
    }

    /// Ends connection `conn_id`'s subscription to `room` on this node. False when it had
    /// already ended: a leave or a removal cut the connection off without its session.
    pub(super) fn unsubscribe_local(&self, room: RoomId, conn_id: u64) -> bool {
        let done = self.hub().unsubscribe(room, conn_id);
        if done.room_emptied {
            self.last_local_left(room);
        }
        done.was_subscribed
    }

    /// `room` has no local subscriber left: the broker stops following it after the
    /// grace period, if none has come back by then.
    fn last_local_left(&self, room: RoomId) {
        let Some(token) = self.inner.feeds.last_local(room) else {
            return;
        };
        if self.inner.broker.sees_every_room() {
            // One process follows no channels: nothing to keep.
            let hub = self.hub();
            let has_subscribers = || hub.has_subscribers(room);
            self.inner
                .feeds
                .release_if_idle(room, token, has_subscribers, &*self.inner.broker);
            return;
        }
        // A weak reference: a gateway dropped meanwhile has nothing to release.
        let weak = Arc::downgrade(&self.inner);
        let shutdown = self.inner.shutdown.clone();
        let grace = self.settings().channel_grace();
        self.inner.tasks.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(grace) => {}
                () = shutdown.cancelled() => return,
            }
            let Some(inner) = weak.upgrade() else { return };
            let gateway = Gateway { inner };
            let hub = gateway.hub();
            gateway.inner.feeds.release_if_idle(
                room,
                token,
                || hub.has_subscribers(room),
                &*gateway.inner.broker,
            );
        });
    }

    /// Reads the last seq of each room in `reads` from the Store: the floor above which
    /// this node receives all of the room's events (`room_feeds.rs`). One process sees
    /// every event anyway, and needs none.
    fn read_floors(&self, reads: Vec<room_feeds::FloorRead>) {
        if reads.is_empty() || self.inner.broker.sees_every_room() {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let store = self.store();
        self.inner.tasks.spawn(async move {
            for read in reads {
                // Asked once: without a floor, resumes read the Store, as they may.
                let found = store.room(read.room).await;
                let Some(inner) = weak.upgrade() else { return };
                match found {
                    Ok(Some(room)) => inner.feeds.set_floor(read, room.last_seq),
                    Ok(None) => {}
                    Err(err) => {
                        tracing::debug!(cause = %err, room = %read.room, "reading a room's floor failed")
                    }
                }
            }
        });
    }

    /// Sends `frame` to every connection of `user`, on every node.
    pub(super) fn to_user(&self, user: UserId, frame: &ServerFrame) {
        self.publish(broker::Envelope::User {
            user,
            frame: text(frame),
        });
    }

    /// Records a membership change and tells every node (member caches, `user`'s devices,
    /// and on a leave the end of their subscriptions).
    pub(crate) fn membership_changed(&self, room: RoomId, user: UserId, joined: bool) {
        self.publish(broker::Envelope::Membership { room, user, joined });
    }
}
