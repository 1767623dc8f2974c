//! Point reads that many callers make at once, asked of the database in one query.
//!
//! A reconnect storm authenticates thousands of connections within a second or two, and
//! each authentication reads a row (a token, or a session and its user). One query per
//! connection made the pool the storm's bottleneck: every lookup waited its turn for one
//! of a few connections, then paid a round trip for one row. Here a lookup joins a queue;
//! a task takes everything waiting (up to [`MAX_BATCH`] keys) into one `… in (…)` query
//! whenever one of its [`IN_FLIGHT`] query slots is free, and answers each caller from the
//! rows. When the database keeps up, a lookup goes alone, at once; when it does not, the
//! lookups that pile up meanwhile share the next query, so the number of queries follows
//! the database's pace rather than the callers'.
//!
//! Nothing is cached: every lookup is answered by a query that began after it was asked,
//! so a revoked token or a deleted session is refused from the moment that change commits,
//! exactly as with one query per lookup.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{StoreError, StoreResult};

/// Keys asked in one query at most.
pub const MAX_BATCH: usize = 256;

/// Queries of one kind running at once at most (the read pools have 8 and 16 connections).
pub const IN_FLIGHT: usize = 4;

/// Reads the rows of the given keys: every key found, with its value; keys not found are
/// left out.
pub type Lookup<K, V> = Box<
    dyn Fn(Vec<K>) -> Pin<Box<dyn Future<Output = StoreResult<Vec<(K, V)>>> + Send>> + Send + Sync,
>;

type Reply<V> = oneshot::Sender<Result<Option<V>, Arc<StoreError>>>;

/// The handle lookups are asked through. Dropping every handle ends the task once the
/// queries under way are answered.
pub struct BatchedReads<K, V> {
    tx: mpsc::UnboundedSender<(K, Reply<V>)>,
}

impl<K, V> Clone for BatchedReads<K, V> {
    fn clone(&self) -> Self {
        BatchedReads {
            tx: self.tx.clone(),
        }
    }
}

impl<K, V> BatchedReads<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts the task on the current runtime.
    pub fn start(lookup: Lookup<K, V>) -> BatchedReads<K, V> {
        BatchedReads::with_limits(lookup, MAX_BATCH, IN_FLIGHT)
    }

    fn with_limits(lookup: Lookup<K, V>, max_batch: usize, in_flight: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(rx, Arc::new(lookup), max_batch, in_flight));
        BatchedReads { tx }
    }

    /// The value of `key`, read by a query that began after this call.
    pub async fn get(&self, key: K) -> StoreResult<Option<V>> {
        let (reply, answer) = oneshot::channel();
        if self.tx.send((key, reply)).is_err() {
            return Err(gone());
        }
        match answer.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(err.same_kind()),
            // The runtime that ran the query went away with it.
            Err(_) => Err(gone()),
        }
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn serve<K, V>(
    mut rx: mpsc::UnboundedReceiver<(K, Reply<V>)>,
    lookup: Arc<Lookup<K, V>>,
    max_batch: usize,
    in_flight: usize,
) where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(in_flight));
    while let Some(first) = rx.recv().await {
        // Waiting for a slot is what lets the next batch grow.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let lookup = lookup.clone();
        tokio::spawn(async move {
            let mut keys: Vec<K> = batch.iter().map(|(key, _)| key.clone()).collect();
            dedup(&mut keys);
            let result = lookup(keys).await;
            drop(slot);
            match result {
                Ok(rows) => {
                    let found: HashMap<K, V> = rows.into_iter().collect();
                    for (key, reply) in batch {
                        let _ = reply.send(Ok(found.get(&key).cloned()));
                    }
                }
                Err(err) => {
                    let err = Arc::new(err);
                    for (_, reply) in batch {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
            }
        });
    }
}

/// Removes repeated keys (two connections of one bot at once), keeping the first of each.
fn dedup<K: Eq + Hash + Clone>(keys: &mut Vec<K>) {
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.retain(|key| seen.insert(key.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// The keys of each query made, in order.
    type Queries = Arc<Mutex<Vec<Vec<u32>>>>;

    /// A lookup over a fixed table that records each query's keys and takes `delay`.
    fn table(
        rows: &[(u32, &'static str)],
        delay: Duration,
        fail: bool,
    ) -> (Lookup<u32, &'static str>, Queries) {
        let rows: HashMap<u32, &'static str> = rows.iter().copied().collect();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let seen = queries.clone();
        let lookup: Lookup<u32, &'static str> = Box::new(move |keys| {
            seen.lock().unwrap().push(keys.clone());
            let found: Vec<(u32, &'static str)> = keys
                .iter()
                .filter_map(|k| rows.get(k).map(|v| (*k, *v)))
                .collect();
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                if fail {
                    Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut))
                } else {
                    Ok(found)
                }
            })
        });
        (lookup, queries)
    }

    #[tokio::test]
    async fn a_lone_lookup_is_asked_at_once_and_answered_with_its_row_or_none() {
        let (lookup, queries) = table(&[(1, "ana"), (2, "ben")], Duration::ZERO, false);
        let reads = BatchedReads::start(lookup);
        assert_eq!(reads.get(1).await.unwrap(), Some("ana"));
        assert_eq!(reads.get(3).await.unwrap(), None);
        assert_eq!(*queries.lock().unwrap(), vec![vec![1], vec![3]]);
    }

    #[tokio::test]
    async fn lookups_that_wait_for_a_slot_share_one_query() {
        let (lookup, queries) = table(&[(1, "ana"), (2, "ben")], Duration::from_millis(50), false);
        let reads = Arc::new(BatchedReads::with_limits(lookup, 100, 1));
        let asks: Vec<_> = (0..40u32)
            .map(|i| {
                let reads = reads.clone();
                tokio::spawn(async move { (i % 4, reads.get(i % 4).await.unwrap()) })
            })
            .collect();
        for ask in asks {
            let (key, value) = ask.await.unwrap();
            let expected = match key {
                1 => Some("ana"),
                2 => Some("ben"),
                _ => None,
            };
            assert_eq!(value, expected, "key {key}");
        }
        let queries = queries.lock().unwrap();
        // The first query goes alone; everything asked while it runs shares the next one,
        // each key asked once however many callers want it.
        assert!(queries.len() <= 3, "{queries:?}");
        assert!(queries.iter().all(|q| q.len() <= 4), "{queries:?}");
        let asked: usize = queries.iter().map(Vec::len).sum();
        assert!(asked <= 9, "{queries:?}");
    }

    #[tokio::test]
    async fn a_batch_never_holds_more_than_its_bound() {
        let (lookup, queries) = table(&[], Duration::from_millis(20), false);
        let reads = Arc::new(BatchedReads::with_limits(lookup, 8, 1));
        let asks: Vec<_> = (0..50u32)
            .map(|i| {
                let reads = reads.clone();
                tokio::spawn(async move { reads.get(i).await.unwrap() })
            })
            .collect();
        for ask in asks {
            assert_eq!(ask.await.unwrap(), None);
        }
        let queries = queries.lock().unwrap();
        assert!(queries.iter().all(|q| q.len() <= 8), "{queries:?}");
        assert_eq!(queries.iter().map(Vec::len).sum::<usize>(), 50);
    }

    #[tokio::test]
    async fn a_failed_query_fails_every_lookup_in_it_with_a_temporary_error() {
        let (lookup, _) = table(&[(1, "ana")], Duration::from_millis(10), true);
        let reads = Arc::new(BatchedReads::with_limits(lookup, 100, 1));
        let asks: Vec<_> = (0..5u32)
            .map(|i| {
                let reads = reads.clone();
                tokio::spawn(async move { reads.get(i).await })
            })
            .collect();
        for ask in asks {
            let err = ask.await.unwrap().unwrap_err();
            assert!(err.is_temporary(), "{err}");
        }
    }

    #[test]
    fn a_lookup_whose_runtime_is_gone_fails_instead_of_hanging() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (lookup, _) = table(&[(1, "ana")], Duration::ZERO, false);
        let reads = runtime.block_on(async { BatchedReads::start(lookup) });
        drop(runtime);
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = other.block_on(reads.get(1)).unwrap_err();
        assert!(err.is_temporary(), "{err}");
    }
}
