//! Reporting delivery problems without flooding the log.
//!
//! While Elasticsearch refuses requests, every attempt fails, perhaps many times a second. The
//! sink logs each kind of problem when it first occurs, then at most once per interval while it
//! lasts, and once more when delivery recovers. Counts go to metrics, always.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A kind of delivery problem. (Unreachable endpoints are logged by the endpoint rotation.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// 401/403: credentials refused, or missing privileges.
    Unauthorized,
    /// A credential file cannot be read.
    Credentials,
    /// 429 or 5xx for the whole request, or documents answered 429/5xx.
    Overloaded,
    /// Any other refusal of the whole request (400, 404...), or an unusable answer.
    Refused,
}

impl Problem {
    fn slot(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct State {
    active: bool,
    logged_at: [Option<Instant>; 4],
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

    /// Records `problem` at `now`; true when it should be logged: the first time since the last
    /// recovery, then at most once per interval.
    pub fn occurred(&self, problem: Problem, now: Instant) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        s.active = true;
        let slot = &mut s.logged_at[problem.slot()];
        let due = slot.is_none_or(|t| now.duration_since(t) >= self.interval);
        if due {
            *slot = Some(now);
        }
        due
    }

    /// Records a success; true when it ends a problem.
    pub fn recovered(&self) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        let was = s.active;
        *s = State::default();
        was
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
        assert!(log.occurred(Problem::Overloaded, t0));
        assert!(!log.occurred(Problem::Overloaded, t0 + Duration::from_secs(1)));
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(2)));
        // Alternating kinds do not defeat the limit.
        assert!(!log.occurred(Problem::Overloaded, t0 + Duration::from_secs(3)));
        assert!(!log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(31)));
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(33)));
        assert!(log.recovered());
        assert!(!log.recovered());
        assert!(log.occurred(Problem::Unauthorized, t0 + Duration::from_secs(34)));
    }
}
