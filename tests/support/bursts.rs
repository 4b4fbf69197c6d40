//! A writer that appends bursts of checked lines and, right after some of them, copies the file
//! and truncates it in place (what copytruncate does), all on one thread: nothing is written
//! between a copy and its truncate, so every line written is in the live file or in a copy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::writers::{checked_line, open_append, truncate};

/// How [`burst_copytruncate`] writes.
#[derive(Debug, Clone, Copy)]
pub struct BurstPlan {
    /// Lines per burst (one `write` each).
    pub burst: u64,
    /// Lines per second; 0 for as fast as possible.
    pub per_sec: u64,
    /// How many copy+truncate rotations.
    pub rotations: u64,
    /// Bursts written between two rotations (at least 1).
    pub bursts_between: u64,
    /// And at least this long between two rotations (bursts go on until it has passed).
    pub min_gap: Duration,
}

/// What [`burst_copytruncate`] did.
#[derive(Debug)]
pub struct BurstRun {
    /// Lines `0..written` were written.
    pub written: u64,
    /// The copies, oldest first (`path.1`, `path.2`...).
    pub copies: Vec<PathBuf>,
}

/// Appends bursts of checked lines to `path` through one `O_APPEND` handle; after every
/// `bursts_between` bursts, copies `path` to `path.N` and truncates it, immediately.
pub fn burst_copytruncate(path: &Path, plan: BurstPlan) -> BurstRun {
    let mut f = open_append(path);
    let started = Instant::now();
    let mut seq = 0;
    let mut copies = Vec::new();
    let mut buf = String::new();
    let mut last_rotation = Instant::now();
    for n in 1..=plan.rotations {
        let mut b = 0;
        loop {
            buf.clear();
            for s in seq..seq + plan.burst {
                buf.push_str(&checked_line(s));
                buf.push('\n');
            }
            f.write_all(buf.as_bytes()).expect("write log");
            seq += plan.burst;
            b += 1;
            let rotate = b >= plan.bursts_between.max(1) && last_rotation.elapsed() >= plan.min_gap;
            if rotate {
                // Right after the burst: copy, then truncate.
                let copy = PathBuf::from(format!("{}.{n}", path.display()));
                std::fs::copy(path, &copy).expect("copy the log");
                truncate(path);
                copies.push(copy);
                last_rotation = Instant::now();
            }
            if plan.per_sec > 0 {
                let due = Duration::from_secs_f64(seq as f64 / plan.per_sec as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            if rotate {
                break;
            }
        }
    }
    BurstRun {
        written: seq,
        copies,
    }
}
