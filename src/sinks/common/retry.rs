//! Backoff between attempts: exponential, capped, with full jitter.
//!
//! Attempt `n` (0-based) waits a uniformly random time in `[0, min(max, initial * 2^n)]`. Full
//! jitter spreads the retries of many sidecars hitting one overloaded cluster, instead of having
//! them all come back at the same instant. There is no attempt limit: the file is the buffer, and
//! a document is only ever given up for a reason (dead letter), never for being late.

use std::time::Duration;

use super::config::RetryConfig;

/// The backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// The policy of `config`.
    pub fn new(config: &RetryConfig) -> Backoff {
        Backoff {
            initial: config.initial_backoff.get(),
            max: config.max_backoff.get().max(config.initial_backoff.get()),
        }
    }

    /// The upper bound of the wait before attempt `attempt + 1`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The wait after failed attempt `attempt`, for a uniform random `unit` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The wait after failed attempt `attempt`, drawn at random.
    pub fn next_delay(&self, attempt: u32) -> Duration {
        self.delay(attempt, fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;

    fn policy(initial_ms: u64, max_ms: u64) -> Backoff {
        Backoff::new(&RetryConfig {
            initial_backoff: ConfigDuration(Duration::from_millis(initial_ms)),
            max_backoff: ConfigDuration(Duration::from_millis(max_ms)),
        })
    }

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let b = policy(100, 30_000);
        let ms: Vec<u128> = (0..12).map(|a| b.ceiling(a).as_millis()).collect();
        assert_eq!(
            ms,
            [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]
        );
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(30));
        assert_eq!(b.ceiling(64), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_spans_zero_to_ceiling() {
        let b = policy(100, 30_000);
        assert_eq!(b.delay(3, 0.0), Duration::ZERO);
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(400));
        assert_eq!(b.delay(3, 2.0), Duration::from_millis(800));
        for attempt in 0..40 {
            let d = b.next_delay(attempt);
            assert!(d <= b.ceiling(attempt));
        }
    }

    #[test]
    fn cap_below_initial_is_raised() {
        let b = policy(500, 100);
        assert_eq!(b.ceiling(0), Duration::from_millis(500));
        assert_eq!(b.ceiling(5), Duration::from_millis(500));
    }
}
