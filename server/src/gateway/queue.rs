//! A connection's outgoing queue: bounded, many producers (the hub, the connection's
//! reader, presence and typing), one consumer (the connection's sender).
//!
//! Built for what an idle connection costs. Everything the queue owns is one small
//! allocation shared by its ends: a `VecDeque` behind a mutex that allocates nothing until
//! an item is pushed, and gives back a buffer a burst grew once it has drained
//! (tokio's `mpsc` allocates its first block of 32 slots and its channel state up front,
//! about 1 KiB per connection). Pushing never waits: a full queue refuses the item and the
//! caller decides (mark the room lagging, drop an ephemeral frame, close a slow consumer;
//! `outbound.rs`).
//!
//! The consumer's `recv` ends with `None` once every producer is gone and the queue is
//! empty; once the consumer is gone, pushes are refused and what was queued is freed.
//!
//! The queue also knows when its consumer is *parked*: waiting in `recv` on an empty
//! queue, from the moment it found nothing until it takes its next item. A producer may
//! then act in the consumer's place under the queue's lock ([`QueueTx::when_parked`]):
//! anything pushed meanwhile waits behind it, and the consumer takes nothing until it is
//! done. The gateway's fan-out writes to an idle connection's socket that way
//! (`direct.rs`).

use futures_util::task::AtomicWaker;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

/// A drained queue keeps a buffer up to this many items; a larger one (a burst, a replay)
/// is released, so an idle connection holds at most this much.
const KEEP_ITEMS: usize = 4;

struct Inner<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    /// Live producers ([`QueueTx`] clones).
    producers: AtomicUsize,
    /// The consumer was dropped.
    consumer_gone: AtomicBool,
    /// The consumer waits on an empty queue. Written and read only under `items`' lock.
    parked: AtomicBool,
    /// The consumer's task while it waits for an item.
    waker: AtomicWaker,
}

impl<T> Inner<T> {
    fn items(&self) -> MutexGuard<'_, VecDeque<T>> {
        // A panic while holding this lock leaves a well-formed `VecDeque`.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A bounded queue of at most `capacity` items.
pub fn queue<T>(capacity: usize) -> (QueueTx<T>, QueueRx<T>) {
    let inner = Arc::new(Inner {
        items: Mutex::new(VecDeque::new()),
        capacity,
        producers: AtomicUsize::new(1),
        consumer_gone: AtomicBool::new(false),
        parked: AtomicBool::new(false),
        waker: AtomicWaker::new(),
    });
    (
        QueueTx {
            inner: inner.clone(),
        },
        QueueRx { inner },
    )
}

/// The producing end; clone it for each producer.
pub struct QueueTx<T> {
    inner: Arc<Inner<T>>,
}

impl<T> QueueTx<T> {
    /// Queues `item`, or gives it back when the queue is full or its consumer is gone.
    pub fn try_send(&self, item: T) -> Result<(), T> {
        self.try_send_keeping(item, 0)
    }

    /// Queues `item` only if `keep` slots stay free after it; gives it back otherwise, or
    /// when the consumer is gone.
    pub fn try_send_keeping(&self, item: T, keep: usize) -> Result<(), T> {
        {
            let mut items = self.inner.items();
            if items.len() + keep >= self.inner.capacity
                || self.inner.consumer_gone.load(Ordering::Acquire)
            {
                return Err(item);
            }
            items.push_back(item);
        }
        self.inner.waker.wake();
        Ok(())
    }

    /// Runs `act` in the consumer's place if it is parked on an empty queue (and still
    /// there), holding the queue's lock throughout: nothing is pushed or taken meanwhile.
    /// `None` when the consumer is busy or gone.
    pub fn when_parked<R>(&self, act: impl FnOnce() -> R) -> Option<R> {
        let items = self.inner.items();
        let parked = self.inner.parked.load(Ordering::Relaxed)
            && items.is_empty()
            && !self.inner.consumer_gone.load(Ordering::Acquire);
        let done = parked.then(act);
        drop(items);
        done
    }
}

impl<T> Clone for QueueTx<T> {
    fn clone(&self) -> Self {
        self.inner.producers.fetch_add(1, Ordering::Relaxed);
        QueueTx {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Drop for QueueTx<T> {
    fn drop(&mut self) {
        if self.inner.producers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last producer: a waiting consumer must see the end.
            self.inner.waker.wake();
        }
    }
}

impl<T> std::fmt::Debug for QueueTx<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueTx").finish_non_exhaustive()
    }
}

/// The consuming end.
pub struct QueueRx<T> {
    inner: Arc<Inner<T>>,
}

/// [`QueueRx::try_recv`] found nothing queued.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Empty;

impl<T> QueueRx<T> {
    /// The oldest item; `None` once the queue is empty and every producer is gone.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            if let Some(item) = self.pop() {
                return Poll::Ready(Some(item));
            }
            self.inner.waker.register(cx.waker());
            // Again after registering: a push in between woke no one. Finding nothing, the
            // consumer parks (in the same hold of the lock).
            if let Some(item) = self.pop_or_park() {
                return Poll::Ready(Some(item));
            }
            if self.inner.producers.load(Ordering::Acquire) == 0 {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }

    /// The oldest item, if one is queued.
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Result<T, Empty> {
        self.pop().ok_or(Empty)
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.inner.items().is_empty()
    }

    fn pop(&self) -> Option<T> {
        let mut items = self.inner.items();
        Self::take(&self.inner, &mut items)
    }

    /// The oldest item; finding none, marks the consumer parked.
    fn pop_or_park(&self) -> Option<T> {
        let mut items = self.inner.items();
        let item = Self::take(&self.inner, &mut items);
        if item.is_none() {
            self.inner.parked.store(true, Ordering::Relaxed);
        }
        item
    }

    /// Takes the oldest item under the lock; taking one unparks the consumer.
    fn take(inner: &Inner<T>, items: &mut VecDeque<T>) -> Option<T> {
        let item = items.pop_front();
        if item.is_some() {
            inner.parked.store(false, Ordering::Relaxed);
        }
        if items.is_empty() && items.capacity() > KEEP_ITEMS {
            *items = VecDeque::new();
        }
        item
    }
}

impl<T> Drop for QueueRx<T> {
    fn drop(&mut self) {
        self.inner.consumer_gone.store(true, Ordering::Release);
        // Items may hold large frames: free them now, not when the last producer goes.
        let items = std::mem::take(&mut *self.inner.items());
        drop(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn items_come_out_in_order_and_the_bound_refuses() {
        let (tx, mut rx) = queue(3);
        for i in 0..3 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(tx.try_send(9), Err(9));
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(
            tx.try_send_keeping(3, 1),
            Err(3),
            "one slot free, one to keep"
        );
        tx.try_send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Err(Empty));
        assert!(rx.is_empty());
    }

    #[tokio::test]
    async fn recv_ends_after_the_last_producer_and_what_it_queued() {
        let (tx, mut rx) = queue(8);
        let other = tx.clone();
        tx.try_send(1).unwrap();
        drop(tx);
        other.try_send(2).unwrap();
        drop(other);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes_for_a_push_and_for_the_end() {
        let (tx, mut rx) = queue(8);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            let end = rx.recv().await;
            (first, end)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.try_send(7).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(tx);
        let got = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the consumer was woken")
            .unwrap();
        assert_eq!(got, (Some(7), None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_producers_on_threads_lose_nothing() {
        let (tx, mut rx) = queue::<(usize, usize)>(64);
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut next = 0;
                    while next < 2_000 {
                        if tx.try_send((p, next)).is_ok() {
                            next += 1;
                        } else {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut last = [None::<usize>; 4];
        let mut count = 0;
        while let Some((p, i)) = rx.recv().await {
            assert_eq!(last[p].map_or(0, |l| l + 1), i, "producer {p} in order");
            last[p] = Some(i);
            count += 1;
        }
        for producer in producers {
            producer.join().unwrap();
        }
        assert_eq!(count, 8_000);
    }

    #[test]
    fn a_gone_consumer_refuses_pushes_and_frees_what_was_queued() {
        let (tx, rx) = queue(4);
        let held = Arc::new(());
        tx.try_send(held.clone()).unwrap();
        drop(rx);
        assert_eq!(Arc::strong_count(&held), 1, "the queued item was freed");
        assert!(tx.try_send(held.clone()).is_err());
    }

    #[tokio::test]
    async fn a_producer_acts_for_the_consumer_only_while_it_is_parked() {
        let (tx, mut rx) = queue::<u32>(8);
        assert_eq!(
            tx.when_parked(|| ()),
            None,
            "not parked before it first waits"
        );
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            (first, rx)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(tx.when_parked(|| 5), Some(5), "parked on an empty queue");
        tx.try_send(1).unwrap();
        assert_eq!(tx.when_parked(|| ()), None, "an item waits: not empty");
        let (first, rx) = waiting.await.unwrap();
        assert_eq!(first, Some(1));
        assert_eq!(tx.when_parked(|| ()), None, "taking an item unparks");
        drop(rx);
        assert_eq!(tx.when_parked(|| ()), None, "a gone consumer is not parked");
    }

    #[test]
    fn a_drained_burst_gives_its_buffer_back() {
        let (tx, mut rx) = queue(1_000);
        for i in 0..500 {
            tx.try_send(i).unwrap();
        }
        while rx.try_recv().is_ok() {}
        assert!(rx.inner.items().capacity() <= KEEP_ITEMS);
        assert_eq!(
            queue::<u8>(1_000).1.inner.items().capacity(),
            0,
            "nothing up front"
        );
    }
}
