//! Catching a connection up on a room: a resume from the client's seq, a fill of the gap
//! before an event the queue skipped, or a snapshot page when the gap is past the resume
//! bound (see the parent module's doc). These are the sender's only Store reads; each is
//! boxed by its caller, so its state exists only while it runs.

use protocol::ids::{RoomId, Seq};
use protocol::{CloseCode, ServerFrame, SnapshotReason};

use super::{REPLAY_PAGE, SNAPSHOT_PAGE, Sender, Stop};
use crate::gateway::encode::{event_frame, message_view, text};
use crate::gateway::store_retry::read_retrying;
use crate::gateway::transport::Transport;

impl<S: Transport> Sender<'_, S> {
    /// Starts delivering `room` after `since` (replay), or from a snapshot.
    ///
    /// A `since` at or below the seq this node last published for the room is known to
    /// be valid without asking the Store for the room's last seq (a reconnect storm makes
    /// thousands of these at once); otherwise the Store says.
    pub(super) async fn resume(&mut self, room: RoomId, since: Option<Seq>) -> Result<(), Stop> {
        let bound = self.gateway.settings().resume_max_events;
        if let (Some(since), Some(seen)) = (since, self.gateway.hub().seen_seq(room))
            && since <= seen
            && seen - since <= bound
        {
            // `fill` still turns to a snapshot if the Store holds more than the bound.
            metrics::counter!("confab_resumes_total", "outcome" => "delta").increment(1);
            self.set_cursor(room, since);
            return self.fill(room).await;
        }
        let store = self.gateway.store();
        let last = match read_retrying(|| store.room(room)).await {
            Ok(Some(r)) => r.last_seq,
            Ok(None) => return Ok(()),
            Err(err) => return self.store_failed(err).await,
        };
        match since {
            Some(since) if since <= last && last - since <= bound => {
                metrics::counter!("confab_resumes_total", "outcome" => "delta").increment(1);
                self.set_cursor(room, since);
                self.fill(room).await
            }
            _ => {
                if since.is_some() {
                    metrics::counter!("confab_resumes_total", "outcome" => "snapshot").increment(1);
                }
                let reason = if since.is_none() {
                    SnapshotReason::Initial
                } else {
                    SnapshotReason::GapTooLarge
                };
                self.snapshot(room, last, reason).await
            }
        }
    }

    /// Sends the latest page of `room` and delivers live events after `last`.
    async fn snapshot(
        &mut self,
        room: RoomId,
        last: Seq,
        reason: SnapshotReason,
    ) -> Result<(), Stop> {
        let store = self.gateway.store();
        let page = match read_retrying(|| store.latest(room, SNAPSHOT_PAGE)).await {
            Ok(p) => p,
            Err(err) => return self.store_failed(err).await,
        };
        let mut messages = Vec::with_capacity(page.messages.len());
        for m in &page.messages {
            let users = self.gateway.users();
            match read_retrying(|| users.load(&*store, m.author_id)).await {
                Ok(author) => messages.push(message_view(m, author)),
                Err(err) => return self.store_failed(err).await,
            }
        }
        let frame = ServerFrame::Snapshot {
            room,
            reason,
            last_seq: last,
            messages,
            has_more: page.has_more,
        };
        self.write_at(text(&frame), Some(last)).await?;
        self.set_cursor(room, last);
        // Anything committed between reading `last` and now arrives live or is filled.
        Ok(())
    }

    /// Delivers every stored event of `room` after its cursor: from the node's recent
    /// events where they reach back far enough, from the Store before that.
    pub(super) async fn fill(&mut self, room: RoomId) -> Result<(), Stop> {
        let store = self.gateway.store();
        let bound = self.gateway.settings().resume_max_events;
        let mut replayed: u64 = 0;
        loop {
            let Some(cursor) = self.cursor(room) else {
                return Ok(());
            };
            if let Some(recent) = self.gateway.recent_after(room, cursor) {
                if replayed + recent.len() as u64 > bound {
                    let last = recent.last().map_or(cursor, |e| e.seq);
                    return self.snapshot(room, last, SnapshotReason::GapTooLarge).await;
                }
                self.gateway.count_fill(true);
                for event in recent {
                    self.write_at(event.text.clone(), Some(event.seq)).await?;
                    self.set_cursor(room, event.seq);
                }
                return Ok(());
            }
            self.gateway.count_fill(false);
            let events = match read_retrying(|| store.events_after(room, cursor, REPLAY_PAGE)).await
            {
                Ok(e) => e,
                Err(err) => return self.store_failed(err).await,
            };
            let n = events.len();
            if replayed + n as u64 > bound {
                // Too far behind to replay event by event: start over from a snapshot.
                let last = match read_retrying(|| store.room(room)).await {
                    Ok(Some(r)) => r.last_seq,
                    Ok(None) => return Ok(()),
                    Err(err) => return self.store_failed(err).await,
                };
                return self.snapshot(room, last, SnapshotReason::GapTooLarge).await;
            }
            for event in events {
                let users = self.gateway.users();
                let author =
                    match read_retrying(|| users.load(&*store, event.message.author_id)).await {
                        Ok(a) => a,
                        Err(err) => return self.store_failed(err).await,
                    };
                self.write_at(text(&event_frame(&event, author)), Some(event.seq))
                    .await?;
                self.set_cursor(room, event.seq);
            }
            replayed += n as u64;
            if n < REPLAY_PAGE as usize {
                return Ok(());
            }
        }
    }

    /// The Store failed mid-delivery, for longer than reads are retried
    /// ([`read_retrying`]) or for good: the client must resume later; close with 1011.
    async fn store_failed(&mut self, err: store::StoreError) -> Result<(), Stop> {
        tracing::warn!(cause = %err, "store failed while delivering; closing with 1011");
        self.send_close(CloseCode::InternalError).await;
        Err(Stop::Closed)
    }
}
