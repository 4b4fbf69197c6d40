//! Restarts: after SIGTERM nothing is lost or repeated; after kill -9 nothing is lost and the
//! repeats are bounded by what was not yet acknowledged and checkpointed.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

const T: Duration = Duration::from_secs(60);

/// Appends numbered lines at about `per_sec` until `total` or until stopped.
fn writer(
    path: std::path::PathBuf,
    total: usize,
    per_sec: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut written = Vec::new();
        let chunk = per_sec / 50;
        let mut i = 0;
        while i < total && !stop.load(Ordering::Relaxed) {
            let lines = numbered("w", i, chunk.min(total - i));
            append(&path, &lines);
            i += lines.len();
            written.extend(lines);
            std::thread::sleep(Duration::from_millis(20));
        }
        written
    })
}

#[test]
fn sigterm_restart_loses_and_repeats_nothing() {
    let env = Env::new();
    let config = env.console_config("*.log", "");
    let log = env.logs().join("app.log");
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(log.clone(), 60_000, 20_000, Arc::clone(&stop));
    let mut all = Vec::new();
    for _ in 0..4 {
        let skiff = Skiff::start(&config, &[]);
        std::thread::sleep(Duration::from_millis(600));
        let (code, lines, stderr) = skiff.terminate(T);
        assert_eq!(code, 0, "{stderr}");
        all.extend(lines);
    }
    let written = w.join().unwrap();
    let (code, lines, _) = run_once(&config, &[]);
    assert_eq!(code, 0);
    all.extend(lines);
    assert_exactly_once(&all, &written, "");
}

#[test]
fn kill9_loses_nothing_and_repeats_only_the_unacknowledged_tail() {
    let env = Env::new();
    let config = env.console_config(
        "*.log",
        "checkpoint_interval = \"100ms\"\nread_buffer = \"16KiB\"",
    );
    let log = env.logs().join("app.log");
    let stop = Arc::new(AtomicBool::new(false));
    let rate = 20_000;
    let w = writer(log.clone(), 80_000, rate, Arc::clone(&stop));
    let mut all: Vec<String> = Vec::new();
    let mut repeats = Vec::new();
    for _ in 0..5 {
        let skiff = Skiff::start(&config, &[]);
        std::thread::sleep(Duration::from_millis(700));
        let lines = skiff.kill9();
        let before: std::collections::HashSet<&String> = all.iter().collect();
        repeats.push(lines.iter().filter(|l| before.contains(l)).count());
        all.extend(lines);
    }
    let written = w.join().unwrap();
    let before: std::collections::HashSet<String> = all.iter().cloned().collect();
    let (code, lines, _) = run_once(&config, &[]);
    assert_eq!(code, 0);
    repeats.push(lines.iter().filter(|l| before.contains(*l)).count());
    all.extend(lines);

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in &all {
        *counts.entry(l).or_default() += 1;
    }
    let missing = written
        .iter()
        .filter(|l| !counts.contains_key(l.as_str()))
        .count();
    assert_eq!(missing, 0, "lines lost after kill -9");
    // What can be repeated after a kill: lines in flight (channels: a few 16 KiB batches per edge,
    // about 1,000 lines of this size each) plus lines acknowledged since the last checkpoint
    // write (100 ms at 20,000 lines/s) plus lines whose output was not yet read from the pipe.
    let bound = 8 * 1000 + rate / 10 * 3;
    for (i, r) in repeats.iter().enumerate() {
        assert!(
            *r <= bound,
            "restart {i} repeated {r} lines, bound {bound}; all: {repeats:?}"
        );
    }
}
