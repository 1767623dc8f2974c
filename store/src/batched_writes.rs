//! Small writes that many callers make at once, applied in one transaction.
//!
//! A room of thousands filling up within seconds (an all-hands starting) joins each
//! member with a write. One transaction per join put them all in a row on SQLite's one
//! writer, an fsync each, in front of every new connection. Here a write joins a queue;
//! whenever the previous transaction has ended, a task takes everything waiting (up to
//! [`MAX_BATCH`]) and applies it in one transaction with one commit, then answers each
//! caller with its own outcome, in the order they were asked. When the database keeps
//! up, a write goes alone, at once; when it does not, the writes that pile up meanwhile
//! share the next commit.
//!
//! A request is refused on its own (a private room, a ban) without failing the others.
//! If the transaction itself fails (a constraint, the database), every request of it is
//! applied again alone, so a request that cannot be written fails alone and the rest are
//! written; when the database is down, each then fails as it would have alone.

use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

use crate::{StoreError, StoreResult};

/// Requests applied in one transaction at most.
pub const MAX_BATCH: usize = 256;

/// Applies the requests in one transaction: `Ok` with each request's own outcome, in
/// order, once committed; `Err` if the transaction failed and nothing was written.
pub type Apply<R, O> = Box<
    dyn Fn(Vec<R>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<StoreResult<O>>>> + Send>>
        + Send
        + Sync,
>;

type Reply<O> = oneshot::Sender<StoreResult<O>>;

/// The handle writes are asked through. Dropping every handle ends the task once the
/// transaction under way is answered.
pub struct BatchedWrites<R, O> {
    tx: mpsc::UnboundedSender<(R, Reply<O>)>,
}

impl<R, O> Clone for BatchedWrites<R, O> {
    fn clone(&self) -> Self {
        BatchedWrites {
            tx: self.tx.clone(),
        }
    }
}

impl<R, O> BatchedWrites<R, O>
where
    R: Clone + Send + 'static,
    O: Send + 'static,
{
    /// Starts the task on the current runtime.
    pub fn start(apply: Apply<R, O>) -> BatchedWrites<R, O> {
        BatchedWrites::with_limit(apply, MAX_BATCH)
    }

    fn with_limit(apply: Apply<R, O>, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(rx, apply, max_batch));
        BatchedWrites { tx }
    }

    /// Applies `request` in a transaction that began after this call, and returns its
    /// outcome once that transaction has committed (or failed).
    pub async fn apply(&self, request: R) -> StoreResult<O> {
        let (reply, answer) = oneshot::channel();
        if self.tx.send((request, reply)).is_err() {
            return Err(gone());
        }
        // A closed answer: the runtime that ran the transaction went away with it.
        answer.await.unwrap_or_else(|_| Err(gone()))
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn serve<R, O>(mut rx: mpsc::UnboundedReceiver<(R, Reply<O>)>, apply: Apply<R, O>, max: usize)
where
    R: Clone + Send + 'static,
    O: Send + 'static,
{
    // One transaction at a time: while it runs, the next batch gathers in the channel.
    while let Some(first) = rx.recv().await {
        let mut replies = vec![first.1];
        let mut requests = vec![first.0];
        while requests.len() < max {
            let Ok((request, reply)) = rx.try_recv() else {
                break;
            };
            requests.push(request);
            replies.push(reply);
        }
        let outcomes = match apply(requests.clone()).await {
            Ok(outcomes) if outcomes.len() == requests.len() => outcomes,
            Ok(_) => (0..requests.len()).map(|_| Err(miscounted())).collect(),
            Err(err) if requests.len() == 1 => vec![Err(err)],
            Err(_) => one_by_one(&apply, requests).await,
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Each request in a transaction of its own, after their shared one failed.
async fn one_by_one<R, O>(apply: &Apply<R, O>, requests: Vec<R>) -> Vec<StoreResult<O>> {
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        let outcome = match apply(vec![request]).await {
            Ok(mut alone) if alone.len() == 1 => alone.pop().expect("one outcome"),
            Ok(_) => Err(miscounted()),
            Err(err) => Err(err),
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// An [`Apply`] that broke its contract: not one outcome per request.
fn miscounted() -> StoreError {
    StoreError::Corrupt("a batch of writes answered a different number of requests".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// The requests of each transaction, in order.
    type Transactions = Arc<Mutex<Vec<Vec<i32>>>>;

    /// Doubles each request; a negative one is refused on its own; a transaction holding
    /// 1000 fails as a whole (a constraint). Each transaction takes `delay`.
    fn doubler(delay: Duration) -> (Apply<i32, i32>, Transactions) {
        let seen: Transactions = Arc::default();
        let log = seen.clone();
        let apply: Apply<i32, i32> = Box::new(move |requests: Vec<i32>| {
            log.lock().unwrap().push(requests.clone());
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                if requests.contains(&1000) {
                    return Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut));
                }
                Ok(requests
                    .into_iter()
                    .map(|r| {
                        if r < 0 {
                            Err(StoreError::Forbidden { reason: "negative" })
                        } else {
                            Ok(r * 2)
                        }
                    })
                    .collect())
            })
        });
        (apply, seen)
    }

    #[tokio::test]
    async fn a_lone_write_goes_at_once_in_its_own_transaction() {
        let (apply, seen) = doubler(Duration::ZERO);
        let writes = BatchedWrites::start(apply);
        assert_eq!(writes.apply(4).await.unwrap(), 8);
        assert!(matches!(
            writes.apply(-1).await,
            Err(StoreError::Forbidden { reason: "negative" })
        ));
        assert_eq!(*seen.lock().unwrap(), vec![vec![4], vec![-1]]);
    }

    #[tokio::test]
    async fn writes_waiting_for_a_transaction_share_the_next_one_and_get_their_own_outcome() {
        let (apply, seen) = doubler(Duration::from_millis(50));
        let writes = BatchedWrites::with_limit(apply, 100);
        let asks: Vec<_> = (0..40)
            .map(|i| {
                let writes = writes.clone();
                let request = if i % 10 == 9 { -i } else { i };
                tokio::spawn(async move { (request, writes.apply(request).await) })
            })
            .collect();
        for ask in asks {
            let (request, outcome) = ask.await.unwrap();
            if request < 0 {
                assert!(
                    matches!(outcome, Err(StoreError::Forbidden { .. })),
                    "{request}"
                );
            } else {
                assert_eq!(outcome.unwrap(), request * 2);
            }
        }
        let transactions = seen.lock().unwrap();
        assert!(
            transactions.len() <= 3,
            "40 writes asked at once share a few transactions: {transactions:?}"
        );
        let mut all: Vec<i32> = transactions.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all.len(), 40, "each write applied once: {transactions:?}");
    }

    #[tokio::test]
    async fn a_transaction_holds_at_most_the_limit() {
        let (apply, seen) = doubler(Duration::from_millis(20));
        let writes = BatchedWrites::with_limit(apply, 8);
        let asks: Vec<_> = (0..30)
            .map(|i| {
                let writes = writes.clone();
                tokio::spawn(async move { writes.apply(i).await.unwrap() })
            })
            .collect();
        for ask in asks {
            ask.await.unwrap();
        }
        assert!(seen.lock().unwrap().iter().all(|t| t.len() <= 8));
    }

    #[tokio::test]
    async fn a_failed_transaction_is_applied_again_one_by_one_so_the_bad_write_fails_alone() {
        let (apply, seen) = doubler(Duration::from_millis(30));
        let writes = BatchedWrites::with_limit(apply, 100);
        // The first write holds the task while the others gather behind it.
        let first = {
            let writes = writes.clone();
            tokio::spawn(async move { writes.apply(1).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let asks: Vec<_> = [2, 1000, 3]
            .into_iter()
            .map(|i| {
                let writes = writes.clone();
                tokio::spawn(async move { (i, writes.apply(i).await) })
            })
            .collect();
        assert_eq!(first.await.unwrap().unwrap(), 2);
        for ask in asks {
            let (request, outcome) = ask.await.unwrap();
            if request == 1000 {
                assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
            } else {
                assert_eq!(outcome.unwrap(), request * 2);
            }
        }
        assert_eq!(
            *seen.lock().unwrap(),
            vec![vec![1], vec![2, 1000, 3], vec![2], vec![1000], vec![3]]
        );
    }

    #[tokio::test]
    async fn a_write_asked_after_the_task_ended_is_refused() {
        let (apply, _) = doubler(Duration::ZERO);
        let (tx, rx) = mpsc::unbounded_channel::<(i32, Reply<i32>)>();
        drop(rx);
        let writes = BatchedWrites { tx };
        drop(apply);
        assert!(matches!(
            writes.apply(1).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}
