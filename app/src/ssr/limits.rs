//! Rate limits on the account endpoints (governor's keyed GCRA limiters):
//! - log-in attempts per handle: a burst of 10, then one every 30 s;
//! - log-in attempts per client address: a burst of 30, then one every 2 s;
//! - sign-ups per client address: a burst of 10, then one every 60 s.
//!
//! Keys that have been quiet long enough are forgotten by [`Limits::prune`], which the
//! server calls periodically, so memory stays bounded.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The account rate limiters of one process.
pub struct Limits {
    login_per_handle: DefaultKeyedRateLimiter<String>,
    login_per_addr: DefaultKeyedRateLimiter<IpAddr>,
    signup_per_addr: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("non-zero burst"))
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1.
    pub fn secs(self) -> u64 {
        self.0.as_secs().max(1) + u64::from(self.0.subsec_nanos() > 0)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::with_signups(10)
    }
}

impl Limits {
    /// The default limits, with a burst of `signup_burst` sign-ups per address (then one a
    /// minute). An office behind one address onboarding a team needs more than 10.
    pub fn with_signups(signup_burst: u32) -> Self {
        Limits {
            login_per_handle: DefaultKeyedRateLimiter::keyed(quota(10, Duration::from_secs(30))),
            login_per_addr: DefaultKeyedRateLimiter::keyed(quota(30, Duration::from_secs(2))),
            signup_per_addr: DefaultKeyedRateLimiter::keyed(quota(
                signup_burst.max(1),
                Duration::from_secs(60),
            )),
        }
    }

    /// Counts one log-in attempt for `handle` from `addr`.
    pub fn login(&self, handle: &str, addr: Option<IpAddr>) -> Result<(), RetryAfter> {
        if let Some(addr) = addr {
            check(&self.login_per_addr, &addr)?;
        }
        check(&self.login_per_handle, &handle.to_owned())
    }

    /// Counts one sign-up from `addr`.
    pub fn signup(&self, addr: Option<IpAddr>) -> Result<(), RetryAfter> {
        match addr {
            Some(addr) => check(&self.signup_per_addr, &addr),
            None => Ok(()),
        }
    }

    /// Forgets keys whose limits have fully recovered.
    pub fn prune(&self) {
        self.login_per_handle.retain_recent();
        self.login_per_addr.retain_recent();
        self.signup_per_addr.retain_recent();
    }
}

fn check<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), RetryAfter>
where
    K: std::hash::Hash + Eq + Clone,
{
    limiter
        .check_key(key)
        .map_err(|not_until| RetryAfter(not_until.wait_time_from(DefaultClock::default().now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_locked_after_its_burst_and_others_are_not() {
        let limits = Limits::default();
        for _ in 0..10 {
            limits.login("ana", None).unwrap();
        }
        let retry = limits.login("ana", None).unwrap_err();
        assert!(retry.secs() >= 1 && retry.secs() <= 30, "{retry:?}");
        limits.login("bo", None).unwrap();
    }

    #[test]
    fn one_address_cannot_spray_many_handles() {
        let limits = Limits::default();
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..30 {
            limits.login(&format!("user{i}"), Some(addr)).unwrap();
        }
        assert!(limits.login("another", Some(addr)).is_err());
        limits
            .login("another", Some("192.0.2.8".parse().unwrap()))
            .unwrap();
    }
}
