//! WebSocket close codes and what a client must do after each.
//!
//! Standard codes (1000–1015) keep their RFC 6455 meaning. Confab's own codes live in the
//! private range 4000–4999: 4000–4099 are terminal (do not reconnect without a change on
//! the client's side), 4100–4199 ask the client to reconnect after a delay.

/// A close code the server may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: orderly close requested by the client.
    Normal,
    /// 1002: the peer broke the WebSocket framing rules.
    ProtocolError,
    /// 1007: a text message was not valid UTF-8.
    InvalidPayload,
    /// 1008: the peer violated the protocol (e.g. a binary frame, a missing subprotocol).
    PolicyViolation,
    /// 1009: a frame exceeded the maximum frame size.
    TooBig,
    /// 1011: the server hit an unexpected condition.
    InternalError,
    /// 1012: the server is restarting; reconnect (after the advised delay).
    ServiceRestart,
    /// 4001: authentication failed or the session expired.
    Unauthorized,
    /// 4003: the upgrade came from another site's page (Origin mismatch).
    ForbiddenOrigin,
    /// 4100: no heartbeat arrived within the allowed time.
    HeartbeatTimeout,
    /// 4101: the client did not read its frames for too long; reconnect and resume.
    SlowConsumer,
    /// 4102: the client kept sending while its requests were refused with `rate_limited`;
    /// reconnect after the wait the reason names.
    Flooding,
    /// 4103: the address already has the most connections it may open; retry later.
    TooManyConnections,
}

/// What a client should do after a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectAdvice {
    /// Reconnect with backoff, resuming every room from its last seq.
    Reconnect,
    /// Refresh credentials (log in again) before reconnecting.
    Reauthenticate,
    /// Do not reconnect: the client is broken or was told to stop.
    Stop,
}

impl CloseCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [CloseCode; 13] = [
        CloseCode::Normal,
        CloseCode::ProtocolError,
        CloseCode::InvalidPayload,
        CloseCode::PolicyViolation,
        CloseCode::TooBig,
        CloseCode::InternalError,
        CloseCode::ServiceRestart,
        CloseCode::Unauthorized,
        CloseCode::ForbiddenOrigin,
        CloseCode::HeartbeatTimeout,
        CloseCode::SlowConsumer,
        CloseCode::Flooding,
        CloseCode::TooManyConnections,
    ];

    /// The numeric code sent in the close frame.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::ProtocolError => 1002,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::InternalError => 1011,
            CloseCode::ServiceRestart => 1012,
            CloseCode::Unauthorized => 4001,
            CloseCode::ForbiddenOrigin => 4003,
            CloseCode::HeartbeatTimeout => 4100,
            CloseCode::SlowConsumer => 4101,
            CloseCode::Flooding => 4102,
            CloseCode::TooManyConnections => 4103,
        }
    }

    /// The code for a number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The short reason text sent with the close frame.
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Normal => "bye",
            CloseCode::ProtocolError => "protocol error",
            CloseCode::InvalidPayload => "invalid UTF-8",
            CloseCode::PolicyViolation => "policy violation",
            CloseCode::TooBig => "frame too large",
            CloseCode::InternalError => "internal error",
            CloseCode::ServiceRestart => "service restart",
            CloseCode::Unauthorized => "unauthorized",
            CloseCode::ForbiddenOrigin => "forbidden origin",
            CloseCode::HeartbeatTimeout => "heartbeat timeout",
            CloseCode::SlowConsumer => "slow consumer",
            CloseCode::Flooding => "rate limit exceeded",
            CloseCode::TooManyConnections => "too many connections from this address",
        }
    }

    /// What a client should do after receiving this code.
    pub fn advice(self) -> ReconnectAdvice {
        match self {
            CloseCode::Normal
            | CloseCode::ProtocolError
            | CloseCode::InvalidPayload
            | CloseCode::PolicyViolation
            | CloseCode::TooBig
            | CloseCode::ForbiddenOrigin => ReconnectAdvice::Stop,
            CloseCode::Unauthorized => ReconnectAdvice::Reauthenticate,
            CloseCode::InternalError
            | CloseCode::ServiceRestart
            | CloseCode::HeartbeatTimeout
            | CloseCode::SlowConsumer
            | CloseCode::Flooding
            | CloseCode::TooManyConnections => ReconnectAdvice::Reconnect,
        }
    }
}

/// Advice for any close code a client may observe, including codes this version does not
/// name (1006 "abnormal closure" is what a browser reports when the network drops).
pub fn advice_for(code: u16) -> ReconnectAdvice {
    match CloseCode::from_code(code) {
        Some(known) => known.advice(),
        None if (4000..4100).contains(&code) => ReconnectAdvice::Stop,
        None => ReconnectAdvice::Reconnect,
    }
}

/// A close reason that asks the client to wait `wait_ms` before reconnecting
/// (`"rate limit exceeded; retry_after_ms=5000"`).
pub fn reason_with_wait(code: CloseCode, wait_ms: u64) -> String {
    format!("{}; retry_after_ms={wait_ms}", code.reason())
}

/// The reason text of a 1012 close that asks the client to wait `wait_ms` before
/// reconnecting (`"service restart; retry_after_ms=1234"`). A graceful shutdown spreads
/// these waits so that a deploy does not become a reconnect storm.
pub fn restart_reason(wait_ms: u64) -> String {
    reason_with_wait(CloseCode::ServiceRestart, wait_ms)
}

/// The wait a close reason asks for, if it carries `retry_after_ms=N`.
pub fn retry_after_ms(reason: &str) -> Option<u64> {
    reason
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("retry_after_ms="))
        .find_map(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_reasons_carry_their_wait() {
        let reason = restart_reason(1234);
        assert_eq!(retry_after_ms(&reason), Some(1234));
        assert!(reason.starts_with("service restart"));
        // A close reason is at most 123 bytes.
        for code in CloseCode::ALL {
            assert!(reason_with_wait(code, u64::MAX).len() <= 123, "{code:?}");
        }
        assert_eq!(retry_after_ms("service restart"), None);
        assert_eq!(retry_after_ms("retry_after_ms=x"), None);
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        for c in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        let mut codes: Vec<u16> = CloseCode::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), CloseCode::ALL.len());
    }

    #[test]
    fn private_codes_follow_the_documented_ranges() {
        for c in CloseCode::ALL.into_iter().filter(|c| c.code() >= 4000) {
            let terminal = c.code() < 4100;
            assert_eq!(terminal, c.advice() != ReconnectAdvice::Reconnect, "{c:?}");
        }
    }

    #[test]
    fn a_dropped_network_means_reconnect() {
        assert_eq!(advice_for(1006), ReconnectAdvice::Reconnect);
        assert_eq!(advice_for(4050), ReconnectAdvice::Stop);
        assert_eq!(advice_for(4001), ReconnectAdvice::Reauthenticate);
    }
}
