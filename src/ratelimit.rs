//! Rate limiting for skiff's own warnings about problems that can repeat on every line.
//!
//! A bad line (invalid UTF-8, say) may come a million times a minute; logging each would drown
//! skiff's log and cost more than shipping the line. Such problems are always counted in metrics;
//! their log lines go through a [`RateLimitedLog`]: the first occurrence is logged at once, later
//! ones within the interval are only counted, and the next log line (at the next occurrence after
//! the interval, or from [`RateLimitedLog::summary_due`] when the problem stopped) says how many
//! were suppressed. The caller writes the log line, so each keeps its own message and fields.

use std::time::{Duration, Instant};

/// How often a repeated problem is logged at most, by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Decides when a repeated problem may be logged.
#[derive(Debug, Clone)]
pub struct RateLimitedLog {
    interval: Duration,
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl Default for RateLimitedLog {
    fn default() -> Self {
        RateLimitedLog::new(DEFAULT_INTERVAL)
    }
}

impl RateLimitedLog {
    /// At most one log line per `interval`.
    pub const fn new(interval: Duration) -> RateLimitedLog {
        RateLimitedLog {
            interval,
            last_logged: None,
            suppressed: 0,
        }
    }

    /// Records `count` occurrences at `now`. Returns `Some(suppressed)` when the caller should log
    /// now, `suppressed` being the occurrences left unlogged since the previous log line.
    pub fn hit(&mut self, now: Instant, count: u64) -> Option<u64> {
        if count == 0 {
            return None;
        }
        if self.is_due(now) {
            let suppressed = self.suppressed;
            self.suppressed = count - 1;
            self.last_logged = Some(now);
            Some(suppressed)
        } else {
            self.suppressed = self.suppressed.saturating_add(count);
            None
        }
    }

    /// Returns `Some(suppressed)` when occurrences were suppressed and the interval has passed
    /// since the last log line: the caller logs a summary. Call it from a periodic place, so that
    /// the count is reported even when the problem stops.
    pub fn summary_due(&mut self, now: Instant) -> Option<u64> {
        if self.suppressed == 0 || !self.is_due(now) {
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }

    fn is_due(&self, now: Instant) -> bool {
        self.last_logged
            .is_none_or(|t| now.saturating_duration_since(t) >= self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_first_then_summarises() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut log = RateLimitedLog::new(Duration::from_secs(10));
        assert_eq!(log.hit(t0, 3), Some(0), "first occurrence is logged");
        assert_eq!(log.hit(t0 + s, 1), None);
        assert_eq!(log.hit(t0 + 2 * s, 4), None);
        assert_eq!(log.summary_due(t0 + 5 * s), None, "interval not over");
        // 2 left over from the first batch, then 1 and 4.
        assert_eq!(log.hit(t0 + 10 * s, 1), Some(7));
        assert_eq!(log.summary_due(t0 + 30 * s), None, "nothing suppressed");
    }

    #[test]
    fn summary_reports_a_problem_that_stopped() {
        let t0 = Instant::now();
        let mut log = RateLimitedLog::new(Duration::from_secs(10));
        assert_eq!(log.hit(t0, 1), Some(0));
        assert_eq!(log.hit(t0 + Duration::from_secs(1), 5), None);
        assert_eq!(log.summary_due(t0 + Duration::from_secs(10)), Some(5));
        assert_eq!(log.summary_due(t0 + Duration::from_secs(60)), None);
        // After a summary the next occurrence waits a full interval.
        assert_eq!(log.hit(t0 + Duration::from_secs(11), 1), None);
        assert_eq!(log.hit(t0 + Duration::from_secs(20), 1), Some(1));
    }

    #[test]
    fn zero_is_nothing() {
        let mut log = RateLimitedLog::default();
        assert_eq!(log.hit(Instant::now(), 0), None);
        assert_eq!(log.hit(Instant::now(), 1), Some(0));
    }
}
