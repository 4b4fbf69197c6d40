//! Waiting by polling, with a timeout: tests never assert after a fixed sleep, so a busy
//! machine makes them slower, not flaky.

use std::time::{Duration, Instant};

/// How often a condition is checked.
const EVERY: Duration = Duration::from_millis(20);

/// Polls `cond` until it holds (true) or `timeout` passes (false, after a last check).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(EVERY);
    }
}

/// Reads `value` every `every` until two readings in a row are equal and above zero (a
/// counter or gauge that stopped moving: a source held back, a stuck sink); returns that value,
/// or `None` if it was still moving after `timeout`.
pub fn wait_until_settled<T: PartialEq + PartialOrd + Default + Copy>(
    timeout: Duration,
    every: Duration,
    mut value: impl FnMut() -> T,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    while Instant::now() < deadline {
        std::thread::sleep(every);
        let now = value();
        if last == Some(now) && now > T::default() {
            return Some(now);
        }
        last = Some(now);
    }
    None
}
