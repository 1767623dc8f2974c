//! The end of a connection, as its two tasks tell each other: either may end it (the
//! reader on a close, a silent peer or a shutdown; the sender when the socket fails), and
//! the other notices at once, even in the middle of a blocked write.
//!
//! A pair of handles, one per task, sharing one flag and one waker per side. Waiting is
//! lock-free: the sender polls its end on every wake-up (every delivery), where a
//! `CancellationToken`'s wait took a lock each time, and the pair is one small allocation.

use futures_util::task::AtomicWaker;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

struct Shared {
    ended: AtomicBool,
    /// The task waiting at each end.
    wakers: [AtomicWaker; 2],
}

/// One task's end of a connection. Not `Clone`: each end has one waiting task.
pub struct Ending {
    shared: Arc<Shared>,
    side: usize,
}

impl Ending {
    /// The two ends of a connection that has not ended.
    pub fn pair() -> (Ending, Ending) {
        let shared = Arc::new(Shared {
            ended: AtomicBool::new(false),
            wakers: [AtomicWaker::new(), AtomicWaker::new()],
        });
        (
            Ending {
                shared: shared.clone(),
                side: 0,
            },
            Ending { shared, side: 1 },
        )
    }

    /// Ends the connection (again is harmless) and wakes both ends.
    pub fn end(&self) {
        self.shared.ended.store(true, Ordering::Release);
        for waker in &self.shared.wakers {
            waker.wake();
        }
    }

    /// Whether either end has ended the connection.
    pub fn has_ended(&self) -> bool {
        self.shared.ended.load(Ordering::Acquire)
    }

    /// Completes once either end has ended the connection.
    pub async fn ended(&self) {
        poll_fn(|cx| {
            if self.has_ended() {
                return Poll::Ready(());
            }
            self.shared.wakers[self.side].register(cx.waker());
            // Again after registering: an end in between woke no one.
            if self.has_ended() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn either_end_wakes_the_other() {
        for ender in 0..2 {
            let (a, b) = Ending::pair();
            let (waiter, ending) = if ender == 0 { (b, a) } else { (a, b) };
            let waiting = tokio::spawn(async move { waiter.ended().await });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!ending.has_ended());
            ending.end();
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("the other end was woken")
                .unwrap();
            assert!(ending.has_ended());
        }
    }

    #[tokio::test]
    async fn an_end_before_the_wait_is_seen_at_once() {
        let (a, b) = Ending::pair();
        a.end();
        a.end();
        b.ended().await;
        a.ended().await;
    }
}
