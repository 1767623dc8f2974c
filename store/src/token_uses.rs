//! When each API token was last used, recorded off the authentication path.
//!
//! Authenticating a token is a read; recording its use is a write, and on SQLite every
//! write is a transaction on the one writer with an fsync. Done inline, a reconnect storm
//! of 10,000 bots was 10,000 fsyncs in a row in front of every new connection (and in
//! front of the group commit's sends). So a lookup only notes the token here, and a
//! background task writes the uses gathered over [`GATHER`] in one statement per chunk.
//!
//! The cost: `last_used_at` is up to [`GATHER`] late, and a use in the last moment before
//! a crash may be lost. Revocation is untouched by this: every authentication still reads
//! the token's row, so a revoked token is refused from the moment its revocation commits.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;

use crate::StoreResult;
use crate::model::now_millis;

/// How long uses are gathered before they are written.
pub const GATHER: Duration = Duration::from_secs(1);

/// Token hashes written per statement.
pub const CHUNK: usize = 500;

/// Writes `last_used_at = at` for every token in the chunk.
pub type Flush = Box<
    dyn Fn(Vec<[u8; 32]>, i64) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send>>
        + Send
        + Sync,
>;

/// The handle lookups note uses on. Dropping it (with its store) lets the task write what
/// it holds and end.
#[derive(Clone)]
pub struct TokenUses {
    tx: mpsc::UnboundedSender<[u8; 32]>,
}

impl TokenUses {
    /// Starts the writer task on the current runtime.
    pub fn start(flush: Flush) -> TokenUses {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_uses(rx, flush));
        TokenUses { tx }
    }

    /// Notes that the token with this secret hash was just used.
    pub fn note(&self, secret_hash: &[u8; 32]) {
        // The task ends only when every handle is gone, so this cannot fail while `self`
        // lives; a use noted during shutdown may be dropped, which is allowed.
        let _ = self.tx.send(*secret_hash);
    }
}

async fn write_uses(mut rx: mpsc::UnboundedReceiver<[u8; 32]>, flush: Flush) {
    while let Some(first) = rx.recv().await {
        let mut used = HashSet::from([first]);
        tokio::time::sleep(GATHER).await;
        while let Ok(hash) = rx.try_recv() {
            used.insert(hash);
        }
        let at = now_millis();
        let used: Vec<[u8; 32]> = used.into_iter().collect();
        for chunk in used.chunks(CHUNK) {
            if let Err(err) = flush(chunk.to_vec(), at).await {
                // Only a bookkeeping time is lost; authentication does not depend on it.
                tracing::warn!(cause = %err, tokens = chunk.len(), "recording token uses failed");
            }
        }
    }
}
