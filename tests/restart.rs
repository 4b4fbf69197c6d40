//! Restarts: after SIGTERM nothing is lost or repeated; after kill -9 nothing is lost and the
//! repeats are bounded by what was not yet acknowledged and checkpointed.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::compare::{assert_exactly_once, counts};
use support::skiff::{run_once, Skiff};
use support::workspace::Workspace;
use support::writers::{numbered, Writer};

const T: Duration = Duration::from_secs(60);
/// Lines written per second.
const RATE: u64 = 20_000;

/// Lines `w-...` at `RATE`, a fiftieth of a second's worth per write.
fn writer(ws: &Workspace, total: u64) -> Writer {
    Writer::numbered(ws.log("app.log"), "w", total, RATE, RATE / 50)
}

#[test]
fn sigterm_restart_loses_and_repeats_nothing() {
    let ws = Workspace::new();
    let config = ws.console_config("*.log", "");
    let w = writer(&ws, 60_000);
    let mut all = Vec::new();
    for _ in 0..4 {
        let mut skiff = Skiff::start(&config, &[]);
        std::thread::sleep(Duration::from_millis(600));
        let exit = skiff.terminate(T);
        assert_eq!(exit.code, 0, "{}", exit.stderr);
        all.extend(exit.lines);
    }
    let written = numbered("w", 0..w.join() as usize);
    let out = run_once(&config, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    all.extend(out.lines());
    assert_exactly_once(&all, &written, "");
}

#[test]
fn kill9_loses_nothing_and_repeats_only_the_unacknowledged_tail() {
    let ws = Workspace::new();
    let config = ws.console_config(
        "*.log",
        "checkpoint_interval = \"100ms\"\nread_buffer = \"16KiB\"",
    );
    let w = writer(&ws, 80_000);
    let mut all: Vec<String> = Vec::new();
    let mut repeats = Vec::new();
    for _ in 0..5 {
        let mut skiff = Skiff::start(&config, &[]);
        std::thread::sleep(Duration::from_millis(700));
        let lines = skiff.kill9().lines;
        let before: HashSet<&String> = all.iter().collect();
        repeats.push(lines.iter().filter(|l| before.contains(l)).count());
        all.extend(lines);
    }
    let written = numbered("w", 0..w.join() as usize);
    let before: HashSet<String> = all.iter().cloned().collect();
    let out = run_once(&config, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines = out.lines();
    repeats.push(lines.iter().filter(|l| before.contains(*l)).count());
    all.extend(lines);

    let counts = counts(&all);
    let missing = written.iter().filter(|l| !counts.contains(l)).count();
    assert_eq!(missing, 0, "lines lost after kill -9");
    // What can be repeated after a kill: lines in flight (channels: a few 16 KiB batches per edge,
    // about 1,000 lines of this size each) plus lines acknowledged since the last checkpoint
    // write (100 ms at 20,000 lines/s) plus lines whose output was not yet read from the pipe.
    let bound = 8 * 1000 + RATE as usize / 10 * 3;
    for (i, r) in repeats.iter().enumerate() {
        assert!(
            *r <= bound,
            "restart {i} repeated {r} lines, bound {bound}; all: {repeats:?}"
        );
    }
}
