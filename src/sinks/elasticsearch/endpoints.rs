//! Choosing an endpoint: round-robin, skipping endpoints that failed recently.
//!
//! An endpoint that fails (connection refused, timeout, a 5xx from a proxy) cools down for
//! `1s * 2^(failures-1)`, at most a minute, and is skipped meanwhile. When every endpoint is cooling
//! down, the one that recovers first is used anyway: the request's own backoff paces the attempts,
//! and an endpoint must be tried to learn that it is back. One success clears the failures.
//!
//! The rotation also says when a failure is worth a log line: when an endpoint starts failing, and
//! then at most once a minute while it keeps failing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST_COOLDOWN: Duration = Duration::from_secs(1);
const MAX_COOLDOWN: Duration = Duration::from_secs(60);
const REMIND_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, Default)]
struct Health {
    failures: u32,
    until: Option<Instant>,
    logged_at: Option<Instant>,
}

/// What a failure means for the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The failure should be logged (first of a series, or a reminder).
    pub log: bool,
    /// How long the endpoint is skipped.
    pub cooldown: Duration,
}

/// The round-robin state of `n` endpoints.
#[derive(Debug)]
pub struct Rotation {
    state: Mutex<(usize, Vec<Health>)>,
}

impl Rotation {
    /// A rotation over `n` endpoints (at least one).
    pub fn new(n: usize) -> Rotation {
        Rotation {
            state: Mutex::new((0, vec![Health::default(); n.max(1)])),
        }
    }

    /// The endpoint to use next.
    pub fn pick(&self, now: Instant) -> usize {
        let Ok(mut guard) = self.state.lock() else {
            return 0;
        };
        let (next, health) = &mut *guard;
        let n = health.len();
        let start = *next % n;
        let chosen = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| health[i].until.is_none_or(|u| u <= now))
            .unwrap_or_else(|| {
                (0..n)
                    .min_by_key(|&i| health[i].until.unwrap_or(now))
                    .unwrap_or(0)
            });
        *next = chosen + 1;
        chosen
    }

    /// Endpoint `i` failed at `now`: it cools down.
    pub fn failed(&self, i: usize, now: Instant) -> Failure {
        let mut failure = Failure {
            log: false,
            cooldown: Duration::ZERO,
        };
        if let Ok(mut guard) = self.state.lock() {
            if let Some(h) = guard.1.get_mut(i) {
                h.failures = h.failures.saturating_add(1);
                let factor = 1u32 << (h.failures - 1).min(10);
                failure.cooldown = FIRST_COOLDOWN.saturating_mul(factor).min(MAX_COOLDOWN);
                h.until = Some(now + failure.cooldown);
                failure.log = h.failures == 1
                    || h.logged_at
                        .is_none_or(|t| now.duration_since(t) >= REMIND_EVERY);
                if failure.log {
                    h.logged_at = Some(now);
                }
            }
        }
        failure
    }

    /// Endpoint `i` answered: it is healthy again. True when it was failing.
    pub fn succeeded(&self, i: usize) -> bool {
        let Ok(mut guard) = self.state.lock() else {
            return false;
        };
        let Some(h) = guard.1.get_mut(i) else {
            return false;
        };
        let was_failing = h.failures > 0;
        *h = Health::default();
        was_failing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin() {
        let r = Rotation::new(3);
        let now = Instant::now();
        let picks: Vec<usize> = (0..6).map(|_| r.pick(now)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn failing_endpoint_is_skipped_until_it_cools_down() {
        let r = Rotation::new(2);
        let t0 = Instant::now();
        r.failed(0, t0);
        assert_eq!((0..4).map(|_| r.pick(t0)).collect::<Vec<_>>(), [1, 1, 1, 1]);
        let later = t0 + Duration::from_millis(1001);
        let picks: Vec<usize> = (0..2).map(|_| r.pick(later)).collect();
        assert!(picks.contains(&0), "{picks:?}");
    }

    #[test]
    fn cooldown_grows_and_resets() {
        let r = Rotation::new(2);
        let t0 = Instant::now();
        for _ in 0..3 {
            r.failed(0, t0);
        }
        // Third failure: 4s.
        assert_eq!(r.pick(t0 + Duration::from_secs(3)), 1);
        assert_eq!(r.pick(t0 + Duration::from_secs(3)), 1);
        assert!(r.succeeded(0));
        assert!(!r.succeeded(0));
        assert_eq!(r.pick(t0), 0);
        for _ in 0..50 {
            r.failed(1, t0);
        }
        assert_eq!(r.pick(t0 + MAX_COOLDOWN - Duration::from_millis(1)), 0);
    }

    #[test]
    fn failures_are_logged_first_then_each_minute() {
        let r = Rotation::new(1);
        let t0 = Instant::now();
        let f = r.failed(0, t0);
        assert!(f.log);
        assert_eq!(f.cooldown, Duration::from_secs(1));
        assert!(!r.failed(0, t0 + Duration::from_secs(1)).log);
        let f = r.failed(0, t0 + Duration::from_secs(61));
        assert!(f.log);
        assert_eq!(f.cooldown, Duration::from_secs(4));
    }

    #[test]
    fn all_down_uses_the_first_to_recover() {
        let r = Rotation::new(3);
        let t0 = Instant::now();
        r.failed(0, t0);
        r.failed(0, t0);
        r.failed(1, t0);
        r.failed(2, t0 + Duration::from_millis(500));
        assert_eq!(r.pick(t0), 1);
    }
}
