//! The real-time gateway: the `/ws` endpoint and one task per connection.
//!
//! # Layout
//! - [`upgrade`](upgrade()): the axum handler that negotiates `confab.v1` and hands the socket over.
//! - `connection`: framing only — socket messages in, [`protocol`] frames out.
//! - `client`: one connection's life: welcome, requests, heartbeat timeout, shutdown.
//!
//! The [`Gateway`] handle owns the shutdown token and tracks every connection task, so a
//! graceful stop can close each socket with 1012 and wait for them (axum's own graceful
//! shutdown does not cover upgraded connections).

mod client;
mod connection;
mod upgrade;

pub use upgrade::upgrade;

use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;

/// A cheap handle on the gateway.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<Settings>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Gateway {
    /// A gateway with no connections.
    pub fn new(settings: Arc<Settings>) -> Gateway {
        Gateway {
            inner: Arc::new(Inner {
                settings,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// The token whose cancellation closes every connection with 1012.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Number of connection tasks still running.
    pub fn open_connections(&self) -> usize {
        self.inner.tasks.len()
    }

    /// Closes every connection (if not already asked to) and waits at most `grace` for
    /// their tasks to end.
    pub async fn wait_closed(&self, grace: Duration) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.inner.tasks.len(),
                "connections still open after the shutdown grace period"
            );
        }
    }

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }
}
