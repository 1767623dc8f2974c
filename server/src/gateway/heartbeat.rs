//! A connection's heartbeat: when its reader last heard from the client ([`Heard`]), and
//! the sweep that asks every connection silent for the idle timeout (twice the advertised
//! heartbeat) to close with 4100.
//!
//! One sweep for the node rather than a timer per connection: an idle connection keeps a
//! word for its heartbeat instead of a timer in its task, and reading a message stores a
//! clock reading instead of resetting a timer. A silent connection is asked to close
//! between the idle timeout and one sweep period after it.

use protocol::CloseCode;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::hub::Hub;

/// What [`Heard`] counts from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// `at` in milliseconds since [`EPOCH`], plus one (0 means "never").
fn millis(at: Instant) -> u64 {
    at.saturating_duration_since(*EPOCH).as_millis() as u64 + 1
}

/// When a connection's reader last heard from its client. A connection whose reader never
/// says (a Server-Sent Events stream has no heartbeat) is never swept.
#[derive(Debug, Default)]
pub struct Heard(AtomicU64);

impl Heard {
    /// The client was heard at `at`.
    pub fn heard_at(&self, at: Instant) {
        self.0.store(millis(at), Ordering::Relaxed);
    }

    /// Whether the client has been silent for `idle` at `now` (never, if it was never heard).
    fn silent(&self, now: Instant, idle: Duration) -> bool {
        match self.0.load(Ordering::Relaxed) {
            0 => false,
            heard => millis(now).saturating_sub(heard) >= idle.as_millis() as u64,
        }
    }
}

/// How often the sweep looks, for connections closed after `idle` of silence.
pub fn sweep_every(idle: Duration) -> Duration {
    (idle / 8).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

/// Asks every connection of `hub` silent for `idle` at `now` to close with 4100; returns
/// how many were asked.
pub fn close_silent(hub: &Hub, now: Instant, idle: Duration) -> usize {
    let mut asked = 0;
    hub.each_connection(|conn| {
        if conn.shared.heard.silent(now, idle) {
            conn.shared.end.ask_close(CloseCode::HeartbeatTimeout);
            asked += 1;
        }
    });
    asked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::outbound::ConnHandle;
    use protocol::ids::UserId;

    /// Now, once the clock's epoch is set (a time before it reads as the epoch).
    fn after_epoch() -> Instant {
        LazyLock::force(&EPOCH);
        Instant::now()
    }

    #[test]
    fn silent_only_once_heard_and_then_quiet_for_the_idle_timeout() {
        let heard = Heard::default();
        let start = after_epoch();
        let idle = Duration::from_secs(4);
        assert!(
            !heard.silent(start + idle * 10, idle),
            "never heard: never swept"
        );
        heard.heard_at(start);
        assert!(!heard.silent(start + idle - Duration::from_millis(1), idle));
        assert!(heard.silent(start + idle, idle));
        heard.heard_at(start + idle);
        assert!(
            !heard.silent(start + idle, idle),
            "hearing again starts over"
        );
    }

    #[test]
    fn the_sweep_asks_the_silent_connections_alone() {
        let hub = Hub::default();
        let conn = |id, user: u128| {
            ConnHandle::new(
                id,
                UserId(uuid::Uuid::from_u128(user)),
                64,
                Default::default(),
            )
            .0
        };
        let (quiet, chatty, stream) = (conn(1, 1), conn(2, 1), conn(3, 2));
        for c in [&quiet, &chatty, &stream] {
            hub.connect(c);
        }
        let start = after_epoch();
        let idle = Duration::from_secs(2);
        quiet.shared.heard.heard_at(start);
        chatty.shared.heard.heard_at(start + idle);
        assert_eq!(close_silent(&hub, start + idle, idle), 1);
        let (reader, _) = super::super::ending::Ending::pair(&quiet);
        let asked = futures_util::FutureExt::now_or_never(reader.ended_or_asked());
        assert_eq!(
            asked,
            Some(super::super::ending::Ended::Close(
                CloseCode::HeartbeatTimeout
            ))
        );
        for other in [&chatty, &stream] {
            let (reader, _) = super::super::ending::Ending::pair(other);
            assert_eq!(
                futures_util::FutureExt::now_or_never(reader.ended_or_asked()),
                None
            );
        }
    }
}
