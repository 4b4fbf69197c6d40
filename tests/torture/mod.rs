//! Shared pieces of the torture suite (`tests/torture_*.rs`): the mode, seeds, self-checking
//! numbered lines, a writer thread that survives rotation, and readers of what files hold.
//!
//! Short mode (the default) keeps each test to a few seconds so that CI runs the whole suite;
//! `SKIFF_TORTURE=long` runs more lines and more iterations. Random choices come from a seeded
//! `fastrand` generator; the seed is printed in every failure message and can be replayed with
//! `SKIFF_TORTURE_SEED=N`.
#![allow(dead_code)]

pub mod inproc;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// True with `SKIFF_TORTURE=long`.
pub fn long() -> bool {
    std::env::var("SKIFF_TORTURE").is_ok_and(|v| v == "long")
}

/// `short` in short mode, `long` in long mode.
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

/// FNV-1a, 32 bits: the check digits of a numbered line.
fn check(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Numbered line `seq`: `L <seq> <padding of varying length> <check>`. A line that lost bytes or
/// was glued to another one fails [`parse_line`].
pub fn line(seq: u64) -> String {
    let body = format!("L {seq:010} {}", "x".repeat((seq * 7 % 61) as usize));
    let c = check(body.as_bytes());
    format!("{body} {c:08x}")
}

/// The sequence number of a well-formed line, `None` for anything garbled or partial.
pub fn parse_line(s: &str) -> Option<u64> {
    let (body, c) = s.rsplit_once(' ')?;
    let seq: u64 = body.strip_prefix("L ")?.get(..10)?.parse().ok()?;
    (u32::from_str_radix(c, 16).ok()? == check(body.as_bytes()) && line(seq) == s).then_some(seq)
}

/// How a writer opens its log file again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopen {
    /// Keep one `O_APPEND` handle for ever (what copytruncate assumes).
    Never,
    /// Before each chunk, reopen if the path now names another file or none (what `create`
    /// rotation needs: the app reopens its log, as after a SIGHUP).
    WhenInodeChanges,
}

/// A writer thread appending numbered lines to `path` at about `per_sec` lines per second, in
/// chunks of `chunk` lines (one `write` each), until stopped.
pub struct Writer {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    handle: Option<JoinHandle<u64>>,
}

impl Writer {
    pub fn start(path: PathBuf, per_sec: u64, chunk: u64, reopen: Reopen) -> Writer {
        Self::start_at(path, 0, per_sec, chunk, reopen)
    }

    /// Like [`start`](Self::start), numbering lines from `first`.
    pub fn start_at(path: PathBuf, first: u64, per_sec: u64, chunk: u64, reopen: Reopen) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(first));
        let (s, w) = (Arc::clone(&stop), Arc::clone(&written));
        let handle =
            std::thread::spawn(move || write_loop(&path, first, per_sec, chunk, reopen, &s, &w));
        Writer {
            stop,
            written,
            handle: Some(handle),
        }
    }

    /// The number of the next line to write (lines `first..` this were written).
    pub fn next_seq(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Stops and returns the number of the next line it would have written.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Release);
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

fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log for appending")
}

fn write_loop(
    path: &Path,
    first: u64,
    per_sec: u64,
    chunk: u64,
    reopen: Reopen,
    stop: &AtomicBool,
    written: &AtomicU64,
) -> u64 {
    let mut f = open_append(path);
    let mut ino = f.metadata().map(|m| m.ino()).unwrap_or(0);
    let started = Instant::now();
    let mut seq = first;
    let mut buf = String::new();
    while !stop.load(Ordering::Acquire) {
        if reopen == Reopen::WhenInodeChanges {
            // Reopen once the rotator created the new file; until then keep writing to the old
            // one (creating it ourselves would race logrotate's own `create`).
            let now = std::fs::metadata(path).map(|m| m.ino()).ok();
            if now.is_some_and(|n| n != ino) {
                if let Ok(new) = OpenOptions::new().append(true).open(path) {
                    ino = new.metadata().map(|m| m.ino()).unwrap_or(0);
                    f = new;
                }
            }
        }
        buf.clear();
        for s in seq..seq + chunk {
            buf.push_str(&line(s));
            buf.push('\n');
        }
        f.write_all(buf.as_bytes()).expect("write log");
        seq += chunk;
        written.store(seq, Ordering::Release);
        // Pace to the rate: sleep until this chunk's due time.
        let due = Duration::from_secs_f64((seq - first) as f64 / per_sec as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    seq
}

/// The files in `dir` whose names start with `prefix`, sorted by name.
pub fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read log dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// The lines a file holds, as skiff would read them: split at `\n`, a final unterminated piece
/// counting as a line (skiff emits it at shutdown or rotation).
pub fn file_lines(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).expect("read log file");
    let mut lines: Vec<String> = data
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// True when the test process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
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
