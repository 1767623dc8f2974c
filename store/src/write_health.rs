//! Whether the store can write, as readiness reports it ([`Store::check_writes`]).
//!
//! Every write of the group-commit path records its end here: a commit clears the state, a
//! storage fault ([`StoreError::Storage`]: disk full, read-only file system, I/O error)
//! marks the store *failing* from then on. Other failures (a pool timeout, a database
//! that is down) neither mark nor clear it: the readiness ping reports those.
//!
//! Asked whether writes work, the store answers from the last write when it is *fresh*
//! (a commit within [`PROOF_WINDOW`], with no fault since): a busy store proves itself with
//! its own sends and pays nothing. Otherwise — the store is failing, or idle — it runs a
//! *probe*, a small real write of the kind a send makes (a row that takes new pages,
//! committed, then deleted), and records its end like any write. So a store that failed
//! recovers to ready by itself once the probe commits, with no user sending anything, and
//! an idle store whose disk filled up reports it before the first send fails. Probes are
//! at most one per [`PROBE_EVERY`]; between them the last answer stands.
//!
//! [`Store::check_writes`]: crate::Store::check_writes

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::StoreResult;
use crate::error::StoreError;

/// A commit at most this old proves that writes work.
pub const PROOF_WINDOW: Duration = Duration::from_secs(10);

/// The least time between two probes.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The bytes a probe writes: more than a page, so it takes pages as a send would.
pub const PROBE_BYTES: usize = 8192;

#[derive(Debug, Default)]
struct State {
    /// When a write last committed.
    last_ok: Option<Instant>,
    /// Since when writes fail with a storage fault (none committed since), and why.
    failing: Option<(Instant, String)>,
    /// When the last probe ran.
    last_probe: Option<Instant>,
}

/// The store's record of its writes.
#[derive(Debug, Default)]
pub struct WriteHealth {
    state: Mutex<State>,
}

/// What [`WriteHealth::verdict`] decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Writes work: one committed recently and none failed since.
    Writable,
    /// Writes fail with a storage fault (the message says why); a probe ran recently.
    Failing(String),
    /// Not known without a probe.
    Probe,
}

impl WriteHealth {
    /// Records how a write ended.
    pub fn record<T>(&self, result: &StoreResult<T>) {
        let mut state = self.state.lock().expect("write health lock");
        match result {
            Ok(_) => {
                if let Some((since, _)) = state.failing.take() {
                    tracing::warn!(
                        failed_for_ms = since.elapsed().as_millis() as u64,
                        "the store writes again"
                    );
                }
                state.last_ok = Some(Instant::now());
            }
            Err(StoreError::Storage(cause)) => {
                if state.failing.is_none() {
                    tracing::error!(%cause, "the store cannot write");
                }
                let since = state.failing.as_ref().map_or_else(Instant::now, |f| f.0);
                state.failing = Some((since, cause.to_string()));
            }
            Err(_) => {}
        }
    }

    /// Whether writes are known to work or fail, or a probe must tell; a `Probe` verdict
    /// counts as the probe starting (a concurrent caller gets the last answer instead).
    pub fn verdict(&self) -> Verdict {
        let mut state = self.state.lock().expect("write health lock");
        let now = Instant::now();
        let probed_lately = state
            .last_probe
            .is_some_and(|t| now.duration_since(t) < PROBE_EVERY);
        match &state.failing {
            Some((_, cause)) if probed_lately => Verdict::Failing(cause.clone()),
            None if state
                .last_ok
                .is_some_and(|t| now.duration_since(t) < PROOF_WINDOW) =>
            {
                Verdict::Writable
            }
            None if probed_lately => Verdict::Writable,
            _ => {
                state.last_probe = Some(now);
                Verdict::Probe
            }
        }
    }

    /// Runs `probe` if the verdict asks for one, records its end, and says whether the
    /// store can write.
    pub async fn check<F>(&self, probe: F) -> StoreResult<()>
    where
        F: std::future::Future<Output = StoreResult<()>>,
    {
        match self.verdict() {
            Verdict::Writable => Ok(()),
            Verdict::Failing(cause) => Err(StoreError::Storage(cause.into())),
            Verdict::Probe => {
                let result = probe.await;
                self.record(&result);
                result
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> StoreResult<()> {
        Err(StoreError::Storage("disk full".into()))
    }

    #[tokio::test]
    async fn a_storage_fault_fails_until_a_write_commits() {
        let health = WriteHealth::default();
        health.record(&Ok(()));
        assert_eq!(health.verdict(), Verdict::Writable);
        health.record(&full());
        // Failing: the probe runs (and fails) …
        assert!(health.check(async { full() }).await.is_err());
        // … and within PROBE_EVERY the answer stands without another probe.
        let not_run = async { panic!("probed twice within PROBE_EVERY") };
        assert!(health.check(not_run).await.unwrap_err().is_storage_fault());
        // A send that commits clears it at once.
        health.record(&Ok(()));
        assert_eq!(health.verdict(), Verdict::Writable);
    }

    #[tokio::test]
    async fn other_failures_neither_mark_nor_clear() {
        let health = WriteHealth::default();
        health.record(&Ok(()));
        health.record::<()>(&Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)));
        assert_eq!(health.verdict(), Verdict::Writable);
        health.record(&full());
        health.record::<()>(&Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)));
        assert_eq!(health.verdict(), Verdict::Probe);
    }

    #[tokio::test]
    async fn an_idle_store_is_probed_and_a_good_probe_recovers() {
        let health = WriteHealth::default();
        // Never written: a probe decides.
        assert!(health.check(async { full() }).await.is_err());
        // A later probe (after PROBE_EVERY) that commits clears it.
        health.state.lock().unwrap().last_probe = Some(Instant::now() - PROBE_EVERY);
        assert!(health.check(async { Ok(()) }).await.is_ok());
        assert_eq!(health.verdict(), Verdict::Writable);
    }
}
