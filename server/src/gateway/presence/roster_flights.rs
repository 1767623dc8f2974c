//! One roster read per room at a time on a cluster, shared by everyone who asked before it
//! began.
//!
//! On a cluster a room's roster is read from Redis (a hash of every device present), so it
//! cannot be cached the way [`super::roster_cache`] caches a single process's: other nodes'
//! changes do not pass through this node. A reconnect storm still subscribes every member
//! of a room within a second or two, and reading the whole hash once per subscriber makes
//! the reads queue behind each other on the node's one Redis connection until they time
//! out. So reads of one room are taken in turn, and a read is shared: whoever asked before
//! it began takes its answer, since it shows a state no older than their asking; whoever
//! asked while it ran waits for the next one. A room has at most one read running and one
//! waiting, however many subscribe at once.
//!
//! A caller that gives up (its connection closed) gives up its turn; the next one reads.

use confab_websocket::FrameText;
use protocol::ids::RoomId;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The last read of a room: when it began, for how many users, and what it read.
type LastRead = Option<(u64, usize, FrameText)>;

/// The rooms being read, or read recently, with their last answer.
#[derive(Default)]
pub struct RosterFlights {
    rooms: Mutex<HashMap<RoomId, Arc<tokio::sync::Mutex<LastRead>>>>,
    /// Orders askings and the beginnings of reads.
    clock: AtomicU64,
}

impl RosterFlights {
    /// `room`'s roster of up to `max` users: the answer of a read that began after this
    /// call, made by `read` unless another caller's read serves.
    pub async fn read<F, Fut>(&self, room: RoomId, max: usize, read: F) -> FrameText
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = FrameText>,
    {
        let asked = self.clock.fetch_add(1, Ordering::SeqCst);
        let turn = self
            .rooms
            .lock()
            .expect("roster flights lock")
            .entry(room)
            .or_default()
            .clone();
        // Tokio's mutex serves waiters in the order they came.
        let mut last = turn.lock().await;
        if let Some((began, listed, text)) = &*last
            && *began > asked
            && *listed == max
        {
            return text.clone();
        }
        let began = self.clock.fetch_add(1, Ordering::SeqCst);
        let text = read().await;
        *last = Some((began, max, text.clone()));
        text
    }

    /// Forgets the rooms nobody is reading: their last answer can serve no one who asks
    /// from now on.
    pub fn sweep(&self) {
        self.rooms
            .lock()
            .expect("roster flights lock")
            .retain(|_, turn| Arc::strong_count(turn) > 1);
    }

    /// How many rooms are remembered.
    #[cfg(test)]
    fn rooms(&self) -> usize {
        self.rooms.lock().expect("roster flights lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::oneshot;
    use uuid::Uuid;

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(n))
    }

    /// A read that counts itself and answers with its number.
    async fn counted(reads: &AtomicUsize) -> FrameText {
        let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::task::yield_now().await;
        FrameText::from(format!("read {n}"))
    }

    /// A task asking for room 1's roster of up to `max`, with a counted read.
    fn spawn_read(
        flights: &Arc<RosterFlights>,
        reads: &Arc<AtomicUsize>,
        max: usize,
    ) -> tokio::task::JoinHandle<FrameText> {
        let (flights, reads) = (flights.clone(), reads.clone());
        tokio::spawn(async move {
            flights
                .read(room(1), max, || async move { counted(&reads).await })
                .await
        })
    }

    /// Starts a counted read of room 1 that begins at once and finishes when released.
    async fn held_read(
        flights: &Arc<RosterFlights>,
        reads: &Arc<AtomicUsize>,
    ) -> (oneshot::Sender<()>, tokio::task::JoinHandle<FrameText>) {
        let (release, held) = oneshot::channel::<()>();
        let (flights, reads) = (flights.clone(), reads.clone());
        let first = tokio::spawn(async move {
            flights
                .read(room(1), 50, || async move {
                    held.await.unwrap();
                    counted(&reads).await
                })
                .await
        });
        tokio::task::yield_now().await;
        (release, first)
    }

    #[tokio::test]
    async fn callers_who_asked_before_a_read_began_share_it() {
        let flights = Arc::new(RosterFlights::default());
        let reads = Arc::new(AtomicUsize::new(0));
        // The first read is held until everyone else has asked.
        let (release, first) = held_read(&flights, &reads).await;
        let waiting: Vec<_> = (0..100).map(|_| spawn_read(&flights, &reads, 50)).collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap().as_str(), "read 1");
        for caller in waiting {
            assert_eq!(
                caller.await.unwrap().as_str(),
                "read 2",
                "everyone who asked while the first read ran shares the second"
            );
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_caller_never_gets_a_read_that_began_before_it_asked() {
        let flights = RosterFlights::default();
        let reads = AtomicUsize::new(0);
        let a = flights.read(room(1), 50, || counted(&reads)).await;
        let b = flights.read(room(1), 50, || counted(&reads)).await;
        assert_eq!(a.as_str(), "read 1");
        assert_eq!(b.as_str(), "read 2", "the first read was over when b asked");
    }

    #[tokio::test]
    async fn rooms_and_list_lengths_do_not_share_reads() {
        let flights = Arc::new(RosterFlights::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (release, first) = held_read(&flights, &reads).await;
        let other_room = flights.read(room(2), 50, || counted(&reads)).await;
        assert_eq!(other_room.as_str(), "read 1", "another room is not held up");
        // Both ask while the first read runs, one for a longer list.
        let callers: Vec<_> = [50, 80]
            .into_iter()
            .map(|max| spawn_read(&flights, &reads, max))
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        first.await.unwrap();
        let mut answers = Vec::new();
        for caller in callers {
            answers.push(caller.await.unwrap().as_str().to_owned());
        }
        assert_eq!(
            answers,
            ["read 3", "read 4"],
            "each list is read for itself"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_passes_its_turn_on() {
        let flights = Arc::new(RosterFlights::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let abandoned = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .read(room(1), 50, std::future::pending::<FrameText>)
                    .await
            })
        };
        tokio::task::yield_now().await;
        abandoned.abort();
        let _ = abandoned.await;
        let text = flights.read(room(1), 50, || counted(&reads)).await;
        assert_eq!(text.as_str(), "read 1");
    }

    #[tokio::test]
    async fn rooms_nobody_is_reading_are_forgotten() {
        let flights = RosterFlights::default();
        let reads = AtomicUsize::new(0);
        flights.read(room(1), 50, || counted(&reads)).await;
        flights.read(room(2), 50, || counted(&reads)).await;
        assert_eq!(flights.rooms(), 2);
        flights.sweep();
        assert_eq!(flights.rooms(), 0);
    }
}
