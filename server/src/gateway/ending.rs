//! The end of a connection, as its reader and its sender tell each other: either may end
//! it (the reader on a close; the sender when the socket fails), and the other notices at
//! once, even in the middle of a blocked write. The rest of the gateway may *ask* the
//! reader to close it with a code (a silent peer, a shutdown): only the reader is woken,
//! so the sender is still there to write the close frame.
//!
//! The state ([`End`]) lives in the connection's shared state (`outbound::Shared`), which
//! the hub already holds: asking a connection to close needs no task or timer of its own,
//! and an idle connection keeps no allocation for it. Waiting is lock-free: the sender
//! polls its end on every wake-up (every delivery).

use futures_util::task::AtomicWaker;
use protocol::CloseCode;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::task::Poll;

use super::outbound::{ConnHandle, Shared};

/// The side of the reader; the sender's is the other one.
const READER: usize = 0;
const SENDER: usize = 1;

/// Whether a connection has ended or been asked to close, and the task waiting at each
/// side.
#[derive(Debug, Default)]
pub struct End {
    ended: AtomicBool,
    /// The close asked of the reader, as its code; 0 while none is.
    asked: AtomicU16,
    wakers: [AtomicWaker; 2],
}

impl End {
    /// Asks the reader to close the connection with `code` (the first ask wins). The
    /// sender is not told: it writes the close frame the reader queues.
    pub fn ask_close(&self, code: CloseCode) {
        let _ = self
            .asked
            .compare_exchange(0, code.code(), Ordering::AcqRel, Ordering::Acquire);
        self.wakers[READER].wake();
    }

    fn asked(&self) -> Option<CloseCode> {
        match self.asked.load(Ordering::Acquire) {
            0 => None,
            code => CloseCode::from_code(code),
        }
    }
}

/// What the reader's wait on its end found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The sender ended the connection: no close frame can be written.
    Gone,
    /// The reader is asked to close it with this code.
    Close(CloseCode),
}

/// One side's end of a connection. Not `Clone`: each side has one waiting task.
pub struct Ending {
    conn: Arc<Shared>,
    side: usize,
}

impl Ending {
    /// The reader's and the sender's ends of `conn`, which has not ended.
    pub fn pair(conn: &ConnHandle) -> (Ending, Ending) {
        (
            Ending {
                conn: conn.shared.clone(),
                side: READER,
            },
            Ending {
                conn: conn.shared.clone(),
                side: SENDER,
            },
        )
    }

    fn end_state(&self) -> &End {
        &self.conn.end
    }

    /// Ends the connection (again is harmless) and wakes both sides.
    pub fn end(&self) {
        let end = self.end_state();
        end.ended.store(true, Ordering::Release);
        for waker in &end.wakers {
            waker.wake();
        }
    }

    /// Whether either side has ended the connection.
    #[cfg(test)]
    pub fn has_ended(&self) -> bool {
        self.end_state().ended.load(Ordering::Acquire)
    }

    /// Completes once either side has ended the connection.
    pub async fn ended(&self) {
        self.wait(|end| end.ended.load(Ordering::Acquire).then_some(()))
            .await
    }

    /// For the reader: completes once the connection has ended, or a close is asked of it.
    pub async fn ended_or_asked(&self) -> Ended {
        self.wait(|end| {
            if end.ended.load(Ordering::Acquire) {
                Some(Ended::Gone)
            } else {
                end.asked().map(Ended::Close)
            }
        })
        .await
    }

    async fn wait<T>(&self, done: impl Fn(&End) -> Option<T>) -> T {
        poll_fn(|cx| {
            let end = self.end_state();
            if let Some(found) = done(end) {
                return Poll::Ready(found);
            }
            end.wakers[self.side].register(cx.waker());
            // Again after registering: an end in between woke no one.
            match done(end) {
                Some(found) => Poll::Ready(found),
                None => Poll::Pending,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::UserId;
    use std::time::Duration;

    fn conn() -> ConnHandle {
        ConnHandle::new(1, UserId(uuid::Uuid::from_u128(1)), 64, Default::default()).0
    }

    #[tokio::test]
    async fn either_end_wakes_the_other() {
        for ender in 0..2 {
            let (a, b) = Ending::pair(&conn());
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
        let (a, b) = Ending::pair(&conn());
        a.end();
        a.end();
        b.ended().await;
        a.ended().await;
        assert_eq!(a.ended_or_asked().await, Ended::Gone);
    }

    #[tokio::test]
    async fn an_asked_close_wakes_the_reader_alone_and_the_first_code_wins() {
        let conn = conn();
        let (reader, sender) = Ending::pair(&conn);
        let waiting = tokio::spawn(async move { reader.ended_or_asked().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        conn.shared.end.ask_close(CloseCode::HeartbeatTimeout);
        conn.shared.end.ask_close(CloseCode::ServiceRestart);
        let found = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the reader was woken")
            .unwrap();
        assert_eq!(found, Ended::Close(CloseCode::HeartbeatTimeout));
        assert!(!sender.has_ended(), "the sender still writes the close");
        let sender_wait = tokio::time::timeout(Duration::from_millis(50), sender.ended()).await;
        assert!(sender_wait.is_err(), "the sender was not told");
    }
}
