//! When to open the socket: the reconnect schedule as a pure state machine, which the
//! browser's socket drives with what happens (a socket opening, `welcome`, a close, the
//! browser's `offline`/`online` events, a click on "Reconnect now", the clock) and obeys.
//!
//! - A socket counts as up only at `welcome`; one still opening after
//!   [`CONNECT_TIMEOUT_MS`] is given up (the browser's own timeout can take minutes).
//! - A close that allows a reconnect waits [`super::reconnect_delay`]: the wait the close
//!   reason names, else the backoff of the attempt.
//! - While the browser says it has no network nothing is tried, the socket is dropped at
//!   once (it may take a long time to notice), and the network's return reconnects at once,
//!   as does "Reconnect now" during a wait.

use protocol::ReconnectAdvice;
use protocol::close::advice_for;

use super::reconnect_delay;

/// How long a socket may take from opening to the server's `welcome`.
pub const CONNECT_TIMEOUT_MS: f64 = 10_000.0;

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// A socket is opening since `since_ms` (page clock); up at `welcome`.
    Connecting { since_ms: f64 },
    /// `welcome` received.
    Connected,
    /// Waiting before attempt `attempt`.
    Waiting { attempt: u32 },
    /// The browser has no network: nothing is tried until it returns.
    NoNetwork,
    /// A terminal close (or a sign-out): nothing more is tried.
    Stopped,
}

/// What the socket should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Open a socket now.
    Open,
    /// Open one after `delay_ms`; this is attempt `attempt`.
    Retry { attempt: u32, delay_ms: u32 },
    /// Wait for the browser's network to come back.
    AwaitNetwork,
    /// Do not reconnect.
    Stop(ReconnectAdvice),
    /// Nothing to do.
    Stay,
}

/// The schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialer {
    phase: Phase,
    /// Failed attempts since the last `welcome`.
    attempt: u32,
    online: bool,
}

impl Dialer {
    /// A schedule for a page whose browser says it is `online`.
    pub fn new(online: bool) -> Dialer {
        Dialer {
            phase: if online {
                Phase::Waiting { attempt: 0 }
            } else {
                Phase::NoNetwork
            },
            attempt: 0,
            online,
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Whether a socket should be opened now (at start): not without a network.
    pub fn may_open(&self) -> bool {
        self.online && self.phase != Phase::Stopped
    }

    /// A socket started opening at `now_ms`.
    pub fn opening(&mut self, now_ms: f64) {
        self.phase = Phase::Connecting { since_ms: now_ms };
    }

    /// The server's `welcome` arrived: the connection is up and the backoff starts over.
    pub fn welcomed(&mut self) {
        self.phase = Phase::Connected;
        self.attempt = 0;
    }

    /// The socket closed with `code` and `reason` (or was given up: 1006).
    pub fn closed(&mut self, code: u16, reason: &str, unit_random: f64) -> Next {
        if self.phase == Phase::Stopped {
            return Next::Stay;
        }
        match advice_for(code) {
            ReconnectAdvice::Reconnect if !self.online => {
                self.phase = Phase::NoNetwork;
                Next::AwaitNetwork
            }
            ReconnectAdvice::Reconnect => {
                self.attempt += 1;
                self.phase = Phase::Waiting {
                    attempt: self.attempt,
                };
                Next::Retry {
                    attempt: self.attempt,
                    delay_ms: reconnect_delay(reason, self.attempt, unit_random),
                }
            }
            advice => {
                self.phase = Phase::Stopped;
                Next::Stop(advice)
            }
        }
    }

    /// Whether a socket still opening at `now_ms` has taken too long (give it up).
    pub fn timed_out(&self, now_ms: f64) -> bool {
        matches!(self.phase, Phase::Connecting { since_ms } if now_ms - since_ms >= CONNECT_TIMEOUT_MS)
    }

    /// The browser lost its network. True when a socket is open or opening: drop it.
    pub fn network_lost(&mut self) -> bool {
        self.online = false;
        match self.phase {
            Phase::Connecting { .. } | Phase::Connected => true,
            Phase::Waiting { .. } => {
                self.phase = Phase::NoNetwork;
                false
            }
            Phase::NoNetwork | Phase::Stopped => false,
        }
    }

    /// The browser's network is back: reconnect at once, with the backoff reset.
    pub fn network_back(&mut self) -> Next {
        self.online = true;
        match self.phase {
            Phase::NoNetwork | Phase::Waiting { .. } => {
                self.attempt = 0;
                Next::Open
            }
            _ => Next::Stay,
        }
    }

    /// The person asked to reconnect now: during a wait, open at once (the backoff goes
    /// on counting, so a server that keeps failing is not hammered by clicks).
    pub fn reconnect_now(&mut self) -> Next {
        match self.phase {
            Phase::Waiting { .. } if self.online => Next::Open,
            _ => Next::Stay,
        }
    }

    /// Signed out: nothing more is tried.
    pub fn stop(&mut self) {
        self.phase = Phase::Stopped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::backoff_delay;
    use protocol::close::{CloseCode, reason_with_wait};

    fn up(d: &mut Dialer) {
        d.opening(0.0);
        d.welcomed();
    }

    #[test]
    fn a_drop_backs_off_more_each_time_and_welcome_resets_it() {
        let mut d = Dialer::new(true);
        up(&mut d);
        let first = d.closed(1006, "", 0.0);
        assert_eq!(
            first,
            Next::Retry {
                attempt: 1,
                delay_ms: backoff_delay(1, 0.0)
            }
        );
        d.opening(100.0);
        assert_eq!(
            d.closed(1006, "", 0.0),
            Next::Retry {
                attempt: 2,
                delay_ms: backoff_delay(2, 0.0)
            }
        );
        up(&mut d);
        assert!(matches!(
            d.closed(1006, "", 0.0),
            Next::Retry { attempt: 1, .. }
        ));
    }

    #[test]
    fn every_code_that_names_a_wait_is_waited_exactly() {
        for code in [CloseCode::ServiceRestart, CloseCode::Flooding] {
            let mut d = Dialer::new(true);
            up(&mut d);
            let next = d.closed(code.code(), &reason_with_wait(code, 5_000), 0.3);
            assert_eq!(
                next,
                Next::Retry {
                    attempt: 1,
                    delay_ms: 5_000
                },
                "{code:?}"
            );
        }
    }

    #[test]
    fn terminal_closes_stop_and_stay_stopped() {
        let mut d = Dialer::new(true);
        up(&mut d);
        assert_eq!(
            d.closed(4001, "unauthorized", 0.0),
            Next::Stop(ReconnectAdvice::Reauthenticate)
        );
        assert_eq!(d.network_back(), Next::Stay);
        assert_eq!(d.reconnect_now(), Next::Stay);
        assert_eq!(d.closed(1006, "", 0.0), Next::Stay);
        assert!(!d.may_open());
        let mut d = Dialer::new(true);
        up(&mut d);
        assert_eq!(d.closed(1008, "", 0.0), Next::Stop(ReconnectAdvice::Stop));
    }

    #[test]
    fn a_socket_stuck_opening_is_given_up_after_the_connect_timeout() {
        let mut d = Dialer::new(true);
        d.opening(1_000.0);
        assert!(!d.timed_out(1_000.0 + CONNECT_TIMEOUT_MS - 1.0));
        assert!(d.timed_out(1_000.0 + CONNECT_TIMEOUT_MS));
        d.welcomed();
        assert!(
            !d.timed_out(1_000_000.0),
            "an open connection never times out"
        );
    }

    #[test]
    fn offline_drops_the_socket_waits_for_the_network_and_reconnects_when_it_returns() {
        let mut d = Dialer::new(true);
        up(&mut d);
        assert!(d.network_lost(), "the open socket is dropped at once");
        assert_eq!(d.closed(1006, "", 0.0), Next::AwaitNetwork);
        assert_eq!(d.phase(), &Phase::NoNetwork);
        assert_eq!(d.reconnect_now(), Next::Stay, "no network, nothing to try");
        assert_eq!(d.network_back(), Next::Open);
        d.opening(0.0);
        assert_eq!(d.network_back(), Next::Stay, "already opening");
    }

    #[test]
    fn the_network_returning_during_a_backoff_reconnects_at_once_with_the_backoff_reset() {
        let mut d = Dialer::new(true);
        up(&mut d);
        for _ in 0..6 {
            d.closed(1006, "", 0.0);
            d.opening(0.0);
        }
        d.closed(1006, "", 0.0);
        assert!(!d.network_lost(), "no socket to drop during a wait");
        assert_eq!(d.phase(), &Phase::NoNetwork);
        assert_eq!(d.network_back(), Next::Open);
        d.opening(0.0);
        assert!(matches!(
            d.closed(1006, "", 0.0),
            Next::Retry { attempt: 1, .. }
        ));
    }

    #[test]
    fn reconnect_now_cuts_a_wait_short_but_keeps_the_count() {
        let mut d = Dialer::new(true);
        up(&mut d);
        d.closed(1006, "", 0.0);
        assert_eq!(d.reconnect_now(), Next::Open);
        d.opening(0.0);
        assert_eq!(d.reconnect_now(), Next::Stay, "not while opening");
        assert!(matches!(
            d.closed(1006, "", 0.0),
            Next::Retry { attempt: 2, .. }
        ));
    }

    #[test]
    fn a_page_that_starts_offline_waits_for_the_network() {
        let mut d = Dialer::new(false);
        assert!(!d.may_open());
        assert_eq!(d.phase(), &Phase::NoNetwork);
        assert_eq!(d.network_back(), Next::Open);
        assert!(d.may_open());
    }
}
