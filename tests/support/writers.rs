//! How the tests write logs: numbered lines, self-checking lines, appends, a paced writer
//! thread that survives rotation, and a thread that rotates by rename.
//!
//! [`numbered`] lines (`prefix-00000042`) have a fixed length per prefix, so offsets and sizes
//! can be computed; [`checked_line`]s carry check digits, so a line that lost bytes or was glued
//! to another one is caught.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Line `i` of `prefix`: `prefix-00000042`.
pub fn numbered_line(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:08}")
}

/// Lines `range` of `prefix`.
pub fn numbered(prefix: &str, range: Range<usize>) -> Vec<String> {
    range.map(|i| numbered_line(prefix, i)).collect()
}

/// The length in bytes of a numbered line of `prefix` with its newline.
pub fn numbered_len(prefix: &str) -> u64 {
    numbered_line(prefix, 0).len() as u64 + 1
}

/// FNV-1a, 32 bits: the check digits of a checked line.
fn check(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Checked line `seq`: `L <seq> <padding of varying length> <check>`.
pub fn checked_line(seq: u64) -> String {
    let body = format!("L {seq:010} {}", "x".repeat((seq * 7 % 61) as usize));
    let c = check(body.as_bytes());
    format!("{body} {c:08x}")
}

/// Checked lines `range`.
pub fn checked_lines(range: Range<u64>) -> Vec<String> {
    range.map(checked_line).collect()
}

/// The sequence number of a well-formed checked line, `None` for anything garbled or partial.
pub fn parse_checked_line(s: &str) -> Option<u64> {
    let (body, c) = s.rsplit_once(' ')?;
    let seq: u64 = body.strip_prefix("L ")?.get(..10)?.parse().ok()?;
    (u32::from_str_radix(c, 16).ok()? == check(body.as_bytes()) && checked_line(seq) == s)
        .then_some(seq)
}

/// Opens `path` for appending, creating it.
pub fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {} for appending: {e}", path.display()))
}

/// Appends `lines` to `path` in one write (opened in append mode each call, like many loggers).
pub fn append(path: &Path, lines: &[String]) {
    let mut buf = String::new();
    for l in lines {
        buf.push_str(l);
        buf.push('\n');
    }
    open_append(path).write_all(buf.as_bytes()).unwrap();
}

/// Truncates `path` to nothing in place, as copytruncate does after its copy (the writers'
/// `O_APPEND` handles then write from the new end).
pub fn truncate(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(0))
        .unwrap_or_else(|e| panic!("truncate {}: {e}", path.display()));
}

/// How a writer opens its log file again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopen {
    /// Keep one `O_APPEND` handle for ever (what copytruncate assumes).
    Never,
    /// Before each chunk, reopen if the path now names another file (what `create` rotation
    /// needs: the app reopens its log, as after a SIGHUP).
    WhenInodeChanges,
}

/// A thread appending lines to a file at a steady rate, in chunks (one `write` each).
pub struct Writer {
    stop: Arc<AtomicBool>,
    next: Arc<AtomicU64>,
    handle: Option<JoinHandle<u64>>,
}

/// What a [`Writer`] writes, and how.
struct Plan {
    path: PathBuf,
    line: Box<dyn Fn(u64) -> String + Send>,
    /// Stop by itself after this many lines.
    total: u64,
    per_sec: u64,
    chunk: u64,
    reopen: Reopen,
}

impl Writer {
    /// Checked lines from 0 at about `per_sec` lines per second, `chunk` lines per write, until
    /// stopped.
    pub fn start(path: PathBuf, per_sec: u64, chunk: u64, reopen: Reopen) -> Writer {
        Self::with(Plan {
            path,
            line: Box::new(checked_line),
            total: u64::MAX,
            per_sec,
            chunk,
            reopen,
        })
    }

    /// `numbered(prefix, 0..total)` at about `per_sec` lines per second, `chunk` lines per
    /// write, through one handle; then it stops by itself.
    pub fn numbered(path: PathBuf, prefix: &str, total: u64, per_sec: u64, chunk: u64) -> Writer {
        let prefix = prefix.to_owned();
        Self::with(Plan {
            path,
            line: Box::new(move |i| numbered_line(&prefix, i as usize)),
            total,
            per_sec,
            chunk,
            reopen: Reopen::Never,
        })
    }

    fn with(plan: Plan) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let (s, n) = (Arc::clone(&stop), Arc::clone(&next));
        let handle = std::thread::spawn(move || write_loop(&plan, &s, &n));
        Writer {
            stop,
            next,
            handle: Some(handle),
        }
    }

    /// The number of the next line to write (lines before it were written).
    pub fn next_seq(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    /// Stops and returns the number of lines written.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.join()
    }

    /// Waits until a writer with a total wrote all of it; returns the number of lines written.
    pub fn join(mut self) -> u64 {
        self.handle
            .take()
            .map(|h| h.join().expect("writer thread"))
            .unwrap_or(0)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn write_loop(plan: &Plan, stop: &AtomicBool, next: &AtomicU64) -> u64 {
    let mut f = open_append(&plan.path);
    let mut ino = f.metadata().map(|m| m.ino()).unwrap_or(0);
    let started = Instant::now();
    let mut seq = 0;
    let mut buf = String::new();
    while seq < plan.total && !stop.load(Ordering::Acquire) {
        if plan.reopen == Reopen::WhenInodeChanges {
            // Reopen once the rotator created the new file; until then keep writing to the old
            // one (creating it ourselves would race logrotate's own `create`).
            let now = std::fs::metadata(&plan.path).map(|m| m.ino()).ok();
            if now.is_some_and(|n| n != ino) {
                if let Ok(new) = OpenOptions::new().append(true).open(&plan.path) {
                    ino = new.metadata().map(|m| m.ino()).unwrap_or(0);
                    f = new;
                }
            }
        }
        buf.clear();
        let end = (seq + plan.chunk).min(plan.total);
        for s in seq..end {
            buf.push_str(&(plan.line)(s));
            buf.push('\n');
        }
        f.write_all(buf.as_bytes()).expect("write log");
        seq = end;
        next.store(seq, Ordering::Release);
        // Pace to the rate: sleep until this chunk's due time.
        let due = Duration::from_secs_f64(seq as f64 / plan.per_sec as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    seq
}

/// A thread that rotates `path` by rename (`path` → `path.N`, then a new empty `path`) at random
/// intervals, as logrotate's `create` does.
pub struct Rotator {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl Rotator {
    /// Rotates every `min_ms..max_ms` milliseconds (seeded).
    pub fn start(path: PathBuf, min_ms: u64, max_ms: u64, seed: u64) -> Rotator {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut n = 0;
            while !s.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(rng.u64(min_ms..max_ms)));
                n += 1;
                let rotated = PathBuf::from(format!("{}.{n}", path.display()));
                std::fs::rename(&path, &rotated).expect("rotate by rename");
                File::create(&path).expect("create the new log");
            }
            n
        });
        Rotator {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops and returns how many rotations happened.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.handle
            .take()
            .map(|h| h.join().expect("rotator thread"))
            .unwrap_or(0)
    }
}

impl Drop for Rotator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}
