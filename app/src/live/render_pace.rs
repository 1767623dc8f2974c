//! How often the inbox is applied to the page: on every animation frame while that is
//! cheap; under pressure (applying a batch takes a good part of a frame) less often, so
//! that each batch is larger and the page keeps time for the person's typing and
//! scrolling; back to every frame once the pressure ends. While it holds batches back
//! the page shows a small "catching up…" hint. Pure logic: the browser measures how long
//! each apply took and asks [`RenderPace::due`].

/// An apply that takes longer than this (ms) is pressure: slow down.
pub const SLOW_APPLY_MS: f64 = 12.0;
/// One that takes less than this is ease: speed up again.
pub const EASY_APPLY_MS: f64 = 4.0;
/// The longest gap between two applies (ms).
pub const MAX_INTERVAL_MS: f64 = 1_000.0;
/// The first step down from every frame (ms).
const FIRST_STEP_MS: f64 = 50.0;
/// From this interval on, the page says it is catching up.
const HINT_FROM_MS: f64 = 100.0;

/// The current pace.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPace {
    /// Least time between two applies (0: every frame).
    interval_ms: f64,
    last_ms: f64,
    /// Applies measured, and the longest (for the debug counter).
    pub applies: u64,
    pub longest_ms: f64,
}

impl Default for RenderPace {
    fn default() -> Self {
        RenderPace {
            interval_ms: 0.0,
            last_ms: f64::NEG_INFINITY,
            applies: 0,
            longest_ms: 0.0,
        }
    }
}

impl RenderPace {
    /// Whether a batch may be applied at `now_ms`; if not, how long to wait.
    pub fn due(&self, now_ms: f64) -> Result<(), f64> {
        let next = self.last_ms + self.interval_ms;
        if now_ms >= next {
            Ok(())
        } else {
            Err(next - now_ms)
        }
    }

    /// A batch was applied at `now_ms` and took `cost_ms`: adjust the pace.
    pub fn applied(&mut self, now_ms: f64, cost_ms: f64) {
        self.last_ms = now_ms;
        self.applies += 1;
        self.longest_ms = self.longest_ms.max(cost_ms);
        if cost_ms > SLOW_APPLY_MS {
            self.interval_ms = (self.interval_ms * 2.0).clamp(FIRST_STEP_MS, MAX_INTERVAL_MS);
        } else if cost_ms < EASY_APPLY_MS {
            self.interval_ms /= 2.0;
            if self.interval_ms < FIRST_STEP_MS {
                self.interval_ms = 0.0;
            }
        }
    }

    /// Nothing arrived for a whole interval: the pressure is over.
    pub fn idle(&mut self) {
        self.interval_ms = 0.0;
    }

    /// The least time between applies now (ms).
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }

    /// Whether the page should say it is catching up.
    pub fn catching_up(&self) -> bool {
        self.interval_ms >= HINT_FROM_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_applies_go_every_frame() {
        let mut p = RenderPace::default();
        assert!(p.due(0.0).is_ok());
        p.applied(0.0, 2.0);
        assert!(p.due(16.0).is_ok());
        assert!(!p.catching_up());
    }

    #[test]
    fn pressure_slows_the_pace_to_a_bound_and_ease_brings_it_back() {
        let mut p = RenderPace::default();
        let mut now = 0.0;
        for _ in 0..20 {
            p.applied(now, 40.0);
            now += p.interval_ms();
        }
        assert_eq!(p.interval_ms(), MAX_INTERVAL_MS);
        assert!(p.catching_up());
        assert_eq!(p.due(now - 1.0), Err(1.0));
        assert_eq!(p.longest_ms, 40.0);
        // A middling cost holds the pace.
        p.applied(now, 8.0);
        assert_eq!(p.interval_ms(), MAX_INTERVAL_MS);
        for _ in 0..10 {
            now += p.interval_ms();
            p.applied(now, 1.0);
        }
        assert_eq!(p.interval_ms(), 0.0, "recovered");
        assert!(!p.catching_up());
        assert_eq!(p.applies, 31);
    }

    #[test]
    fn an_idle_interval_ends_the_pressure() {
        let mut p = RenderPace::default();
        p.applied(0.0, 50.0);
        p.applied(50.0, 50.0);
        assert!(p.catching_up());
        p.idle();
        assert!(!p.catching_up());
        assert!(p.due(51.0).is_ok());
    }

    #[test]
    fn a_held_batch_waits_for_the_rest_of_the_interval() {
        let mut p = RenderPace::default();
        p.applied(100.0, 20.0);
        assert_eq!(p.due(120.0), Err(30.0));
        assert!(p.due(150.0).is_ok());
    }
}
