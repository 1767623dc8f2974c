//! Store reads on a connection's own path (authenticating it, resuming and filling its
//! rooms) that meet a database which is only temporarily unavailable are asked again
//! after a growing wait instead of failing the connection at once.
//!
//! Why: in a reconnect storm on Postgres, thousands of resumes wait for the pool at once
//! and some meet its acquire timeout. Closing each of those with 1011 sends its client
//! back to reconnect, authenticate and resume again: a second storm on top of the first,
//! and every one of those clients misses what was sent meanwhile until it is back. Asked
//! again, the read simply waits its turn. A database that stays away past the bound
//! (20 s) still fails the connection (1011), and the client resumes later.

use std::time::Duration;
use store::StoreResult;
use tokio::time::Instant;

/// How a read is asked again: the first wait (doubled each time, to at most `max_wait`)
/// and how long, from the first try, it keeps being asked.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    first_wait: Duration,
    max_wait: Duration,
    retry_for: Duration,
}

/// What a connection's reads use: 100 ms doubling to 2 s, for 20 s.
const STORE_READS: Backoff = Backoff {
    first_wait: Duration::from_millis(100),
    max_wait: Duration::from_secs(2),
    retry_for: Duration::from_secs(20),
};

/// Runs `read` until it succeeds, fails for a reason that will not pass, or has failed
/// temporarily for 20 s; returns its last outcome. Each wait is jittered (±50 %), so that
/// reads that failed together do not come back together.
pub async fn read_retrying<T, F, Fut>(read: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    retry(STORE_READS, read).await
}

async fn retry<T, F, Fut>(backoff: Backoff, mut read: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let give_up = Instant::now() + backoff.retry_for;
    let mut wait = backoff.first_wait;
    loop {
        match read().await {
            Err(err) if err.is_temporary() => {
                let jittered = wait.mul_f64(0.5 + rand::random::<f64>());
                if Instant::now() + jittered >= give_up {
                    return Err(err);
                }
                metrics::counter!("confab_store_read_retries_total").increment(1);
                tokio::time::sleep(jittered).await;
                wait = (wait * 2).min(backoff.max_wait);
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use store::StoreError;

    fn unavailable() -> StoreError {
        StoreError::Storage("pool timed out".into())
    }

    /// The same shape as [`STORE_READS`], a hundred times faster.
    const QUICK: Backoff = Backoff {
        first_wait: Duration::from_millis(1),
        max_wait: Duration::from_millis(20),
        retry_for: Duration::from_millis(200),
    };

    #[tokio::test]
    async fn a_temporary_failure_is_asked_again_until_the_read_succeeds() {
        let calls = Cell::new(0);
        let got = retry(QUICK, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err(unavailable()) } else { Ok(n) } }
        })
        .await;
        assert_eq!(got.unwrap(), 3);
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn a_lasting_failure_is_returned_at_once() {
        let calls = Cell::new(0);
        let got: StoreResult<()> = retry(QUICK, || {
            calls.set(calls.get() + 1);
            async { Err(StoreError::Corrupt("bad row".into())) }
        })
        .await;
        assert!(matches!(got, Err(StoreError::Corrupt(_))));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn a_database_that_stays_away_fails_the_read_within_the_bound() {
        let started = Instant::now();
        let calls = Cell::new(0);
        let got: StoreResult<()> = retry(QUICK, || {
            calls.set(calls.get() + 1);
            async { Err(unavailable()) }
        })
        .await;
        assert!(got.unwrap_err().is_temporary());
        let took = started.elapsed();
        // It never sleeps past the bound; the margin is for a loaded machine's timers.
        let bound = QUICK.retry_for;
        assert!(
            took < bound + Duration::from_secs(1),
            "gave up after {took:?}"
        );
        assert!(
            took >= bound - QUICK.max_wait * 2,
            "gave up early, after {took:?}"
        );
        // 1 ms doubling to 20 ms: a dozen or so tries in 200 ms, not hundreds.
        assert!((5..=40).contains(&calls.get()), "{} tries", calls.get());
    }
}
