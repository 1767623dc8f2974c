//! Reconnect delays: exponential backoff with jitter, so that a server restart does not
//! bring every client back in the same instant; a close whose reason names a wait
//! (`retry_after_ms=N`, sent with 1012 and 4102, docs/protocol.md) is waited exactly.

use protocol::close::retry_after_ms;

/// First delay before jitter, in milliseconds.
const BASE_MS: u32 = 500;
/// Ceiling of the delay before jitter, in milliseconds.
const MAX_MS: u32 = 30_000;

/// The delay before reconnect attempt `attempt` (1-based), in milliseconds.
///
/// `unit_random` is a number in `[0, 1)`; the delay is spread over the upper half of the
/// backoff window ("equal jitter"), so it never collapses to zero.
pub fn backoff_delay(attempt: u32, unit_random: f64) -> u32 {
    let exp = attempt.saturating_sub(1).min(16);
    let window = BASE_MS.saturating_mul(1 << exp).min(MAX_MS);
    let half = window / 2;
    let jitter = (f64::from(half) * unit_random.clamp(0.0, 0.999_999)) as u32;
    half + jitter
}

/// The longest wait a close reason may impose (a broken server must not park the page).
const MAX_ADVISED_MS: u64 = 600_000;

/// The delay before reconnect attempt `attempt` after a close with `reason`: the wait the
/// reason names, whatever the code, else [`backoff_delay`].
pub fn reconnect_delay(reason: &str, attempt: u32, unit_random: f64) -> u32 {
    match retry_after_ms(reason) {
        Some(ms) => u32::try_from(ms.min(MAX_ADVISED_MS)).unwrap_or(u32::MAX),
        None => backoff_delay(attempt, unit_random),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        assert_eq!(backoff_delay(1, 0.0), 250);
        assert_eq!(backoff_delay(2, 0.0), 500);
        assert_eq!(backoff_delay(3, 0.0), 1000);
        assert_eq!(backoff_delay(40, 0.0), MAX_MS / 2);
        assert!(backoff_delay(40, 0.99) < MAX_MS);
    }

    #[test]
    fn a_named_wait_is_honoured_for_every_code_that_carries_it() {
        use protocol::close::{CloseCode, reason_with_wait};
        for code in [CloseCode::ServiceRestart, CloseCode::Flooding] {
            assert_eq!(
                reconnect_delay(&reason_with_wait(code, 5_000), 1, 0.5),
                5_000
            );
            assert_eq!(reconnect_delay(&reason_with_wait(code, 1234), 9, 0.0), 1234);
        }
        assert_eq!(
            reconnect_delay("rate limit exceeded; retry_after_ms=99999999", 1, 0.0),
            600_000,
            "capped"
        );
        assert_eq!(reconnect_delay("", 3, 0.0), backoff_delay(3, 0.0));
        assert_eq!(
            reconnect_delay("slow consumer", 1, 0.0),
            backoff_delay(1, 0.0)
        );
    }

    #[test]
    fn jitter_stays_inside_the_window() {
        for attempt in 1..20 {
            let low = backoff_delay(attempt, 0.0);
            let high = backoff_delay(attempt, 1.0);
            assert!(
                low <= high && high <= 2 * low,
                "attempt {attempt}: {low}..{high}"
            );
        }
    }
}
