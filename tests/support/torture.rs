//! The torture suite's (`tests/torture_*.rs`) modes and seeds.
//!
//! Short mode (the default) keeps each test to a few seconds so that CI runs the whole suite;
//! `SKIFF_TORTURE=long` runs more lines and more iterations. Random choices come from a seeded
//! `fastrand` generator; the seed is printed in every failure message and can be replayed with
//! `SKIFF_TORTURE_SEED=N`.

/// True with `SKIFF_TORTURE=long`.
pub fn long() -> bool {
    std::env::var("SKIFF_TORTURE").is_ok_and(|v| v == "long")
}

/// `short` in short mode, `long_value` in long mode.
pub fn pick<T>(short: T, long_value: T) -> T {
    if long() {
        long_value
    } else {
        short
    }
}

/// The seed of a test: `SKIFF_TORTURE_SEED` if set, else `default` (fixed, so CI is repeatable).
pub fn seed(default: u64) -> u64 {
    std::env::var("SKIFF_TORTURE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// True when the test process runs as root (permissions do not apply to it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
