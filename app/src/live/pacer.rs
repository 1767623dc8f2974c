//! Pacing what the page sends, so that it never trips the server's rate limit: the
//! gateway refuses requests past a token bucket (docs/protocol.md: bursts of 50, then
//! 20 a second; pings are free) and closes a client that sends on through 50 refusals
//! in a row (4102). A reconnect resubscribes every watched room and replays the
//! outbox at once, which could be hundreds of requests; this queue lets them out within
//! a smaller bucket of its own ([`BURST`], [`PER_SEC`]), in order, the rest waiting
//! their turn. A new connection starts with a full bucket, as the server's does.

use std::collections::VecDeque;

/// Requests let out at once on a fresh connection (the server allows 50).
pub const BURST: f64 = 40.0;
/// Requests a second after that (the server allows 20).
pub const PER_SEC: f64 = 16.0;

/// A token bucket in front of a queue of items to send, oldest first.
#[derive(Debug, Clone)]
pub struct Pacer<T> {
    tokens: f64,
    last_ms: f64,
    queue: VecDeque<T>,
}

impl<T> Pacer<T> {
    /// A full bucket at `now_ms`.
    pub fn new(now_ms: f64) -> Pacer<T> {
        Pacer {
            tokens: BURST,
            last_ms: now_ms,
            queue: VecDeque::new(),
        }
    }

    /// A new connection: a full bucket, and nothing left waiting (what waited was for
    /// the old connection, whose requests are settled by its close).
    pub fn reset(&mut self, now_ms: f64) {
        self.tokens = BURST;
        self.last_ms = now_ms;
        self.queue.clear();
    }

    fn refill(&mut self, now_ms: f64) {
        let elapsed = (now_ms - self.last_ms).max(0.0);
        self.tokens = (self.tokens + elapsed * PER_SEC / 1000.0).min(BURST);
        self.last_ms = now_ms;
    }

    /// Queues `item` behind whatever waits; returns what may go now, in order.
    pub fn push(&mut self, item: T, now_ms: f64) -> Vec<T> {
        self.queue.push_back(item);
        self.ready(now_ms)
    }

    /// What may go now, in order.
    pub fn ready(&mut self, now_ms: f64) -> Vec<T> {
        self.refill(now_ms);
        let mut out = Vec::new();
        while self.tokens >= 1.0 {
            let Some(item) = self.queue.pop_front() else {
                break;
            };
            self.tokens -= 1.0;
            out.push(item);
        }
        out
    }

    /// How long until the next waiting item may go, if any waits (ms).
    pub fn wait_ms(&self) -> Option<f64> {
        if self.queue.is_empty() {
            return None;
        }
        Some(
            ((1.0 - self.tokens).max(0.0) * 1000.0 / PER_SEC)
                .ceil()
                .max(1.0),
        )
    }

    /// How many wait.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's limit as docs/protocol.md states it: a bucket of 50 refilled at 20 a
    /// second; the client is closed after 50 refusals in a row.
    struct Server {
        tokens: f64,
        last_ms: f64,
        refused: u32,
    }

    impl Server {
        fn accept(&mut self, now_ms: f64) -> bool {
            self.tokens = (self.tokens + (now_ms - self.last_ms) * 20.0 / 1000.0).min(50.0);
            self.last_ms = now_ms;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                self.refused = 0;
                true
            } else {
                self.refused += 1;
                false
            }
        }
    }

    #[test]
    fn a_thousand_requests_at_once_all_pass_the_servers_limit_in_order() {
        let mut p = Pacer::new(0.0);
        let mut server = Server {
            tokens: 50.0,
            last_ms: 0.0,
            refused: 0,
        };
        let mut sent = Vec::new();
        let mut now = 0.0;
        for i in 0..1000 {
            for item in p.push(i, now) {
                assert!(server.accept(now), "request {item} refused at {now} ms");
                sent.push(item);
            }
        }
        assert_eq!(sent.len(), BURST as usize, "a burst goes at once");
        while let Some(wait) = p.wait_ms() {
            now += wait;
            for item in p.ready(now) {
                assert!(server.accept(now), "request {item} refused at {now} ms");
                sent.push(item);
            }
        }
        assert_eq!(sent, (0..1000).collect::<Vec<_>>(), "all of them, in order");
        assert_eq!(server.refused, 0);
        let expected_ms = (1000.0 - BURST) * 1000.0 / PER_SEC;
        assert!((now - expected_ms).abs() < 100.0, "{now} ms");
    }

    #[test]
    fn an_idle_page_sends_at_once_and_a_reset_forgets_the_old_queue() {
        let mut p = Pacer::new(0.0);
        assert_eq!(p.push("a", 0.0), ["a"]);
        assert_eq!(p.wait_ms(), None);
        for i in 0..100 {
            p.push("x", f64::from(i));
        }
        assert!(p.waiting() > 0);
        p.reset(200.0);
        assert_eq!(p.waiting(), 0);
        assert_eq!(p.push("b", 200.0), ["b"], "a full bucket again");
    }
}
