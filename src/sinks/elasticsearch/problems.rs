//! Reporting delivery problems without flooding the log.
//!
//! While Elasticsearch is down, every request fails, perhaps many times a second. The sink logs
//! a problem when it starts or changes (unreachable → credentials refused), then at most once per
//! interval while it lasts, and once more when delivery recovers. Counts go to metrics, always.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A kind of delivery problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Connection refused, reset, timed out.
    Unreachable,
    /// 401/403: credentials refused, or missing privileges.
    Unauthorized,
    /// A credential file cannot be read.
    Credentials,
    /// 429 or 5xx for the whole request, or documents answered 429/5xx.
    Overloaded,
    /// Any other refusal of the whole request (400, 404...).
    Refused,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Problem>,
    logged_at: Option<Instant>,
}

/// The problem state of one sink.
#[derive(Debug)]
pub struct ProblemLog {
    interval: Duration,
    state: Mutex<State>,
}

impl ProblemLog {
    /// Repeats a lasting problem at most once per `interval`.
    pub fn new(interval: Duration) -> ProblemLog {
        ProblemLog {
            interval,
            state: Mutex::new(State::default()),
        }
    }

    /// Records `problem` at `now`; true when it should be logged.
    pub fn occurred(&self, problem: Problem, now: Instant) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        let due = s.current != Some(problem)
            || s.logged_at
                .is_none_or(|t| now.duration_since(t) >= self.interval);
        s.current = Some(problem);
        if due {
            s.logged_at = Some(now);
        }
        due
    }

    /// Records a success; returns the problem that just ended, if any.
    pub fn recovered(&self) -> Option<Problem> {
        let mut s = self.state.lock().ok()?;
        s.logged_at = None;
        s.current.take()
    }
}

/// Lets something happen at most once per interval.
#[derive(Debug)]
pub struct Every {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl Every {
    /// At most once per `interval`.
    pub fn new(interval: Duration) -> Every {
        Every {
            interval,
            last: Mutex::new(None),
        }
    }

    /// True when the interval has passed since the last time this returned true.
    pub fn ready(&self, now: Instant) -> bool {
        let Ok(mut last) = self.last.lock() else {
            return false;
        };
        if last.is_some_and(|t| now.duration_since(t) < self.interval) {
            return false;
        }
        *last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limits_the_rate() {
        let e = Every::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(e.ready(t0));
        assert!(!e.ready(t0 + Duration::from_secs(9)));
        assert!(e.ready(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn logs_on_change_and_then_rarely() {
        let log = ProblemLog::new(Duration::from_secs(30));
        let t0 = Instant::now();
        assert!(log.occurred(Problem::Unreachable, t0));
        assert!(!log.occurred(Problem::Unreachable, t0 + Duration::from_secs(1)));
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(2)));
        assert!(!log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(31)));
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(33)));
        assert_eq!(log.recovered(), Some(Problem::Unauthorized));
        assert_eq!(log.recovered(), None);
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(34)));
    }
}
